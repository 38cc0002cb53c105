// The migrations family's use cases, called by both front ends: the actions (src/actions/{migrate-gate,migrate}.ts:
// inputs → use case → outputs/summary) and the CLI (src/cli/commands/{plan,migrate}.ts: flags → use case → terminal;
// restore's is src/backup/use-cases.ts, kept apart so the restore bundle does not carry the SQL parser). Each takes a spec read by src/migrations/spec.ts or src/backup/spec.ts and returns a typed
// result; the decisions — what an app without migrations means, that a failed rehearsal leaves production untouched,
// which failures are input errors, what a backup holds after a failure — are taken here once. Nothing here knows where
// its options came from or how its result is shown. No @actions imports.
import path from 'node:path';
import { formatDuration } from '../core/duration.js';
import { InputError, UserFacingError, errorMessage } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import { MigrationBackup } from '../backup/take.js';
import { readBackup } from '../backup/restore.js';
import type { BackupSummary } from '../backup/store.js';
import { NoMigrationsError } from './detect.js';
import { runGate, type GateResult } from './gate.js';
import { planHash as hashOf } from './hash.js';
import { loadMigrations, type LoadedMigrations } from './pending.js';
import { noMigrationsPlan, type MigrationPlan } from './plan.js';
import {
  MigrationFailedError,
  applyMigrations,
  type AppliedFile,
  type ApplyResult,
  type PartialFile,
} from './runner/apply.js';
import { rehearseMigrations, type RehearsalResult } from './runner/rehearse.js';
import type { GateSpec, MigrateSpec, MigrationsTarget } from './spec.js';

/** How a use case talks while it runs. Messages are scrubbed of the spec's secrets before they get here. */
export interface MigrationsIo {
  log(message: string): void;
  warn(message: string): void;
  /** A named section (an action's log group; a heading line or nothing in a terminal). */
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
  signal?: AbortSignal;
  /**
   * Called once the rehearsal is decided, before production is touched: with its result, or undefined when there is
   * none (an action publishes its rehearsal output there, so even a killed step has it).
   */
  rehearsed?: (rehearsal: RehearsalResult | undefined) => void;
}

/** An app without migrations, as found: where detection looked (relative to the spec's base) and for what. */
export interface NoMigrations {
  /** "No migrations found in 'x' (looked for: …)". */
  found: string;
  /** True when no directory was found at all (then pointing at migrations-dir may help); false for an empty one. */
  searched: boolean;
  tool: NoMigrationsError['tool'];
  dir: string | undefined;
}

function noMigrations(err: NoMigrationsError, target: MigrationsTarget): NoMigrations {
  const where = path.relative(target.base, path.resolve(target.cwd, err.where)).split(path.sep).join('/') || '.';
  return {
    found: `No migrations found in '${where}' (looked for: ${err.lookedFor})`,
    searched: !err.dir,
    tool: err.tool,
    dir: err.dir,
  };
}

// ---------- plan (the gate) ----------

export type PlanRun =
  | { kind: 'plan'; plan: MigrationPlan; gate: GateResult }
  | { kind: 'no-migrations'; plan: MigrationPlan; none: NoMigrations };

/**
 * The migrate gate. An app without migrations is not an error: the database is as up to date as it can be, the plan
 * is no-pending (noMigrationsPlan) and no connection is opened; `reason` words that plan's one reason for the front
 * end (which switch skips the gate). Other failures are UserFacingErrors scrubbed of the URL.
 */
export async function planMigrations(
  spec: GateSpec,
  io: Pick<MigrationsIo, 'log'>,
  reason: (none: NoMigrations) => string,
): Promise<PlanRun> {
  io.log(
    `Target ${redactUrl(spec.databaseUrl)}; approval policy ${spec.approval}; large tables from ${spec.largeTableRows} rows`,
  );
  try {
    const gate = await runGate({ ...spec, log: (m) => io.log(spec.scrub(m)) });
    return { kind: 'plan', plan: gate.plan, gate };
  } catch (err) {
    if (err instanceof NoMigrationsError) {
      const none = noMigrations(err, spec);
      const plan = noMigrationsPlan({
        ...(err.tool ? { tool: err.tool } : {}),
        dir: err.dir ?? spec.cwd,
        reason: reason(none),
        policy: { approval: spec.approval, largeTableRows: spec.largeTableRows, tableStats: false },
      });
      return { kind: 'no-migrations', plan, none };
    }
    if (err instanceof InputError) throw err;
    throw new UserFacingError(spec.scrub(errorMessage(err)));
  }
}

// ---------- migrate ----------

export type MigrateRun =
  /** Nothing on disk: success with nothing applied, and no connection opened. */
  | { kind: 'no-migrations'; none: NoMigrations; planHash: string }
  /** The rehearsal failed: production was not touched. */
  | { kind: 'rehearsal-failed'; rehearsal: RehearsalResult }
  /** mode: rehearse — the rehearsal passed, production untouched. */
  | { kind: 'rehearsed'; rehearsal: RehearsalResult }
  | { kind: 'applied'; rehearsal?: RehearsalResult; result: ApplyResult; backup?: BackupSummary }
  | {
      kind: 'failed';
      rehearsal?: RehearsalResult;
      /** Files fully applied before the failure, and the file left partly applied (its committed groups). */
      applied: AppliedFile[];
      partial?: PartialFile;
      /** The failure, scrubbed. */
      message: string;
      error: unknown;
      /** The migration file (relative to the spec's cwd) and line the failure points at. */
      location?: { file: string; line?: number };
      /** What statement groups committed before the failure backed up with them. */
      backup?: BackupSummary;
    };

