// The bundled migrate action (dist/migrate) run like the GitHub runner runs it, against real PostgreSQL 15 + pgvector.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planHash } from '../src/migrations/hash.js';
import { type ActionResult, runAction, startAction } from './harness/index.js';
import { type TestDatabase, createTestDatabase } from './helpers/db.js';
import { startPasswordServer } from './helpers/password-server.js';
import { fixture, WAIT_FOR_OTHER_RUNNER } from './helpers/migrations.js';

let tmp: string;
const dbs: TestDatabase[] = [];

async function newDb(): Promise<TestDatabase> {
  const db = await createTestDatabase('migrate_action');
  dbs.push(db);
  return db;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

async function sqlRepo(name: string, files: Record<string, string>): Promise<string> {
  const root = path.join(tmp, name);
  await mkdir(path.join(root, 'migrations'), { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(root, 'migrations', file), text);
  return root;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One clean failure: exit 1, exactly one error annotation, no stack trace anywhere. */
function expectOneCleanError(r: ActionResult, pattern: RegExp): void {
  expect(r.exitCode).toBe(1);
  const errors = r.annotations.filter((a) => a.level === 'error');
  expect(errors).toHaveLength(1);
  expect(errors[0]?.message).toMatch(pattern);
  expect(r.allText).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rail-migrate-action-'));
});

afterAll(async () => {
  for (const db of dbs) await db.drop().catch(() => undefined);
  await rm(tmp, { recursive: true, force: true });
});

describe('migrate action', () => {
  it('applies a Prisma project: applied JSON, counts, summary table; a second run applies nothing', async () => {
    const db = await newDb();
    const r = await runAction({ action: 'migrate', cwd: fixture('prisma'), inputs: { 'database-url': db.url } });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const applied = JSON.parse(r.outputs.applied ?? '') as Array<{ file: string; statements: number; ms: number }>;
    expect(applied.map((a) => [a.file, a.statements])).toEqual([
      ['prisma/migrations/20240105120000_init/migration.sql', 4],
      ['prisma/migrations/20240212093000_document_embeddings/migration.sql', 2],
      ['prisma/migrations/20240301080000_document_embedding_index/migration.sql', 1],
    ]);
    expect(applied.every((a) => typeof a.ms === 'number')).toBe(true);
    expect(r.outputs['applied-count']).toBe('3');
    expect(r.outputs['pending-count']).toBe('3');
    expect(r.outputs['plan-hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(r.outputs.rehearsal).toBe('skipped');
    expect(r.summary).toContain('Migrate: ✅ Applied 3 migration(s)');
    expect(r.summary).toContain('<code>prisma/migrations/20240212093000_document_embeddings/migration.sql</code>');
    expect(r.logLines.join('\n')).toMatch(/Migrations: prisma in .*prisma\/migrations \(migration_lock\.toml/);

    const again = await runAction({ action: 'migrate', cwd: fixture('prisma'), inputs: { 'database-url': db.url } });
    expect(again.exitCode).toBe(0);
    expect(again.outputs['applied-count']).toBe('0');
    expect(again.outputs.applied).toBe('[]');
    expect(again.summary).toContain('Nothing to apply');
  });

  it('rehearse mode applies to a copy of the production schema and leaves production untouched', async () => {
    const db = await newDb();
    const r = await runAction({
      action: 'migrate',
      cwd: fixture('drizzle'),
      inputs: {
        'database-url': db.url,
        mode: 'rehearse',
        'rehearsal-database-url': process.env.DATABASE_URL as string,
      },
    });
    expect(r.exitCode).toBe(0);
    expect(r.outputs.rehearsal).toBe('passed');
    expect(r.outputs['applied-count']).toBe('0');
    expect(r.outputs['pending-count']).toBe('3');
    expect(r.logLines.join('\n')).toMatch(/Rehearsal passed: 3 migration\(s\) applied cleanly/);
    expect(r.summary).toContain('Rehearsal passed (3 migration(s), production untouched)');
    expect(r.summary).toContain('<code>drizzle/0001_wise_morbius.sql</code>');
    expect(
      await query(
        db.url,
        `SELECT to_regclass('drizzle.__drizzle_migrations')::text AS h, to_regclass('users')::text AS u`,
      ),
    ).toEqual([{ h: null, u: null }]);
  });

  it('a failed rehearsal stops before production is touched', async () => {
    const db = await newDb();
    const repo = await sqlRepo('rehearsal-fails', {
      '001.sql': 'CREATE TABLE a (id int);',
      '002.sql': 'ALTER TABLE missing_table ADD COLUMN x int;',
    });
    const r = await runAction({
      action: 'migrate',
      cwd: repo,
      inputs: { 'database-url': db.url, 'rehearsal-database-url': process.env.DATABASE_URL as string },
    });
    expectOneCleanError(
      r,
      /Rehearsal failed — production was not touched: .*migrations\/002\.sql:1: relation "missing_table" does not exist/,
    );
    expect(r.outputs.rehearsal).toBe('failed');
    expect(await query(db.url, `SELECT to_regclass('a')::text AS a`)).toEqual([{ a: null }]);
  });

  it('refuses a plan-hash that does not match the pending files', async () => {
    const db = await newDb();
    const r = await runAction({
      action: 'migrate',
      cwd: fixture('sql'),
      inputs: { 'database-url': db.url, 'plan-hash': 'a'.repeat(64) },
    });
    expectOneCleanError(r, /Refusing to migrate: the pending migrations .* not the approved plan-hash a{64}/);
    expect(r.outputs['applied-count']).toBe('0');
    expect(await query(db.url, `SELECT to_regclass('products')::text AS t`)).toEqual([{ t: null }]);
  });
});

describe('bad input → one clear error, exit 1, nothing done', () => {
  it('unreachable database', async () => {
    const r = await runAction({
      action: 'migrate',
      cwd: fixture('sql'),
      inputs: { 'database-url': 'postgres://app:Unreach4ble-pw@127.0.0.1:1/app' },
    });
    expectOneCleanError(
      r,
      /Cannot connect to the database postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/app: .*ECONNREFUSED/,
    );
    expect(r.allText).not.toContain('Unreach4ble-pw');
  });

  it('missing migrations directory', async () => {
    const db = await newDb();
    const r = await runAction({
      action: 'migrate',
      cwd: fixture('sql'),
      inputs: { 'database-url': db.url, 'migrations-dir': 'db/nope' },
    });
    expectOneCleanError(r, /Input 'migrations-dir': directory 'db\/nope' does not exist/);
  });

  it('unknown tool', async () => {
    const db = await newDb();
    const r = await runAction({
      action: 'migrate',
      cwd: fixture('sql'),
      inputs: { 'database-url': db.url, 'migrations-tool': 'flyway' },
    });
    expectOneCleanError(
      r,
      /Input 'migrations-tool': expected one of auto, prisma, drizzle, knex, node-pg-migrate, golang-migrate, dbmate, sql; got 'flyway'/,
    );
  });

  it('JS/TS migrations without a migrator command: the error names migrations-command', async () => {
    const db = await newDb();
    const r = await runAction({ action: 'migrate', cwd: fixture('knex'), inputs: { 'database-url': db.url } });
    expectOneCleanError(
      r,
      /Input 'migrations-command': 2 pending migration\(s\) are JS\/TS code rail-actions cannot run itself .*; set migrations-command to the project's migrator \(e\.g\. 'npx knex migrate:latest'\)/,
    );
  });

  it('malformed inputs are named', async () => {
    const db = await newDb();
    let r = await runAction({
      action: 'migrate',
      cwd: fixture('sql'),
      inputs: { 'database-url': db.url, 'lock-timeout': 'soon' },
    });
    expectOneCleanError(r, /Input 'lock-timeout': expected a duration/);
    r = await runAction({
      action: 'migrate',
      cwd: fixture('sql'),
      inputs: { 'database-url': db.url, 'plan-hash': 'abc' },
    });
    expectOneCleanError(r, /Input 'plan-hash': expected the 64-character hex/);
    r = await runAction({ action: 'migrate', cwd: fixture('sql'), inputs: { 'database-url': 'mysql://u:p@h/db' } });
    expectOneCleanError(r, /Input 'database-url': expected a postgres:\/\/ or postgresql:\/\/ URL/);
    r = await runAction({
      action: 'migrate',
      cwd: fixture('sql'),
      inputs: { 'database-url': db.url, mode: 'rehearse' },
    });
    expectOneCleanError(r, /Input 'rehearsal-database-url': is required with mode: rehearse/);
    expect(await query(db.url, `SELECT to_regclass('products')::text AS t`)).toEqual([{ t: null }]);
  });

  it('wrong password: clear error, the password never printed', async () => {
    const server = await startPasswordServer();
    if (!server) return;
    try {
      const wrong = `Wr0ng-${randomBytes(6).toString('hex')}`;
      const url = `postgres://postgres:${encodeURIComponent(wrong)}@127.0.0.1:${server.port}/postgres`;
      const r = await runAction({ action: 'migrate', cwd: fixture('sql'), inputs: { 'database-url': url } });
      expectOneCleanError(
        r,
        /Cannot connect to the database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres: password authentication failed for user "postgres"/,
      );
      expect(r.masked).toContain(wrong);
      expect(r.allText).not.toContain(wrong);
      expect(r.allText).not.toContain(server.password);
    } finally {
      await server.stop();
    }
  });
});

describe('an app without migrations: success with applied-count 0, no database connection', () => {
  // Nothing listens on this port: an action that connected would fail.
  const closedUrl = 'postgres://app:pw@127.0.0.1:1/app';

  async function app(name: string, files: Record<string, string>): Promise<string> {
    const root = path.join(tmp, name);
    for (const [file, text] of Object.entries({ 'package.json': '{"name":"app"}', ...files })) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), text);
    }
    return root;
  }

  function expectNothingApplied(r: ActionResult, notice: RegExp): void {
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.outputs).toEqual({
      rehearsal: 'skipped',
      applied: '[]',
      'applied-count': '0',
      'pending-count': '0',
      'plan-hash': planHash([]),
    });
    const notices = r.annotations.filter((a) => a.level === 'notice');
    expect(notices).toHaveLength(1);
    expect(notices[0]?.message).toMatch(notice);
    expect(r.annotations.filter((a) => a.level !== 'notice')).toEqual([]);
    expect(r.summary).toContain('Migrate: ✅ No migrations — nothing to migrate');
  }

  it('no migrations directory at all (what ci.yml runs with apply-migrations on by default)', async () => {
    const r = await runAction({
      action: 'migrate',
      cwd: await app('none', { 'src/index.ts': 'export {};\n' }),
      inputs: { 'database-url': closedUrl, 'lock-wait': '0' },
    });
    expectNothingApplied(
      r,
      /^No migrations found in '\.' \(looked for: prisma\/migrations, drizzle, .*\) — nothing to migrate; set apply-migrations: false \(ci\.yml\) or migrate: false \(deploy\.yml\) to skip this step, or migrations-dir \(and migrations-tool\) if the app keeps them elsewhere$/,
    );
  });

  it('an empty migrations-dir, even with mode rehearse', async () => {
    const repo = await app('empty', { 'migrations/.gitkeep': '' });
    const r = await runAction({
      action: 'migrate',
      cwd: repo,
      inputs: { 'database-url': closedUrl, 'migrations-dir': 'migrations', 'migrations-tool': 'sql' },
    });
    expectNothingApplied(
      r,
      /^No migrations found in 'migrations' \(looked for: \.sql files\) — nothing to migrate; set apply-migrations: false/,
    );
    const rehearse = await runAction({
      action: 'migrate',
      cwd: repo,
      inputs: {
        'database-url': closedUrl,
        'migrations-dir': 'migrations',
        mode: 'rehearse',
        'rehearsal-database-url': closedUrl,
      },
    });
    expectNothingApplied(rehearse, /^No migrations found in 'migrations' \(looked for: /);
  });

  it('still errors when a migrator command is set or an approved non-empty plan is gone', async () => {
    const repo = await app('none-command', {});
    const withCommand = await runAction({
      action: 'migrate',
      cwd: repo,
      inputs: { 'database-url': closedUrl, 'migrations-command': 'npx prisma migrate deploy' },
    });
    expectOneCleanError(
      withCommand,
      /Input 'migrations-dir': No migrations found in '\.' .*, but migrations-command is set: point migrations-dir \(and migrations-tool\) at the migrations your command applies/,
    );
    const approved = await runAction({
      action: 'migrate',
      cwd: repo,
      inputs: { 'database-url': closedUrl, 'plan-hash': 'b'.repeat(64) },
    });
    expectOneCleanError(
      approved,
      /Refusing to migrate: the approved plan-hash b{64} names pending migrations, but none exist any more/,
    );
    const emptyApproved = await runAction({
      action: 'migrate',
      cwd: repo,
      inputs: { 'database-url': closedUrl, 'plan-hash': planHash([]) },
    });
    expect(emptyApproved.exitCode).toBe(0);
  });
});

describe('faults through the bundled action', () => {
  it('lock contention: retries, then a clear failure with nothing half-applied', async () => {
    const db = await newDb();
    const repo = await sqlRepo('contention', { '001.sql': 'CREATE TABLE hot (id int);' });
    await runAction({ action: 'migrate', cwd: repo, inputs: { 'database-url': db.url } });
    await writeFile(
      path.join(repo, 'migrations/002.sql'),
      'ALTER TABLE hot ADD COLUMN a int;\nALTER TABLE hot ADD COLUMN b int;',
    );
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN; LOCK TABLE hot IN ACCESS EXCLUSIVE MODE');
      const r = await runAction({
        action: 'migrate',
        cwd: repo,
        inputs: { 'database-url': db.url, 'lock-timeout': '200ms', 'max-retries': '2' },
      });
      expectOneCleanError(
        r,
        /002\.sql:1: canceling statement due to lock timeout \(SQLSTATE 55P03\) — gave up after 3 attempt\(s\)/,
      );
      // The error points at the statement in the pull request / run views.
      expect(r.annotations.find((a) => a.level === 'error')?.properties).toMatchObject({
        file: 'migrations/002.sql',
        line: '1',
        title: 'Migration failed',
      });
      expect(
        r.annotations.filter((a) => a.level === 'warning' && /lock timeout \(attempt \d of 3\)/.test(a.message)),
      ).toHaveLength(2);
      expect(r.outputs['applied-count']).toBe('0');
      expect(r.summary).toContain('Migration failed — nothing applied');
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
    expect(
      await query(db.url, `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'hot'`),
    ).toEqual([{ n: 1 }]);
    expect(await query(db.url, 'SELECT id FROM rail_actions.schema_migrations')).toEqual([{ id: '001.sql' }]);
  });

  it('SIGTERM mid-migration: the running transaction is rolled back and nothing is recorded wrongly', async () => {
    const db = await newDb();
    const repo = await sqlRepo('sigterm', {
      '001_fast.sql': 'CREATE TABLE fast (id int);',
      '002_slow.sql': 'CREATE TABLE slow (id int);\nINSERT INTO slow VALUES (1);\nSELECT pg_sleep(120);',
      '003_never.sql': 'CREATE TABLE never (id int);',
    });
    const running = startAction({
      action: 'migrate',
      cwd: repo,
      inputs: { 'database-url': db.url },
      timeoutMs: 90_000,
    });
    await running.waitForOutput(/Applying migrations\/002_slow\.sql/);
    await waitFor('pg_sleep to run on the server', async () => {
      const rows = await query<{ n: number }>(
        db.url,
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(120)%'`,
      );
      return (rows[0]?.n ?? 0) > 0;
    });
    running.kill('SIGTERM');
    const r = await running.result;
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(1);
    expect(r.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /Cancelled while applying migrations\/002_slow\.sql: its open transaction was rolled back and it was NOT recorded/,
    );
    expect(JSON.parse(r.outputs.applied ?? '[]')).toEqual([
      expect.objectContaining({ file: 'migrations/001_fast.sql' }),
    ]);
    await waitFor('the sleeping statement to be gone', async () => {
      const rows = await query<{ n: number }>(
        db.url,
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(120)%'`,
      );
      return rows[0]?.n === 0;
    });
    expect(
      await query(db.url, `SELECT to_regclass('slow')::text AS slow, to_regclass('never')::text AS never`),
    ).toEqual([{ slow: null, never: null }]);
    expect(await query(db.url, 'SELECT id FROM rail_actions.schema_migrations')).toEqual([{ id: '001_fast.sql' }]);
    // The lock died with the session: the next run applies the rest.
    await writeFile(
      path.join(repo, 'migrations/002_slow.sql'),
      'CREATE TABLE slow (id int);\nINSERT INTO slow VALUES (1);',
    );
    const next = await runAction({
      action: 'migrate',
      cwd: repo,
      inputs: { 'database-url': db.url, 'lock-wait': '0' },
    });
    expect(next.exitCode).toBe(0);
    expect(next.outputs['applied-count']).toBe('2');
  });

  it('two concurrent deploys: exactly one applies, the other waits and exits cleanly with nothing to do', async () => {
    const db = await newDb();
    const repo = await sqlRepo('concurrent', {
      '001.sql': `CREATE TABLE once (id int);\n${WAIT_FOR_OTHER_RUNNER}`,
      '002.sql': 'INSERT INTO once VALUES (1);',
    });
    const [a, b] = await Promise.all([
      runAction({ action: 'migrate', cwd: repo, inputs: { 'database-url': db.url } }),
      runAction({ action: 'migrate', cwd: repo, inputs: { 'database-url': db.url } }),
    ]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    expect([a.outputs['applied-count'], b.outputs['applied-count']].sort()).toEqual(['0', '2']);
    const waiter = a.outputs['applied-count'] === '0' ? a : b;
    expect(waiter.logLines.join('\n')).toMatch(/Another migration holds the rail-actions migration lock/);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM once')).toEqual([{ n: 1 }]);
  });

  it('an invalid index left by a failed concurrent build is reported and fails the step', async () => {
    const db = await newDb();
    const repo = await sqlRepo('invalid-index', {
      '001.sql': "CREATE TABLE accounts (email text);\nINSERT INTO accounts VALUES ('x@y'), ('x@y');",
      '002.sql': 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS accounts_email_key ON accounts (email);',
    });
    const r = await runAction({ action: 'migrate', cwd: repo, inputs: { 'database-url': db.url } });
    expectOneCleanError(
      r,
      /002\.sql:1: could not create unique index "accounts_email_key".*Invalid indexes: "public"\."accounts_email_key" on accounts/s,
    );
    expect(r.outputs['applied-count']).toBe('1');
    expect(r.summary).toContain('accounts_email_key');
    expect(
      await query(db.url, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_email_key'::regclass`),
    ).toEqual([{ indisvalid: false }]);
    expect(await query(db.url, 'SELECT id FROM rail_actions.schema_migrations')).toEqual([{ id: '001.sql' }]);
  });
});
