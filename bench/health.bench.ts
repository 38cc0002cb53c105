// Health verdict latency: how long after a real local server turns healthy (or unhealthy) the health-check core gives
// its verdict. Prints `BENCH <name> <value> <unit>` lines; asserts nothing.
//
// Verdict latency = time until the next attempt sees the change (at most the current polling interval, which backs off
// from `interval` to `max-interval` while failing) + the confirmations (consecutive-successes − 1 intervals).
// "tuned" = interval 100ms, max-interval 250ms, consecutive-successes 3 (goal ≤ 0.5 s);
// "defaults" = the action's defaults (interval 1s, max-interval 10s, consecutive-successes 3), measured once while the
// check is still in its 30 s quick phase (the usual case after a deploy) and once after it has backed off (a service
// that took 45 s to come up).
// Turning unhealthy is only a verdict with failure-threshold (fail fast after having been healthy); set to 1 here.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkHealth, type HealthCheckOptions } from '../src/health/index.js';

let healthy = false;
let flippedAt = 0;
const server = http.createServer((_req, res) => {
  res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ status: healthy ? 'ok' : 'starting' }));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;

const base = (extra: Partial<HealthCheckOptions>): HealthCheckOptions => ({
  url,
  expectStatus: [200],
  expectJson: [{ path: 'status', value: 'ok' }],
  consecutiveSuccesses: 3,
  intervalMs: 100,
  maxIntervalMs: 250,
  timeoutMs: 120_000,
  headers: {},
  ...extra,
});
const tuned = { intervalMs: 100, maxIntervalMs: 250 };
const defaults = { intervalMs: 1000, maxIntervalMs: 10_000 };

/** Flip the server after `flipAfterMs` of polling, return ms from the flip to the verdict. */
async function verdictAfterHealthy(settings: Partial<HealthCheckOptions>, flipAfterMs: number): Promise<number> {
  healthy = false;
  const timer = setTimeout(() => {
    healthy = true;
    flippedAt = performance.now();
  }, flipAfterMs);
  const result = await checkHealth(base(settings));
  clearTimeout(timer);
  if (!result.healthy) throw new Error(`expected healthy, got: ${result.lastReason}`);
  return performance.now() - flippedAt;
}

async function verdictAfterUnhealthy(settings: Partial<HealthCheckOptions>, flipAfterMs: number): Promise<number> {
  healthy = true;
  const timer = setTimeout(() => {
    healthy = false;
    flippedAt = performance.now();
  }, flipAfterMs);
  // A streak that cannot complete keeps the check watching; failure-threshold 1 turns the first failure into the verdict.
  const result = await checkHealth(base({ ...settings, consecutiveSuccesses: 1_000_000, failureThreshold: 1 }));
  clearTimeout(timer);
  if (result.healthy || result.timedOut) throw new Error(`expected a fail-fast verdict, got: ${result.lastReason}`);
  return performance.now() - flippedAt;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const report = (name: string, value: number) => console.log(`BENCH ${name} ${Math.round(value)} ms`);

const RUNS = 7;
const afterHealthy: number[] = [];
const afterUnhealthy: number[] = [];
for (let i = 0; i < RUNS; i++) {
  // Vary the flip point so it lands at different phases of the polling schedule.
  afterHealthy.push(await verdictAfterHealthy(tuned, 700 + i * 137));
  afterUnhealthy.push(await verdictAfterUnhealthy(tuned, 300 + i * 137));
}
report('health.verdict-after-healthy.tuned.median', median(afterHealthy));
report('health.verdict-after-healthy.tuned.max', Math.max(...afterHealthy));
report('health.verdict-after-unhealthy.tuned.median', median(afterUnhealthy));
report('health.verdict-after-unhealthy.tuned.max', Math.max(...afterUnhealthy));
report('health.verdict-after-healthy.defaults', await verdictAfterHealthy(defaults, 6000));
report('health.verdict-after-healthy.defaults-after-45s', await verdictAfterHealthy(defaults, 45_000));
report('health.verdict-after-unhealthy.defaults', await verdictAfterUnhealthy(defaults, 2500));

server.close();
