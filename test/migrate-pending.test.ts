// findPending against real PostgreSQL: tool detection on real layouts, pending order, and every process anomaly.
import { mkdtemp, mkdir, rm, writeFile, cp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/core/errors.js';
import { detectTool } from '../src/migrations/detect.js';
import { planHash, sha256Hex } from '../src/migrations/hash.js';
import { golangMigrateLockKey } from '../src/migrations/history/golang-migrate.js';
import { findPending } from '../src/migrations/pending.js';
import { RAIL_ACTIONS_LOCK_KEY } from '../src/migrations/runner/lock.js';
import { splitStatements } from '../src/migrations/runner/split.js';
import type { ToolName } from '../src/migrations/types.js';
import { type TestDatabase, createTestDatabase } from './helpers/db.js';
import { failure, fixture } from './helpers/migrations.js';

let db: TestDatabase;
let tmp: string;
const clients: pg.Client[] = [];

async function connect(url = db.url): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  clients.push(c);
  return c;
}

async function freshDb(): Promise<{ url: string; client: pg.Client }> {
  // Each scenario gets an empty schema in the per-file database: drop and recreate everything we created.
  const client = await connect();
  await client.query(
    `DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public; DROP SCHEMA IF EXISTS drizzle CASCADE; DROP SCHEMA IF EXISTS rail_actions CASCADE; CREATE EXTENSION IF NOT EXISTS vector;`,
  );
  return { url: db.url, client };
}

beforeAll(async () => {
  db = await createTestDatabase('migrate_pending');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rail-pending-'));
});

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => undefined);
  await db?.drop();
  await rm(tmp, { recursive: true, force: true });
});

describe('detectTool on real repository layouts', () => {
  const cases: Array<[string, ToolName, string]> = [
    ['prisma', 'prisma', 'prisma/migrations'],
    ['drizzle', 'drizzle', 'drizzle'],
    ['knex', 'knex', 'migrations'],
    ['node-pg-migrate', 'node-pg-migrate', 'migrations'],
    ['golang-migrate', 'golang-migrate', 'migrations'],
    ['dbmate', 'dbmate', 'db/migrations'],
    ['sql', 'sql', 'migrations'],
  ];
  for (const [name, tool, dir] of cases) {
    it(`detects ${tool} in the ${name} fixture without any hint`, async () => {
      const found = await detectTool({ cwd: fixture(name) });
      expect(found.tool).toBe(tool);
      expect(found.dir).toBe(path.join(fixture(name), dir));
    });
  }

  it("follows drizzle.config.ts's `out` folder", async () => {
    const repo = path.join(tmp, 'drizzle-out');
    await cp(path.join(fixture('drizzle'), 'drizzle'), path.join(repo, 'db/generated'), { recursive: true });
    await writeFile(
      path.join(repo, 'drizzle.config.ts'),
      "export default { dialect: 'postgresql', schema: './src/schema.ts', out: './db/generated' };\n",
    );
    const found = await detectTool({ cwd: repo });
    expect(found).toMatchObject({ tool: 'drizzle', dir: path.join(repo, 'db/generated') });
  });

  it('uses the migrations-dir it is given and names the input when it does not exist', async () => {
    const found = await detectTool({ cwd: fixture('prisma'), dir: 'prisma/migrations' });
    expect(found.tool).toBe('prisma');
    await expect(detectTool({ cwd: fixture('prisma'), dir: 'nope/migrations' })).rejects.toThrow(
      /Input 'migrations-dir': directory 'nope\/migrations' does not exist/,
    );
  });

  it('rejects an unknown tool name with the list of supported tools', async () => {
    await expect(detectTool({ cwd: fixture('sql'), tool: 'flyway' as ToolName })).rejects.toThrow(InputError);
    await expect(detectTool({ cwd: fixture('sql'), tool: 'flyway' as ToolName })).rejects.toThrow(
      /Input 'tool': expected one of auto, prisma, drizzle/,
    );
  });

  it('reports an empty migrations directory as a migrations-dir error before connecting', async () => {
    const empty = path.join(tmp, 'empty-repo');
    await mkdir(path.join(empty, 'migrations'), { recursive: true });
    // An unreachable URL proves no connection is attempted: the input error comes first.
    await expect(
      findPending({ databaseUrl: 'postgres://u:p@127.0.0.1:1/x', dir: 'migrations', tool: 'sql', cwd: empty }),
    ).rejects.toThrow(/Input 'migrations-dir': .* contains no sql migrations/);
    await expect(
      findPending({ databaseUrl: 'postgres://u:p@127.0.0.1:1/x', dir: 'migrations', cwd: empty }),
    ).rejects.toThrow(/Input 'migrations-dir'/);
  });
});

