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
import { failure, fixture, WAIT_FOR_OTHER_RUNNER } from './helpers/migrations.js';

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
    expect(result.applied.map((a) => a.id)).toEqual(['20240105120000_init', '20240212093000_document_embeddings', '20240301080000_document_embedding_index']);
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
      const file = await readFile(path.join(fixture('prisma'), 'prisma/migrations', row.migration_name, 'migration.sql'));
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.checksum).toBe(sha256Hex(file));
      expect(row.logs).toBeNull();
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    }
    // The table has Prisma's own column types (varchar(36)/varchar(64)/timestamptz …).
    const cols = await query<{ column_name: string; data_type: string; character_maximum_length: number | null; is_nullable: string }>(
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
    const idx = await query<{ indisvalid: boolean }>(db.url, `SELECT indisvalid FROM pg_index WHERE indexrelid = '"Document_embedding_hnsw_idx"'::regclass`);
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
    const rows = await query<{ hash: string; created_at: string }>(db.url, 'SELECT hash, created_at::text FROM drizzle.__drizzle_migrations ORDER BY id');
    const journal = JSON.parse(await readFile(path.join(fixture('drizzle'), 'drizzle/meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string; when: number }> };
    expect(rows).toEqual(
      await Promise.all(
        journal.entries.map(async (e) => ({ hash: sha256Hex(await readFile(path.join(fixture('drizzle'), 'drizzle', `${e.tag}.sql`))), created_at: String(e.when) })),
      ),
    );
    expect((await findPending({ databaseUrl: db.url, dir: '', cwd: fixture('drizzle') })).pending).toEqual([]);
  });

  it('golang-migrate: one (version, dirty=false) row at the newest version; the concurrent index is built outside a transaction', async () => {
    const db = await newDb();
    const result = await applyMigrations(opts(db.url, fixture('golang-migrate')));
    expect(result.applied.map((a) => a.id)).toEqual(['1', '2', '3']);
    expect(await query(db.url, 'SELECT version::text, dirty FROM schema_migrations')).toEqual([{ version: '3', dirty: false }]);
    expect(await query(db.url, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_created_at_idx'::regclass`)).toEqual([{ indisvalid: true }]);
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
    expect(logs.join('\n')).toMatch(/010_products_search\.sql:3: IndexStmt runs on its own \(cannot run inside a transaction\)/);
    const rows = await query<{ id: string; checksum: string; execution_ms: number; applied_by: string }>(
      db.url,
      'SELECT id, checksum, execution_ms, applied_by FROM rail_actions.schema_migrations ORDER BY id',
    );
    for (const row of rows) {
      expect(row.checksum).toBe(sha256Hex(await readFile(path.join(fixture('sql'), 'migrations', row.id))));
      expect(row.execution_ms).toBeGreaterThanOrEqual(0);
      expect(row.applied_by).toBe(new URL(db.url).username || 'postgres');
    }
    expect(await query(db.url, `SELECT name, embedding::text FROM products WHERE name = 'café'`)).toEqual([{ name: 'café', embedding: '[1,2,3]' }]);
  });

  it('refuses JS/TS migrations without a command, before writing anything', async () => {
    const db = await newDb();
    const err = await failure<Error>(applyMigrations(opts(db.url, fixture('node-pg-migrate'))));
    expect(err.message).toMatch(/Input 'command': 1 pending migration\(s\) are JS\/TS code .*1718200000000_backfill-names\.js/);
    expect(await query(db.url, `SELECT to_regclass('pgmigrations')::text AS t, to_regclass('items')::text AS items`)).toEqual([{ t: null, items: null }]);
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
    await query(db.url, `ALTER TABLE busy DROP COLUMN IF EXISTS a; ALTER TABLE busy DROP COLUMN IF EXISTS b; DELETE FROM rail_actions.schema_migrations WHERE id = '002_alter.sql'`);
    const holder = await connect(db.url);
    await holder.query('BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE');
    const warnings: string[] = [];
    const err = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations', lockTimeoutMs: 200, maxRetries: 2, warn: (m) => warnings.push(m) }));
    await holder.query('ROLLBACK');
    expect(err).toBeInstanceOf(MigrationFailedError);
    expect(err.message).toMatch(/migrations\/002_alter\.sql:1: canceling statement due to lock timeout \(SQLSTATE 55P03\) — gave up after 3 attempt\(s\)/);
    expect(err.message).toMatch(/NOT recorded as applied; its transaction was rolled back/);
    expect(warnings.filter((w) => /lock timeout \(attempt \d of 3\); rolled back, retrying/.test(w))).toHaveLength(2);
    expect(await query(db.url, `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'busy' AND column_name IN ('a', 'b')`)).toEqual([{ n: 0 }]);
    expect(await query(db.url, 'SELECT id FROM rail_actions.schema_migrations ORDER BY id')).toEqual([{ id: '001_table.sql' }]);
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
    const err = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations', lockTimeoutMs: 200, maxRetries: 0 }));
    await holder.query('ROLLBACK');
    expect(err.message).toMatch(/002_alter\.sql:1: canceling statement due to lock timeout/);
    expect(err.applied.map((a) => a.id)).toEqual(['001_loosen.sql']);
  });

  it('lock contention that clears during the retries: the file is applied once', async () => {
    const db = await newDb();
    const repo = await sqlRepo('contention-clears', { '001_table.sql': 'CREATE TABLE t1 (id int);', '002_alter.sql': 'ALTER TABLE t1 ADD COLUMN a int;' });
    await applyMigrations({ ...opts(db.url, repo), dir: 'migrations' });
    await query(db.url, `ALTER TABLE t1 DROP COLUMN a; DELETE FROM rail_actions.schema_migrations WHERE id = '002_alter.sql'`);
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
    expect(warnings.join('\n')).toMatch(/Dropping the INVALID index "big_id_idx" left by the interrupted concurrent build/);
    expect(await query(db.url, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'big_id_idx'::regclass`)).toEqual([{ indisvalid: true }]);
  });

  it('a failing statement mid-file rolls the whole file back and does not record it', async () => {
    const db = await newDb();
    const repo = await sqlRepo('mid-file', {
      '001_ok.sql': 'CREATE TABLE ok1 (id int);',
      '002_bad.sql': "CREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\n-- next line fails\nINSERT INTO half VALUES ('not a number');\nCREATE TABLE never (id int);",
      '003_after.sql': 'CREATE TABLE after3 (id int);',
    });
    const err = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(err).toBeInstanceOf(MigrationFailedError);
    expect(err.message).toMatch(/^migrations\/002_bad\.sql:4: invalid input syntax for type integer: "not a number" \(SQLSTATE 22P02\)\. .* NOT recorded as applied; its transaction was rolled back/);
    expect(err.applied.map((a) => a.id)).toEqual(['001_ok.sql']);
    expect(await query(db.url, `SELECT to_regclass('half')::text AS half, to_regclass('never')::text AS never, to_regclass('after3')::text AS after3`)).toEqual([
      { half: null, never: null, after3: null },
    ]);
    expect(await query(db.url, 'SELECT id FROM rail_actions.schema_migrations')).toEqual([{ id: '001_ok.sql' }]);
  });

  it('unparseable SQL in a later file stops the run before anything is applied', async () => {
    const db = await newDb();
    const repo = await sqlRepo('parse-error', { '001_ok.sql': 'CREATE TABLE p1 (id int);', '002_bad.sql': '-- ünïcode\nCREATE TABLE p2 (id int);\nCREAT TABLE oops;' });
    const err = await failure<Error>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(err.message).toMatch(/migrations\/002_bad\.sql:3: cannot parse SQL: syntax error at or near "CREAT"/);
    expect(await query(db.url, `SELECT to_regclass('p1')::text AS p1`)).toEqual([{ p1: null }]);
  });

  it('a failed CREATE UNIQUE INDEX CONCURRENTLY: the invalid index is reported and the file not recorded', async () => {
    const db = await newDb();
    const repo = await sqlRepo('invalid-index', {
      '001_data.sql': "CREATE TABLE emails (v text);\nINSERT INTO emails VALUES ('a@x'), ('a@x');",
      '002_unique.sql': 'CREATE UNIQUE INDEX CONCURRENTLY emails_v_key ON emails (v);',
    });
    const err = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(err).toBeInstanceOf(MigrationFailedError);
    expect(err.message).toMatch(/002_unique\.sql:1: could not create unique index "emails_v_key"/);
    expect(err.invalidIndexes).toEqual([{ schema: 'public', index: 'emails_v_key', table: 'emails' }]);
    expect(err.message).toMatch(/Invalid indexes: "public"\."emails_v_key" on emails \(fix: DROP INDEX CONCURRENTLY/);
    expect(await query(db.url, 'SELECT id FROM rail_actions.schema_migrations')).toEqual([{ id: '001_data.sql' }]);

    // Re-running after the duplicates are fixed but with IF NOT EXISTS would silently keep the INVALID index: reported.
    await writeFile(path.join(repo, 'migrations/002_unique.sql'), 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS emails_v_key ON emails (v);');
    await query(db.url, `DELETE FROM emails WHERE ctid <> (SELECT min(ctid) FROM emails)`);
    const again = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations' }));
    expect(again).toBeInstanceOf(MigrationFailedError);
    expect(again.message).toMatch(/invalid index\(es\) after the concurrent index build .*earlier failed build.*"public"\."emails_v_key".*NOT recorded/);
    expect(await query(db.url, 'SELECT id FROM rail_actions.schema_migrations')).toEqual([{ id: '001_data.sql' }]);
  });

  it('golang-migrate: a mixed file that fails in its concurrent part stays dirty, exactly as golang-migrate leaves it', async () => {
    const db = await newDb();
    const repo = path.join(tmp, 'golang-dirty');
    await mkdir(path.join(repo, 'migrations'), { recursive: true });
    await writeFile(path.join(repo, 'migrations/000001_t.up.sql'), "CREATE TABLE t (v text);\nINSERT INTO t VALUES ('dup'), ('dup');");
    await writeFile(path.join(repo, 'migrations/000002_mixed.up.sql'), 'ALTER TABLE t ADD COLUMN note text;\nCREATE UNIQUE INDEX CONCURRENTLY t_v_key ON t (v);');
    const logs: string[] = [];
    const err = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), log: (m) => logs.push(m) }));
    expect(err.message).toMatch(/000002_mixed\.up\.sql:2: could not create unique index "t_v_key".*NOT recorded as applied \(it has statements that ran outside a transaction/s);
    expect(err.applied.map((a) => a.id)).toEqual(['1']);
    // The transactional part committed before the concurrent build; the version row says "2, dirty".
    expect(await query(db.url, 'SELECT version::text, dirty FROM schema_migrations')).toEqual([{ version: '2', dirty: true }]);
    const report = await findPending({ databaseUrl: db.url, dir: '', cwd: repo });
    expect(report.anomalies.map((a) => a.kind)).toEqual(['dirty']);
  });

  it('plan-hash: refuses a different set of pending files, applies the approved one', async () => {
    const db = await newDb();
    const before = await findPending({ databaseUrl: db.url, dir: '', cwd: fixture('sql') });
    const { planHash } = await import('../src/migrations/hash.js');
    const approved = planHash(before.pending);
    const edited = path.join(tmp, 'plan-hash');
    await cp(fixture('sql'), edited, { recursive: true });
    await writeFile(path.join(edited, 'migrations/002_product_embeddings.sql'), 'CREATE EXTENSION IF NOT EXISTS vector;\nDROP TABLE products;');
    const err = await failure<Error>(applyMigrations({ ...opts(db.url, edited), planHash: approved }));
    expect(err.message).toMatch(/Refusing to migrate: the pending migrations .* hash to [0-9a-f]{64}, not the approved plan-hash/);
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
    expect([...logsA, ...logsB].join('\n')).toMatch(/Another migration holds the rail-actions migration lock \(pid \d+/);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM slow')).toEqual([{ n: 1 }]);
    expect(await query(db.url, 'SELECT id FROM rail_actions.schema_migrations ORDER BY id')).toEqual([{ id: '001_slow.sql' }, { id: '002_next.sql' }]);
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
      const rows = await query<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND datname = current_database()`);
      if (rows[0]?.n) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    controller.abort();
    const err = await failure<MigrationFailedError>(run);
    expect(err).toBeInstanceOf(MigrationFailedError);
    expect(err.message).toMatch(/Cancelled while applying migrations\/002_sleepy\.sql: its open transaction was rolled back and it was NOT recorded/);
    expect(err.applied.map((a) => a.id)).toEqual(['001_fast.sql']);
    expect(await query(db.url, `SELECT to_regclass('sleepy')::text AS t`)).toEqual([{ t: null }]);
    expect(await query(db.url, 'SELECT id FROM rail_actions.schema_migrations')).toEqual([{ id: '001_fast.sql' }]);
  });

  it('anomalies stop the runner before it applies anything', async () => {
    const db = await newDb();
    await query(db.url, 'CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null); INSERT INTO schema_migrations VALUES (1, true)');
    const err = await failure<Error>(applyMigrations(opts(db.url, fixture('golang-migrate'))));
    expect(err.message).toMatch(/Refusing to migrate the database: 1 anomaly\(ies\) need a human first:\n {2}- \[dirty\] golang-migrate schema_migrations is dirty at version 1/);
    expect(await query(db.url, `SELECT to_regclass('accounts')::text AS t`)).toEqual([{ t: null }]);
  });
});

describe("the project's own command", () => {
  it('runs under the lock with DATABASE_URL and PGOPTIONS in env, output scrubbed, applied files read back from history', async () => {
    const db = await newDb();
    const repo = await sqlRepo('command', { '001_a.sql': 'CREATE TABLE cmd_a (id int);', '002_b.sql': 'CREATE TABLE cmd_b (id int);' });
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

  it("cancellation while the command runs: the command is stopped and its open transaction rolled back", async () => {
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
    const run = applyMigrations({ ...opts(db.url, repo), dir: 'migrations', command: 'node slow.mjs', signal: controller.signal });
    const sleeping = async () =>
      (await query<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(300)' AND application_name LIKE 'rail-actions-migrate-command-%'`))[0]?.n ?? 0;
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
    const err = await failure<MigrationFailedError>(applyMigrations({ ...opts(db.url, repo), dir: 'migrations', command: 'echo "migrator: boom" >&2; exit 3' }));
    expect(err).toBeInstanceOf(MigrationFailedError);
    expect(err.message).toMatch(/Migration command failed \(exit code 3\).*0 of 1 pending migration\(s\) got applied\. Last output:\nmigrator: boom/s);
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
    const r = await rehearseMigrations({ ...opts(prod.url, fixture('prisma')), rehearsalDatabaseUrl: process.env.DATABASE_URL as string, log: (m) => logs.push(m) });
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    // Pending was computed from the copied history: only the two newer migrations ran.
    expect(r.result?.applied.map((a) => a.id)).toEqual(['20240212093000_document_embeddings', '20240301080000_document_embedding_index']);
    expect(r.copiedTables).toContain('"public"._prisma_migrations');
    // Production: unchanged, still two pending; no data was copied out of it beyond the history table.
    const prodPending = await findPending({ databaseUrl: prod.url, dir: '', cwd: fixture('prisma') });
    expect(prodPending.pending.map((f) => f.id)).toEqual(['20240212093000_document_embeddings', '20240301080000_document_embedding_index']);
    // The scratch database is gone.
    expect(await query(process.env.DATABASE_URL as string, `SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'rail_actions_rehearsal_%'`)).toEqual([{ n: 0 }]);
  });

  it('keeps a Prisma ?schema= on the copy: the history is read from the same schema there', async () => {
    const prod = await newDb();
    // Like Prisma, a ?schema= URL sets search_path to that schema alone: the extension lives there too.
    await query(prod.url, 'CREATE SCHEMA app; ALTER EXTENSION vector SET SCHEMA app');
    const partial = path.join(tmp, 'prisma-partial-schema');
    await cp(fixture('prisma'), partial, { recursive: true });
    await rm(path.join(partial, 'prisma/migrations/20240301080000_document_embedding_index'), { recursive: true });
    await applyMigrations(opts(`${prod.url}?schema=app`, partial));
    expect(await query(prod.url, `SELECT to_regclass('app._prisma_migrations')::text AS t`)).toEqual([{ t: 'app._prisma_migrations' }]);
    const r = await rehearseMigrations({ ...opts(`${prod.url}?schema=app`, fixture('prisma')), rehearsalDatabaseUrl: process.env.DATABASE_URL as string });
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
    const r = await rehearseMigrations({ ...opts(prod.url, repo), dir: 'migrations', rehearsalDatabaseUrl: process.env.DATABASE_URL as string });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/migrations\/002_breaks\.sql:1: column "mail" of relation "legacy" does not exist/);
    expect(await query(prod.url, `SELECT to_regclass('fresh')::text AS t, to_regclass('rail_actions.schema_migrations')::text AS h`)).toEqual([{ t: null, h: null }]);
  });
});

describe('interop with the real migrators (drizzle-orm, knex, node-pg-migrate, dbmate from npm)', () => {
  const root = path.resolve(import.meta.dirname, '..');
  const nodeBin = JSON.stringify(process.execPath);

  /** The history table's shape, to compare the table our runner creates with the one the tool creates. */
  const shape = (url: string, schema: string, table: string) =>
    query<{ column_name: string; data_type: string; character_maximum_length: number | null; is_nullable: string; column_default: string | null }>(
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
    expect(await query(theirs.url, `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'display_name'`)).toEqual([{ n: 1 }]);
    // The history table we created has drizzle's exact shape.
    expect(await shape(ours.url, 'drizzle', '__drizzle_migrations')).toEqual(await shape(theirs.url, 'drizzle', '__drizzle_migrations'));
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
    expect(result.applied.map((a) => a.id)).toEqual(['20240110090000_create_users.js', '20240120090000_add_embeddings.js']);
    expect(logs.join('\n')).toMatch(/Batch 1 run: 2 migrations/);
    const after = await findPending({ databaseUrl: db.url, dir: '', cwd: fixture('knex') });
    expect(after.pending).toEqual([]);
    expect(after.anomalies).toEqual([]);
    // knex's own lock row: set while knex migrates, reported by findPending.
    await query(db.url, 'UPDATE knex_migrations_lock SET is_locked = 1');
    expect((await findPending({ databaseUrl: db.url, dir: '', cwd: fixture('knex') })).anomalies.map((a) => a.kind)).toEqual(['locked']);
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
    await applyMigrations({ ...opts(fresh.url, repo), command: `${nodeBin} ${JSON.stringify(path.join(root, 'node_modules/node-pg-migrate/bin/node-pg-migrate.js'))} up` });
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
    const result = await applyMigrations({ ...opts(withSsl(db.url), repo), command: `${dbmate} --no-dump-schema migrate`, log: (m) => logs.push(m) });
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
    const all = await applyMigrations({ ...opts(withSsl(fresh.url), repo), command: `${dbmate} --no-dump-schema migrate` });
    expect(all.applied).toHaveLength(3);
    const after = await findPending({ databaseUrl: fresh.url, dir: '', cwd: repo });
    expect(after.pending).toEqual([]);
    expect(after.anomalies).toEqual([]);
    expect(await shape(db.url, 'public', 'schema_migrations')).toEqual(await shape(fresh.url, 'public', 'schema_migrations'));
  });
});
