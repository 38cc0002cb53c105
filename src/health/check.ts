// The health-check core: polls a URL until it has answered healthy `consecutiveSuccesses` times in a row (with the
// expected status, JSON fields, version and latency) or the overall timeout passes. The pace is schedule.ts's (fast
// until the first healthy answer, then `interval`). Never imports @actions/*.
import { formatDuration } from '../core/duration.js';
import { InputError, errorMessage } from '../core/errors.js';
import { sleep } from '../core/retry.js';
import { scrubSecrets } from '../core/redact.js';
import { describeFailingChecks } from './checks.js';
import { describeStatuses, secretHeaderValues, secretUrlParts, type JsonCondition } from './parse.js';
import { PollSchedule } from './schedule.js';

export interface HealthCheckOptions {
  url: string;
  expectStatus: number[];
  expectJson: JsonCondition[];
  /** A value (deployment id, commit sha) that must appear in the body, so the OLD version answering does not count. */
  expectVersion?: string;
  consecutiveSuccesses: number;
  /**
   * Spacing of the confirmations once a healthy answer has been seen, and of failed attempts after that (jittered
   * down to half). Before the first healthy answer attempts go faster (100–250 ms, never slower than this): see
   * schedule.ts.
   */
  intervalMs: number;
  /**
   * Once the check has run QUICK_PHASE_MS (30 s), failed attempts back off from intervalMs up to this (default:
   * intervalMs × 10, at most 10 s, never below intervalMs).
   */
  maxIntervalMs?: number;
  timeoutMs: number;
  requestTimeoutMs?: number;
  /** A slower answer counts as a failed attempt. */
  maxLatencyMs?: number;
  headers: Record<string, string>;
  /** Fail fast: once healthy at least once, this many failed attempts in a row end the check unhealthy (0/unset: off). */
  failureThreshold?: number;
  signal?: AbortSignal;
  onAttempt?: (a: HealthAttempt) => void;
  fetch?: typeof fetch;
}

export type AttemptKind = 'ok' | 'not-serving' | 'status' | 'version' | 'json' | 'slow' | 'timeout' | 'network';

export interface HealthAttempt {
  n: number;
  /** Epoch ms when the request started. */
  at: number;
  status?: number;
  latencyMs: number;
  ok: boolean;
  reason: string;
  kind: AttemptKind;
  /** A request timeout caused by the overall deadline (less than request-timeout was left), not by the service. */
  cutByDeadline?: boolean;
}

export interface HealthResult {
  healthy: boolean;
  attempts: number;
  /** From the start of the check to the answer that completed the streak. */
  timeToHealthyMs?: number;
  /** Status of the last HTTP answer received (a later attempt without an answer does not clear it). */
  lastStatus?: number;
  /** Nearest-rank p95 over the attempts that got an HTTP answer. */
  p95LatencyMs?: number;
  lastReason: string;
  /** The most recent attempts (at most HISTORY_LIMIT; `attempts` counts all). */
  history: HealthAttempt[];
  /** Set when the signal aborted the check (job cancelled, Ctrl-C). */
  cancelled?: boolean;
  /** Set when the overall timeout ended the check. */
  timedOut?: boolean;
}

export const HISTORY_LIMIT = 1000;
const BODY_LIMIT = 1024 * 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
// A fresh Railway domain answers 404 until edge routing catches up; a sleeping or not-yet-active service answers
// 502/503/504 — before the app has answered anything else, these mean "not serving yet", not "broken".
const NOT_SERVING_STATUSES = new Set([404, 502, 503, 504]);

export function defaultMaxInterval(intervalMs: number): number {
  return Math.max(intervalMs, Math.min(intervalMs * 10, 10_000));
}