describe('statement splitting (libpg-query byte offsets)', () => {
  it('slices statements by UTF-8 bytes and reports lines correctly after non-ASCII text', async () => {
    const sql = await readFile(path.join(fixture('sql'), 'migrations/001_products.sql'), 'utf8');
    const stmts = await splitStatements(sql, '001_products.sql');
    expect(stmts.map((s) => s.nodeType)).toEqual(['CreateStmt', 'InsertStmt']);
    expect(stmts[0]?.sql.startsWith('CREATE TABLE products')).toBe(true);
    expect(stmts[0]?.line).toBe(2);
    expect(stmts[1]?.sql).toBe("INSERT INTO products (name) VALUES ('café'), ('naïve'), ('東京')");
    expect(stmts[1]?.line).toBe(7);
  });

  it('marks what cannot run in a transaction block', async () => {
    const stmts = await splitStatements(
      `ALTER TABLE t ADD COLUMN c int;
CREATE INDEX CONCURRENTLY i ON t (c);
DROP INDEX CONCURRENTLY IF EXISTS j;
REINDEX INDEX CONCURRENTLY i;
VACUUM t; ANALYZE t;
ALTER TABLE p DETACH PARTITION c CONCURRENTLY;
CREATE DATABASE x; ALTER SYSTEM SET work_mem = '4MB';
BEGIN; COMMIT`,
      'f.sql',
    );
    expect(stmts.map((s) => [s.nodeType, s.transactional])).toEqual([
      ['AlterTableStmt', true],
      ['IndexStmt', false],
      ['DropStmt', false],
      ['ReindexStmt', false],
      ['VacuumStmt', false],
      ['VacuumStmt', true],
      ['AlterTableStmt', false],
      ['CreatedbStmt', false],
      ['AlterSystemStmt', false],
      ['TransactionStmt', true],
      ['TransactionStmt', true],
    ]);
    expect(stmts[1]).toMatchObject({ buildsIndexConcurrently: true, index: { name: 'i' }, line: 2 });
    expect(stmts[9]?.transactionControl).toBe(true);
  });

  it('reports unparseable SQL with the file and the line', async () => {
    await expect(splitStatements('-- é comment\nSELECT 1;\nALTER TABLE ☃ oops;\n', 'm/003.sql')).rejects.toThrow(
      /^m\/003\.sql:3: cannot parse SQL/,
    );
  });
});

describe('hashes and keys', () => {
  it('plan hash changes with any edit, addition or reordering', () => {
    const a = { id: 'a', checksum: sha256Hex('x') };
    const b = { id: 'b', checksum: sha256Hex('y') };
    const base = planHash([a, b]);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(planHash([a, b])).toBe(base);
    expect(planHash([b, a])).not.toBe(base);
    expect(planHash([a])).not.toBe(base);
    expect(planHash([a, { ...b, checksum: sha256Hex('y2') }])).not.toBe(base);
  });

  it('the rail-actions lock key is derived from sha256("rail-actions") as documented', () => {
    const h = Buffer.from(sha256Hex('rail-actions'), 'hex');
    expect(RAIL_ACTIONS_LOCK_KEY).toBe(h.readBigUInt64BE(0) & 0x7fffffffffffffffn);
  });

  it("golang-migrate's advisory lock id matches its Go implementation (crc32 of schema\\0table\\0db times the salt)", () => {
    // Reference value from an independent implementation (Python: zlib.crc32(b'public\x00schema_migrations\x00app')
    // * 1486364155 % 2**32), i.e. database.GenerateAdvisoryLockId("app", "public", "schema_migrations").
    const key = golangMigrateLockKey('app', 'public');
    expect(key).toBe(1787120056n);
    expect(golangMigrateLockKey('other', 'public')).not.toBe(key);
  });
});

