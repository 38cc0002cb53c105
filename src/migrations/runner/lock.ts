// The one migration lock of rail-actions: a session-level PostgreSQL advisory lock, so two deploys (two workflow
// runs, a rehearsal and a re-run…) never migrate the same database at once. The lock dies with the session, so a
// killed runner never leaves it behind.
import type { ClientBase } from 'pg';
import { backoffDelay, sleep } from '../../core/retry.js';
import { formatDuration } from '../../core/duration.js';
import { advisoryLockHolders } from '../history/common.js';

/**
 * Fixed key: the first 8 bytes of sha256("rail-actions") read as a big-endian integer with the sign bit cleared
 * (0x67393e96…). Documented in actions/migrate/action.yml so operators can spot it in pg_locks
 * (locktype='advisory', classid=(key>>32), objid=(key & 0xffffffff), objsubid=1).
 */
export const RAIL_ACTIONS_LOCK_KEY = 7437978639320082070n;

export interface LockWaitOptions {
  /** How long to wait for a running migration to finish; 0 = try once. */
  waitMs: number;
  signal?: AbortSignal;
  log?: (msg: string) => void;
  now?: () => number;
}

/** Takes the lock, waiting up to `waitMs`. Returns how long it waited, or undefined when the wait ran out. */
export async function acquireMigrationLock(client: ClientBase, opts: LockWaitOptions): Promise<number | undefined> {
  const now = opts.now ?? Date.now;
  const started = now();
  const deadline = started + opts.waitMs;
  let logged = false;
  for (let attempt = 1; ; attempt++) {
    const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [
      RAIL_ACTIONS_LOCK_KEY.toString(),
    ]);
    if (r.rows[0]?.ok) return now() - started;
    if (!logged) {
      const holders = await advisoryLockHolders(client, RAIL_ACTIONS_LOCK_KEY);
      const who = holders.map((h) => `pid ${h.pid}${h.app ? ` (${h.app})` : ''}`).join(', ') || 'another session';
      opts.log?.(
        `Another migration holds the rail-actions migration lock (${who}); waiting up to ${formatDuration(opts.waitMs)}`,
      );
      logged = true;
    }
    const left = deadline - now();
    if (left <= 0) return undefined;
    await sleep(
      Math.min(left, backoffDelay(attempt, { initialDelayMs: 200, maxDelayMs: 2000, factor: 1.5 })),
      opts.signal,
    );
  }
}

export async function releaseMigrationLock(client: ClientBase): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1::bigint)', [RAIL_ACTIONS_LOCK_KEY.toString()]);
}

/**
 * Upper bound of the lock-timeout option: a DDL statement waiting for its lock queues every later query of the table
 * behind it (postgresql.org/docs/15/explicit-locking.html), so a lock_timeout of minutes defeats its purpose.
 */
export const LOCK_TIMEOUT_MAX_MS = 10 * 60_000;
