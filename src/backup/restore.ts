// Restore: puts back what a backup holds, into the current schema, in one transaction under the migration lock (no
// migration runs meanwhile). Pieces are undone newest first, so a file that updated a column and then dropped it gets
// the column back with its values from before the update. Idempotent: restored pieces are marked in the manifest and
// a second run says so. A schema that no longer fits (the column re-added with another type …) is refused, unchanged.
import type pg from 'pg';
import { formatDuration } from '../core/duration.js';
import { InputError, UserFacingError, errorMessage } from '../core/errors.js';
import { quoteValue } from '../core/redact.js';
import { connectDatabase, safeDbError } from '../migrations/db.js';
import { acquireMigrationLock } from '../migrations/runner/lock.js';
import { type ColumnInfo, type TableRef, columnsOf, tableByName } from './catalog.js';
import {
  BACKUP_SCHEMA,
  type BackupPiece,
  type BackupSummary,
  MANIFEST,
  type RestoreDdl,
  formatSize,
  ident,
  isBackupId,
  qualified,
  readPieces,
  summarize,
} from './store.js';

export interface RestoreOptions {
  databaseUrl: string;
  /** Default: the newest backup that is neither restored nor expired. */
  backupId?: string;
  /** Name of the backup-id input/flag, for messages. */
  backupIdInput?: string;
  /** How long to wait for a migration holding the rail-actions lock. */
  lockWaitMs: number;
  signal?: AbortSignal;
  log?: (msg: string) => void;
  warn?: (msg: string) => void;
}

export interface RestoredPiece {
  piece: number;
  kind: BackupPiece['kind'];
  table: string;
  columns: string[];
  rows: number;
  migrationFile: string;
  statementLine: number | null;
}

export interface RestoreResult {
  id: string;
  status: 'restored' | 'already-restored';
  pieces: RestoredPiece[];
  restoredAt: Date;
  ms: number;
  /** What could not be put back (a grant, a foreign key of another table …) and notes recorded at backup time. */
  warnings: string[];
  backup: BackupSummary;
}

class Refused extends Error {}

const byKey = (keys: string[]) => keys.map((k) => `s.${ident(k)} = b.${ident(k)}`).join(' AND ');
/** Rows of a table without a key are matched by all the columns they still share with the copy, compared as text. */
const byText = (cols: string[]) =>
  `ROW(${cols.map((c) => `s.${ident(c)}`).join(', ')})::text IS NOT DISTINCT FROM ROW(${cols.map((c) => `b.${ident(c)}`).join(', ')})::text`;

