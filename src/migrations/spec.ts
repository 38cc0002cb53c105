// The typed specs of the migrations family (migrate-gate and migrate actions; `rail-actions plan` and `migrate`), read
// once from any InputSource — an action's inputs or the CLI's flags — so names, defaults, bounds and error wording
// cannot differ between the two front ends (the catalogue, src/options/catalogue.ts, holds names, defaults and help).
// Nothing here opens a connection; every URL is masked before it is parsed.
import { SELF_HOSTED_JOB_MAX_MS } from '../core/duration.js';
import { InputError } from '../core/errors.js';
import { scrubSecrets } from '../core/redact.js';
import { optionDefault } from '../options/catalogue.js';
import {
  readChoice,
  readDatabaseUrl,
  readDirectory,
  readDuration,
  readInteger,
  readString,
} from '../options/readers.js';
import type { InputSource } from '../options/source.js';
import { parseSize } from '../backup/store.js';
import { BACKUP_MODES, type BackupMode } from '../backup/take.js';
import { DEFAULT_LARGE_TABLE_ROWS } from './analyze.js';
import { parseToolName } from './detect.js';
import { APPROVAL_POLICIES, type ApprovalPolicy } from './plan.js';
import { LOCK_TIMEOUT_MAX_MS } from './runner/lock.js';
import type { ToolName } from './types.js';

/** The database and the migrations on disk: what the gate and the runner both start from. */
export interface MigrationsTarget {
  databaseUrl: string;
  /** The URL's secret parts (masked already): scrub them from anything built from an error. */
  secrets: string[];
  tool: ToolName | 'auto';
  /** As given ('' = detect), relative to cwd. */
  dir: string;
  /** working-directory, resolved; it exists. */
  cwd: string;
  /** What paths are shown relative to (the workspace in an action, the current directory in a terminal). */
  base: string;
  scrub: (text: string) => string;
}

export interface ReadOptions {
  /** What working-directory is relative to: GITHUB_WORKSPACE in an action, the current directory in a terminal. */
  base: string;
}

/** The database URL (required; masked with its secret parts before it is validated). */
export function readDatabaseTarget(src: InputSource): {
  databaseUrl: string;
  secrets: string[];
  scrub: (text: string) => string;
} {
  const { url, secrets } = readDatabaseUrl(src, 'database-url', { required: true })!;
  return { databaseUrl: url, secrets, scrub: (t) => scrubSecrets(t, secrets) };
}

function readFiles(src: InputSource): Pick<MigrationsTarget, 'tool' | 'dir'> {
  return {
    tool: parseToolName(
      readString(src, 'migrations-tool', { fallback: optionDefault('migrations-tool') }),
      'migrations-tool',
    ),
    dir: readString(src, 'migrations-dir').trim(),
  };
}

export interface GateSpec extends MigrationsTarget {
  approval: ApprovalPolicy;
  largeTableRows: number;
}

/** migrate-gate / `rail-actions plan`. */
export function readGateSpec(src: InputSource, opts: ReadOptions): GateSpec {
  const db = readDatabaseTarget(src);
  const files = readFiles(src);
  const approval = readChoice(src, 'approval', APPROVAL_POLICIES, 'risky');
  const largeTableRows = readInteger(src, 'large-table-rows', DEFAULT_LARGE_TABLE_ROWS, { min: 0 });
  const cwd = readDirectory(src, 'working-directory', optionDefault('working-directory'), opts.base);
  return { ...db, ...files, cwd, base: opts.base, approval, largeTableRows };
}

export interface MigrateSpec extends MigrationsTarget {
  /** apply, or rehearse only (the action's mode input; the CLI has no rehearsal and always applies). */
  mode: 'apply' | 'rehearse';
  rehearsalDatabaseUrl?: string;
  /** The project's own migrator, run under the lock instead of the runner. */
  command?: string;
  /** The approved plan-hash (64 hex, lower case): nothing else is applied. */
  planHash?: string;
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  lockWaitMs: number;
  maxRetries: number;
  backup: BackupSpec;
}

