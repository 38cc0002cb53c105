// Backups of destructive migrations and their restore (src/backup) on real PostgreSQL 15 + pgvector: for each kind of
// destruction a round trip on a table with data (a vector(3) column among them) compares an md5 of the affected rows
// before the migration with the same after the restore; then atomicity with the statement, the size limit, retention,
// a second restore, a restore refused after schema drift, and the bundled migrate and restore actions.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationBackup, parseSize, restoreBackup, restoreUsage } from '../src/backup/index.js';
import { readPieces } from '../src/backup/store.js';
import { describeRisks } from '../src/release/migrate-guard.js';
import { InputError, UserFacingError } from '../src/core/errors.js';
import { type ApplyOptions, MigrationFailedError, applyMigrations } from '../src/migrations/runner/apply.js';
import { projectRoot, runAction } from './harness/index.js';
import { type TestDatabase, createTestDatabase } from './helpers/db.js';
import { failure } from './helpers/migrations.js';

let tmp: string;
const dbs: TestDatabase[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rail-backup-'));
});
afterAll(async () => {
  for (const db of dbs) await db.drop().catch(() => undefined);
  await rm(tmp, { recursive: true, force: true });
});

async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  text: string,
  values?: unknown[],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

/** A database with `items` (bigserial key, NOT NULL text with a default, vector(3) with an HNSW index, jsonb …), a
 * table referencing it, and `events` without any key. */
async function seededDb(rows = 500): Promise<TestDatabase> {
  const db = await createTestDatabase('backup');
  dbs.push(db);
  await sql(
    db.url,
    `CREATE TABLE items (
       id bigserial PRIMARY KEY,
       name text NOT NULL DEFAULT 'unnamed',
       score numeric(8,3) CHECK (score >= 0),
       embedding vector(3),
       tags jsonb,
       created_at timestamptz NOT NULL DEFAULT now()
     );
     CREATE INDEX items_embedding_hnsw ON items USING hnsw (embedding vector_cosine_ops);
     CREATE INDEX items_name ON items (name);
     INSERT INTO items (name, score, embedding, tags, created_at)
       SELECT 'item ' || i, i * 1.125, ('[' || i || ',' || (i % 7) || ',' || (i * 0.5) || ']')::vector(3),
              jsonb_build_object('i', i, 'even', i % 2 = 0), timestamptz '2026-01-01' + i * interval '1 minute'
         FROM generate_series(1, ${rows}) i;
     CREATE TABLE reviews (id serial PRIMARY KEY, item_id bigint NOT NULL REFERENCES items (id), body text);
     INSERT INTO reviews (item_id, body) SELECT i, 'review ' || i FROM generate_series(1, 20) i;
     CREATE TABLE events (kind text, payload jsonb, at timestamptz, embedding vector(3));
     INSERT INTO events SELECT 'k' || (i % 5), jsonb_build_object('n', i), timestamptz '2026-02-01' + i * interval '1 second', ('[' || i || ',0,1]')::vector(3)
       FROM generate_series(1, 300) i;`,
  );
  return db;
}

/** md5 over the given columns of every row, in key order: equal before and after means the same data. */
async function checksum(url: string, table: string, columns: string, order = 'id'): Promise<string> {
  const r = await sql<{ sum: string | null }>(
    url,
    `SELECT md5(string_agg(x::text, '|' ORDER BY x::text)) AS sum FROM (SELECT ${columns} FROM ${table} ORDER BY ${order}) x`,
  );
  return r[0]?.sum ?? 'empty';
}

async function repo(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(tmp, 'repo-'));
  await mkdir(path.join(root, 'migrations'));
  for (const [f, text] of Object.entries(files)) await writeFile(path.join(root, 'migrations', f), text);
  return root;
}

const logs: string[] = [];
function applyOpts(
  url: string,
  cwd: string,
  backup: MigrationBackup | undefined,
  extra: Partial<ApplyOptions> = {},
): ApplyOptions {
  return {
    databaseUrl: url,
    cwd,
    dir: 'migrations',
    tool: 'sql',
    lockTimeoutMs: 5000,
    statementTimeoutMs: 60_000,
    lockWaitMs: 10_000,
    maxRetries: 1,
    log: (m) => logs.push(m),
    ...(backup ? { backup } : {}),
    ...extra,
  };
}

const WEEK = 7 * 24 * 3_600_000;
const newBackup = (over: Partial<ConstructorParameters<typeof MigrationBackup>[0]> = {}) =>
  new MigrationBackup({
    maxBytes: parseSize('1GB', 'backup-max-size'),
    retentionMs: WEEK,
    log: (m) => logs.push(m),
    ...over,
  });

