import type { ToolName } from '../types.js';
import type { ToolAdapter } from './common.js';
import { dbmateAdapter } from './dbmate.js';
import { drizzleAdapter } from './drizzle.js';
import { golangMigrateAdapter } from './golang-migrate.js';
import { knexAdapter } from './knex.js';
import { nodePgMigrateAdapter } from './node-pg-migrate.js';
import { prismaAdapter } from './prisma.js';
import { sqlAdapter } from './sql.js';

export type { ToolAdapter, HistoryState, DiffResult, RecordContext } from './common.js';

export const ADAPTERS: Record<ToolName, ToolAdapter> = {
  prisma: prismaAdapter,
  drizzle: drizzleAdapter,
  knex: knexAdapter,
  'node-pg-migrate': nodePgMigrateAdapter,
  'golang-migrate': golangMigrateAdapter,
  dbmate: dbmateAdapter,
  sql: sqlAdapter,
};

export function adapterFor(tool: ToolName): ToolAdapter {
  return ADAPTERS[tool];
}