/**
 * migrate / `rail-actions migrate`, in the order the action always validated them (bad input → one InputError naming
 * the first bad option). Bounds: lock_timeout at most LOCK_TIMEOUT_MAX_MS (lock.ts: a longer one queues all traffic
 * behind a waiting DDL), statement-timeout and lock-wait at most the 5 days a self-hosted job may run.
 */
export function readMigrateSpec(src: InputSource, opts: ReadOptions): MigrateSpec {
  const db = readDatabaseTarget(src);
  // Options a front end does not declare read as not given (the CLI has no rehearsal).
  const rehearsal = readDatabaseUrl(src, 'rehearsal-database-url');
  const secrets = [...db.secrets, ...(rehearsal?.secrets ?? [])];
  const mode = readChoice(src, 'mode', ['apply', 'rehearse'] as const, 'apply');
  if (mode === 'rehearse' && !rehearsal) {
    throw new InputError(
      'rehearsal-database-url',
      'is required with mode: rehearse (an empty database on a server with the same extensions, e.g. the CI pgvector service)',
    );
  }
  const files = readFiles(src);
  const command = readString(src, 'migrations-command').trim() || undefined;
  const planHash = readString(src, 'plan-hash').trim().toLowerCase() || undefined;
  if (planHash && !/^[0-9a-f]{64}$/.test(planHash)) {
    throw new InputError(
      'plan-hash',
      `expected the 64-character hex plan-hash output of migrate-gate, got '${planHash}'`,
    );
  }
  const lockTimeoutMs = readDuration(src, 'lock-timeout', optionDefault('lock-timeout'), { max: LOCK_TIMEOUT_MAX_MS });
  const statementTimeoutMs = readDuration(src, 'statement-timeout', optionDefault('statement-timeout'), {
    allowZero: true,
    max: SELF_HOSTED_JOB_MAX_MS,
  });
  const lockWaitMs = readDuration(src, 'lock-wait', optionDefault('lock-wait'), {
    allowZero: true,
    max: SELF_HOSTED_JOB_MAX_MS,
  });
  const maxRetries = readInteger(src, 'max-retries', Number(optionDefault('max-retries')), { min: 0, max: 100 });
  const cwd = readDirectory(src, 'working-directory', optionDefault('working-directory'), opts.base);
  const backup = readBackupSpec(src);
  return {
    ...db,
    secrets,
    scrub: (t) => scrubSecrets(t, secrets),
    ...files,
    cwd,
    base: opts.base,
    mode,
    ...(rehearsal ? { rehearsalDatabaseUrl: rehearsal.url } : {}),
    ...(command ? { command } : {}),
    ...(planHash ? { planHash } : {}),
    lockTimeoutMs,
    statementTimeoutMs,
    lockWaitMs,
    maxRetries,
    backup,
  };
}

export interface BackupSpec {
  mode: BackupMode;
  /** 0 = no limit. */
  maxBytes: number;
  retentionMs: number;
}

/**
 * The longest backup-retention: a year. It is compared with timestamps, never given to a timer, so Node's 2^31 ms timer
 * limit does not apply; the bound catches typos (`7000d`), and data dropped longer ago belongs in a real database backup.
 */
export const BACKUP_RETENTION_MAX_MS = 365 * 86_400_000;

/** backup, backup-max-size, backup-retention. */
export function readBackupSpec(src: InputSource): BackupSpec {
  return {
    mode: readChoice(src, 'backup', BACKUP_MODES, 'auto'),
    maxBytes: parseSize(
      readString(src, 'backup-max-size', { fallback: optionDefault('backup-max-size') }),
      'backup-max-size',
    ),
    retentionMs: readDuration(src, 'backup-retention', optionDefault('backup-retention'), {
      min: 60_000,
      max: BACKUP_RETENTION_MAX_MS,
      timer: false,
    }),
  };
}
