// Health verdict latency: how long after a local server turns healthy (or unhealthy) the health-check core gives its
// verdict, side by side with the peer Jtalk/url-health-check-action. Prints `BENCH <name> <value> <unit>` lines;
// asserts nothing. Loopback only; every loop and child process is bounded.
//
// Our verdict latency = time until the next attempt sees the change + the confirmations (consecutive-successes − 1
// intervals). Before the first healthy answer attempts come 100–250 ms apart (src/health/schedule.ts), so the first
// part is ≤ ~¼ s whatever `interval` is; the confirmations are the stability window the user asked for.
//
// The peer (action.yml + curl.js at Jtalk/url-health-check-action@f3f7bd7) runs, once per URL,
//     curl --fail -sv --retry <max-attempts> --retry-delay <retry-delay s> --retry-connrefused <url>
// and succeeds at curl's first successful answer. Its defaults are max-attempts 1 (no retry at all) and retry-delay 3s;
// here max-attempts is 100 so it keeps retrying through the unhealthy phase. curl retries a 503 as a transient error at
// exactly --retry-delay apart (a given delay turns off its exponential back-off; a Retry-After header would override
// it, so the server sends none) — https://everything.curl.dev/usingcurl/downloads/retry. We run that exact command line
// (needs `curl` on PATH) and time it from the flip to curl's exit; the peer's own Node start-up and exit are not
// counted, which favours the peer.
//
// Contenders (all medians over RUNS flips spread over a 3 s window, so they land at every phase of a 1 s or 3 s cycle):
//   ours.defaults        the health-check action's defaults: interval 1s, max-interval 10s, consecutive-successes 3
//   ours.first-success   the same with consecutive-successes 1: like for like with the peer's first success
//   peer.retry-delay-3s  the peer with its default retry-delay;  peer.retry-delay-1s  with 1s
// Also (figures the README has tracked): "tuned" = interval 100ms, max-interval 250ms, 3 in a row, expect-json
// status=ok; the defaults once the check has backed off (a service that took 45 s to come up); and the time to a
// fail-fast verdict after turning unhealthy (failure-threshold 1).
import { spawn, spawnSync } from 'node:child_process';
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

// The health-check action's input defaults (actions/health-check/action.yml).
const actionDefaults: HealthCheckOptions = {
  url,
  expectStatus: [200],
  expectJson: [],
  consecutiveSuccesses: 3,
  intervalMs: 1000,
  maxIntervalMs: 10_000,
  timeoutMs: 5 * 60_000,
  requestTimeoutMs: 10_000,
  headers: {},
};
const tuned: Partial<HealthCheckOptions> = {
  intervalMs: 100,
  maxIntervalMs: 250,
  expectJson: [{ path: 'status', value: 'ok' }],
};

/** Turn the server healthy (or unhealthy) `afterMs` from now; returns a cancel function. */
function flipAfter(to: boolean, afterMs: number): () => void {
  healthy = !to;
  flippedAt = 0;
  const timer = setTimeout(() => {
    healthy = to;
    flippedAt = performance.now();
  }, afterMs);
  return () => clearTimeout(timer);
}

interface Measure {
  /** Flip → verdict. */
  verdictMs: number;
  /** Flip → first healthy answer seen. */
  detectMs: number;
}

async function oursAfterHealthy(settings: Partial<HealthCheckOptions>, flipMs: number): Promise<Measure> {
  const cancel = flipAfter(true, flipMs);
  let firstOk = 0;
  const result = await checkHealth({
    ...actionDefaults,
    ...settings,
    onAttempt: (a) => void (a.ok && !firstOk && (firstOk = performance.now())),
  });
  const end = performance.now();
  cancel();
  if (!result.healthy || !flippedAt) throw new Error(`expected healthy after the flip, got: ${result.lastReason}`);
  return { verdictMs: end - flippedAt, detectMs: firstOk - flippedAt };
}

async function oursAfterUnhealthy(settings: Partial<HealthCheckOptions>, flipMs: number): Promise<number> {
  const cancel = flipAfter(false, flipMs);
  // A streak that cannot complete keeps the check watching; failure-threshold 1 turns the first failure into the verdict.
  const result = await checkHealth({
    ...actionDefaults,
    ...settings,
    consecutiveSuccesses: 1_000_000,
    failureThreshold: 1,
  });
  const end = performance.now();
  cancel();
  if (result.healthy || result.timedOut || !flippedAt)
    throw new Error(`expected a fail-fast verdict, got: ${result.lastReason}`);
  return end - flippedAt;
}

