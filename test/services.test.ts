// Smoke test of the real services every integration test relies on (scripts/test-services.sh):
// PostgreSQL 15 with pgvector, one database per test file, real lock contention, and Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createTestDatabase, requireServices, type TestDatabase } from './helpers/db.js';

describe('test services', () => {
  let db: TestDatabase;
  const clients: pg.Client[] = [];

  async function connect(url: string): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: url });
    // drop() terminates sessions still connected to a test database; that error is expected, not a failure.
    c.on('error', () => undefined);
    await c.connect();
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    db = await createTestDatabase('services');
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await db?.drop();
  });

  it('DATABASE_URL points at PostgreSQL 15', async () => {
    const c = await connect(requireServices().databaseUrl);
    const { rows } = await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
    expect(Math.floor(Number(rows[0]!.v) / 10000)).toBe(15);
  });

  it('a per-file database is cloned from the template with pgvector installed', async () => {
    expect(db.name).toMatch(/^services_\d+_[0-9a-f]{10}$/);
    const c = await connect(db.url);
    const { rows } = await c.query<{ db: string; ext: string | null }>(
      "SELECT current_database() AS db, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS ext",
    );
    expect(rows[0]!.db).toBe(db.name);
    expect(rows[0]!.ext).toMatch(/^0\.\d+\.\d+$/);
  });

  it('two test databases are isolated from each other', async () => {
    const other = await createTestDatabase('services_other');
    try {
      const a = await connect(db.url);
      const b = await connect(other.url);
      await a.query('CREATE TABLE only_in_a (id int)');
      const { rows } = await b.query<{ t: string | null }>("SELECT to_regclass('public.only_in_a')::text AS t");
      expect(rows[0]!.t).toBeNull();
    } finally {
      // drop() must succeed even while a client is still connected to it.
      await other.drop();
    }
    const c = await connect(requireServices().databaseUrl);
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [other.name]);
    expect(rowCount).toBe(0);
  });

  it('pgvector computes distances and serves an HNSW index', async () => {
    const c = await connect(db.url);
    const { rows } = await c.query<{ d: number }>("SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector AS d");
    expect(rows[0]!.d).toBe(1);

    await c.query('CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))');
    await c.query(
      'INSERT INTO items SELECT i, ARRAY[i, i * 2, i * 3]::real[]::vector FROM generate_series(1, 200) AS i',
    );
    await c.query('CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops)');
    await c.query('SET enable_seqscan = off');
    const plan = await c.query<{ 'QUERY PLAN': string }>(
      'EXPLAIN SELECT id FROM items ORDER BY embedding <-> $1::vector LIMIT 3',
      ['[10,20,30]'],
    );
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('items_hnsw');
    const nearest = await c.query<{ id: number }>('SELECT id FROM items ORDER BY embedding <-> $1::vector LIMIT 3', [
      '[10,20,30]',
    ]);
    const ids = nearest.rows.map((r) => r.id);
    expect(ids[0]).toBe(10);
    expect(ids.slice(1).sort((x, y) => x - y)).toEqual([9, 11]); // equidistant, so their order is unspecified
  });

  it('advisory locks contend between two connections (a real server, not one shared session)', async () => {
    const a = await connect(db.url);
    const b = await connect(db.url);
    const pidA = (await a.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
    const pidB = (await b.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
    expect(pidA).not.toBe(pidB);

    await a.query('BEGIN');
    await a.query('SELECT pg_advisory_xact_lock(4242)');
    const whileHeld = await b.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(4242) AS ok');
    expect(whileHeld.rows[0]!.ok).toBe(false);
    await a.query('COMMIT');
    const afterCommit = await b.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(4242) AS ok');
    expect(afterCommit.rows[0]!.ok).toBe(true);
    await b.query('SELECT pg_advisory_unlock(4242)');
  });

  it('Redis answers PING and INCR', async () => {
    const redis = new Redis(requireServices().redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
    try {
      await redis.connect();
      expect(await redis.ping()).toBe('PONG');
      const key = `services-test:${process.pid}:${Date.now()}`;
      expect(await redis.incr(key)).toBe(1);
      expect(await redis.incr(key)).toBe(2);
      await redis.del(key);
    } finally {
      redis.disconnect();
    }
  });
});