describe('findPending against the live database', () => {
  it('Prisma: fresh database → every folder pending in order, no anomalies', async () => {
    const { url } = await freshDb();
    const r = await findPending({ databaseUrl: url, dir: '', tool: 'auto', cwd: fixture('prisma') });
    expect(r.tool).toBe('prisma');
    expect(r.pending.map((f) => f.id)).toEqual([
      '20240105120000_init',
      '20240212093000_document_embeddings',
      '20240301080000_document_embedding_index',
    ]);
    expect(r.pending.every((f) => f.kind === 'sql' && f.checksum === sha256Hex(f.sql ?? ''))).toBe(true);
    expect(r.applied).toEqual([]);
    expect(r.anomalies).toEqual([]);
  });

  async function prismaTable(client: pg.Client): Promise<void> {
    await client.query(`CREATE TABLE "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
  }
  async function prismaRow(
    client: pg.Client,
    name: string,
    checksum: string,
    state: 'ok' | 'failed' | 'rolled-back' = 'ok',
  ): Promise<void> {
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
       VALUES (gen_random_uuid()::text, $1, $2, $3, $4, $5, now(), $6)`,
      [
        checksum,
        state === 'ok' ? new Date() : null,
        name,
        state === 'failed' ? 'Database error code: 42P07\nrelation already exists' : null,
        state === 'rolled-back' ? new Date() : null,
        state === 'ok' ? 1 : 0,
      ],
    );
  }
  const prismaSum = async (name: string) =>
    sha256Hex(await readFile(path.join(fixture('prisma'), 'prisma/migrations', name, 'migration.sql')));

  it('Prisma: applied rows with matching sha256 are not pending; a CRLF checkout still matches', async () => {
    const { url, client } = await freshDb();
    await prismaTable(client);
    await prismaRow(client, '20240105120000_init', await prismaSum('20240105120000_init'));
    const crlf = (
      await readFile(
        path.join(fixture('prisma'), 'prisma/migrations/20240212093000_document_embeddings/migration.sql'),
        'utf8',
      )
    ).replace(/\n/g, '\r\n');
    await prismaRow(client, '20240212093000_document_embeddings', sha256Hex(crlf));
    const r = await findPending({ databaseUrl: url, dir: 'prisma/migrations', cwd: fixture('prisma') });
    expect(r.pending.map((f) => f.id)).toEqual(['20240301080000_document_embedding_index']);
    expect(r.anomalies).toEqual([]);
  });

  it('Prisma: a ?schema= URL reads _prisma_migrations from that schema, as Prisma does', async () => {
    const { client } = await freshDb();
    await client.query('DROP SCHEMA IF EXISTS app CASCADE; CREATE SCHEMA app');
    await client.query('SET search_path TO app');
    await prismaTable(client);
    await prismaRow(client, '20240105120000_init', await prismaSum('20240105120000_init'));
    await client.query('SET search_path TO public');
    const r = await findPending({ databaseUrl: `${db.url}?schema=app`, dir: '', cwd: fixture('prisma') });
    expect(r.applied.map((a) => a.id)).toEqual(['20240105120000_init']);
    expect(r.pending).toHaveLength(2);
    const plain = await findPending({ databaseUrl: db.url, dir: '', cwd: fixture('prisma') });
    expect(plain.applied).toEqual([]);
  });

  it('Prisma: checksum drift, failed row, rolled-back row, missing file and out-of-order are all reported', async () => {
    const { url, client } = await freshDb();
    await prismaTable(client);
    await prismaRow(client, '20240105120000_init', sha256Hex('edited since'));
    await prismaRow(
      client,
      '20240212093000_document_embeddings',
      await prismaSum('20240212093000_document_embeddings'),
      'rolled-back',
    );
    await prismaRow(
      client,
      '20240301080000_document_embedding_index',
      await prismaSum('20240301080000_document_embedding_index'),
    );
    await prismaRow(client, '20231201000000_deleted_folder', sha256Hex('gone'));
    await prismaRow(client, '20240401000000_half_done', sha256Hex('x'), 'failed');
    const r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('prisma') });
    const kinds = r.anomalies.map((a) => a.kind).sort();
    expect(kinds).toEqual(['checksum-drift', 'failed', 'missing-file', 'out-of-order']);
    expect(r.anomalies.find((a) => a.kind === 'checksum-drift')?.file).toBe(
      'prisma/migrations/20240105120000_init/migration.sql',
    );
    expect(r.anomalies.find((a) => a.kind === 'failed')?.detail).toMatch(
      /20240401000000_half_done.*relation already exists/,
    );
    expect(r.anomalies.find((a) => a.kind === 'out-of-order')?.file).toBe(
      'prisma/migrations/20240212093000_document_embeddings/migration.sql',
    );
    // The rolled-back migration is pending again (Prisma re-applies it); the others are applied.
    expect(r.pending.map((f) => f.id)).toEqual(['20240212093000_document_embeddings']);
  });

  it('reports a migrator holding its advisory lock (Prisma, node-pg-migrate, golang-migrate, rail-actions)', async () => {
    const { url } = await freshDb();
    const holder = await connect();
    await holder.query('SELECT pg_advisory_lock(72707369)');
    let r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('prisma') });
    expect(r.anomalies.map((a) => a.kind)).toEqual(['locked']);
    expect(r.anomalies[0]?.detail).toMatch(/Prisma migration lock .*pid \d+/);
    await holder.query('SELECT pg_advisory_unlock_all()');

    await holder.query('SELECT pg_advisory_lock(7241865325823964)');
    r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('node-pg-migrate') });
    expect(r.anomalies.map((a) => a.kind)).toEqual(['locked']);
    await holder.query('SELECT pg_advisory_unlock_all()');

    await holder.query('SELECT pg_advisory_lock($1::bigint)', [golangMigrateLockKey(db.name, 'public').toString()]);
    r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('golang-migrate') });
    expect(r.anomalies.map((a) => a.kind)).toEqual(['locked']);
    await holder.query('SELECT pg_advisory_unlock_all()');

    await holder.query('SELECT pg_advisory_lock($1::bigint)', [RAIL_ACTIONS_LOCK_KEY.toString()]);
    r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('sql') });
    expect(r.anomalies.map((a) => a.kind)).toEqual(['locked']);
    expect(r.anomalies[0]?.detail).toMatch(/rail-actions migrate/);
    await holder.query('SELECT pg_advisory_unlock_all()');
    r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('sql') });
    expect(r.anomalies).toEqual([]);
  });

  it('Drizzle: journal order, hash rows matched by created_at, drift and a skipped older entry', async () => {
    const { url, client } = await freshDb();
    let r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('drizzle') });
    expect(r.tool).toBe('drizzle');
    expect(r.pending.map((f) => f.id)).toEqual(['0000_lazy_the_hood', '0001_wise_morbius', '0002_orange_sentry']);
    const sum = async (tag: string) =>
      sha256Hex(await readFile(path.join(fixture('drizzle'), 'drizzle', `${tag}.sql`)));
    await client.query(
      'CREATE SCHEMA drizzle; CREATE TABLE drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)',
    );
    await client.query(
      'INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, 1718000000000), ($2, 1718100000000)',
      [await sum('0000_lazy_the_hood'), await sum('0001_wise_morbius')],
    );
    r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('drizzle') });
    expect(r.pending.map((f) => f.id)).toEqual(['0002_orange_sentry']);
    expect(r.applied.map((a) => a.id)).toEqual(['0000_lazy_the_hood', '0001_wise_morbius']);
    expect(r.anomalies).toEqual([]);

    // 0000 edited after apply, and 0001 missing while 0002 is applied: drizzle would skip 0001 forever.
    await client.query('TRUNCATE drizzle.__drizzle_migrations');
    await client.query(
      'INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, 1718000000000), ($2, 1718200000000)',
      [sha256Hex('old text'), await sum('0002_orange_sentry')],
    );
    r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('drizzle') });
    expect(r.anomalies.map((a) => [a.kind, a.file])).toEqual([
      ['checksum-drift', 'drizzle/0000_lazy_the_hood.sql'],
      ['out-of-order', 'drizzle/0001_wise_morbius.sql'],
    ]);
  });

  it('Knex: JS migrations are opaque, names keep their extension, and a set lock row is reported', async () => {
    const { url, client } = await freshDb();
    await client.query(`create table "knex_migrations" ("id" serial primary key, "name" varchar(255), "batch" integer, "migration_time" timestamptz);
      create table "knex_migrations_lock" ("index" serial primary key, "is_locked" integer);
      insert into knex_migrations_lock (is_locked) values (0);
      insert into knex_migrations (name, batch, migration_time) values ('20240110090000_create_users.js', 1, now());`);
    let r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('knex') });
    expect(r.tool).toBe('knex');
    expect(r.pending.map((f) => [f.id, f.kind, f.sql])).toEqual([
      ['20240120090000_add_embeddings.js', 'opaque', undefined],
    ]);
    expect(r.anomalies).toEqual([]);
    await client.query('update knex_migrations_lock set is_locked = 1');
    r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('knex') });
    expect(r.anomalies.map((a) => a.kind)).toEqual(['locked']);
  });

  it('node-pg-migrate: SQL up sections and opaque JS, names without extension, order check', async () => {
    const { url, client } = await freshDb();
    let r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('node-pg-migrate') });
    expect(r.pending.map((f) => [f.id, f.kind])).toEqual([
      ['1718000000000_create-items', 'sql'],
      ['1718100000000_item-embeddings', 'sql'],
      ['1718200000000_backfill-names', 'opaque'],
    ]);
    expect(r.pending[0]?.sql).not.toMatch(/DROP TABLE/);
    await client.query(`CREATE TABLE "public"."pgmigrations" ( id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
      INSERT INTO pgmigrations (name, run_on) VALUES ('1718100000000_item-embeddings', now())`);
    r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('node-pg-migrate') });
    expect(r.anomalies.map((a) => [a.kind, a.file])).toEqual([
      ['out-of-order', 'migrations/1718000000000_create-items.sql'],
    ]);
  });

  it('golang-migrate: version watermark, dirty row, missing file, and a foreign schema_migrations table', async () => {
    const { url, client } = await freshDb();
    await client.query('CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null)');
    await client.query('INSERT INTO schema_migrations VALUES (1, false)');
    let r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('golang-migrate') });
    expect(r.pending.map((f) => f.id)).toEqual(['2', '3']);
    expect(r.anomalies).toEqual([]);
    await client.query('UPDATE schema_migrations SET version = 2, dirty = true');
    r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('golang-migrate') });
    expect(r.anomalies.map((a) => a.kind)).toEqual(['dirty']);
    expect(r.pending.map((f) => f.id)).toEqual(['2', '3']);
    await client.query('UPDATE schema_migrations SET version = 7, dirty = false');
    r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('golang-migrate') });
    expect(r.anomalies.map((a) => a.kind)).toEqual(['missing-file']);
    await client.query(
      'DROP TABLE schema_migrations; CREATE TABLE schema_migrations (version varchar(128) primary key)',
    );
    await expect(findPending({ databaseUrl: url, dir: '', cwd: fixture('golang-migrate') })).rejects.toThrow(
      /not golang-migrate's history table .*dbmate/,
    );
  });

  it('dbmate: up sections only, transaction:false honoured, versions are the leading digits', async () => {
    const { url, client } = await freshDb();
    await client.query(
      `create table schema_migrations (version varchar(128) primary key); insert into schema_migrations values ('20240301100000')`,
    );
    const r = await findPending({ databaseUrl: url, dir: '', cwd: fixture('dbmate') });
    expect(r.tool).toBe('dbmate');
    expect(r.pending.map((f) => [f.id, f.noTransaction ?? false])).toEqual([
      ['20240302100000', false],
      ['20240303100000', true],
    ]);
    expect(r.pending[1]?.sql).not.toMatch(/drop index/);
    expect(r.anomalies).toEqual([]);
  });

  it('plain SQL: natural file order and drift detection through rail_actions.schema_migrations', async () => {
    const { url, client } = await freshDb();
    let r = await findPending({ databaseUrl: url, dir: 'migrations', tool: 'sql', cwd: fixture('sql') });
    expect(r.pending.map((f) => f.id)).toEqual([
      '001_products.sql',
      '002_product_embeddings.sql',
      '010_products_search.sql',
    ]);
    const work = path.join(tmp, 'sql-drift');
    await cp(fixture('sql'), work, { recursive: true });
    await client.query(`CREATE SCHEMA rail_actions; CREATE TABLE rail_actions.schema_migrations (id text PRIMARY KEY, checksum char(64) NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(), execution_ms integer NOT NULL, applied_by text NOT NULL DEFAULT current_user)`);
    await client.query('INSERT INTO rail_actions.schema_migrations (id, checksum, execution_ms) VALUES ($1, $2, 5)', [
      '001_products.sql',
      sha256Hex(await readFile(path.join(work, 'migrations/001_products.sql'))),
    ]);
    r = await findPending({ databaseUrl: url, dir: 'migrations', cwd: work });
    expect(r.anomalies).toEqual([]);
    await writeFile(path.join(work, 'migrations/001_products.sql'), '-- edited\nSELECT 1;\n');
    r = await findPending({ databaseUrl: url, dir: 'migrations', cwd: work });
    expect(r.anomalies).toEqual([
      expect.objectContaining({ kind: 'checksum-drift', file: 'migrations/001_products.sql' }),
    ]);
  });

  it('an unreachable database is one clear error without the password', async () => {
    const err = await failure<Error>(
      findPending({ databaseUrl: 'postgres://app:s3cretPassw0rd@127.0.0.1:1/app', dir: '', cwd: fixture('sql') }),
    );
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(
      /Cannot connect to the database postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/app: .*ECONNREFUSED/,
    );
    expect(err.message).not.toContain('s3cretPassw0rd');
  });
});
