// Applies pending migrations safely: under the rail-actions advisory lock, with lock_timeout/statement_timeout per
// session, statement by statement (split with the Postgres parser), transactional statements in a transaction that
// also writes the tool's history row, non-transactional ones (CREATE INDEX CONCURRENTLY, VACUUM …) alone, lock
// timeouts retried with the shared backoff, invalid indexes detected, cancellation rolling back the open transaction.
import path from 'node:path';
import type pg from 'pg';
import { AbortedError, type BackoffPolicy, retry } from '../../core/retry.js';
import { InputError, UserFacingError } from '../../core/errors.js';
import { formatDuration } from '../../core/duration.js';
import { connectDatabase, safeDbError } from '../db.js';
import { planHash } from '../hash.js';
import { type LoadedMigrations, loadMigrations, pendingWithClient } from '../pending.js';
import type { ToolAdapter } from '../history/index.js';
import type { MigrationFile, PendingReport, ToolName } from '../types.js';
import { acquireMigrationLock } from './lock.js';
import { runMigrationCommand } from './command.js';
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
}

export interface AppliedFile {
  file: string;
  id: string;
  /** Statements executed; null when the project's command applied it. */
  statements: number | null;
  ms: number | null;
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

/** A failure during apply; `applied` lists the files that were fully applied (and recorded) before it. */
export class MigrationFailedError extends UserFacingError {
  readonly applied: AppliedFile[];
  readonly invalidIndexes: InvalidIndex[];
  /** The migration file (relative to cwd) and line the failure points at, for an annotation. */
  readonly location: { file: string; line?: number } | undefined;
  constructor(message: string, applied: AppliedFile[], invalidIndexes: InvalidIndex[] = [], location?: { file: string; line?: number }) {
    super(message);
    this.name = 'MigrationFailedError';
    this.applied = applied;
    this.invalidIndexes = invalidIndexes;
    this.location = location;
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

function describeInvalid(list: InvalidIndex[]): string {
  return list.map((i) => `"${i.schema}"."${i.index}" on ${i.table} (fix: DROP INDEX CONCURRENTLY "${i.schema}"."${i.index}"; then re-run)`).join('; ');
}

interface FilePlan {
  file: MigrationFile;
  statements: SplitStatement[];
}

class Runner {
  private readonly log: (msg: string) => void;
  private readonly warn: (msg: string) => void;
  private readonly client: pg.Client;
  private readonly adapter: ToolAdapter;
  private readonly opts: ApplyOptions;

  constructor(client: pg.Client, adapter: ToolAdapter, opts: ApplyOptions) {
    this.client = client;
    this.adapter = adapter;
    this.opts = opts;
    this.log = opts.log ?? (() => undefined);
    this.warn = opts.warn ?? this.log;
  }

  private checkCancelled(): void {
    if (this.opts.signal?.aborted) throw new AbortedError('cancelled');
  }

  private async exec(sql: string): Promise<void> {
    this.checkCancelled();
    await this.client.query(sql);
  }

  /** Retries `fn` on lock timeouts with the shared backoff; `fn` must leave nothing behind when it fails. */
  private withLockRetries<T>(what: string, fn: (attempt: number) => Promise<T>, canRetry = true): Promise<T> {
    let retryable = true;
    return retry(
      async (attempt) => {
        try {
          return await fn(attempt);
        } catch (err) {
          retryable = canRetry && RETRYABLE_SQLSTATES.has(sqlState(err) ?? '') && !this.opts.signal?.aborted;
          throw err;
        }
      },
      {
        maxAttempts: this.opts.maxRetries + 1,
        ...(this.opts.backoff ? { policy: this.opts.backoff } : {}),
        ...(this.opts.signal ? { signal: this.opts.signal } : {}),
        classify: () => ({ retry: retryable }),
        onRetry: ({ err, attempt, delayMs }) =>
          this.warn(`${what}: ${sqlState(err) === '40P01' ? 'deadlock' : 'lock timeout'} (attempt ${attempt} of ${this.opts.maxRetries + 1}); rolled back, retrying in ${formatDuration(delayMs)}`),
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
    try {
      await this.client.query(s.sql);
    } catch (err) {
      // Remember which statement failed, for a file:line error message.
      if (err && typeof err === 'object') (err as { railStatement?: SplitStatement }).railStatement = s;
      throw err;
    }
  }

  /**
   * A CREATE INDEX CONCURRENTLY that hit lock_timeout after creating its catalog entry (e.g. while waiting for older
   * transactions) leaves an INVALID index of that name, which the retry would trip over (or, with IF NOT EXISTS, keep
   * silently): drop it right before retrying. Runs at the retry, after the backoff, when the blocker may be gone.
   */
  private async dropLeftoverIndex(s: SplitStatement): Promise<void> {
    if (!s.index) return;
    const qualified = s.index.schema ? `"${s.index.schema.replace(/"/g, '""')}"."${s.index.name.replace(/"/g, '""')}"` : `"${s.index.name.replace(/"/g, '""')}"`;
    try {
      const r = await this.client.query<{ valid: boolean | null }>('SELECT (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)) AS valid', [qualified]);
      if (r.rows[0]?.valid === false) {
        this.warn(`Dropping the INVALID index ${qualified} left by the interrupted concurrent build before retrying`);
        await this.client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified}`);
      }
    } catch (err) {
      if (err && typeof err === 'object') (err as { railStatement?: SplitStatement }).railStatement = s;
      throw err;
    }
  }

  async applyFile(plan: FilePlan): Promise<AppliedFile> {
    const { file, statements } = plan;
    const started = new Date();
    const t0 = performance.now();
    const ctx = () => ({ startedAt: started, finishedAt: new Date(), executionMs: performance.now() - t0 });
    const explicitTransactions = statements.some((s) => s.transactionControl);
    const allTransactional = statements.every((s) => s.transactional);
    const label = file.relPath;
    // A previous file may have changed the session's timeouts with SET: every file starts from the configured ones.
    await this.client.query("SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)", [
      `${this.opts.lockTimeoutMs}ms`,
      `${this.opts.statementTimeoutMs}ms`,
    ]);

    if (!file.noTransaction && !explicitTransactions && allTransactional) {
      // The common case: the statements and the history row commit together or not at all.
      await this.withLockRetries(label, () =>
        this.transaction(async () => {
          for (const s of statements) await this.runStatement(s);
          await this.adapter.record(this.client, file, ctx());
        }),
      );
    } else {
      if (this.adapter.markStarted) await this.adapter.markStarted(this.client, file);
      if (explicitTransactions) {
        // The file manages its own transactions (BEGIN/COMMIT written in it): run it as written, no retries.
        this.log(`${label}: has explicit BEGIN/COMMIT; running its statements as written`);
        try {
          for (const s of statements) await this.runStatement(s);
        } catch (err) {
          await this.client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      } else {
        const groups: SplitStatement[][] = [];
        for (const s of statements) {
          const last = groups[groups.length - 1];
          if (!file.noTransaction && s.transactional && last && last[0]?.transactional) last.push(s);
          else groups.push([s]);
        }
        for (const group of groups) {
          const first = group[0] as SplitStatement;
          if (group.length === 1 && (!first.transactional || file.noTransaction)) {
            const why = first.transactional ? 'file runs without a transaction' : 'cannot run inside a transaction';
            this.log(`${label}:${first.line}: ${first.nodeType} runs on its own (${why})`);
            // A concurrent index build is retried only when it is named (its leftover can be identified and dropped);
            // REINDEX CONCURRENTLY leaves *_ccnew indexes behind and is never retried automatically.
            const canRetry = !first.buildsIndexConcurrently || first.index !== undefined;
            await this.withLockRetries(
              `${label}:${first.line}`,
              async (attempt) => {
                if (attempt > 1 && first.buildsIndexConcurrently) await this.dropLeftoverIndex(first);
                await this.runStatement(first);
              },
              canRetry,
            );
          } else {
            await this.withLockRetries(`${label}:${first.line}`, () =>
              this.transaction(async () => {
                for (const s of group) await this.runStatement(s);
              }),
            );
          }
        }
      }
      if (statements.some((s) => s.buildsIndexConcurrently)) await this.assertNoInvalidIndexes(file);
      await this.transaction(() => this.adapter.record(this.client, file, ctx()));
    }
    const ms = Math.round(performance.now() - t0);
    return { file: file.relPath, id: file.id, statements: statements.length, ms };
  }

  private async assertNoInvalidIndexes(file: MigrationFile): Promise<void> {
    const invalid = await findInvalidIndexes(this.client);
    if (invalid.length) {
      throw new MigrationFailedError(
        `${file.relPath}: invalid index(es) after the concurrent index build — the build failed or an earlier failed build left them (IF NOT EXISTS skips an INVALID index): ${describeInvalid(invalid)}. ${file.relPath} was NOT recorded as applied.`,
        [],
        invalid,
        { file: file.relPath },
      );
    }
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

export async function applyMigrations(opts: ApplyOptions): Promise<ApplyResult> {
  const log = opts.log ?? (() => undefined);
  const target = opts.label ?? 'database';
  // Everything that can be validated without the database is validated first: no connection on bad input.
  const loaded = opts.loaded ?? (await loadMigrations({ dir: opts.dir ?? '', tool: opts.tool ?? 'auto', cwd: opts.cwd ?? process.cwd() }));
  if (opts.planHash !== undefined && !/^[0-9a-f]{64}$/.test(opts.planHash)) {
    throw new InputError('plan-hash', `expected the 64-character hex plan-hash output of migrate-gate, got '${opts.planHash}'`);
  }
  const { adapter, detected } = loaded;
  log(`Migrations: ${detected.tool} in ${path.relative(opts.cwd ?? process.cwd(), detected.dir) || '.'} (${detected.reason}); ${loaded.files.length} file(s)`);

  const client = await connectDatabase(opts.databaseUrl, { applicationName: 'rail-actions migrate' });
  let pid = 0;
  const onAbort = () => {
    if (pid) void cancelBackend(opts.databaseUrl, pid).catch(() => undefined);
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const applied: AppliedFile[] = [];
  try {
    const info = await client.query<{ pid: number; v: string }>("SELECT pg_backend_pid() AS pid, current_setting('server_version_num') AS v");
    pid = info.rows[0]?.pid ?? 0;
    await client.query("SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)", [
      `${opts.lockTimeoutMs}ms`,
      `${opts.statementTimeoutMs}ms`,
    ]);
    // PG14+: notice a vanished client (runner killed) during a long statement and roll back promptly.
    if (Number(info.rows[0]?.v ?? 0) >= 140000) await client.query("SET client_connection_check_interval = '1s'");

    const waited = await acquireMigrationLock(client, { waitMs: opts.lockWaitMs, log, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (waited === undefined) {
      throw new UserFacingError(
        `Another rail-actions migration still holds the migration lock on the ${target} after waiting ${formatDuration(opts.lockWaitMs)} (lock-wait); nothing was applied`,
      );
    }
    if (waited > 1000) log(`Acquired the migration lock after ${formatDuration(waited)}`);

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
    if (report.anomalies.length) {
      throw new UserFacingError(
        `Refusing to migrate the ${target}: ${report.anomalies.length} anomaly(ies) need a human first:\n${report.anomalies.map((a) => `  - [${a.kind}] ${a.detail}`).join('\n')}`,
      );
    }
    if (report.pending.length === 0) {
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
      try {
        applied.push(...(await runMigrationCommand({ ...opts, command: opts.command, client, loaded, before: report, log })));
      } catch (err) {
        applied.push(...((err as { applied?: AppliedFile[] }).applied ?? []));
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
    for (const file of report.pending) plans.push({ file, statements: await splitStatements(file.sql as string, file.relPath) });

    if (!(await adapter.historyTables(client)).length) await adapter.ensureHistoryTable(client);
    const runner = new Runner(client, adapter, opts);
    for (const plan of plans) {
      log(`Applying ${plan.file.relPath} (${plan.statements.length} statement(s))`);
      try {
        const done = await runner.applyFile(plan);
        applied.push(done);
        log(`Applied ${done.file} in ${formatDuration(done.ms ?? 0)}`);
      } catch (err) {
        if (err instanceof AbortedError || opts.signal?.aborted) {
          throw new MigrationFailedError(
            `Cancelled while applying ${plan.file.relPath}: its open transaction was rolled back and it was NOT recorded as applied${applied.length ? `; fully applied before: ${applied.map((a) => a.file).join(', ')}` : ''}`,
            applied,
          );
        }
        if (err instanceof MigrationFailedError) throw new MigrationFailedError(err.message, applied, err.invalidIndexes, err.location);
        const stmt = (err as { railStatement?: SplitStatement }).railStatement;
        const where = stmt ? `${plan.file.relPath}:${stmt.line}` : plan.file.relPath;
        const state = sqlState(err);
        const lockHint = state === '55P03' ? ` — gave up after ${opts.maxRetries + 1} attempt(s) with lock_timeout ${formatDuration(opts.lockTimeoutMs)}: another session holds a conflicting lock on the table` : '';
        const partial = plan.statements.some((s) => !s.transactional) || plan.file.noTransaction;
        const invalid = await findInvalidIndexes(client).catch(() => []);
        throw new MigrationFailedError(
          `${where}: ${safeDbError(err, opts.databaseUrl)}${state ? ` (SQLSTATE ${state})` : ''}${lockHint}. ${plan.file.relPath} was NOT recorded as applied${
            partial ? ' (it has statements that ran outside a transaction: those that completed before the failure stay; make them re-runnable with IF [NOT] EXISTS)' : '; its transaction was rolled back'
          }.${invalid.length ? ` Invalid indexes: ${describeInvalid(invalid)}` : ''}`,
          applied,
          invalid,
          { file: plan.file.relPath, ...(stmt ? { line: stmt.line } : {}) },
        );
      }
    }
    return result;
  } catch (err) {
    if (err instanceof MigrationFailedError || err instanceof InputError) throw err;
    if (err instanceof AbortedError) throw new MigrationFailedError(`Cancelled on the ${target}: nothing more was applied`, applied);
    if (err instanceof SqlParseError) throw new MigrationFailedError(err.message, applied, [], { file: err.file, line: err.line });
    if (err instanceof UserFacingError) throw new MigrationFailedError(err.message, applied);
    throw new MigrationFailedError(`Migration on the ${target} failed: ${safeDbError(err, opts.databaseUrl)}`, applied);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}

