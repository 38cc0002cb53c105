// health-check action: polls a URL until the NEW version answers healthy N times in a row, or fails with the reason.
import * as core from '@actions/core';
import { FETCH_HEADERS_MAX_MS, HOSTED_JOB_MAX_MS, formatDuration } from '../core/duration.js';
import { UserFacingError } from '../core/errors.js';
import { quoteValue, redactUrl, scrubSecrets, secretParts } from '../core/redact.js';
import {
  checkHealth,
  describeStatuses,
  parseExpectJson,
  parseExpectStatus,
  parseHeaders,
  secretHeaderValues,
  type HealthAttempt,
  type HealthResult,
} from '../health/index.js';
import { durationInput, integerInput, mask, notLongerThan, sendableHeaders, stringInput, urlInput } from './lib/inputs.js';
import { cancellationSignal, runAction } from './lib/runtime.js';

const SUMMARY_ROWS = 20;
// More healthy answers in a row (or failures before giving up) than any check needs; a bound keeps a typo like
// 3000000 from turning into a check that can never pass.
const MAX_STREAK = 100;

async function main(): Promise<void> {
  // Every reader masks the value's credentials (URL userinfo, credential query parameters) before it is parsed, so
  // no later message — an input error included — can print them.
  const url = urlInput('url', { required: true });
  const secrets = secretParts(core.getInput('url'));
  const headers = sendableHeaders('headers', parseHeaders(stringInput('headers', { multiline: true }), 'headers'));
  const headerSecrets = secretHeaderValues(headers);
  mask(headerSecrets);
  secrets.push(...headerSecrets);
  const expectStatus = parseExpectStatus(stringInput('expect-status', { fallback: '200', multiline: true }), 'expect-status');
  const expectJson = parseExpectJson(stringInput('expect-json', { multiline: true }), 'expect-json');
  const expectVersion = stringInput('expect-version').trim() || undefined;
  const consecutiveSuccesses = integerInput('consecutive-successes', 3, { min: 1, max: MAX_STREAK });
  // Bounds (action.yml states them): a job runs at most 6 h on a GitHub-hosted runner; fetch gives up on headers after 300 s.
  const timeoutMs = durationInput('timeout', '5m', { max: HOSTED_JOB_MAX_MS });
  const intervalMs = durationInput('interval', '1s');
  notLongerThan('interval', intervalMs, 'timeout', timeoutMs);
  // An explicit max-interval shorter than interval is an error (the core says so); the default adapts to interval.
  const maxIntervalMs = core.getInput('max-interval').trim() ? durationInput('max-interval', '10s', { max: HOSTED_JOB_MAX_MS }) : Math.max(10_000, intervalMs);
  const requestTimeoutMs = durationInput('request-timeout', '10s', { max: FETCH_HEADERS_MAX_MS });
  const maxLatencyMs = core.getInput('max-latency').trim() ? durationInput('max-latency', '') : undefined;
  if (maxLatencyMs !== undefined) notLongerThan('max-latency', maxLatencyMs, 'request-timeout', requestTimeoutMs);
  const failureThreshold = integerInput('failure-threshold', 0, { min: 0, max: MAX_STREAK });

  const scrub = (text: string) => scrubSecrets(text, secrets);
  const shownUrl = scrub(redactUrl(url));
  core.info(
    `Checking ${shownUrl}: expecting HTTP ${describeStatuses(expectStatus)}` +
      `${expectJson.length ? `, JSON ${expectJson.map((c) => quoteValue(`${c.path}=${c.value}`)).join(', ')}` : ''}` +
      `${expectVersion ? `, version ${quoteValue(expectVersion)}` : ''}` +
      `${maxLatencyMs ? `, within ${formatDuration(maxLatencyMs)}` : ''}; ${consecutiveSuccesses} in a row` +
      `${consecutiveSuccesses > 1 ? ` ${formatDuration(intervalMs)} apart` : ''}, timeout ${formatDuration(timeoutMs)}`,
  );

  const result = await checkHealth({
    url,
    expectStatus,
    expectJson,
    expectVersion,
    consecutiveSuccesses,
    intervalMs,
    maxIntervalMs,
    timeoutMs,
    requestTimeoutMs,
    maxLatencyMs,
    failureThreshold,
    headers,
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
  core.info(`${shownUrl} is healthy after ${result.attempts} attempt(s) in ${formatDuration(result.timeToHealthyMs ?? 0)}.`);
}

function formatAttempt(a: HealthAttempt): string {
  return `#${a.n} ${a.ok ? '✓' : '✗'} ${a.status ?? '—'} ${formatDuration(a.latencyMs)} ${a.reason}`;
}

async function writeSummary(result: HealthResult, shownUrl: string, reason: string, scrub: (t: string) => string): Promise<void> {
  const verdict = result.healthy ? '✅ Healthy' : result.cancelled ? '⏹️ Cancelled' : '❌ Not healthy';
  const withStatus = result.history.filter((a) => a.status !== undefined).map((a) => a.latencyMs);
  const rows = result.history.slice(-SUMMARY_ROWS);
  const start = result.history[0]?.at ?? 0;
  core.summary
    .addHeading(`Health check: ${verdict}`, 2)
    .addTable([
      [
        { data: 'URL', header: true },
        { data: 'Attempts', header: true },
        { data: 'Time to healthy', header: true },
        { data: 'Last status', header: true },
        { data: 'p95 latency', header: true },
        { data: 'Min / max latency', header: true },
      ],
      [
        `<code>${escapeHtml(shownUrl)}</code>`,
        String(result.attempts),
        result.timeToHealthyMs === undefined ? '—' : formatDuration(result.timeToHealthyMs),
        result.lastStatus === undefined ? '—' : String(result.lastStatus),
        result.p95LatencyMs === undefined ? '—' : formatDuration(result.p95LatencyMs),
        withStatus.length ? `${formatDuration(Math.min(...withStatus))} / ${formatDuration(Math.max(...withStatus))}` : '—',
      ],
    ])
    .addRaw(`<p><strong>${result.healthy ? 'Verdict' : 'Reason'}:</strong> ${escapeHtml(reason)}</p>`, true)
    .addRaw(
      `<p>${result.attempts > rows.length ? `Last ${rows.length} of ${result.attempts} attempts` : `${rows.length} attempt(s)`}:</p>`,
      true,
    )
    .addTable([
      [
        { data: '#', header: true },
        { data: 'At', header: true },
        { data: 'Status', header: true },
        { data: 'Latency', header: true },
        { data: 'Result', header: true },
        { data: 'Detail', header: true },
      ],
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

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}

await runAction(main, {
  // A step that fails before any verdict (a bad input) still reports not healthy, so `healthy != 'true'` holds.
  failureOutputs: (f) => ({ healthy: 'false', attempts: '0', reason: f.message }),
});
