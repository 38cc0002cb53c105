// dbmate: db/migrations/<digits>_<name>.sql with `-- migrate:up [transaction:false]` / `-- migrate:down` sections;
// history schema_migrations(version varchar primary key; varchar(128) in older releases), one row per applied file, version = the leading
// digits of the file name (pkg/dbmate/migration.go, pkg/driver/postgres/postgres.go). No migration lock.
import { UserFacingError } from '../../core/errors.js';
import type { AppliedRow } from '../types.js';
import { quoteIdent } from '../../core/sql.js';
import {
  type ToolAdapter,
  currentSchema,
  currentSchemaHistory,
  diffById,
  readDirMigrations,
  schemaMigrationsOf,
  sqlFile,
  SCHEMA_MIGRATIONS,
} from './common.js';

const TABLE = SCHEMA_MIGRATIONS;
const FILE_RE = /^(\d+).*\.sql$/;

/** The up section of a dbmate file and its options (`transaction:false`). */
export function parseDbmateFile(text: string, file: string): { up: string; transaction: boolean } {
  const upMarker = /^--\s*migrate:up\b(.*)$/m.exec(text);
  if (!upMarker) throw new UserFacingError(`${file}: dbmate requires a '-- migrate:up' section`);
  const start = upMarker.index + upMarker[0].length;
  const downMarker = /^--\s*migrate:down\b.*$/m.exec(text.slice(start));
  const up = downMarker ? text.slice(start, start + downMarker.index) : text.slice(start);
  const options = upMarker[1] ?? '';
  return { up, transaction: !/\btransaction:\s*false\b/.test(options) };
}

export const dbmateAdapter: ToolAdapter = {
  tool: 'dbmate',
  defaultDirs: ['db/migrations'],

  listFiles(dir, cwd) {
    return readDirMigrations(dir, cwd, (name) => {
      const id = FILE_RE.exec(name)?.[1];
      if (id === undefined) return undefined;
      return (read) => {
        const { up, transaction } = parseDbmateFile(read.text, read.relPath);
        return sqlFile(id, read, up, transaction ? {} : { noTransaction: true });
      };
    });
  },

  async readHistory(client) {
    const schema = await schemaMigrationsOf(client, 'dbmate');
    if (schema === null) return { exists: false, rows: [] };
    const r = await client.query<{ version: string }>(
      `SELECT version FROM ${quoteIdent(schema)}.${TABLE} ORDER BY version`,
    );
    const rows: AppliedRow[] = r.rows.map((row) => ({ id: row.version }));
    return { exists: true, rows };
  },

  diff(files, history) {
    return diffById('dbmate', files, history);
  },

  lockAnomalies() {
    return Promise.resolve([]);
  },

  ...currentSchemaHistory(TABLE),

  async ensureHistoryTable(client) {
    const schema = await currentSchema(client);
    // What dbmate 2.36 creates (compared in the interop test): varchar without a length; older releases used varchar(128).
    await client.query(
      `create table if not exists ${quoteIdent(schema)}.${quoteIdent(TABLE)} (version varchar primary key)`,
    );
  },

  async record(client, file) {
    const schema = await currentSchema(client);
    await client.query(`insert into ${quoteIdent(schema)}.${quoteIdent(TABLE)} (version) values ($1)`, [file.id]);
  },
};
