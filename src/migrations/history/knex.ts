// Knex: JS/TS migration modules in ./migrations (FsMigrations, sorted by file name); history knex_migrations
// (id increments, name = file name WITH extension, batch, migration_time) and the lock row knex_migrations_lock
// (index, is_locked). knex 3 lib/migrations/migrate/table-creator.js. Code migrations are opaque to analysis.
import { quoteIdent } from '../../core/sql.js';
import {
  type ToolAdapter,
  currentSchema,
  diffById,
  isCodeMigration,
  opaqueFile,
  readAppliedRows,
  readDirMigrations,
  tableExists,
} from './common.js';

const TABLE = 'knex_migrations';
const LOCK_TABLE = 'knex_migrations_lock';

export const knexAdapter: ToolAdapter = {
  tool: 'knex',
  defaultDirs: ['migrations', 'db/migrations', 'src/migrations', 'src/db/migrations'],

  listFiles(dir, cwd) {
    // The id is the file name with its extension, as knex records it.
    return readDirMigrations(dir, cwd, (name) =>
      isCodeMigration(name) ? (read) => opaqueFile(name, read) : undefined,
    );
  },

  readHistory(client) {
    return readAppliedRows(client, TABLE, { id: 'name', appliedAt: 'migration_time', orderBy: 'id' });
  },

  diff(files, history) {
    return diffById('Knex', files, history);
  },

  async lockAnomalies(client) {
    const schema = await currentSchema(client);
    if (!(await tableExists(client, schema, LOCK_TABLE))) return [];
    const r = await client.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${quoteIdent(schema)}.${LOCK_TABLE} WHERE is_locked = 1`,
    );
    if (Number(r.rows[0]?.n ?? 0) === 0) return [];
    return [
      {
        kind: 'locked',
        detail: `knex_migrations_lock.is_locked = 1: a knex migration is running, or one crashed and left the lock (knex migrate:unlock clears it)`,
      },
    ];
  },

  async historyTable(client) {
    return `${quoteIdent(await currentSchema(client))}.${TABLE}`;
  },

  async historyTables(client) {
    const schema = await currentSchema(client);
    const out: string[] = [];
    for (const t of [TABLE, LOCK_TABLE])
      if (await tableExists(client, schema, t)) out.push(`${quoteIdent(schema)}.${t}`);
    return out;
  },

  async ensureHistoryTable(client) {
    await client.query(
      `create table if not exists "${TABLE}" ("id" serial primary key, "name" varchar(255), "batch" integer, "migration_time" timestamptz)`,
    );
    await client.query(`create table if not exists "${LOCK_TABLE}" ("index" serial primary key, "is_locked" integer)`);
    await client.query(
      `insert into "${LOCK_TABLE}" ("is_locked") select 0 where not exists (select 1 from "${LOCK_TABLE}")`,
    );
  },

  async record(client, file, ctx) {
    const batch = ctx.batch ?? 1;
    await client.query(`insert into "${TABLE}" ("batch", "migration_time", "name") values ($1, $2, $3)`, [
      batch,
      ctx.finishedAt,
      file.id,
    ]);
  },
};
