// Applies pending migrations safely: under the rail-actions advisory lock, with lock_timeout/statement_timeout per
// session, statement by statement (split with the Postgres parser), in statement groups (progress.ts): a file that is
// one transaction commits with the tool's history row; any other file records each group's progress in
// rail_actions.migration_progress, so an interrupted run (SIGTERM, SIGKILL, a failed statement) is resumed by the next
// one instead of leaving a half-applied file nobody can re-run. Lock timeouts are retried with the shared backoff,
// leftovers of interrupted concurrent index builds are dropped (recover.ts), invalid indexes are detected, and every
// failure reports what is committed, read back from the database.
import path from 'node:path';
import type pg from 'pg';
import { AbortedError, type BackoffPolicy, retry } from '../../core/retry.js';
import { InputError, UserFacingError } from '../../core/errors.js';
import { formatDuration } from '../../core/duration.js';
import { quoteLiteral, quoteQualified } from '../../core/sql.js';
import { connectDatabase, safeDbError } from '../db.js';
import { planHash } from '../hash.js';
import { type LoadedMigrations, loadMigrations, pendingWithClient } from '../pending.js';
import type { ToolAdapter } from '../history/index.js';
import type { MigrationFile, PendingReport, ToolName } from '../types.js';
import { acquireMigrationLock } from './lock.js';
import { MigrationCommandError, runMigrationCommand } from './command.js';
import {
  PROGRESS_TABLE,
  type ProgressKey,
  type ProgressRow,
  type StatementGroup,
  TransactionStructureError,
  contentChecksum,
  deleteProgress,
  ensureProgressTable,
  isOwnDirtyFlag,
  isSingleTransaction,
  linesOf,
  listGroups,
  planGroups,
  readProgress,
  recordGroupDone,
  recordGroupFinished,
  recordGroupStarted,
} from './progress.js';
import { dropBuildLeftovers, recoverInterrupted, snapshotBeforeBuild } from './recover.js';
import { type SplitStatement, SqlParseError, splitStatements } from './split.js';

export interface ApplyOptions {
  databaseUrl: string;
  dir?: string;
  tool?: ToolName | 'auto';
  cwd?: string;
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  /** How long to wait for another rail-actions migration holding the lock. */
  lockWaitMs: number;
  /** Extra attempts after a lock timeout (SQLSTATE 55P03) per transaction/statement. */
  maxRetries: number;
  /** The gate's plan-hash: refuse to apply anything else. */
  planHash?: string;
  /** Run the project's own migrator (e.g. `npx prisma migrate deploy`) under our lock instead of our runner. */
  command?: string;
  /** The name the caller's users set `command` by (an action input, a CLI flag), for error messages; default 'command'. */
  commandInput?: string;
  signal?: AbortSignal;
  log?: (msg: string) => void;
  warn?: (msg: string) => void;
  backoff?: BackoffPolicy;
  /** Already loaded migrations (rehearsal reuses the production load). */
  loaded?: LoadedMigrations;
  /** For messages: what this run targets ('production', 'rehearsal database'). */
  label?: string;
  /** Backs up what destructive statements destroy (src/backup/take.ts): planned before, copied right before each. */
  backup?: MigrationBackupHook;
}

/** The statements of the pending files, as a backup hook sees them. */
export type BackupFiles = Array<{ file: MigrationFile; statements: Array<{ sql: string; line: number }> }>;

export interface MigrationBackupHook {
  /** Under the migration lock, before anything is applied; throws to refuse (nothing applied then). */
  prepare(client: pg.ClientBase, files: BackupFiles): Promise<void>;
  /** Right before `statement` runs, on the runner's connection: inside the statement's transaction when it has one. */
  beforeStatement(client: pg.ClientBase, file: MigrationFile, statement: { sql: string; line: number }): Promise<void>;
  /** The project's own migrator runs the statements: everything planned is copied before it starts. */
  takeAll(client: pg.ClientBase, files: BackupFiles): Promise<void>;
}

export interface AppliedFile {
  file: string;
  id: string;
  /** Statements executed by this run; null when the project's command applied it. */
  statements: number | null;
  ms: number | null;
  /** Set when an interrupted earlier run had committed the groups before this one: this run started here. */
  resumedAtGroup?: number;
}

export interface ApplyResult {
  tool: ToolName;
  dir: string;
  mode: 'runner' | 'command';
  /** Pending report taken under the lock, before anything ran. */
  report: PendingReport;
  planHash: string;
  applied: AppliedFile[];
  lockWaitMs: number;
  invalidIndexes: InvalidIndex[];
}

export interface InvalidIndex {
  schema: string;
  index: string;
  table: string;
}

/** A file left partly applied: some statement groups committed, its history row not written. */
export interface PartialFile {
  file: string;
  id: string;
  groups: number;
  /** Committed groups (1-based), by this run or an interrupted earlier one, as the database says. */
  committedGroups: number[];
  /** The group the next run starts with (groups + 1 when only the history row is missing). */
  resumeAt: number;
}

