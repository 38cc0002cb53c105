// The example service: a pgvector-backed document store, a Redis counter and a /health endpoint that reports both
// dependencies, the running version and the Railway deployment id (so a deploy can prove the NEW version answers).
import http from 'node:http';
import type pg from 'pg';
import type { Redis } from 'ioredis';

export interface AppOptions {
  db: pg.Pool;
  redis: Redis;
  /** What is running: commit sha or release name. */
  version: string;
  /** Railway's RAILWAY_DEPLOYMENT_ID, null outside Railway. */
  deploymentId: string | null;
  /** A dependency that does not answer within this is reported down. */
  checkTimeoutMs?: number;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: { db: string; redis: string };
  version: string;
  deploymentId: string | null;
}

const DIMENSIONS = 3;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms}ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function check(run: () => Promise<unknown>, ms: number, what: string): Promise<string> {
  try {
    await withTimeout(run(), ms, what);
    return 'ok';
  } catch (err) {
    // Only the error text: connection strings never reach it, and it tells an operator what is wrong.
    return `error: ${err instanceof Error ? err.message : String(err)}`;
  }
}

export async function health(opts: AppOptions): Promise<HealthReport> {
  const ms = opts.checkTimeoutMs ?? 2000;
  const [db, redis] = await Promise.all([
    check(() => opts.db.query('SELECT 1'), ms, 'PostgreSQL'),
    check(() => opts.redis.ping(), ms, 'Redis'),
  ]);
  return {
    status: db === 'ok' && redis === 'ok' ? 'ok' : 'degraded',
    checks: { db, redis },
    version: opts.version,
    deploymentId: opts.deploymentId,
  };
}

function parseEmbedding(value: unknown, field: string): number[] {
  if (
    !Array.isArray(value) ||
    value.length !== DIMENSIONS ||
    !value.every((n) => typeof n === 'number' && Number.isFinite(n))
  ) {
    throw new HttpError(400, `${field} must be an array of ${DIMENSIONS} finite numbers`);
  }
  return value as number[];
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1_000_000) throw new HttpError(413, 'body too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'body must be JSON');
  }
}

async function handle(opts: AppOptions, req: http.IncomingMessage): Promise<{ status: number; body: unknown }> {
  const url = new URL(req.url ?? '/', 'http://app');
  const method = req.method ?? 'GET';
  if (method === 'GET' && url.pathname === '/health') {
    const report = await health(opts);
    return { status: report.status === 'ok' ? 200 : 503, body: report };
  }
  if (method === 'POST' && url.pathname === '/documents') {
    const body = (await readJson(req)) as { content?: unknown; embedding?: unknown } | null;
    if (typeof body?.content !== 'string' || body.content.trim() === '')
      throw new HttpError(400, 'content must be a non-empty string');
    const embedding = parseEmbedding(body.embedding, 'embedding');
    const r = await opts.db.query<{ id: string }>(
      'INSERT INTO documents (content, embedding) VALUES ($1, $2::vector) RETURNING id',
      [body.content, JSON.stringify(embedding)],
    );
    return { status: 201, body: { id: Number(r.rows[0]?.id) } };
  }
  if (method === 'GET' && url.pathname === '/documents/similar') {
    let raw: unknown;
    try {
      raw = JSON.parse(url.searchParams.get('embedding') ?? '');
    } catch {
      throw new HttpError(400, 'embedding query parameter must be a JSON array, e.g. [0.1,0.2,0.3]');
    }
    const embedding = parseEmbedding(raw, 'embedding');
    const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 5) || 5, 1), 100);
    const r = await opts.db.query<{ id: string; content: string; distance: number }>(
      'SELECT id, content, embedding <-> $1::vector AS distance FROM documents ORDER BY embedding <-> $1::vector LIMIT $2',
      [JSON.stringify(embedding), limit],
    );
    return {
      status: 200,
      body: r.rows.map((row) => ({ id: Number(row.id), content: row.content, distance: Number(row.distance) })),
    };
  }
  const counter = /^\/counters\/([A-Za-z0-9_-]{1,64})$/.exec(url.pathname);
  if (counter) {
    const key = `counter:${counter[1]}`;
    if (method === 'POST') return { status: 200, body: { name: counter[1], value: await opts.redis.incr(key) } };
    if (method === 'GET')
      return { status: 200, body: { name: counter[1], value: Number((await opts.redis.get(key)) ?? 0) } };
  }
  throw new HttpError(404, 'not found');
}

export function createApp(opts: AppOptions): http.Server {
  return http.createServer((req, res) => {
    handle(opts, req).then(
      ({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      },
      (err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        if (status === 500) console.error(err);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: err instanceof HttpError ? err.message : 'internal error' }));
      },
    );
  });
}
