// The health-check core against real local HTTP servers (loopback, free ports). No timed pass/fail on speed: checks
// are about counts, reasons and order; the pace is asserted on the schedule itself (deterministic) and, against a
// server, through attempt timestamps with lower bounds (a timer never fires early) or upper bounds far from the
// expected value.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError } from '../src/core/errors.js';
import {
  FAST_FIRST_DELAY_MS,
  FAST_MAX_DELAY_MS,
  PollSchedule,
  QUICK_PHASE_MS,
  checkHealth,
  describeFailingChecks,
  describeStatuses,
  failingChecks,
  parseExpectJson,
  parseExpectStatus,
  parseHeaders,
  percentile,
  secretHeaderValues,
  secretUrlParts,
  versionMatches,
  type HealthAttempt,
  type HealthCheckOptions,
} from '../src/health/index.js';
import { closeServers, serveScript, trackServer, type Script } from './helpers/http.js';
import { freePort } from './railway-emulator/apps.js';

afterEach(closeServers);

const serve = (script: Script, port = 0) => serveScript(script, { port });

function options(url: string, extra: Partial<HealthCheckOptions> = {}): HealthCheckOptions {
  return {
    url,
    expectStatus: [200],
    expectJson: [],
    consecutiveSuccesses: 3,
    intervalMs: 10,
    maxIntervalMs: 40,
    timeoutMs: 30_000,
    requestTimeoutMs: 10_000,
    headers: {},
    ...extra,
  };
}

