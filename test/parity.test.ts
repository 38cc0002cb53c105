// The CLI and the bundled actions on the same scenario must reach the same result: both front ends read their
// options with the same readers and run the same use cases (src/release/use-cases.ts), so a policy cannot exist in
// two places. Each scenario is set up twice on the Railway emulator (one service per front end, in the same state),
// run once through `rail-actions` (bin → dist/cli) and once through the bundled action (test/harness), and the
// results are compared field by field. plan: `rail-actions plan` vs dist/migrate-gate on one migrations dir and one
// database.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { projectRoot, runAction } from './harness/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { useEmulatedProject } from './helpers/emulator.js';
import type { RailwayEmulator } from './railway-emulator/index.js';

const BIN = path.join(projectRoot, 'bin/rail-actions.mjs');

function cli(
  args: string[],
  env: Record<string, string>,
  cwd = projectRoot,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

let emu: RailwayEmulator;
let token: string;
let n = 0;
let tmp: string;

const railway = useEmulatedProject({ buildMs: 200, deployMs: 80, tickMs: 25 });

beforeAll(async () => {
  ({ emu, token } = railway);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'parity-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Two services in the same state — a verified-good v1 serving — one for each front end. */
async function twin(): Promise<Array<{ id: string; name: string; good: string; url: string }>> {
  return Promise.all(
    ['cli', 'act'].map(async (who) => {
      const svc = await railway.goodService(
        { name: `${who}${++n}`, app: { version: 'v1' }, domain: true },
        { app: { version: 'v1' } },
      );
      return { id: svc.id, name: svc.name, good: svc.deploymentId, url: svc.url };
    }),
  );
}

const SHA = 'abcdef1234567890abcdef1234567890abcdef12';
const env = () => ({ RAILWAY_TOKEN: token });
const mutationsFor = (serviceId: string, op: string) =>
  emu.requests.filter(
    (r) => /^\s*mutation\b/.test(r.query) && r.operationName === op && JSON.stringify(r.variables).includes(serviceId),
  ).length;

/** What both front ends report per service, without what differs by nature (ids, times, names). */
function comparable(entries: Array<Record<string, unknown>>, ids: { good: string }) {
  return entries.map((e) => ({
    verdict: e.verdict,
    outcome: e.outcome,
    status: e.status,
    healthy: e.healthy,
    verifiedBy: e.verifiedBy,
    rolledBackToGood: e.rolledBackTo === ids.good,
    rollbackHealthy: e.rollbackHealthy,
    rollbackVerifiedBy: e.rollbackVerifiedBy,
    productionIsRollback: e.productionDeploymentId !== null && e.productionDeploymentId === e.rollbackDeploymentId,
    needsHuman: e.needsHuman === null ? null : 'yes',
  }));
}

const health = (url: string) => ({
  'health-url': `${url}/health`,
  'health-interval': '100ms',
  'health-timeout': '4s',
  'verify-window': '400ms',
  'consecutive-successes': '2',
});
const flags = (o: Record<string, string>) => Object.entries(o).flatMap(([k, v]) => [`--${k}`, v]);

describe('deploy: rail-actions deploy ↔ railway-deploy / the root action', () => {
  it('a plain deploy of a commit: the same result and the same verdict', async () => {
    const [c, a] = await twin();
    const viaCli = await cli(
      ['deploy', '--service', c!.name, '--api-url', emu.url, '--source', 'commit', '--commit-sha', SHA, '--json'],
      env(),
    );
    const viaAction = await runAction({
      action: 'railway-deploy',
      inputs: { 'railway-token': token, 'api-url': emu.url, service: a!.name, 'commit-sha': SHA, timeout: '2m' },
    });
    expect(viaCli.code, viaCli.stderr).toBe(0);
    expect(viaAction.exitCode, viaAction.stderr + viaAction.stdout).toBe(0);
    const out = JSON.parse(viaCli.stdout) as { result: string; services: Array<Record<string, unknown>> };
    expect(out.result).toBe(viaAction.outputs.result);
    expect(out.result).toBe('deployed');
    expect(comparable(out.services, c!)).toEqual(
      comparable(JSON.parse(viaAction.outputs.deployments ?? '[]') as Array<Record<string, unknown>>, a!),
    );
  });

  it('a bad release, verified and rolled back: the same result, the same target rule, the restored version verified the same way', async () => {
    const [c, a] = await twin();
    for (const s of [c!, a!]) emu.scriptDeployment(s.id, { app: { version: 'v2', healthy: false } });
    const viaCli = await cli(
      [
        'deploy',
        '--service',
        c!.name,
        '--api-url',
        emu.url,
        '--source',
        'commit',
        '--commit-sha',
        SHA,
        ...flags(health(c!.url)),
        '--rollback-on-failure',
        '--json',
      ],
      env(),
    );
    const viaAction = await runAction({
      action: '.',
      inputs: {
        'railway-token': token,
        'api-url': emu.url,
        service: a!.name,
        'commit-sha': SHA,
        timeout: '2m',
        ...health(a!.url),
      },
    });
    expect(viaCli.code).toBe(1);
    expect(viaAction.exitCode).toBe(1);
    const out = JSON.parse(viaCli.stdout) as { result: string; services: Array<Record<string, unknown>> };
    expect(out.result).toBe('rolled-back');
    expect(viaAction.outputs.result).toBe('rolled-back');
    const fromCli = comparable(out.services, c!);
    expect(fromCli).toEqual(
      comparable(JSON.parse(viaAction.outputs.deployments ?? '[]') as Array<Record<string, unknown>>, a!),
    );
    expect(fromCli[0]).toMatchObject({
      verdict: 'rolled-back',
      rolledBackToGood: true,
      rollbackHealthy: true,
      rollbackVerifiedBy: 'http',
      productionIsRollback: true,
    });
  });

  it('--rollback-on-failure goes through the migration guard: no rollback across a destructive migration, needs-human on both', async () => {
    const [c, a] = await twin();
    for (const s of [c!, a!]) emu.scriptDeployment(s.id, { app: { version: 'v2', healthy: false } });
    const plan = {
      decision: 'requires-approval',
      pendingCount: 1,
      risk: 'destructive',
      statements: [
        { file: 'migrations/002.sql', line: 3, risk: 'destructive', sql: 'ALTER TABLE users DROP COLUMN email' },
      ],
    };
    const planFile = path.join(tmp, 'plan.json');
    await writeFile(planFile, JSON.stringify(plan));
    const viaCli = await cli(
      [
        'deploy',
        '--service',
        c!.name,
        '--api-url',
        emu.url,
        '--source',
        'commit',
        '--commit-sha',
        SHA,
        ...flags(health(c!.url)),
        '--rollback-on-failure',
        '--migrate-plan',
        planFile,
        '--json',
      ],
      env(),
    );
    const viaAction = await runAction({
      action: '.',
      inputs: {
        'railway-token': token,
        'api-url': emu.url,
        service: a!.name,
        'commit-sha': SHA,
        timeout: '2m',
        ...health(a!.url),
        'migrate-plan': JSON.stringify(plan),
      },
    });
    expect(viaCli.code).toBe(1);
    expect(viaAction.exitCode).toBe(1);
    const out = JSON.parse(viaCli.stdout) as {
      result: string;
      notes: string[];
      services: Array<Record<string, unknown>>;
    };
    expect(out.result).toBe('needs-human');
    expect(viaAction.outputs.result).toBe('needs-human');
    expect(out.notes.join(' ')).toMatch(
      /breaking\/destructive migrations \(destructive migrations\/002\.sql:3 .*Set --force to override/,
    );
    expect(viaAction.summary).toMatch(/Set force: true to override/);
    for (const s of [c!, a!]) expect(mutationsFor(s.good, 'RollbackDeployment')).toBe(0);
    expect(comparable(out.services, c!)).toEqual(
      comparable(JSON.parse(viaAction.outputs.deployments ?? '[]') as Array<Record<string, unknown>>, a!),
    );
  });
});

describe('verify: rail-actions verify ↔ health-check', () => {
  it.each([
    ['the expected version answers', 'v1', true],
    ['the old version answers', 'v9', false],
  ])('%s: the same verdict and reason', async (_, version, healthy) => {
    const [c] = await twin();
    const url = `${c!.url}/health`;
    const opts = { 'expect-version': version, interval: '50ms', timeout: '1500ms', 'consecutive-successes': '2' };
    const viaCli = await cli(['verify', url, ...flags(opts), '--json'], {});
    const viaAction = await runAction({ action: 'health-check', inputs: { url, ...opts } });
    const out = JSON.parse(viaCli.stdout) as { healthy: boolean; reason: string; lastStatus: number };
    expect(out.healthy).toBe(healthy);
    expect(String(out.healthy)).toBe(viaAction.outputs.healthy);
    expect(String(out.lastStatus)).toBe(viaAction.outputs['last-status']);
    expect(out.reason.replace(/\d+(\.\d+)?m?s/g, 'T').replace(/\d+ attempt/g, 'N attempt')).toBe(
      (viaAction.outputs.reason ?? '').replace(/\d+(\.\d+)?m?s/g, 'T').replace(/\d+ attempt/g, 'N attempt'),
    );
    expect(viaCli.code).toBe(healthy ? 0 : 1);
    expect(viaAction.exitCode).toBe(healthy ? 0 : 1);
  });
});

describe('rollback: rail-actions rollback ↔ the rollback action', () => {
  it('the same target (newest earlier rollback-able deployment, never what serves), result and verification', async () => {
    const [c, a] = await twin();
    for (const s of [c!, a!])
      await emu.waitForStatus(emu.supersede(s.id, { app: { version: 'v2', healthy: false } }), 'SUCCESS', 30_000);
    const opts = (url: string) => ({ ...health(url), 'expect-version': 'deployment-id' });
    const viaCli = await cli(
      ['rollback', '--service', c!.name, '--api-url', emu.url, ...flags(opts(c!.url)), '--json'],
      env(),
    );
    const viaAction = await runAction({
      action: 'rollback',
      inputs: { 'railway-token': token, 'api-url': emu.url, service: a!.name, timeout: '2m', ...opts(a!.url) },
    });
    expect(viaCli.code, viaCli.stderr).toBe(0);
    expect(viaAction.exitCode, viaAction.stderr + viaAction.stdout).toBe(0);
    const out = JSON.parse(viaCli.stdout) as {
      result: string;
      targetId: string;
      services: Array<Record<string, unknown>>;
    };
    expect(out.result).toBe(viaAction.outputs.result);
    expect(out.targetId).toBe(c!.good);
    expect(viaAction.outputs['rolled-back-to']).toBe(a!.good);
    expect(comparable(out.services, c!)).toEqual(
      comparable(JSON.parse(viaAction.outputs.deployments ?? '[]') as Array<Record<string, unknown>>, a!),
    );
  });

  it('an explicit target that already serves: skipped on both, nothing sent', async () => {
    const [c, a] = await twin();
    const viaCli = await cli(
      ['rollback', '--service', c!.name, '--api-url', emu.url, '--deployment-id', c!.good, '--json'],
      env(),
    );
    const viaAction = await runAction({
      action: 'rollback',
      inputs: {
        'railway-token': token,
        'api-url': emu.url,
        service: a!.name,
        'deployment-id': a!.good,
        verify: 'false',
      },
    });
    expect(viaCli.code).toBe(0);
    expect(viaAction.exitCode).toBe(0);
    expect((JSON.parse(viaCli.stdout) as { result: string }).result).toBe('skipped');
    expect(viaAction.outputs.result).toBe('skipped');
    for (const s of [c!, a!])
      expect(mutationsFor(s.id, 'RollbackDeployment') + mutationsFor(s.good, 'RollbackDeployment')).toBe(0);
  });
});

describe('plan: rail-actions plan ↔ migrate-gate', () => {
  let db: TestDatabase;
  let ws: string;
  beforeAll(async () => {
    db = await createTestDatabase('parity_plan');
    ws = await mkdtemp(path.join(os.tmpdir(), 'parity-prisma-'));
    await cp(path.join(projectRoot, 'test/fixtures/sql/gate-prisma'), ws, { recursive: true });
    const first = await readFile(path.join(ws, 'prisma/migrations/20240101000000_init/migration.sql'), 'utf8');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(first);
    } finally {
      await client.end();
    }
  });
  afterAll(async () => {
    await db?.drop();
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  it('the same decision, risk, pending set and plan hash', async () => {
    const viaCli = await cli(['plan', '--database-url', db.url, '--dir', 'prisma/migrations', '--json'], {}, ws);
    const viaAction = await runAction({
      action: 'migrate-gate',
      inputs: { 'database-url': db.url, 'migrations-dir': 'prisma/migrations' },
      cwd: ws,
      timeoutMs: 120_000,
    });
    expect(viaCli.code, viaCli.stderr).toBe(0);
    expect(viaAction.exitCode, viaAction.stderr).toBe(0);
    const fromCli = JSON.parse(viaCli.stdout) as Record<string, unknown>;
    const fromAction = JSON.parse(viaAction.outputs.plan ?? 'null') as Record<string, unknown>;
    for (const key of ['decision', 'risk', 'pendingCount', 'tool', 'planHash'] as const)
      expect(fromCli[key], key).toEqual(fromAction[key]);
    expect(viaAction.outputs['plan-hash']).toBe(fromCli.planHash);
    expect(viaAction.outputs.decision).toBe(fromCli.decision);
  });
});
