// node-pg-migrate 9: files in ./migrations (JS/TS modules, or .sql with `-- Up Migration` / `-- Down Migration`
// markers); history pgmigrations(id serial, name varchar(255) = file name WITHOUT extension, run_on timestamp).
// It refuses to run when a not-run migration precedes an already-run one (checkOrder), and holds
// pg_advisory_lock(7241865325823964) while migrating (dist/legacy/runner.js, migration.js, sqlMigration.js).
import path from 'node:path';
import type { AppliedRow, MigrationFile } from '../types.js';
import { quoteIdent } from '../../core/sql.js';
import {
  type ToolAdapter,
  advisoryLockAnomalies,
  currentSchema,
  currentSchemaHistory,
  diffById,
  isCodeMigration,
  listDir,
  opaqueFile,
  readMigrationFile,
  sqlFile,
  tableExists,
} from './common.js';

export const NODE_PG_MIGRATE_LOCK_KEY = 7241865325823964n;
const TABLE = 'pgmigrations';

/** The `up` part of an SQL migration: between `-- Up Migration` and `-- Down Migration` (whole file if unmarked). */
export function nodePgMigrateUpSql(text: string): string {
  const up = /^\s*--\s*up migration/im.exec(text);
  const down = /^\s*--\s*down migration/im.exec(text);
  const start = up ? up.index + up[0].length : 0;
  const end = down && down.index >= start ? down.index : text.length;
  return text.slice(start, end);
}

export const nodePgMigrateAdapter: ToolAdapter = {
  tool: 'node-pg-migrate',
  defaultDirs: ['migrations'],

  async listFiles(dir, cwd) {
    const files: MigrationFile[] = [];
    for (const entry of await listDir(dir)) {
      if (!entry.isFile) continue;
      const ext = path.extname(entry.name);
      const id = path.basename(entry.name, ext);
      if (ext === '.sql') {
        const read = await readMigrationFile(path.join(dir, entry.name), cwd);
        files.push(sqlFile(id, read, nodePgMigrateUpSql(read.text)));
      } else if (isCodeMigration(entry.name)) {
        files.push(opaqueFile(id, await readMigrationFile(path.join(dir, entry.name), cwd)));
      }
    }
    return files;
  },

  async readHistory(client) {
    const schema = await currentSchema(client);
    if (!(await tableExists(client, schema, TABLE))) return { exists: false, rows: [] };
    const r = await client.query<{ name: string; run_on: Date | null }>(
      `SELECT name, run_on FROM ${quoteIdent(schema)}.${TABLE} ORDER BY run_on, id`,
    );
    const rows: AppliedRow[] = r.rows.map((row) => ({
      id: row.name,
      ...(row.run_on ? { appliedAt: row.run_on.toISOString() } : {}),
    }));
    return { exists: true, rows };
  },

  diff(files, history) {
    return diffById('node-pg-migrate', files, history);
  },

  lockAnomalies(client) {
    return advisoryLockAnomalies(client, NODE_PG_MIGRATE_LOCK_KEY, 'node-pg-migrate');
  },

  ...currentSchemaHistory(TABLE),

  async ensureHistoryTable(client) {
    const schema = await currentSchema(client);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoteIdent(schema)}."${TABLE}" ( id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL)`,
    );
  },

  async record(client, file) {
    const schema = await currentSchema(client);
    await client.query(`INSERT INTO ${quoteIdent(schema)}."${TABLE}" (name, run_on) VALUES ($1, NOW())`, [file.id]);
  },
};
