// Helpers shared by the migration tests (pending detection, runner, actions).
import path from 'node:path';

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
