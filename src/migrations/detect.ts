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

/**
 * Nothing to migrate: no migrations directory was found, or the one given or found holds no migration files at all
 * (an empty folder, or one with only a .gitkeep, a README or a tool's bookkeeping). An InputError naming
 * migrations-dir, so callers that need migrations (the CLI, findPending) fail as before; the migrate and migrate-gate
 * actions catch it and report "nothing to migrate" instead. A folder whose files rail-actions cannot attribute to a
 * tool is NOT this: that stays a plain InputError, because silently skipping real migrations would be worse.
 */
export class NoMigrationsError extends InputError {
  /** Where it looked, relative to cwd ('.' for cwd itself). */
  readonly where: string;
  /** What would have counted, for messages: candidate directories, or the layout expected in `where`. */
  readonly lookedFor: string;
  /** The tool when given (or recognised); undefined when auto-detection found nothing. */
  readonly tool: ToolName | undefined;
  /** Absolute path of the directory that exists but is empty; undefined when no directory was found. */
  readonly dir: string | undefined;
  constructor(message: string, info: { where: string; lookedFor: string; tool?: ToolName; dir?: string }) {
    super('migrations-dir', message);
    this.name = 'NoMigrationsError';
    this.where = info.where;
    this.lookedFor = info.lookedFor;
    this.tool = info.tool;
    this.dir = info.dir;
  }
}

const WALK_DEPTH = 3;

/**
 * Whether `dir` holds anything that could be a migration: a .sql file or a JS/TS module, up to a few levels deep
 * (Prisma's <name>/migration.sql, drizzle's meta/). Dotfiles and node_modules do not count.
 */
export async function hasMigrationLikeFiles(dir: string, depth = WALK_DEPTH): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    if (e.isFile() && (e.name.endsWith('.sql') || isCodeMigration(e.name))) return true;
    if (e.isDirectory() && depth > 1 && (await hasMigrationLikeFiles(path.join(dir, e.name), depth - 1))) return true;
  }
  return false;
}

/** A path relative to cwd for messages ('.' for cwd itself). */
export function displayPath(cwd: string, abs: string): string {
  return path.relative(cwd, abs).split(path.sep).join('/') || '.';
}

const RECOGNISED =
  'Prisma folders, a drizzle journal, *.up.sql, dbmate or node-pg-migrate markers, knex/node-pg-migrate modules, or .sql files';

export function parseToolName(value: string | undefined, input = 'tool'): ToolName | 'auto' {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if ((TOOL_NAMES as readonly string[]).includes(v)) return v as ToolName;
  throw new InputError(input, `expected one of auto, ${TOOL_NAMES.join(', ')}; got '${value?.trim() ?? ''}'`);
}