describe('checkHealth against a real server', () => {
  it('is healthy after N consecutive good answers and reports attempts, time, status and p95', async () => {
    const { url, requests } = await serve(() => ({ body: { status: 'ok' } }));
    const seen: HealthAttempt[] = [];
    const result = await checkHealth(options(url, { onAttempt: (a) => seen.push(a) }));
    expect(result.healthy).toBe(true);
    expect(result.attempts).toBe(3);
    expect(requests()).toBe(3);
    expect(result.lastStatus).toBe(200);
    expect(result.timeToHealthyMs).toBeGreaterThanOrEqual(0);
    expect(result.p95LatencyMs).toBeGreaterThanOrEqual(0);
    expect(result.history.map((a) => a.n)).toEqual([1, 2, 3]);
    expect(seen.map((a) => a.ok)).toEqual([true, true, true]);
    expect(result.lastReason).toMatch(/^healthy: HTTP 200/);
  });

  it('a flapping server resets the streak', async () => {
    const statuses = [200, 200, 500, 200, 500, 200, 200, 200];
    const { url } = await serve((n) => ({ status: statuses[n - 1] ?? 200, body: { n } }));
    const result = await checkHealth(options(url));
    expect(result.healthy).toBe(true);
    expect(result.attempts).toBe(8);
    expect(result.history.filter((a) => !a.ok).map((a) => a.n)).toEqual([3, 5]);
    expect(result.history[2]?.reason).toMatch(/HTTP 500, expected 200/);
  });

  it('the OLD version answering does not count; the new one does', async () => {
    const { url } = await serve((n) => ({
      body: { status: 'ok', deploymentId: n <= 2 ? 'dep-old-1111' : 'dep-new-2222' },
    }));
    const result = await checkHealth(options(url, { expectVersion: 'dep-new-2222', consecutiveSuccesses: 2 }));
    expect(result.healthy).toBe(true);
    expect(result.attempts).toBe(4);
    expect(result.history[0]?.kind).toBe('version');
    expect(result.history[0]?.reason).toContain('old version answering: saw deploymentId=dep-old-1111');
  });

  it('only the old version answering ends unhealthy with that reason', async () => {
    const { url } = await serve(() => ({ body: 'release abc1234 running' }));
    const result = await checkHealth(options(url, { expectVersion: 'def5678aaaa', timeoutMs: 500 }));
    expect(result.healthy).toBe(false);
    expect(result.timedOut).toBe(true);
    expect(result.lastReason).toContain('old version answering: saw release abc1234 running');
  });

  it('finds the version in raw text and matches a short sha against a full one', async () => {
    const full = '0123456789abcdef0123456789abcdef01234567';
    const { url } = await serve(() => ({ body: `ok ${full.slice(0, 7)}\n` }));
    const result = await checkHealth(options(url, { expectVersion: full, consecutiveSuccesses: 1 }));
    expect(result.healthy).toBe(true);
  });

  it('tolerates 502 then 200 as "not serving yet"', async () => {
    const { url } = await serve((n) => (n <= 2 ? { status: 502, body: 'Bad Gateway' } : { body: { ok: true } }));
    const result = await checkHealth(options(url));
    expect(result.healthy).toBe(true);
    expect(result.attempts).toBe(5);
    expect(result.history[0]?.reason).toBe('not serving yet: HTTP 502');
    expect(result.history[1]?.kind).toBe('not-serving');
  });

  it('a 502 after the app has served is a real failure, not "not serving yet"', async () => {
    const { url } = await serve((n) => (n === 2 ? { status: 502 } : { body: {} }));
    const result = await checkHealth(options(url, { consecutiveSuccesses: 2 }));
    expect(result.healthy).toBe(true);
    expect(result.history[1]?.kind).toBe('status');
    expect(result.history[1]?.reason).toMatch(/HTTP 502, expected 200/);
  });

  it('tolerates connection refused until the server comes up', async () => {
    const port = await freePort();
    let started = false;
    const result = await checkHealth(
      options(`http://127.0.0.1:${port}/health`, {
        consecutiveSuccesses: 2,
        onAttempt: (a) => {
          // The server comes up only after a refused attempt has been observed.
          if (!started && a.n >= 2) {
            started = true;
            void serve(() => ({ body: { status: 'ok' } }), port);
          }
        },
      }),
    );
    expect(result.healthy).toBe(true);
    expect(result.history[0]?.reason).toBe('not serving yet: connection refused');
    expect(result.history[0]?.status).toBeUndefined();
    expect(result.history.at(-1)?.ok).toBe(true);
  });

  it.skipIf(!existsSync('/usr/bin/openssl'))(
    'a certificate that is not valid (yet) is "not serving yet", not a crash',
    async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'health-tls-'));
      try {
        execFileSync(
          'openssl',
          [
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-subj',
            '/CN=localhost',
            '-days',
            '1',
            '-keyout',
            path.join(dir, 'key.pem'),
            '-out',
            path.join(dir, 'cert.pem'),
          ],
          { stdio: 'ignore' },
        );
        const server = https.createServer(
          { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) },
          (_req, res) => res.end('{}'),
        );
        trackServer(server);
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
        const result = await checkHealth(options(url, { timeoutMs: 300 }));
        expect(result.healthy).toBe(false);
        expect(result.history[0]?.kind).toBe('not-serving');
        expect(result.history[0]?.reason).toMatch(/^not serving yet: TLS error \(/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it('a slower answer than max-latency counts as a failure', async () => {
    // Slow answers are 1.5 s against a 500 ms limit: far apart, so the outcome does not depend on machine speed.
    const { url } = await serve((n) => ({ body: { status: 'ok' }, delayMs: n <= 2 ? 1500 : 0 }));
    const result = await checkHealth(options(url, { maxLatencyMs: 500, consecutiveSuccesses: 2 }));
    expect(result.healthy).toBe(true);
    expect(result.history.slice(0, 2).map((a) => a.kind)).toEqual(['slow', 'slow']);
    expect(result.history[0]?.reason).toMatch(/too slow: .* > max-latency 500ms/);
    // ≥: on a loaded machine a fast local answer could exceed the limit too; that only adds attempts
    expect(result.attempts).toBeGreaterThanOrEqual(4);
    expect(result.p95LatencyMs).toBeGreaterThanOrEqual(1500);
  });

  it('times out with the last reason when never healthy', async () => {
    const { url } = await serve(() => ({ status: 500, body: { error: 'db down' } }));
    const result = await checkHealth(options(url, { timeoutMs: 600 }));
    expect(result.healthy).toBe(false);
    expect(result.timedOut).toBe(true);
    expect(result.attempts).toBeGreaterThanOrEqual(1);
    expect(result.lastStatus).toBe(500);
    expect(result.timeToHealthyMs).toBeUndefined();
    expect(result.lastReason).toMatch(/not healthy within 600ms .*last: HTTP 500, expected 200: \{"error":"db down"\}/);
  });

  it('a hanging server is a request timeout, then the overall timeout ends it', async () => {
    const { url } = await serve(() => ({ hang: true }));
    const result = await checkHealth(options(url, { requestTimeoutMs: 200, timeoutMs: 1000 }));
    expect(result.healthy).toBe(false);
    expect(result.history[0]?.kind).toBe('timeout');
    expect(result.history[0]?.reason).toMatch(/no answer within 200ms/);
  });

  it('checks JSON conditions with dotted paths, arrays, numbers and booleans', async () => {
    const { url } = await serve((n) => ({
      body: { status: 'ok', checks: { db: n === 1 ? 'down' : 'ok', redis: 'ok' }, replicas: [{ up: true }], count: 2 },
    }));
    const result = await checkHealth(
      options(url, {
        consecutiveSuccesses: 1,
        expectJson: parseExpectJson('status=ok\nchecks.db=ok, checks.redis=ok\nreplicas.0.up=true,count=2'),
      }),
    );
    expect(result.healthy).toBe(true);
    expect(result.attempts).toBe(2);
    expect(result.history[0]?.reason).toBe('expect-json: checks.db is "down", expected "ok"');
  });

  it('reports a missing JSON field and a non-JSON body', async () => {
    const { url } = await serve((n) =>
      n === 1
        ? { body: 'OK' }
        : n === 2
          ? { body: { status: 'ok' } }
          : { body: { status: 'ok', checks: { db: 'ok' } } },
    );
    const result = await checkHealth(
      options(url, { consecutiveSuccesses: 1, expectJson: parseExpectJson('checks.db=ok') }),
    );
    expect(result.healthy).toBe(true);
    expect(result.history[0]?.reason).toMatch(/body is not JSON/);
    expect(result.history[1]?.reason).toBe('expect-json: checks.db is missing (expected "ok")');
  });

  it('accepts status ranges and does not follow redirects', async () => {
    const { url } = await serve((n) => (n === 1 ? { status: 302, headers: { location: '/login' } } : { status: 204 }));
    const result = await checkHealth(options(url, { expectStatus: parseExpectStatus('2xx'), consecutiveSuccesses: 1 }));
    expect(result.healthy).toBe(true);
    expect(result.lastStatus).toBe(204);
    expect(result.history[0]?.reason).toMatch(/HTTP 302 redirect to \/login/);
  });

  it('sends the configured headers, and turns URL credentials into Basic auth', async () => {
    const { url } = await serve((_n, req) =>
      req.headers['x-api-key'] === 'k-123456' &&
      req.headers.authorization === `Basic ${Buffer.from('me:pw').toString('base64')}`
        ? { body: {} }
        : { status: 401 },
    );
    const withCreds = url.replace('http://', 'http://me:pw@');
    const result = await checkHealth(
      options(withCreds, { consecutiveSuccesses: 1, headers: parseHeaders('X-Api-Key: k-123456') }),
    );
    expect(result.healthy).toBe(true);
    expect(result.attempts).toBe(1);
  });

  it('fails fast after having been healthy when failure-threshold is set', async () => {
    const { url } = await serve((n) => (n <= 2 ? { body: {} } : { status: 500 }));
    const result = await checkHealth(
      options(url, { consecutiveSuccesses: 100, failureThreshold: 3, timeoutMs: 60_000 }),
    );
    expect(result.healthy).toBe(false);
    expect(result.timedOut).toBeUndefined();
    expect(result.attempts).toBe(5);
    expect(result.lastReason).toMatch(/3 failed attempt\(s\) in a row .*HTTP 500/);
  });

  it('stops when aborted between attempts and reports cancelled', async () => {
    const { url } = await serve(() => ({ status: 503 }));
    const controller = new AbortController();
    const result = await checkHealth(
      options(url, {
        signal: controller.signal,
        onAttempt: (a) => a.n === 2 && controller.abort(new Error('cancelled by SIGTERM')),
      }),
    );
    expect(result.healthy).toBe(false);
    expect(result.cancelled).toBe(true);
    expect(result.attempts).toBe(2);
    expect(result.lastReason).toMatch(/^cancelled \(cancelled by SIGTERM\) after 2 attempt/);
  });

  it('stops when aborted mid-request', async () => {
    let hung = false;
    const { url } = await serve(() => {
      hung = true;
      return { hang: true };
    });
    const controller = new AbortController();
    const poll = setInterval(() => hung && controller.abort(), 10);
    const result = await checkHealth(options(url, { signal: controller.signal, requestTimeoutMs: 60_000 }));
    clearInterval(poll);
    expect(result.cancelled).toBe(true);
    expect(result.history).toHaveLength(0);
  });

  it('rejects bad options naming the input', async () => {
    await expect(checkHealth(options('not a url'))).rejects.toThrow(/Input 'url'/);
    await expect(checkHealth(options('ftp://x/'))).rejects.toThrow(/Input 'url'/);
    await expect(checkHealth(options('http://x/', { consecutiveSuccesses: 0 }))).rejects.toThrow(
      /Input 'consecutive-successes'/,
    );
    await expect(checkHealth(options('http://x/', { intervalMs: -5 }))).rejects.toThrow(/Input 'interval'/);
    await expect(checkHealth(options('http://x/', { intervalMs: 1000, maxIntervalMs: 500 }))).rejects.toThrow(
      /Input 'max-interval'/,
    );
    await expect(checkHealth(options('http://x/', { expectStatus: [] }))).rejects.toBeInstanceOf(InputError);
  });
});

describe('health-check parsers', () => {
  it('parses expect-status lists and ranges', () => {
    expect(parseExpectStatus('200')).toEqual([200]);
    expect(parseExpectStatus('200,204')).toEqual([200, 204]);
    expect(parseExpectStatus('2xx')).toHaveLength(100);
    expect(parseExpectStatus(' 200-202 301 ')).toEqual([200, 201, 202, 301]);
    expect(describeStatuses(parseExpectStatus('2xx,404'))).toBe('2xx, 404');
    for (const bad of ['', 'ok', '700', '6xx', '299-200', '20'])
      expect(() => parseExpectStatus(bad)).toThrow(/Input 'expect-status'/);
  });

  it('parses expect-json and rejects malformed conditions', () => {
    expect(parseExpectJson('status=ok')).toEqual([{ path: 'status', value: 'ok' }]);
    expect(parseExpectJson('a.b=x,y\nc=1')).toEqual([
      { path: 'a.b', value: 'x,y' },
      { path: 'c', value: '1' },
    ]);
    expect(parseExpectJson('msg=a=b')).toEqual([{ path: 'msg', value: 'a=b' }]);
    for (const bad of ['status', '=ok', 'a..b=1', '.a=1'])
      expect(() => parseExpectJson(bad)).toThrow(/Input 'expect-json'/);
  });

  it('parses headers without echoing a bad line', () => {
    expect(parseHeaders('Authorization: Bearer abc\n\nX-Env:  prod ')).toEqual({
      Authorization: 'Bearer abc',
      'X-Env': 'prod',
    });
    expect(() => parseHeaders('Bearer s3cr3t-value')).toThrow(/line 1 is not a 'Name: value' header/);
    try {
      parseHeaders('Bearer s3cr3t-value');
    } catch (err) {
      expect(String(err)).not.toContain('s3cr3t');
    }
  });

  it('finds the header values to mask', () => {
    const secrets = secretHeaderValues({
      Authorization: 'Bearer tok-abcdef',
      Cookie: 'sid=1',
      'X-Api-Key': 'k',
      Accept: 'application/json',
      'X-Custom': 'v',
    });
    expect(secrets).toEqual(expect.arrayContaining(['Bearer tok-abcdef', 'tok-abcdef', 'sid=1', 'k', 'v']));
    expect(secrets).not.toContain('application/json');
    expect(secretUrlParts('https://u:p%40ss@h/x?token=abc&page=2')).toEqual(['p@ss', 'abc']);
  });

  it('matches versions as whole tokens and short/full shas', () => {
    expect(versionMatches('{"v":"v10"}', 'v1')).toBe(false);
    expect(versionMatches('version v1 live', 'v1')).toBe(true);
    expect(versionMatches('1.2.30', '1.2.3')).toBe(false);
    expect(versionMatches('sha=abcdef1', 'abcdef1234567890')).toBe(true);
    expect(versionMatches('sha=abcdef1234567890', 'abcdef1')).toBe(true);
    expect(versionMatches('sha=abcdef0', 'abcdef1234')).toBe(false);
  });

  it('computes a nearest-rank p95', () => {
    expect(percentile([], 95)).toBeUndefined();
    expect(percentile([5], 95)).toBe(5);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        95,
      ),
    ).toBe(95);
  });
});

