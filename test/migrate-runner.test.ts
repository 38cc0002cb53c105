// The safe migration runner against real PostgreSQL 15 + pgvector: per-tool history records, lock contention with
// retries, rollback of a failing file, invalid indexes, plan-hash, concurrency, the project's own command, rehearsal.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/migrations/hash.js';
import { findPending } from '../src/migrations/pending.js';
import { type ApplyOptions, MigrationFailedError, applyMigrations } from '../src/migrations/runner/apply.js';
import { rehearseMigrations } from '../src/migrations/runner/rehearse.js';
import { type TestDatabase, createTestDatabase } from './helpers/db.js';
import { RUNNER_APP, failure, fixture, waitUntil, WAIT_FOR_OTHER_RUNNER } from './helpers/migrations.js';

let tmp: string;
const dbs: TestDatabase[] = [];
const clients: pg.Client[] = [];

async function newDb(): Promise<TestDatabase> {
  const db = await createTestDatabase('migrate_runner');
  dbs.push(db);
  return db;
}

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  clients.push(c);
  return c;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values?: unknown[]): Promise<T[]> {
  const c = await connect(url);
  try {
    return (await c.query<T>(sql, values)).rows;
  } finally {
    await c.end();
    clients.splice(clients.indexOf(c), 1);
  }
}

function opts(databaseUrl: string, cwd: string, extra: Partial<ApplyOptions> = {}): ApplyOptions {
  const logs: string[] = [];
  return {
    databaseUrl,
    cwd,
    dir: '',
    tool: 'auto',
    lockTimeoutMs: 5000,
    statementTimeoutMs: 60_000,
    lockWaitMs: 30_000,
    maxRetries: 3,
    backoff: { initialDelayMs: 50, maxDelayMs: 200, factor: 2 },
    log: (m) => logs.push(m),
    ...extra,
  };
}

/** A repository with plain SQL migrations written by the test. */
async function sqlRepo(name: string, files: Record<string, string>): Promise<string> {
  const root = path.join(tmp, name);
  await mkdir(path.join(root, 'migrations'), { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(root, 'migrations', file), text);
  return root;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rail-runner-'));
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => undefined);
});

afterAll(async () => {
  for (const db of dbs) await db.drop().catch(() => undefined);
  await rm(tmp, { recursive: true, force: true });
});

describe('applying each tool and recording history the way the tool does', () => {
  it('Prisma: _prisma_migrations rows are exactly what `prisma migrate deploy` writes, and nothing is pending afterwards', async () => {
    const db = await newDb();
    const result = await applyMigrations(opts(db.url, fixture('prisma')));
    expect(result.tool).toBe('prisma');
    expect(result.applied.map((a) => a.id)).toEqual([
      '20240105120000_init',
      '20240212093000_document_embeddings',
      '20240301080000_document_embedding_index',
    ]);
    expect(result.applied.map((a) => a.statements)).toEqual([4, 2, 1]);

    const rows = await query<{
      id: string;
      checksum: string;
      finished_at: Date | null;
      migration_name: string;
      logs: string | null;
      rolled_back_at: Date | null;
      started_at: Date;
      applied_steps_count: number;
    }>(db.url, 'SELECT * FROM _prisma_migrations ORDER BY migration_name');
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      const file = await readFile(
        path.join(fixture('prisma'), 'prisma/migrations', row.migration_name, 'migration.sql'),
      );
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.checksum).toBe(sha256Hex(file));
      expect(row.logs).toBeNull();
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    }
    // The table has Prisma's own column types (varchar(36)/varchar(64)/timestamptz …).
    const cols = await query<{
      column_name: string;
      data_type: string;
      character_maximum_length: number | null;
      is_nullable: string;
    }>(
      db.url,
      `SELECT column_name, data_type, character_maximum_length, is_nullable FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(cols.map((c) => [c.column_name, c.data_type, c.character_maximum_length, c.is_nullable])).toEqual([
      ['id', 'character varying', 36, 'NO'],
      ['checksum', 'character varying', 64, 'NO'],
      ['finished_at', 'timestamp with time zone', null, 'YES'],
      ['migration_name', 'character varying', 255, 'NO'],
      ['logs', 'text', null, 'YES'],
      ['rolled_back_at', 'timestamp with time zone', null, 'YES'],
      ['started_at', 'timestamp with time zone', null, 'NO'],
      ['applied_steps_count', 'integer', null, 'NO'],
    ]);
    // pgvector really works on the migrated schema, and the concurrent HNSW index is valid.
    const idx = await query<{ indisvalid: boolean }>(
      db.url,
      `SELECT indisvalid FROM pg_index WHERE indexrelid = '"Document_embedding_hnsw_idx"'::regclass`,
    );
    expect(idx).toEqual([{ indisvalid: true }]);
    const after = await findPending({ databaseUrl: db.url, dir: '', cwd: fixture('prisma') });
    expect(after.pending).toEqual([]);
    expect(after.anomalies).toEqual([]);
    // A second run is a no-op.
    const again = await applyMigrations(opts(db.url, fixture('prisma')));
    expect(again.applied).toEqual([]);
  });

  it('Drizzle: drizzle.__drizzle_migrations gets (hash, created_at = journal when) per file', async () => {
    const db = await newDb();
    const result = await applyMigrations(opts(db.url, fixture('drizzle')));
    expect(result.applied.map((a) => a.id)).toEqual(['0000_lazy_the_hood', '0001_wise_morbius', '0002_orange_sentry']);
    const rows = await query<{ hash: string; created_at: string }>(
      db.url,
      'SELECT hash, created_at::text FROM drizzle.__drizzle_migrations ORDER BY id',
    );
    const journal = JSON.parse(await readFile(path.join(fixture('drizzle'), 'drizzle/meta/_journal.json'), 'utf8')) as {
      entries: Array<{ tag: string; when: number }>;
    };
    expect(rows).toEqual(
      await Promise.all(
        journal.entries.map(async (e) => ({
          hash: sha256Hex(await readFile(path.join(fixture('drizzle'), 'drizzle', `${e.tag}.sql`))),
          created_at: String(e.when),
        })),
      ),
    );
    expect((await findPending({ databaseUrl: db.url, dir: '', cwd: fixture('drizzle') })).pending).toEqual([]);
  });

  it('golang-migrate: one (version, dirty=false) row at the newest version; the concurrent index is built outside a transaction', async () => {
    const db = await newDb();
    const result = await applyMigrations(opts(db.url, fixture('golang-migrate')));
    expect(result.applied.map((a) => a.id)).toEqual(['1', '2', '3']);
    expect(await query(db.url, 'SELECT version::text, dirty FROM schema_migrations')).toEqual([
      { version: '3', dirty: false },
    ]);
    expect(
      await query(db.url, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_created_at_idx'::regclass`),
    ).toEqual([{ indisvalid: true }]);
  });

  it('dbmate: one version row per file, transaction:false file applied', async () => {
    const db = await newDb();
    await applyMigrations(opts(db.url, fixture('dbmate')));
    expect(await query(db.url, 'SELECT version FROM schema_migrations ORDER BY version')).toEqual([
      { version: '20240301100000' },
      { version: '20240302100000' },
      { version: '20240303100000' },
    ]);
  });

  it('plain SQL: rail_actions.schema_migrations rows with sha256, timing and user; a mixed file runs its ALTER in a transaction and the CIC alone', async () => {
    const db = await newDb();
    const o = opts(db.url, fixture('sql'));
    const logs: string[] = [];
    o.log = (m) => logs.push(m);
    const result = await applyMigrations(o);
    expect(result.applied.map((a) => [a.id, a.statements])).toEqual([
      ['001_products.sql', 2],
      ['002_product_embeddings.sql', 3],
      ['010_products_search.sql', 3],
    ]);
    expect(logs.join('\n')).toMatch(
      /010_products_search\.sql:3: IndexStmt runs on its own \(cannot run inside a transaction\)/,
    );
    const rows = await query<{ id: string; checksum: string; execution_ms: number; applied_by: string }>(
      db.url,
      'SELECT id, checksum, execution_ms, applied_by FROM rail_actions.schema_migrations ORDER BY id',
    );
    for (const row of rows) {
      expect(row.checksum).toBe(sha256Hex(await readFile(path.join(fixture('sql'), 'migrations', row.id))));
      expect(row.execution_ms).toBeGreaterThanOrEqual(0);
      expect(row.applied_by).toBe(new URL(db.url).username || 'postgres');
    }
    expect(await query(db.url, `SELECT name, embedding::text FROM products WHERE name = 'café'`)).toEqual([
      { name: 'café', embedding: '[1,2,3]' },
    ]);
  });

  it('refuses JS/TS migrations without a command, before writing anything', async () => {
    const db = await newDb();
    const err = await failure<Error>(applyMigrations(opts(db.url, fixture('node-pg-migrate'))));
    expect(err.message).toMatch(
      /Input 'command': 1 pending migration\(s\) are JS\/TS code .*1718200000000_backfill-names\.js/,
    );
    expect(
      await query(db.url, `SELECT to_regclass('pgmigrations')::text AS t, to_regclass('items')::text AS items`),
    ).toEqual([{ t: null, items: null }]);
  });
});