async function packageDeps(cwd: string): Promise<Set<string>> {
  try {
    const pkg = JSON.parse(await readFile(path.join(cwd, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    return new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]);
  } catch {
    return new Set();
  }
}

/** drizzle.config.{ts,js,mjs,cjs,json}: its `out` folder, where drizzle-kit writes migrations. */
async function drizzleOutDir(cwd: string): Promise<string | undefined> {
  for (const name of [
    'drizzle.config.ts',
    'drizzle.config.js',
    'drizzle.config.mjs',
    'drizzle.config.cjs',
    'drizzle.config.json',
  ]) {
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
export async function toolFromDirectory(
  dir: string,
  cwd: string,
): Promise<{ tool: ToolName; reason: string } | undefined> {
  if (await isFile(path.join(dir, 'meta', '_journal.json')))
    return { tool: 'drizzle', reason: 'meta/_journal.json (drizzle-kit journal)' };
  const entries = await readdir(dir, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && e.name === 'migration_lock.toml'))
    return { tool: 'prisma', reason: 'migration_lock.toml (Prisma Migrate)' };
  for (const e of entries) {
    if (e.isDirectory() && (await isFile(path.join(dir, e.name, 'migration.sql')))) {
      return { tool: 'prisma', reason: `${e.name}/migration.sql folders (Prisma Migrate layout)` };
    }
  }
  const files = entries.filter((e) => e.isFile()).map((e) => e.name);
  if (files.some((f) => /^[0-9]+_.*\.up\.sql$/.test(f)))
    return { tool: 'golang-migrate', reason: '<version>_<name>.up.sql files (golang-migrate)' };
  const sqlFiles = files.filter((f) => f.endsWith('.sql'));
  for (const f of sqlFiles) {
    const head = await readHead(path.join(dir, f));
    if (/^--\s*migrate:up\b/m.test(head))
      return { tool: 'dbmate', reason: `'-- migrate:up' sections (dbmate) in ${f}` };
    if (/^\s*--\s*up migration\b/im.test(head))
      return { tool: 'node-pg-migrate', reason: `'-- Up Migration' marker (node-pg-migrate) in ${f}` };
  }
  const codeFiles = files.filter(isCodeMigration);
  if (codeFiles.length) {
    const deps = await packageDeps(cwd);
    if (deps.has('node-pg-migrate') && !deps.has('knex'))
      return { tool: 'node-pg-migrate', reason: 'JS/TS migrations and node-pg-migrate in package.json' };
    if (deps.has('knex') && !deps.has('node-pg-migrate'))
      return { tool: 'knex', reason: 'JS/TS migrations and knex in package.json' };
    for (const knexfile of ['knexfile.js', 'knexfile.ts', 'knexfile.cjs', 'knexfile.mjs']) {
      if (await isFile(path.join(cwd, knexfile))) return { tool: 'knex', reason: `JS/TS migrations and ${knexfile}` };
    }
    const head = await readHead(path.join(dir, codeFiles[0] as string));
    if (/\bpgm\b/.test(head))
      return { tool: 'node-pg-migrate', reason: `JS/TS migrations using the pgm builder (${codeFiles[0]})` };
    if (/\bknex\b/.test(head)) return { tool: 'knex', reason: `JS/TS migrations using knex (${codeFiles[0]})` };
    return undefined;
  }
  if (sqlFiles.length) return { tool: 'sql', reason: 'plain .sql files (rail-actions history table)' };
  return undefined;
}

const AUTO_DIRS = [
  'prisma/migrations',
  'drizzle',
  'db/migrations',
  'migrations',
  'database/migrations',
  'sql/migrations',
  'src/db/migrations',
  'src/migrations',
];

/**
 * Resolves tool + directory. `dir` (relative to cwd) wins when given; `tool` 'auto' inspects the layout.
 * Throws InputError naming `migrations-dir` / `tool` when nothing usable is found — before any database access;
 * NoMigrationsError (an InputError) when there is nothing to migrate at all.
 */
export async function detectTool(opts: { cwd: string; dir?: string; tool?: ToolName | 'auto' }): Promise<DetectedTool> {
  const tool = opts.tool ?? 'auto';
  if (tool !== 'auto' && !(TOOL_NAMES as readonly string[]).includes(tool)) parseToolName(tool);
  const cwd = path.resolve(opts.cwd);
  if (opts.dir && opts.dir.trim()) {
    const given = opts.dir.trim();
    const dir = path.resolve(cwd, given);
    if (!(await isDirectory(dir)))
      throw new InputError('migrations-dir', `directory '${given}' does not exist (resolved to ${dir})`);
    if (tool !== 'auto') return { tool, dir, reason: `tool: ${tool}` };
    const found = await toolFromDirectory(dir, cwd);
    if (found) return { tool: found.tool, dir, reason: found.reason };
    if (!(await hasMigrationLikeFiles(dir))) {
      throw new NoMigrationsError(`'${given}' holds no migrations (no .sql or JS/TS files)`, {
        where: displayPath(cwd, dir),
        lookedFor: RECOGNISED,
        dir,
      });
    }
    throw new InputError(
      'migrations-dir',
      `'${given}' contains no migrations rail-actions recognises (${RECOGNISED}); set the migrations tool`,
    );
  }
  const drizzleOut = await drizzleOutDir(cwd);
  const candidates = [
    ...new Set(
      tool === 'auto'
        ? [...(drizzleOut ? [drizzleOut] : []), ...AUTO_DIRS]
        : [...(tool === 'drizzle' && drizzleOut ? [drizzleOut] : []), ...ADAPTERS[tool].defaultDirs],
    ),
  ];
  // Directories that hold JS/TS or SQL files no tool could be told from: not "no migrations", but ambiguous.
  const unrecognised: string[] = [];
  // With a tool given, an empty default directory must not hide a later one that holds files.
  let firstEmpty: string | undefined;
  for (const rel of candidates) {
    const dir = path.resolve(cwd, rel);
    if (!(await isDirectory(dir))) continue;
    if (tool !== 'auto') {
      if (await hasMigrationLikeFiles(dir)) return { tool, dir, reason: `tool: ${tool}, default directory ${rel}` };
      firstEmpty ??= rel;
      continue;
    }
    const found = await toolFromDirectory(dir, cwd);
    if (found) return { tool: found.tool, dir, reason: found.reason };
    if (await hasMigrationLikeFiles(dir)) unrecognised.push(rel);
  }
  if (tool !== 'auto' && firstEmpty !== undefined)
    return { tool, dir: path.resolve(cwd, firstEmpty), reason: `tool: ${tool}, default directory ${firstEmpty}` };
  if (unrecognised.length) {
    throw new InputError(
      'migrations-dir',
      `${unrecognised.join(', ')} in ${cwd} hold JS/TS or SQL files rail-actions cannot attribute to a migration tool (${RECOGNISED}); set migrations-dir and the migrations tool`,
    );
  }
  throw new NoMigrationsError(
    `no migrations directory found in ${cwd} (looked in ${candidates.join(', ')}); set migrations-dir${tool === 'auto' ? ' and the migrations tool' : ''}`,
    {
      where: '.',
      lookedFor: candidates.join(', '),
      ...(tool !== 'auto' ? { tool } : {}),
    },
  );
}
