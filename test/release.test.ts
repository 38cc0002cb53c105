// The bundled root action (deploy → verify → roll back) through the harness, against the Railway emulator with
// real app processes behind /health. The headline test: a bad release is detected, rolled back, and the old
// version is verified serving again.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { RailwayClient } from '../src/railway/client.js';
import { liveStatusProblem, verifyDeployment, type Release } from '../src/release/release.js';
import { cell, renderReleaseSummary, renderTimeline } from '../src/release/summary.js';
import { runAction, startAction, type ActionResult } from './harness/index.js';
import { useEmulatedProject } from './helpers/emulator.js';
import type { RailwayEmulator } from './railway-emulator/index.js';

let emu: RailwayEmulator;
let token: string;
let serviceCounter = 0;

const railway = useEmulatedProject();

beforeAll(() => {
  ({ emu, token } = railway);
});

/**
 * A fresh service per test (tests stay independent) with a verified-good v1 serving. GitHub autodeploy is off: this
 * pipeline is the only deployer (release-faults.test.ts covers adopting Railway's own deployment).
 */
async function serviceWithGoodRelease(
  opts: { domain?: boolean; app?: false } = {},
): Promise<{ id: string; name: string; good: string; url: string }> {
  const svc = await railway.goodService(
    { app: opts.app ?? { version: 'v1' }, domain: opts.domain ?? true },
    { app: { version: 'v1' } },
  );
  // The emulator's proxy URL even with domain: false, as before (goodService's own url is '' then).
  return { id: svc.id, name: svc.name, good: svc.deploymentId, url: emu.serviceUrl(svc.id) };
}

const base = (service: string, url: string) => ({
  'railway-token': token,
  'api-url': emu.url,
  service,
  timeout: '2m',
  'health-url': `${url}/health`,
  'consecutive-successes': '3',
  'health-interval': '200ms',
  'health-timeout': '8s',
  'verify-window': '1500ms',
});

const mutations = () => emu.requests.filter((r) => /^\s*mutation\b/.test(r.query));

async function healthOf(url: string): Promise<{ deploymentId: string; version: string; status: string }> {
  const res = await fetch(`${url}/health`);
  return (await res.json()) as { deploymentId: string; version: string; status: string };
}

function expectNoToken(result: ActionResult): void {
  expect(result.allText).not.toContain(token);
}

