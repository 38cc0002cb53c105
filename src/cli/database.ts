// Database flags shared by plan/migrate (same names as the migrate-gate/migrate actions' inputs).
import path from 'node:path';
import { InputError } from '../core/errors.js';
import { parseDatabaseUrl } from '../core/database-url.js';
import { scrubSecrets } from '../core/redact.js';
import { parseToolName } from '../migrations/detect.js';
import type { ToolName } from '../migrations/types.js';
import type { OptionSpec, Values } from './args.js';

export const DATABASE_OPTIONS: OptionSpec[] = [
  {
    name: 'database-url',
    type: 'string',
    value: 'URL',
    env: ['DATABASE_URL'],
    description: 'postgres:// URL of the target database (never printed). Prefer the env variable: flags show up in shell history.',
    required: true,
  },
  { name: 'dir', type: 'string', value: 'DIR', description: 'Migrations directory (default: detected from the project, e.g. prisma/migrations).' },
  { name: 'tool', type: 'string', value: 'NAME', default: 'auto', description: 'prisma, drizzle, knex, node-pg-migrate, golang-migrate, dbmate, sql or auto.' },
  { name: 'working-directory', type: 'string', value: 'DIR', default: '.', description: 'Project root the paths are relative to.' },
];

/** The cores name the action inputs; map them to this CLI's flags in error messages. */
export const DATABASE_INPUT_ALIASES: Record<string, string> = { 'migrations-dir': 'dir' };

export interface DatabaseTarget {
  databaseUrl: string;
  dir: string;
  tool: ToolName | 'auto';
  cwd: string;
  secrets: string[];
  scrub: (text: string) => string;
}

export function readDatabaseOptions(v: Values): DatabaseTarget {
  const raw = v.string('database-url')?.trim() ?? '';
  if (!raw) throw new InputError('database-url', 'is required: pass --database-url or set $DATABASE_URL');
  const { url, secrets } = parseDatabaseUrl(raw, 'database-url');
  return {
    databaseUrl: url,
    dir: v.string('dir')?.trim() ?? '',
    tool: parseToolName(v.string('tool') ?? 'auto', 'tool'),
    cwd: path.resolve(v.string('working-directory') ?? '.'),
    secrets,
    scrub: (t) => scrubSecrets(t, secrets),
  };
}