const PEER_MAX_ATTEMPTS = 100;
const PEER_KILL_MS = 60_000;

/** The peer's curl command line, from flip to curl's exit. */
async function peerAfterHealthy(retryDelaySeconds: number, flipMs: number): Promise<number> {
  const args = [
    '--fail',
    '-sv',
    '--retry',
    String(PEER_MAX_ATTEMPTS),
    '--retry-delay',
    String(retryDelaySeconds),
    '--retry-connrefused',
    url,
  ];
  const cancel = flipAfter(true, flipMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('curl', args, { stdio: 'ignore' });
    const killer = setTimeout(() => child.kill('SIGKILL'), PEER_KILL_MS);
    child.on('error', reject);
    child.on('exit', (c) => {
      clearTimeout(killer);
      resolve(c);
    });
  });
  const end = performance.now();
  cancel();
  if (code !== 0 || !flippedAt)
    throw new Error(`peer curl ended with exit code ${code}${flippedAt ? '' : ' before the flip'}`);
  return end - flippedAt;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const report = (name: string, value: number, unit = 'ms') =>
  console.log(`BENCH ${name} ${unit === 'ms' ? Math.round(value) : value.toFixed(2)} ${unit}`);

const RUNS = 7;
// Flip moments spread evenly over a 3 s window (after ≥ 1 s of polling), the same for every contender.
const flips = Array.from({ length: RUNS }, (_, i) => Math.round(1000 + ((i + 0.5) * 3000) / RUNS));

async function series<T>(measure: (flipMs: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (const flip of flips) out.push(await measure(flip));
  return out;
}

const defaults = await series((f) => oursAfterHealthy({}, f));
const firstSuccess = await series((f) => oursAfterHealthy({ consecutiveSuccesses: 1 }, f));
report('health.ours.defaults.verdict.median', median(defaults.map((m) => m.verdictMs)));
report('health.ours.defaults.first-healthy-seen.median', median(defaults.map((m) => m.detectMs)));
report('health.ours.first-success.verdict.median', median(firstSuccess.map((m) => m.verdictMs)));
report('health.ours.first-success.verdict.max', Math.max(...firstSuccess.map((m) => m.verdictMs)));

const hasCurl = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;
if (hasCurl) {
  const peer3 = median(await series((f) => peerAfterHealthy(3, f)));
  const peer1 = median(await series((f) => peerAfterHealthy(1, f)));
  const ours1 = median(firstSuccess.map((m) => m.verdictMs));
  report('health.peer.retry-delay-3s.verdict.median', peer3);
  report('health.peer.retry-delay-1s.verdict.median', peer1);
  report('health.ratio.first-success.ours-vs-peer-3s', ours1 / peer3, 'x');
  report('health.ratio.first-success.ours-vs-peer-1s', ours1 / peer1, 'x');
  report('health.ratio.ours-defaults-vs-peer-3s', median(defaults.map((m) => m.verdictMs)) / peer3, 'x');
} else {
  console.log('curl is not on PATH: skipping the peer (Jtalk/url-health-check-action runs curl)');
}

const tunedHealthy = await series((f) => oursAfterHealthy(tuned, f));
const tunedUnhealthy = await series((f) => oursAfterUnhealthy(tuned, f));
report('health.verdict-after-healthy.tuned.median', median(tunedHealthy.map((m) => m.verdictMs)));
report('health.verdict-after-healthy.tuned.max', Math.max(...tunedHealthy.map((m) => m.verdictMs)));
report('health.verdict-after-unhealthy.tuned.median', median(tunedUnhealthy));
report('health.verdict-after-unhealthy.tuned.max', Math.max(...tunedUnhealthy));
report('health.verdict-after-unhealthy.defaults', await oursAfterUnhealthy({}, 2500));
// One run: by 45 s the check has left the quick phase and backs off (interval 1s … max-interval 10s).
const late = await oursAfterHealthy({}, 45_000);
report('health.verdict-after-healthy.defaults-after-45s', late.verdictMs);

server.close();
