// Knex: JS/TS migration modules in ./migrations (FsMigrations, sorted by file name); history knex_migrations
// (id increments, name = file name WITH extension, batch, migration_time) and the lock row knex_migrations_lock
// (index, is_locked). knex 3 lib/migrations/migrate/table-creator.js. Code migrations are opaque to analysis.
import path from 'node:path';
import type { AppliedRow, MigrationFile } from '../types.js';
import { quoteIdent } from '../../core/sql.js';
import {
  type ToolAdapter,
  currentSchema,
  diffById,
  isCodeMigration,
  listDir,
  opaqueFile,
  readMigrationFile,
  tableExists,
} from './common.js';

const TABLE = 'knex_migrations';
const LOCK_TABLE = 'knex_migrations_lock';

export const knexAdapter: ToolAdapter = {
  tool: 'knex',
  defaultDirs: ['migrations', 'db/migrations', 'src/migrations', 'src/db/migrations'],

  async listFiles(dir, cwd) {
    const files: MigrationFile[] = [];
    for (const entry of await listDir(dir)) {
      if (!entry.isFile || !isCodeMigration(entry.name)) continue;
      files.push(opaqueFile(entry.name, await readMigrationFile(path.join(dir, entry.name), cwd)));
    }
    return files;
  },

  async readHistory(client) {
    const schema = await currentSchema(client);
    if (!(await tableExists(client, schema, TABLE))) return { exists: false, rows: [] };
    const r = await client.query<{ name: string; migration_time: Date | null }>(
      `SELECT name, migration_time FROM ${quoteIdent(schema)}.${TABLE} ORDER BY id`,
    );
    const rows: AppliedRow[] = r.rows.map((row) => ({
      id: row.name,
      ...(row.migration_time ? { appliedAt: row.migration_time.toISOString() } : {}),
    }));
    return { exists: true, rows };
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
