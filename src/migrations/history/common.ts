// Shared pieces of the per-tool history adapters: the adapter shape, file listing, the id-based diff and lock probes.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ClientBase } from 'pg';
import { UserFacingError } from '../../core/errors.js';
import { quoteIdent } from '../../core/sql.js';
import { sha256Hex } from '../hash.js';
import type { Anomaly, AppliedRow, MigrationFile, ToolName } from '../types.js';

export interface HistoryState {
  /** Whether the tool's history table exists yet (a fresh database has none: everything is pending). */
  exists: boolean;
  rows: AppliedRow[];
}

export interface DiffResult {
  pending: MigrationFile[];
  anomalies: Anomaly[];
}

export interface RecordContext {
  startedAt: Date;
  finishedAt: Date;
  executionMs: number;
  /** Knex groups one run's files in one batch number. */
  batch?: number;
}

export interface ToolAdapter {
  tool: ToolName;
  /** Where the tool keeps migrations by default, relative to the repository root, most likely first. */
  defaultDirs: readonly string[];
  /** Migration files in the tool's own apply order. `dir` exists (checked by the caller). */
  listFiles(dir: string, cwd: string): Promise<MigrationFile[]>;
  readHistory(client: ClientBase): Promise<HistoryState>;
  diff(files: MigrationFile[], history: HistoryState): DiffResult;
  /** Another process running this tool's migrator right now (advisory lock held, lock row set). */
  lockAnomalies(client: ClientBase): Promise<Anomaly[]>;
  /**
   * The qualified table `record` writes to on this connection (whether it exists yet or not): which history a file
   * belongs to, so rail-actions' progress rows of one history (say, Prisma in schema `app`) never count for another.
   */
  historyTable(client: ClientBase): Promise<string>;
  /** Qualified history tables that exist, for copying their rows into a rehearsal database. */
  historyTables(client: ClientBase): Promise<string[]>;
  /** Creates the history table exactly as the tool would when it does not exist. */
  ensureHistoryTable(client: ClientBase): Promise<void>;
  /** Writes the "applied" record; runs inside the file's transaction when the file is fully transactional. */
  record(client: ClientBase, file: MigrationFile, ctx: RecordContext): Promise<void>;
  /** Optional: mark a file as in progress before a non-transactional run (golang-migrate's dirty flag). */
  markStarted?(client: ClientBase, file: MigrationFile): Promise<void>;
}

export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

export async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** Code-unit order, as the tools sort (Prisma, Knex, dbmate sort names as plain strings). */
export function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export async function listDir(dir: string): Promise<Array<{ name: string; isDir: boolean; isFile: boolean }>> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .map((e) => ({ name: e.name, isDir: e.isDirectory(), isFile: e.isFile() }))
    .sort((a, b) => byName(a.name, b.name));
}

export const CODE_EXTENSIONS = [
  '.js',
  '.cjs',
  '.mjs',
  '.ts',
  '.cts',
  '.mts',
  '.coffee',
  '.ls',
  '.litcoffee',
  '.iced',
  '.eg',
  '.co',
];

export function isCodeMigration(name: string): boolean {
  return !name.endsWith('.d.ts') && CODE_EXTENSIONS.includes(path.extname(name));
}

export interface FileRead {
  abs: string;
  relPath: string;
  bytes: Buffer;
  text: string;
  checksum: string;
}

export async function readMigrationFile(abs: string, cwd: string): Promise<FileRead> {
  const bytes = await readFile(abs);
  return {
    abs,
    relPath: path.relative(cwd, abs).split(path.sep).join('/'),
    bytes,
    text: bytes.toString('utf8'),
    checksum: sha256Hex(bytes),
  };
}

/**
 * The migrations among the files directly in `dir`, in name order (listDir): `pick` sees a file name and returns how
 * to make the migration from the file once read, or undefined for a file that is not one (it is not read).
 */
