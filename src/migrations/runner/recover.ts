// What a statement run outside a transaction block leaves when it is interrupted, and how the next attempt (a retry
// after lock_timeout, or the next run after SIGTERM/SIGKILL) finishes or cleans it up, case by case:
//   CREATE INDEX CONCURRENTLY (sql-createindex.html, "Building Indexes Concurrently"): "If a problem arises while
//     scanning the table, such as a deadlock or a uniqueness violation in a unique index, the CREATE INDEX command will
//     fail but leave behind an "invalid" index. […] The recommended recovery method in such cases is to drop the index
//     and try again to perform CREATE INDEX CONCURRENTLY." A cancelled or killed build is such a problem too.
//   REINDEX CONCURRENTLY (sql-reindex.html, "Rebuilding Indexes Concurrently"): an interrupted rebuild leaves an
//     invalid index suffixed _ccnew ("drop it using DROP INDEX, then attempt REINDEX CONCURRENTLY again") or _ccold
//     ("just drop said index, since the rebuild proper has been successful"), with a number appended when the name
//     is taken (_ccnew1 …).
//   DROP INDEX CONCURRENTLY: it marks the index invalid in a first transaction and removes it in a later one
//     (index_drop in src/backend/catalog/index.c), so an interrupted drop leaves it invalid; dropping it again
//     finishes the job, and once the index is gone the statement is done.
//   DETACH PARTITION CONCURRENTLY (sql-altertable.html, DETACH PARTITION): "If FINALIZE is specified, a previous
//     DETACH CONCURRENTLY invocation that was canceled or interrupted is completed."
// Leftovers are told apart from everything else by what the progress row recorded before the statement started
// (the indexes that already existed), never by name patterns alone.
import type { ClientBase } from 'pg';
import type { ProgressRow } from './progress.js';
import { type SplitStatement, quoteRelation } from './split.js';

export interface IndexSnapshot {
  target: string | null;
  indexesBefore: string[] | null;
}

const QUALIFIED = `quote_ident(n.nspname) || '.' || quote_ident(c.relname)`;

/** Taken right before a concurrent index build starts, and stored in its started row. */
export async function snapshotBeforeBuild(client: ClientBase, s: SplitStatement): Promise<IndexSnapshot> {
  if (s.nodeType === 'IndexStmt' && s.buildsIndexConcurrently && s.table) {
    const r = await client.query<{ target: string; before: string[] }>(
      `SELECT quote_ident(tn.nspname) || '.' || quote_ident(t.relname) AS target,
              coalesce(array_agg(${QUALIFIED}) FILTER (WHERE c.oid IS NOT NULL), '{}') AS before
         FROM pg_class t
         JOIN pg_namespace tn ON tn.oid = t.relnamespace
         LEFT JOIN pg_index i ON i.indrelid = t.oid
         LEFT JOIN pg_class c ON c.oid = i.indexrelid
         LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE t.oid = to_regclass($1)
        GROUP BY tn.nspname, t.relname`,
      [quoteRelation(s.table)],
    );
    const row = r.rows[0];
    // No such table: the statement fails by itself and leaves nothing.
    return row ? { target: row.target, indexesBefore: row.before } : { target: null, indexesBefore: null };
  }
  if (s.nodeType === 'ReindexStmt' && s.buildsIndexConcurrently) {
    const r = await client.query<{ before: string[] }>(
      `SELECT coalesce(array_agg(${QUALIFIED}), '{}') AS before
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT i.indisvalid`,
    );
    return { target: null, indexesBefore: r.rows[0]?.before ?? [] };
  }
  return { target: null, indexesBefore: null };
}

interface MadeIndex {
  name: string;
  relname: string;
  valid: boolean;
}