/**
 * Applies the pending migrations: files and tool validated before any connection; the rehearsal (when a rehearsal
 * database is given) before production, which is only touched if it passed; the backup of what destructive
 * statements destroy taken with them (src/backup/take.ts) and read back from the database's manifest afterwards — also
 * after a failure, since what committed is what the database says. Bad input (InputError) is thrown; every other
 * failure is a result.
 */
export async function runMigrate(
  spec: MigrateSpec,
  io: MigrationsIo,
  opts: { commandInput?: string; label?: string } = {},
): Promise<MigrateRun> {
  const log = (m: string) => io.log(spec.scrub(m));
  const warn = (m: string) => io.warn(spec.scrub(m));
  let loaded: LoadedMigrations;
  try {
    loaded = await loadMigrations({ dir: spec.dir, tool: spec.tool, cwd: spec.cwd });
  } catch (err) {
    if (!(err instanceof NoMigrationsError)) throw err;
    return whenNoMigrations(noMigrations(err, spec), spec);
  }
  const common = {
    databaseUrl: spec.databaseUrl,
    cwd: spec.cwd,
    lockTimeoutMs: spec.lockTimeoutMs,
    statementTimeoutMs: spec.statementTimeoutMs,
    lockWaitMs: spec.lockWaitMs,
    maxRetries: spec.maxRetries,
    loaded,
    ...(io.signal ? { signal: io.signal } : {}),
    ...(spec.planHash ? { planHash: spec.planHash } : {}),
    ...(spec.command ? { command: spec.command } : {}),
    commandInput: opts.commandInput ?? 'migrations-command',
    log,
    warn,
  };
  const retries = `${spec.maxRetries} retr${spec.maxRetries === 1 ? 'y' : 'ies'}`;
  io.log(
    `Target ${redactUrl(spec.databaseUrl)}; lock_timeout ${formatDuration(spec.lockTimeoutMs)}, statement_timeout ${spec.statementTimeoutMs ? formatDuration(spec.statementTimeoutMs) : 'off'}, up to ${retries} on lock timeouts`,
  );

  let rehearsal: RehearsalResult | undefined;
  if (spec.rehearsalDatabaseUrl) {
    const rehearsalDatabaseUrl = spec.rehearsalDatabaseUrl;
    rehearsal = await io.group('Rehearsal on a copy of the production schema', () =>
      rehearseMigrations({ ...common, rehearsalDatabaseUrl }),
    );
    io.rehearsed?.(rehearsal);
    if (!rehearsal.ok) return { kind: 'rehearsal-failed', rehearsal };
    log(
      `Rehearsal passed: ${rehearsal.result?.applied.length ?? 0} migration(s) applied cleanly to a copy of the production schema in ${formatDuration(rehearsal.ms)}`,
    );
    if (spec.mode === 'rehearse') return { kind: 'rehearsed', rehearsal };
  } else io.rehearsed?.(undefined);

  const backup =
    spec.backup.mode === 'auto'
      ? new MigrationBackup({ maxBytes: spec.backup.maxBytes, retentionMs: spec.backup.retentionMs, log, warn })
      : undefined;
  const withRehearsal = rehearsal ? { rehearsal } : {};
  try {
    const result = await applyMigrations({
      ...common,
      label: opts.label ?? 'production database',
      ...(backup ? { backup } : {}),
    });
    const taken = await readTaken(backup, spec, warn);
    return { kind: 'applied', ...withRehearsal, result, ...(taken ? { backup: taken } : {}) };
  } catch (err) {
    if (err instanceof InputError) throw err;
    const failed = err instanceof MigrationFailedError ? err : undefined;
    const taken = await readTaken(backup, spec, warn);
    return {
      kind: 'failed',
      ...withRehearsal,
      applied: failed?.applied ?? [],
      ...(failed?.partial ? { partial: failed.partial } : {}),
      message: spec.scrub(errorMessage(err)),
      error: err,
      ...(failed?.location ? { location: failed.location } : {}),
      ...(taken ? { backup: taken } : {}),
    };
  }
}

/**
 * An app without migrations. Two cases stay errors: an own migrator command (it may keep its migrations where
 * detection does not look — running nothing would hide that), and a plan-hash approved for a non-empty set (what was
 * approved is gone).
 */
function whenNoMigrations(none: NoMigrations, spec: MigrateSpec): MigrateRun {
  if (spec.command) {
    throw new InputError(
      'migrations-dir',
      `${none.found}, but migrations-command is set: point migrations-dir (and migrations-tool) at the migrations your command applies`,
    );
  }
  const emptyHash = hashOf([]);
  if (spec.planHash && spec.planHash !== emptyHash) {
    throw new UserFacingError(
      `Refusing to migrate: the approved plan-hash ${spec.planHash} names pending migrations, but none exist any more (${none.found})`,
    );
  }
  return { kind: 'no-migrations', none, planHash: emptyHash };
}

/** The backup as the database's manifest records it (undefined when none was planned, or it cannot be read: said). */
async function readTaken(
  backup: MigrationBackup | undefined,
  spec: MigrateSpec,
  warn: (m: string) => void,
): Promise<BackupSummary | undefined> {
  if (!backup || backup.plannedCount === 0) return undefined;
  try {
    return await readBackup(spec.databaseUrl, backup.id);
  } catch (err) {
    warn(`Could not read back backup ${backup.id}: ${errorMessage(err)}`);
    return undefined;
  }
}