export async function readDirMigrations(
  dir: string,
  cwd: string,
  pick: (name: string) => ((read: FileRead) => MigrationFile) | undefined,
): Promise<MigrationFile[]> {
  const files: MigrationFile[] = [];
  for (const entry of await listDir(dir)) {
    const make = entry.isFile ? pick(entry.name) : undefined;
    if (make) files.push(make(await readMigrationFile(path.join(dir, entry.name), cwd)));
  }
  return files;
}

/** The checksums a file's content matches, accepting LF↔CRLF conversion by git (Prisma does the same). */
export function checksumVariants(text: string): Set<string> {
  const lf = text.replace(/\r\n/g, '\n');
  return new Set([sha256Hex(text), sha256Hex(lf), sha256Hex(lf.replace(/\n/g, '\r\n'))]);
}

/** The schema unqualified names resolve to for this connection (where Prisma/knex/… create their tables). */
export async function currentSchema(client: ClientBase): Promise<string> {
  const r = await client.query<{ s: string | null }>('SELECT current_schema() AS s');
  return r.rows[0]?.s ?? 'public';
}

export async function tableExists(client: ClientBase, schema: string, table: string): Promise<boolean> {
  const r = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [
    `${quoteIdent(schema)}.${quoteIdent(table)}`,
  ]);
  return r.rows[0]?.t != null;
}

/**
 * A history table in the current schema with one row per applied migration: `id` names it, `appliedAt` (a timestamp
 * column, may be null) says when. No table yet: nothing applied.
 */
export async function readAppliedRows(
  client: ClientBase,
  table: string,
  columns: { id: string; appliedAt: string; orderBy: string },
): Promise<HistoryState> {
  const schema = await currentSchema(client);
  if (!(await tableExists(client, schema, table))) return { exists: false, rows: [] };
  const { id, appliedAt, orderBy } = columns;
  const r = await client.query<Record<string, string | Date | null>>(
    `SELECT ${id}, ${appliedAt} FROM ${quoteIdent(schema)}.${table} ORDER BY ${orderBy}`,
  );
  const rows: AppliedRow[] = r.rows.map((row) => {
    const at = row[appliedAt];
    return { id: String(row[id]), ...(at instanceof Date ? { appliedAt: at.toISOString() } : {}) };
  });
  return { exists: true, rows };
}

/** dbmate and golang-migrate both keep their history in schema_migrations; only golang-migrate's has a `dirty` column. */
export const SCHEMA_MIGRATIONS = 'schema_migrations';

/**
 * The current schema when it holds `tool`'s schema_migrations, null when there is none. The other tool's table of
 * that name is refused, naming the tool it belongs to.
 */
export async function schemaMigrationsOf(
  client: ClientBase,
  tool: 'dbmate' | 'golang-migrate',
): Promise<string | null> {
  const schema = await currentSchema(client);
  if (!(await tableExists(client, schema, SCHEMA_MIGRATIONS))) return null;
  const r = await client.query<{ c: string }>(
    `SELECT column_name AS c FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = 'dirty'`,
    [schema, SCHEMA_MIGRATIONS],
  );
  const golangMigrates = r.rows.length > 0;
  if (tool === 'dbmate' && golangMigrates)
    throw new UserFacingError(
      `${schema}.${SCHEMA_MIGRATIONS} has a "dirty" column: it is golang-migrate's history table, not dbmate's (set tool: golang-migrate)`,
    );
  if (tool === 'golang-migrate' && !golangMigrates)
    throw new UserFacingError(
      `${schema}.${SCHEMA_MIGRATIONS} has no "dirty" column: it is not golang-migrate's history table (dbmate uses the same name; set tool: dbmate)`,
    );
  return schema;
}

/** historyTable/historyTables of a tool with one history table, created unqualified in the connection's current schema. */
export function currentSchemaHistory(table: string): Pick<ToolAdapter, 'historyTable' | 'historyTables'> {
  return {
    async historyTable(client) {
      return `${quoteIdent(await currentSchema(client))}.${table}`;
    },
    async historyTables(client) {
      const schema = await currentSchema(client);
      return (await tableExists(client, schema, table)) ? [`${quoteIdent(schema)}.${table}`] : [];
    },
  };
}