/** A failure during apply; `applied` lists the files that were fully applied (and recorded) before it. */
export class MigrationFailedError extends UserFacingError {
  readonly applied: AppliedFile[];
  readonly invalidIndexes: InvalidIndex[];
  /** The migration file (relative to cwd) and line the failure points at, for an annotation. */
  readonly location: { file: string; line?: number } | undefined;
  /** The file the failure left partly applied, when some of its groups are committed. */
  readonly partial: PartialFile | undefined;
  constructor(
    message: string,
    applied: AppliedFile[],
    invalidIndexes: InvalidIndex[] = [],
    location?: { file: string; line?: number },
    partial?: PartialFile,
  ) {
    super(message);
    this.name = 'MigrationFailedError';
    this.applied = applied;
    this.invalidIndexes = invalidIndexes;
    this.location = location;
    this.partial = partial;
  }
}

const RETRYABLE_SQLSTATES = new Set(['55P03' /* lock_not_available: lock_timeout */, '40P01' /* deadlock_detected */]);

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export async function findInvalidIndexes(client: pg.ClientBase): Promise<InvalidIndex[]> {
  const r = await client.query<InvalidIndex>(
    `SELECT n.nspname AS schema, c.relname AS index, t.relname AS table
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
      ORDER BY 1, 2`,
  );
  return r.rows;
}

const qualifiedIndex = (i: InvalidIndex) => quoteQualified(i.schema, i.index);

/** `ours`: leftovers of this file's interrupted build, which the next run drops itself. */
function describeInvalid(list: InvalidIndex[], ours: Set<string> = new Set()): string {
  return list
    .map((i) => {
      const name = qualifiedIndex(i);
      const unquoted = `${i.schema}.${i.index}`;
      const fix =
        ours.has(name) || ours.has(unquoted)
          ? 'left by this build; the next run drops it before building again'
          : `fix: DROP INDEX CONCURRENTLY ${name}; then re-run`;
      return `${name} on ${i.table} (${fix})`;
    })
    .join('; ');
}

interface FilePlan {
  file: MigrationFile;
  statements: SplitStatement[];
  groups: StatementGroup[];
  /** Progress rows an interrupted earlier run left for this file (same content, checked). */
  resume: ProgressRow[];
}

/** Where the runner is in the file it is applying, for a failure report that says what is committed. */
interface Position {
  plan: FilePlan;
  usesProgress: boolean;
  /** The group running now; undefined between groups. */
  group?: StatementGroup;
  /** The alone statement of `group` returned: it completed, only recording that is missing. */
  completed: boolean;
  /** Groups this run committed. */
  committed: number[];
  /** The alone statement of `group` ran, but an INVALID index it did not make remains (reported by the error itself). */
  invalidAfter?: boolean;
}

class Runner {
  private readonly log: (msg: string) => void;
  private readonly warn: (msg: string) => void;
  private readonly client: pg.Client;
  private readonly adapter: ToolAdapter;
  private readonly opts: ApplyOptions;
  private readonly history: string;
  position: Position | undefined;
  /** The statement whose failure ended the last attempt (for a file:line message); cleared when the next one starts. */
  failedStatement: SplitStatement | undefined;

  constructor(client: pg.Client, adapter: ToolAdapter, opts: ApplyOptions, history: string) {
    this.client = client;
    this.adapter = adapter;
    this.opts = opts;
    this.history = history;
    this.log = opts.log ?? (() => undefined);
    this.warn = opts.warn ?? this.log;
  }

  private checkCancelled(): void {
    if (this.opts.signal?.aborted) throw new AbortedError('cancelled');
  }

  private async exec(sql: string): Promise<void> {
    this.checkCancelled();
    this.failedStatement = undefined;
    await this.client.query(sql);
  }

  /** Retries `fn` on lock timeouts with the shared backoff; `fn` must leave nothing behind when it fails. */
  private withLockRetries<T>(what: string, fn: (attempt: number) => Promise<T>): Promise<T> {
    let retryable = true;
    return retry(
      async (attempt) => {
        try {
          return await fn(attempt);
        } catch (err) {
          retryable = RETRYABLE_SQLSTATES.has(sqlState(err) ?? '') && !this.opts.signal?.aborted;
          throw err;
        }
      },
      {
        maxAttempts: this.opts.maxRetries + 1,
        ...(this.opts.backoff ? { policy: this.opts.backoff } : {}),
        ...(this.opts.signal ? { signal: this.opts.signal } : {}),
        classify: () => ({ retry: retryable }),
        onRetry: ({ err, attempt, delayMs }) =>
          this.warn(
            `${what}: ${sqlState(err) === '40P01' ? 'deadlock' : 'lock timeout'} (attempt ${attempt} of ${this.opts.maxRetries + 1}); rolled back, retrying in ${formatDuration(delayMs)}`,
          ),
      },
    );
  }