/** Indexes the interrupted build made: new on its table (CREATE INDEX), or new invalid _ccnew/_ccold ones (REINDEX). */
async function indexesMadeBy(
  client: ClientBase,
  row: Pick<ProgressRow, 'target' | 'indexesBefore'>,
): Promise<MadeIndex[]> {
  if (!row.indexesBefore) return [];
  if (row.target) {
    const r = await client.query<MadeIndex>(
      `SELECT ${QUALIFIED} AS name, c.relname, i.indisvalid AS valid
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE i.indrelid = to_regclass($1) AND NOT (${QUALIFIED} = ANY ($2::text[]))
        ORDER BY 1`,
      [row.target, row.indexesBefore],
    );
    return r.rows;
  }
  const r = await client.query<MadeIndex>(
    `SELECT ${QUALIFIED} AS name, c.relname, i.indisvalid AS valid
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid AND c.relname ~ '_cc(new|old)[0-9]*$' AND NOT (${QUALIFIED} = ANY ($1::text[]))
      ORDER BY 1`,
    [row.indexesBefore],
  );
  return r.rows;
}

/** Drops the INVALID indexes an interrupted build left; returns the valid indexes it made (a build that completed). */
export async function dropBuildLeftovers(
  client: ClientBase,
  row: Pick<ProgressRow, 'target' | 'indexesBefore'>,
  warn: (msg: string) => void,
  where: string,
): Promise<MadeIndex[]> {
  const made = await indexesMadeBy(client, row);
  for (const ix of made.filter((m) => !m.valid)) {
    warn(
      `${where}: dropping the INVALID index ${ix.name} left by the interrupted concurrent build (PostgreSQL's recommended recovery: drop it, then build again)`,
    );
    await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${ix.name}`);
  }
  return made.filter((m) => m.valid);
}

export type Recovery = { done: true; why: string } | { done: false };

/**
 * Before (re-)running an alone statement whose started row has no finished_at: cleans up what the interrupted
 * attempt left and tells whether the statement in fact completed (then it must not run again).
 */
export async function recoverInterrupted(
  client: ClientBase,
  s: SplitStatement,
  row: Pick<ProgressRow, 'target' | 'indexesBefore'>,
  warn: (msg: string) => void,
  where: string,
): Promise<Recovery> {
  if (s.buildsIndexConcurrently) {
    const valid = await dropBuildLeftovers(client, row, warn, where);
    if (s.nodeType === 'IndexStmt') {
      // Named: the valid index of that name made since the start is this build, finished. Unnamed: one new valid
      // index on the table can only be it.
      const finished = s.index
        ? valid.find((v) => v.relname === s.index?.name)
        : valid.length === 1
          ? valid[0]
          : undefined;
      if (finished)
        return {
          done: true,
          why: `the index ${finished.name} exists and is valid: the build completed before the interruption`,
        };
    }
    return { done: false };
  }
  if (s.dropsIndexes?.length) {
    const r = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM unnest($1::text[]) AS x(name) WHERE to_regclass(x.name) IS NOT NULL',
      [s.dropsIndexes.map(quoteRelation)],
    );
    if (!r.rows[0]?.n)
      return { done: true, why: 'the index(es) it drops no longer exist: the drop completed before the interruption' };
    return { done: false };
  }
  if (s.detach) {
    const parent = quoteRelation(s.detach.parent);
    const partition = quoteRelation(s.detach.partition);
    const r = await client.query<{ pending: boolean }>(
      'SELECT inhdetachpending AS pending FROM pg_inherits WHERE inhrelid = to_regclass($1) AND inhparent = to_regclass($2)',
      [partition, parent],
    );
    const link = r.rows[0];
    if (!link)
      return {
        done: true,
        why: `${partition} is no longer a partition of ${parent}: the detach completed before the interruption`,
      };
    if (link.pending) {
      warn(
        `${where}: finishing the interrupted DETACH PARTITION CONCURRENTLY of ${partition} (ALTER TABLE … DETACH PARTITION … FINALIZE)`,
      );
      await client.query(`ALTER TABLE ${parent} DETACH PARTITION ${partition} FINALIZE`);
      return { done: true, why: 'the interrupted detach was finalized' };
    }
    return { done: false };
  }
  return { done: false };
}
