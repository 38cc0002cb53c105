// The labelled gate corpus (test/fixtures/gate-corpus/corpus.ts) against a real PostgreSQL 15 with pgvector:
// 1. every label is checked on the server — each statement runs inside a transaction that is rolled back, and the
//    test reads the locks this backend holds on the table (pg_locks), whether the table or its indexes got new storage
//    (pg_class.relfilenode) and whether it was scanned (pg_stat_xact_user_tables.seq_scan); statements that cannot run
//    in a transaction are run for real while a concurrent snapshot holds them in their last phase, and their lock is
//    read from another session;
// 2. the gate's decision — with the live catalog read in that same transaction — must agree with the label on ≥ 95 %
//    of the entries and never auto-apply a destructive, breaking, rewriting or blocking-scan change.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_ORDER } from '../src/migrations/analyze.js';
import { CORPUS, SCHEMA, type CorpusEntry, type CorpusLock } from './fixtures/gate-corpus/corpus.js';
import { agreement, gateVerdict, type Verdict } from './fixtures/gate-corpus/judge.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

const MODES: Record<string, CorpusLock> = {
  AccessShareLock: 'ACCESS SHARE',
  RowShareLock: 'ROW SHARE',
  RowExclusiveLock: 'ROW EXCLUSIVE',
  ShareUpdateExclusiveLock: 'SHARE UPDATE EXCLUSIVE',
  ShareLock: 'SHARE',
  ShareRowExclusiveLock: 'SHARE ROW EXCLUSIVE',
  ExclusiveLock: 'EXCLUSIVE',
  AccessExclusiveLock: 'ACCESS EXCLUSIVE',
};
const strongest = (modes: string[]): CorpusLock =>
  modes
    .map((m) => MODES[m] ?? 'none')
    .sort((a, b) => LOCK_ORDER.indexOf(b as never) - LOCK_ORDER.indexOf(a as never))[0] ?? 'none';

interface Observed {
  lock: CorpusLock;
  rewrite: boolean;
  scan: boolean;
  rebuiltIndexes: string[];
  error?: string;
}

let db: TestDatabase;
let serverVersion = 0;
const verdicts = new Map<string, Verdict>();
const offline = new Map<string, Verdict>();

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  return client;
}

beforeAll(async () => {
  db = await createTestDatabase('gate_corpus');
  const client = await connect();
  try {
    await client.query(SCHEMA);
    serverVersion = Number((await client.query<{ v: string }>('SHOW server_version_num')).rows[0]?.v ?? 0);
  } finally {
    await client.end();
  }
}, 120_000);
afterAll(async () => {
  await db?.drop();
});

/** Storage and scan counters of the observed table and its indexes, inside the current transaction. */
async function snapshot(
  client: pg.Client,
  oid: number,
): Promise<{ relfilenode?: number; seqScan: number; indexes: Map<string, number> }> {
  const rel = await client.query<{ relfilenode: number }>('SELECT relfilenode FROM pg_class WHERE oid = $1', [oid]);
  const scans = await client.query<{ n: string }>(
    'SELECT coalesce((SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = $1), 0)::text AS n',
    [oid],
  );
  const idx = await client.query<{ name: string; relfilenode: number }>(
    'SELECT c.relname AS name, c.relfilenode FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = $1',
    [oid],
  );
  const relfilenode = rel.rows[0]?.relfilenode;
  return {
    ...(relfilenode !== undefined ? { relfilenode } : {}),
    seqScan: Number(scans.rows[0]?.n ?? 0),
    indexes: new Map(idx.rows.map((r) => [r.name, r.relfilenode])),
  };
}

/** Runs a transactional entry in a rolled-back transaction; the gate's verdict is taken in it first (live catalog). */
async function observeInTransaction(entry: CorpusEntry): Promise<Observed> {
  const client = await connect();
  try {
    await client.query('BEGIN');
    verdicts.set(entry.id, await gateVerdict(entry, client, serverVersion));
    const oid =
      (await client.query<{ oid: number }>('SELECT $1::regclass::oid AS oid', [entry.server.on])).rows[0]?.oid ?? 0;
    const before = await snapshot(client, oid);
    try {
      await client.query(entry.sql);
    } catch (err) {
      // A failed statement aborts the transaction (and its locks are gone with it): only the error is observable.
      return { lock: 'none', rewrite: false, scan: false, rebuiltIndexes: [], error: (err as Error).message };
    }
    const locks = await client.query<{ mode: string }>(
      'SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = $1 AND granted',
      [oid],
    );
    const after = await snapshot(client, oid);
    const rebuilt = [...before.indexes]
      .filter(([name, node]) => after.indexes.has(name) && after.indexes.get(name) !== node)
      .map(([name]) => name);
    return {
      lock: strongest(locks.rows.map((r) => r.mode)),
      rewrite:
        after.relfilenode !== undefined && before.relfilenode !== undefined && after.relfilenode !== before.relfilenode,
      scan: after.seqScan > before.seqScan,
      rebuiltIndexes: rebuilt,
    };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end();
  }
}

