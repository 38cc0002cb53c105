// Crash consistency of the bundled migrate action (dist/migrate, run as the runner runs it) against real PostgreSQL:
// a file that mixes transactional statements with CREATE INDEX CONCURRENTLY is interrupted by SIGTERM (the runner's
// cancellation) or SIGKILL at each point — inside its first transaction, during the concurrent build, between the
// build and its progress record, inside its last transaction, and while waiting for the migration lock. Every point is
// made deterministic by a lock the test holds: the action is signalled only once PostgreSQL shows it waiting there.
// After each interruption the test checks the database (what committed, invalid indexes, progress rows, no history
// row) and what the action said; then the next run must finish the file exactly once, record it, and leave the same
// schema as an uninterrupted run.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RAIL_ACTIONS_LOCK_KEY } from '../src/migrations/runner/lock.js';
import { type ActionResult, nodeBinary, runAction, startAction } from './harness/index.js';
import { type TestDatabase, createTestDatabase } from './helpers/db.js';
import { RUNNER_APP, schemaFingerprint, waitUntil } from './helpers/migrations.js';

const BASE = `CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);
INSERT INTO accounts SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 2000) g;
CREATE TABLE settings (k text PRIMARY KEY, v text NOT NULL);
CREATE TABLE plans (id int PRIMARY KEY, name text NOT NULL);
`;

// Group 1 (lines 1–2): one transaction. Group 2 (line 3): alone, outside a transaction. Group 3 (lines 4–5): one
// transaction. The INSERTs make a repeated group visible (duplicate key / a second audit row).
const MIXED = `CREATE TABLE audit_log (id bigserial PRIMARY KEY, account_id bigint NOT NULL, note text NOT NULL);
INSERT INTO settings (k, v) VALUES ('audit', 'on');
CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);
ALTER TABLE plans ADD COLUMN audited boolean NOT NULL DEFAULT false;
INSERT INTO audit_log (account_id, note) VALUES (0, 'plans audited');
`;

// Long enough that no lock the test holds times out before the signal arrives; short lock-wait keeps a stuck test short.
const INPUTS = { 'lock-timeout': '2m', 'lock-wait': '60s' };

let tmp: string;
let baseRepo: string;
let fullRepo: string;
let reference: { schema: unknown; data: unknown };
const dbs: TestDatabase[] = [];
const clients: pg.Client[] = [];

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  clients.push(c);
  return c;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values?: unknown[]): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, values)).rows;
  } finally {
    await c.end();
  }
}