/** Throws the InputError checkHealth would, naming the input; lets callers validate before anything else happens. */
export function validateHealthOptions(opts: HealthCheckOptions): void {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new InputError('url', `expected an absolute http(s) URL, got '${opts.url}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError('url', `expected an http or https URL, got '${url.protocol}'`);
  }
  if (opts.expectStatus.length === 0) throw new InputError('expect-status', 'needs at least one status code');
  if (!Number.isInteger(opts.consecutiveSuccesses) || opts.consecutiveSuccesses < 1) {
    throw new InputError(
      'consecutive-successes',
      `must be a whole number of at least 1, got ${opts.consecutiveSuccesses}`,
    );
  }
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0))
      throw new InputError(name, `must be a positive duration, got ${v}ms`);
  };
  positive('interval', opts.intervalMs);
  positive('max-interval', opts.maxIntervalMs);
  positive('timeout', opts.timeoutMs);
  positive('request-timeout', opts.requestTimeoutMs);
  positive('max-latency', opts.maxLatencyMs);
  if (opts.maxIntervalMs !== undefined && opts.maxIntervalMs < opts.intervalMs) {
    throw new InputError(
      'max-interval',
      `must not be shorter than interval (${formatDuration(opts.intervalMs)}), got ${formatDuration(opts.maxIntervalMs)}`,
    );
  }
  if (opts.failureThreshold !== undefined && (!Number.isInteger(opts.failureThreshold) || opts.failureThreshold < 0)) {
    throw new InputError('failure-threshold', `must be a whole number ≥ 0, got ${opts.failureThreshold}`);
  }
}

/** Nearest-rank percentile (p in 0..100) of the values; undefined for none. */
export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function checkHealth(opts: HealthCheckOptions): Promise<HealthResult> {
  validateHealthOptions(opts);
  const fetchImpl = opts.fetch ?? fetch;
  const { url, headers } = requestTarget(opts.url, opts.headers);
  const schedule = new PollSchedule({
    intervalMs: opts.intervalMs,
    maxIntervalMs: opts.maxIntervalMs ?? defaultMaxInterval(opts.intervalMs),
  });
  const requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const secrets = [...secretHeaderValues(headers), ...secretUrlParts(opts.url)];
  const start = Date.now();
  const deadline = start + opts.timeoutMs;

  const history: HealthAttempt[] = [];
  const latencies: number[] = [];
  let attempts = 0;
  let streak = 0;
  let failuresInRow = 0;
  let everHealthy = false;
  let everServed = false;
  let last: HealthAttempt | undefined;
  let lastStatus: number | undefined;

  const finish = (extra: Partial<HealthResult> & { healthy: boolean; lastReason: string }): HealthResult => ({
    attempts,
    lastStatus,
    p95LatencyMs: percentile(latencies, 95),
    history,
    ...extra,
  });
  const cancelled = () =>
    finish({
      healthy: false,
      cancelled: true,
      lastReason: `cancelled (${abortReason(opts.signal)}) after ${attempts} attempt(s)${last ? `; last: ${last.reason}` : ''}`,
    });
  const timedOut = () =>
    finish({
      healthy: false,
      timedOut: true,
      lastReason: `not healthy within ${formatDuration(opts.timeoutMs)} (${attempts} attempt(s)${streak ? `, ${streak} of ${opts.consecutiveSuccesses} healthy in a row` : ''}); last: ${last?.reason ?? 'no attempt'}`,
    });

  for (;;) {
    if (opts.signal?.aborted) return cancelled();
    const budget = Math.min(requestTimeoutMs, deadline - Date.now());
    if (budget <= 0) return timedOut();
    attempts++;
    const attempt = await probe(
      fetchImpl,
      url,
      headers,
      budget,
      budget < requestTimeoutMs,
      opts,
      attempts,
      everServed,
      secrets,
    );
    if (!attempt) return cancelled();
    // An attempt cut short by the overall deadline says nothing about the service: keep the previous reason.
    if (!(attempt.kind === 'timeout' && attempt.cutByDeadline && last)) last = attempt;
    if (attempt.status !== undefined) {
      lastStatus = attempt.status;
      latencies.push(attempt.latencyMs);
      // Any answer but the platform's own "not serving yet" (an unexpected 404/502/503/504 with no checks listed).
      if (attempt.kind !== 'not-serving') everServed = true;
    }
    history.push(attempt);
    if (history.length > HISTORY_LIMIT) history.shift();
    opts.onAttempt?.(attempt);

    if (attempt.ok) {
      streak++;
      failuresInRow = 0;
      everHealthy = true;
      if (streak >= opts.consecutiveSuccesses) {
        return finish({ healthy: true, timeToHealthyMs: Date.now() - start, lastReason: attempt.reason });
      }
    } else {
      streak = 0;
      failuresInRow++;
      if (opts.failureThreshold && everHealthy && failuresInRow >= opts.failureThreshold) {
        return finish({
          healthy: false,
          lastReason: `unhealthy after having answered healthy: ${failuresInRow} failed attempt(s) in a row (failure-threshold ${opts.failureThreshold}); last: ${attempt.reason}`,
        });
      }
    }
    const delay = schedule.next(attempt, Date.now() - start);
    const left = deadline - Date.now();
    if (left <= 0) return timedOut();
    try {
      await sleep(Math.min(delay, left), opts.signal);
    } catch {
      return cancelled();
    }
    // The next attempt was due at or after the deadline: none is left. Decided here, not from the clock after the
    // sleep, which a timer may end a millisecond early (an attempt with a 1 ms budget says nothing about the service).
    if (delay >= left) return timedOut();
  }
}

function abortReason(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  if (reason === undefined) return 'aborted';
  return errorMessage(reason);
}

/** Fetch refuses URLs with credentials: move `user:pass@` into a Basic Authorization header (unless one is given). */
function requestTarget(
  rawUrl: string,
  given: Record<string, string>,
): { url: string; headers: Record<string, string> } {
  const u = new URL(rawUrl);
  const headers: Record<string, string> = {
    'user-agent': 'rail-actions-health-check',
    accept: 'application/json, text/plain;q=0.9, */*;q=0.5',
  };
  for (const [k, v] of Object.entries(given)) headers[k.toLowerCase()] = v;
  if (u.username || u.password) {
    if (!headers.authorization) {
      const basic = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString(
        'base64',
      );
      headers.authorization = `Basic ${basic}`;
    }
    u.username = '';
    u.password = '';
  }
  return { url: u.toString(), headers };
}

class RequestTimeout extends Error {}

async function probe(
  fetchImpl: typeof fetch,
  url: string,
  headers: Record<string, string>,
  budgetMs: number,
  cutByDeadline: boolean,
  opts: HealthCheckOptions,
  n: number,
  everServed: boolean,
  secrets: string[],
): Promise<HealthAttempt | undefined> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new RequestTimeout()), budgetMs);
  const onOuterAbort = () => controller.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const at = Date.now();
  const t0 = performance.now();
  const elapsed = () => Math.round(performance.now() - t0);
  try {
    const res = await fetchImpl(url, { headers, redirect: 'manual', signal: controller.signal, cache: 'no-store' });
    const body = await readBody(res);
    const latencyMs = elapsed();
    const result = evaluate(res, body, latencyMs, opts, everServed, secrets);
    return { n, at, status: res.status, latencyMs, ...result };
  } catch (err) {
    const latencyMs = elapsed();
    if (opts.signal?.aborted) return undefined;
    if (controller.signal.aborted && controller.signal.reason instanceof RequestTimeout) {
      const reason = cutByDeadline
        ? `no answer within the ${formatDuration(budgetMs)} left before the overall timeout`
        : `no answer within ${formatDuration(budgetMs)} (request-timeout)`;
      return { n, at, latencyMs, ok: false, kind: 'timeout', reason, cutByDeadline };
    }
    const what = describeNetworkError(err);
    // A fresh domain may have no DNS record or certificate yet: before the app has answered, that is "not serving yet".
    const notServing = !everServed && /refused|reset|closed|not found|unreachable|TLS error/.test(what);
    return {
      n,
      at,
      latencyMs,
      ok: false,
      kind: notServing ? 'not-serving' : 'network',
      reason: notServing ? `not serving yet: ${what}` : what,
    };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}

async function readBody(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
      // A health body is small; don't buffer an accidental download.
      if (size >= BODY_LIMIT) {
        await reader.cancel();
        break;
      }
    }
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeNetworkError(err: unknown): string {
  const codes: string[] = [];
  const visit = (e: unknown, depth: number) => {
    if (!e || typeof e !== 'object' || depth > 4) return;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    if (e instanceof AggregateError) for (const inner of e.errors) visit(inner, depth + 1);
    visit((e as { cause?: unknown }).cause, depth + 1);
  };
  visit(err, 0);
  const has = (c: string) => codes.includes(c);
  if (has('ECONNREFUSED')) return 'connection refused';
  if (has('ECONNRESET') || has('UND_ERR_SOCKET')) return 'connection reset/closed before an answer';
  if (has('ENOTFOUND') || has('EAI_AGAIN')) return 'host not found (DNS)';
  if (has('EHOSTUNREACH') || has('ENETUNREACH')) return 'host unreachable';
  if (has('ETIMEDOUT') || has('UND_ERR_CONNECT_TIMEOUT')) return 'connection timed out';
  if (codes.some((c) => c.startsWith('ERR_TLS') || c.includes('CERT'))) return `TLS error (${codes.join(', ')})`;
  const cause = (err as { cause?: unknown })?.cause;
  return `request failed: ${cause ? errorMessage(cause) : errorMessage(err)}${codes.length ? ` (${codes.join(', ')})` : ''}`;
}

/** The parsed body, or undefined when it is not JSON. */
function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

// Bound of a failing-checks list in a reason (a handful of names and status words; the list itself caps at 4).
const REASON_LIMIT = 240;

function snippet(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (!flat) return '(empty body)';
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function evaluate(
  res: Response,
  body: string,
  latencyMs: number,
  opts: HealthCheckOptions,
  everServed: boolean,
  secrets: string[],
): Pick<HealthAttempt, 'ok' | 'kind' | 'reason'> {
  const status = res.status;
  // A server may reflect request headers into its body: scrub credentials BEFORE any snippet can cut one in half.
  const scrub = (text: string) => scrubSecrets(text, secrets);
  const shown = (text: string, max?: number) => snippet(scrub(text), max);
  if (!opts.expectStatus.includes(status)) {
    const expected = describeStatuses(opts.expectStatus);
    if (status >= 300 && status < 400) {
      const location = res.headers.get('location');
      return {
        ok: false,
        kind: 'status',
        reason: `HTTP ${status} redirect${location ? ` to ${location}` : ''} (expected ${expected}; redirects are not followed — use the final URL)`,
      };
    }
    // A body naming its failing checks is the app itself answering (degraded), even with a 503.
    const failing = describeFailingChecks(parseJson(body), { scrub });
    if (failing) return { ok: false, kind: 'status', reason: `HTTP ${status}: ${shown(failing, REASON_LIMIT)}` };
    if (!everServed && NOT_SERVING_STATUSES.has(status))
      return { ok: false, kind: 'not-serving', reason: `not serving yet: HTTP ${status}` };
    return { ok: false, kind: 'status', reason: `HTTP ${status}, expected ${expected}: ${shown(body)}` };
  }
  // Not JSON: the version is searched in the raw text, JSON conditions fail below.
  const json = opts.expectJson.length || opts.expectVersion ? parseJson(body) : undefined;
  const isJson = json !== undefined;
  if (opts.expectVersion) {
    const found = isJson
      ? jsonStrings(json).some((s) => versionMatches(s, opts.expectVersion as string))
      : versionMatches(body, opts.expectVersion);
    if (!found) {
      return {
        ok: false,
        kind: 'version',
        reason: `old version answering: saw ${isJson ? shown(describeVersionFields(json)) : shown(body)} (expected ${opts.expectVersion})`,
      };
    }
  }
  for (const cond of opts.expectJson) {
    if (!isJson) return { ok: false, kind: 'json', reason: `body is not JSON (expect-json needs it): ${shown(body)}` };
    const actual = lookup(json, cond.path);
    if (!actual.found)
      return { ok: false, kind: 'json', reason: `expect-json: ${cond.path} is missing (expected "${cond.value}")` };
    const text = stringify(actual.value);
    if (text !== cond.value) {
      const failing = describeFailingChecks(json, { except: cond.path, scrub });
      return {
        ok: false,
        kind: 'json',
        reason: `expect-json: ${cond.path} is ${shown(JSON.stringify(text))}, expected "${cond.value}"${failing ? `; ${shown(failing, REASON_LIMIT)}` : ''}`,
      };
    }
  }
  if (opts.maxLatencyMs !== undefined && latencyMs > opts.maxLatencyMs) {
    return {
      ok: false,
      kind: 'slow',
      reason: `too slow: ${formatDuration(latencyMs)} > max-latency ${formatDuration(opts.maxLatencyMs)} (HTTP ${status})`,
    };
  }
  return { ok: true, kind: 'ok', reason: `healthy: HTTP ${status} in ${formatDuration(latencyMs)}` };
}

function stringify(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function lookup(json: unknown, path: string): { found: boolean; value?: unknown } {
  let cur: unknown = json;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return { found: false };
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(key) || Number(key) >= cur.length) return { found: false };
      cur = cur[Number(key)];
    } else {
      if (!Object.prototype.hasOwnProperty.call(cur, key)) return { found: false };
      cur = (cur as Record<string, unknown>)[key];
    }
  }
  return { found: true, value: cur };
}

/** Every string/number value in the JSON document (the places a version can appear). */
function jsonStrings(json: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 20) return out;
  if (typeof json === 'string') out.push(json);
  else if (typeof json === 'number') out.push(String(json));
  else if (json && typeof json === 'object') for (const v of Object.values(json)) jsonStrings(v, out, depth + 1);
  return out;
}

const VERSION_KEY = /version|deploy|commit|sha|release|build|revision|snapshot/i;

function describeVersionFields(json: unknown): string {
  const found: string[] = [];
  const visit = (v: unknown, prefix: string, depth: number) => {
    if (found.length >= 3 || depth > 5 || !v || typeof v !== 'object') return;
    for (const [k, inner] of Object.entries(v)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if ((typeof inner === 'string' || typeof inner === 'number') && VERSION_KEY.test(k))
        found.push(`${path}=${String(inner)}`);
      else visit(inner, path, depth + 1);
      if (found.length >= 3) return;
    }
  };
  visit(json, '', 0);
  return found.length ? found.join(', ') : JSON.stringify(json);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * True when `expected` appears in `text` as a whole token (so `v1` does not match `v10`), or — for commit shas —
 * when a hex token of ≥ 7 characters and the expected sha are prefixes of one another (short vs full sha).
 */
export function versionMatches(text: string, expected: string): boolean {
  const want = expected.trim();
  if (!want) return false;
  if (new RegExp(`(^|[^A-Za-z0-9])${escapeRegExp(want)}($|[^A-Za-z0-9])`).test(text)) return true;
  if (/^[0-9a-f]{7,40}$/i.test(want)) {
    const lower = want.toLowerCase();
    for (const m of text.matchAll(/(?<![0-9A-Za-z])[0-9a-f]{7,40}(?![0-9A-Za-z])/gi)) {
      const token = m[0].toLowerCase();
      if (token.startsWith(lower) || lower.startsWith(token)) return true;
    }
  }
  return false;
}
