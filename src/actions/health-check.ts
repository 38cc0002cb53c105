// health-check action: polls a URL until the NEW version answers healthy N times in a row, or fails with the reason.
import * as core from '@actions/core';
import { formatDuration } from '../core/duration.js';
import { UserFacingError } from '../core/errors.js';
import { quoteValue, redactUrl, scrubSecrets } from '../core/redact.js';
import { escapeHtml, headerRow } from '../core/text.js';
import { describeStatuses, type HealthAttempt, type HealthResult } from '../health/index.js';
import { readCheckSpec } from '../release/spec.js';
import { runVerify } from '../release/use-cases.js';
import { coreSource } from './lib/inputs.js';
import { cancellationSignal, runAction } from './lib/runtime.js';

const SUMMARY_ROWS = 20;

export async function main(): Promise<void> {
  // readCheckSpec (shared with `rail-actions verify`) masks every value's credentials before it is parsed, so no later
  // message — an input error included — can print them.
  const spec = readCheckSpec(coreSource);
  const { url, expectStatus, expectJson, expectVersion, consecutiveSuccesses, intervalMs, timeoutMs, maxLatencyMs } =
    spec.options;
  const scrub = (text: string) => scrubSecrets(text, spec.secrets);
  const shownUrl = scrub(redactUrl(url));
  core.info(
    `Checking ${shownUrl}: expecting HTTP ${describeStatuses(expectStatus)}` +
      `${expectJson.length ? `, JSON ${expectJson.map((c) => quoteValue(`${c.path}=${c.value}`)).join(', ')}` : ''}` +
      `${expectVersion ? `, version ${quoteValue(expectVersion)}` : ''}` +
      `${maxLatencyMs ? `, within ${formatDuration(maxLatencyMs)}` : ''}; ${consecutiveSuccesses} in a row` +
      `${consecutiveSuccesses > 1 ? ` ${formatDuration(intervalMs)} apart` : ''}, timeout ${formatDuration(timeoutMs)}`,
  );

  const result = await runVerify(spec, {
    signal: cancellationSignal(),
    onAttempt: (a) => core.info(scrub(formatAttempt(a))),
  });
  const reason = scrub(result.lastReason);

  core.setOutput('healthy', String(result.healthy));
  core.setOutput('attempts', String(result.attempts));
  core.setOutput('time-to-healthy-ms', result.timeToHealthyMs === undefined ? '' : String(result.timeToHealthyMs));
  core.setOutput('last-status', result.lastStatus === undefined ? '' : String(result.lastStatus));
  core.setOutput('p95-latency-ms', result.p95LatencyMs === undefined ? '' : String(result.p95LatencyMs));
  core.setOutput('reason', reason);
  await writeSummary(result, shownUrl, reason, scrub);

  if (!result.healthy) throw new UserFacingError(`${shownUrl} is not healthy: ${reason}`);
  core.info(
    `${shownUrl} is healthy after ${result.attempts} attempt(s) in ${formatDuration(result.timeToHealthyMs ?? 0)}.`,
  );
}

function formatAttempt(a: HealthAttempt): string {
  return `#${a.n} ${a.ok ? '✓' : '✗'} ${a.status ?? '—'} ${formatDuration(a.latencyMs)} ${a.reason}`;
}

async function writeSummary(
  result: HealthResult,
  shownUrl: string,
  reason: string,
  scrub: (t: string) => string,
): Promise<void> {
  const verdict = result.healthy ? '✅ Healthy' : result.cancelled ? '⏹️ Cancelled' : '❌ Not healthy';
  const withStatus = result.history.filter((a) => a.status !== undefined).map((a) => a.latencyMs);
  const rows = result.history.slice(-SUMMARY_ROWS);
  const start = result.history[0]?.at ?? 0;
  core.summary
    .addHeading(`Health check: ${verdict}`, 2)
    .addTable([
      headerRow('URL', 'Attempts', 'Time to healthy', 'Last status', 'p95 latency', 'Min / max latency'),
      [
        `<code>${escapeHtml(shownUrl)}</code>`,
        String(result.attempts),
        result.timeToHealthyMs === undefined ? '—' : formatDuration(result.timeToHealthyMs),
        result.lastStatus === undefined ? '—' : String(result.lastStatus),
        result.p95LatencyMs === undefined ? '—' : formatDuration(result.p95LatencyMs),
        withStatus.length
          ? `${formatDuration(Math.min(...withStatus))} / ${formatDuration(Math.max(...withStatus))}`
          : '—',
      ],
    ])
    .addRaw(`<p><strong>${result.healthy ? 'Verdict' : 'Reason'}:</strong> ${escapeHtml(reason)}</p>`, true)
    .addRaw(
      `<p>${result.attempts > rows.length ? `Last ${rows.length} of ${result.attempts} attempts` : `${rows.length} attempt(s)`}:</p>`,
      true,
    )
    .addTable([
      headerRow('#', 'At', 'Status', 'Latency', 'Result', 'Detail'),
      ...rows.map((a) => [
        String(a.n),
        `+${formatDuration(a.at - start)}`,
        a.status === undefined ? '—' : String(a.status),
        formatDuration(a.latencyMs),
        a.ok ? '✅' : '❌',
        escapeHtml(scrub(a.reason)),
      ]),
    ]);
  await core.summary.write();
}

export async function run(): Promise<void> {
  await runAction(main, {
    // A step that fails before any verdict (a bad input) still reports not healthy, so `healthy != 'true'` holds.
    failureOutputs: (f) => ({ healthy: 'false', attempts: '0', reason: f.message }),
  });
}

await run();
