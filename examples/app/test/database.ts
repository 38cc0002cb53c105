// One fresh PostgreSQL database per test file, with the app's migrations applied, from DATABASE_URL.
// In CI, rail-actions' ci.yml provides DATABASE_URL (pgvector service) and REDIS_URL. If RAIL_TEMPLATE_DB names a
// database with `vector` installed (rail-actions' own test services do), it is cloned, which is faster.
import { readdir, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

export function requireEnv(name: 'DATABASE_URL' | 'REDIS_URL'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the tests need a real PostgreSQL (with pgvector) and Redis`);
  return value;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Applies migrations/*.sql in file-name order, like a plain SQL migrator (each file in a transaction unless marked). */
async function applyMigrations(url: string): Promise<string[]> {
  const natural = new Intl.Collator('en', { numeric: true });
  const files = (await readdir(migrationsDir)).filter((f) => f.endsWith('.sql')).sort(natural.compare);
  await withClient(url, async (c) => {
    for (const file of files) {
      const sql = await readFile(path.join(migrationsDir, file), 'utf8');
      // CREATE INDEX CONCURRENTLY & co. cannot run inside a transaction block.
      if (/^\s*--\s*rail-actions:no-transaction/i.test(sql)) await c.query(sql);
      else await c.query(`BEGIN;\n${sql}\nCOMMIT;`);
    }
  });
  return files;
}

export interface TestDatabase {
  url: string;
  migrations: string[];
  drop(): Promise<void>;
}

export async function createMigratedDatabase(): Promise<TestDatabase> {
  const adminUrl = requireEnv('DATABASE_URL');
  const name = `example_app_${process.pid}_${randomBytes(4).toString('hex')}`;
  const template = process.env['RAIL_TEMPLATE_DB'];
  await withClient(adminUrl, (c) =>
    c.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template.replace(/"/g, '""')}"` : ''}`),
  );
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const migrations = await applyMigrations(url);
  return {
    url,
    migrations,
    drop: () =>
      withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}
