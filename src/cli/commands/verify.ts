// `rail-actions verify <url>`: the health-check action locally — the same readers (readCheckSpec) and use case (runVerify).
import { formatDuration } from '../../core/duration.js';
import { redactUrl, scrubSecrets } from '../../core/redact.js';
import { describeStatuses, validateHealthOptions, type HealthAttempt, type HealthResult } from '../../health/index.js';
import { readCheckSpec, type CheckSpec } from '../../release/spec.js';
import { runVerify } from '../../release/use-cases.js';
import { catalogueFlags, cliSource, jsonFlag } from '../options.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, type OptionSpec, type Values } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { Progress, table } from '../ui.js';

/** The health-check options as flags: the health-check action's inputs, from the catalogue (names, defaults, help). */
export const HEALTH_OPTIONS: OptionSpec[] = [
  ...catalogueFlags(
    'cli:verify',
    [
      'expect-status',
      'expect-json',
      'expect-version',
      'consecutive-successes',
      'interval',
      'max-interval',
      'timeout',
      'request-timeout',
      'max-latency',
      'failure-threshold',
      'headers',
    ],
    {
      'expect-json': { multiple: true },
    },
  ),
  {
    name: 'header',
    short: 'H',
    type: 'string',
    multiple: true,
    value: 'NAME: VALUE',
    description: 'Request header (a --headers line); values are never printed.',
  },
];

export interface ParsedHealth {
  url: string;
  secrets: string[];
  opts: CheckSpec['options'];
}

/** Reads and validates every health flag with the health-check action's readers (nothing is requested before this succeeds). */
export function readHealthOptions(v: Values, url: string): ParsedHealth {
  const spec = readCheckSpec(cliSource(v, { url: ['url'], headers: ['headers', 'header'] }));
  validateHealthOptions(spec.options);
  return { url: spec.options.url === url ? url : spec.options.url, secrets: spec.secrets, opts: spec.options };
}

export function formatAttempt(a: HealthAttempt, ctx: CliContext, scrub: (t: string) => string): string {
  const c = ctx.errColor;
  const mark = a.ok ? c.green('✓') : c.red('✗');
  return `${mark} #${a.n} ${a.status ?? '—'} ${c.dim(formatDuration(a.latencyMs))} ${a.ok ? a.reason : c.yellow(scrub(a.reason))}`;
}

/** Runs a health check with progress; returns the result (the caller decides the exit code). */
export async function runHealthCheck(parsed: ParsedHealth, ctx: CliContext, label = 'verify'): Promise<HealthResult> {
  const scrub = (t: string) => scrubSecrets(t, parsed.secrets);
  let last: HealthAttempt | undefined;
  const progress = new Progress(
    () =>
      last
        ? `${label}: waiting for ${parsed.opts.consecutiveSuccesses} healthy answers in a row — last: ${scrub(last.reason)}`
        : `${label}: first request…`,
    {
      stream: ctx.err,
      // Each attempt is already a log line; off a TTY the status line would only repeat it.
      plainEveryMs: Number.POSITIVE_INFINITY,
      ...(ctx.err.isTTY ? {} : { tty: false }),
    },
  );
  try {
    return await runVerify(
      { options: parsed.opts, secrets: parsed.secrets },
      {
        signal: ctx.signal,
        onAttempt: (a) => {
          last = a;
          progress.log(formatAttempt(a, ctx, scrub));
        },
      },
    );
  } finally {
    progress.stop();
  }
}

export const verifyCommand: Command = {
  spec: {
    name: 'verify',
    summary:
      'Poll a URL until the NEW version answers healthy several times in a row (the health-check action, locally).',
    details:
      'Tolerates the first 404/502/connection refused of a fresh domain or waking service. Failed attempts keep the\n' +
      '--interval pace for 30 s, then back off towards --max-interval. Durations accept 250ms, 30s, 5m, 1h or seconds.',
    positional: { option: 'url', placeholder: 'url' },
    options: [
      { ...(catalogueFlags('cli:verify', ['url'])[0] as OptionSpec), required: true },
      ...HEALTH_OPTIONS,
      jsonFlag(),
    ],
    examples: [
      'rail-actions verify https://api.example.up.railway.app/health --expect-json status=ok --expect-version $SHA',
      "rail-actions verify http://localhost:3000/health -H 'Authorization: Bearer $TOKEN' --timeout 1m",
    ],
  },
  async run(v, ctx) {
    const parsed = readHealthOptions(v, v.required('url'));
    const scrub = (t: string) => scrubSecrets(t, parsed.secrets);
    const shownUrl = scrub(redactUrl(parsed.url));
    const o = parsed.opts;
    if (!v.flag('json')) {
      ctx.log(
        ctx.errColor.dim(
          `Checking ${shownUrl}: HTTP ${describeStatuses(o.expectStatus)}${o.expectJson.length ? `, JSON ${o.expectJson.map((j) => `${j.path}=${j.value}`).join(', ')}` : ''}` +
            `${o.expectVersion ? `, version ${o.expectVersion}` : ''}${o.maxLatencyMs ? `, within ${formatDuration(o.maxLatencyMs)}` : ''}; ${o.consecutiveSuccesses} in a row, timeout ${formatDuration(o.timeoutMs)}`,
        ),
      );
    }
    const result = await runHealthCheck(parsed, ctx);
    const reason = scrub(result.lastReason);
    if (v.flag('json')) {
      ctx.print(
        JSON.stringify(
          {
            url: shownUrl,
            healthy: result.healthy,
            attempts: result.attempts,
            timeToHealthyMs: result.timeToHealthyMs ?? null,
            lastStatus: result.lastStatus ?? null,
            p95LatencyMs: result.p95LatencyMs ?? null,
            reason,
            cancelled: result.cancelled ?? false,
            timedOut: result.timedOut ?? false,
            history: result.history.slice(-20).map((a) => ({
              n: a.n,
              status: a.status ?? null,
              latencyMs: a.latencyMs,
              ok: a.ok,
              reason: scrub(a.reason),
            })),
          },
          null,
          2,
        ),
      );
    } else {
      const c = ctx.color;
      ctx.print(
        result.healthy
          ? c.green(c.bold('✔ healthy'))
          : result.cancelled
            ? c.yellow(c.bold('■ cancelled'))
            : c.red(c.bold('✘ not healthy')),
      );
      ctx.print(
        table(
          [
            ['URL', 'ATTEMPTS', 'TIME TO HEALTHY', 'LAST STATUS', 'P95 LATENCY'],
            [
              shownUrl,
              String(result.attempts),
              result.timeToHealthyMs === undefined ? '—' : formatDuration(result.timeToHealthyMs),
              result.lastStatus === undefined ? '—' : String(result.lastStatus),
              result.p95LatencyMs === undefined ? '—' : formatDuration(result.p95LatencyMs),
            ],
          ],
          c,
        ),
      );
      ctx.print(`${result.healthy ? 'verdict' : 'reason'}: ${reason}`);
    }
    if (result.cancelled) return EXIT_INTERRUPTED;
    return result.healthy ? EXIT_OK : EXIT_FAILED;
  },
};