/**
 * Sessions other than ours holding a session/transaction advisory lock taken with one bigint key — how Prisma,
 * node-pg-migrate, golang-migrate and rail-actions itself mark "a migration is running".
 */
export async function advisoryLockHolders(
  client: ClientBase,
  key: bigint,
): Promise<Array<{ pid: number; app: string; since: string }>> {
  const r = await client.query<{ pid: number; app: string | null; since: Date | null }>(
    `SELECT l.pid, a.application_name AS app, a.backend_start AS since
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint
        AND l.pid <> pg_backend_pid()`,
    [key.toString()],
  );
  return r.rows.map((row) => ({ pid: row.pid, app: row.app ?? '', since: row.since ? row.since.toISOString() : '' }));
}

export async function advisoryLockAnomalies(client: ClientBase, key: bigint, who: string): Promise<Anomaly[]> {
  const holders = await advisoryLockHolders(client, key);
  return holders.map((h) => ({
    kind: 'locked' as const,
    detail: `${who} migration lock (pg advisory lock ${key}) is held by backend pid ${h.pid}${h.app ? ` (${h.app})` : ''}${h.since ? ` connected since ${h.since}` : ''}: another migration is running`,
  }));
}

/**
 * The usual diff: history rows keyed by the file id. Pending = files with no successful row, in file order.
 * Anomalies: failed/dirty rows, rows without a file, applied files whose checksum changed, pending files that sort
 * before the newest applied file.
 */
export function diffById(tool: string, files: MigrationFile[], history: HistoryState): DiffResult {
  const anomalies: Anomaly[] = [];
  const byId = new Map(files.map((f) => [f.id, f]));
  const applied = new Set<string>();
  const failed = new Set<string>();
  for (const row of history.rows) {
    const file = byId.get(row.id);
    if (row.failed) {
      failed.add(row.id);
      anomalies.push({
        kind: 'failed',
        ...(file ? { file: file.relPath } : {}),
        detail: `${tool} history records migration ${row.id} as failed/unfinished${row.detail ? `: ${firstLine(row.detail)}` : ''}; resolve it before migrating`,
      });
      continue;
    }
    if (row.dirty) {
      anomalies.push({
        kind: 'dirty',
        ...(file ? { file: file.relPath } : {}),
        detail: `${tool} history marks ${row.id} dirty (half-applied)`,
      });
      continue;
    }
    applied.add(row.id);
    if (!file) {
      anomalies.push({
        kind: 'missing-file',
        detail: `${tool} history lists ${row.id} as applied but no such migration exists in the directory`,
      });
      continue;
    }
    if (row.checksum && file.sql !== undefined && !checksumVariants(file.sql).has(row.checksum.toLowerCase())) {
      anomalies.push({
        kind: 'checksum-drift',
        file: file.relPath,
        detail: `${file.relPath} was edited after it was applied (recorded checksum ${row.checksum.slice(0, 12)}…, file now ${file.checksum.slice(0, 12)}…)`,
      });
    }
  }
  const pending = files.filter((f) => !applied.has(f.id));
  let newestApplied = -1;
  files.forEach((f, i) => {
    if (applied.has(f.id)) newestApplied = i;
  });
  for (const f of pending) {
    if (files.indexOf(f) < newestApplied && !failed.has(f.id)) {
      anomalies.push({
        kind: 'out-of-order',
        file: f.relPath,
        detail: `${f.relPath} is pending but sorts before ${files[newestApplied]?.id ?? ''}, which is already applied`,
      });
    }
  }
  return { pending, anomalies };
}

/** The gist of a tool's log text (Prisma `logs` holds the database error over several lines). */
function firstLine(text: string): string {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 3)
    .join(' / ');
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

export function sqlFile(id: string, read: FileRead, sql: string, extra: Partial<MigrationFile> = {}): MigrationFile {
  return { id, path: read.abs, relPath: read.relPath, sql, checksum: read.checksum, kind: 'sql', ...extra };
}

export function opaqueFile(id: string, read: FileRead): MigrationFile {
  return { id, path: read.abs, relPath: read.relPath, checksum: read.checksum, kind: 'opaque' };
}
