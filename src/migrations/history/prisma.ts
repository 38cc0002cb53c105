// Prisma Migrate: prisma/migrations/<timestamp>_<name>/migration.sql, history in _prisma_migrations (prisma-engines
// sql-schema-connector postgres flavour): checksum = lowercase hex sha256 of migration.sql; a row counts as applied
// when finished_at IS NOT NULL AND rolled_back_at IS NULL; finished_at NULL + rolled_back_at NULL = failed (P3009).
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { ClientBase } from 'pg';
import type { AppliedRow } from '../types.js';
import { quoteIdent } from '../../core/sql.js';
import {
  type ToolAdapter,
  advisoryLockAnomalies,
  currentSchema,
  currentSchemaHistory,
  diffById,
  isFile,
  listDir,
  readMigrationFile,
  sqlFile,
  tableExists,
} from './common.js';

/** prisma-engines: `pg_advisory_lock(72707369)` around migrate deploy/dev. */
export const PRISMA_ADVISORY_LOCK_KEY = 72707369n;
const TABLE = '_prisma_migrations';

export const prismaAdapter: ToolAdapter = {
  tool: 'prisma',
  defaultDirs: ['prisma/migrations'],

  async listFiles(dir, cwd) {
    const files = [];
    for (const entry of await listDir(dir)) {
      if (!entry.isDir) continue;
      const abs = path.join(dir, entry.name, 'migration.sql');
      if (!(await isFile(abs))) continue; // Prisma ignores folders without migration.sql
      const read = await readMigrationFile(abs, cwd);
      files.push(sqlFile(entry.name, read, read.text));
    }
    return files;
  },

  async readHistory(client) {
    const schema = await currentSchema(client);
    if (!(await tableExists(client, schema, TABLE))) return { exists: false, rows: [] };
    const r = await client.query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      logs: string | null;
    }>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM ${quoteIdent(schema)}.${TABLE} ORDER BY started_at, migration_name`,
    );
    // Several rows per migration are normal (a failed attempt marked rolled back, then a successful one). Like
    // Prisma (P3009), any unfinished row that was not marked rolled back blocks, even next to a successful one.
    const rows: AppliedRow[] = [];
    for (const row of r.rows) {
      if (row.rolled_back_at) continue; // rolled back: neither applied nor blocking
      rows.push(
        row.finished_at
          ? { id: row.migration_name, checksum: row.checksum, appliedAt: row.finished_at.toISOString() }
          : {
              id: row.migration_name,
              checksum: row.checksum,
              failed: true,
              detail: row.logs ?? 'started but never finished',
            },
      );
    }
    return { exists: true, rows };
  },

  diff(files, history) {
    return diffById('Prisma', files, history);
  },

  lockAnomalies(client) {
    return advisoryLockAnomalies(client, PRISMA_ADVISORY_LOCK_KEY, 'Prisma');
  },

  ...currentSchemaHistory(TABLE),

  async ensureHistoryTable(client) {
    // The DDL prisma-engines runs for PostgreSQL (unqualified: it lands in the connection's current schema).
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`);
  },

  async record(client: ClientBase, file, ctx) {
    // What `prisma migrate deploy` leaves behind for a successful migration: one script = one applied step.
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
       VALUES ($1, $2, $3, $4, NULL, NULL, $5, 1)`,
      [randomUUID(), file.checksum, ctx.finishedAt, file.id, ctx.startedAt],
    );
  },
};