async function repo(name: string, files: Record<string, string>): Promise<string> {
  const root = path.join(tmp, name);
  await mkdir(path.join(root, 'migrations'), { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(root, 'migrations', file), text);
  return root;
}

async function snapshot(url: string): Promise<{ schema: unknown; data: unknown }> {
  const c = await connect(url);
  const schema = await schemaFingerprint(c);
  const data = {
    settings: (await c.query('SELECT k, v FROM settings ORDER BY k')).rows,
    audit: (await c.query('SELECT account_id, note FROM audit_log ORDER BY id')).rows,
    history: (await c.query('SELECT id, checksum FROM rail_actions.schema_migrations ORDER BY id')).rows,
    progress: (await c.query('SELECT count(*)::int AS n FROM rail_actions.migration_progress')).rows,
  };
  return { schema, data };
}

/** A database with 001_base.sql applied by the action, as production is before the deploy that brings 002. */
async function preparedDb(): Promise<TestDatabase> {
  const db = await createTestDatabase('migrate_crash');
  dbs.push(db);
  const r = await runAction({ action: 'migrate', cwd: baseRepo, inputs: { 'database-url': db.url } });
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  return db;
}

/** Sessions of the migrate runner in this database (its own connection, not the cancel/report side connections). */
const runnerSessions = async (url: string) =>
  (
    await query<{ n: number }>(
      url,
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
      [RUNNER_APP],
    )
  )[0]?.n ?? 0;

/** The runner's session waits for a lock on `relation` (the test holds a conflicting one). */
const runnerWaitsOn = (url: string, relation: string) => async () =>
  ((
    await query<{ n: number }>(
      url,
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE a.datname = current_database() AND a.application_name = $1 AND NOT l.granted AND l.relation = to_regclass($2)`,
      [RUNNER_APP, relation],
    )
  )[0]?.n ?? 0) > 0;

/** The runner's session is running a statement that starts with `prefix` and waits for a lock. */
const runnerRuns = (url: string, prefix: string) => async () =>
  ((
    await query<{ n: number }>(
      url,
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock' AND starts_with(query, $2)`,
      [RUNNER_APP, prefix],
    )
  )[0]?.n ?? 0) > 0;

/** The concurrent build has made its (still invalid) index and waits for the test's open writer. */
const buildWaitsForWriters = (url: string) => async () =>
  ((
    await query<{ n: number }>(
      url,
      `SELECT count(*)::int AS n FROM pg_stat_progress_create_index p JOIN pg_stat_activity a ON a.pid = p.pid
        WHERE a.datname = current_database() AND a.application_name = $1 AND p.phase = 'waiting for writers before build'`,
      [RUNNER_APP],
    )
  )[0]?.n ?? 0) > 0;

interface Observed {
  auditLog: string | null;
  settings: number;
  progress: Array<{ group_no: number; finished: boolean }>;
  invalid: string[];
  index: { valid: boolean } | null;
  audited: number;
  history: string[];
}

async function observe(url: string): Promise<Observed> {
  const c = await connect(url);
  const one = async <T extends pg.QueryResultRow>(sql: string) => (await c.query<T>(sql)).rows;
  const hasProgress =
    (await one<{ t: string | null }>(`SELECT to_regclass('rail_actions.migration_progress')::text AS t`))[0]?.t != null;
  const auditLog = (await one<{ t: string | null }>(`SELECT to_regclass('audit_log')::text AS t`))[0]?.t ?? null;
  return {
    auditLog,
    settings: (await one<{ n: number }>('SELECT count(*)::int AS n FROM settings'))[0]?.n ?? -1,
    progress: hasProgress
      ? await one<{ group_no: number; finished: boolean }>(
          'SELECT group_no, finished_at IS NOT NULL AS finished FROM rail_actions.migration_progress ORDER BY group_no',
        )
      : [],
    invalid: (
      await one<{ name: string }>(
        'SELECT indexrelid::regclass::text AS name FROM pg_index WHERE NOT indisvalid ORDER BY 1',
      )
    ).map((r) => r.name),
    index:
      (
        await one<{ valid: boolean }>(
          `SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass('accounts_email_idx')`,
        )
      )[0] ?? null,
    audited:
      (
        await one<{ n: number }>(
          `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'plans' AND column_name = 'audited'`,
        )
      )[0]?.n ?? -1,
    history: (await one<{ id: string }>('SELECT id FROM rail_actions.schema_migrations ORDER BY id')).map((r) => r.id),
  };
}

const NOTHING_OF_002 = { auditLog: null, settings: 0, invalid: [], index: null, audited: 0, history: ['001_base.sql'] };

type Running = ReturnType<typeof startAction>;

interface Point {
  name: string;
  /**
   * Takes the test's locks, starts the action (`start`) and returns once PostgreSQL shows it waiting at the point;
   * `release` lets go of the locks.
   */
  hold(db: TestDatabase, start: () => Running): Promise<{ running: Running; release: () => Promise<void> }>;
  /** The database right after the interruption: the same after SIGTERM and SIGKILL. */
  state: Partial<Observed>;
  /** What the cancelled step says (SIGTERM only). */
  message: RegExp;
  partial?: { committedGroups: number[]; resumeAtGroup: number };
  /** The next run starts at this group (undefined: from the start, nothing to resume)… */
  resumedAtGroup?: number;
  /** …and executes this many of the file's 5 statements. */
  nextStatements: number;
  nextLog?: RegExp;
}

const POINTS: Point[] = [
  {
    name: 'inside the first transaction (group 1)',
    async hold(db, start) {
      const holder = await connect(db.url);
      await holder.query('BEGIN; LOCK TABLE settings IN ACCESS EXCLUSIVE MODE');
      const running = start();
      await waitUntil('the INSERT INTO settings to wait for the lock', runnerWaitsOn(db.url, 'settings'));
      return { running, release: async () => void (await holder.query('ROLLBACK')) };
    },
    state: { ...NOTHING_OF_002, progress: [] },
    nextStatements: 5,
    message:
      /^Cancelled while applying migrations\/002_mixed\.sql \(group 1 of 3, lines 1–2\)\. None of its 3 statement groups is committed\. Group 1 \(lines 1–2\) was rolled back\. migrations\/002_mixed\.sql was NOT recorded as applied in "rail_actions"\."schema_migrations": the tool still sees it as pending, and the next rail-actions run resumes it at group 1/,
  },
  {
    name: 'during CREATE INDEX CONCURRENTLY (group 2), its index made and still invalid',
    async hold(db, start) {
      // An open writer: the build creates its index, commits that, then waits for the writer (phase 2 of the build).
      const writer = await connect(db.url);
      await writer.query('BEGIN; UPDATE accounts SET email = email WHERE id = 1');
      const running = start();
      await waitUntil('the concurrent build to wait for writers', buildWaitsForWriters(db.url));
      return { running, release: async () => void (await writer.query('ROLLBACK')) };
    },
    state: {
      auditLog: 'audit_log',
      settings: 1,
      progress: [
        { group_no: 1, finished: true },
        { group_no: 2, finished: false },
      ],
      invalid: ['accounts_email_idx'],
      index: { valid: false },
      audited: 0,
      history: ['001_base.sql'],
    },
    message:
      /^Cancelled while applying migrations\/002_mixed\.sql \(group 2 of 3, line 3\)\. Committed: group 1 \(lines 1–2\) of 3\. Group 2 \(line 3, IndexStmt, outside a transaction\) did not complete; it left the INVALID index public\.accounts_email_idx, which the next run drops before building it again\. migrations\/002_mixed\.sql was NOT recorded as applied in "rail_actions"\."schema_migrations": the tool still sees it as pending, and the next rail-actions run resumes it at group 2 \(progress in "rail_actions"\."migration_progress"\)\. Invalid indexes: "public"\."accounts_email_idx" on accounts \(left by this build; the next run drops it before building again\)\.$/,
    partial: { committedGroups: [1], resumeAtGroup: 2 },
    resumedAtGroup: 2,
    nextStatements: 3,
    nextLog:
      /002_mixed\.sql:3: dropping the INVALID index public\.accounts_email_idx left by the interrupted concurrent build/,
  },
  {
    name: 'after CREATE INDEX CONCURRENTLY completed, before its completion is recorded',
    async hold(db, start) {
      const writer = await connect(db.url);
      await writer.query('BEGIN; UPDATE accounts SET email = email WHERE id = 1');
      const running = start();
      await waitUntil('the concurrent build to wait for writers', buildWaitsForWriters(db.url));
      // Its started row is written by now: lock that row so the finished mark waits, then let the build complete.
      const rowLock = await connect(db.url);
      await rowLock.query('BEGIN');
      expect(
        (
          await rowLock.query(
            'SELECT group_no FROM rail_actions.migration_progress WHERE group_no = 2 AND finished_at IS NULL FOR UPDATE',
          )
        ).rowCount,
      ).toBe(1);
      await writer.query('ROLLBACK');
      await waitUntil(
        'the finished mark to wait for the row lock',
        runnerRuns(db.url, 'UPDATE "rail_actions"."migration_progress" SET finished_at'),
      );
      return { running, release: async () => void (await rowLock.query('ROLLBACK')) };
    },
    state: {
      auditLog: 'audit_log',
      settings: 1,
      progress: [
        { group_no: 1, finished: true },
        { group_no: 2, finished: false },
      ],
      invalid: [],
      index: { valid: true },
      audited: 0,
      history: ['001_base.sql'],
    },
    message:
      /^Cancelled while applying migrations\/002_mixed\.sql \(group 2 of 3, line 3\)\. Committed: group 1 \(lines 1–2\) of 3\. Group 2 \(line 3, IndexStmt\) completed, but recording that did not; the next run sees in the catalog that it completed and does not run it again\. migrations\/002_mixed\.sql was NOT recorded as applied .* resumes it at group 2 \(progress in "rail_actions"\."migration_progress"\)\.$/,
    partial: { committedGroups: [1], resumeAtGroup: 2 },
    resumedAtGroup: 2,
    nextStatements: 2,
    nextLog:
      /002_mixed\.sql:3: not running it again: the index public\.accounts_email_idx exists and is valid: the build completed before the interruption/,
  },
  {
    name: 'inside the last transaction (group 3)',
    async hold(db, start) {
      const reader = await connect(db.url);
      await reader.query('BEGIN; LOCK TABLE plans IN ACCESS SHARE MODE');
      const running = start();
      await waitUntil('the ALTER TABLE plans to wait for the lock', runnerWaitsOn(db.url, 'plans'));
      return { running, release: async () => void (await reader.query('ROLLBACK')) };
    },
    state: {
      auditLog: 'audit_log',
      settings: 1,
      progress: [
        { group_no: 1, finished: true },
        { group_no: 2, finished: true },
      ],
      invalid: [],
      index: { valid: true },
      audited: 0,
      history: ['001_base.sql'],
    },
    message:
      /^Cancelled while applying migrations\/002_mixed\.sql \(group 3 of 3, lines 4–5\)\. Committed: group 1 \(lines 1–2\), group 2 \(line 3\) of 3\. Group 3 \(lines 4–5\) was rolled back\. migrations\/002_mixed\.sql was NOT recorded as applied .* resumes it at group 3 /,
    partial: { committedGroups: [1, 2], resumeAtGroup: 3 },
    resumedAtGroup: 3,
    nextStatements: 2,
  },
  {
    name: 'while waiting for the migration lock',
    async hold(db, start) {
      const other = await connect(db.url);
      await other.query('SELECT pg_advisory_lock($1::bigint)', [RAIL_ACTIONS_LOCK_KEY.toString()]);
      const running = start();
      await running.waitForOutput(/Another migration holds the rail-actions migration lock/);
      return {
        running,
        release: async () =>
          void (await other.query('SELECT pg_advisory_unlock($1::bigint)', [RAIL_ACTIONS_LOCK_KEY.toString()])),
      };
    },
    state: { ...NOTHING_OF_002, progress: [] },
    nextStatements: 5,
    message: /^Cancelled while waiting for the migration lock on the production database: nothing was applied$/,
  },
];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rail-migrate-crash-'));
  baseRepo = await repo('base', { '001_base.sql': BASE });
  fullRepo = await repo('full', { '001_base.sql': BASE, '002_mixed.sql': MIXED });
  // The uninterrupted run every interrupted one must end up equal to.
  const db = await preparedDb();
  const r = await runAction({ action: 'migrate', cwd: fullRepo, inputs: { 'database-url': db.url, ...INPUTS } });
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  expect(JSON.parse(r.outputs.applied ?? '')).toEqual([
    { file: 'migrations/002_mixed.sql', statements: 5, ms: expect.any(Number) as number },
  ]);
  reference = await snapshot(db.url);
  expect(reference.data).toMatchObject({
    settings: [{ k: 'audit', v: 'on' }],
    audit: [{ account_id: '0', note: 'plans audited' }],
    progress: [{ n: 0 }],
  });
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => undefined);
});

