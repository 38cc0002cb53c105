#!/usr/bin/env node
// A tiny, dependency-free stand-in for a user's app, started by the Railway emulator for each deployment that
// reaches DEPLOYING (also usable on its own: `PORT=3000 node test/railway-emulator/app.mjs`).
//   GET /health  → {status, deploymentId, commit, version}; status code per behaviour
//   GET /version → {deploymentId, commit, version}
//   GET /        → plain text greeting
// Behaviour (env): APP_HEALTHY=0 (unhealthy), APP_HEALTH_STATUS=<code>, APP_FLAP_EVERY=<n> (every nth /health
// fails), APP_START_DELAY_MS=<ms> (slow boot), APP_VERSION, APP_CRASH_ON_START=1 (exit 1 at start).
// With APP_CONTROL_STDIN=1 it reads JSON behaviour updates line by line from stdin and exits when stdin closes,
// so a test runner that dies without cleanup cannot leave the process behind.
import http from 'node:http';

const env = process.env;
const deploymentId = env.RAILWAY_DEPLOYMENT_ID ?? '';
const commit = env.RAILWAY_GIT_COMMIT_SHA || env.APP_VERSION || '';

function num(value) {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

const behaviour = {
  healthy: !['0', 'false', 'no'].includes((env.APP_HEALTHY ?? '').toLowerCase()),
  healthStatus: num(env.APP_HEALTH_STATUS),
  flapEvery: num(env.APP_FLAP_EVERY),
  version: env.APP_VERSION ?? '',
};
let healthRequests = 0;

function log(message) {
  process.stdout.write(`${message}\n`);
}

function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function health(res) {
  healthRequests += 1;
  const flapped =
    behaviour.flapEvery !== undefined && behaviour.flapEvery > 0 && healthRequests % behaviour.flapEvery === 0;
  const ok = behaviour.healthy && !flapped;
  const status = flapped ? 503 : (behaviour.healthStatus ?? (ok ? 200 : 503));
  json(res, status, {
    status: ok && status < 400 ? 'ok' : 'error',
    deploymentId,
    commit: env.RAILWAY_GIT_COMMIT_SHA || behaviour.version || commit,
    version: behaviour.version,
    ...(env.APP_IMAGE ? { image: env.APP_IMAGE } : {}),
  });
  log(`GET /health ${status}`);
}

const server = http.createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/health') return health(res);
  if (req.method === 'GET' && path === '/version') {
    return json(res, 200, {
      deploymentId,
      commit: env.RAILWAY_GIT_COMMIT_SHA || behaviour.version || commit,
      version: behaviour.version,
    });
  }
  if (req.method === 'GET' && path === '/') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end(`hello from deployment ${deploymentId}\n`);
  }
  json(res, 404, { error: 'not found', path });
});

function shutdown(signal) {
  log(`${signal} received, shutting down`);
  server.close(() => process.exit(0));
  // Keep-alive sockets would hold close() open; the platform would SIGKILL soon anyway.
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

if (env.APP_CONTROL_STDIN === '1') {
  let buffered = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        const update = JSON.parse(line);
        if (typeof update.healthy === 'boolean') behaviour.healthy = update.healthy;
        if ('healthStatus' in update) behaviour.healthStatus = num(update.healthStatus);
        if ('flapEvery' in update) behaviour.flapEvery = num(update.flapEvery);
        if (typeof update.version === 'string') behaviour.version = update.version;
        log(`behaviour updated: ${line}`);
      } catch {
        log(`ignored control line: ${line}`);
      }
    }
  });
  process.stdin.on('end', () => process.exit(0));
}

log(`Starting app (deployment ${deploymentId || 'local'}, node ${process.version})`);
if (env.APP_CRASH_ON_START === '1') {
  process.stderr.write(
    "Error: Cannot find module '/app/dist/server.js'\n    at Module._resolveFilename (node:internal/modules/cjs/loader:1145:15)\n",
  );
  process.exit(1);
}

const startDelayMs = num(env.APP_START_DELAY_MS) ?? 0;
setTimeout(() => {
  server.listen(num(env.PORT) ?? 0, '127.0.0.1', () => {
    const address = server.address();
    log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : env.PORT}`);
  });
}, startDelayMs);
