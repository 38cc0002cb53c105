// findPending: which migrations on disk the live database has not applied, in the tool's order, plus the process
// anomalies that must stop an unattended migration (drift, failed/dirty rows, out-of-order files, a running migrator).
import path from 'node:path';
import type { ClientBase } from 'pg';
import { InputError } from '../core/errors.js';
import { connectDatabase } from './db.js';
import { type DetectedTool, NoMigrationsError, detectTool, displayPath, hasMigrationLikeFiles } from './detect.js';
import { advisoryLockAnomalies } from './history/common.js';
import { type ToolAdapter, adapterFor } from './history/index.js';
import { RAIL_ACTIONS_LOCK_KEY } from './runner/lock.js';
import type { FindPendingOptions, MigrationFile, PendingReport } from './types.js';

export interface LoadedMigrations {
  detected: DetectedTool;
  adapter: ToolAdapter;
  files: MigrationFile[];
}

/**
 * Resolves the tool and reads the files — all input validation, no database access. A directory without any
 * migration-like file throws NoMigrationsError (nothing to migrate); one whose files do not fit the tool's layout
 * throws a plain InputError.
 */
export async function loadMigrations(opts: Omit<FindPendingOptions, 'databaseUrl'>): Promise<LoadedMigrations> {
  const cwd = opts.cwd ?? process.cwd();
  const detected = await detectTool({ cwd, dir: opts.dir, tool: opts.tool ?? 'auto' });
  const adapter = adapterFor(detected.tool);
  const files = await adapter.listFiles(detected.dir, cwd);
  if (files.length === 0) {
    const message = `${detected.dir} contains no ${detected.tool} migrations (${describeLayout(detected.tool)})`;
    if (!(await hasMigrationLikeFiles(detected.dir))) {
      throw new NoMigrationsError(message, {
        where: displayPath(path.resolve(cwd), detected.dir),
        lookedFor: describeLayout(detected.tool).replace(/^expected /, ''),
        tool: detected.tool,
        dir: detected.dir,
      });
    }
    throw new InputError('migrations-dir', message);
  }
  return { detected, adapter, files };
}

function describeLayout(tool: string): string {
  switch (tool) {
    case 'prisma':
      return 'expected <timestamp>_<name>/migration.sql folders';
    case 'drizzle':
      return 'expected meta/_journal.json entries with <tag>.sql files';
    case 'golang-migrate':
      return 'expected <version>_<name>.up.sql files';
    case 'dbmate':
      return "expected <version>_<name>.sql files with '-- migrate:up' sections";
    case 'knex':
      return 'expected .js/.ts migration modules';
    case 'node-pg-migrate':
      return 'expected .js/.ts modules or .sql files with -- Up Migration';
    default:
      return 'expected .sql files';
  }
}

/** The pending report for already-loaded migrations over an open connection (the runner calls it under its lock). */
export async function pendingWithClient(client: ClientBase, loaded: LoadedMigrations): Promise<PendingReport> {
  const { adapter, detected, files } = loaded;
  const history = await adapter.readHistory(client);
  const { pending, anomalies } = adapter.diff(files, history);
  anomalies.push(...(await adapter.lockAnomalies(client)));
  anomalies.push(...(await advisoryLockAnomalies(client, RAIL_ACTIONS_LOCK_KEY, 'rail-actions migrate')));
  return { tool: detected.tool, dir: detected.dir, files, applied: history.rows, pending, anomalies };
}

export async function findPending(opts: FindPendingOptions): Promise<PendingReport> {
  const loaded = await loadMigrations(opts);
  const client = await connectDatabase(opts.databaseUrl, { applicationName: 'rail-actions findPending' });
  try {
    return await pendingWithClient(client, loaded);
  } finally {
    await client.end().catch(() => undefined);
  }
}
