// Rehearsal: apply the pending migrations to a throwaway copy of the production SCHEMA (plus the history table
// rows, so "pending" is computed exactly as on production) before production is touched.
//
// Requirements: `pg_dump` and `psql` on PATH, with a major version >= the production server's (pg_dump refuses to
// dump a newer server), and a rehearsal server that has the same extensions available (e.g. the CI pgvector service).
// The rehearsal user needs CREATEDB: a fresh database `rail_actions_rehearsal_<…>` is created and dropped afterwards.
// Without CREATEDB, the rehearsal database itself is used, and must then be empty.
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { UserFacingError } from '../../core/errors.js';
import { formatDuration } from '../../core/duration.js';
import { redactUrl, scrubSecrets, urlPassword } from '../../core/redact.js';
import { connectDatabase, safeDbError } from '../db.js';
import { type LoadedMigrations, loadMigrations } from '../pending.js';
import { type ApplyOptions, type ApplyResult, applyMigrations } from './apply.js';
import { PROGRESS_TABLE, progressTableExists } from './progress.js';

export interface RehearsalResult {
  ok: boolean;
  /** The rehearsal's own apply result (what would be applied), when it got that far. */
  result?: ApplyResult;
  error?: string;
  database: string;
  copiedTables: string[];
  ms: number;
}

/** Query parameters that are not libpq's (Prisma's `schema`, pool settings…): pg_dump/psql reject unknown ones. */
const NON_LIBPQ_PARAMS =
  /^(schema|connection_limit|pool_timeout|pgbouncer|socket_timeout|statement_cache_size|sslaccept|x-.*)$/i;