export async function listBackups(databaseUrl: string): Promise<BackupSummary[]> {
  const client = await connectDatabase(databaseUrl, { applicationName: 'rail-actions restore' });
  try {
    return summarize(await readPieces(client));
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function readBackup(databaseUrl: string, id: string): Promise<BackupSummary | undefined> {
  const client = await connectDatabase(databaseUrl, { applicationName: 'rail-actions migrate' });
  try {
    return summarize(await readPieces(client, id))[0];
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  const input = opts.backupIdInput ?? 'backup-id';
  if (opts.backupId !== undefined && !isBackupId(opts.backupId)) {
    throw new InputError(
      input,
      `expected a backup id like b20260101t120000_ab12 (the migrate step's backup-id output), got ${quoteValue(opts.backupId)}`,
    );
  }
  const log = opts.log ?? (() => undefined);
  const started = performance.now();
  const client = await connectDatabase(opts.databaseUrl, { applicationName: 'rail-actions restore' });
  try {
    // A restore's ALTER TABLE waiting behind a long app transaction would queue every query of that table behind it
    // (explicit-locking.html: lock requests wait in order): give up after 10 s instead, changing nothing.
    await client.query("SELECT set_config('lock_timeout', '10s', false)");
    const waited = await acquireMigrationLock(client, {
      waitMs: opts.lockWaitMs,
      log,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (waited === undefined)
      throw new UserFacingError(
        `A rail-actions migration still holds the migration lock after waiting ${formatDuration(opts.lockWaitMs)}; nothing was restored`,
      );
    const all = summarize(await readPieces(client));
    if (!all.length)
      throw new UserFacingError(
        `No rail-actions backup in this database (schema ${BACKUP_SCHEMA} has none): nothing to restore`,
      );
    const backup = opts.backupId
      ? all.find((b) => b.id === opts.backupId)
      : [...all].reverse().find((b) => b.status === 'kept');
    if (!backup) {
      const known = all
        .slice(-5)
        .map((b) => `${b.id} (${b.status})`)
        .join(', ');
      throw new UserFacingError(
        opts.backupId
          ? `Input '${input}': no backup ${opts.backupId} in this database; the newest are ${known}`
          : `Every backup in this database is restored or expired (newest: ${known}); name one with ${input} to see its state`,
      );
    }
    if (backup.pieces.some((p) => p.status === 'expired')) {
      throw new UserFacingError(
        `Backup ${backup.id} expired at ${backup.expiresAt.toISOString()} and its copies were dropped: nothing left to restore`,
      );
    }
    const pending = backup.pieces.filter((p) => p.status === 'kept');
    if (!pending.length) {
      const at =
        backup.pieces.reduce<Date | null>(
          (a, p) => (p.restoredAt && (!a || p.restoredAt > a) ? p.restoredAt : a),
          null,
        ) ?? new Date();
      log(`Backup ${backup.id} was already restored at ${at.toISOString()}: nothing to do`);
      return {
        id: backup.id,
        status: 'already-restored',
        pieces: [],
        restoredAt: at,
        ms: Math.round(performance.now() - started),
        warnings: [],
        backup,
      };
    }
    log(
      `Restoring backup ${backup.id} (${pending.length} piece(s), ${backup.rows} row(s), ${formatSize(backup.bytes)}) in one transaction`,
    );
    const warnings: string[] = [];
    const restored: RestoredPiece[] = [];
    await client.query('BEGIN');
    let current: BackupPiece | undefined;
    try {
      for (const p of [...pending].reverse()) {
        current = p;
        const rows = await restorePiece(client, p, warnings);
        await client.query(
          `UPDATE ${MANIFEST} SET status = 'restored', restored_at = now() WHERE id = $1 AND piece = $2`,
          [p.id, p.piece],
        );
        restored.push({
          piece: p.piece,
          kind: p.kind,
          table: `${p.sourceSchema}.${p.sourceTable}`,
          columns: targetColumns(p),
          rows,
          migrationFile: p.migrationFile,
          statementLine: p.statementLine,
        });
        log(`Restored piece ${p.piece}: ${describePiece(p)} — ${rows} row(s)`);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      const where = current
        ? `piece ${current.piece} (${describePiece(current)}, from ${current.migrationFile}${current.statementLine ? `:${current.statementLine}` : ''})`
        : 'the backup';
      const lockTimeout =
        (err as { code?: string }).code === '55P03'
          ? ' — another session held a lock on the table for 10 s (lock_timeout); run it again when the app is quieter'
          : '';
      const why = err instanceof Refused ? err.message : `${safeDbError(err, opts.databaseUrl)}${lockTimeout}`;
      throw new UserFacingError(
        `Refusing to restore backup ${backup.id}: ${where}: ${why}. Nothing was changed (the restore runs in one transaction).`,
      );
    }
    for (const p of pending) for (const n of p.notes) warnings.push(`${p.sourceTable}: ${n}`);
    const after = summarize(await readPieces(client, backup.id))[0] ?? backup;
    return {
      id: backup.id,
      status: 'restored',
      pieces: restored.reverse(),
      restoredAt: new Date(),
      ms: Math.round(performance.now() - started),
      warnings,
      backup: after,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The columns the statement destroyed (for whole-table kinds: all). */
export function targetColumns(p: BackupPiece): string[] {
  return p.kind === 'drop-table' || p.kind === 'rows' ? p.columns : p.ddl.columns.map((c) => c.name);
}

export function describePiece(p: BackupPiece): string {
  const t = `${p.sourceSchema}.${p.sourceTable}`;
  switch (p.kind) {
    case 'drop-table':
      return `table ${t}, dropped`;
    case 'rows':
      return `rows of ${t}, deleted/truncated`;
    case 'drop-column':
      return `column ${t}.${targetColumns(p).join(', ')}, dropped`;
    case 'column-type':
      return `column ${t}.${targetColumns(p).join(', ')}, type changed from ${p.ddl.columns[0]?.type ?? '?'}`;
    case 'values':
      return `values of ${t}.${targetColumns(p).join(', ')}, overwritten`;
  }
}

async function restorePiece(client: pg.ClientBase, p: BackupPiece, warnings: string[]): Promise<number> {
  if (!p.copyTable) throw new Refused('its copy is gone');
  const copy = qualified(BACKUP_SCHEMA, p.copyTable);
  const exists = await client.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [copy]);
  if (!exists.rows[0]?.ok) throw new Refused(`its copy ${BACKUP_SCHEMA}.${p.copyTable} no longer exists`);
  const table = await tableByName(client, p.sourceSchema, p.sourceTable);
  const name = qualified(p.sourceSchema, p.sourceTable);
  const targets = targetColumns(p);

  if (p.kind === 'drop-table' && !table) {
    await client.query(`CREATE TABLE ${name} (LIKE ${copy})`);
    const r = await client.query(`INSERT INTO ${name} SELECT * FROM ${copy}`);
    const t = (await tableByName(client, p.sourceSchema, p.sourceTable)) as TableRef;
    await applyColumnDdl(client, t, p.ddl.columns, warnings, false);
    for (const stmt of p.ddl.statements) await client.query(stmt);
    await bestEffort(client, p.ddl, warnings);
    return r.rowCount ?? 0;
  }
  if (!table) throw new Refused(`table ${p.sourceSchema}.${p.sourceTable} no longer exists`);
  const live = await columnsOf(client, table);
  const liveType = (c: string) => live.find((x) => x.name === c)?.type;
  const mustMatch = (cols: string[]) => {
    for (const c of cols) {
      const i = p.columns.indexOf(c);
      const want = p.columnTypes[i];
      const got = liveType(c);
      if (got === undefined) throw new Refused(`column ${p.sourceTable}.${c} no longer exists`);
      if (got !== want)
        throw new Refused(
          `column ${p.sourceTable}.${c} is ${got} now, the backup holds ${want ?? '?'}: the schema changed since, put it back by hand`,
        );
    }
  };
  const others = p.columns.filter((c) => !targets.includes(c) && liveType(c) !== undefined);
  const match = p.keyColumns.length ? byKey(p.keyColumns) : byText(others);

  switch (p.kind) {
    case 'drop-table':
    case 'rows': {
      // The table is there (again): put back the rows it lacks, matched by key, or by all columns without one.
      mustMatch(p.columns);
      if (p.kind === 'drop-table' && !p.keyColumns.length)
        throw new Refused(`table ${p.sourceTable} exists again and has no key to merge the backed-up rows by`);
      const cols = p.columns.filter((c) => live.find((x) => x.name === c)?.generated !== 's');
      const list = cols.map(ident).join(', ');
      const r = await client.query(
        `INSERT INTO ${name} (${list}) OVERRIDING SYSTEM VALUE SELECT ${cols.map((c) => `b.${ident(c)}`).join(', ')} FROM ${copy} b
          WHERE NOT EXISTS (SELECT 1 FROM ${name} s WHERE ${p.keyColumns.length ? byKey(p.keyColumns) : byText(p.columns)})`,
      );
      await bumpSequences(
        client,
        table,
        live.filter((c) => cols.includes(c.name)),
      );
      return r.rowCount ?? 0;
    }
    case 'drop-column': {
      const col = p.ddl.columns[0];
      if (!col) throw new Refused('the backup names no column');
      const now = liveType(col.name);
      if (now !== undefined && now !== col.type)
        throw new Refused(
          `column ${p.sourceTable}.${col.name} exists again as ${now}, the backup holds ${col.type}: the schema changed since, put it back by hand`,
        );
      if (p.keyColumns.length) mustMatch(p.keyColumns);
      if (now === undefined) await client.query(`ALTER TABLE ${name} ADD COLUMN ${ident(col.name)} ${col.type}`);
      const r = await client.query(
        `UPDATE ${name} s SET ${ident(col.name)} = b.${ident(col.name)} FROM ${copy} b WHERE ${match}`,
      );
      if (now === undefined) {
        await applyColumnDdl(client, table, [col], warnings, true);
        for (const stmt of p.ddl.statements) await client.query(stmt);
        await bestEffort(client, p.ddl, warnings);
      }
      return r.rowCount ?? 0;
    }
    case 'column-type': {
      const col = p.ddl.columns[0];
      if (!col) throw new Refused('the backup names no column');
      const now = liveType(col.name);
      if (now === undefined) throw new Refused(`column ${p.sourceTable}.${col.name} no longer exists`);
      if (p.keyColumns.length) mustMatch(p.keyColumns);
      if (now !== col.type) {
        // Back to the old type first (values the backup does not hold, rows added since, are cast back).
        try {
          await client.query('SAVEPOINT rail_type');
          await client.query(
            `ALTER TABLE ${name} ALTER COLUMN ${ident(col.name)} TYPE ${col.type} USING ${ident(col.name)}::${col.type}`,
          );
          await client.query('RELEASE SAVEPOINT rail_type');
        } catch (err) {
          await client.query('ROLLBACK TO SAVEPOINT rail_type');
          throw new Refused(
            `column ${p.sourceTable}.${col.name} (${now} now) cannot be changed back to ${col.type}: ${errorMessage(err)}`,
          );
        }
      }
      const r = await client.query(
        `UPDATE ${name} s SET ${ident(col.name)} = b.${ident(col.name)} FROM ${copy} b WHERE ${match}`,
      );
      return r.rowCount ?? 0;
    }
    case 'values': {
      mustMatch(p.columns);
      const sets = targets.map((c) => `${ident(c)} = b.${ident(c)}`).join(', ');
      const r = await client.query(`UPDATE ${name} s SET ${sets} FROM ${copy} b WHERE ${match}`);
      return r.rowCount ?? 0;
    }
  }
}

/** NOT NULL, defaults, identity and owned sequences of re-created columns (a DROP took the sequences with it). */
async function applyColumnDdl(
  client: pg.ClientBase,
  t: TableRef,
  cols: RestoreDdl['columns'],
  warnings: string[],
  existingRows: boolean,
): Promise<void> {
  const name = qualified(t.schema, t.name);
  for (const c of cols) {
    const col = ident(c.name);
    if (c.generated === 's')
      warnings.push(
        `${t.name}.${c.name} was a generated column: its values are back, its expression is not (re-add it by hand)`,
      );
    if (c.identity === 'a' || c.identity === 'd') {
      await client.query(`ALTER TABLE ${name} ALTER COLUMN ${col} SET NOT NULL`);
      await client.query(
        `ALTER TABLE ${name} ALTER COLUMN ${col} ADD GENERATED ${c.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`,
      );
    } else if (c.default !== null) {
      // serial: the default names the sequence DROP TABLE/COLUMN removed with the column; re-create it, owned again.
      const seq = /^nextval\('((?:[^']|'')+)'::regclass\)$/.exec(c.default)?.[1]?.replace(/''/g, "'");
      if (seq) {
        const found = await client.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [seq]);
        if (!found.rows[0]?.ok) {
          const as = ['smallint', 'integer', 'bigint'].includes(c.type) ? ` AS ${c.type}` : '';
          await client.query(`CREATE SEQUENCE ${seq}${as} OWNED BY ${name}.${col}`);
        }
      }
      await client.query(`ALTER TABLE ${name} ALTER COLUMN ${col} SET DEFAULT ${c.default}`);
    }
    if (c.notNull && !(c.identity === 'a' || c.identity === 'd')) {
      // Rows added after the column was dropped have no value for it: then it stays nullable, and the restore says so.
      await client.query('SAVEPOINT rail_nn');
      try {
        await client.query(`ALTER TABLE ${name} ALTER COLUMN ${col} SET NOT NULL`);
        await client.query('RELEASE SAVEPOINT rail_nn');
      } catch (err) {
        await client.query('ROLLBACK TO SAVEPOINT rail_nn');
        if (!existingRows) throw err;
        warnings.push(
          `${t.name}.${c.name} was NOT NULL; rows added since it was dropped have no value for it, so it stays nullable (${errorMessage(err)})`,
        );
      }
    }
  }
  await bumpSequences(
    client,
    t,
    cols.map((c) => ({ name: c.name })),
  );
}

/** Owned sequences (serial, identity) continue after the highest restored value, never handing out one again. */
async function bumpSequences(client: pg.ClientBase, t: TableRef, cols: Array<Pick<ColumnInfo, 'name'>>): Promise<void> {
  const name = qualified(t.schema, t.name);
  for (const c of cols) {
    const seq = await client.query<{ seq: string | null }>('SELECT pg_get_serial_sequence($1, $2) AS seq', [
      name,
      c.name,
    ]);
    const s = seq.rows[0]?.seq;
    if (!s) continue;
    await client.query(
      `SELECT setval($1::regclass, x.m) FROM (SELECT max(${ident(c.name)})::bigint AS m FROM ${name}) x
        WHERE x.m IS NOT NULL AND x.m > COALESCE((SELECT q.last_value FROM pg_sequences q WHERE format('%I.%I', q.schemaname, q.sequencename)::regclass = $1::regclass), 0)`,
      [s],
    );
  }
}

/** Foreign keys of other tables and grants: each in a savepoint; one that fails is reported, not fatal. */
async function bestEffort(client: pg.ClientBase, ddl: RestoreDdl, warnings: string[]): Promise<void> {
  for (const stmt of ddl.bestEffort) {
    await client.query('SAVEPOINT rail_best');
    try {
      await client.query(stmt);
      await client.query('RELEASE SAVEPOINT rail_best');
    } catch (err) {
      await client.query('ROLLBACK TO SAVEPOINT rail_best');
      warnings.push(`not restored: ${stmt} (${errorMessage(err)})`);
    }
  }
}