describe('root action: deploy → verify → roll back', () => {
  it('a good release is deployed and verified (the NEW deployment id answers)', async () => {
    const svc = await serviceWithGoodRelease();
    emu.scriptDeployment(svc.id, { app: { version: 'v2' } });
    const result = await runAction({ action: '.', inputs: base(svc.name, svc.url) });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    const id = result.outputs['deployment-id'] ?? '';
    expect(result.outputs).toMatchObject({
      result: 'deployed',
      status: 'SUCCESS',
      healthy: 'true',
      'rolled-back': 'false',
      'needs-human': 'false',
    });
    expect(result.outputs['previous-deployment-id']).toBe(svc.good);
    expect(result.outputs['production-deployment-id']).toBe(id);
    expect((await healthOf(svc.url)).deploymentId).toBe(id);
    expect(result.summary).toMatch(/Deployed and verified/);
    expect(result.summary).toMatch(/verify healthy/);
    expect(
      mutations().some(
        (m) => m.operationName === 'RollbackDeployment' && (m.variables as { id: string }).id === svc.good,
      ),
    ).toBe(false);
    expect(result.state['railway-phase']).toBe('done');
    expectNoToken(result);
  });

  it('BAD RELEASE → detected by the health check → rolled back → old version verified', async () => {
    const svc = await serviceWithGoodRelease();
    // Railway says SUCCESS (no platform healthcheck), but the new version answers 503.
    emu.scriptDeployment(svc.id, { app: { version: 'v2', healthy: false } });
    const result = await runAction({ action: '.', inputs: base(svc.name, svc.url) });
    expect(result.exitCode).toBe(1);
    const bad = result.outputs['deployment-id'] ?? '';
    expect(emu.deployment(bad)?.status).not.toBe('SUCCESS');
    expect(result.outputs).toMatchObject({
      result: 'rolled-back',
      status: 'UNHEALTHY',
      healthy: 'false',
      'rolled-back': 'true',
    });
    const json = JSON.parse(result.outputs.deployments ?? '[]') as Array<Record<string, unknown>>;
    expect(json[0]).toMatchObject({
      deploymentId: bad,
      rollbackTargetId: svc.good,
      healthy: false,
      rolledBackTo: svc.good,
    });
    const restored = String(json[0]?.rollbackDeploymentId);
    expect(emu.deployment(restored)).toMatchObject({
      kind: 'rollback',
      sourceDeploymentId: svc.good,
      status: 'SUCCESS',
    });
    expect(result.outputs['production-deployment-id']).toBe(restored);
    // What users reach now: the restored v1, answering healthy.
    expect(await healthOf(svc.url)).toMatchObject({ deploymentId: restored, version: 'v1', status: 'ok' });
    expect(result.summary).toMatch(/rolled back/);
    expect(result.summary).toMatch(/restored version healthy/);
    expect(result.summary).toMatch(/rollback \(rollback\)/);
    expect(result.annotations.find((a) => a.level === 'error')?.message).toMatch(/not healthy/);
    if (process.env.PRINT_SUMMARY) console.log(result.summary, result.stdout);
    expectNoToken(result);
  });

  it('the OLD version still answering does not count (expect-version = new deployment id)', async () => {
    const svc = await serviceWithGoodRelease();
    const oldBody = JSON.stringify(await healthOf(svc.url));
    let releaseDeployment = '';
    // A stale edge: while the new deployment is active it still serves the old version's answer (200, status ok).
    const edge = http.createServer((req, res) => {
      const active = emu.activeDeployment(svc.id)?.id;
      if (active && active === releaseDeployment) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(oldBody);
        return;
      }
      const upstream = http.request(`${svc.url}${req.url ?? '/'}`, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      upstream.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      upstream.end();
    });
    await new Promise<void>((resolve) => edge.listen(0, '127.0.0.1', resolve));
    const edgeUrl = `http://127.0.0.1:${(edge.address() as AddressInfo).port}`;
    try {
      emu.scriptDeployment(svc.id, { app: { version: 'v2' }, buildMs: 600 });
      const running = startAction({ action: '.', inputs: base(svc.name, edgeUrl) });
      const out = await running.waitForOutput(/deployment (\S+) started/, 30_000);
      releaseDeployment = /deployment (\S+) started/.exec(out)?.[1] ?? '';
      const result = await running.result;
      expect(result.exitCode).toBe(1);
      expect(result.outputs.result).toBe('rolled-back');
      expect(result.stdout + result.summary).toMatch(new RegExp(`${releaseDeployment}`));
      const json = JSON.parse(result.outputs.deployments ?? '[]') as Array<Record<string, unknown>>;
      expect(json[0]).toMatchObject({ deploymentId: releaseDeployment, healthy: false, rolledBackTo: svc.good });
      expect(result.summary).toMatch(/unhealthy \(HTTP: .*(version|expected)/i);
    } finally {
      edge.close();
    }
  });

  it('CRASHED after SUCCESS inside the verify window → rolled back', async () => {
    const svc = await serviceWithGoodRelease();
    emu.scriptDeployment(svc.id, { app: { version: 'v2' }, crashAfterSuccessMs: 1200 });
    const result = await runAction({
      action: '.',
      inputs: { ...base(svc.name, svc.url), 'consecutive-successes': '2', 'verify-window': '5s' },
    });
    expect(result.exitCode).toBe(1);
    expect(result.outputs.result).toBe('rolled-back');
    expect(result.summary).toMatch(/Railway reported CRASHED during the .* verification window/);
    expect(result.outputs['production-deployment-id']).toBe(emu.activeDeployment(svc.id)?.id);
    expect((await healthOf(svc.url)).version).toBe('v1');
  });

  it('a flapping health endpoint never reaches N in a row → rolled back', async () => {
    const svc = await serviceWithGoodRelease();
    emu.scriptDeployment(svc.id, { app: { version: 'v2', flapEvery: 2 } });
    const result = await runAction({ action: '.', inputs: { ...base(svc.name, svc.url), 'health-timeout': '4s' } });
    expect(result.exitCode).toBe(1);
    expect(result.outputs.result).toBe('rolled-back');
  });

  it('an expired rollback target falls back to redeploy (a rebuild) and is still verified', async () => {
    const svc = await serviceWithGoodRelease();
    emu.scriptDeployment(svc.id, { app: { version: 'v2', healthy: false } });
    const running = startAction({ action: '.', inputs: { ...base(svc.name, svc.url), 'health-timeout': '4s' } });
    await running.waitForOutput(/::group::Verify/, 30_000);
    // Image retention ran out while we were verifying: the old deployment can no longer be rolled back to.
    emu.expireImages(svc.id);
    const result = await running.result;
    expect(result.exitCode).toBe(1);
    expect(result.outputs.result).toBe('rolled-back');
    const restored = String(
      (JSON.parse(result.outputs.deployments ?? '[]') as Array<Record<string, unknown>>)[0]?.rollbackDeploymentId,
    );
    expect(emu.deployment(restored)).toMatchObject({
      kind: 'redeploy',
      sourceDeploymentId: svc.good,
      status: 'SUCCESS',
    });
    expect(result.summary).toMatch(/rollback \(redeploy\)/);
    expect(result.stdout).toMatch(/rebuilding it with deploymentRedeploy instead/);
    expect((await healthOf(svc.url)).status).toBe('ok');
  });

  it('a failed build is not rolled back: nothing went live, the previous deployment still serves', async () => {
    const svc = await serviceWithGoodRelease();
    emu.scriptDeployment(svc.id, { outcome: 'FAILED' });
    const before = mutations().filter((m) => m.operationName === 'RollbackDeployment').length;
    const result = await runAction({ action: '.', inputs: base(svc.name, svc.url) });
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toMatchObject({ result: 'failed', status: 'FAILED', 'rolled-back': 'false' });
    expect(result.outputs['production-deployment-id']).toBe(svc.good);
    expect(mutations().filter((m) => m.operationName === 'RollbackDeployment').length).toBe(before);
    expect(result.summary).toMatch(/Build logs/);
    expect(emu.activeDeployment(svc.id)?.id).toBe(svc.good);
  });

  it('NEEDS_APPROVAL is reported as such and flags needs-human (nothing rolled back)', async () => {
    const svc = await serviceWithGoodRelease();
    emu.scriptDeployment(svc.id, { outcome: 'NEEDS_APPROVAL' });
    const result = await runAction({ action: '.', inputs: { ...base(svc.name, svc.url), 'waiting-timeout': '1s' } });
    expect(result.exitCode).toBe(1);
    // Parked, and Railway documents no cancel for NEEDS_APPROVAL: it could go live unverified later → needs-human.
    expect(result.outputs).toMatchObject({
      status: 'NEEDS_APPROVAL',
      result: 'needs-human',
      'needs-human': 'true',
      'rolled-back': 'false',
    });
    expect(result.outputs['production-deployment-id']).toBe(svc.good);
    expect(result.outputs['production-deployment-id']).toBe(emu.activeDeployment(svc.id)?.id);
    expect(result.stdout + result.stderr).toMatch(/approve it in Railway/);
    expect(result.summary).toMatch(/not cancelled: it is NEEDS_APPROVAL/);
    expect(result.summary).toMatch(/needs a human/);
  });

  it('superseded mid-wait: says so and leaves the newer release alone', async () => {
    const svc = await serviceWithGoodRelease();
    emu.scriptDeployment(svc.id, { buildMs: 4000 });
    const running = startAction({ action: '.', inputs: base(svc.name, svc.url) });
    await running.waitForOutput(/BUILDING/, 30_000);
    // The newer deployment builds for a while: when the action ends, Railway still runs the previous one.
    const newer = emu.supersede(svc.id, { app: { version: 'v3' }, buildMs: 5000 });
    const result = await running.result;
    expect(result.exitCode).toBe(1);
    expect(result.outputs.result).toBe('superseded');
    expect(result.outputs['needs-human']).toBe('false');
    expect(result.outputs['production-deployment-id']).toBe(emu.activeDeployment(svc.id)?.id);
    expect(result.outputs['production-deployment-id']).toBe(svc.good);
    expect(result.summary).toMatch(new RegExp(`still on its way: ${newer}`));
    await emu.waitForStatus(newer, 'SUCCESS', 30_000);
    expect(emu.activeDeployment(svc.id)?.id).toBe(newer);
    expect(mutations().some((m) => (m.variables as { id?: string }).id === svc.good)).toBe(false);
  });

  it('breaking/destructive migrations: the failed release is NOT rolled back automatically (needs-human)', async () => {
    const svc = await serviceWithGoodRelease();
    emu.scriptDeployment(svc.id, { app: { version: 'v2', healthy: false } });
    const plan = JSON.stringify({
      risk: 'destructive',
      statements: [{ file: 'm/9.sql', line: 1, sql: 'DROP COLUMN x', risk: 'destructive' }],
    });
    const before = mutations().filter((m) => m.operationName === 'RollbackDeployment').length;
    const result = await runAction({ action: '.', inputs: { ...base(svc.name, svc.url), 'migrate-plan': plan } });
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toMatchObject({ result: 'needs-human', 'needs-human': 'true', 'rolled-back': 'false' });
    expect(mutations().filter((m) => m.operationName === 'RollbackDeployment').length).toBe(before);
  });
});

/** A worker: no public domain (nothing to health-check over HTTP), a real process, a verified-good w1 serving. */
async function workerWithGoodRelease(
  opts: { domain?: boolean } = {},
): Promise<{ id: string; name: string; good: string }> {
  const svc = await railway.goodService(
    { name: `worker${++serviceCounter}`, app: { version: 'w1' }, domain: opts.domain ?? false },
    { app: { version: 'w1' } },
  );
  return { id: svc.id, name: svc.name, good: svc.deploymentId };
}

type Entry = Record<string, unknown>;
const entries = (result: ActionResult): Entry[] => JSON.parse(result.outputs.deployments ?? '[]') as Entry[];
const entryOf = (result: ActionResult, name: string): Entry => entries(result).find((e) => e.service === name) ?? {};
/** What the emulator really runs for each service, in the given order (one line each, like the outputs). */
const runningNow = (...serviceIds: string[]): string =>
  serviceIds.map((id) => emu.activeDeployment(id)?.id ?? '').join('\n');

describe('root action: api + worker, each verified by its own rule', () => {
  it('both good → deployed: api verified over HTTP, worker by Railway status; the worker listed FIRST does not matter', async () => {
    const api = await serviceWithGoodRelease();
    const worker = await workerWithGoodRelease();
    emu.scriptDeployment(api.id, { app: { version: 'v2' } });
    emu.scriptDeployment(worker.id, { app: { version: 'w2' } });
    const result = await runAction({
      action: '.',
      // The worker is not named in health-url and has no domain: Railway's status verifies it.
      inputs: { ...base(`${worker.name}\n${api.name}`, api.url), 'health-url': `${api.name}=${api.url}/health` },
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({
      result: 'deployed',
      status: 'SUCCESS',
      healthy: 'true',
      'rolled-back': 'false',
    });
    const [workerNew, apiNew] = (result.outputs['deployment-id'] ?? '').split('\n');
    expect(result.outputs['production-deployment-id']).toBe(`${workerNew}\n${apiNew}`);
    expect(result.outputs['production-deployment-id']).toBe(runningNow(worker.id, api.id));
    expect(entries(result).map((e) => e.service)).toEqual([worker.name, api.name]);
    expect(entryOf(result, api.name)).toMatchObject({
      verdict: 'verified',
      verifiedBy: 'http',
      healthy: true,
      deploymentId: apiNew,
      productionDeploymentId: apiNew,
    });
    expect(entryOf(result, worker.name)).toMatchObject({
      verdict: 'verified-by-status',
      verifiedBy: 'railway-status',
      healthy: true,
      deploymentId: workerNew,
    });
    expect(String(entryOf(result, worker.name).reason)).toMatch(
      /Railway reported SUCCESS with no instance crashed or restarting for the whole 1\.5s window/,
    );
    expect((await healthOf(api.url)).deploymentId).toBe(apiNew);
    expect(result.stdout).toMatch(
      new RegExp(`${worker.name}: verified by Railway status \\(no health-url and no public domain\\)`),
    );
    expect(result.summary).toMatch(/\*\*verified-by-status\*\*/);
    expect(result.summary).toMatch(/status held/);
    expectNoToken(result);
  });

  it('the worker CRASHES after SUCCESS inside the window → both rolled back, each restored service verified by its own rule', async () => {
    const api = await serviceWithGoodRelease();
    const worker = await workerWithGoodRelease();
    emu.scriptDeployment(api.id, { app: { version: 'v2' } });
    emu.scriptDeployment(worker.id, { app: { version: 'w2' }, crashAfterSuccessMs: 800 });
    const result = await runAction({
      action: '.',
      inputs: {
        ...base(`${api.name}\n${worker.name}`, api.url),
        'health-url': `${api.name}=${api.url}/health\n${worker.name}=none`,
        'verify-window': '4s',
      },
    });
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toMatchObject({
      result: 'rolled-back',
      status: 'CRASHED',
      healthy: 'false',
      'rolled-back': 'true',
      'needs-human': 'false',
    });
    // What production runs, per the outputs, is what the emulator runs: a rollback of each service's good deployment.
    expect(result.outputs['production-deployment-id']).toBe(runningNow(api.id, worker.id));
    expect(emu.activeDeployment(api.id)).toMatchObject({
      kind: 'rollback',
      sourceDeploymentId: api.good,
      status: 'SUCCESS',
    });
    expect(emu.activeDeployment(worker.id)).toMatchObject({
      kind: 'rollback',
      sourceDeploymentId: worker.good,
      status: 'SUCCESS',
    });
    const w = entryOf(result, worker.name);
    expect(w).toMatchObject({
      verdict: 'rolled-back',
      verifiedBy: 'railway-status',
      healthy: false,
      rolledBackTo: worker.good,
      rollbackVerifiedBy: 'railway-status',
      rollbackHealthy: true,
    });
    expect(String(w.reason)).toMatch(
      /crashed \(Railway status: Railway reported CRASHED during the 4\.0s verification window\)/,
    );
    expect(w.productionDeploymentId).toBe(emu.activeDeployment(worker.id)?.id);
    const a = entryOf(result, api.name);
    expect(a).toMatchObject({
      verdict: 'rolled-back',
      verifiedBy: 'http',
      healthy: true,
      rolledBackTo: api.good,
      rollbackVerifiedBy: 'http',
      rollbackHealthy: true,
    });
    expect(String(a.reason)).toMatch(/was verified, rolled back with the release/);
    // The api's restored version answers with the RESTORED deployment's id (its own rule after the rollback).
    expect(await healthOf(api.url)).toMatchObject({ deploymentId: emu.activeDeployment(api.id)?.id, version: 'v1' });
    expect(result.summary).toMatch(/Railway reported CRASHED during the 4\.0s verification window/);
    expect(result.summary).toMatch(
      new RegExp(
        `\\*\\*${worker.name}\\*\\* — \\*\\*rolled-back\\*\\*: .*, verified by Railway status: Railway reported SUCCESS`,
      ),
    );
    expect(result.summary).toMatch(
      new RegExp(`\\*\\*${api.name}\\*\\* — \\*\\*rolled-back\\*\\*: .*, verified by HTTP: healthy`),
    );
    // The crash is on the worker's verify bar; its deploy bar (when DEPLOYING was seen) ends in SUCCESS, not "crashed".
    expect(result.summary).toMatch(/status failed :crit/);
    expect(result.summary).not.toMatch(/deploy crashed :done/);
  });

  it('the api is UNHEALTHY → both rolled back and verified; worker=none is honoured even with a domain', async () => {
    const api = await serviceWithGoodRelease();
    const worker = await workerWithGoodRelease({ domain: true });
    emu.scriptDeployment(api.id, { app: { version: 'v2', healthy: false } });
    emu.scriptDeployment(worker.id, { app: { version: 'w2' } });
    const result = await runAction({
      action: '.',
      inputs: {
        ...base(`${api.name}\n${worker.name}`, api.url),
        'health-url': `${api.name}=${api.url}/health\n${worker.name}=none`,
        'health-timeout': '3s',
      },
    });
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toMatchObject({ result: 'rolled-back', status: 'UNHEALTHY', 'rolled-back': 'true' });
    expect(result.outputs['production-deployment-id']).toBe(runningNow(api.id, worker.id));
    expect(entryOf(result, api.name)).toMatchObject({
      verdict: 'rolled-back',
      verifiedBy: 'http',
      healthy: false,
      rolledBackTo: api.good,
      rollbackVerifiedBy: 'http',
      rollbackHealthy: true,
    });
    expect(String(entryOf(result, api.name).reason)).toMatch(/unhealthy \(HTTP: /);
    expect(entryOf(result, worker.name)).toMatchObject({
      verdict: 'rolled-back',
      verifiedBy: 'railway-status',
      healthy: true,
      rolledBackTo: worker.good,
      rollbackVerifiedBy: 'railway-status',
      rollbackHealthy: true,
    });
    expect(String(entryOf(result, worker.name).reason)).toMatch(/was verified-by-status, rolled back with the release/);
    expect(emu.activeDeployment(worker.id)).toMatchObject({ kind: 'rollback', sourceDeploymentId: worker.good });
    expect(await healthOf(api.url)).toMatchObject({ deploymentId: emu.activeDeployment(api.id)?.id, version: 'v1' });
  });

  it('verify: false → no checks at all: an unhealthy api counts as deployed on Railway SUCCESS, and the summary says so', async () => {
    const api = await serviceWithGoodRelease();
    const worker = await workerWithGoodRelease();
    emu.scriptDeployment(api.id, { app: { version: 'v2', healthy: false } });
    const result = await runAction({
      action: '.',
      inputs: {
        ...base(`${api.name}\n${worker.name}`, api.url),
        'health-url': `${api.name}=${api.url}/health`,
        verify: 'false',
      },
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({ result: 'deployed', healthy: '', 'rolled-back': 'false' });
    expect(entries(result).map((e) => e.verdict)).toEqual(['unverified', 'unverified']);
    expect(entries(result).map((e) => e.verifiedBy)).toEqual([null, null]);
    expect(result.outputs['production-deployment-id']).toBe(runningNow(api.id, worker.id));
    expect(result.summary).toMatch(/verify: false — nothing was verified/);
    expect(result.stdout).not.toMatch(/health #1/);
  });

  it('a status-only verification reads Railway once even with verify-window 0, and catches a CRASHED deployment', async () => {
    const worker = await workerWithGoodRelease();
    const crashed = emu.supersede(worker.id, { app: { version: 'w2' }, crashAfterSuccessMs: 0 });
    await emu.waitForStatus(crashed, 'CRASHED', 30_000);
    const client = await RailwayClient.connect({
      token,
      apiUrl: emu.url,
      deadline: Date.now() + 60_000,
      webSocket: false,
    });
    try {
      const reads = () =>
        emu.requests.filter(
          (r) => r.operationName === 'GetDeployment' && (r.variables as { id?: string }).id === crashed,
        ).length;
      const before = reads();
      const bad = await verifyDeployment(
        client,
        crashed,
        { rule: 'railway-status', windowMs: 0 },
        { log: () => undefined },
      );
      expect(bad).toMatchObject({ rule: 'railway-status', healthy: false, statusDuringWindow: 'CRASHED' });
      expect(bad.reason).toMatch(/Railway reported CRASHED when its status was read \(verify-window 0\)/);
      expect(reads()).toBeGreaterThan(before);
      const good = emu.supersede(worker.id, { app: { version: 'w3' } });
      await emu.waitForStatus(good, 'SUCCESS', 30_000);
      const ok = await verifyDeployment(
        client,
        good,
        { rule: 'railway-status', windowMs: 0 },
        { log: () => undefined },
      );
      expect(ok).toMatchObject({ rule: 'railway-status', healthy: true, railwayStatus: 'SUCCESS' });
      expect(ok.reason).toMatch(/read once: verify-window 0/);
    } finally {
      await client.close();
    }
  });
});

describe('root action: cancellation (SIGTERM) → post step', () => {
  it('mid-build: main reports CANCELLED, post cancels the in-flight deployment', async () => {
    const svc = await serviceWithGoodRelease();
    emu.scriptDeployment(svc.id, { buildMs: 20_000 });
    const inputs = base(svc.name, svc.url);
    const running = startAction({ action: '.', inputs });
    await running.waitForOutput(/BUILDING/, 30_000);
    running.kill('SIGTERM');
    const main = await running.result;
    expect(main.exitCode).toBe(1);
    expect(main.outputs.result).toBe('cancelled');
    const id = main.outputs['deployment-id'] ?? '';
    const post = await runAction({ action: '.', inputs, phase: 'post', state: main.state });
    expect(post.exitCode, post.stderr).toBe(0);
    expect(post.stdout).toMatch(/cancelled the in-flight deployment/);
    await emu.waitForStatus(id, 'REMOVED', 10_000);
    expect(emu.activeDeployment(svc.id)?.id).toBe(svc.good);
    expectNoToken(main);
    expectNoToken(post);
  });

  it('mid-verification: post rolls back the live but unverified release', async () => {
    const svc = await serviceWithGoodRelease();
    emu.scriptDeployment(svc.id, { app: { version: 'v2', healthy: false } });
    const inputs = { ...base(svc.name, svc.url), 'health-timeout': '60s' };
    const running = startAction({ action: '.', inputs });
    await running.waitForOutput(/::group::Verify|Verify/, 30_000);
    running.kill('SIGTERM');
    const main = await running.result;
    expect(main.exitCode).toBe(1);
    expect(main.state['railway-phase']).toBe('verifying');
    const post = await runAction({ action: '.', inputs, phase: 'post', state: main.state });
    expect(post.exitCode, post.stderr).toBe(0);
    expect(post.stdout).toMatch(new RegExp(`rolled back the unverified release to ${svc.good}`));
    expect(post.summary).toMatch(/Production now/);
    const active = emu.activeDeployment(svc.id);
    expect(active).toMatchObject({ kind: 'rollback', sourceDeploymentId: svc.good });
    expect((await healthOf(svc.url)).version).toBe('v1');
    expectNoToken(post);
  });

  it('post after a finished main does nothing', async () => {
    const post = await runAction({
      action: '.',
      inputs: base('api1', 'http://127.0.0.1:9'),
      phase: 'post',
      state: { 'railway-phase': 'done', 'rail-actions-main-ran': 'true' },
    });
    expect(post.exitCode).toBe(0);
    expect(post.stdout).toMatch(/nothing to clean up/);
  });
});

describe('root action: check-only (read-only preflight before migrations)', () => {
  it('confirms the token reaches project, environment and services, names each rule, sends no mutation', async () => {
    const api = await serviceWithGoodRelease();
    const worker = await workerWithGoodRelease();
    const before = emu.requests.length;
    const result = await runAction({
      action: '.',
      inputs: {
        ...base(`${api.name}\n${worker.name}`, api.url),
        'health-url': `${api.name}=${api.url}/health\n${worker.name}=none`,
        'check-only': 'true',
      },
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(result.outputs.result).toBe('checked');
    expect(emu.requests.slice(before).filter((r) => /^\s*mutation\b/.test(r.query))).toEqual([]);
    expect(emu.requests.length).toBeGreaterThan(before);
    const report = JSON.parse(result.outputs.checks ?? '{}') as {
      ok: boolean;
      checks: Array<{ subject: string; check: string; verdict: string; detail: string }>;
    };
    expect(report.ok).toBe(true);
    const rule = (name: string) =>
      report.checks.find((c) => c.subject === name && c.check === 'verification rule')?.detail;
    expect(rule(api.name)).toBe(`HTTP ${api.url}/health`);
    expect(rule(worker.name)).toMatch(/^Railway status \(health-url says .*=none\)/);
    expect(report.checks.find((c) => c.subject === api.name && /rollback target/.test(c.check))).toMatchObject({
      verdict: 'confirmed',
    });
    expect(result.summary).toMatch(/Railway release: preflight \(read-only\)/);
    expect(result.state['railway-phase']).toBeUndefined();
    const post = await runAction({ action: '.', inputs: base(api.name, api.url), phase: 'post', state: result.state });
    expect(post.stdout).toMatch(/nothing to clean up/);
    expectNoToken(result);
  });
});

describe('root action: bad input → one clear error, exit 1, no mutation', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['missing token', { 'railway-token': '' }, /Input 'railway-token'/],
    ['timeout: banana', { timeout: 'banana' }, /Input 'timeout'/],
    ['negative verify-window', { 'verify-window': '-3s' }, /Input 'verify-window'.*negative/],
    ['invalid health-url', { 'health-url': 'ftp://x' }, /Input 'health-url'/],
    ['bad expect-status', { 'expect-status': 'ok' }, /Input 'expect-status'/],
    ['bad migrate-plan', { 'migrate-plan': 'not json' }, /Input 'migrate-plan'/],
    ['consecutive-successes 0', { 'consecutive-successes': '0' }, /Input 'consecutive-successes'/],
    [
      'one unnamed health-url for two services',
      { service: 'api1\nworker1' },
      /Input 'health-url': with several services, say which URL belongs to which/,
    ],
    [
      'health-url naming a service not deployed',
      { 'health-url': 'web=http://127.0.0.1:9/health' },
      /Input 'health-url': names 'web', which is not one of the services \(api1\)/,
    ],
    [
      'health-url service=banana',
      { 'health-url': 'api1=banana' },
      /Input 'health-url': expected an http\(s\) URL or 'none'/,
    ],
    ['verify: maybe', { verify: 'maybe' }, /Input 'verify'/],
  ];
  it.each(cases)('%s', async (_name, inputs, message) => {
    const before = mutations().length;
    const result = await runAction({ action: '.', inputs: { ...base('api1', 'http://127.0.0.1:9'), ...inputs } });
    expect(result.exitCode).toBe(1);
    const errors = result.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(message);
    expect(mutations().length).toBe(before);
    expectNoToken(result);
  });
});

describe('summary rendering (pure)', () => {
  const t0 = 1_800_000_000_000;
  const release: Release = {
    project: { id: 'p', name: 'shop' },
    environment: { id: 'e', name: 'production' },
    source: 'commit',
    startedAt: t0,
    finishedAt: t0 + 60_000,
    events: [],
    services: [
      {
        service: { id: 's1', name: 'api: main|edge' },
        scope: { projectId: 'p', environmentId: 'e', serviceId: 's1' },
        previousDeploymentId: 'old00000-1',
        rollbackTargetId: 'old00000-1',
        deploymentId: 'new00000-1',
        status: 'SUCCESS',
        outcome: 'success',
        message: 'deployment new00000-1 is live (SUCCESS)',
        triggeredAt: t0 + 1000,
        finishedAt: t0 + 20_000,
        history: [
          { status: 'BUILDING', at: t0 + 2000 },
          { status: 'DEPLOYING', at: t0 + 15_000 },
          { status: 'SUCCESS', at: t0 + 20_000 },
        ],
        verification: {
          rule: 'http',
          url: 'http://x/health',
          windowMs: 30_000,
          startedAt: t0 + 20_000,
          finishedAt: t0 + 35_000,
          healthy: false,
          reason: 'HTTP 503',
          attempts: 9,
        },
        rollback: {
          targetId: 'old00000-1',
          method: 'rollback',
          deploymentId: 'rb000000-1',
          ok: true,
          status: 'SUCCESS',
          message: 'restored',
          startedAt: t0 + 35_000,
          finishedAt: t0 + 45_000,
        },
      },
    ],
  };

  it('a live deployment is bad when it left SUCCESS/SLEEPING or an instance is CRASHED/RESTARTING (the emulator has no RESTARTING)', () => {
    expect(liveStatusProblem('SUCCESS', ['RUNNING'])).toBeUndefined();
    expect(liveStatusProblem('SLEEPING', ['STOPPED'])).toBeUndefined();
    expect(liveStatusProblem('SUCCESS', ['RUNNING', 'RESTARTING'])).toBe('SUCCESS with an instance RESTARTING');
    expect(liveStatusProblem('SUCCESS', ['CRASHED'])).toBe('SUCCESS with an instance CRASHED');
    expect(liveStatusProblem('CRASHED', [])).toBe('CRASHED');
    expect(liveStatusProblem('', [])).toBe('no status');
  });

  it('renders a gantt timeline mermaid accepts: sections, ms timestamps, no ":" in labels', () => {
    const text = renderTimeline(release);
    expect(text).toMatch(/^```mermaid\ngantt\n/);
    expect(text).toContain('dateFormat x');
    expect(text).toContain('section api main|edge');
    expect(text).toMatch(new RegExp(`build :done, t1, ${t0 + 1000}, ${t0 + 15_000}`));
    expect(text).toMatch(/deploy success :done, t2/);
    expect(text).toMatch(/verify failed :crit, t3/);
    expect(text).toMatch(/rollback \(rollback\) :active, t4/);
    for (const line of text.split('\n').filter((l) => / :(done|crit|active)/.test(l)))
      expect(line.split(' :')[0]).not.toContain(':');
  });

  it('renders the per-service table with before → after, now serving and durations; cells escaped', () => {
    const md = renderReleaseSummary(release, { title: 'Railway release', verdict: 'x' });
    expect(md).toContain('| api: main\\|edge | `old00000` | `new00000` | `rb000000` | **rolled-back** |');
    // The verdict says why: the new deployment's HTTP verdict, and that the restored one was not verified.
    expect(md).toMatch(
      /\*\*api: main\\\|edge\*\* — \*\*rolled-back\*\*: new deployment new00000-1 unhealthy \(HTTP: HTTP 503\); restored old00000-1 as rb000000-1 \(rollback\); Railway reports SUCCESS, not verified/,
    );
    expect(md).toMatch(/\| 14\.0s \| 19\.0s \| 15\.0s \|/);
    expect(cell('a|b\nc')).toBe('a\\|b c');
  });
});
