// The bundled rollback action through the harness, against the emulator with real app processes behind /health.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runAction, type ActionResult } from './harness/index.js';
import { useEmulatedProject } from './helpers/emulator.js';
import type { RailwayEmulator } from './railway-emulator/index.js';

let emu: RailwayEmulator;
let projectId: string;
let apiId: string;
let token: string;
let good: string;
let bad: string;

// GitHub autodeploy stays on (the emulator's default for a repo source), as on a service connected to its repository.
const railway = useEmulatedProject({
  services: [{ name: 'api', source: { repo: 'acme/shop' }, app: { version: 'v1' } }],
});

beforeAll(() => {
  ({ emu, projectId, token } = railway);
  apiId = railway.services.api ?? '';
});

/** A good release v1 followed by a bad-but-live release v2 (the situation a rollback is for). */
beforeEach(async () => {
  good = emu.supersede(apiId, { app: { version: 'v1' } });
  await emu.waitForStatus(good, 'SUCCESS', 30_000);
  bad = emu.supersede(apiId, { app: { version: 'v2', healthy: false } });
  await emu.waitForStatus(bad, 'SUCCESS', 30_000);
});

const base = () => ({
  'railway-token': token,
  'api-url': emu.url,
  service: 'api',
  timeout: '2m',
  'health-url': `${emu.serviceUrl(apiId)}/health`,
  'consecutive-successes': '2',
  'health-interval': '200ms',
  'health-timeout': '30s',
  'verify-window': '1s',
});

const mutations = () => emu.requests.filter((r) => /^\s*mutation\b/.test(r.query));

function expectNoToken(result: ActionResult): void {
  expect(result.allText).not.toContain(token);
}