/**
 * Runs a CONCURRENTLY statement for real. A REPEATABLE READ transaction holding a snapshot makes the build wait in its
 * last phase (it waits for older snapshots), and meanwhile a third session reads the lock the build holds and writes
 * to the table under a 2 s lock_timeout (proof that writes are not blocked). The index is dropped afterwards.
 */
async function observeConcurrently(entry: CorpusEntry): Promise<Observed> {
  const [runner, holder, observer] = [await connect(), await connect(), await connect()];
  try {
    verdicts.set(entry.id, await gateVerdict(entry, observer, serverVersion));
    await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await holder.query(`SELECT count(*) FROM ${entry.server.on}`);
    const pid = (await runner.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    const build = runner.query(entry.sql).then(
      () => undefined,
      (err: Error) => err,
    );
    let lock: CorpusLock = 'none';
    for (let i = 0; i < 600 && lock === 'none'; i++) {
      const waiting = await observer.query<{ mode: string }>(
        `SELECT l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.pid = $1 AND l.relation = $2::regclass AND l.granted AND a.wait_event_type = 'Lock'`,
        [pid, entry.server.on],
      );
      if (waiting.rows.length) lock = strongest(waiting.rows.map((r) => r.mode));
      else await new Promise((r) => setTimeout(r, 50));
    }
    await observer.query("BEGIN; SET LOCAL lock_timeout = '2s'");
    await observer.query(`UPDATE ${entry.server.on} SET id = id WHERE id = 1`); // throws on a lock timeout
    await observer.query('ROLLBACK');
    await holder.query('COMMIT');
    const failed = await build;
    if (failed) return { lock, rewrite: false, scan: false, rebuiltIndexes: [], error: failed.message };
    const name = /INDEX CONCURRENTLY (?:IF NOT EXISTS )?(\w+)/.exec(entry.sql)?.[1] ?? '';
    const valid = await observer.query<{ ok: boolean }>(
      'SELECT indisvalid AS ok FROM pg_index WHERE indexrelid = $1::regclass',
      [name],
    );
    await observer.query(`DROP INDEX IF EXISTS ${name}`);
    // The build read every row (its index is valid); the scan itself is not counted per transaction here.
    return { lock, rewrite: false, scan: valid.rows[0]?.ok === true, rebuiltIndexes: [] };
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    for (const c of [runner, holder, observer]) await c.end().catch(() => undefined);
  }
}

describe('gate corpus: every label holds on a real PostgreSQL', () => {
  it('the corpus is well formed: unique ids, a docs citation each, labels consistent with the server facts', () => {
    expect(new Set(CORPUS.map((e) => e.id)).size).toBe(CORPUS.length);
    expect(CORPUS.length).toBeGreaterThanOrEqual(60);
    for (const e of CORPUS) {
      expect(e.doc, e.id).toMatch(/\.html/);
      expect(e.decision, e.id).toBe(e.class === 'safe' ? 'auto' : 'approval');
      const blocksWrites = e.server.lock !== 'none' && LOCK_ORDER.indexOf(e.server.lock) >= LOCK_ORDER.indexOf('SHARE');
      if (e.class === 'rewrite') expect(e.server.rewrite, e.id).toBe(true);
      if (e.class === 'blocking-scan') expect(e.server.scan && blocksWrites && !e.server.rewrite, e.id).toBe(true);
      if (e.class === 'safe')
        expect(
          e.server.rewrite || (e.server.scan && blocksWrites) || (e.server.rebuiltIndexes ?? []).length > 0,
          e.id,
        ).toBe(false);
    }
  });

  it.each(CORPUS.map((e) => [e.id, e] as const))(
    '%s',
    async (_id, entry) => {
      const seen = entry.nonTransactional ? await observeConcurrently(entry) : await observeInTransaction(entry);
      if (entry.server.error) {
        expect(seen.error, entry.sql).toMatch(entry.server.error);
        return;
      }
      expect(seen.error, entry.sql).toBeUndefined();
      expect({ lock: seen.lock, rewrite: seen.rewrite, scan: seen.scan }, entry.sql).toEqual({
        lock: entry.server.lock,
        rewrite: entry.server.rewrite,
        scan: entry.server.scan,
      });
      // A rewrite gives every index new storage; otherwise an index rebuilt is a scan of its own and must be declared.
      if (!entry.server.rewrite)
        expect(seen.rebuiltIndexes.sort(), entry.sql).toEqual([...(entry.server.rebuiltIndexes ?? [])].sort());
    },
    60_000,
  );
});

describe('gate corpus: the gate agrees with the labels', () => {
  it('agrees on ≥ 95 % with the live catalog, misses nothing that needs approval, and says which fact decided', async () => {
    for (const e of CORPUS) offline.set(e.id, await gateVerdict(e, undefined, serverVersion));
    const live = agreement(CORPUS, new Map([...verdicts].map(([id, v]) => [id, v.decision])));
    const off = agreement(CORPUS, new Map([...offline].map(([id, v]) => [id, v.decision])));
    console.log(
      `gate corpus: ${live.entries} entries; with the live catalog ${live.agree}/${live.entries} agree (${live.percent.toFixed(1)} %), ` +
        `without it ${off.agree}/${off.entries} (${off.percent.toFixed(1)} %); missed ${JSON.stringify(live.missed)}, over-cautious ${JSON.stringify(live.overcautious)}`,
    );
    expect(live.entries).toBe(CORPUS.length);
    expect(live.missed).toEqual([]);
    expect(live.percent).toBeGreaterThanOrEqual(95);
    // Offline (no database) the gate errs on the side of approval, except for one fact only the catalog has: whether
    // a column's type is a domain with constraints (an enum or a plain domain must not need approval).
    expect(off.missed).toEqual(['add-column-domain-with-check']);
  });

  it('classes agree too: rewrites are rewrites, blocking scans are blocking scans, data loss is destructive', () => {
    const wrong = CORPUS.filter((e) => !verdicts.get(e.id)?.classes.includes(e.class)).map(
      (e) => `${e.id}: ${verdicts.get(e.id)?.classes.join('+')} ≠ ${e.class}`,
    );
    expect(wrong).toEqual([]);
  });

  it('decisions that hinge on the live catalog name the deciding fact', () => {
    const fact = (id: string) => verdicts.get(id)?.decidedBy.join(' | ') ?? '';
    expect(fact('set-not-null-proven-by-check')).toMatch(
      /no scan: NOT NULL proven by valid CHECK constraint items_email_nn/,
    );
    expect(fact('set-not-null-strict-check-is-no-proof')).toMatch(
      /scan: items\.qty is nullable and no valid CHECK \(qty IS NOT NULL\)/,
    );
    expect(fact('add-column-user-stable-function')).toMatch(
      /corpus_stable\(\) is stable \(pg_proc\.provolatile = 's'\)/,
    );
    expect(fact('add-column-user-volatile-function')).toMatch(
      /corpus_volatile\(\) is volatile \(pg_proc\.provolatile = 'v'\)/,
    );
    expect(fact('add-column-domain-with-check')).toMatch(
      /positive_int is a domain with constraint\(s\) positive_int_check/,
    );
    expect(fact('type-varchar-widen')).toMatch(/items\.name is character varying\(20\) in the live database/);
    expect(fact('type-collation-indexed-column')).toMatch(/index\(es\) items_title_idx depend on the column/);
    expect(fact('primary-key-using-index-proven')).toMatch(/NOT NULL proven by valid CHECK constraint tags_alt_nn/);
    expect(fact('primary-key-using-index-nullable')).toMatch(/tags_id_uidx column\(s\) id are nullable/);
    expect(fact('attach-partition-proven-by-check')).toMatch(/implied by valid CHECK constraint events_2025_bound/);
    // The plan shows the fact through the statement's note.
    expect(verdicts.get('set-not-null-proven-by-check')?.statement.note).toMatch(/items_email_nn|validated CHECK/);
  });
});
