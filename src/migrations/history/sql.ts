// Plain SQL directories: every *.sql file (not *.down.sql) in the directory, in natural order of the file names
// (1_a.sql < 2_b.sql < 10_c.sql). rail-actions keeps the history itself in rail_actions.schema_migrations:
//   id            text PRIMARY KEY      -- the file name
//   checksum      char(64) NOT NULL     -- sha256 hex of the file's bytes (edits after apply are detected)
//   applied_at    timestamptz NOT NULL DEFAULT now()
//   execution_ms  integer NOT NULL
//   applied_by    text NOT NULL DEFAULT current_user
// A first line `-- rail-actions:no-transaction` runs every statement of the file on its own.
import path from 'node:path';
import type { AppliedRow, MigrationFile } from '../types.js';
import { type ToolAdapter, diffById, listDir, readMigrationFile, sqlFile, tableExists } from './common.js';

export const SQL_HISTORY_SCHEMA = 'rail_actions';
export const SQL_HISTORY_TABLE = 'schema_migrations';
const QUALIFIED = `"${SQL_HISTORY_SCHEMA}"."${SQL_HISTORY_TABLE}"`;
const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });

export const sqlAdapter: ToolAdapter = {
  tool: 'sql',
  defaultDirs: ['migrations', 'db/migrations', 'sql/migrations'],

  async listFiles(dir, cwd) {
    const names = (await listDir(dir))
      .filter((e) => e.isFile && e.name.endsWith('.sql') && !e.name.endsWith('.down.sql'))
      .map((e) => e.name)
      .sort((a, b) => natural.compare(a, b));
    const files: MigrationFile[] = [];
    for (const name of names) {
      const read = await readMigrationFile(path.join(dir, name), cwd);
      const noTransaction = /^\s*--\s*rail-actions:no-transaction\b/i.test(read.text);
      files.push(sqlFile(name, read, read.text, noTransaction ? { noTransaction: true } : {}));
    }
    return files;
  },

  async readHistory(client) {
    if (!(await tableExists(client, SQL_HISTORY_SCHEMA, SQL_HISTORY_TABLE))) return { exists: false, rows: [] };
    const r = await client.query<{ id: string; checksum: string; applied_at: Date }>(
      `SELECT id, checksum, applied_at FROM ${QUALIFIED} ORDER BY applied_at, id`,
    );
    const rows: AppliedRow[] = r.rows.map((row) => ({
      id: row.id,
      checksum: row.checksum.trim(),
      appliedAt: row.applied_at.toISOString(),
    }));
    return { exists: true, rows };
  },

  diff(files, history) {
    return diffById('rail-actions', files, history);
  },

  lockAnomalies() {
    return Promise.resolve([]); // our own advisory lock is checked for every tool in findPending
  },

  historyTable() {
    return Promise.resolve(QUALIFIED);
  },

  async historyTables(client) {
    return (await tableExists(client, SQL_HISTORY_SCHEMA, SQL_HISTORY_TABLE)) ? [QUALIFIED] : [];
  },

  async ensureHistoryTable(client) {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${SQL_HISTORY_SCHEMA}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${QUALIFIED} (
  id           text PRIMARY KEY,
  checksum     char(64) NOT NULL,
  applied_at   timestamptz NOT NULL DEFAULT now(),
  execution_ms integer NOT NULL,
  applied_by   text NOT NULL DEFAULT current_user
)`);
  },

  async record(client, file, ctx) {
    await client.query(`INSERT INTO ${QUALIFIED} (id, checksum, applied_at, execution_ms) VALUES ($1, $2, $3, $4)`, [
      file.id,
      file.checksum,
      ctx.finishedAt,
      Math.round(ctx.executionMs),
    ]);
  },
};