describe('rollback action', () => {
  it('defaults to the newest rollback-able deployment older than what serves, and verifies it', async () => {
    const result = await runAction({ action: 'rollback', inputs: base() });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(result.outputs['rolled-back-to']).toBe(good);
    expect(result.outputs['previous-deployment-id']).toBe(bad);
    expect(result.outputs.method).toBe('rollback');
    expect(result.outputs.status).toBe('SUCCESS');
    expect(result.outputs.healthy).toBe('true');
    const created = result.outputs['deployment-id'] ?? '';
    expect(emu.deployment(created)).toMatchObject({ kind: 'rollback', sourceDeploymentId: good, status: 'SUCCESS' });
    expect(emu.activeDeployment(apiId)?.id).toBe(created);
    expect(result.outputs['production-deployment-id']).toBe(created);
    // deploymentRollback was sent without a selection set (it returns Boolean).
    const rollbackCall = mutations().find((m) => m.operationName === 'RollbackDeployment');
    expect(rollbackCall?.query).not.toMatch(/deploymentRollback\(id: \$id\)\s*\{/);
    expect(result.summary).toMatch(/Railway rollback/);
    expect(result.summary).toMatch(/rollback \(rollback\)/);
    expect(result.outputs['needs-human']).toBe('false');
    expectNoToken(result);
  });

  it('a rollback answered with 502 after it landed: found by reading state, exactly one rollback deployment', async () => {
    const t0 = Date.now();
    emu.faults.loseAnswer('deploymentRollback', { as: 'http', httpStatus: 502 });
    const result = await runAction({ action: 'rollback', inputs: base() });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    const rollbacks = emu.deploymentsOf(apiId).filter((d) => d.kind === 'rollback' && Date.parse(d.createdAt) >= t0);
    expect(rollbacks).toHaveLength(1);
    expect(emu.requests.filter((r) => r.at >= t0 && r.operationName === 'RollbackDeployment')).toHaveLength(1);
    expect(result.outputs['production-deployment-id']).toBe(emu.activeDeployment(apiId)?.id);
    expect(result.outputs['production-deployment-id']).toBe(rollbacks[0]?.id);
  });

  it('the rollback answer lost and Railway unreachable: unconfirmed, not sent again, needs-human with what runs read back', async () => {
    const t0 = Date.now();
    emu.faults.loseAnswer('deploymentRollback');
    emu.faults.outageAfter('deploymentRollback', { durationMs: 9000 });
    const result = await runAction({ action: 'rollback', inputs: { ...base(), timeout: '6s' } });
    expect(result.exitCode).toBe(1);
    expect(emu.requests.filter((r) => r.at >= t0 && r.operationName === 'RollbackDeployment')).toHaveLength(1);
    expect(result.outputs['needs-human']).toBe('true');
    // Read back after the outage: what Railway runs, whatever the rollback did.
    expect(result.outputs['production-deployment-id']).toBe(emu.activeDeployment(apiId)?.id);
    const entry = (JSON.parse(result.outputs.deployments ?? '[]') as Array<Record<string, unknown>>)[0] ?? {};
    expect(String(entry.needsHuman)).toMatch(/the rollback request's answer was lost/);
  });

  it('rolls back to an explicit deployment-id', async () => {
    const result = await runAction({ action: 'rollback', inputs: { ...base(), 'deployment-id': good } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.outputs['rolled-back-to']).toBe(good);
  });

  it('uses the target recorded by railway-deploy (deployments JSON)', async () => {
    const deployments = JSON.stringify([
      { service: 'api', serviceId: apiId, deploymentId: bad, rollbackTargetId: good, outcome: 'success' },
    ]);
    const result = await runAction({ action: 'rollback', inputs: { ...base(), service: '', deployments } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.outputs['rolled-back-to']).toBe(good);
  });

  it('falls back to redeploy when the image is no longer retained', async () => {
    emu.expireImages(apiId);
    const result = await runAction({ action: 'rollback', inputs: { ...base(), 'deployment-id': good } });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(result.outputs.method).toBe('redeploy');
    expect(result.annotations.some((a) => a.level === 'warning' && /deploymentRedeploy/.test(a.message))).toBe(true);
    expect(emu.deployment(result.outputs['deployment-id'] ?? '')?.kind).toBe('redeploy');
    expect(result.outputs.healthy).toBe('true');
  });

  it('never rolls back a newer release that superseded the recorded one', async () => {
    const newer = emu.supersede(apiId, { app: { version: 'v3' } });
    await emu.waitForStatus(newer, 'SUCCESS', 30_000);
    const before = mutations().length;
    const deployments = JSON.stringify([
      { service: 'api', serviceId: apiId, deploymentId: bad, rollbackTargetId: good, outcome: 'success' },
    ]);
    const result = await runAction({ action: 'rollback', inputs: { ...base(), deployments } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.outputs.status).toBe('SKIPPED');
    expect(result.summary).toMatch(new RegExp(`newer deployment ${newer}`));
    expect(mutations().length).toBe(before);
    expect(emu.activeDeployment(apiId)?.id).toBe(newer);
  });

  it('reports a restored version that is not healthy (exit 1, UNHEALTHY)', async () => {
    emu.scriptDeployment(apiId, { app: { healthy: false } });
    const result = await runAction({ action: 'rollback', inputs: { ...base(), 'health-timeout': '3s' } });
    expect(result.exitCode).toBe(1);
    expect(result.outputs.status).toBe('UNHEALTHY');
    expect(result.outputs.healthy).toBe('false');
    expect(result.annotations.find((a) => a.level === 'error')?.message).toMatch(/restored version not healthy/);
  });
});

describe('rollback action: api + worker, each restored service verified by its own rule', () => {
  let shopApi: string;
  let shopWorker: string;
  let goodApi: string;
  let badApi: string;
  let goodWorker: string;
  let badWorker: string;

  beforeAll(() => {
    shopApi = emu.addService(projectId, { name: 'shop-api', source: { repo: 'acme/shop' }, app: { version: 'v1' } }).id;
    // A worker: no public domain, so nothing to check over HTTP.
    shopWorker = emu.addService(projectId, {
      name: 'shop-worker',
      source: { repo: 'acme/shop' },
      app: { version: 'w1' },
      domain: false,
    }).id;
  });

  beforeEach(async () => {
    goodApi = emu.supersede(shopApi, { app: { version: 'v1' } });
    goodWorker = emu.supersede(shopWorker, { app: { version: 'w1' } });
    await Promise.all([
      emu.waitForStatus(goodApi, 'SUCCESS', 30_000),
      emu.waitForStatus(goodWorker, 'SUCCESS', 30_000),
    ]);
    badApi = emu.supersede(shopApi, { app: { version: 'v2', healthy: false } });
    badWorker = emu.supersede(shopWorker, { app: { version: 'w2' } });
    await Promise.all([emu.waitForStatus(badApi, 'SUCCESS', 30_000), emu.waitForStatus(badWorker, 'SUCCESS', 30_000)]);
  });

  const recorded = () =>
    JSON.stringify([
      { service: 'shop-api', serviceId: shopApi, deploymentId: badApi, rollbackTargetId: goodApi, outcome: 'success' },
      {
        service: 'shop-worker',
        serviceId: shopWorker,
        deploymentId: badWorker,
        rollbackTargetId: goodWorker,
        outcome: 'success',
      },
    ]);
  const inputs = () => ({
    ...base(),
    service: '',
    deployments: recorded(),
    'health-url': `shop-api=${emu.serviceUrl(shopApi)}/health\nshop-worker=none`,
  });
  const entries = (r: ActionResult) => JSON.parse(r.outputs.deployments ?? '[]') as Array<Record<string, unknown>>;

  it('deployments JSON of api + worker with per-service health-url → rolled-back, api verified over HTTP, worker by Railway status', async () => {
    const result = await runAction({ action: 'rollback', inputs: inputs() });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(result.outputs).toMatchObject({
      result: 'rolled-back',
      status: 'SUCCESS',
      healthy: 'true',
      'needs-human': 'false',
    });
    expect(result.outputs['rolled-back-to']).toBe(`${goodApi}\n${goodWorker}`);
    // Outputs name what the emulator really runs now, per service.
    expect(result.outputs['production-deployment-id']).toBe(
      `${emu.activeDeployment(shopApi)?.id ?? ''}\n${emu.activeDeployment(shopWorker)?.id ?? ''}`,
    );
    expect(emu.activeDeployment(shopApi)).toMatchObject({
      kind: 'rollback',
      sourceDeploymentId: goodApi,
      status: 'SUCCESS',
    });
    expect(emu.activeDeployment(shopWorker)).toMatchObject({
      kind: 'rollback',
      sourceDeploymentId: goodWorker,
      status: 'SUCCESS',
    });
    const [api, worker] = entries(result);
    expect(api).toMatchObject({
      service: 'shop-api',
      verdict: 'rolled-back',
      rolledBackTo: goodApi,
      rollbackVerifiedBy: 'http',
      rollbackHealthy: true,
    });
    expect(worker).toMatchObject({
      service: 'shop-worker',
      verdict: 'rolled-back',
      rolledBackTo: goodWorker,
      rollbackVerifiedBy: 'railway-status',
      rollbackHealthy: true,
    });
    expect(String(worker?.reason)).toMatch(
      /verified by Railway status: Railway reported SUCCESS with no instance crashed or restarting for the whole 1\.0s window/,
    );
    expect(result.summary).toMatch(/\*\*rolled-back\*\*/);
    expectNoToken(result);
  });

  it('a restored worker that CRASHES inside the window → rollback-failed (exit 1), the api still restored and verified', async () => {
    // The next deployment of the worker is the rollback's: it goes live, then crashes inside the window.
    emu.scriptDeployment(shopWorker, { crashAfterSuccessMs: 2000 });
    const result = await runAction({ action: 'rollback', inputs: { ...inputs(), 'verify-window': '5s' } });
    expect(result.exitCode).toBe(1);
    expect(result.outputs.result).toBe('rollback-failed');
    const [api, worker] = entries(result);
    expect(api).toMatchObject({ verdict: 'rolled-back', rollbackVerifiedBy: 'http', rollbackHealthy: true });
    expect(worker).toMatchObject({
      verdict: 'rollback-failed',
      rollbackVerifiedBy: 'railway-status',
      rollbackHealthy: false,
    });
    expect(String(worker?.reason)).toMatch(/Railway reported CRASHED during the 5\.0s verification window/);
    expect(result.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /shop-worker: restored version not healthy/,
    );
  });
});

describe('rollback action: migration-aware', () => {
  const destructivePlan = JSON.stringify({
    schema: 'rail-actions/migration-plan@1',
    decision: 'requires-approval',
    risk: 'destructive',
    pendingCount: 1,
    files: [{ id: '002', file: 'migrations/002_drop_legacy.sql', risk: 'destructive' }],
    statements: [
      {
        file: 'migrations/002_drop_legacy.sql',
        index: 0,
        line: 3,
        kind: 'DropStmt',
        sql: 'DROP TABLE legacy_orders',
        risk: 'destructive',
        destructive: true,
        breaking: true,
      },
    ],
    ignored: [],
  });

  it('refuses to roll back across a destructive migration: exit 1, needs-human, nothing sent', async () => {
    const before = emu.requests.length;
    const result = await runAction({ action: 'rollback', inputs: { ...base(), 'migrate-plan': destructivePlan } });
    expect(result.exitCode).toBe(1);
    expect(result.outputs['needs-human']).toBe('true');
    expect(result.outputs.status).toBe('REFUSED');
    const errors = result.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(
      /Refusing to roll back.*destructive migrations\/002_drop_legacy\.sql:3 \(DROP TABLE legacy_orders\)/,
    );
    expect(emu.requests.length).toBe(before);
    expect(emu.activeDeployment(apiId)?.id).toBe(bad);
  });

  it('accepts the nested files[].statements[] shape and a breaking risk too', async () => {
    const plan = JSON.stringify({
      files: [
        {
          relPath: 'db/003.sql',
          statements: [{ line: 1, sql: 'ALTER TABLE users RENAME COLUMN name TO full_name', risk: 'breaking' }],
        },
      ],
    });
    const result = await runAction({ action: 'rollback', inputs: { ...base(), 'migrate-plan': plan } });
    expect(result.exitCode).toBe(1);
    expect(result.outputs['needs-human']).toBe('true');
    expect(result.annotations.find((a) => a.level === 'error')?.message).toMatch(/breaking db\/003\.sql:1/);
  });

  it('a safe plan does not block', async () => {
    const plan = JSON.stringify({
      risk: 'safe',
      files: [{ file: 'a.sql', risk: 'safe', statements: [{ risk: 'blocking' }] }],
    });
    const result = await runAction({ action: 'rollback', inputs: { ...base(), 'migrate-plan': plan } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.outputs['needs-human']).toBe('false');
  });

  it('force: true rolls back anyway, with a warning', async () => {
    const result = await runAction({
      action: 'rollback',
      inputs: { ...base(), 'migrate-plan': destructivePlan, force: 'true' },
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.outputs['rolled-back-to']).toBe(good);
    expect(result.annotations.some((a) => a.level === 'warning' && /force: true/.test(a.message))).toBe(true);
  });
});

describe('rollback action: bad input → one clear error, exit 1, no mutation', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['missing token', { 'railway-token': '' }, /Input 'railway-token'/],
    ['migrate-plan not JSON', { 'migrate-plan': '{nope' }, /Input 'migrate-plan'.*not valid JSON/],
    ['deployments not JSON', { deployments: '[oops' }, /Input 'deployments'/],
    [
      'deployment-id with two services',
      { service: 'api\nworker', 'deployment-id': 'x' },
      /Input 'deployment-id'.*exactly one service/,
    ],
    [
      'unknown deployment-id',
      { 'deployment-id': 'no-such-deployment' },
      /Input 'deployment-id'.*no deployment 'no-such-deployment'/,
    ],
    ['timeout: banana', { timeout: 'banana' }, /Input 'timeout'/],
    ['negative health-interval', { 'health-interval': '-1s' }, /Input 'health-interval'.*negative/],
    ['invalid health-url', { 'health-url': 'not a url' }, /Input 'health-url'/],
    ['unknown service', { service: 'web' }, /Input 'service': no service 'web'.*'api'/],
    [
      'one unnamed health-url for two services',
      { service: 'api\nshop-worker' },
      /Input 'health-url': with several services/,
    ],
    ['health-url naming a service not rolled back', { 'health-url': 'web=none' }, /Input 'health-url': names 'web'/],
  ];
  it.each(cases)('%s', async (_name, inputs, message) => {
    const before = mutations().length;
    const result = await runAction({ action: 'rollback', inputs: { ...base(), ...inputs } });
    expect(result.exitCode).toBe(1);
    const errors = result.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(message);
    expect(mutations().length).toBe(before);
    expectNoToken(result);
  });
});
