// The bundled root action (deploy → verify → roll back) through the harness, against the Railway emulator with
// real app processes behind /health. The headline test: a bad release is detected, rolled back, and the old
// version is verified serving again.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Release } from '../src/release/release.js';
import { cell, renderReleaseSummary, renderTimeline } from '../src/release/summary.js';
import { runAction, startAction, type ActionResult } from './harness/index.js';
import { startRailwayEmulator, type RailwayEmulator } from './railway-emulator/index.js';

let emu: RailwayEmulator;
let projectId: string;
let prodId: string;
let token: string;
let serviceCounter = 0;

beforeAll(async () => {
  emu = await startRailwayEmulator({ buildMs: 300, deployMs: 100, tickMs: 30 });
  projectId = emu.addProject({ name: 'shop' }).id;
  prodId = emu.addEnvironment(projectId, { name: 'production' }).id;
  token = emu.projectToken(projectId, prodId);
});

afterAll(async () => {
  await emu?.close();
});

/** A fresh service per test (tests stay independent) with a verified-good v1 serving. */
async function serviceWithGoodRelease(opts: { domain?: boolean; app?: false } = {}): Promise<{ id: string; name: string; good: string; url: string }> {
  const name = `api${++serviceCounter}`;
  const id = emu.addService(projectId, { name, source: { repo: 'acme/shop' }, app: opts.app ?? { version: 'v1' }, domain: opts.domain ?? true }).id;
  const good = emu.supersede(id, { app: { version: 'v1' } });
  await emu.waitForStatus(good, 'SUCCESS', 30_000);
  return { id, name, good, url: emu.serviceUrl(id) };
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
    expect(result.outputs).toMatchObject({ result: 'deployed', status: 'SUCCESS', healthy: 'true', 'rolled-back': 'false', 'needs-human': 'false' });
    expect(result.outputs['previous-deployment-id']).toBe(svc.good);
    expect(result.outputs['production-deployment-id']).toBe(id);
    expect((await healthOf(svc.url)).deploymentId).toBe(id);
    expect(result.summary).toMatch(/Deployed and verified/);
    expect(result.summary).toMatch(/verify healthy/);
    expect(mutations().some((m) => m.operationName === 'RollbackDeployment' && (m.variables as { id: string }).id === svc.good)).toBe(false);
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
    expect(result.outputs).toMatchObject({ result: 'rolled-back', status: 'UNHEALTHY', healthy: 'false', 'rolled-back': 'true' });
    const json = JSON.parse(result.outputs.deployments ?? '[]') as Array<Record<string, unknown>>;
    expect(json[0]).toMatchObject({ deploymentId: bad, rollbackTargetId: svc.good, healthy: false, rolledBackTo: svc.good });
    const restored = String(json[0]?.rollbackDeploymentId);
    expect(emu.deployment(restored)).toMatchObject({ kind: 'rollback', sourceDeploymentId: svc.good, status: 'SUCCESS' });
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
      expect(result.summary).toMatch(/verification: .*(version|expected)/i);
    } finally {
      edge.close();
    }
  });

  it('CRASHED after SUCCESS inside the verify window → rolled back', async () => {
    const svc = await serviceWithGoodRelease();
    emu.scriptDeployment(svc.id, { app: { version: 'v2' }, crashAfterSuccessMs: 1200 });
    const result = await runAction({ action: '.', inputs: { ...base(svc.name, svc.url), 'consecutive-successes': '2', 'verify-window': '5s' } });
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
    const restored = String((JSON.parse(result.outputs.deployments ?? '[]') as Array<Record<string, unknown>>)[0]?.rollbackDeploymentId);
    expect(emu.deployment(restored)).toMatchObject({ kind: 'redeploy', sourceDeploymentId: svc.good, status: 'SUCCESS' });
    expect(result.summary).toMatch(/rollback \(redeploy\)/);
    expect(result.stdout).toMatch(/can no longer be rolled back/);
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
    expect(result.outputs).toMatchObject({ status: 'NEEDS_APPROVAL', result: 'failed', 'needs-human': 'true', 'rolled-back': 'false' });
    expect(result.outputs['production-deployment-id']).toBe(svc.good);
    expect(result.stdout + result.stderr).toMatch(/approve it in Railway/);
  });

  it('superseded mid-wait: says so and leaves the newer release alone', async () => {
    const svc = await serviceWithGoodRelease();
    emu.scriptDeployment(svc.id, { buildMs: 4000 });
    const running = startAction({ action: '.', inputs: base(svc.name, svc.url) });
    await running.waitForOutput(/BUILDING/, 30_000);
    const newer = emu.supersede(svc.id, { app: { version: 'v3' } });
    const result = await running.result;
    expect(result.exitCode).toBe(1);
    expect(result.outputs.result).toBe('superseded');
    expect(result.outputs['production-deployment-id']).toBe(newer);
    await emu.waitForStatus(newer, 'SUCCESS', 30_000);
    expect(emu.activeDeployment(svc.id)?.id).toBe(newer);
    expect(mutations().some((m) => (m.variables as { id?: string }).id === svc.good)).toBe(false);
  });

  it('several services are one release: one unhealthy service rolls back all of them', async () => {
    const api = await serviceWithGoodRelease();
    const worker = await serviceWithGoodRelease({ domain: false, app: false });
    emu.scriptDeployment(api.id, { app: { version: 'v2', healthy: false } });
    const result = await runAction({
      action: '.',
      inputs: { ...base(`${api.name}\n${worker.name}`, api.url), 'health-url': `${api.name}=${api.url}/health` },
    });
    expect(result.exitCode).toBe(1);
    expect(result.outputs.result).toBe('rolled-back');
    const json = JSON.parse(result.outputs.deployments ?? '[]') as Array<Record<string, unknown>>;
    expect(json.map((j) => j.rolledBackTo)).toEqual([api.good, worker.good]);
    expect(result.stdout).toMatch(new RegExp(`${worker.name}: no health URL`));
  });

  it('breaking/destructive migrations: the failed release is NOT rolled back automatically (needs-human)', async () => {
    const svc = await serviceWithGoodRelease();
    emu.scriptDeployment(svc.id, { app: { version: 'v2', healthy: false } });
    const plan = JSON.stringify({ risk: 'destructive', statements: [{ file: 'm/9.sql', line: 1, sql: 'DROP COLUMN x', risk: 'destructive' }] });
    const before = mutations().filter((m) => m.operationName === 'RollbackDeployment').length;
    const result = await runAction({ action: '.', inputs: { ...base(svc.name, svc.url), 'migrate-plan': plan } });
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toMatchObject({ result: 'needs-human', 'needs-human': 'true', 'rolled-back': 'false' });
    expect(mutations().filter((m) => m.operationName === 'RollbackDeployment').length).toBe(before);
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
    const post = await runAction({ action: '.', inputs: base('api1', 'http://127.0.0.1:9'), phase: 'post', state: { 'railway-phase': 'done', 'rail-actions-main-ran': 'true' } });
    expect(post.exitCode).toBe(0);
    expect(post.stdout).toMatch(/nothing to clean up/);
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
        verification: { url: 'http://x/health', startedAt: t0 + 20_000, finishedAt: t0 + 35_000, healthy: false, reason: 'HTTP 503', attempts: 9 },
        rollback: { targetId: 'old00000-1', method: 'rollback', deploymentId: 'rb000000-1', ok: true, status: 'SUCCESS', message: 'restored', startedAt: t0 + 35_000, finishedAt: t0 + 45_000 },
      },
    ],
  };

  it('renders a gantt timeline mermaid accepts: sections, ms timestamps, no ":" in labels', () => {
    const text = renderTimeline(release);
    expect(text).toMatch(/^```mermaid\ngantt\n/);
    expect(text).toContain('dateFormat x');
    expect(text).toContain('section api main|edge');
    expect(text).toMatch(new RegExp(`build :done, t1, ${t0 + 1000}, ${t0 + 15_000}`));
    expect(text).toMatch(/deploy success :done, t2/);
    expect(text).toMatch(/verify failed :crit, t3/);
    expect(text).toMatch(/rollback \(rollback\) :active, t4/);
    for (const line of text.split('\n').filter((l) => / :(done|crit|active)/.test(l))) expect(line.split(' :')[0]).not.toContain(':');
  });

  it('renders the per-service table with before → after, now serving and durations; cells escaped', () => {
    const md = renderReleaseSummary(release, { title: 'Railway release', verdict: 'x' });
    expect(md).toContain('| api: main\\|edge | `old00000` | `new00000` | `rb000000` |');
    expect(md).toMatch(/\| 14\.0s \| 19\.0s \| 15\.0s \|/);
    expect(cell('a|b\nc')).toBe('a\\|b c');
  });
});
