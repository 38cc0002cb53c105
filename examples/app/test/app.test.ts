// The example app against REAL PostgreSQL + pgvector and Redis (DATABASE_URL / REDIS_URL): in rail-actions' own
// suite from scripts/test-services.sh, in a user's repository from the service containers of rail-actions' ci.yml.
// Self-contained on purpose: the app folder can be copied out as the starting point of a real repository.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { createMigratedDatabase, requireEnv, type TestDatabase } from './database.js';
import { createApp, type HealthReport } from '../src/app.js';
import { connectRedis, createPool } from '../src/clients.js';

const run = `t${process.pid}${Date.now().toString(36)}`; // Redis is shared by parallel test files: unique keys

interface Started {
  url: string;
  server: http.Server;
  db: pg.Pool;
  redis: Redis;
}
const started: Started[] = [];

async function start(databaseUrl: string, redisUrl: string): Promise<Started> {
  const db = createPool(databaseUrl);
  const redis = connectRedis(redisUrl);
  const server = createApp({ db, redis, version: '8f3e1c2', deploymentId: 'dep-123', checkTimeoutMs: 3000 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const s = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, db, redis };
  started.push(s);
  return s;
}

/** A loopback port nothing listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() };
}

let database: TestDatabase;
let app: Started;

beforeAll(async () => {
  database = await createMigratedDatabase();
  expect(database.migrations).toEqual(['001_documents.sql', '002_documents_embedding_index.sql']);
  app = await start(database.url, requireEnv('REDIS_URL'));
});

afterAll(async () => {
  for (const s of started) {
    await new Promise<void>((resolve) => s.server.close(() => resolve()));
    await s.db.end().catch(() => undefined);
    s.redis.disconnect();
  }
  await database?.drop();
});

describe('example app', () => {
  it('/health is 200 with both dependencies ok, the version and the deployment id', async () => {
    // Redis connects asynchronously and commands fail fast while it is not yet connected: poll, don't sleep.
    let last: { status: number; body: unknown } = { status: 0, body: null };
    for (let i = 0; i < 100 && last.status !== 200; i++) {
      last = await getJson(`${app.url}/health`);
      if (last.status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(last).toEqual({
      status: 200,
      body: { status: 'ok', checks: { db: 'ok', redis: 'ok' }, version: '8f3e1c2', deploymentId: 'dep-123' },
    });
  });

  it('stores documents in the pgvector table and returns the nearest first', async () => {
    for (const [content, embedding] of [
      ['cat', [1, 0, 0]],
      ['dog', [0.9, 0.1, 0]],
      ['car', [0, 0, 1]],
    ] as const) {
      const r = await getJson(`${app.url}/documents`, { method: 'POST', body: JSON.stringify({ content, embedding }) });
      expect(r.status).toBe(201);
    }
    const r = await getJson(`${app.url}/documents/similar?embedding=${encodeURIComponent('[1,0,0]')}&limit=2`);
    expect(r.status).toBe(200);
    expect((r.body as Array<{ content: string }>).map((d) => d.content)).toEqual(['cat', 'dog']);
    // the HNSW index from the no-transaction migration exists and is valid
    const idx = await app.db.query<{ valid: boolean }>(
      `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'documents_embedding_hnsw'`,
    );
    expect(idx.rows).toEqual([{ valid: true }]);
  });

  it('rejects embeddings of the wrong shape with 400', async () => {
    const r = await getJson(`${app.url}/documents`, {
      method: 'POST',
      body: JSON.stringify({ content: 'x', embedding: [1, 2] }),
    });
    expect(r).toEqual({ status: 400, body: { error: 'embedding must be an array of 3 finite numbers' } });
  });

  it('counts in Redis', async () => {
    const name = `visits-${run}`;
    expect((await getJson(`${app.url}/counters/${name}`)).body).toEqual({ name, value: 0 });
    await getJson(`${app.url}/counters/${name}`, { method: 'POST' });
    const r = await getJson(`${app.url}/counters/${name}`, { method: 'POST' });
    expect(r.body).toEqual({ name, value: 2 });
    expect(await app.redis.get(`counter:${name}`)).toBe('2');
  });

  it('/health is 503 naming redis when Redis is unreachable', async () => {
    const broken = await start(database.url, `redis://127.0.0.1:${await closedPort()}`);
    const r = await getJson(`${broken.url}/health`);
    expect(r.status).toBe(503);
    const body = r.body as HealthReport;
    expect(body.status).toBe('degraded');
    expect(body.checks.db).toBe('ok');
    expect(body.checks.redis).toMatch(/^error: /);
  });

  it('/health is 503 naming db when PostgreSQL is unreachable', async () => {
    const broken = await start(`postgres://postgres@127.0.0.1:${await closedPort()}/nothing`, requireEnv('REDIS_URL'));
    let body: HealthReport | undefined;
    let status = 0;
    // wait until Redis is connected so only the database is down
    for (let i = 0; i < 100; i++) {
      const r = await getJson(`${broken.url}/health`);
      status = r.status;
      body = r.body as HealthReport;
      if (body.checks.redis === 'ok') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(status).toBe(503);
    expect(body?.checks.redis).toBe('ok');
    expect(body?.checks.db).toMatch(/^error: .*ECONNREFUSED/);
  });
});
