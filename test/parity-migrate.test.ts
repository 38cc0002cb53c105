// The migrations family through both front ends must reach the same result: `rail-actions plan/migrate/restore`
// (bin → dist/cli) and the bundled migrate-gate/migrate/restore actions (test/harness) read their options with the same
// readers (src/migrations/spec.ts, src/backup/spec.ts) and run the same use cases (src/migrations/use-cases.ts). Each
// scenario runs on one migrations directory; migrate and restore on two fresh databases with the same seed (one per
// front end), plan on one database; the results are compared field by field.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planHash } from '../src/migrations/hash.js';
import { projectRoot, runAction } from './harness/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

const BIN = path.join(projectRoot, 'bin/rail-actions.mjs');

function cli(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
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

const SEED = `CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, name text);
INSERT INTO users SELECT g, 'u' || g || '@example.com', 'user ' || g FROM generate_series(1, 50) g;`;

/** A plain-SQL project: a safe index build, then a destructive DROP COLUMN (backed up by migrate). */
const MIGRATIONS = {
  '001_name_index.sql': 'CREATE INDEX CONCURRENTLY users_name_idx ON users (name);\n',
  '002_drop_email.sql': 'ALTER TABLE users DROP COLUMN email;\n',
};

let tmp: string;
const databases: TestDatabase[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'parity-migrate-'));
});
afterAll(async () => {
  for (const db of databases) await db.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function project(name: string, files: Record<string, string>): Promise<string> {
  const root = path.join(tmp, name);
  await mkdir(path.join(root, 'migrations'), { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(root, 'migrations', file), text);
  return root;
}

async function seeded(prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  databases.push(db);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(SEED);
  } finally {
    await client.end();
  }
  return db;
}

async function columnsOf(url: string, table: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    );
    return r.rows.map((x) => x.column_name);
  } finally {
    await client.end();
  }
}

interface CliMigrate {
  ok: boolean;
  rehearsal: string;
  applied: Array<{ file: string; statements: number | null }>;
  partiallyApplied: { file: string; groups: number; committedGroups: number[]; resumeAtGroup: number } | null;
  backup: { id: string; bytes: number } | null;
  pendingBefore: number;
  planHash: string | null;
  error: string | null;
}

const appliedOf = (list: Array<{ file: string; statements: number | null }>) =>
  list.map((a) => ({ file: a.file, statements: a.statements }));

describe('plan: rail-actions plan ↔ migrate-gate', () => {
  it('the same decision, risk, files, reasons and plan-hash on one database', async () => {
    const db = await seeded('parity_mplan');
    const repo = await project('plan', MIGRATIONS);
    const viaCli = await cli(['plan', '--database-url', db.url, '--dir', 'migrations', '--json'], repo);
    const viaAction = await runAction({
      action: 'migrate-gate',
      inputs: { 'database-url': db.url, 'migrations-dir': 'migrations' },
      cwd: repo,
      timeoutMs: 120_000,
    });
    expect(viaCli.code, viaCli.stderr).toBe(0);
    expect(viaAction.exitCode, viaAction.stderr).toBe(0);
    const fromCli = JSON.parse(viaCli.stdout) as Record<string, unknown>;
    const fromAction = JSON.parse(viaAction.outputs.plan ?? 'null') as Record<string, unknown>;
    expect(fromCli.decision).toBe('requires-approval');
    for (const key of [
      'decision',
      'risk',
      'pendingCount',
      'tool',
      'planHash',
      'requiresApproval',
      'reasons',
      'files',
      'blockers',
      'counts',
    ] as const)
      expect(fromCli[key], key).toEqual(fromAction[key]);
    expect(viaAction.outputs['plan-hash']).toBe(fromCli.planHash);
    expect(viaAction.outputs.decision).toBe(fromCli.decision);
    expect(viaAction.outputs['requires-approval']).toBe('true');
  }, 180_000);

  it('an app without migrations: no-pending and the empty plan-hash from both, nothing contacted', async () => {
    const repo = await project('plan-none', {});
    // A closed port: neither front end may connect when there is nothing to plan.
    const closed = 'postgres://nobody:pw@127.0.0.1:9/none';
    const viaCli = await cli(['plan', '--database-url', closed, '--dir', 'migrations', '--json'], repo);
    const viaAction = await runAction({
      action: 'migrate-gate',
      inputs: { 'database-url': closed, 'migrations-dir': 'migrations' },
      cwd: repo,
    });
    expect(viaCli.code, viaCli.stderr).toBe(0);
    expect(viaAction.exitCode, viaAction.stderr).toBe(0);
    const fromCli = JSON.parse(viaCli.stdout) as { decision: string; planHash: string; pendingCount: number };
    expect(fromCli).toMatchObject({ decision: 'no-pending', pendingCount: 0, planHash: planHash([]) });
    expect(viaAction.outputs).toMatchObject({
      decision: 'no-pending',
      'pending-count': '0',
      'plan-hash': fromCli.planHash,
    });
  }, 120_000);
});