/** A libpq connection URL without the password (it goes in PGPASSWORD, never on a command line). */
export function libpqTarget(url: string): { dbname: string; env: Record<string, string> } {
  const u = new URL(url);
  const password = urlPassword(url);
  u.password = '';
  for (const key of [...u.searchParams.keys()]) if (NON_LIBPQ_PARAMS.test(key)) u.searchParams.delete(key);
  return { dbname: u.toString(), env: password ? { PGPASSWORD: password } : {} };
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

async function tool(
  bin: string,
  args: string[],
  env: Record<string, string>,
  secrets: string[],
  input?: string,
): Promise<string> {
  const r = await execa(bin, args, {
    env: { ...env, PGCONNECT_TIMEOUT: '20' },
    reject: false,
    ...(input !== undefined ? { input } : { stdin: 'ignore' }),
    maxBuffer: 512 * 1024 * 1024,
  });
  if (r.failed) {
    const detail = scrubSecrets(
      String(r.stderr || r.shortMessage || '')
        .trim()
        .split('\n')
        .slice(-8)
        .join('\n'),
      secrets,
    );
    if ((r as { code?: string }).code === 'ENOENT')
      throw new UserFacingError(`Rehearsal needs ${bin} (PostgreSQL client tools) on PATH; it was not found`);
    throw new UserFacingError(`${bin} failed: ${detail}`);
  }
  return String(r.stdout);
}

export async function rehearseMigrations(
  opts: ApplyOptions & { rehearsalDatabaseUrl: string; loaded?: LoadedMigrations },
): Promise<RehearsalResult> {
  const log = opts.log ?? (() => undefined);
  const started = performance.now();
  const secrets = [
    opts.databaseUrl,
    opts.rehearsalDatabaseUrl,
    urlPassword(opts.databaseUrl),
    urlPassword(opts.rehearsalDatabaseUrl),
  ].filter((s): s is string => !!s);
  const scrub = (t: string) => scrubSecrets(t, secrets);
  const loaded =
    opts.loaded ??
    (await loadMigrations({ dir: opts.dir ?? '', tool: opts.tool ?? 'auto', cwd: opts.cwd ?? process.cwd() }));

  // Which history tables to copy with their rows (and their serial sequences, so new ids do not collide).
  const prod = await connectDatabase(opts.databaseUrl, { applicationName: 'rail-actions rehearsal (read only)' });
  let dataTables: string[];
  try {
    const tables = await loaded.adapter.historyTables(prod);
    const seqs: string[] = [];
    for (const t of tables) {
      const r = await prod.query<{ s: string }>(
        `SELECT s.oid::regclass::text AS s FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
          WHERE d.refobjid = $1::regclass AND d.classid = 'pg_class'::regclass AND s.relkind = 'S' AND d.deptype IN ('a', 'i')`,
        [t],
      );
      seqs.push(...r.rows.map((row) => row.s));
    }
    // rail-actions' progress rows too: a file an interrupted run left partly applied resumes on the copy as it will
    // on production (re-running its committed groups there would fail on objects the copied schema already has).
    // pg_dump leaves INVALID indexes out, so the copy builds again what production drops and builds again.
    const progress = (await progressTableExists(prod)) ? [PROGRESS_TABLE] : [];
    dataTables = [...tables, ...seqs, ...progress];
  } finally {
    await prod.end().catch(() => undefined);
  }

  const admin = await connectDatabase(opts.rehearsalDatabaseUrl, {
    applicationName: 'rail-actions rehearsal',
    input: 'rehearsal-database-url',
  });
  let scratchName: string | undefined;
  let targetUrl = opts.rehearsalDatabaseUrl;
  try {
    const name = `rail_actions_rehearsal_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    try {
      await admin.query(`CREATE DATABASE "${name}" TEMPLATE template0`);
      scratchName = name;
      targetUrl = withDatabase(opts.rehearsalDatabaseUrl, name);
    } catch (err) {
      log(
        `Cannot create a scratch database on the rehearsal server (${safeDbError(err, opts.rehearsalDatabaseUrl)}); using the rehearsal database itself`,
      );
      const r = await admin.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`,
      );
      if (Number(r.rows[0]?.n ?? 0) > 0) {
        throw new UserFacingError(
          `The rehearsal database ${redactUrl(opts.rehearsalDatabaseUrl)} is not empty and no scratch database can be created in it (CREATEDB needed)`,
        );
      }
    }
  } finally {
    await admin.end().catch(() => undefined);
  }

  // A Prisma `?schema=` on the production URL must apply to the copy as well (same search_path, same history table).
  const prodSchema = new URL(opts.databaseUrl).searchParams.get('schema');
  if (prodSchema && !new URL(targetUrl).searchParams.has('schema')) {
    const u = new URL(targetUrl);
    u.searchParams.set('schema', prodSchema);
    targetUrl = u.toString();
  }
  const source = libpqTarget(opts.databaseUrl);
  const target = libpqTarget(targetUrl);
  try {
    log(
      `Rehearsal: copying the production schema${dataTables.length ? ` and ${dataTables.join(', ')} rows` : ''} into ${redactUrl(targetUrl)}`,
    );
    // pg_dump takes ACCESS SHARE on every table it dumps: never queue behind a long lock on production.
    const dumpArgs = ['--no-owner', '--no-privileges', '--lock-wait-timeout=60s'];
    const schema = await tool(
      'pg_dump',
      ['--schema-only', ...dumpArgs, '--dbname', source.dbname],
      source.env,
      secrets,
    );
    const data = dataTables.length
      ? await tool(
          'pg_dump',
          ['--data-only', ...dumpArgs, ...dataTables.flatMap((t) => ['--table', t]), '--dbname', source.dbname],
          source.env,
          secrets,
        )
      : '';
    await tool(
      'psql',
      ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--dbname', target.dbname],
      target.env,
      secrets,
      `${schema}\n${data}`,
    );
    const result = await applyMigrations({ ...opts, databaseUrl: targetUrl, loaded, label: 'rehearsal database' });
    return {
      ok: true,
      result,
      database: redactUrl(targetUrl),
      copiedTables: dataTables,
      ms: Math.round(performance.now() - started),
    };
  } catch (err) {
    const message = scrub(err instanceof Error ? err.message : String(err));
    return {
      ok: false,
      error: message,
      database: redactUrl(targetUrl),
      copiedTables: dataTables,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    if (scratchName) {
      const cleanup = await connectDatabase(opts.rehearsalDatabaseUrl, {
        applicationName: 'rail-actions rehearsal cleanup',
      }).catch(() => undefined);
      if (cleanup) {
        await cleanup
          .query(`DROP DATABASE IF EXISTS "${scratchName}" WITH (FORCE)`)
          .catch((e: unknown) => log(`Could not drop ${scratchName}: ${safeDbError(e, opts.rehearsalDatabaseUrl)}`));
        await cleanup.end().catch(() => undefined);
      }
    }
    log(`Rehearsal finished in ${formatDuration(performance.now() - started)}`);
  }
}