/** Applies `files` with a backup, then restores it; returns the backup and the restore result. */
async function roundTrip(db: TestDatabase, files: Record<string, string>) {
  const backup = newBackup();
  const cwd = await repo(files);
  await applyMigrations(applyOpts(db.url, cwd, backup));
  const taken = await readPieces(await connected(db.url), backup.id);
  const restored = await restoreBackup({ databaseUrl: db.url, backupId: backup.id, lockWaitMs: 5000 });
  return { backup, taken, restored };
}

const open: pg.Client[] = [];
async function connected(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  open.push(c);
  return c;
}
afterAll(async () => {
  for (const c of open) await c.end().catch(() => undefined);
});

const ITEM_COLUMNS = 'id, name, score, embedding, tags, created_at';

describe('round trips: what each destructive statement destroys comes back exactly', () => {
  it('DROP COLUMN of a vector column: key + column copied, the column re-added with its type, values, index', async () => {
    const db = await seededDb();
    const before = await checksum(db.url, 'items', ITEM_COLUMNS);
    const { taken, restored } = await roundTrip(db, { '001_drop.sql': 'ALTER TABLE items DROP COLUMN embedding;\n' });
    expect(taken).toHaveLength(1);
    expect(taken[0]).toMatchObject({
      kind: 'drop-column',
      sourceTable: 'items',
      columns: ['id', 'embedding'],
      columnTypes: ['bigint', 'vector(3)'],
      keyColumns: ['id'],
      rows: 500,
    });
    expect(taken[0]!.bytes).toBeGreaterThan(0);
    expect(restored).toMatchObject({ status: 'restored', pieces: [{ kind: 'drop-column', rows: 500 }] });
    expect(await checksum(db.url, 'items', ITEM_COLUMNS)).toBe(before);
    const idx = await sql<{ def: string }>(db.url, "SELECT pg_get_indexdef('items_embedding_hnsw'::regclass) AS def");
    expect(idx[0]?.def).toContain('USING hnsw (embedding vector_cosine_ops)');
    const type = await sql<{ t: string }>(
      db.url,
      "SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'embedding'",
    );
    expect(type[0]?.t).toBe('vector(3)');
  });

  it('DROP COLUMN of a NOT NULL column with a default on a table without a key: whole table copied, matched by the other columns', async () => {
    const db = await seededDb();
    const before = await checksum(db.url, 'events', 'kind, payload, at, embedding', 'at');
    const { taken } = await roundTrip(db, { '001_drop.sql': 'ALTER TABLE events DROP COLUMN kind;\n' });
    expect(taken[0]).toMatchObject({
      kind: 'drop-column',
      keyColumns: [],
      columns: ['kind', 'payload', 'at', 'embedding'],
    });
    expect(taken[0]!.notes.join(' ')).toMatch(
      /no primary key or unique NOT NULL key: restore matches rows by all their other columns/,
    );
    expect(await checksum(db.url, 'events', 'kind, payload, at, embedding', 'at')).toBe(before);
  });

  it('DROP TABLE … CASCADE: structure, rows, key, defaults, CHECK, indexes, the foreign key pointing at it and the sequence come back', async () => {
    const db = await seededDb();
    const before = await checksum(db.url, 'items', ITEM_COLUMNS);
    const { taken, restored } = await roundTrip(db, { '001_drop.sql': 'DROP TABLE items CASCADE;\n' });
    expect(taken[0]).toMatchObject({ kind: 'drop-table', rows: 500, keyColumns: ['id'] });
    expect(taken[0]!.ddl.bestEffort).toEqual([
      expect.stringMatching(
        /^ALTER TABLE public\.reviews ADD CONSTRAINT "reviews_item_id_fkey" FOREIGN KEY \(item_id\) REFERENCES items\(id\)$/,
      ),
    ]);
    expect(restored.warnings).not.toContainEqual(expect.stringMatching(/^not restored/));
    expect(await checksum(db.url, 'items', ITEM_COLUMNS)).toBe(before);
    const cons = await sql<{ def: string }>(
      db.url,
      "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'items'::regclass OR conname = 'reviews_item_id_fkey' ORDER BY 1",
    );
    expect(cons.map((c) => c.def)).toEqual([
      'CHECK ((score >= (0)::numeric))',
      'FOREIGN KEY (item_id) REFERENCES items(id)',
      'PRIMARY KEY (id)',
    ]);
    const idx = await sql<{ n: string }>(
      db.url,
      "SELECT count(*) AS n FROM pg_index WHERE indrelid = 'items'::regclass",
    );
    expect(Number(idx[0]?.n)).toBe(3);
    // The serial sequence is back, owned by the column and past the restored ids; the default still works.
    const inserted = await sql<{ id: string; name: string }>(
      db.url,
      'INSERT INTO items DEFAULT VALUES RETURNING id, name',
    );
    expect(inserted[0]).toEqual({ id: '501', name: 'unnamed' });
    await expect(sql(db.url, "INSERT INTO items (name, score) VALUES ('neg', -1)")).rejects.toThrow(/check constraint/);
  });

  it.each([
    ['TRUNCATE', 'TRUNCATE items CASCADE;'],
    ['TRUNCATE of both tables', 'TRUNCATE items, reviews CASCADE;'],
    ['DELETE without WHERE', 'DELETE FROM reviews; DELETE FROM items;'],
    ['DELETE with WHERE', 'DELETE FROM reviews WHERE item_id > 10; DELETE FROM items WHERE id > 10;'],
  ])('%s: the rows go back, matched by key, and the sequence stays past them', async (_name, statement) => {
    const db = await seededDb();
    const before = await checksum(db.url, 'items', ITEM_COLUMNS);
    const reviews = await checksum(db.url, 'reviews', 'id, item_id, body');
    const { taken } = await roundTrip(db, { '001_rows.sql': `${statement}\n` });
    expect(taken.map((p) => `${p.kind} ${p.sourceTable}`)).toEqual(['rows reviews', 'rows items']);
    // TRUNCATE … CASCADE empties reviews too: copied first, so the restore puts items back before it.
    // Named by the statement, reviews is its own target (one copy), still taken before items.
    if (statement === 'TRUNCATE items CASCADE;')
      expect(taken[0]!.notes.join(' ')).toMatch(/foreign-key cascade from public\.items removes rows here/);
    expect(await checksum(db.url, 'items', ITEM_COLUMNS)).toBe(before);
    expect(await checksum(db.url, 'reviews', 'id, item_id, body')).toBe(reviews);
    const next = await sql<{ id: string }>(db.url, 'INSERT INTO items DEFAULT VALUES RETURNING id');
    expect(Number(next[0]?.id)).toBeGreaterThan(500);
  });

  it('DELETE through ON DELETE CASCADE chains and SET NULL keys: every row and key the cascade destroys comes back', async () => {
    const db = await seededDb();
    await sql(
      db.url,
      `CREATE TABLE authors (id bigint PRIMARY KEY, name text NOT NULL);
       CREATE TABLE posts (id bigint PRIMARY KEY, author_id bigint NOT NULL REFERENCES authors ON DELETE CASCADE,
                           editor_id bigint REFERENCES authors ON DELETE SET NULL, title text);
       CREATE TABLE comments (id bigint PRIMARY KEY, post_id bigint NOT NULL REFERENCES posts ON DELETE CASCADE,
                              author_id bigint NOT NULL REFERENCES authors ON DELETE CASCADE, body text);
       INSERT INTO authors SELECT i, 'author ' || i FROM generate_series(1, 5) i;
       INSERT INTO posts SELECT i, 1 + i % 5, 1 + (i + 1) % 5, 'post ' || i FROM generate_series(1, 20) i;
       INSERT INTO comments SELECT i, 1 + i % 20, 1 + (i * 3) % 5, 'comment ' || i FROM generate_series(1, 40) i;`,
    );
    const sums = async () => [
      await checksum(db.url, 'authors', 'id, name'),
      await checksum(db.url, 'posts', 'id, author_id, editor_id, title'),
      await checksum(db.url, 'comments', 'id, post_id, author_id, body'),
    ];
    const before = await sums();
    const backup = newBackup();
    await applyMigrations(applyOpts(db.url, await repo({ '001.sql': 'DELETE FROM authors WHERE id <= 2;\n' }), backup));
    // The cascade really destroyed something in each table.
    expect(await sql(db.url, 'SELECT count(*)::int AS n FROM posts WHERE editor_id IS NULL')).toEqual([{ n: 4 }]);
    expect((await sums()).every((sum, i) => sum !== before[i])).toBe(true);
    const taken = await readPieces(await connected(db.url), backup.id);
    // Keys first, then each table before the tables it references (comments reaches authors directly AND through
    // posts): a restore runs newest first, so referenced rows are back before what points at them.
    expect(taken.map((p) => `${p.kind} ${p.sourceTable}${p.kind === 'values' ? `.${p.columns.at(-1)}` : ''}`)).toEqual([
      'values posts.editor_id',
      'rows comments',
      'rows posts',
      'rows authors',
    ]);
    expect(taken[0]!.notes.join(' ')).toMatch(/ON DELETE SET NULL\/SET DEFAULT from public\.authors/);
    const restored = await restoreBackup({ databaseUrl: db.url, backupId: backup.id, lockWaitMs: 5000 });
    expect(restored.status).toBe('restored');
    expect(await sums()).toEqual(before);
  });

  it('UPDATE: the overwritten values come back by key', async () => {
    const db = await seededDb();
    const before = await checksum(db.url, 'items', ITEM_COLUMNS);
    const { taken } = await roundTrip(db, {
      '001_update.sql': "UPDATE items SET embedding = '[0,0,0]', name = upper(name) WHERE id % 2 = 0;\n",
    });
    expect(taken[0]).toMatchObject({ kind: 'values', columns: ['id', 'embedding', 'name'], rows: 500 });
    expect(await checksum(db.url, 'items', ITEM_COLUMNS)).toBe(before);
  });

  it('ALTER COLUMN TYPE narrowing (numeric(8,3) → integer, text → varchar(4) USING): old type and exact values back', async () => {
    const db = await seededDb();
    const before = await checksum(db.url, 'items', ITEM_COLUMNS);
    const { taken } = await roundTrip(db, {
      '001_narrow.sql':
        'ALTER TABLE items ALTER COLUMN score TYPE integer;\nALTER TABLE items ALTER COLUMN name TYPE varchar(4) USING left(name, 4);\n',
    });
    expect(taken.map((p) => [p.kind, p.columns, p.columnTypes])).toEqual([
      ['column-type', ['id', 'score'], ['bigint', 'numeric(8,3)']],
      ['column-type', ['id', 'name'], ['bigint', 'text']],
    ]);
    expect(await checksum(db.url, 'items', ITEM_COLUMNS)).toBe(before);
  });

  it('a widening type change (varchar → text) loses nothing: no backup', async () => {
    const db = await seededDb();
    await sql(db.url, 'ALTER TABLE events ALTER COLUMN kind TYPE varchar(10)');
    const backup = newBackup();
    await applyMigrations(
      applyOpts(db.url, await repo({ '001.sql': 'ALTER TABLE events ALTER COLUMN kind TYPE text;\n' }), backup),
    );
    expect(backup.plannedCount).toBe(0);
    expect(await sql(db.url, "SELECT 1 FROM pg_namespace WHERE nspname = 'rail_actions_backup'")).toEqual([]);
  });

  it('UPDATE then DROP COLUMN in one file: pieces are undone newest first, so the values from before the UPDATE return', async () => {
    const db = await seededDb();
    const before = await checksum(db.url, 'items', ITEM_COLUMNS);
    const { taken, restored } = await roundTrip(db, {
      '001.sql': "UPDATE items SET tags = '{}';\nALTER TABLE items DROP COLUMN tags;\n",
    });
    expect(taken.map((p) => p.kind)).toEqual(['values', 'drop-column']);
    expect(restored.pieces.map((p) => p.kind)).toEqual(['values', 'drop-column']);
    expect(await checksum(db.url, 'items', ITEM_COLUMNS)).toBe(before);
  });

  it('a table created by the same pending set is not backed up (nothing of it existed before the run)', async () => {
    const db = await seededDb();
    const backup = newBackup();
    await applyMigrations(
      applyOpts(
        db.url,
        await repo({ '001.sql': 'CREATE TABLE scratch (id int);\n', '002.sql': 'DROP TABLE scratch;\n' }),
        backup,
      ),
    );
    expect(backup.plannedCount).toBe(0);
  });
});