/** Gaps (ms) between the starts of consecutive attempts. */
const gaps = (attempts: HealthAttempt[]) => attempts.slice(1).map((a, i) => a.at - (attempts[i] as HealthAttempt).at);
// Date.now() has 1 ms resolution and timers may round: allow a few ms under a lower bound.
const SLACK = 5;

describe('poll schedule', () => {
  const fail = { ok: false, status: 503 };
  const ok = { ok: true, status: 200 };

  it('polls fast until the first healthy answer: 100 ms, growing to 250 ms, then interval for the confirmations', () => {
    const s = new PollSchedule({ intervalMs: 1000, maxIntervalMs: 10_000, random: () => 1 });
    const fast = Array.from({ length: 6 }, (_, i) => s.next(fail, i * 200));
    expect(fast).toEqual([FAST_FIRST_DELAY_MS, 150, 225, FAST_MAX_DELAY_MS, FAST_MAX_DELAY_MS, FAST_MAX_DELAY_MS]);
    expect(s.next(ok, 2000)).toBe(1000);
    expect(s.next(ok, 3000)).toBe(1000);
    // Healthy once: a failure now retries at interval (jittered down to half), not fast.
    expect(s.next(fail, 4000)).toBe(1000);
    expect(new PollSchedule({ intervalMs: 1000, maxIntervalMs: 10_000, random: () => 0 }).next(ok, 0)).toBe(1000);
    const jittered = new PollSchedule({ intervalMs: 1000, maxIntervalMs: 10_000, random: () => 0 });
    jittered.next(ok, 0);
    expect(jittered.next(fail, 1000)).toBe(500);
  });

  it('is never slower than interval in the fast phase', () => {
    const s = new PollSchedule({ intervalMs: 120, maxIntervalMs: 1000 });
    expect(Array.from({ length: 4 }, (_, i) => s.next(fail, i * 100))).toEqual([100, 120, 120, 120]);
    const tiny = new PollSchedule({ intervalMs: 10, maxIntervalMs: 40 });
    expect(tiny.next(fail, 0)).toBe(10);
  });

  it('bounds the fast phase to ≤ 6 requests in the first second, ≤ 4 in any later one and ~125 in all', () => {
    // A service answering errors instantly: attempts start exactly `delay` apart.
    const s = new PollSchedule({ intervalMs: 1000, maxIntervalMs: 10_000, random: () => 1 });
    const starts: number[] = [];
    for (let t = 0; t < QUICK_PHASE_MS; t += s.next(fail, t)) starts.push(t);
    expect(starts.length).toBeLessThanOrEqual(125);
    for (let from = 0; from < QUICK_PHASE_MS; from += 50) {
      const inWindow = starts.filter((t) => t >= from && t < from + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(from === 0 ? 6 : from < 500 ? 5 : 4);
    }
    // Then it backs off: interval, 2 s, 4 s, 8 s, max-interval.
    expect([1, 2, 3, 4, 5].map((i) => s.next(fail, QUICK_PHASE_MS + i * 1000))).toEqual([
      1000, 2000, 4000, 8000, 10_000,
    ]);
  });

  it('a 429 ends the fast phase for good', () => {
    const s = new PollSchedule({ intervalMs: 1000, maxIntervalMs: 10_000, random: () => 1 });
    expect(s.next(fail, 0)).toBe(100);
    expect(s.next({ ok: false, status: 429 }, 100)).toBe(1000);
    expect(s.next(fail, 1200)).toBe(1000);
  });

  it('against a server: fast attempts until healthy, then confirmations at interval', async () => {
    const { url } = await serve((n) => (n <= 4 ? { status: 503 } : { body: { status: 'ok' } }));
    const result = await checkHealth(
      options(url, { intervalMs: 1000, maxIntervalMs: 10_000, consecutiveSuccesses: 3 }),
    );
    expect(result.healthy).toBe(true);
    expect(result.history.map((a) => a.ok)).toEqual([false, false, false, false, true, true, true]);
    const g = gaps(result.history);
    // Before the first healthy answer: ≥ 100 ms apart, and well under the 1 s interval (expected 100–250 ms).
    for (const gap of g.slice(0, 4)) {
      expect(gap).toBeGreaterThanOrEqual(FAST_FIRST_DELAY_MS - SLACK);
      expect(gap).toBeLessThan(800);
    }
    // The confirmations: a whole interval apart.
    for (const gap of g.slice(4)) expect(gap).toBeGreaterThanOrEqual(1000 - SLACK);
  });

  it('against a server answering errors instantly: attempts ≥ 100 ms apart, no more than the schedule allows', async () => {
    const { url, requests } = await serve(() => ({ status: 500, body: { error: 'boom' } }));
    const result = await checkHealth(options(url, { intervalMs: 1000, maxIntervalMs: 10_000, timeoutMs: 1500 }));
    expect(result.timedOut).toBe(true);
    for (const gap of gaps(result.history)) expect(gap).toBeGreaterThanOrEqual(FAST_FIRST_DELAY_MS - SLACK);
    // Within 1.5 s the schedule has room for 1 + 3 ramp-up gaps (475 ms) + 5 gaps of 250 ms: 9 requests at most.
    expect(requests()).toBeLessThanOrEqual(9);
    expect(requests()).toBe(result.attempts);
  });

  it('against a server answering 429: no fast polling', async () => {
    const { url } = await serve(() => ({ status: 429 }));
    const result = await checkHealth(options(url, { intervalMs: 400, maxIntervalMs: 1000, timeoutMs: 1300 }));
    expect(result.attempts).toBeGreaterThanOrEqual(2);
    // Jittered interval: at least half of it.
    for (const gap of gaps(result.history)) expect(gap).toBeGreaterThanOrEqual(200 - SLACK);
  });

  it('respects the overall deadline: a confirmation due after it is not waited for', async () => {
    const { url, requests } = await serve(() => ({ body: { status: 'ok' } }));
    const started = Date.now();
    const result = await checkHealth(options(url, { intervalMs: 20_000, maxIntervalMs: 20_000, timeoutMs: 800 }));
    expect(result.healthy).toBe(false);
    expect(result.timedOut).toBe(true);
    expect(requests()).toBe(1);
    expect(result.lastReason).toMatch(/^not healthy within 800ms \(1 attempt\(s\), 1 of 3 healthy in a row\)/);
    // Waiting out the interval would take 20 s.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('respects the overall deadline in the fast phase: no attempt starts after it', async () => {
    const { url } = await serve(() => ({ status: 503 }));
    const started = Date.now();
    const result = await checkHealth(options(url, { intervalMs: 1000, maxIntervalMs: 10_000, timeoutMs: 700 }));
    expect(result.timedOut).toBe(true);
    expect(result.attempts).toBeGreaterThanOrEqual(1);
    for (const a of result.history) expect(a.at).toBeLessThanOrEqual(started + 700);
  });
});

describe('failing checks in a health body', () => {
  it('names failing checks of a map of status words', () => {
    const body = { status: 'degraded', checks: { redis: 'down', db: 'ok', queue: 'UP', cache: false, search: true } };
    expect(failingChecks(body)).toEqual([
      { name: 'redis', status: 'down', path: 'checks.redis' },
      { name: 'cache', status: 'false', path: 'checks.cache' },
    ]);
    expect(describeFailingChecks(body)).toBe('checks failing: redis=down, cache=false');
    // A check an expect-json condition already names is not repeated.
    expect(describeFailingChecks(body, { except: 'checks.redis' })).toBe('checks failing: cache=false');
    expect(
      describeFailingChecks({ checks: { redis: { status: 'down' } } }, { except: 'checks.redis.status' }),
    ).toBeUndefined();
  });

  it('reads {name: {status}} maps and [{name, status}] arrays (MicroProfile), and draft-inadarei arrays per check', () => {
    expect(
      describeFailingChecks({
        checks: { db: { status: 'ok', latencyMs: 3 }, redis: { status: 'down', error: 'ECONNREFUSED' } },
      }),
    ).toBe('checks failing: redis=down');
    expect(
      describeFailingChecks({
        status: 'DOWN',
        checks: [{ name: 'db', status: 'UP' }, { name: 'kafka', status: 'DOWN' }, { status: 'DOWN' }],
      }),
    ).toBe('checks failing: kafka=DOWN, #2=DOWN');
    expect(
      failingChecks({
        checks: [
          { name: 'db', status: 'UP' },
          { name: 'kafka', status: 'DOWN' },
        ],
      })[0]?.path,
    ).toBe('checks.1');
    expect(
      describeFailingChecks({
        status: 'fail',
        checks: { 'redis:ping': [{ status: 'pass' }, { status: 'fail' }], 'db:ping': [{ status: 'pass' }] },
      }),
    ).toBe('checks failing: redis:ping=fail');
    expect(describeFailingChecks({ checks: { db: { healthy: false }, cache: { ok: true } } })).toBe(
      'checks failing: db',
    );
  });

  it('reads @nestjs/terminus (info/error/details) once per indicator', () => {
    const body = {
      status: 'error',
      info: { database: { status: 'up' } },
      error: { redis: { status: 'down', message: 'Could not connect' } },
      details: { database: { status: 'up' }, redis: { status: 'down', message: 'Could not connect' } },
    };
    expect(describeFailingChecks(body)).toBe('checks failing: redis=down');
  });

  it('reads Spring Boot Actuator components, naming the failing part of a composite', () => {
    const body = {
      status: 'DOWN',
      components: {
        db: {
          status: 'DOWN',
          components: { primary: { status: 'DOWN', details: { error: 'x' } }, replica: { status: 'UP' } },
        },
        diskSpace: { status: 'UP', details: { total: 1, free: 1 } },
        mail: { status: 'OUT_OF_SERVICE', details: { location: 'smtp.example.com' } },
      },
    };
    expect(describeFailingChecks(body)).toBe('checks failing: db.primary=DOWN, mail=OUT_OF_SERVICE');
    expect(failingChecks(body)[0]?.path).toBe('components.db.components.primary');
    // Spring Boot 2.0/2.1 said `details`; an indicator's own details are data, not sub-checks.
    expect(
      describeFailingChecks({
        status: 'DOWN',
        details: { db: { status: 'DOWN', details: { database: 'PostgreSQL' } } },
      }),
    ).toBe('checks failing: db=DOWN');
  });

  it('names nothing when the body lists no failing checks', () => {
    expect(describeFailingChecks({ status: 'ok', checks: { db: 'ok' } })).toBeUndefined();
    expect(describeFailingChecks({ error: 'db down' })).toBeUndefined();
    expect(
      describeFailingChecks({ status: 'error', error: { message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' } }),
    ).toBeUndefined();
    expect(describeFailingChecks('down')).toBeUndefined();
    expect(describeFailingChecks(undefined)).toBeUndefined();
    expect(describeFailingChecks([{ name: 'db', status: 'down' }])).toBeUndefined();
  });

  it('never shows free-text values, keeps to one bounded line', () => {
    const conn = 'postgres://app:hunter2@db.internal:5432/app';
    expect(describeFailingChecks({ checks: { db: { status: `could not connect to ${conn}` } } })).toBe(
      'checks failing: db',
    );
    // A free-text string in a map is not taken for a status at all.
    expect(describeFailingChecks({ checks: { db: `connect failed: ${conn}`, redis: 'down' } })).toBe(
      'checks failing: redis=down',
    );
    const many = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`svc${i}`, 'down']));
    expect(describeFailingChecks({ checks: many })).toBe(
      'checks failing: svc0=down, svc1=down, svc2=down, svc3=down (+6 more)',
    );
    const odd = describeFailingChecks({ checks: { [`a\nb\u0007${'x'.repeat(100)}`]: 'down' } }) as string;
    expect(odd).not.toMatch(/\p{Cc}/u);
    expect(odd.length).toBeLessThan(80);
  });

  it('a degraded 503 reports the failing checks, from the first answer (not "not serving yet")', async () => {
    const { url } = await serve((n) =>
      n <= 2
        ? { status: 503, body: { status: 'degraded', checks: { redis: 'down', db: 'ok' } } }
        : { body: { status: 'ok', checks: { redis: 'ok', db: 'ok' } } },
    );
    const result = await checkHealth(options(url, { consecutiveSuccesses: 1 }));
    expect(result.healthy).toBe(true);
    expect(result.history[0]?.kind).toBe('status');
    expect(result.history[0]?.reason).toBe('HTTP 503: checks failing: redis=down');
  });

  it('a degraded body failing expect-json says which check failed; the timeout reason carries it', async () => {
    const { url } = await serve(() => ({
      body: { status: 'degraded', checks: { redis: { status: 'down' }, db: { status: 'ok' } } },
    }));
    const result = await checkHealth(options(url, { expectJson: parseExpectJson('status=ok'), timeoutMs: 500 }));
    expect(result.healthy).toBe(false);
    expect(result.history[0]?.reason).toBe(
      'expect-json: status is "degraded", expected "ok"; checks failing: redis=down',
    );
    expect(result.lastReason).toMatch(
      /; last: expect-json: status is "degraded", expected "ok"; checks failing: redis=down$/,
    );
  });

  it('a check name echoing a request secret is masked, also when the name is long enough to be shortened', async () => {
    // 52 characters: longer than a shown name (40), so masking must happen before the cut.
    const token = 'tok_a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4';
    const { url } = await serve((_n, req) => ({
      status: 503,
      body: { checks: { [`auth ${String(req.headers['x-api-key'])}`]: 'down' } },
    }));
    const result = await checkHealth(options(url, { headers: { 'X-Api-Key': token }, timeoutMs: 400 }));
    expect(result.history[0]?.reason).toBe('HTTP 503: checks failing: auth ***=down');
    expect(JSON.stringify(result)).not.toContain(token);
  });
});
