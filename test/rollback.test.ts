// The bundled rollback action through the harness, against the emulator with real app processes behind /health.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runAction, type ActionResult } from './harness/index.js';
import { startRailwayEmulator, type RailwayEmulator } from './railway-emulator/index.js';

let emu: RailwayEmulator;
let projectId: string;
let prodId: string;
let apiId: string;
let token: string;
let good: string;
let bad: string;

beforeAll(async () => {
  emu = await startRailwayEmulator({ buildMs: 300, deployMs: 100, tickMs: 30 });
  projectId = emu.addProject({ name: 'shop' }).id;
  prodId = emu.addEnvironment(projectId, { name: 'production' }).id;
  apiId = emu.addService(projectId, { name: 'api', source: { repo: 'acme/shop' }, app: { version: 'v1' } }).id;
  token = emu.projectToken(projectId, prodId);
});

afterAll(async () => {
  await emu?.close();
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

  it('rolls back to an explicit deployment-id', async () => {
    const result = await runAction({ action: 'rollback', inputs: { ...base(), 'deployment-id': good } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.outputs['rolled-back-to']).toBe(good);
  });

  it('uses the target recorded by railway-deploy (deployments JSON)', async () => {
    const deployments = JSON.stringify([{ service: 'api', serviceId: apiId, deploymentId: bad, rollbackTargetId: good, outcome: 'success' }]);
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
    const deployments = JSON.stringify([{ service: 'api', serviceId: apiId, deploymentId: bad, rollbackTargetId: good, outcome: 'success' }]);
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

describe('rollback action: migration-aware', () => {
  const destructivePlan = JSON.stringify({
    schema: 'rail-actions/migration-plan@1',
    decision: 'requires-approval',
    risk: 'destructive',
    pendingCount: 1,
    files: [{ id: '002', file: 'migrations/002_drop_legacy.sql', risk: 'destructive' }],
    statements: [{ file: 'migrations/002_drop_legacy.sql', index: 0, line: 3, kind: 'DropStmt', sql: 'DROP TABLE legacy_orders', risk: 'destructive', destructive: true, breaking: true }],
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
    expect(errors[0]?.message).toMatch(/Refusing to roll back.*destructive migrations\/002_drop_legacy\.sql:3 \(DROP TABLE legacy_orders\)/);
    expect(emu.requests.length).toBe(before);
    expect(emu.activeDeployment(apiId)?.id).toBe(bad);
  });

  it('accepts the nested files[].statements[] shape and a breaking risk too', async () => {
    const plan = JSON.stringify({ files: [{ relPath: 'db/003.sql', statements: [{ line: 1, sql: 'ALTER TABLE users RENAME COLUMN name TO full_name', risk: 'breaking' }] }] });
    const result = await runAction({ action: 'rollback', inputs: { ...base(), 'migrate-plan': plan } });
    expect(result.exitCode).toBe(1);
    expect(result.outputs['needs-human']).toBe('true');
    expect(result.annotations.find((a) => a.level === 'error')?.message).toMatch(/breaking db\/003\.sql:1/);
  });

  it('a safe plan does not block', async () => {
    const plan = JSON.stringify({ risk: 'safe', files: [{ file: 'a.sql', risk: 'safe', statements: [{ risk: 'blocking' }] }] });
    const result = await runAction({ action: 'rollback', inputs: { ...base(), 'migrate-plan': plan } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.outputs['needs-human']).toBe('false');
  });

  it('force: true rolls back anyway, with a warning', async () => {
    const result = await runAction({ action: 'rollback', inputs: { ...base(), 'migrate-plan': destructivePlan, force: 'true' } });
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
    ['deployment-id with two services', { service: 'api\nworker', 'deployment-id': 'x' }, /Input 'deployment-id'.*exactly one service/],
    ['unknown deployment-id', { 'deployment-id': 'no-such-deployment' }, /Input 'deployment-id'.*no deployment 'no-such-deployment'/],
    ['timeout: banana', { timeout: 'banana' }, /Input 'timeout'/],
    ['negative health-interval', { 'health-interval': '-1s' }, /Input 'health-interval'.*negative/],
    ['invalid health-url', { 'health-url': 'not a url' }, /Input 'health-url'/],
    ['unknown service', { service: 'web' }, /Input 'service': no service 'web'.*'api'/],
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