describe('migrate: rail-actions migrate ↔ migrate (two fresh databases, same seed)', () => {
  it('the same applied list, pending count, plan-hash and backup; restore puts back the same rows', async () => {
    const [a, b] = await Promise.all([seeded('parity_mcli'), seeded('parity_mact')]);
    const repo = await project('migrate', MIGRATIONS);
    const gate = await runAction({
      action: 'migrate-gate',
      inputs: { 'database-url': a.url, 'migrations-dir': 'migrations' },
      cwd: repo,
      timeoutMs: 120_000,
    });
    const approved = gate.outputs['plan-hash'] ?? '';
    expect(approved).toMatch(/^[0-9a-f]{64}$/);

    const viaCli = await cli(
      ['migrate', '--database-url', a.url, '--dir', 'migrations', '--plan-hash', approved, '--json'],
      repo,
    );
    const viaAction = await runAction({
      action: 'migrate',
      inputs: { 'database-url': b.url, 'migrations-dir': 'migrations', 'plan-hash': approved },
      cwd: repo,
      timeoutMs: 120_000,
    });
    expect(viaCli.code, viaCli.stderr).toBe(0);
    expect(viaAction.exitCode, viaAction.stderr).toBe(0);
    const fromCli = JSON.parse(viaCli.stdout) as CliMigrate;
    expect(fromCli).toMatchObject({
      ok: true,
      rehearsal: 'skipped',
      pendingBefore: 2,
      planHash: approved,
      error: null,
      partiallyApplied: null,
    });
    expect(appliedOf(fromCli.applied)).toEqual([
      { file: 'migrations/001_name_index.sql', statements: 1 },
      { file: 'migrations/002_drop_email.sql', statements: 1 },
    ]);
    expect(appliedOf(JSON.parse(viaAction.outputs.applied ?? '[]') as CliMigrate['applied'])).toEqual(
      appliedOf(fromCli.applied),
    );
    expect(viaAction.outputs).toMatchObject({
      rehearsal: fromCli.rehearsal,
      'applied-count': '2',
      'pending-count': String(fromCli.pendingBefore),
      'plan-hash': fromCli.planHash,
    });
    // The backup of the dropped column: taken by both, the same size (same seed, same statement).
    expect(fromCli.backup?.id).toMatch(/^b\d{8}t\d{6}_[0-9a-z]+$/);
    expect(viaAction.outputs['backup-id']).toMatch(/^b\d{8}t\d{6}_[0-9a-z]+$/);
    expect(viaAction.outputs['backup-size']).toBe(String(fromCli.backup?.bytes));
    expect(await columnsOf(a.url, 'users')).toEqual(await columnsOf(b.url, 'users'));

    // Each front end restores its own database's backup: the same pieces and rows come back.
    const restoreCli = await cli(
      ['restore', '--database-url', a.url, '--backup-id', fromCli.backup?.id ?? '', '--json'],
      repo,
    );
    const restoreAction = await runAction({
      action: 'restore',
      inputs: { 'database-url': b.url, 'backup-id': viaAction.outputs['backup-id'] ?? '' },
      cwd: repo,
    });
    expect(restoreCli.code, restoreCli.stderr).toBe(0);
    expect(restoreAction.exitCode, restoreAction.stderr).toBe(0);
    const restored = JSON.parse(restoreCli.stdout) as {
      result: string;
      pieces: Array<{ piece: number; kind: string; table: string; columns: string[]; rows: number }>;
    };
    expect(restored.result).toBe('restored');
    expect(restoreAction.outputs.result).toBe(restored.result);
    expect(JSON.parse(restoreAction.outputs.pieces ?? '[]')).toEqual(
      restored.pieces.map((p) => ({ piece: p.piece, kind: p.kind, table: p.table, columns: p.columns, rows: p.rows })),
    );
    expect(restoreAction.outputs.rows).toBe(String(restored.pieces.reduce((n, p) => n + p.rows, 0)));
    expect(await columnsOf(a.url, 'users')).toContain('email');
    expect(await columnsOf(a.url, 'users')).toEqual(await columnsOf(b.url, 'users'));
  }, 240_000);

  it('a plan-hash that is not the pending set: both refuse and apply nothing', async () => {
    const [a, b] = await Promise.all([seeded('parity_mrcli'), seeded('parity_mract')]);
    const repo = await project('refuse', MIGRATIONS);
    const wrong = 'f'.repeat(64);
    const viaCli = await cli(
      ['migrate', '--database-url', a.url, '--dir', 'migrations', '--plan-hash', wrong, '--json'],
      repo,
    );
    const viaAction = await runAction({
      action: 'migrate',
      inputs: { 'database-url': b.url, 'migrations-dir': 'migrations', 'plan-hash': wrong },
      cwd: repo,
      timeoutMs: 120_000,
    });
    expect(viaCli.code).toBe(1);
    expect(viaAction.exitCode).toBe(1);
    const fromCli = JSON.parse(viaCli.stdout) as CliMigrate;
    expect(fromCli).toMatchObject({ ok: false, applied: [], backup: null });
    expect(viaAction.outputs).toMatchObject({ applied: '[]', 'applied-count': '0', 'backup-id': '' });
    // The same refusal, word for word (the action fails with it as its one error).
    expect(viaAction.annotations.find((x) => x.level === 'error')?.message).toBe(fromCli.error);
    for (const db of [a, b]) expect(await columnsOf(db.url, 'users')).toContain('email');
  }, 180_000);

  it('a failing migration: the same applied list and the same failure, partial state reported alike', async () => {
    const [a, b] = await Promise.all([seeded('parity_mfcli'), seeded('parity_mfact')]);
    const repo = await project('fails', {
      ...MIGRATIONS,
      '003_broken.sql': 'ALTER TABLE users ADD COLUMN age int;\nALTER TABLE missing_table ADD COLUMN x int;\n',
    });
    const viaCli = await cli(['migrate', '--database-url', a.url, '--dir', 'migrations', '--json'], repo);
    const viaAction = await runAction({
      action: 'migrate',
      inputs: { 'database-url': b.url, 'migrations-dir': 'migrations' },
      cwd: repo,
      timeoutMs: 120_000,
    });
    expect(viaCli.code).toBe(1);
    expect(viaAction.exitCode).toBe(1);
    const fromCli = JSON.parse(viaCli.stdout) as CliMigrate;
    expect(fromCli.ok).toBe(false);
    expect(appliedOf(fromCli.applied).map((x) => x.file)).toEqual([
      'migrations/001_name_index.sql',
      'migrations/002_drop_email.sql',
    ]);
    expect(appliedOf(JSON.parse(viaAction.outputs.applied ?? '[]') as CliMigrate['applied'])).toEqual(
      appliedOf(fromCli.applied),
    );
    const partial = viaAction.outputs['partially-applied'];
    expect(partial === undefined ? null : JSON.parse(partial)).toEqual(fromCli.partiallyApplied);
    // The failure placed on the file in the action is the message the CLI prints.
    const error = viaAction.annotations.find((x) => x.level === 'error');
    expect(error?.message).toBe(fromCli.error);
    expect(error?.properties.file).toBe('migrations/003_broken.sql');
    expect(viaAction.outputs['backup-size']).toBe(String(fromCli.backup?.bytes ?? 0));
  }, 180_000);
});