describe("the project's own migrator (migrations-command): the copies are taken before it starts", () => {
  it('dbmate (real binary) drops a column: backed up first, restored exactly', async () => {
    const db = await seededDb();
    const before = await checksum(db.url, 'items', ITEM_COLUMNS);
    const root = await mkdtemp(path.join(tmp, 'dbmate-'));
    await mkdir(path.join(root, 'db/migrations'), { recursive: true });
    await writeFile(
      path.join(root, 'db/migrations/20260301100000_drop_tags.sql'),
      '-- migrate:up\nALTER TABLE items DROP COLUMN tags;\n\n-- migrate:down\n',
    );
    // dbmate's Go driver defaults to TLS; the test server has none.
    const url = `${db.url}${db.url.includes('?') ? '&' : '?'}sslmode=disable`;
    const dbmate = JSON.stringify(path.resolve('node_modules/.bin/dbmate'));
    const backup = newBackup();
    const result = await applyMigrations({
      ...applyOpts(url, root, backup),
      dir: '',
      tool: 'auto',
      command: `${dbmate} --no-dump-schema migrate`,
    });
    expect(result.applied.map((a) => a.id)).toEqual(['20260301100000']);
    const pieces = await readPieces(await connected(db.url), backup.id);
    expect(pieces.map((p) => [p.kind, p.columns, p.rows])).toEqual([['drop-column', ['id', 'tags'], 500]]);
    await restoreBackup({ databaseUrl: db.url, backupId: backup.id, lockWaitMs: 5000 });
    expect(await checksum(db.url, 'items', ITEM_COLUMNS)).toBe(before);
  });
});

