// node-pg-migrate 9: files in ./migrations (JS/TS modules, or .sql with `-- Up Migration` / `-- Down Migration`
// markers); history pgmigrations(id serial, name varchar(255) = file name WITHOUT extension, run_on timestamp).
// It refuses to run when a not-run migration precedes an already-run one (checkOrder), and holds
// pg_advisory_lock(7241865325823964) while migrating (dist/legacy/runner.js, migration.js, sqlMigration.js).
import path from 'node:path';
import { quoteIdent } from '../../core/sql.js';
import {
  type ToolAdapter,
  advisoryLockAnomalies,
  currentSchema,
  currentSchemaHistory,
  diffById,
  isCodeMigration,
  opaqueFile,
  readAppliedRows,
  readDirMigrations,
  sqlFile,
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

  listFiles(dir, cwd) {
    return readDirMigrations(dir, cwd, (name) => {
      const ext = path.extname(name);
      const id = path.basename(name, ext);
      if (ext === '.sql') return (read) => sqlFile(id, read, nodePgMigrateUpSql(read.text));
      return isCodeMigration(name) ? (read) => opaqueFile(id, read) : undefined;
    });
  },

  readHistory(client) {
    return readAppliedRows(client, TABLE, { id: 'name', appliedAt: 'run_on', orderBy: 'run_on, id' });
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
