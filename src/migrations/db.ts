// Connecting to the target database with errors that never leak the password.
import pg from 'pg';
import { UserFacingError, errorMessage } from '../core/errors.js';
import { redactUrl, scrubSecrets, urlPassword } from '../core/redact.js';
import { quoteIdent } from '../core/sql.js';

/** A pg error text made safe for logs: the URL and its password scrubbed. */
export function safeDbError(err: unknown, databaseUrl: string): string {
  return scrubSecrets(errorMessage(err), [databaseUrl, urlPassword(databaseUrl)]);
}

export async function connectDatabase(
  databaseUrl: string,
  opts: { applicationName?: string; input?: string } = {},
): Promise<pg.Client> {
  let client: pg.Client;
  try {
    client = new pg.Client({
      connectionString: databaseUrl,
      connectionTimeoutMillis: 20_000,
      application_name: opts.applicationName ?? 'rail-actions',
    });
  } catch (err) {
    throw new UserFacingError(
      `Input '${opts.input ?? 'database-url'}' is not a usable PostgreSQL URL: ${safeDbError(err, databaseUrl)}`,
    );
  }
  // A dropped connection emits 'error' on the client; without a listener that would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new UserFacingError(
      `Cannot connect to the database ${redactUrl(databaseUrl)}: ${safeDbError(err, databaseUrl)}`,
    );
  }
  // Prisma-style `?schema=app` URLs: Prisma puts its tables (and _prisma_migrations) in that schema via search_path.
  const schema = prismaSchemaParam(databaseUrl);
  if (schema) await client.query(`SET search_path TO ${quoteIdent(schema)}`);
  return client;
}

function prismaSchemaParam(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get('schema') || undefined;
  } catch {
    return undefined;
  }
}
