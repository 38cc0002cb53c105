// One real PostgreSQL database per test file, cloned from the template that scripts/test-services.sh prepares
// (`vector` already installed), so test files run in parallel without seeing each other's tables or locks.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  /** Full postgres URL of the new database. */
  url: string;
  name: string;
  /** Terminates every connection to the database (tests may leak some) and drops it. Safe to call twice. */
  drop(): Promise<void>;
}

const HOW_TO_START =
  'Run the tests through the service script, e.g. `bash scripts/test-services.sh npx vitest run test/x.test.ts` ' +
  '(or `npm test`), or set DATABASE_URL and REDIS_URL to running servers.';

/** The service URLs; throws one clear error naming what is missing and how to get it. */
export function requireServices(): { databaseUrl: string; redisUrl: string } {
  const databaseUrl = process.env.DATABASE_URL ?? '';
  const redisUrl = process.env.REDIS_URL ?? '';
  const missing = [!databaseUrl && 'DATABASE_URL', !redisUrl && 'REDIS_URL'].filter(Boolean);
  if (missing.length > 0) {
    throw new Error(`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set. ${HOW_TO_START}`);
  }
  return { databaseUrl, redisUrl };
}

/** Name of the database with `vector` installed that test databases are cloned from. */
export function templateDatabaseName(): string {
  return process.env.RAIL_TEMPLATE_DB || 'rail_template';
}

/** `url` with its database name replaced. */
export function databaseUrlFor(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: requireServices().databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const OBJECT_IN_USE = '55006';

/**
 * CREATE DATABASE <prefix>_<unique> TEMPLATE <template>. The name is unique across parallel workers and runs
 * (pid + random), lower-case, and within Postgres' 63-byte identifier limit.
 */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const template = templateDatabaseName();
  const cleanPrefix =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 40) || 'test';
  const name = `${cleanPrefix}_${process.pid}_${randomBytes(5).toString('hex')}`;
  await withAdmin(async (client) => {
    // Cloning fails with 55006 while another session is connected to the template (e.g. a human with psql, or the
    // service script finishing its setup); that is transient, so retry briefly before giving up.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
        return;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === OBJECT_IN_USE && attempt < 40) {
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
        if (code === '3D000') {
          throw new Error(`Template database "${template}" does not exist. ${HOW_TO_START}`, { cause: err });
        }
        throw err;
      }
    }
  });
  let dropped = false;
  return {
    name,
    url: databaseUrlFor(requireServices().databaseUrl, name),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withAdmin(async (client) => {
        // FORCE (PG13+) terminates remaining connections itself; the explicit terminate keeps older servers working.
        await client.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      });
    },
  };
}
