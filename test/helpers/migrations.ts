// Helpers shared by the migration tests (pending detection, runner, actions).
import path from 'node:path';
import type pg from 'pg';

export const MIGRATION_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/migrations');

/** The fixture project of one migration tool (test/fixtures/migrations/<tool>). */
export const fixture = (tool: string): string => path.join(MIGRATION_FIXTURES, tool);

/** SQL that keeps a migration running until another runner has polled the rail-actions lock (deterministic contention). */
export const WAIT_FOR_OTHER_RUNNER = `-- Hold the migration (and with it the lock) until the other runner has tried the lock at least once, up to 60s.
DO $$ BEGIN
  FOR i IN 1..1200 LOOP
    PERFORM pg_stat_clear_snapshot(); -- pg_stat_activity is otherwise frozen for the whole transaction
    EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database()
                      AND query LIKE 'SELECT pg_try_advisory_lock%');
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;`;

/** The error a promise rejects with; a promise that resolves fails the test. */
export async function failure<E extends Error>(p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (e) {
    return e as E;
  }
  throw new Error('expected a failure, but the call succeeded');
}

/** The application_name of the migrate runner's own session (src/migrations/runner/apply.ts). */
export const RUNNER_APP = 'rail-actions migrate';

/** Polls `check` every 50 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * What an interrupted run must not leave different from an uninterrupted one: every user table's columns, indexes
 * (definition and validity) and constraints, outside the system schemas.
 */
export async function schemaFingerprint(client: pg.ClientBase): Promise<unknown> {
  const columns = await client.query(
    `SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
      WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, ordinal_position`,
  );
  const indexes = await client.query(
    `SELECT n.nspname AS schema, c.relname AS index, pg_get_indexdef(i.indexrelid) AS def, i.indisvalid AS valid
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2`,
  );
  const constraints = await client.query(
    `SELECT n.nspname AS schema, c.conrelid::regclass::text AS table, c.conname, pg_get_constraintdef(c.oid) AS def
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3`,
  );
  return { columns: columns.rows, indexes: indexes.rows, constraints: constraints.rows };
}
