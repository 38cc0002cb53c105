// Which migration tool a repository uses and where its migrations live: from the folder layout first (it is what
// the tools themselves read), then package.json dependencies and config files to break ties.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../core/errors.js';
import { ADAPTERS } from './history/index.js';
import { isCodeMigration, isDirectory, isFile } from './history/common.js';
import { TOOL_NAMES, type ToolName } from './types.js';

export interface DetectedTool {
  tool: ToolName;
  /** Absolute path of the migrations directory. */
  dir: string;
  /** One line for logs: why this tool/dir was chosen. */
  reason: string;
}

export function parseToolName(value: string | undefined, input = 'tool'): ToolName | 'auto' {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if ((TOOL_NAMES as readonly string[]).includes(v)) return v as ToolName;
  throw new InputError(input, `expected one of auto, ${TOOL_NAMES.join(', ')}; got '${value?.trim() ?? ''}'`);
}

async function packageDeps(cwd: string): Promise<Set<string>> {
  try {
    const pkg = JSON.parse(await readFile(path.join(cwd, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    return new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]);
  } catch {
    return new Set();
  }
}

/** drizzle.config.{ts,js,mjs,cjs,json}: its `out` folder, where drizzle-kit writes migrations. */
async function drizzleOutDir(cwd: string): Promise<string | undefined> {
  for (const name of ['drizzle.config.ts', 'drizzle.config.js', 'drizzle.config.mjs', 'drizzle.config.cjs', 'drizzle.config.json']) {
    try {
      const text = await readFile(path.join(cwd, name), 'utf8');
      const m = /["']?\bout["']?\s*:\s*["'`]([^"'`]+)["'`]/.exec(text);
      return m ? m[1] : 'drizzle';
    } catch {
      // next candidate
    }
  }
  return undefined;
}

async function readHead(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).slice(0, 4096);
  } catch {
    return '';
  }
}

/** The tool whose layout a directory has, or undefined when it holds nothing migration-like. */
export async function toolFromDirectory(dir: string, cwd: string): Promise<{ tool: ToolName; reason: string } | undefined> {
  if (await isFile(path.join(dir, 'meta', '_journal.json'))) return { tool: 'drizzle', reason: 'meta/_journal.json (drizzle-kit journal)' };
  const entries = await readdir(dir, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && e.name === 'migration_lock.toml')) return { tool: 'prisma', reason: 'migration_lock.toml (Prisma Migrate)' };
  for (const e of entries) {
    if (e.isDirectory() && (await isFile(path.join(dir, e.name, 'migration.sql')))) {
      return { tool: 'prisma', reason: `${e.name}/migration.sql folders (Prisma Migrate layout)` };
    }
  }
  const files = entries.filter((e) => e.isFile()).map((e) => e.name);
  if (files.some((f) => /^[0-9]+_.*\.up\.sql$/.test(f))) return { tool: 'golang-migrate', reason: '<version>_<name>.up.sql files (golang-migrate)' };
  const sqlFiles = files.filter((f) => f.endsWith('.sql'));
  for (const f of sqlFiles) {
    const head = await readHead(path.join(dir, f));
    if (/^--\s*migrate:up\b/m.test(head)) return { tool: 'dbmate', reason: `'-- migrate:up' sections (dbmate) in ${f}` };
    if (/^\s*--\s*up migration\b/im.test(head)) return { tool: 'node-pg-migrate', reason: `'-- Up Migration' marker (node-pg-migrate) in ${f}` };
  }
  const codeFiles = files.filter(isCodeMigration);
  if (codeFiles.length) {
    const deps = await packageDeps(cwd);
    if (deps.has('node-pg-migrate') && !deps.has('knex')) return { tool: 'node-pg-migrate', reason: 'JS/TS migrations and node-pg-migrate in package.json' };
    if (deps.has('knex') && !deps.has('node-pg-migrate')) return { tool: 'knex', reason: 'JS/TS migrations and knex in package.json' };
    for (const knexfile of ['knexfile.js', 'knexfile.ts', 'knexfile.cjs', 'knexfile.mjs']) {
      if (await isFile(path.join(cwd, knexfile))) return { tool: 'knex', reason: `JS/TS migrations and ${knexfile}` };
    }
    const head = await readHead(path.join(dir, codeFiles[0] as string));
    if (/\bpgm\b/.test(head)) return { tool: 'node-pg-migrate', reason: `JS/TS migrations using the pgm builder (${codeFiles[0]})` };
    if (/\bknex\b/.test(head)) return { tool: 'knex', reason: `JS/TS migrations using knex (${codeFiles[0]})` };
    return undefined;
  }
  if (sqlFiles.length) return { tool: 'sql', reason: 'plain .sql files (rail-actions history table)' };
  return undefined;
}

const AUTO_DIRS = ['prisma/migrations', 'drizzle', 'db/migrations', 'migrations', 'database/migrations', 'sql/migrations', 'src/db/migrations', 'src/migrations'];

/**
 * Resolves tool + directory. `dir` (relative to cwd) wins when given; `tool` 'auto' inspects the layout.
 * Throws InputError naming `migrations-dir` / `tool` when nothing usable is found — before any database access.
 */
export async function detectTool(opts: { cwd: string; dir?: string; tool?: ToolName | 'auto' }): Promise<DetectedTool> {
  const tool = opts.tool ?? 'auto';
  if (tool !== 'auto' && !(TOOL_NAMES as readonly string[]).includes(tool)) parseToolName(tool);
  const cwd = path.resolve(opts.cwd);
  if (opts.dir && opts.dir.trim()) {
    const dir = path.resolve(cwd, opts.dir.trim());
    if (!(await isDirectory(dir))) throw new InputError('migrations-dir', `directory '${opts.dir.trim()}' does not exist (resolved to ${dir})`);
    if (tool !== 'auto') return { tool, dir, reason: `tool: ${tool}` };
    const found = await toolFromDirectory(dir, cwd);
    if (!found) {
      throw new InputError(
        'migrations-dir',
        `'${opts.dir.trim()}' contains no migrations rail-actions recognises (Prisma folders, a drizzle journal, *.up.sql, dbmate or node-pg-migrate markers, knex/node-pg-migrate modules, or .sql files)`,
      );
    }
    return { tool: found.tool, dir, reason: found.reason };
  }
  const drizzleOut = await drizzleOutDir(cwd);
  const candidates =
    tool === 'auto'
      ? [...(drizzleOut ? [drizzleOut] : []), ...AUTO_DIRS]
      : [...(tool === 'drizzle' && drizzleOut ? [drizzleOut] : []), ...ADAPTERS[tool].defaultDirs];
  for (const rel of candidates) {
    const dir = path.resolve(cwd, rel);
    if (!(await isDirectory(dir))) continue;
    if (tool !== 'auto') return { tool, dir, reason: `tool: ${tool}, default directory ${rel}` };
    const found = await toolFromDirectory(dir, cwd);
    if (found) return { tool: found.tool, dir, reason: found.reason };
  }
  throw new InputError(
    'migrations-dir',
    `no migrations directory found in ${cwd} (looked in ${[...new Set(candidates)].join(', ')}); set migrations-dir${tool === 'auto' ? ' and tool' : ''}`,
  );
}