describe('safety', () => {
  it('the copy commits with the statement: a file that fails after its DROP leaves neither the drop nor a backup', async () => {
    const db = await seededDb();
    const backup = newBackup();
    const cwd = await repo({ '001.sql': 'ALTER TABLE items DROP COLUMN tags;\nSELECT 1 / 0;\n' });
    const err = await failure<MigrationFailedError>(applyMigrations(applyOpts(db.url, cwd, backup)));
    expect(err.message).toMatch(/division by zero/);
    expect(
      await sql(db.url, "SELECT 1 FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'tags'"),
    ).toHaveLength(1);
    expect(await readPieces(await connected(db.url), backup.id)).toEqual([]);
    const copies = await sql(
      db.url,
      "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'rail_actions_backup' AND c.relkind = 'r' AND relname <> 'backups'",
    );
    expect(copies).toEqual([]);
  });

  it('the copy is in the same transaction as the statement: killed mid-statement, the database has both or neither', async () => {
    const db = await seededDb();
    const backup = newBackup();
    // The statement after the DROP waits; the runner's session is terminated meanwhile (a killed runner).
    const cwd = await repo({ '001.sql': 'ALTER TABLE items DROP COLUMN tags;\nSELECT pg_sleep(30);\n' });
    const run = failure<MigrationFailedError>(applyMigrations(applyOpts(db.url, cwd, backup)));
    const admin = await connected(db.url);
    for (let i = 0; i < 200; i++) {
      const r = await admin.query(
        "SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND pid <> pg_backend_pid()",
      );
      if (r.rowCount) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    await run;
    expect(
      await sql(db.url, "SELECT 1 FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'tags'"),
    ).toHaveLength(1);
    expect(await readPieces(admin, backup.id)).toEqual([]);
  });

  it('over backup-max-size: refused before anything changes, naming the input', async () => {
    const db = await seededDb();
    const backup = newBackup({ maxBytes: parseSize('8kB', 'backup-max-size') });
    const err = await failure<InputError>(
      applyMigrations(applyOpts(db.url, await repo({ '001.sql': 'DROP TABLE items CASCADE;\n' }), backup)),
    );
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(
      /^Input 'backup-max-size': the destructive statements would back up about \d+ kB \(migrations\/001\.sql:1 items ~\d+ kB\), more than the limit of 8\.0 kB; nothing was applied\. Raise backup-max-size .*or set backup: off/,
    );
    expect(await sql(db.url, "SELECT to_regclass('items') IS NOT NULL AS ok")).toEqual([{ ok: true }]);
    expect(await sql(db.url, "SELECT 1 FROM pg_namespace WHERE nspname = 'rail_actions_backup'")).toEqual([]);
  });

  it('parseSize: units and bad values', () => {
    expect(parseSize('500MB', 'x')).toBe(500 * 1024 ** 2);
    expect(parseSize('1.5 GiB', 'x')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('0', 'x')).toBe(0);
    expect(() => parseSize('lots', 'backup-max-size')).toThrow(
      "Input 'backup-max-size': expected a size like 500MB, 2GB or 0 (no limit), got 'lots'",
    );
  });

  it('retention: the next run drops expired copies; restoring an expired backup says so', async () => {
    const db = await seededDb();
    const t0 = new Date('2026-03-01T00:00:00Z');
    const first = newBackup({ retentionMs: 3_600_000, now: () => t0 });
    await applyMigrations(applyOpts(db.url, await repo({ '001.sql': 'ALTER TABLE items DROP COLUMN tags;\n' }), first));
    const [piece] = await readPieces(await connected(db.url), first.id);
    expect(piece?.expiresAt.toISOString()).toBe('2026-03-01T01:00:00.000Z');
    const copy = piece?.copyTable ?? '';
    const second = newBackup({ now: () => new Date('2026-03-01T02:00:00Z') });
    const cwd = await repo({
      '001.sql': 'ALTER TABLE items DROP COLUMN tags;\n',
      '002.sql': 'ALTER TABLE items DROP COLUMN score;\n',
    });
    await applyMigrations(applyOpts(db.url, cwd, second));
    expect(second.purged).toEqual([first.id]);
    expect(await sql(db.url, 'SELECT to_regclass($1) AS t', [`rail_actions_backup."${copy}"`])).toEqual([{ t: null }]);
    const err = await failure<UserFacingError>(
      restoreBackup({ databaseUrl: db.url, backupId: first.id, lockWaitMs: 1000 }),
    );
    expect(err.message).toBe(
      `Backup ${first.id} expired at 2026-03-01T01:00:00.000Z and its copies were dropped: nothing left to restore`,
    );
  });

  it('a second restore changes nothing and says when the first one ran; without a backup id the newest kept backup is restored', async () => {
    const db = await seededDb();
    const backup = newBackup();
    await applyMigrations(applyOpts(db.url, await repo({ '001.sql': 'DELETE FROM reviews;\n' }), backup));
    const first = await restoreBackup({ databaseUrl: db.url, lockWaitMs: 1000 });
    expect(first).toMatchObject({ id: backup.id, status: 'restored' });
    const second = await restoreBackup({ databaseUrl: db.url, backupId: backup.id, lockWaitMs: 1000 });
    expect(second).toMatchObject({ id: backup.id, status: 'already-restored', pieces: [] });
    expect(await sql(db.url, 'SELECT count(*)::int AS n FROM reviews')).toEqual([{ n: 20 }]);
    await expect(restoreBackup({ databaseUrl: db.url, lockWaitMs: 1000 })).rejects.toThrow(
      /Every backup in this database is restored or expired/,
    );
  });

  it('schema drift: the dropped column re-added with another type is refused, and nothing changes', async () => {
    const db = await seededDb();
    const backup = newBackup();
    await applyMigrations(
      applyOpts(
        db.url,
        await repo({ '001.sql': 'DELETE FROM reviews;\nALTER TABLE items DROP COLUMN score;\n' }),
        backup,
      ),
    );
    await sql(db.url, 'ALTER TABLE items ADD COLUMN score text');
    const err = await failure<UserFacingError>(
      restoreBackup({ databaseUrl: db.url, backupId: backup.id, lockWaitMs: 1000 }),
    );
    expect(err.message).toMatch(
      new RegExp(
        `^Refusing to restore backup ${backup.id}: piece 2 \\(column public\\.items\\.score, dropped, from migrations/001\\.sql:2\\): column items\\.score exists again as text, the backup holds numeric\\(8,3\\): the schema changed since, put it back by hand\\. Nothing was changed`,
      ),
    );
    expect(await sql(db.url, 'SELECT count(*)::int AS n FROM reviews')).toEqual([{ n: 0 }]);
    expect((await readPieces(await connected(db.url), backup.id)).map((p) => p.status)).toEqual(['kept', 'kept']);
  });

  it('a long app transaction on the table: the restore gives up after its 10 s lock_timeout instead of queueing traffic, changing nothing', async () => {
    const db = await seededDb(50);
    const backup = newBackup();
    await applyMigrations(
      applyOpts(db.url, await repo({ '001.sql': 'ALTER TABLE items DROP COLUMN tags;\n' }), backup),
    );
    const app = await connected(db.url);
    await app.query('BEGIN');
    await app.query('SELECT count(*) FROM items');
    const err = await failure<UserFacingError>(
      restoreBackup({ databaseUrl: db.url, backupId: backup.id, lockWaitMs: 1000 }),
    );
    await app.query('ROLLBACK');
    expect(err.message).toMatch(
      /: canceling statement due to lock timeout — another session held a lock on the table for 10 s \(lock_timeout\); run it again when the app is quieter\. Nothing was changed/,
    );
    expect((await readPieces(app, backup.id)).map((p) => p.status)).toEqual(['kept']);
    expect((await restoreBackup({ databaseUrl: db.url, backupId: backup.id, lockWaitMs: 1000 })).status).toBe(
      'restored',
    );
  }, 30_000);

  it('a bad backup id is an input error; an unknown one lists the newest', async () => {
    const db = await seededDb();
    await expect(restoreBackup({ databaseUrl: db.url, backupId: 'latest', lockWaitMs: 1000 })).rejects.toThrow(
      "Input 'backup-id': expected a backup id like b20260101t120000_ab12 (the migrate step's backup-id output), got 'latest'",
    );
    await expect(
      restoreBackup({ databaseUrl: db.url, backupId: 'b20260101t000000_abcd', lockWaitMs: 1000 }),
    ).rejects.toThrow(/No rail-actions backup in this database/);
  });

  it('the rollback refusal across a destructive migration points to the backup and the exact restore command', () => {
    const destructive = [
      { risk: 'destructive' as const, where: 'migrations/002.sql:3', detail: 'ALTER TABLE users DROP COLUMN email' },
    ];
    expect(describeRisks(destructive, 5, 'b20260101t000000_abcd')).toBe(
      'destructive migrations/002.sql:3 (ALTER TABLE users DROP COLUMN email) — the migrate step backed up what the destructive statements destroyed (backup b20260101t000000_abcd): put it back first with `rail-actions restore --database-url "$DATABASE_URL" --backup-id b20260101t000000_abcd` or the actions/restore action with backup-id: b20260101t000000_abcd',
    );
    expect(describeRisks(destructive)).toMatch(
      /\(its backup-id output; with backup: auto\): put it back first with `rail-actions restore --database-url "\$DATABASE_URL"` or the actions\/restore action \(without backup-id it restores the newest backup not yet restored\)$/,
    );
    expect(describeRisks([{ risk: 'breaking', where: 'm.sql:1', detail: 'RENAME' }])).toBe('breaking m.sql:1 (RENAME)');
  });

  it('restoreUsage names the exact command', () => {
    expect(restoreUsage('b20260101t000000_abcd').command).toBe(
      'rail-actions restore --database-url "$DATABASE_URL" --backup-id b20260101t000000_abcd',
    );
  });
});

describe('through the bundled actions (dist/migrate, dist/restore), run as the runner runs them', () => {
  it('migrate backs up the DROP COLUMN (outputs, summary with the restore command), restore puts it back, a second restore changes nothing', async () => {
    const db = await seededDb(200);
    const before = await checksum(db.url, 'items', ITEM_COLUMNS);
    const cwd = await repo({ '001_drop_embedding.sql': 'ALTER TABLE items DROP COLUMN embedding;\n' });
    const inputs = { 'database-url': db.url, 'migrations-tool': 'sql', 'migrations-dir': 'migrations' };
    const m = await runAction({ action: 'migrate', inputs, cwd });
    expect(m.exitCode, m.stdout + m.stderr).toBe(0);
    const id = m.outputs['backup-id'] ?? '';
    expect(id).toMatch(/^b\d{8}t\d{6}_[0-9a-f]{4}$/);
    expect(Number(m.outputs['backup-size'])).toBeGreaterThan(0);
    expect(m.summary).toContain(`Backup <code>${id}</code>`);
    expect(m.summary).toContain(`rail-actions restore --database-url &quot;$DATABASE_URL&quot; --backup-id ${id}`);
    expect(m.summary).toMatch(/column public\.items\.embedding, dropped/);
    expect(m.logLines.join('\n')).toMatch(
      /Backups: migrations\/001_drop_embedding\.sql:1 — copied the dropped column of public\.items \(embedding\): 200 row\(s\)/,
    );
    expect(
      await sql(
        db.url,
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'embedding'",
      ),
    ).toEqual([]);

    const r = await runAction({ action: 'restore', inputs: { 'database-url': db.url, 'backup-id': id } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.outputs).toMatchObject({ 'backup-id': id, result: 'restored', rows: '200' });
    expect(JSON.parse(r.outputs['pieces'] ?? '[]')).toEqual([
      { piece: 1, kind: 'drop-column', table: 'public.items', columns: ['embedding'], rows: 200 },
    ]);
    expect(r.summary).toContain(`Restore: ✅ Restored backup ${id}`);
    expect(await checksum(db.url, 'items', ITEM_COLUMNS)).toBe(before);
    const password = new URL(db.url).password;
    if (password) expect(m.allText + r.allText).not.toContain(password);

    const again = await runAction({ action: 'restore', inputs: { 'database-url': db.url } });
    expect(again.exitCode, again.stdout + again.stderr).toBe(1);
    expect(again.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /Every backup in this database is restored or expired/,
    );
    const named = await runAction({ action: 'restore', inputs: { 'database-url': db.url, 'backup-id': id } });
    expect(named.exitCode).toBe(0);
    expect(named.outputs).toMatchObject({ result: 'already-restored', rows: '0' });
  }, 120_000);

  it('backup: off takes none; a backup over backup-max-size fails the step before anything is applied', async () => {
    const db = await seededDb(200);
    const inputs = { 'database-url': db.url, 'migrations-tool': 'sql', 'migrations-dir': 'migrations' };
    const big = await runAction({
      action: 'migrate',
      inputs: { ...inputs, 'backup-max-size': '1kB' },
      cwd: await repo({ '001.sql': 'TRUNCATE reviews;\n' }),
    });
    expect(big.exitCode).toBe(1);
    expect(big.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /^Input 'backup-max-size': the destructive statements would back up about .* more than the limit of 1\.0 kB; nothing was applied/,
    );
    expect(await sql(db.url, 'SELECT count(*)::int AS n FROM reviews')).toEqual([{ n: 20 }]);
    const off = await runAction({
      action: 'migrate',
      inputs: { ...inputs, backup: 'off' },
      cwd: await repo({ '001.sql': 'TRUNCATE reviews;\n' }),
    });
    expect(off.exitCode, off.stdout).toBe(0);
    expect(off.outputs['backup-id']).toBe('');
    expect(await sql(db.url, "SELECT 1 FROM pg_namespace WHERE nspname = 'rail_actions_backup'")).toEqual([]);
    const bad = await runAction({
      action: 'migrate',
      inputs: { ...inputs, backup: 'yes' },
      cwd: await repo({ '001.sql': 'TRUNCATE reviews;\n' }),
    });
    expect(bad.exitCode).toBe(1);
    expect(bad.annotations.find((a) => a.level === 'error')?.message).toMatch(/^Input 'backup': /);
  }, 120_000);
});

describe('rail-actions restore (the bundled CLI)', () => {
  const cli = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [path.join(projectRoot, 'bin/rail-actions.mjs'), ...args],
        { env: { PATH: process.env.PATH ?? '', ...env } },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('--list shows the backup; restore --backup-id puts the rows back; a bad id is a usage error naming the flag', async () => {
    const db = await seededDb(100);
    const before = await checksum(db.url, 'items', ITEM_COLUMNS);
    const backup = newBackup();
    await applyMigrations(
      applyOpts(db.url, await repo({ '001.sql': 'DELETE FROM reviews;\nDELETE FROM items WHERE id > 50;\n' }), backup),
    );
    const env = { DATABASE_URL: db.url, NO_COLOR: '1' };
    const list = await cli(['restore', '--list'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(
        `${backup.id} +kept .* rows of public\\.reviews, deleted/truncated; rows of public\\.items, deleted/truncated`,
      ),
    );
    const r = await cli(['restore', '--backup-id', backup.id], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`✔ restored backup ${backup.id} in `));
    expect(await checksum(db.url, 'items', ITEM_COLUMNS)).toBe(before);
    const bad = await cli(['restore', '--backup-id', 'nope'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      "--backup-id: expected a backup id like b20260101t120000_ab12 (the migrate step's backup-id output), got 'nope'",
    );
    const password = new URL(db.url).password;
    if (password) expect(list.stdout + r.stdout + r.stderr).not.toContain(password);
  }, 60_000);

  it('migrate takes the same backup as the action and prints how to undo it; --backup off takes none', async () => {
    const db = await seededDb(100);
    const before = await checksum(db.url, 'items', ITEM_COLUMNS);
    const cwd = await repo({ '001_drop_embedding.sql': 'ALTER TABLE items DROP COLUMN embedding;\n' });
    const env = { DATABASE_URL: db.url, NO_COLOR: '1' };
    const m = await cli(['migrate', '--dir', path.join(cwd, 'migrations'), '--tool', 'sql', '--json'], env);
    expect(m.code, m.stderr).toBe(0);
    const report = JSON.parse(m.stdout) as { ok: boolean; backup: { id: string; rows: number; bytes: number } | null };
    expect(report.ok).toBe(true);
    expect(report.backup).toMatchObject({
      id: expect.stringMatching(/^b\d{8}t\d{6}_[0-9a-f]{4}$/) as string,
      rows: 100,
    });
    const r = await cli(['restore', '--backup-id', report.backup!.id], env);
    expect(r.code, r.stderr).toBe(0);
    expect(await checksum(db.url, 'items', ITEM_COLUMNS)).toBe(before);

    const db2 = await seededDb(100);
    const text = await cli(['migrate', '--dir', path.join(cwd, 'migrations'), '--tool', 'sql'], {
      ...env,
      DATABASE_URL: db2.url,
    });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /To undo: rail-actions restore --database-url "\$DATABASE_URL" --backup-id b\d{8}t\d{6}_[0-9a-f]{4}/,
    );
    const db3 = await seededDb(100);
    const off = await cli(
      ['migrate', '--dir', path.join(cwd, 'migrations'), '--tool', 'sql', '--backup', 'off', '--json'],
      { ...env, DATABASE_URL: db3.url },
    );
    expect(off.code, off.stderr).toBe(0);
    expect((JSON.parse(off.stdout) as { backup: unknown }).backup).toBeNull();
    const bad = await cli(['migrate', '--dir', path.join(cwd, 'migrations'), '--backup', 'maybe'], {
      ...env,
      DATABASE_URL: db3.url,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--backup: expected one of auto, off, got 'maybe'");
  }, 120_000);
});