afterAll(async () => {
  for (const db of dbs) await db.drop().catch(() => undefined);
  await rm(tmp, { recursive: true, force: true });
});

describe.each(['SIGTERM', 'SIGKILL'] as const)('%s', (signal) => {
  it.each(POINTS)('$name: consistent after the signal, finished exactly once by the next run', async (point) => {
    const db = await preparedDb();
    const { running, release } = await point.hold(db, () =>
      startAction({
        action: 'migrate',
        cwd: fullRepo,
        inputs: { 'database-url': db.url, ...INPUTS },
        timeoutMs: 60_000,
      }),
    );
    running.kill(signal);
    const r: ActionResult = await running.result;
    expect(r.timedOut).toBe(false);
    if (signal === 'SIGKILL') {
      expect(r.signal).toBe('SIGKILL');
    } else {
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      const errors = r.annotations.filter((a) => a.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toMatch(point.message);
      // Committed statements are never reported as rolled back.
      if (point.partial) expect(errors[0]?.message).not.toMatch(/Group [12] \([^)]*\) was rolled back/);
      expect(r.outputs['applied-count']).toBe('0');
      if (point.partial) {
        expect(JSON.parse(r.outputs['partially-applied'] ?? '')).toEqual({
          file: 'migrations/002_mixed.sql',
          groups: 3,
          ...point.partial,
        });
        expect(r.summary).toContain(
          `Migration failed — migrations/002_mixed.sql partly applied (${point.partial.committedGroups.length} of 3 statement groups committed; the next run resumes at group ${point.partial.resumeAtGroup})`,
        );
      } else {
        expect(r.outputs['partially-applied']).toBeUndefined();
        expect(r.summary).toContain('Migration failed — nothing applied');
      }
    }
    // The killed runner's session ends by itself (client_connection_check_interval) while the test still holds its
    // lock, so nothing of the interrupted statement can go on once the test lets go.
    await waitUntil('the runner session to end', async () => (await runnerSessions(db.url)) === 0);
    await release();
    expect(await observe(db.url)).toMatchObject(point.state);
    if (point.partial) {
      // The gate sees the interrupted file: where the next run resumes, not a reason to block.
      const gate = await runAction({ action: 'migrate-gate', cwd: fullRepo, inputs: { 'database-url': db.url } });
      expect(gate.exitCode, gate.stdout + gate.stderr).toBe(0);
      const plan = JSON.parse(gate.outputs.plan ?? '') as { decision: string; reasons: string[] };
      expect(plan.decision).not.toBe('blocked');
      expect(plan.reasons).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^resumes: migrations/002_mixed\\.sql was interrupted .*migrate resumes it at group ${point.partial.resumeAtGroup}$`,
          ),
        ),
      );
    }

    const next = await runAction({ action: 'migrate', cwd: fullRepo, inputs: { 'database-url': db.url, ...INPUTS } });
    expect(next.exitCode, next.stdout + next.stderr).toBe(0);
    const applied = JSON.parse(next.outputs.applied ?? '') as Array<Record<string, unknown>>;
    expect(applied).toHaveLength(1);
    expect(applied[0]).toMatchObject({ file: 'migrations/002_mixed.sql', statements: point.nextStatements });
    expect(applied[0]?.resumedAtGroup).toBe(point.resumedAtGroup);
    if (point.nextLog) expect(next.stdout).toMatch(point.nextLog);
    expect(await snapshot(db.url)).toEqual(reference);
  });
});

describe('a partly applied file that changed afterwards', () => {
  it('blocks the gate and is refused by migrate, naming what committed and what to do', async () => {
    const db = await preparedDb();
    const point = POINTS.find((p) => p.name === 'inside the last transaction (group 3)')!;
    const { running, release } = await point.hold(db, () =>
      startAction({
        action: 'migrate',
        cwd: fullRepo,
        inputs: { 'database-url': db.url, ...INPUTS },
        timeoutMs: 60_000,
      }),
    );
    running.kill('SIGTERM');
    await running.result;
    await waitUntil('the runner session to end', async () => (await runnerSessions(db.url)) === 0);
    await release();
    const edited = await repo('edited', {
      '001_base.sql': BASE,
      '002_mixed.sql': MIXED.replace("'plans audited'", "'plans audited twice'"),
    });

    const gate = await runAction({ action: 'migrate-gate', cwd: edited, inputs: { 'database-url': db.url } });
    const plan = JSON.parse(gate.outputs.plan ?? '') as {
      decision: string;
      blockers: Array<{ kind: string; file?: string; detail: string }>;
    };
    expect(plan.decision).toBe('blocked');
    expect(plan.blockers).toEqual([
      {
        kind: 'interrupted',
        file: 'migrations/002_mixed.sql',
        detail: expect.stringMatching(
          /statement groups 1, 2 of 3 committed\) and changed since: migrate refuses to resume it\. Restore the file as it was/,
        ) as string,
      },
    ]);

    const next = await runAction({ action: 'migrate', cwd: edited, inputs: { 'database-url': db.url, ...INPUTS } });
    expect(next.exitCode).toBe(1);
    expect(next.stdout + next.stderr).toMatch(/Refusing to (resume|migrate)/);
    expect(await observe(db.url)).toMatchObject(point.state);
  });
});

describe('the CLI after a failure inside a mixed file', () => {
  it('says which groups committed and where the next run resumes (text and --json)', async () => {
    const db = await preparedDb();
    // Group 1 commits; group 2 (CONCURRENTLY, alone) fails on a column that does not exist.
    const failing = await repo('cli-partial', {
      '001_base.sql': BASE,
      '002_mixed.sql':
        "INSERT INTO settings (k, v) VALUES ('audit', 'on');\nCREATE INDEX CONCURRENTLY accounts_nope_idx ON accounts (nope);\nINSERT INTO settings (k, v) VALUES ('after', 'x');\n",
    });
    const { execFile } = await import('node:child_process');
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          nodeBinary(),
          [
            path.join(import.meta.dirname, '../bin/rail-actions.mjs'),
            'migrate',
            '--database-url',
            db.url,
            '--dir',
            'migrations',
            ...args,
          ],
          { cwd: failing, env: { ...process.env, NO_COLOR: '1' } },
          (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const json = await cli(['--json']);
    expect(json.code, json.stderr).not.toBe(0);
    const report = JSON.parse(json.stdout) as { ok: boolean; partiallyApplied: unknown };
    expect(report.ok).toBe(false);
    expect(report.partiallyApplied).toEqual({
      file: 'migrations/002_mixed.sql',
      groups: 3,
      committedGroups: [1],
      resumeAtGroup: 2,
    });
    const text = await cli([]);
    expect(text.stdout).toMatch(
      /✘ migration failed — migrations\/002_mixed\.sql partly applied \(1 of 3 statement groups committed; the next run resumes at group 2\)/,
    );
  });
});