  /** BEGIN … COMMIT around `body`; any failure rolls the whole transaction back. */
  private async transaction(body: () => Promise<void>): Promise<void> {
    await this.exec('BEGIN');
    try {
      await body();
      await this.exec('COMMIT');
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private async runStatement(s: SplitStatement): Promise<void> {
    this.checkCancelled();
    this.failedStatement = undefined;
    try {
      // The backup of what `s` destroys, in the same transaction as `s` (a crash keeps both or neither).
      if (this.opts.backup && this.position)
        await this.opts.backup.beforeStatement(this.client, this.position.plan.file, s);
      await this.client.query(s.sql);
    } catch (err) {
      this.failedStatement = s;
      throw err;
    }
  }

  /** Runs a statement of ours on behalf of `s` (leftover cleanup): a failure points at `s`. */
  private async onBehalfOf<T>(s: SplitStatement, fn: () => Promise<T>): Promise<T> {
    this.failedStatement = undefined;
    try {
      return await fn();
    } catch (err) {
      this.failedStatement = s;
      throw err;
    }
  }

  /**
   * A transaction or block group, with `inside` (progress row / history row) run in the same transaction right before
   * its COMMIT, so the statements and their record commit together or not at all.
   */
  private async runTransactionGroup(g: StatementGroup, inside: () => Promise<void>): Promise<void> {
    if (g.kind === 'transaction') {
      await this.transaction(async () => {
        for (const s of g.statements) await this.runStatement(s);
        await inside();
      });
      return;
    }
    // A BEGIN … COMMIT/ROLLBACK block written in the file: its own BEGIN (with its options) and COMMIT are used.
    const body = g.statements.slice(0, -1);
    const end = g.statements[g.statements.length - 1] as SplitStatement;
    try {
      for (const s of body) await this.runStatement(s);
      if (g.commits) await inside();
      await this.runStatement(end);
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    // Ended in ROLLBACK: nothing of it committed; running it again would do the same, so recording it may come after.
    if (!g.commits) await this.transaction(inside);
  }

  async applyFile(plan: FilePlan): Promise<AppliedFile> {
    const { file, groups } = plan;
    const started = new Date();
    const t0 = performance.now();
    const ctx = () => ({ startedAt: started, finishedAt: new Date(), executionMs: performance.now() - t0 });
    const label = file.relPath;
    const done = new Set(plan.resume.filter((r) => r.finishedAt).map((r) => r.group));
    const startedRows = new Map(plan.resume.filter((r) => !r.finishedAt).map((r) => [r.group, r]));
    const pos: Position = { plan, usesProgress: false, completed: false, committed: [] };
    this.position = pos;
    // A previous file may have changed the session's timeouts with SET: every file starts from the configured ones.
    await this.client.query(
      "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)",
      [`${this.opts.lockTimeoutMs}ms`, `${this.opts.statementTimeoutMs}ms`],
    );

    if (isSingleTransaction(groups) && plan.resume.length === 0) {
      // The common case: the statements and the history row commit together or not at all; no progress needed.
      const g = groups[0] as StatementGroup;
      pos.group = g;
      await this.withLockRetries(label, () =>
        this.runTransactionGroup(g, () => this.adapter.record(this.client, file, ctx())),
      );
      pos.committed.push(g.number);
      pos.group = undefined;
      return {
        file: file.relPath,
        id: file.id,
        statements: plan.statements.length,
        ms: Math.round(performance.now() - t0),
      };
    }

    pos.usesProgress = true;
    const key: ProgressKey = {
      history: this.history,
      tool: this.adapter.tool,
      migration: file.id,
      file: file.relPath,
      checksum: contentChecksum(file),
      groups: groups.length,
    };
    await ensureProgressTable(this.client);
    // golang-migrate: (version, dirty) while the file is unfinished, as golang-migrate itself marks it.
    if (this.adapter.markStarted) await this.adapter.markStarted(this.client, file);
    const recordFile = async () => {
      await this.adapter.record(this.client, file, ctx());
      await deleteProgress(this.client, this.history, file.id);
    };
    let executed = 0;
    for (const g of groups) {
      if (done.has(g.number)) continue;
      const last = g.number === groups.length;
      pos.group = g;
      pos.completed = false;
      const where = `${label}:${g.firstLine}`;
      if (g.kind === 'alone') {
        if (await this.runAloneGroup(g, key, startedRows.get(g.number), pos)) executed++;
      } else {
        // The last group's transaction also writes the history row and clears the progress rows.
        await this.withLockRetries(where, () =>
          this.runTransactionGroup(g, () => (last ? recordFile() : recordGroupDone(this.client, key, g))),
        );
        executed += g.statements.length;
      }
      pos.committed.push(g.number);
      pos.group = undefined;
    }
    const lastGroup = groups[groups.length - 1];
    if (!lastGroup || lastGroup.kind === 'alone' || done.has(lastGroup.number)) await this.transaction(recordFile);
    const resumedAt = plan.resume.length
      ? (groups.find((g) => !done.has(g.number))?.number ?? groups.length + 1)
      : undefined;
    return {
      file: file.relPath,
      id: file.id,
      statements: executed,
      ms: Math.round(performance.now() - t0),
      ...(resumedAt !== undefined ? { resumedAtGroup: resumedAt } : {}),
    };
  }

  /**
   * A statement that cannot run in a transaction block: a started row before it (with what a concurrent index build
   * needs to find its leftovers), a finished mark after it. A started row left by an interrupted run, or by the
   * previous attempt of this run, is inspected first: leftovers dropped, a statement that in fact completed skipped.
   * Returns whether the statement ran.
   */
  private async runAloneGroup(
    g: StatementGroup,
    key: ProgressKey,
    interrupted: ProgressRow | undefined,
    pos: Position,
  ): Promise<boolean> {
    const s = g.statements[0] as SplitStatement;
    const where = `${key.file}:${s.line}`;
    this.log(`${where}: ${s.nodeType} runs on its own (cannot run inside a transaction)`);
    let lastStart: Pick<ProgressRow, 'target' | 'indexesBefore'> | undefined = interrupted;
    let skipped: string | undefined;
    await this.withLockRetries(where, async () => {
      if (lastStart) {
        const recovered = await this.onBehalfOf(s, () =>
          recoverInterrupted(this.client, s, lastStart as ProgressRow, this.warn, where),
        );
        if (recovered.done) {
          skipped = recovered.why;
          return;
        }
      }
      this.checkCancelled();
      const snapshot = await this.onBehalfOf(s, () => snapshotBeforeBuild(this.client, s));
      await recordGroupStarted(this.client, key, g, snapshot.target, snapshot.indexesBefore);
      lastStart = snapshot;
      await this.runStatement(s);
      pos.completed = true;
    });
    if (skipped) this.log(`${where}: not running it again: ${skipped}`);
    else if (s.buildsIndexConcurrently) await this.assertNoInvalidIndexes(key.file, s, pos);
    await recordGroupFinished(this.client, key, g);
    return skipped === undefined;
  }

  private async assertNoInvalidIndexes(file: string, s: SplitStatement, pos: Position): Promise<void> {
    const invalid = await findInvalidIndexes(this.client);
    if (!invalid.length) return;
    // A build that leaves an invalid index fails by itself; an invalid index here is an older one (IF NOT EXISTS
    // skips an INVALID index of the same name) or one of another schema change: a human decides.
    pos.invalidAfter = true;
    throw new MigrationFailedError(
      `${file}:${s.line}: invalid index(es) after the concurrent index build — an earlier failed build left them, and IF NOT EXISTS skips an INVALID index: ${describeInvalid(invalid)}.`,
      [],
      invalid,
      { file, line: s.line },
    );
  }
}

/** Cancels whatever our session is running, from a second connection (closing ours alone may not stop a long statement). */
async function cancelBackend(databaseUrl: string, pid: number): Promise<void> {
  const side = await connectDatabase(databaseUrl, { applicationName: 'rail-actions cancel' });
  try {
    await side.query('SELECT pg_cancel_backend($1)', [pid]);
  } finally {
    await side.end().catch(() => undefined);
  }
}

/**
 * Matches the progress rows of interrupted runs with the pending files, before anything runs: a file with the same
 * content resumes; a changed one is refused when any of its groups committed, and starts afresh (after its leftovers
 * are dropped) when none did. Rows of files that are applied by now (a human finished them) are stale and removed.
 */
async function matchProgress(
  client: pg.Client,
  rows: ProgressRow[],
  plans: FilePlan[],
  report: PendingReport,
  o: { history: string; log: (m: string) => void; warn: (m: string) => void },
): Promise<void> {
  const byMigration = new Map<string, ProgressRow[]>();
  for (const r of rows) byMigration.set(r.migration, [...(byMigration.get(r.migration) ?? []), r]);
  for (const [migration, list] of byMigration) {
    const first = list[0] as ProgressRow;
    const finished = list.filter((r) => r.finishedAt);
    const at = first.startedAt.toISOString();
    const planIndex = plans.findIndex((p) => p.file.id === migration);
    const plan = plans[planIndex];
    if (!plan) {
      if (report.files.some((f) => f.id === migration)) {
        o.warn(
          `${first.file} is recorded as applied, but rail-actions progress rows of an interrupted run (${at}) remain; removing them`,
        );
        await deleteProgress(client, o.history, migration);
      } else {
        o.warn(
          `${first.file} was partly applied by an interrupted run (${at}; groups ${listGroups(finished.map((r) => r.group)) || 'none'} of ${first.groups} committed) but is no longer in the migrations directory; check the schema, then DELETE FROM ${PROGRESS_TABLE} WHERE migration = ${quoteLiteral(migration)}`,
        );
      }
      continue;
    }
    const committed = finished.map((r) => `group ${r.group} (${linesOf(r)})`).join(', ');
    if (first.checksum !== contentChecksum(plan.file)) {
      if (finished.length) {
        throw new UserFacingError(
          `Refusing to resume ${plan.file.relPath}: an interrupted run (${at}) committed ${committed} of ${first.groups} statement groups of a different version of it, and the file changed since (sha256 of its SQL was ${first.checksum.slice(0, 12)}…, now ${contentChecksum(plan.file).slice(0, 12)}…). Restore the file as it was, and the next run resumes it; or finish or undo those statements by hand and then DELETE FROM ${PROGRESS_TABLE} WHERE migration = ${quoteLiteral(migration)}.`,
        );
      }
      // Nothing of it committed: the changed file starts afresh, once the old attempt's leftovers are gone.
      for (const r of list.filter((x) => !x.finishedAt))
        await dropBuildLeftovers(client, r, o.warn, `${plan.file.relPath}:${r.firstLine}`);
      await deleteProgress(client, o.history, migration);
      o.log(
        `${plan.file.relPath}: an interrupted run (${at}) committed none of it; it changed since and runs from the start`,
      );
      continue;
    }
    const regrouped = list.some(
      (r) => r.groups !== plan.groups.length || plan.groups[r.group - 1]?.hash !== r.statementHash,
    );
    if (regrouped) {
      if (finished.length) {
        throw new UserFacingError(
          `Refusing to resume ${plan.file.relPath}: an interrupted run (${at}) committed ${committed}, but this version of rail-actions splits the file into different statement groups (${plan.groups.length}, not ${first.groups}). Finish it with the rail-actions version that started it, or by hand and then DELETE FROM ${PROGRESS_TABLE} WHERE migration = ${quoteLiteral(migration)}.`,
        );
      }
      for (const r of list.filter((x) => !x.finishedAt))
        await dropBuildLeftovers(client, r, o.warn, `${plan.file.relPath}:${r.firstLine}`);
      await deleteProgress(client, o.history, migration);
      continue;
    }
    if (planIndex > 0) {
      throw new UserFacingError(
        `Refusing to migrate: ${plan.file.relPath} was partly applied by an interrupted run (${at}; ${committed || 'no group'} committed), but ${plans
          .slice(0, planIndex)
          .map((p) => p.file.relPath)
          .join(
            ', ',
          )} — pending and ordered before it — would run first. Finish ${plan.file.relPath} first (move the newer file after it).`,
      );
    }
    plan.resume = list;
    const next = plan.groups.find((g) => !finished.some((r) => r.group === g.number));
    o.log(
      `Resuming ${plan.file.relPath}, interrupted at ${at}: ${finished.length ? `${committed} of ${plan.groups.length} committed` : `none of its ${plan.groups.length} groups committed`}; ${
        next ? `continuing at group ${next.number} (${linesOf(next)})` : 'only its history row is missing'
      }`,
    );
  }
}

/** What is committed of a file, read back from the database on a connection of its own (ours may be mid-cancel). */
async function readBack(
  databaseUrl: string,
  history: string,
  migration: string,
  startedRow: boolean,
): Promise<{ rows: ProgressRow[]; invalid: InvalidIndex[]; leftovers: string[] } | { error: string }> {
  let side: pg.Client | undefined;
  try {
    side = await connectDatabase(databaseUrl, { applicationName: 'rail-actions migrate (report)' });
    // The runner gives a cancelled step seconds before SIGKILL: never queue behind a lock on the progress table.
    await side.query("SET lock_timeout = '1s'; SET statement_timeout = '3s'");
    const rows = await readProgress(side, history, migration);
    const invalid = await findInvalidIndexes(side);
    const leftovers: string[] = [];
    if (startedRow) {
      for (const r of rows.filter((x) => !x.finishedAt && x.indexesBefore)) {
        const made = await side.query<{ name: string }>(
          `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT i.indisvalid AND NOT (quote_ident(n.nspname) || '.' || quote_ident(c.relname) = ANY ($1::text[]))
              AND (($2::text IS NOT NULL AND i.indrelid = to_regclass($2)) OR ($2::text IS NULL AND c.relname ~ '_cc(new|old)[0-9]*$'))`,
          [r.indexesBefore, r.target],
        );
        leftovers.push(...made.rows.map((m) => m.name));
      }
    }
    return { rows, invalid, leftovers };
  } catch (err) {
    return { error: safeDbError(err, databaseUrl) };
  } finally {
    await side?.end().catch(() => undefined);
  }
}

/** Whether the tool's history records `file` (true), not (false), or why that could not be read. */
async function recordedAnyway(
  databaseUrl: string,
  loaded: LoadedMigrations,
  file: MigrationFile,
): Promise<boolean | string> {
  let side: pg.Client | undefined;
  try {
    side = await connectDatabase(databaseUrl, { applicationName: 'rail-actions migrate (report)' });
    await side.query("SET lock_timeout = '1s'; SET statement_timeout = '3s'");
    const history = await loaded.adapter.readHistory(side);
    return !loaded.adapter.diff([file], history).pending.some((f) => f.id === file.id);
  } catch (err) {
    return safeDbError(err, databaseUrl);
  } finally {
    await side?.end().catch(() => undefined);
  }
}

/** Statements whose completion the next run can see in the catalog (and then does not run them again). */
function completionVisible(s: SplitStatement): boolean {
  return (s.nodeType === 'IndexStmt' && s.buildsIndexConcurrently) || !!s.dropsIndexes?.length || !!s.detach;
}

/** The message of a failure in a file that records progress: what is committed, what is not, what the next run does. */
async function describeInterrupted(
  head: string,
  pos: Position,
  o: { databaseUrl: string; history: string; aborted: boolean },
): Promise<{ message: string; partial: PartialFile; invalid: InvalidIndex[]; leftovers: string[] }> {
  const { plan } = pos;
  const n = plan.groups.length;
  const g = pos.group;
  const back = await readBack(o.databaseUrl, o.history, plan.file.id, g?.kind === 'alone');
  let committedNumbers: number[];
  let note = '';
  let invalid: InvalidIndex[] = [];
  let leftovers: string[] = [];
  if ('error' in back) {
    // Cannot read the database: what this process knows (a COMMIT that failed on a lost connection may have committed).
    committedNumbers = [
      ...new Set([...plan.resume.filter((r) => r.finishedAt).map((r) => r.group), ...pos.committed]),
    ].sort((a, b) => a - b);
    note = ` (from this run's own record: the progress could not be read back: ${back.error})`;
  } else {
    committedNumbers = back.rows.filter((r) => r.finishedAt).map((r) => r.group);
    invalid = back.invalid;
    leftovers = back.leftovers;
    // The history row commits with the last group and clears the rows: no rows left then means all is done.
    if (!back.rows.length && pos.committed.length && pos.committed[pos.committed.length - 1] === n)
      committedNumbers = plan.groups.map((x) => x.number);
  }
  const earlier = new Set(plan.resume.filter((r) => r.finishedAt).map((r) => r.group));
  const describe = (num: number) => {
    const grp = plan.groups[num - 1];
    return `group ${num}${grp ? ` (${linesOf(grp)}${earlier.has(num) ? ', by an earlier interrupted run' : ''})` : ''}`;
  };
  let resumeAt = 1;
  while (committedNumbers.includes(resumeAt)) resumeAt++;
  const parts: string[] = [head];
  parts.push(
    committedNumbers.length
      ? `Committed: ${committedNumbers.map(describe).join(', ')} of ${n}.`
      : `None of its ${n} statement groups is committed.`,
  );
  if (g && !committedNumbers.includes(g.number) && !pos.invalidAfter) {
    const s = g.statements[0] as SplitStatement;
    if (g.kind !== 'alone') {
      parts.push(
        `Group ${g.number} (${linesOf(g)}) was rolled back${o.aborted ? '' : ' and is run again by the next run'}.`,
      );
    } else if (pos.completed) {
      parts.push(
        `Group ${g.number} (line ${s.line}, ${s.nodeType}) completed, but recording that did not; the next run ${completionVisible(s) ? 'sees in the catalog that it completed and does not run it again' : 'runs it again'}.`,
      );
    } else {
      const left = leftovers.length
        ? `; it left the INVALID index ${leftovers.join(', ')}, which the next run drops before building it again`
        : '';
      parts.push(`Group ${g.number} (line ${s.line}, ${s.nodeType}, outside a transaction) did not complete${left}.`);
    }
  }
  const file = plan.file.relPath;
  parts.push(
    resumeAt > n
      ? `All its statements are committed, but ${file} was NOT recorded as applied in ${o.history}; the next run records it.`
      : `${file} was NOT recorded as applied in ${o.history}: the tool still sees it as pending, and the next rail-actions run resumes it at group ${resumeAt} (progress in ${PROGRESS_TABLE})${
          o.aborted || !committedNumbers.length
            ? ''
            : '; fix the cause first, without editing the file — a file edited after some of it committed is refused'
        }.`,
  );
  // (An invalid-index failure lists them in its own first sentence.)
  if (invalid.length && !pos.invalidAfter)
    parts.push(`Invalid indexes: ${describeInvalid(invalid, new Set(leftovers))}.`);
  return {
    message: parts.join(' ') + note,
    partial: { file, id: plan.file.id, groups: n, committedGroups: committedNumbers, resumeAt },
    invalid,
    leftovers,
  };
}

export async function applyMigrations(opts: ApplyOptions): Promise<ApplyResult> {
  const log = opts.log ?? (() => undefined);
  const warn = opts.warn ?? log;
  const target = opts.label ?? 'database';
  // Everything that can be validated without the database is validated first: no connection on bad input.
  const loaded =
    opts.loaded ??
    (await loadMigrations({ dir: opts.dir ?? '', tool: opts.tool ?? 'auto', cwd: opts.cwd ?? process.cwd() }));
  if (opts.planHash !== undefined && !/^[0-9a-f]{64}$/.test(opts.planHash)) {
    throw new InputError(
      'plan-hash',
      `expected the 64-character hex plan-hash output of migrate-gate, got '${opts.planHash}'`,
    );
  }
  const { adapter, detected } = loaded;
  log(
    `Migrations: ${detected.tool} in ${path.relative(opts.cwd ?? process.cwd(), detected.dir) || '.'} (${detected.reason}); ${loaded.files.length} file(s)`,
  );

  const client = await connectDatabase(opts.databaseUrl, { applicationName: 'rail-actions migrate' });
  let pid = 0;
  let cancelling: Promise<void> | undefined;
  // Off while the project's command runs: our session is idle then, and a cancel meant for it would hit the query
  // that cancels the command's sessions instead (command.ts stops those itself).
  let cancelOurs = true;
  const onAbort = () => {
    if (pid && cancelOurs) cancelling = cancelBackend(opts.databaseUrl, pid).catch(() => undefined);
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const applied: AppliedFile[] = [];
  let phase: 'setup' | 'lock' | 'plan' | 'apply' = 'setup';
  try {
    const info = await client.query<{ pid: number; v: string }>(
      "SELECT pg_backend_pid() AS pid, current_setting('server_version_num') AS v",
    );
    pid = info.rows[0]?.pid ?? 0;
    await client.query("SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)", [
      `${opts.lockTimeoutMs}ms`,
      `${opts.statementTimeoutMs}ms`,
    ]);
    // PG14+: notice a vanished client (runner killed) during a long statement or lock wait and roll back promptly
    // (runtime-config-connection.html, client_connection_check_interval).
    if (Number(info.rows[0]?.v ?? 0) >= 140000) await client.query("SET client_connection_check_interval = '1s'");

    phase = 'lock';
    const waited = await acquireMigrationLock(client, {
      waitMs: opts.lockWaitMs,
      log,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (waited === undefined) {
      throw new UserFacingError(
        `Another rail-actions migration still holds the migration lock on the ${target} after waiting ${formatDuration(opts.lockWaitMs)} (lock-wait); nothing was applied`,
      );
    }
    if (waited > 1000) log(`Acquired the migration lock after ${formatDuration(waited)}`);
    phase = 'plan';

    const report = await pendingWithClient(client, loaded);
    const hash = planHash(report.pending);
    const result: ApplyResult = {
      tool: detected.tool,
      dir: detected.dir,
      mode: opts.command ? 'command' : 'runner',
      report,
      planHash: hash,
      applied,
      lockWaitMs: waited,
      invalidIndexes: [],
    };
    const history = await adapter.historyTable(client);
    const progress = await readProgress(client, history);
    const interrupted = new Set(progress.map((r) => r.migration));
    // golang-migrate's dirty flag on a file an interrupted rail-actions run left unfinished is ours to resume.
    const blocking = report.anomalies.filter((a) => !isOwnDirtyFlag(a, detected.tool, report.files, interrupted));
    if (blocking.length) {
      throw new UserFacingError(
        `Refusing to migrate the ${target}: ${blocking.length} anomaly(ies) need a human first:\n${blocking.map((a) => `  - [${a.kind}] ${a.detail}`).join('\n')}`,
      );
    }
    if (report.pending.length === 0) {
      if (progress.length) await matchProgress(client, progress, [], report, { history, log, warn });
      // Nothing to back up; expired backups are still dropped.
      if (opts.backup) await opts.backup.prepare(client, []);
      log(`Nothing to apply on the ${target}: all ${report.files.length} migration(s) are applied`);
      return result;
    }
    if (opts.planHash !== undefined && opts.planHash !== hash) {
      throw new UserFacingError(
        `Refusing to migrate: the pending migrations (${report.pending.map((f) => f.relPath).join(', ')}) hash to ${hash}, not the approved plan-hash ${opts.planHash}. Migrations changed after the gate ran (or another deploy applied some); re-run migrate-gate and approve the new plan.`,
      );
    }
    log(`Pending on the ${target}: ${report.pending.map((f) => f.relPath).join(', ')} (plan-hash ${hash})`);

    if (opts.command) {
      const partly = report.pending.filter((f) => interrupted.has(f.id));
      if (partly.length) {
        throw new UserFacingError(
          `Refusing to run ${opts.commandInput ?? 'command'}: ${partly.map((f) => f.relPath).join(', ')} ${partly.length === 1 ? 'was' : 'were'} partly applied by an interrupted rail-actions run (see ${PROGRESS_TABLE}), and the project's migrator would run ${partly.length === 1 ? 'it' : 'them'} again from the start. Let the rail-actions runner resume ${partly.length === 1 ? 'it' : 'them'} (without ${opts.commandInput ?? 'command'}) first.`,
        );
      }
      if (opts.backup) {
        const files: BackupFiles = [];
        for (const f of report.pending)
          if (f.sql !== undefined) files.push({ file: f, statements: await splitStatements(f.sql, f.relPath) });
        const code = report.pending.filter((f) => f.sql === undefined).map((f) => f.relPath);
        if (code.length)
          warn(
            `Backups: ${code.join(', ')} ${code.length === 1 ? 'is' : 'are'} JS/TS code: what it destroys cannot be read in advance and is not backed up`,
          );
        await opts.backup.prepare(client, files);
        await opts.backup.takeAll(client, files);
      }
      phase = 'apply';
      cancelOurs = false;
      try {
        applied.push(
          ...(await runMigrationCommand({ ...opts, command: opts.command, client, loaded, before: report, log })),
        );
      } catch (err) {
        if (err instanceof MigrationCommandError) applied.push(...err.applied);
        throw err;
      }
      return result;
    }

    const opaque = report.pending.filter((f) => f.kind === 'opaque' || f.sql === undefined);
    if (opaque.length) {
      const commandInput = opts.commandInput ?? 'command';
      throw new InputError(
        commandInput,
        `${opaque.length} pending migration(s) are JS/TS code rail-actions cannot run itself (${opaque.map((f) => f.relPath).join(', ')}); set ${commandInput} to the project's migrator (e.g. 'npx ${detected.tool === 'knex' ? 'knex migrate:latest' : 'node-pg-migrate up'}')`,
      );
    }
    // Parse every pending file before touching anything: a syntax error in file 3 must not leave files 1–2 applied.
    const plans: FilePlan[] = [];
    for (const file of report.pending) {
      const statements = await splitStatements(file.sql as string, file.relPath);
      plans.push({
        file,
        statements,
        groups: planGroups(statements, { file: file.relPath, noTransaction: file.noTransaction === true }),
        resume: [],
      });
    }
    if (progress.length) await matchProgress(client, progress, plans, report, { history, log, warn });
    if (opts.backup) await opts.backup.prepare(client, plans);

    if (!(await adapter.historyTables(client)).length) await adapter.ensureHistoryTable(client);
    phase = 'apply';
    const runner = new Runner(client, adapter, opts, history);
    for (const plan of plans) {
      const groups =
        plan.groups.length > 1
          ? `; ${plan.groups.length} statement groups, progress recorded per group`
          : plan.groups[0]?.kind === 'alone'
            ? '; outside a transaction, progress recorded'
            : '';
      log(`Applying ${plan.file.relPath} (${plan.statements.length} statement(s)${groups})`);
      try {
        const done = await runner.applyFile(plan);
        applied.push(done);
        log(
          `Applied ${done.file} in ${formatDuration(done.ms ?? 0)}${done.resumedAtGroup ? ` (resumed at group ${done.resumedAtGroup})` : ''}`,
        );
      } catch (err) {
        if (cancelling) await cancelling;
        const aborted = err instanceof AbortedError || opts.signal?.aborted === true;
        const pos = runner.position;
        const stmt = runner.failedStatement;
        const where = stmt ? `${plan.file.relPath}:${stmt.line}` : plan.file.relPath;
        const location = {
          file: plan.file.relPath,
          ...(stmt ? { line: stmt.line } : pos?.group ? { line: pos.group.firstLine } : {}),
        };
        const state = sqlState(err);
        const lockHint =
          state === '55P03'
            ? ` — gave up after ${opts.maxRetries + 1} attempt(s) with lock_timeout ${formatDuration(opts.lockTimeoutMs)}: another session holds a conflicting lock on the table`
            : '';
        const before = applied.length ? ` Fully applied before it: ${applied.map((a) => a.file).join(', ')}.` : '';
        if (pos?.usesProgress) {
          const head = aborted
            ? `Cancelled while applying ${plan.file.relPath}${pos.group ? ` (group ${pos.group.number} of ${plan.groups.length}, ${linesOf(pos.group)})` : ''}.`
            : err instanceof MigrationFailedError
              ? err.message
              : `${where}: ${safeDbError(err, opts.databaseUrl)}${state ? ` (SQLSTATE ${state})` : ''}${lockHint}.`;
          const d = await describeInterrupted(head, pos, { databaseUrl: opts.databaseUrl, history, aborted });
          const partial = d.partial.committedGroups.length ? d.partial : undefined;
          throw new MigrationFailedError(
            d.message + before,
            applied,
            d.invalid,
            aborted ? undefined : location,
            partial,
          );
        }
        // One transaction with its history row: asked on a connection of its own, the history says whether it
        // committed after all (a cancel or a lost connection can meet the COMMIT itself).
        const recorded = await recordedAnyway(opts.databaseUrl, loaded, plan.file);
        const appliedBefore = applied.map((a) => a.file);
        if (recorded === true)
          applied.push({ file: plan.file.relPath, id: plan.file.id, statements: plan.statements.length, ms: null });
        const unconfirmed =
          typeof recorded === 'string' ? ` (the history could not be read back to confirm: ${recorded})` : '';
        if (aborted) {
          throw new MigrationFailedError(
            recorded === true
              ? `Cancelled while applying ${plan.file.relPath}, as its transaction committed: it IS applied and recorded; nothing after it was applied`
              : `Cancelled while applying ${plan.file.relPath}: its open transaction was rolled back and it was NOT recorded as applied${unconfirmed}${appliedBefore.length ? `; fully applied before: ${appliedBefore.join(', ')}` : ''}`,
            applied,
          );
        }
        if (recorded === true) {
          throw new MigrationFailedError(
            `${where}: ${safeDbError(err, opts.databaseUrl)}${state ? ` (SQLSTATE ${state})` : ''} — after its transaction committed: ${plan.file.relPath} IS applied and recorded; nothing after it was applied.`,
            applied,
          );
        }
        if (err instanceof MigrationFailedError)
          throw new MigrationFailedError(err.message, applied, err.invalidIndexes, err.location);
        const invalid = await findInvalidIndexes(client).catch(() => []);
        throw new MigrationFailedError(
          `${where}: ${safeDbError(err, opts.databaseUrl)}${state ? ` (SQLSTATE ${state})` : ''}${lockHint}. ${plan.file.relPath} was NOT recorded as applied; its transaction was rolled back${unconfirmed}.${
            invalid.length ? ` Invalid indexes: ${describeInvalid(invalid)}` : ''
          }`,
          applied,
          invalid,
          location,
        );
      }
    }
    return result;
  } catch (err) {
    if (err instanceof MigrationFailedError || err instanceof InputError) throw err;
    // A cancelled wait or query; a UserFacingError already says what the cancellation stopped (the command's, say).
    if (err instanceof AbortedError || (opts.signal?.aborted && !(err instanceof UserFacingError))) {
      const what = phase === 'lock' ? ' while waiting for the migration lock' : '';
      throw new MigrationFailedError(
        `Cancelled${what} on the ${target}: ${applied.length ? `nothing more was applied after ${applied.map((a) => a.file).join(', ')}` : 'nothing was applied'}`,
        applied,
      );
    }
    if (err instanceof SqlParseError)
      throw new MigrationFailedError(err.message, applied, [], { file: err.file, line: err.line });
    if (err instanceof TransactionStructureError)
      throw new MigrationFailedError(err.message, applied, [], { file: err.file, line: err.line });
    if (err instanceof UserFacingError) throw new MigrationFailedError(err.message, applied);
    throw new MigrationFailedError(`Migration on the ${target} failed: ${safeDbError(err, opts.databaseUrl)}`, applied);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}