describe('faults', () => {
  it('lock contention: retries with backoff, then fails clearly with nothing of the file applied or recorded', async () => {
    const db = await newDb();
    const repo = await sqlRepo('contention', {
      '001_table.sql': 'CREATE TABLE busy (id int PRIMARY KEY);',
      '002_alter.sql': 'ALTER TABLE busy ADD COLUMN a int;\nALTER TABLE busy ADD COLUMN b int;',
    });
    // Apply both, then undo 002 so that only 001 is applied; then hold ACCESS EXCLUSIVE on the table elsewhere.
    await applyMigrations({ ...opts(db.url, repo), dir: 'migrations' });
    await query(
      db.url,
      `ALTER TABLE busy DROP COLUMN IF EXISTS a; ALTER TABLE busy DROP COLUMN IF EXISTS b; DELETE FROM rail_actions.schema_migrations WHERE id = '002_alter.sql'`,
    );
    const holder = await connect(db.url);
    await holder.query('BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE');
    const warnings: string[] = [];
    const err = await failure<MigrationFailedError>(
      applyMigrations({
        ...opts(db.url, repo),
        dir: 'migrations',
        lockTimeoutMs: 200,
        maxRetries: 2,
        warn: (m) => warnings.push(m),
      }),
    );
    await holder.query('ROLLBACK');
    expect(err).toBeInstanceOf(MigrationFailedError);
    expect(err.message).toMatch(
      /migrations\/002_alter\.sql:1: canceling statement due to lock timeout \(SQLSTATE 55P03\) — gave up after 3 attempt\(s\)/,
    );
    expect(err.message).toMatch(/NOT recorded as applied; its transaction was rolled back/);
    expect(warnings.filter((w) => /lock timeout \(attempt \d of 3\); rolled back, retrying/.test(w))).toHaveLength(2);
    expect(
      await query(
        db.url,
        `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'busy' AND column_name IN ('a', 'b')`,
      ),
    ).toEqual([{ n: 0 }]);
    expect(await query(db.url, 'SELECT id FROM rail_actions.schema_migrations ORDER BY id')).toEqual([
      { id: '001_table.sql' },
    ]);
  });

  it('a SET in one file does not loosen the lock_timeout of the next file', async () => {
    const db = await newDb();
    await query(db.url, 'CREATE TABLE guarded (id int)');
    const repo = await sqlRepo('set-leak', {
      '001_loosen.sql': "SET lock_timeout = '10min';\nCREATE TABLE other (id int);",
      '002_alter.sql': 'ALTER TABLE guarded ADD COLUMN a int;',
    });
    const holder = await connect(db.url);
    await holder.query('BEGIN; LOCK TABLE guarded IN ACCESS EXCLUSIVE MODE');
    const err = await failure<MigrationFailedError>(
      applyMigrations({ ...opts(db.url, repo), dir: 'migrations', lockTimeoutMs: 200, maxRetries: 0 }),
    );
    await holder.query('ROLLBACK');
    expect(err.message).toMatch(/002_alter\.sql:1: canceling statement due to lock timeout/);
    expect(err.applied.map((a) => a.id)).toEqual(['001_loosen.sql']);
  });

  it('lock contention that clears during the retries: the file is applied once', async () => {
    const db = await newDb();
    const repo = await sqlRepo('contention-clears', {
      '001_table.sql': 'CREATE TABLE t1 (id int);',
      '002_alter.sql': 'ALTER TABLE t1 ADD COLUMN a int;',
    });
    await applyMigrations({ ...opts(db.url, repo), dir: 'migrations' });
    await query(
      db.url,
      `ALTER TABLE t1 DROP COLUMN a; DELETE FROM rail_actions.schema_migrations WHERE id = '002_alter.sql'`,
    );
    const holder = await connect(db.url);
    await holder.query('BEGIN; LOCK TABLE t1 IN ACCESS EXCLUSIVE MODE');
    let released = false;
    const result = await applyMigrations({
      ...opts(db.url, repo),
      dir: 'migrations',
      lockTimeoutMs: 150,
      maxRetries: 5,
      warn: () => {
        if (!released) {
          released = true;
          void holder.query('ROLLBACK');
        }
      },
    });
    expect(released).toBe(true);
    expect(result.applied.map((a) => a.id)).toEqual(['002_alter.sql']);
  });

  it('CREATE INDEX CONCURRENTLY timing out behind an open writer: the INVALID leftover is dropped and the build retried', async () => {
    const db = await newDb();
    const repo = await sqlRepo('cic-retry', { '001_t.sql': 'CREATE TABLE big (id int);' });
    await applyMigrations({ ...opts(db.url, repo), dir: 'migrations' });
    await writeFile(path.join(repo, 'migrations/002_idx.sql'), 'CREATE INDEX CONCURRENTLY big_id_idx ON big (id);');
    // An open writing transaction: the build creates its (invalid) index, then waits for the writer and times out.
    const holder = await connect(db.url);
    await holder.query('BEGIN; INSERT INTO big VALUES (1)');
    const warnings: string[] = [];
    let released = false;
    const result = await applyMigrations({
      ...opts(db.url, repo),
      dir: 'migrations',
      lockTimeoutMs: 300,
      maxRetries: 4,
      warn: (m) => {
        warnings.push(m);
        if (!released && /lock timeout/.test(m)) {
          released = true;
          void holder.query('ROLLBACK');
        }
      },
    });
    expect(released).toBe(true);
    expect(result.applied.map((a) => a.id)).toEqual(['002_idx.sql']);
    expect(warnings.join('\n')).toMatch(
      /002_idx\.sql:1: dropping the INVALID index public\.big_id_idx left by the interrupted concurrent build/,
    );
    expect(await query(db.url, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_id_idx'::regclass`)).toEqual([
      { indisvalid: true },
    ]);
  });

  it('a failing statement mid-file rolls the whole file back and does not record it', async () => {
    const db = await newDb();
    const repo = await sqlRepo('mid-file', {
      '001_ok.sql': 'CREATE TABLE ok1 (id int);',
      '002_bad.sql':
        "CREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\n-- next line fails\nINSERT INTO half VALUES ('not a number');\nCREATE TABLE never (id int);",
      '003_after.sql': 'CREATE TABLE after3 (id int);',
    });
    const err = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(err).toBeInstanceOf(MigrationFailedError);
    expect(err.message).toMatch(
      /^migrations\/002_bad\.sql:4: invalid input syntax for type integer: "not a number" \(SQLSTATE 22P02\)\. .* NOT recorded as applied; its transaction was rolled back/,
    );
    expect(err.applied.map((a) => a.id)).toEqual(['001_ok.sql']);
    expect(
      await query(
        db.url,
        `SELECT to_regclass('half')::text AS half, to_regclass('never')::text AS never, to_regclass('after3')::text AS after3`,
      ),
    ).toEqual([{ half: null, never: null, after3: null }]);
    expect(await query(db.url, 'SELECT id FROM rail_actions.schema_migrations')).toEqual([{ id: '001_ok.sql' }]);
  });

  it('unparseable SQL in a later file stops the run before anything is applied', async () => {
    const db = await newDb();
    const repo = await sqlRepo('parse-error', {
      '001_ok.sql': 'CREATE TABLE p1 (id int);',
      '002_bad.sql': '-- ünïcode\nCREATE TABLE p2 (id int);\nCREAT TABLE oops;',
    });
    const err = await failure<Error>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(err.message).toMatch(/migrations\/002_bad\.sql:3: cannot parse SQL: syntax error at or near "CREAT"/);
    expect(await query(db.url, `SELECT to_regclass('p1')::text AS p1`)).toEqual([{ p1: null }]);
  });

  it('a failed CREATE UNIQUE INDEX CONCURRENTLY: its invalid index is reported, and the next run drops it and builds again', async () => {
    const db = await newDb();
    const repo = await sqlRepo('invalid-index', {
      '001_data.sql': "CREATE TABLE emails (v text);\nINSERT INTO emails VALUES ('a@x'), ('a@x');",
      '002_unique.sql': 'CREATE UNIQUE INDEX CONCURRENTLY emails_v_key ON emails (v);',
    });
    const err = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(err).toBeInstanceOf(MigrationFailedError);
    expect(err.message).toMatch(
      /^migrations\/002_unique\.sql:1: could not create unique index "emails_v_key" \(SQLSTATE 23505\)\. None of its 1 statement groups is committed\. Group 1 \(line 1, IndexStmt, outside a transaction\) did not complete; it left the INVALID index public\.emails_v_key, which the next run drops before building it again\. migrations\/002_unique\.sql was NOT recorded as applied/,
    );
    expect(err.invalidIndexes).toEqual([{ schema: 'public', index: 'emails_v_key', table: 'emails' }]);
    expect(err.message).toMatch(
      /Invalid indexes: "public"\."emails_v_key" on emails \(left by this build; the next run drops it before building again\)\./,
    );
    expect(err.partial).toBeUndefined();
    expect(await query(db.url, 'SELECT id FROM rail_actions.schema_migrations')).toEqual([{ id: '001_data.sql' }]);

    // The duplicates fixed (and the file edited while nothing of it committed): the leftover goes, the build runs.
    await query(db.url, `DELETE FROM emails WHERE ctid <> (SELECT min(ctid) FROM emails)`);
    await writeFile(
      path.join(repo, 'migrations/002_unique.sql'),
      'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS emails_v_key ON emails (v);',
    );
    const logs: string[] = [];
    const again = await applyMigrations({ ...opts(db.url, repo), dir: 'migrations', log: (m) => logs.push(m) });
    expect(again.applied.map((a) => a.id)).toEqual(['002_unique.sql']);
    expect(logs.join('\n')).toMatch(
      /002_unique\.sql:1: dropping the INVALID index public\.emails_v_key left by the interrupted concurrent build/,
    );
    expect(logs.join('\n')).toMatch(
      /002_unique\.sql: an interrupted run \(.*\) committed none of it; it changed since and runs from the start/,
    );
    expect(await query(db.url, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'emails_v_key'::regclass`)).toEqual([
      { indisvalid: true },
    ]);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM rail_actions.migration_progress')).toEqual([{ n: 0 }]);
  });

  it('an INVALID index rail-actions did not make, kept by IF NOT EXISTS: reported, the file not recorded', async () => {
    const db = await newDb();
    await query(db.url, "CREATE TABLE emails (v text); INSERT INTO emails VALUES ('a@x'), ('a@x')");
    // Someone's failed build, outside rail-actions.
    await query(db.url, 'CREATE UNIQUE INDEX CONCURRENTLY emails_v_key ON emails (v)').catch(() => undefined);
    await query(db.url, `DELETE FROM emails WHERE ctid <> (SELECT min(ctid) FROM emails)`);
    const repo = await sqlRepo('foreign-invalid-index', {
      '001_unique.sql': 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS emails_v_key ON emails (v);',
    });
    const err = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(err.message).toMatch(
      /^migrations\/001_unique\.sql:1: invalid index\(es\) after the concurrent index build — an earlier failed build left them, and IF NOT EXISTS skips an INVALID index: "public"\."emails_v_key" on emails \(fix: DROP INDEX CONCURRENTLY "public"\."emails_v_key"; then re-run\)\. None of its 1 statement groups is committed\. migrations\/001_unique\.sql was NOT recorded as applied/,
    );
    // Not ours, so never dropped by us: the next run reports it again.
    const again = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(again.message).toMatch(/IF NOT EXISTS skips an INVALID index: "public"\."emails_v_key"/);
    expect(await query(db.url, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'emails_v_key'::regclass`)).toEqual([
      { indisvalid: false },
    ]);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM rail_actions.schema_migrations')).toEqual([{ n: 0 }]);
  });

  it('golang-migrate: a mixed file that fails in its concurrent part stays dirty, as golang-migrate leaves it, and the next run resumes it', async () => {
    const db = await newDb();
    const repo = path.join(tmp, 'golang-dirty');
    await mkdir(path.join(repo, 'migrations'), { recursive: true });
    await writeFile(
      path.join(repo, 'migrations/000001_t.up.sql'),
      "CREATE TABLE t (v text);\nINSERT INTO t VALUES ('dup'), ('dup');",
    );
    await writeFile(
      path.join(repo, 'migrations/000002_mixed.up.sql'),
      'ALTER TABLE t ADD COLUMN note text;\nCREATE UNIQUE INDEX CONCURRENTLY t_v_key ON t (v);',
    );
    const logs: string[] = [];
    const err = await failure<MigrationFailedError>(
      applyMigrations({ ...opts(db.url, repo), log: (m) => logs.push(m) }),
    );
    expect(err.message).toMatch(
      /^migrations\/000002_mixed\.up\.sql:2: could not create unique index "t_v_key" \(SQLSTATE 23505\)\. Committed: group 1 \(line 1\) of 2\. Group 2 \(line 2, IndexStmt, outside a transaction\) did not complete; it left the INVALID index public\.t_v_key, which the next run drops before building it again\. migrations\/000002_mixed\.up\.sql was NOT recorded as applied in "public"\.schema_migrations: the tool still sees it as pending, and the next rail-actions run resumes it at group 2 .*; fix the cause first, without editing the file/s,
    );
    expect(err.message).not.toMatch(/rolled back/);
    expect(err.applied.map((a) => a.id)).toEqual(['1']);
    expect(err.partial).toEqual({
      file: 'migrations/000002_mixed.up.sql',
      id: '2',
      groups: 2,
      committedGroups: [1],
      resumeAt: 2,
    });
    // The transactional part committed before the concurrent build; the version row says "2, dirty", so golang-migrate
    // itself refuses to run over it (its `force` would be needed), and the gate reports it.
    expect(await query(db.url, 'SELECT version::text, dirty FROM schema_migrations')).toEqual([
      { version: '2', dirty: true },
    ]);
    const report = await findPending({ databaseUrl: db.url, dir: '', cwd: repo });
    expect(report.anomalies.map((a) => a.kind)).toEqual(['dirty']);

    // rail-actions knows the dirty version is its own unfinished file: fixed data, same file → resumed at group 2.
    await query(db.url, `DELETE FROM t WHERE ctid <> (SELECT min(ctid) FROM t)`);
    const resumedLogs: string[] = [];
    const result = await applyMigrations({ ...opts(db.url, repo), log: (m) => resumedLogs.push(m) });
    expect(result.applied).toEqual([expect.objectContaining({ id: '2', statements: 1, resumedAtGroup: 2 })]);
    expect(resumedLogs.join('\n')).toMatch(
      /Resuming migrations\/000002_mixed\.up\.sql, interrupted at .*: group 1 \(line 1\) of 2 committed; continuing at group 2 \(line 2\)/,
    );
    expect(await query(db.url, 'SELECT version::text, dirty FROM schema_migrations')).toEqual([
      { version: '2', dirty: false },
    ]);
    expect(await query(db.url, `SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v_key'::regclass`)).toEqual([
      { indisvalid: true },
    ]);
    expect(
      await query(
        db.url,
        `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 't' AND column_name = 'note'`,
      ),
    ).toEqual([{ n: 1 }]);
    expect((await findPending({ databaseUrl: db.url, dir: '', cwd: repo })).anomalies).toEqual([]);
  });

  it('plan-hash: refuses a different set of pending files, applies the approved one', async () => {
    const db = await newDb();
    const before = await findPending({ databaseUrl: db.url, dir: '', cwd: fixture('sql') });
    const { planHash } = await import('../src/migrations/hash.js');
    const approved = planHash(before.pending);
    const edited = path.join(tmp, 'plan-hash');
    await cp(fixture('sql'), edited, { recursive: true });
    await writeFile(
      path.join(edited, 'migrations/002_product_embeddings.sql'),
      'CREATE EXTENSION IF NOT EXISTS vector;\nDROP TABLE products;',
    );
    const err = await failure<Error>(applyMigrations({ ...opts(db.url, edited), planHash: approved }));
    expect(err.message).toMatch(
      /Refusing to migrate: the pending migrations .* hash to [0-9a-f]{64}, not the approved plan-hash/,
    );
    expect(await query(db.url, `SELECT to_regclass('products')::text AS t`)).toEqual([{ t: null }]);
    const ok = await applyMigrations({ ...opts(db.url, fixture('sql')), planHash: approved });
    expect(ok.applied).toHaveLength(3);
    expect(ok.planHash).toBe(approved);
  });

  it('two concurrent runners: exactly one applies, the other waits for the lock and finds nothing pending', async () => {
    const db = await newDb();
    const repo = await sqlRepo('concurrent', {
      '001_slow.sql': `CREATE TABLE slow (id int);\n${WAIT_FOR_OTHER_RUNNER}`,
      '002_next.sql': 'INSERT INTO slow VALUES (1);',
    });
    const logsA: string[] = [];
    const logsB: string[] = [];
    const [a, b] = await Promise.all([
      applyMigrations({ ...opts(db.url, repo), dir: 'migrations', log: (m) => logsA.push(m) }),
      applyMigrations({ ...opts(db.url, repo), dir: 'migrations', log: (m) => logsB.push(m) }),
    ]);
    const counts = [a.applied.length, b.applied.length].sort();
    expect(counts).toEqual([0, 2]);
    expect([...logsA, ...logsB].join('\n')).toMatch(
      /Another migration holds the rail-actions migration lock \(pid \d+/,
    );
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM slow')).toEqual([{ n: 1 }]);
    expect(await query(db.url, 'SELECT id FROM rail_actions.schema_migrations ORDER BY id')).toEqual([
      { id: '001_slow.sql' },
      { id: '002_next.sql' },
    ]);
  });

  it('lock-wait 0 with another migration running: fails cleanly without applying anything', async () => {
    const db = await newDb();
    const holder = await connect(db.url);
    await holder.query('SELECT pg_advisory_lock(7437978639320082070)');
    const err = await failure<Error>(applyMigrations({ ...opts(db.url, fixture('sql')), lockWaitMs: 0 }));
    expect(err.message).toMatch(/Another rail-actions migration still holds the migration lock .* nothing was applied/);
    expect(await query(db.url, `SELECT to_regclass('products')::text AS t`)).toEqual([{ t: null }]);
  });

  it('cancellation mid-statement: the transaction is rolled back and the file is not recorded', async () => {
    const db = await newDb();
    const repo = await sqlRepo('cancel', {
      '001_fast.sql': 'CREATE TABLE fast (id int);',
      '002_sleepy.sql': 'CREATE TABLE sleepy (id int);\nSELECT pg_sleep(60);',
    });
    const controller = new AbortController();
    const run = applyMigrations({ ...opts(db.url, repo), dir: 'migrations', signal: controller.signal });
    // Abort once the sleep is really running on the server.
    for (let i = 0; i < 200; i++) {
      const rows = await query<{ n: number }>(
        db.url,
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND datname = current_database()`,
      );
      if (rows[0]?.n) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    controller.abort();
    const err = await failure<MigrationFailedError>(run);
    expect(err).toBeInstanceOf(MigrationFailedError);
    expect(err.message).toMatch(
      /Cancelled while applying migrations\/002_sleepy\.sql: its open transaction was rolled back and it was NOT recorded/,
    );
    expect(err.applied.map((a) => a.id)).toEqual(['001_fast.sql']);
    expect(await query(db.url, `SELECT to_regclass('sleepy')::text AS t`)).toEqual([{ t: null }]);
    expect(await query(db.url, 'SELECT id FROM rail_actions.schema_migrations')).toEqual([{ id: '001_fast.sql' }]);
  });

  it('anomalies stop the runner before it applies anything', async () => {
    const db = await newDb();
    await query(
      db.url,
      'CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null); INSERT INTO schema_migrations VALUES (1, true)',
    );
    const err = await failure<Error>(applyMigrations(opts(db.url, fixture('golang-migrate'))));
    expect(err.message).toMatch(
      /Refusing to migrate the database: 1 anomaly\(ies\) need a human first:\n {2}- \[dirty\] golang-migrate schema_migrations is dirty at version 1/,
    );
    expect(await query(db.url, `SELECT to_regclass('accounts')::text AS t`)).toEqual([{ t: null }]);
  });
});

describe('interrupted files: progress per statement group, resumed by the next run', () => {
  /** Aborts `controller` once `check` holds (PostgreSQL shows the runner where the test wants it). */
  async function abortWhen(controller: AbortController, what: string, check: () => Promise<boolean>): Promise<void> {
    await waitUntil(what, check);
    controller.abort();
  }
  const runnerWaits = (url: string, prefix: string) => async () =>
    ((
      await query<{ n: number }>(
        url,
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock' AND starts_with(query, $2)`,
        [RUNNER_APP, prefix],
      )
    )[0]?.n ?? 0) > 0;
  const progressRows = (url: string) =>
    query<{ migration: string; group_no: number; finished: boolean }>(
      url,
      'SELECT migration, group_no, finished_at IS NOT NULL AS finished FROM rail_actions.migration_progress ORDER BY migration, group_no',
    );

  it('a file edited after some of it committed is refused (as are an earlier pending file and the own command); restored, it resumes', async () => {
    const db = await newDb();
    const mixed =
      'CREATE TABLE side (id int);\nCREATE UNIQUE INDEX CONCURRENTLY t_v_key ON t (v);\nINSERT INTO side VALUES (1);';
    const repo = await sqlRepo('edited', {
      '001_t.sql': "CREATE TABLE t (v text);\nINSERT INTO t VALUES ('dup'), ('dup');",
      '002_mixed.sql': mixed,
    });
    const first = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(first.partial).toMatchObject({ committedGroups: [1], resumeAt: 2, groups: 3 });

    await writeFile(path.join(repo, 'migrations/002_mixed.sql'), mixed.replace('ON t (v)', 'ON t (lower(v))'));
    const edited = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(edited.message).toMatch(
      /^Refusing to resume migrations\/002_mixed\.sql: an interrupted run \(.+\) committed group 1 \(line 1\) of 3 statement groups of a different version of it, and the file changed since \(sha256 of its SQL was [0-9a-f]{12}…, now [0-9a-f]{12}…\)\. Restore the file as it was, and the next run resumes it; or finish or undo those statements by hand and then DELETE FROM "rail_actions"\."migration_progress" WHERE migration = '002_mixed\.sql'\.$/,
    );
    await writeFile(path.join(repo, 'migrations/002_mixed.sql'), mixed);

    // A pending file ordered before the unfinished one would change what ran before its remaining groups.
    await writeFile(path.join(repo, 'migrations/001b_new.sql'), 'CREATE TABLE newer (id int);');
    const earlier = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(earlier.message).toMatch(
      /^Refusing to migrate: migrations\/002_mixed\.sql was partly applied by an interrupted run \(.+; group 1 \(line 1\) committed\), but migrations\/001b_new\.sql — pending and ordered before it — would run first/,
    );
    await rm(path.join(repo, 'migrations/001b_new.sql'));
    // The project's migrator would run the whole file again.
    const command = await failure<MigrationFailedError>(
      applyMigrations({ ...opts(db.url, repo), dir: 'migrations', command: 'exit 0' }),
    );
    expect(command.message).toMatch(
      /^Refusing to run command: migrations\/002_mixed\.sql was partly applied by an interrupted rail-actions run/,
    );
    expect(
      await query(db.url, `SELECT to_regclass('newer')::text AS t, (SELECT count(*)::int FROM side) AS side`),
    ).toEqual([{ t: null, side: 0 }]);

    await query(db.url, `DELETE FROM t WHERE ctid <> (SELECT min(ctid) FROM t)`);
    const done = await applyMigrations({ ...opts(db.url, repo), dir: 'migrations' });
    expect(done.applied).toEqual([expect.objectContaining({ id: '002_mixed.sql', statements: 2, resumedAtGroup: 2 })]);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM side')).toEqual([{ n: 1 }]);
    expect(await progressRows(db.url)).toEqual([]);

    // Progress rows of a file that is applied by now (a human finished it) are stale: removed, with a warning.
    await query(
      db.url,
      `INSERT INTO rail_actions.migration_progress (history, tool, migration, file, checksum, group_no, groups, first_line, last_line, statements, statement_hash)
       VALUES ('"rail_actions"."schema_migrations"', 'sql', '002_mixed.sql', 'migrations/002_mixed.sql', repeat('0', 64), 1, 3, 1, 1, 1, repeat('0', 64))`,
    );
    const warnings: string[] = [];
    expect(
      (await applyMigrations({ ...opts(db.url, repo), dir: 'migrations', warn: (m) => warnings.push(m) })).applied,
    ).toEqual([]);
    expect(warnings.join('\n')).toMatch(
      /migrations\/002_mixed\.sql is recorded as applied, but rail-actions progress rows of an interrupted run \(.+\) remain; removing them/,
    );
    expect(await progressRows(db.url)).toEqual([]);
  });

  it('BEGIN … COMMIT blocks written in the file are groups of their own; statements outside them commit one by one', async () => {
    const db = await newDb();
    await query(db.url, 'CREATE TABLE acc (id int PRIMARY KEY, n int NOT NULL); INSERT INTO acc VALUES (3, 0)');
    const repo = await sqlRepo('explicit', {
      '001_blocks.sql':
        'BEGIN;\nINSERT INTO acc VALUES (1, 0);\nCOMMIT;\nBEGIN ISOLATION LEVEL SERIALIZABLE;\nUPDATE acc SET n = n + 1 WHERE id = 1;\nINSERT INTO acc VALUES (2, 0);\nCOMMIT;\nINSERT INTO acc VALUES (3, 0);\nUPDATE acc SET n = n + 10 WHERE id = 2;',
    });
    await query(db.url, 'INSERT INTO acc VALUES (2, 100)');
    const err = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(err.message).toMatch(
      /^migrations\/001_blocks\.sql:6: duplicate key value violates unique constraint "acc_pkey" \(SQLSTATE 23505\)\. Committed: group 1 \(lines 1–3\) of 4\. Group 2 \(lines 4–7\) was rolled back and is run again by the next run\./,
    );
    expect(await query(db.url, 'SELECT id, n FROM acc ORDER BY id')).toEqual([
      { id: 1, n: 0 },
      { id: 2, n: 100 },
      { id: 3, n: 0 },
    ]);
    await query(db.url, 'DELETE FROM acc WHERE id IN (2, 3)');
    const done = await applyMigrations({ ...opts(db.url, repo), dir: 'migrations' });
    expect(done.applied).toEqual([expect.objectContaining({ statements: 6, resumedAtGroup: 2 })]);
    expect(await query(db.url, 'SELECT id, n FROM acc ORDER BY id')).toEqual([
      { id: 1, n: 1 },
      { id: 2, n: 10 },
      { id: 3, n: 0 },
    ]);

    // An unterminated BEGIN would leave a transaction open: refused before anything runs.
    await writeFile(
      path.join(repo, 'migrations/002_open.sql'),
      'CREATE TABLE never_open (id int);\nBEGIN;\nINSERT INTO acc VALUES (9, 9);',
    );
    const open = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(open.message).toBe(
      'migrations/002_open.sql:2: BEGIN without a matching COMMIT: the transaction would be left open; end it with COMMIT',
    );
    expect(open.location).toEqual({ file: 'migrations/002_open.sql', line: 2 });
    expect(await query(db.url, `SELECT to_regclass('never_open')::text AS t`)).toEqual([{ t: null }]);
  });

  it('a file that runs without a transaction: each statement commits with its progress, the next run starts at the failed one', async () => {
    const db = await newDb();
    await query(db.url, 'CREATE TABLE blocker (id int PRIMARY KEY); INSERT INTO blocker VALUES (1)');
    const repo = await sqlRepo('no-tx', {
      '001_each.sql':
        '-- rail-actions:no-transaction\nCREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nINSERT INTO blocker VALUES (1);\nINSERT INTO a VALUES (2);',
    });
    const err = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(err.message).toMatch(
      /^migrations\/001_each\.sql:4: duplicate key .* Committed: group 1 \(line 2\), group 2 \(line 3\) of 4\. Group 3 \(line 4\) was rolled back/,
    );
    expect(err.partial).toMatchObject({ committedGroups: [1, 2], resumeAt: 3 });
    await query(db.url, 'DELETE FROM blocker');
    const done = await applyMigrations({ ...opts(db.url, repo), dir: 'migrations' });
    expect(done.applied).toEqual([expect.objectContaining({ statements: 2, resumedAtGroup: 3 })]);
    expect(await query(db.url, 'SELECT id FROM a ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('Prisma: no _prisma_migrations row until the whole file is done (prisma sees it pending); resumed, one row as prisma writes it', async () => {
    const db = await newDb();
    const repo = path.join(tmp, 'prisma-mixed');
    await cp(fixture('prisma'), repo, { recursive: true });
    await applyMigrations(opts(db.url, repo));
    await query(db.url, `INSERT INTO "User" (email) VALUES ('a@x'), ('b@x')`);
    // Every user gets the same handle: the unique build fails after the column is committed.
    const dir = path.join(repo, 'prisma/migrations/20240401000000_user_handles');
    await mkdir(dir);
    await writeFile(
      path.join(dir, 'migration.sql'),
      'ALTER TABLE "User" ADD COLUMN "handle" TEXT NOT NULL DEFAULT \'same\';\nCREATE UNIQUE INDEX CONCURRENTLY "User_handle_key" ON "User"("handle");\nALTER TABLE "User" ALTER COLUMN "handle" DROP DEFAULT;',
    );
    const err = await failure<MigrationFailedError>(applyMigrations(opts(db.url, repo)));
    expect(err.partial).toMatchObject({ id: '20240401000000_user_handles', committedGroups: [1], resumeAt: 2 });
    expect(
      await query(
        db.url,
        `SELECT count(*)::int AS n FROM _prisma_migrations WHERE migration_name = '20240401000000_user_handles'`,
      ),
    ).toEqual([{ n: 0 }]);
    const pending = await findPending({ databaseUrl: db.url, dir: '', cwd: repo });
    expect(pending.pending.map((f) => f.id)).toEqual(['20240401000000_user_handles']);
    expect(pending.anomalies).toEqual([]);

    // The rehearsal copies the progress rows with the schema: it resumes on the copy as production will.
    await query(db.url, `UPDATE "User" SET handle = email`);
    const rehearsal = await rehearseMigrations({
      ...opts(db.url, repo),
      rehearsalDatabaseUrl: process.env.DATABASE_URL as string,
    });
    expect(rehearsal.error).toBeUndefined();
    expect(rehearsal.copiedTables).toContain('"rail_actions"."migration_progress"');
    expect(rehearsal.result?.applied).toEqual([
      expect.objectContaining({ id: '20240401000000_user_handles', resumedAtGroup: 2 }),
    ]);
    expect(
      await query(
        db.url,
        `SELECT count(*)::int AS n FROM _prisma_migrations WHERE migration_name = '20240401000000_user_handles'`,
      ),
    ).toEqual([{ n: 0 }]);

    const done = await applyMigrations(opts(db.url, repo));
    expect(done.applied).toEqual([expect.objectContaining({ id: '20240401000000_user_handles', resumedAtGroup: 2 })]);
    const rows = await query<{
      checksum: string;
      finished_at: Date | null;
      applied_steps_count: number;
      rolled_back_at: Date | null;
    }>(
      db.url,
      `SELECT checksum, finished_at, applied_steps_count, rolled_back_at FROM _prisma_migrations WHERE migration_name = '20240401000000_user_handles'`,
    );
    expect(rows).toEqual([
      {
        checksum: sha256Hex(await readFile(path.join(dir, 'migration.sql'))),
        finished_at: expect.any(Date) as Date,
        applied_steps_count: 1,
        rolled_back_at: null,
      },
    ]);
    expect(
      await query(db.url, `SELECT indisvalid FROM pg_index WHERE indexrelid = '"User_handle_key"'::regclass`),
    ).toEqual([{ indisvalid: true }]);
  });

  it('REINDEX CONCURRENTLY cancelled mid-build: its _ccnew leftover is reported, and dropped by the next run before it rebuilds', async () => {
    const db = await newDb();
    await query(
      db.url,
      'CREATE TABLE r (id int); INSERT INTO r SELECT generate_series(1, 1000); CREATE INDEX r_id_idx ON r (id)',
    );
    const repo = await sqlRepo('reindex', {
      '001_reindex.sql': 'REINDEX INDEX CONCURRENTLY r_id_idx;\nCREATE TABLE after_reindex (id int);',
    });
    const writer = await connect(db.url);
    await writer.query('BEGIN; INSERT INTO r VALUES (0)');
    const controller = new AbortController();
    const run = applyMigrations({ ...opts(db.url, repo), dir: 'migrations', signal: controller.signal });
    await abortWhen(
      controller,
      'the rebuild to wait for the writer',
      async () =>
        ((
          await query<{ n: number }>(
            db.url,
            `SELECT count(*)::int AS n FROM pg_stat_progress_create_index p JOIN pg_stat_activity a ON a.pid = p.pid WHERE a.datname = current_database() AND a.application_name = $1 AND p.command = 'REINDEX CONCURRENTLY' AND p.phase LIKE 'waiting for writers%'`,
            [RUNNER_APP],
          )
        )[0]?.n ?? 0) > 0,
    );
    const err = await failure<MigrationFailedError>(run);
    expect(err.message).toMatch(
      /^Cancelled while applying migrations\/001_reindex\.sql \(group 1 of 2, line 1\)\. None of its 2 statement groups is committed\. Group 1 \(line 1, ReindexStmt, outside a transaction\) did not complete; it left the INVALID index public\.r_id_idx_ccnew, which the next run drops before building it again\./,
    );
    await writer.query('ROLLBACK');
    const warnings: string[] = [];
    const done = await applyMigrations({ ...opts(db.url, repo), dir: 'migrations', warn: (m) => warnings.push(m) });
    expect(done.applied).toEqual([expect.objectContaining({ resumedAtGroup: 1 })]);
    expect(warnings.join('\n')).toMatch(
      /001_reindex\.sql:1: dropping the INVALID index public\.r_id_idx_ccnew left by the interrupted concurrent build/,
    );
    expect(
      await query(
        db.url,
        "SELECT indexrelid::regclass::text AS i, indisvalid AS v FROM pg_index WHERE indrelid = 'r'::regclass",
      ),
    ).toEqual([{ i: 'r_id_idx', v: true }]);
  });

  it('DROP INDEX CONCURRENTLY that completed before its completion was recorded: the next run sees it in the catalog and goes on', async () => {
    const db = await newDb();
    await query(db.url, 'CREATE TABLE d (id int); CREATE INDEX d_id_idx ON d (id)');
    const repo = await sqlRepo('drop-index', {
      '001_drop.sql': 'DROP INDEX CONCURRENTLY d_id_idx;\nCREATE TABLE after_drop (id int);',
    });
    // A reader of the table holds the drop in its wait; once the started row is locked, the reader lets go.
    const reader = await connect(db.url);
    await reader.query('BEGIN; SELECT count(*) FROM d');
    const controller = new AbortController();
    const run = applyMigrations({ ...opts(db.url, repo), dir: 'migrations', signal: controller.signal });
    await waitUntil('the drop to wait for the reader', runnerWaits(db.url, 'DROP INDEX CONCURRENTLY'));
    const rowLock = await connect(db.url);
    await rowLock.query('BEGIN');
    await rowLock.query('SELECT 1 FROM rail_actions.migration_progress WHERE group_no = 1 FOR UPDATE');
    await reader.query('ROLLBACK');
    await abortWhen(
      controller,
      'the finished mark to wait',
      runnerWaits(db.url, 'UPDATE "rail_actions"."migration_progress"'),
    );
    const err = await failure<MigrationFailedError>(run);
    expect(err.message).toMatch(
      /Group 1 \(line 1, DropStmt\) completed, but recording that did not; the next run sees in the catalog that it completed and does not run it again\./,
    );
    await rowLock.query('ROLLBACK');
    expect(await progressRows(db.url)).toEqual([{ migration: '001_drop.sql', group_no: 1, finished: false }]);
    const logs: string[] = [];
    const done = await applyMigrations({ ...opts(db.url, repo), dir: 'migrations', log: (m) => logs.push(m) });
    expect(done.applied).toEqual([expect.objectContaining({ resumedAtGroup: 1, statements: 1 })]);
    expect(logs.join('\n')).toMatch(/001_drop\.sql:1: not running it again: the index\(es\) it drops no longer exist/);
    expect(
      await query(db.url, `SELECT to_regclass('d_id_idx')::text AS i, to_regclass('after_drop')::text AS t`),
    ).toEqual([{ i: null, t: 'after_drop' }]);
  });

  it('DETACH PARTITION CONCURRENTLY cancelled while detach-pending: the next run finalizes it instead of detaching again', async () => {
    const db = await newDb();
    await query(
      db.url,
      "CREATE TABLE m (at date) PARTITION BY RANGE (at); CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    );
    const repo = await sqlRepo('detach', {
      '001_detach.sql': 'ALTER TABLE m DETACH PARTITION m_2024 CONCURRENTLY;\nCREATE TABLE after_detach (id int);',
    });
    const reader = await connect(db.url);
    await reader.query('BEGIN; SELECT count(*) FROM m');
    const controller = new AbortController();
    const run = applyMigrations({ ...opts(db.url, repo), dir: 'migrations', signal: controller.signal });
    await abortWhen(
      controller,
      'the detach to wait for the reader',
      async () =>
        (await runnerWaits(db.url, 'ALTER TABLE m DETACH')()) &&
        ((
          await query<{ p: boolean }>(
            db.url,
            `SELECT inhdetachpending AS p FROM pg_inherits WHERE inhrelid = 'm_2024'::regclass`,
          )
        )[0]?.p ??
          false),
    );
    const err = await failure<MigrationFailedError>(run);
    expect(err.message).toMatch(/Group 1 \(line 1, AlterTableStmt, outside a transaction\) did not complete\./);
    await reader.query('ROLLBACK');
    expect(
      await query(db.url, `SELECT inhdetachpending AS p FROM pg_inherits WHERE inhrelid = 'm_2024'::regclass`),
    ).toEqual([{ p: true }]);
    const warnings: string[] = [];
    const done = await applyMigrations({ ...opts(db.url, repo), dir: 'migrations', warn: (m) => warnings.push(m) });
    expect(done.applied).toEqual([expect.objectContaining({ resumedAtGroup: 1 })]);
    expect(warnings.join('\n')).toMatch(
      /finishing the interrupted DETACH PARTITION CONCURRENTLY of "m_2024" \(ALTER TABLE … DETACH PARTITION … FINALIZE\)/,
    );
    expect(
      await query(db.url, `SELECT count(*)::int AS n FROM pg_inherits WHERE inhrelid = 'm_2024'::regclass`),
    ).toEqual([{ n: 0 }]);
  });
});

describe("the project's own command", () => {
  it('runs under the lock with DATABASE_URL and PGOPTIONS in env, output scrubbed, applied files read back from history', async () => {
    const db = await newDb();
    const repo = await sqlRepo('command', {
      '001_a.sql': 'CREATE TABLE cmd_a (id int);',
      '002_b.sql': 'CREATE TABLE cmd_b (id int);',
    });
    // A stand-in migrator: applies every file and records it in rail-actions' table, printing what it sees.
    await writeFile(
      path.join(repo, 'migrate.mjs'),
      `import pg from ${JSON.stringify(path.resolve('node_modules/pg/lib/index.js'))};
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
await c.connect();
console.log('url=' + process.env.DATABASE_URL);
console.log('lock_timeout=' + (await c.query('SHOW lock_timeout')).rows[0].lock_timeout);
console.log('statement_timeout=' + (await c.query('SHOW statement_timeout')).rows[0].statement_timeout);
const held = await c.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = (7437978639320082070::bigint & 4294967295)::oid");
console.log('rail-lock-held=' + held.rows[0].n);
await c.query('CREATE SCHEMA IF NOT EXISTS rail_actions; CREATE TABLE IF NOT EXISTS rail_actions.schema_migrations (id text PRIMARY KEY, checksum char(64) NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), execution_ms integer NOT NULL, applied_by text NOT NULL DEFAULT current_user)');
for (const f of readdirSync('migrations').sort()) {
  const text = readFileSync('migrations/' + f);
  await c.query(text.toString());
  await c.query('INSERT INTO rail_actions.schema_migrations (id, checksum, execution_ms) VALUES ($1, $2, 1)', [f, createHash('sha256').update(text).digest('hex')]);
}
await c.end();
`,
    );
    // Give the URL a password so scrubbing is observable (trust auth ignores it).
    const u = new URL(db.url);
    u.password = 'Sup3rS3cretPw';
    const logs: string[] = [];
    const result = await applyMigrations({
      ...opts(u.toString(), repo),
      dir: 'migrations',
      command: 'node migrate.mjs',
      lockTimeoutMs: 3000,
      statementTimeoutMs: 120_000,
      log: (m) => logs.push(m),
    });
    const out = logs.join('\n');
    expect(result.mode).toBe('command');
    expect(result.applied).toEqual([
      { file: 'migrations/001_a.sql', id: '001_a.sql', statements: null, ms: null },
      { file: 'migrations/002_b.sql', id: '002_b.sql', statements: null, ms: null },
    ]);
    expect(out).toContain('lock_timeout=3s');
    expect(out).toContain('statement_timeout=2min');
    expect(out).toContain('rail-lock-held=1');
    expect(out).toContain('url=***');
    expect(out).not.toContain('Sup3rS3cretPw');
  });

  it('cancellation while the command runs: the command is stopped and its open transaction rolled back', async () => {
    const db = await newDb();
    const repo = await sqlRepo('command-cancel', { '001_a.sql': 'CREATE TABLE never_cmd (id int);' });
    await writeFile(
      path.join(repo, 'slow.mjs'),
      `import pg from ${JSON.stringify(path.resolve('node_modules/pg/lib/index.js'))};
const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
await c.connect();
await c.query('BEGIN');
await c.query('CREATE TABLE never_cmd (id int)');
await c.query('SELECT pg_sleep(300)');
`,
    );
    const controller = new AbortController();
    const run = applyMigrations({
      ...opts(db.url, repo),
      dir: 'migrations',
      command: 'node slow.mjs',
      signal: controller.signal,
    });
    const sleeping = async () =>
      (
        await query<{ n: number }>(
          db.url,
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(300)' AND application_name LIKE 'rail-actions-migrate-command-%'`,
        )
      )[0]?.n ?? 0;
    for (let i = 0; i < 400 && (await sleeping()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await sleeping()).toBe(1);
    controller.abort();
    const err = await failure<MigrationFailedError>(run);
    expect(err.message).toMatch(/Cancelled while the migration command ran/);
    for (let i = 0; i < 200 && (await sleeping()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await sleeping()).toBe(0);
    expect(await query(db.url, `SELECT to_regclass('never_cmd')::text AS t`)).toEqual([{ t: null }]);
  });

  it('a failing command fails the run with its last output, reporting what it applied', async () => {
    const db = await newDb();
    const repo = await sqlRepo('command-fails', { '001_a.sql': 'CREATE TABLE x (id int);' });
    const err = await failure<MigrationFailedError>(
      applyMigrations({ ...opts(db.url, repo), dir: 'migrations', command: 'echo "migrator: boom" >&2; exit 3' }),
    );
    expect(err).toBeInstanceOf(MigrationFailedError);
    expect(err.message).toMatch(
      /Migration command failed \(exit code 3\).*0 of 1 pending migration\(s\) got applied\. Last output:\nmigrator: boom/s,
    );
  });
});

describe('rehearsal', () => {
  it('copies the production schema and history rows, applies the pending migrations there, leaves production untouched', async () => {
    const prod = await newDb();
    // Production is one migration behind: apply only the first Prisma migration there.
    const partial = path.join(tmp, 'prisma-partial');
    await cp(fixture('prisma'), partial, { recursive: true });
    await rm(path.join(partial, 'prisma/migrations/20240212093000_document_embeddings'), { recursive: true });
    await rm(path.join(partial, 'prisma/migrations/20240301080000_document_embedding_index'), { recursive: true });
    await applyMigrations(opts(prod.url, partial));
    await query(prod.url, `INSERT INTO "User" (email) VALUES ('real@customer.example')`);

    const logs: string[] = [];
    const r = await rehearseMigrations({
      ...opts(prod.url, fixture('prisma')),
      rehearsalDatabaseUrl: process.env.DATABASE_URL as string,
      log: (m) => logs.push(m),
    });
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    // Pending was computed from the copied history: only the two newer migrations ran.
    expect(r.result?.applied.map((a) => a.id)).toEqual([
      '20240212093000_document_embeddings',
      '20240301080000_document_embedding_index',
    ]);
    expect(r.copiedTables).toContain('"public"._prisma_migrations');
    // Production: unchanged, still two pending; no data was copied out of it beyond the history table.
    const prodPending = await findPending({ databaseUrl: prod.url, dir: '', cwd: fixture('prisma') });
    expect(prodPending.pending.map((f) => f.id)).toEqual([
      '20240212093000_document_embeddings',
      '20240301080000_document_embedding_index',
    ]);
    // The scratch database is gone.
    expect(
      await query(
        process.env.DATABASE_URL as string,
        `SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'rail_actions_rehearsal_%'`,
      ),
    ).toEqual([{ n: 0 }]);
  });

  it('keeps a Prisma ?schema= on the copy: the history is read from the same schema there', async () => {
    const prod = await newDb();
    // Like Prisma, a ?schema= URL sets search_path to that schema alone: the extension lives there too.
    await query(prod.url, 'CREATE SCHEMA app; ALTER EXTENSION vector SET SCHEMA app');
    const partial = path.join(tmp, 'prisma-partial-schema');
    await cp(fixture('prisma'), partial, { recursive: true });
    await rm(path.join(partial, 'prisma/migrations/20240301080000_document_embedding_index'), { recursive: true });
    await applyMigrations(opts(`${prod.url}?schema=app`, partial));
    expect(await query(prod.url, `SELECT to_regclass('app._prisma_migrations')::text AS t`)).toEqual([
      { t: 'app._prisma_migrations' },
    ]);
    const r = await rehearseMigrations({
      ...opts(`${prod.url}?schema=app`, fixture('prisma')),
      rehearsalDatabaseUrl: process.env.DATABASE_URL as string,
    });
    expect(r.error).toBeUndefined();
    expect(r.result?.applied.map((a) => a.id)).toEqual(['20240301080000_document_embedding_index']);
  });

  it('a migration that fails on the production schema fails the rehearsal, and production is not touched', async () => {
    const prod = await newDb();
    await query(prod.url, 'CREATE TABLE legacy (id int, email text)');
    const repo = await sqlRepo('rehearsal-fails', {
      '001_ok.sql': 'CREATE TABLE fresh (id int);',
      '002_breaks.sql': 'ALTER TABLE legacy ALTER COLUMN mail SET NOT NULL;',
    });
    const r = await rehearseMigrations({
      ...opts(prod.url, repo),
      dir: 'migrations',
      rehearsalDatabaseUrl: process.env.DATABASE_URL as string,
    });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/migrations\/002_breaks\.sql:1: column "mail" of relation "legacy" does not exist/);
    expect(
      await query(
        prod.url,
        `SELECT to_regclass('fresh')::text AS t, to_regclass('rail_actions.schema_migrations')::text AS h`,
      ),
    ).toEqual([{ t: null, h: null }]);
  });
});

describe('interop with the real migrators (drizzle-orm, knex, node-pg-migrate, dbmate from npm)', () => {
  const root = path.resolve(import.meta.dirname, '..');
  const nodeBin = JSON.stringify(process.execPath);

  /** The history table's shape, to compare the table our runner creates with the one the tool creates. */
  const shape = (url: string, schema: string, table: string) =>
    query<{
      column_name: string;
      data_type: string;
      character_maximum_length: number | null;
      is_nullable: string;
      column_default: string | null;
    }>(
      url,
      `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default FROM information_schema.columns
        WHERE table_schema = '${schema}' AND table_name = '${table}' ORDER BY ordinal_position`,
    );

  it("Drizzle: after our runner, drizzle's own migrator finds nothing to do; after drizzle's migrator, we find nothing pending", async () => {
    const { drizzle } = await import('drizzle-orm/node-postgres');
    const { migrate } = await import('drizzle-orm/node-postgres/migrator');
    const migrationsFolder = path.join(fixture('drizzle'), 'drizzle');

    // Ours first, then drizzle's: had we recorded anything differently, drizzle would re-run the files (they use
    // IF NOT EXISTS, so silently) and add history rows — the history must stay at exactly 3 rows.
    const ours = await newDb();
    await applyMigrations(opts(ours.url, fixture('drizzle')));
    const c1 = await connect(ours.url);
    await migrate(drizzle(c1), { migrationsFolder });
    expect(await query(ours.url, 'SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).toEqual([{ n: 3 }]);

    // Drizzle's first (on part of the journal), then ours for the rest, then drizzle's again: nothing left for it.
    const theirs = await newDb();
    const partial = path.join(tmp, 'drizzle-partial');
    await cp(fixture('drizzle'), partial, { recursive: true });
    const journalPath = path.join(partial, 'drizzle/meta/_journal.json');
    const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: unknown[] };
    await writeFile(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, 2) }));
    const c2 = await connect(theirs.url);
    await migrate(drizzle(c2), { migrationsFolder: path.join(partial, 'drizzle') });
    const mid = await findPending({ databaseUrl: theirs.url, dir: '', cwd: fixture('drizzle') });
    expect(mid.pending.map((f) => f.id)).toEqual(['0002_orange_sentry']);
    expect(mid.anomalies).toEqual([]);
    const rest = await applyMigrations(opts(theirs.url, fixture('drizzle')));
    expect(rest.applied.map((a) => a.id)).toEqual(['0002_orange_sentry']);
    await migrate(drizzle(c2), { migrationsFolder });
    expect(await query(theirs.url, 'SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).toEqual([{ n: 3 }]);
    expect(
      await query(
        theirs.url,
        `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'display_name'`,
      ),
    ).toEqual([{ n: 1 }]);
    // The history table we created has drizzle's exact shape.
    expect(await shape(ours.url, 'drizzle', '__drizzle_migrations')).toEqual(
      await shape(theirs.url, 'drizzle', '__drizzle_migrations'),
    );
  });

  it('Knex: `knex migrate:latest` as the command under our lock; its history is read back as applied', async () => {
    const db = await newDb();
    const logs: string[] = [];
    const result = await applyMigrations({
      ...opts(db.url, fixture('knex')),
      command: `${nodeBin} ${JSON.stringify(path.join(root, 'node_modules/knex/bin/cli.js'))} migrate:latest --knexfile knexfile.js`,
      log: (m) => logs.push(m),
    });
    expect(result.mode).toBe('command');
    expect(result.applied.map((a) => a.id)).toEqual([
      '20240110090000_create_users.js',
      '20240120090000_add_embeddings.js',
    ]);
    expect(logs.join('\n')).toMatch(/Batch 1 run: 2 migrations/);
    const after = await findPending({ databaseUrl: db.url, dir: '', cwd: fixture('knex') });
    expect(after.pending).toEqual([]);
    expect(after.anomalies).toEqual([]);
    // knex's own lock row: set while knex migrates, reported by findPending.
    await query(db.url, 'UPDATE knex_migrations_lock SET is_locked = 1');
    expect(
      (await findPending({ databaseUrl: db.url, dir: '', cwd: fixture('knex') })).anomalies.map((a) => a.kind),
    ).toEqual(['locked']);
  });

  it("node-pg-migrate: our runner applies the SQL migrations, node-pg-migrate's CLI then runs only the JS one", async () => {
    const db = await newDb();
    const repo = path.join(tmp, 'npm-interop');
    await cp(fixture('node-pg-migrate'), repo, { recursive: true });
    const jsName = '1718200000000_backfill-names.js';
    const js = await readFile(path.join(repo, 'migrations', jsName), 'utf8');
    await rm(path.join(repo, 'migrations', jsName));
    const ours = await applyMigrations(opts(db.url, repo));
    expect(ours.tool).toBe('node-pg-migrate');
    expect(ours.applied.map((a) => a.id)).toEqual(['1718000000000_create-items', '1718100000000_item-embeddings']);
    await query(db.url, "INSERT INTO items (name) VALUES ('Blue Chair')");

    await writeFile(path.join(repo, 'migrations', jsName), js);
    const logs: string[] = [];
    const result = await applyMigrations({
      ...opts(db.url, repo),
      command: `${nodeBin} ${JSON.stringify(path.join(root, 'node_modules/node-pg-migrate/bin/node-pg-migrate.js'))} up`,
      log: (m) => logs.push(m),
    });
    expect(result.applied.map((a) => a.id)).toEqual(['1718200000000_backfill-names']);
    expect(logs.join('\n')).toMatch(/MIGRATION 1718200000000_backfill-names \(UP\)/);
    expect(logs.join('\n')).not.toMatch(/MIGRATION 1718000000000_create-items/);
    expect(await query(db.url, 'SELECT slug FROM items')).toEqual([{ slug: 'blue-chair' }]);
    expect(await query(db.url, 'SELECT name FROM pgmigrations ORDER BY id')).toEqual([
      { name: '1718000000000_create-items' },
      { name: '1718100000000_item-embeddings' },
      { name: '1718200000000_backfill-names' },
    ]);
    const after = await findPending({ databaseUrl: db.url, dir: '', cwd: repo });
    expect(after.pending).toEqual([]);
    expect(after.anomalies).toEqual([]);
    // node-pg-migrate on a fresh database creates the same history table we did.
    const fresh = await newDb();
    await applyMigrations({
      ...opts(fresh.url, repo),
      command: `${nodeBin} ${JSON.stringify(path.join(root, 'node_modules/node-pg-migrate/bin/node-pg-migrate.js'))} up`,
    });
    expect(await shape(db.url, 'public', 'pgmigrations')).toEqual(await shape(fresh.url, 'public', 'pgmigrations'));
  });

  it('dbmate (real binary): our runner applies part, `dbmate migrate` only the rest; histories and table shape agree', async () => {
    const dbmate = JSON.stringify(path.join(root, 'node_modules/.bin/dbmate'));
    // dbmate's Go driver defaults to TLS; the test server has none.
    const withSsl = (url: string) => `${url}${url.includes('?') ? '&' : '?'}sslmode=disable`;
    const db = await newDb();
    const repo = path.join(tmp, 'dbmate-interop');
    await cp(fixture('dbmate'), repo, { recursive: true });
    const last = '20240303100000_notes_created_at_index.sql';
    const lastText = await readFile(path.join(repo, 'db/migrations', last), 'utf8');
    await rm(path.join(repo, 'db/migrations', last));
    const ours = await applyMigrations(opts(withSsl(db.url), repo));
    expect(ours.applied.map((a) => a.id)).toEqual(['20240301100000', '20240302100000']);

    await writeFile(path.join(repo, 'db/migrations', last), lastText);
    const logs: string[] = [];
    const result = await applyMigrations({
      ...opts(withSsl(db.url), repo),
      command: `${dbmate} --no-dump-schema migrate`,
      log: (m) => logs.push(m),
    });
    expect(result.applied.map((a) => a.id)).toEqual(['20240303100000']);
    expect(logs.join('\n')).toMatch(/Applying: 20240303100000_notes_created_at_index\.sql/);
    expect(logs.join('\n')).not.toMatch(/Applying: 20240301100000/);
    expect(await query(db.url, 'SELECT version FROM schema_migrations ORDER BY version')).toEqual([
      { version: '20240301100000' },
      { version: '20240302100000' },
      { version: '20240303100000' },
    ]);

    // dbmate applying everything on a fresh database: we see nothing pending, and its table has our table's shape.
    const fresh = await newDb();
    const all = await applyMigrations({
      ...opts(withSsl(fresh.url), repo),
      command: `${dbmate} --no-dump-schema migrate`,
    });
    expect(all.applied).toHaveLength(3);
    const after = await findPending({ databaseUrl: fresh.url, dir: '', cwd: repo });
    expect(after.pending).toEqual([]);
    expect(after.anomalies).toEqual([]);
    expect(await shape(db.url, 'public', 'schema_migrations')).toEqual(
      await shape(fresh.url, 'public', 'schema_migrations'),
    );
  });
});
