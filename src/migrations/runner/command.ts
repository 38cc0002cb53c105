// Runs the project's own migrator (`npx prisma migrate deploy`, `npx knex migrate:latest`, …) while we hold the
// rail-actions lock, with the same timeouts passed through PGOPTIONS (libpq and node-postgres read it). The URL goes
// in the environment (DATABASE_URL), never on the command line; output is scrubbed of the URL and password.
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import type { ClientBase } from 'pg';
import { UserFacingError } from '../../core/errors.js';
import { AbortedError } from '../../core/retry.js';
import { formatDuration } from '../../core/duration.js';
import { scrubSecrets, urlPassword } from '../../core/redact.js';
import { type LoadedMigrations, pendingWithClient } from '../pending.js';
import type { PendingReport } from '../types.js';
import type { AppliedFile } from './apply.js';

/** The migration command failed or was cancelled; `applied` = what it applied before (read from the history table). */
export class MigrationCommandError extends UserFacingError {
  readonly applied: AppliedFile[];
  constructor(message: string, applied: AppliedFile[]) {
    super(message);
    this.name = 'MigrationCommandError';
    this.applied = applied;
  }
}

export interface CommandRunOptions {
  databaseUrl: string;
  command: string;
  cwd?: string;
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  signal?: AbortSignal;
  log: (msg: string) => void;
  client: ClientBase;
  loaded: LoadedMigrations;
  before: PendingReport;
}

export function pgOptions(lockTimeoutMs: number, statementTimeoutMs: number, existing?: string): string {
  const ours = `-c lock_timeout=${lockTimeoutMs} -c statement_timeout=${statementTimeoutMs}`;
  return existing ? `${existing} ${ours}` : ours;
}

export async function runMigrationCommand(opts: CommandRunOptions): Promise<AppliedFile[]> {
  const secrets = [opts.databaseUrl, urlPassword(opts.databaseUrl)];
  const scrub = (text: string) => scrubSecrets(text, secrets);
  if (opts.signal?.aborted) throw new AbortedError('cancelled before the migration command started');
  opts.log(`Running the project's migrator under the rail-actions lock: ${scrub(opts.command)}`);
  const started = performance.now();
  const tail: string[] = [];
  // Tags the command's sessions (libpq and node-postgres read PGAPPNAME) so a cancellation can stop their statements.
  const appName = `rail-actions-migrate-command-${process.pid}-${Date.now().toString(36)}`;
  const child = execa(opts.command, {
    shell: true,
    cwd: opts.cwd ?? process.cwd(),
    env: {
      DATABASE_URL: opts.databaseUrl,
      PGOPTIONS: pgOptions(opts.lockTimeoutMs, opts.statementTimeoutMs, process.env.PGOPTIONS),
      PGAPPNAME: appName,
    },
    all: true,
    buffer: false,
    reject: false,
    stdin: 'ignore',
    // Its own process group: the shell, npx and the migrator they start are stopped together on cancellation
    // (killing only the shell would leave the migrator running and holding the output pipe).
    detached: true,
  });
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  let forceKill: NodeJS.Timeout | undefined;
  let cancelled = false;
  const onAbort = () => {
    cancelled = true;
    killGroup('SIGTERM');
    forceKill = setTimeout(() => killGroup('SIGKILL'), 10_000);
  };
  const onExit = () => killGroup('SIGKILL');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  process.once('exit', onExit);
  if (child.all) {
    const lines = createInterface({ input: child.all, crlfDelay: Infinity });
    lines.on('line', (line) => {
      const clean = scrub(line);
      tail.push(clean);
      if (tail.length > 20) tail.shift();
      opts.log(`  │ ${clean}`);
    });
  }
  const outcome = await child;
  opts.signal?.removeEventListener('abort', onAbort);
  process.removeListener('exit', onExit);
  if (forceKill) clearTimeout(forceKill);
  const ms = Math.round(performance.now() - started);
  if (cancelled || opts.signal?.aborted) {
    // The killed migrator's server sessions would otherwise finish their current statement before noticing; cancel
    // them so their open transactions roll back now.
    await opts.client
      .query(
        'SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
        [appName],
      )
      .catch(() => undefined);
  }
  // What the command applied = what was pending before and is not any more (read from the history table).
  const after = await pendingWithClient(opts.client, opts.loaded);
  const stillPending = new Set(after.pending.map((f) => f.id));
  const applied: AppliedFile[] = opts.before.pending
    .filter((f) => !stillPending.has(f.id))
    .map((f) => ({ file: f.relPath, id: f.id, statements: null, ms: null }));
  if (cancelled || opts.signal?.aborted) {
    throw new MigrationCommandError(`Cancelled while the migration command ran (after ${formatDuration(ms)})`, applied);
  }
  if (outcome.exitCode !== 0 || outcome.failed) {
    const why =
      outcome.exitCode !== undefined ? `exit code ${outcome.exitCode}` : scrub(outcome.shortMessage ?? 'failed');
    throw new MigrationCommandError(
      `Migration command failed (${why}) after ${formatDuration(ms)}; ${applied.length} of ${opts.before.pending.length} pending migration(s) got applied. Last output:\n${tail.join('\n')}`,
      applied,
    );
  }
  if (after.pending.length) {
    opts.log(
      `Warning: the command succeeded but ${after.pending.length} migration(s) are still pending: ${after.pending.map((f) => f.relPath).join(', ')}`,
    );
  }
  opts.log(`Migration command finished in ${formatDuration(ms)}; applied ${applied.length} migration(s)`);
  return applied;
}
