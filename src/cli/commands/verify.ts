// `rail-actions verify <url>`: the health-check action's engine, locally.
import { formatDuration } from '../../core/duration.js';
import { redactUrl, scrubSecrets } from '../../core/redact.js';
import { InputError } from '../../core/errors.js';
import {
  checkHealth,
  validateHealthOptions,
  describeStatuses,
  parseExpectJson,
  parseExpectStatus,
  parseHeaders,
  secretHeaderValues,
  secretUrlParts,
  type HealthAttempt,
  type HealthResult,
} from '../../health/index.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, type OptionSpec, type Values } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { Progress, table } from '../ui.js';

/** The health-check options as flags (names = the action's inputs); reused by deploy/rollback for their checks. */
export const HEALTH_OPTIONS: OptionSpec[] = [
  { name: 'expect-status', type: 'string', value: 'CODES', default: '200', description: 'Accepted statuses: 200, 200,204, 2xx, 200-299.' },
  { name: 'expect-json', type: 'string', multiple: true, value: 'PATH=VALUE', description: 'JSON body condition with a dotted path, e.g. checks.db=ok.' },
  { name: 'expect-version', type: 'string', value: 'TEXT', description: 'A value that must appear in the body (deployment id, commit sha): the old version answering does not count.' },
  { name: 'consecutive-successes', type: 'string', value: 'N', default: '3', description: 'Healthy answers needed in a row; a failure resets the streak.' },
  { name: 'interval', type: 'string', value: 'DURATION', default: '1s', description: 'Delay between attempts (failures keep this pace for 30 s, then back off).' },
  { name: 'max-interval', type: 'string', value: 'DURATION', default: '10s', description: 'Longest delay after repeated failures.' },
  { name: 'timeout', type: 'string', value: 'DURATION', default: '5m', description: 'Give up (not healthy) after this long.' },
  { name: 'request-timeout', type: 'string', value: 'DURATION', default: '10s', description: 'One request without an answer within this is a failed attempt.' },
  { name: 'max-latency', type: 'string', value: 'DURATION', description: 'A slower answer counts as a failed attempt.' },
  { name: 'failure-threshold', type: 'string', value: 'N', default: '0', description: 'Once healthy, this many failures in a row end the check (0 = off).' },
  { name: 'header', short: 'H', type: 'string', multiple: true, value: 'NAME: VALUE', description: 'Request header; values are never printed.' },
  { name: 'headers', type: 'string', value: 'LINES', description: "Several 'Name: value' lines at once (the action's input); combined with --header." },
];

export interface ParsedHealth {
  url: string;
  secrets: string[];
  opts: Omit<Parameters<typeof checkHealth>[0], 'signal' | 'onAttempt'>;
}

/** Reads and validates every health flag (nothing is requested before this succeeds). */
export function readHealthOptions(v: Values, url: string): ParsedHealth {
  const secrets = secretUrlParts(url);
  const headers = { ...parseHeaders(v.string('headers') ?? '', 'headers'), ...parseHeaders(v.list('header').join('\n'), 'header') };
  secrets.push(...secretHeaderValues(headers));
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw new InputError('url', `expected an absolute http(s) URL, got '${scrubSecrets(url, secrets)}'`);
  }
  if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:') throw new InputError('url', `expected an http or https URL, got '${parsedUrl.protocol}'`);
  const intervalMs = v.duration('interval') ?? 1000;
  const maxLatencyMs = v.duration('max-latency');
  const expectVersion = v.string('expect-version')?.trim() || undefined;
  const parsed: ParsedHealth = {
    url,
    secrets,
    opts: {
      url,
      expectStatus: parseExpectStatus(v.string('expect-status') ?? '200', 'expect-status'),
      expectJson: parseExpectJson(v.list('expect-json').join('\n'), 'expect-json'),
      ...(expectVersion ? { expectVersion } : {}),
      consecutiveSuccesses: v.integer('consecutive-successes', { min: 1 }) ?? 3,
      intervalMs,
      // The default adapts to a long interval; an explicit max-interval shorter than interval is an error.
      maxIntervalMs: v.given('max-interval') ? v.duration('max-interval') : Math.max(10_000, intervalMs),
      timeoutMs: v.duration('timeout') ?? 300_000,
      requestTimeoutMs: v.duration('request-timeout') ?? 10_000,
      ...(maxLatencyMs !== undefined ? { maxLatencyMs } : {}),
      failureThreshold: v.integer('failure-threshold', { min: 0 }) ?? 0,
      headers,
    },
  };
  validateHealthOptions(parsed.opts);
  return parsed;
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
  const progress = new Progress(() => (last ? `${label}: waiting for ${parsed.opts.consecutiveSuccesses} healthy answers in a row — last: ${scrub(last.reason)}` : `${label}: first request…`), {
    stream: ctx.err,
    // Each attempt is already a log line; off a TTY the status line would only repeat it.
    plainEveryMs: Number.POSITIVE_INFINITY,
    ...(ctx.err.isTTY ? {} : { tty: false }),
  });
  try {
    return await checkHealth({
      ...parsed.opts,
      signal: ctx.signal,
      onAttempt: (a) => {
        last = a;
        progress.log(formatAttempt(a, ctx, scrub));
      },
    });
  } finally {
    progress.stop();
  }
}

export const verifyCommand: Command = {
  spec: {
    name: 'verify',
    summary: 'Poll a URL until the NEW version answers healthy several times in a row (the health-check action, locally).',
    details:
      'Tolerates the first 404/502/connection refused of a fresh domain or waking service. Failed attempts keep the\n' +
      '--interval pace for 30 s, then back off towards --max-interval. Durations accept 250ms, 30s, 5m, 1h or seconds.',
    positional: { option: 'url', placeholder: 'url' },
    options: [
      { name: 'url', type: 'string', value: 'URL', description: 'URL to poll.', required: true },
      ...HEALTH_OPTIONS,
      { name: 'json', type: 'boolean', description: 'Print the result as JSON on stdout.' },
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
            history: result.history.slice(-20).map((a) => ({ n: a.n, status: a.status ?? null, latencyMs: a.latencyMs, ok: a.ok, reason: scrub(a.reason) })),
          },
          null,
          2,
        ),
      );
    } else {
      const c = ctx.color;
      ctx.print(result.healthy ? c.green(c.bold('✔ healthy')) : result.cancelled ? c.yellow(c.bold('■ cancelled')) : c.red(c.bold('✘ not healthy')));
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
