// golang-migrate: files {version}_{title}.up.sql / .down.sql (source/parse.go regex), history schema_migrations
// (version bigint PK, dirty boolean) holding ONE row = the current version. Before a migration it writes
// (version, dirty=true), after success (version, dirty=false); a dirty row needs `migrate force`. While migrating it
// holds pg_advisory_lock(GenerateAdvisoryLockId(db, schema, table)) (database/postgres/postgres.go, database/util.go).
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { ClientBase } from 'pg';
import { UserFacingError } from '../../core/errors.js';
import type { AppliedRow, MigrationFile } from '../types.js';
import { quoteIdent } from '../../core/sql.js';
import {
  type ToolAdapter,
  advisoryLockAnomalies,
  currentSchema,
  currentSchemaHistory,
  listDir,
  readMigrationFile,
  schemaMigrationsOf,
  sqlFile,
  SCHEMA_MIGRATIONS,
} from './common.js';

const TABLE = SCHEMA_MIGRATIONS;
const FILE_RE = /^([0-9]+)_(.*)\.(down|up)\.(.*)$/;
const ADVISORY_LOCK_ID_SALT = 1486364155;

/** database.GenerateAdvisoryLockId(databaseName, schema, table): crc32(schema\0table\0db) * salt, as uint32. */
export function golangMigrateLockKey(databaseName: string, schema: string, table = TABLE): bigint {
  const sum = crc32(Buffer.from([schema, table, databaseName].join('\x00'), 'utf8'));
  return BigInt.asUintN(32, BigInt(sum) * BigInt(ADVISORY_LOCK_ID_SALT));
}

async function currentVersion(client: ClientBase): Promise<{ exists: boolean; version?: bigint; dirty?: boolean }> {
  const schema = await schemaMigrationsOf(client, 'golang-migrate');
  if (schema === null) return { exists: false };
  const r = await client.query<{ version: string; dirty: boolean }>(
    `SELECT version::text AS version, dirty FROM ${quoteIdent(schema)}.${TABLE} LIMIT 1`,
  );
  const row = r.rows[0];
  return row ? { exists: true, version: BigInt(row.version), dirty: row.dirty } : { exists: true };
}

export const golangMigrateAdapter: ToolAdapter = {
  tool: 'golang-migrate',
  defaultDirs: ['migrations', 'db/migrations', 'database/migrations'],

  async listFiles(dir, cwd) {
    const files: Array<MigrationFile & { version: bigint }> = [];
    for (const entry of await listDir(dir)) {
      const m = FILE_RE.exec(entry.name);
      if (!entry.isFile || !m || m[3] !== 'up') continue;
      const version = BigInt(m[1] as string);
      const clash = files.find((f) => f.version === version);
      if (clash)
        throw new UserFacingError(
          `golang-migrate: duplicate migration version ${version} (${clash.relPath} and ${entry.name})`,
        );
      const read = await readMigrationFile(path.join(dir, entry.name), cwd);
      files.push({ ...sqlFile(version.toString(), read, read.text), version });
    }
    files.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
    return files.map(({ version: _version, ...f }) => f);
  },

  async readHistory(client) {
    const v = await currentVersion(client);
    if (!v.exists) return { exists: false, rows: [] };
    if (v.version === undefined || v.version < 0n) return { exists: true, rows: [] };
    // One row stands for "everything up to this version"; diff() expands it against the files.
    const row: AppliedRow = { id: v.version.toString(), ...(v.dirty ? { dirty: true } : {}) };
    return { exists: true, rows: [row] };
  },

  diff(files, history) {
    const row = history.rows[0];
    if (!row) return { pending: [...files], anomalies: [] };
    const current = BigInt(row.id);
    const anomalies = [];
    const currentFile = files.find((f) => f.id === row.id);
    if (row.dirty) {
      anomalies.push({
        kind: 'dirty' as const,
        ...(currentFile ? { file: currentFile.relPath } : {}),
        detail: `golang-migrate schema_migrations is dirty at version ${row.id}: that migration failed half-way; fix the schema and run \`migrate force\``,
      });
    }
    if (!currentFile) {
      anomalies.push({
        kind: 'missing-file' as const,
        detail: `golang-migrate schema_migrations is at version ${row.id} but no ${row.id}_*.up.sql exists`,
      });
    }
    // Dirty: the current version is not applied (golang-migrate retries it after `force`).
    const pending = files.filter((f) => BigInt(f.id) > current || (row.dirty && f.id === row.id));
    return { pending, anomalies };
  },

  async lockAnomalies(client) {
    const r = await client.query<{ db: string; schema: string | null }>(
      'SELECT current_database() AS db, current_schema() AS schema',
    );
    const { db, schema } = r.rows[0] ?? { db: '', schema: 'public' };
    return advisoryLockAnomalies(client, golangMigrateLockKey(db, schema ?? 'public'), 'golang-migrate');
  },

  ...currentSchemaHistory(TABLE),

  async ensureHistoryTable(client) {
    const schema = await currentSchema(client);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoteIdent(schema)}.${quoteIdent(TABLE)} (version bigint not null primary key, dirty boolean not null)`,
    );
  },

  async markStarted(client, file) {
    await setVersion(client, file.id, true);
  },

  async record(client, file) {
    await setVersion(client, file.id, false);
  },
};

async function setVersion(client: ClientBase, version: string, dirty: boolean): Promise<void> {
  const schema = await currentSchema(client);
  const table = `${quoteIdent(schema)}.${quoteIdent(TABLE)}`;
  await client.query(`TRUNCATE ${table}`);
  await client.query(`INSERT INTO ${table} (version, dirty) VALUES ($1, $2)`, [version, dirty]);
}
