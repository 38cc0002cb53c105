// Taking the backup: the migrate runner calls `prepare` under its lock before anything is applied (what will be copied,
// its estimated size against backup-max-size, expired backups dropped), then `beforeStatement` right before each
// statement on the same connection — inside the statement's transaction when it has one, so the copy and the
// destruction commit together or not at all: a crash never leaves the migration applied without its backup.
import type pg from 'pg';
import { formatDuration } from '../core/duration.js';
import { InputError } from '../core/errors.js';
import { isBinaryCoercible, parseFormatType, typeSpec } from '../migrations/analyze/statement.js';
import type { MigrationBackupHook } from '../migrations/runner/apply.js';
import type { MigrationFile } from '../migrations/types.js';
import { cascadeTargets, columnsOf, estimateCopyBytes, keyOf, resolveTable, restoreDdlOf } from './catalog.js';
import {
  BACKUP_SCHEMA,
  type BackupSummary,
  copyTableName,
  ensureManifest,
  formatSize,
  ident,
  insertPiece,
  newBackupId,
  purgeExpired,
  qualified,
  readPieces,
  summarize,
} from './store.js';
import { type Target, targetsOf } from './targets.js';

export type BackupMode = 'auto' | 'off';
export const BACKUP_MODES: readonly BackupMode[] = ['auto', 'off'];

export interface BackupOptions {
  /** 0 = no limit. */
  maxBytes: number;
  retentionMs: number;
  /** Input/flag names for messages. */
  inputs?: { maxSize?: string; mode?: string };
  log?: (msg: string) => void;
  warn?: (msg: string) => void;
  now?: () => Date;
}

interface Statement {
  sql: string;
  line: number;
}

const statementKey = (file: MigrationFile, s: Statement) => `${file.relPath}\u0000${s.line}\u0000${s.sql}`;
const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();
const KIND_WORDS: Record<Target['kind'], string> = {
  'drop-table': 'the whole table',
  'drop-column': 'the dropped column',
  rows: 'its rows',
  values: 'the overwritten values',
  'column-type': 'the column in its old type',
};

export class MigrationBackup implements MigrationBackupHook {
  readonly id: string;
  private readonly opts: BackupOptions;
  private readonly planned = new Map<string, Target[]>();
  private piece = 0;
  /** Ids of expired backups this run dropped. */
  purged: string[] = [];
  /** Estimated bytes of everything planned. */
  estimatedBytes = 0;
  /** What will not be backed up, and why (said in the log and the summary). */
  skipped: string[] = [];

  constructor(opts: BackupOptions) {
    this.opts = opts;
    this.id = newBackupId(opts.now?.() ?? new Date());
  }

  private log(m: string): void {
    this.opts.log?.(m);
  }

  private warn(m: string): void {
    (this.opts.warn ?? this.opts.log)?.(m);
  }

  get plannedCount(): number {
    return [...this.planned.values()].reduce((a, t) => a + t.length, 0);
  }

  async prepare(client: pg.ClientBase, files: Array<{ file: MigrationFile; statements: Statement[] }>): Promise<void> {
    this.purged = await purgeExpired(client, this.opts.now?.() ?? new Date());
    if (this.purged.length)
      this.log(`Backups: dropped ${this.purged.length} expired backup(s): ${this.purged.join(', ')}`);
    const sizes: string[] = [];
    for (const { file, statements } of files) {
      for (const s of statements) {
        const wanted: Target[] = [];
        for (const target of await withCascades(client, await targetsOf(s.sql))) {
          const where = `${file.relPath}:${s.line}`;
          const table = await resolveTable(client, target.table);
          // Not there before this run: created by an earlier pending statement, nothing of it exists to lose yet.
          if (!table) continue;
          const columns = await columnsOf(client, table);
          const col = target.columns[0];
          if ((target.kind === 'drop-column' || target.kind === 'column-type') && !columns.some((c) => c.name === col))
            continue;
          if (target.kind === 'column-type' && !target.using) {
            const current = columns.find((c) => c.name === col)?.type;
            const to = typeSpec(target.newType);
            if (current && to && isBinaryCoercible(parseFormatType(current), to)) {
              this.log(
                `Backups: ${where} changes ${table.name}.${col ?? ''} from ${current} without losing values (binary-coercible): no backup needed`,
              );
              continue;
            }
          }
          const key = await keyOf(
            client,
            table,
            target.kind === 'drop-table' || target.kind === 'rows' ? [] : target.columns,
          );
          if (target.kind === 'values' && !key.length) {
            const what = target.cascadeOf
              ? `the ON DELETE SET NULL/SET DEFAULT of ${table.name}.${target.columns.join(', ')} (a cascade from ${target.cascadeOf})`
              : `UPDATE of ${table.name}`;
            const why = `${where}: ${what} is not backed up — the table has no primary key or unique NOT NULL key to match rows by after their values change`;
            this.skipped.push(why);
            this.warn(`Backups: ${why}`);
            continue;
          }
          const copied =
            target.kind === 'drop-table' || target.kind === 'rows' || !key.length
              ? []
              : [...key, ...target.columns.filter((c) => !key.includes(c))];
          const bytes = await estimateCopyBytes(client, table, copied);
          this.estimatedBytes += bytes;
          sizes.push(
            `${where} ${table.name}${target.columns.length && target.kind !== 'rows' ? `.${target.columns.join(',')}` : ''} ~${formatSize(bytes)}`,
          );
          wanted.push(target);
        }
        if (wanted.length) this.planned.set(statementKey(file, s), wanted);
      }
    }
    if (!this.planned.size) return;
    if (this.opts.maxBytes > 0 && this.estimatedBytes > this.opts.maxBytes) {
      throw new InputError(
        this.opts.inputs?.maxSize ?? 'backup-max-size',
        `the destructive statements would back up about ${formatSize(this.estimatedBytes)} (${sizes.join('; ')}), more than the limit of ${formatSize(this.opts.maxBytes)}; nothing was applied. Raise ${this.opts.inputs?.maxSize ?? 'backup-max-size'} (the copy lives in schema ${BACKUP_SCHEMA} of this database), or set ${this.opts.inputs?.mode ?? 'backup'}: off to migrate without a backup`,
      );
    }
    await ensureManifest(client);
    this.log(
      `Backups: backup ${this.id} will copy what ${this.plannedCount} destructive statement(s) destroy, right before each runs (about ${formatSize(this.estimatedBytes)}: ${sizes.join('; ')})`,
    );
  }

  async beforeStatement(client: pg.ClientBase, file: MigrationFile, s: Statement): Promise<void> {
    const targets = this.planned.get(statementKey(file, s));
    if (!targets) return;
    for (const target of targets) await this.takePiece(client, file, s, target);
  }

  /** The project's own migrator runs the statements: everything planned is copied first, in one transaction. */
  async takeAll(client: pg.ClientBase, files: Array<{ file: MigrationFile; statements: Statement[] }>): Promise<void> {
    if (!this.planned.size) return;
    await client.query('BEGIN');
    try {
      for (const { file, statements } of files) for (const s of statements) await this.beforeStatement(client, file, s);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private async takePiece(client: pg.ClientBase, file: MigrationFile, s: Statement, target: Target): Promise<void> {
    const started = performance.now();
    const table = await resolveTable(client, target.table);
    if (!table) return; // gone already (an earlier statement of the run dropped it): the statement has nothing to destroy
    const columns = await columnsOf(client, table);
    const col = target.columns[0];
    const wholeTable = target.kind === 'drop-table' || target.kind === 'rows';
    if (!wholeTable && target.columns.some((c) => !columns.some((x) => x.name === c))) return; // DROP COLUMN IF EXISTS of a missing column
    const key = await keyOf(client, table, wholeTable ? [] : target.columns);
    if (target.kind === 'values' && !key.length) return;
    const copied =
      wholeTable || !key.length
        ? columns.map((c) => c.name)
        : [...key, ...target.columns.filter((c) => !key.includes(c))];
    const copiedInfo = copied.map((n) => columns.find((c) => c.name === n)!);
    const piece = ++this.piece;
    const copy = copyTableName(this.id, piece, table.name, wholeTable ? undefined : target.columns.join('_'));
    const attnums =
      target.kind === 'drop-column' ? columns.filter((c) => c.name === col).map((c) => c.attnum) : undefined;
    const ddlColumns = wholeTable ? columns : columns.filter((c) => target.columns.includes(c.name));
    const { ddl, notes } =
      target.kind === 'drop-table' || target.kind === 'drop-column'
        ? await restoreDdlOf(client, table, ddlColumns, attnums)
        : {
            ddl: { columns: ddlColumns.map(({ attnum: _a, ...c }) => c), statements: [], bestEffort: [] },
            notes: [] as string[],
          };
    if (target.cascadeOf)
      notes.push(
        target.kind === 'rows'
          ? `copied because the statement's foreign-key cascade from ${target.cascadeOf} removes rows here`
          : `copied because the statement's ON DELETE SET NULL/SET DEFAULT from ${target.cascadeOf} overwrites these keys`,
      );
    if (!key.length && target.kind !== 'drop-table')
      notes.push(
        `${table.name} has no primary key or unique NOT NULL key: restore matches rows by all their other columns`,
      );

    const copyName = qualified(BACKUP_SCHEMA, copy);
    const r = await client.query(
      `CREATE TABLE ${copyName} AS SELECT ${copied.map(ident).join(', ')} FROM ${qualified(table.schema, table.name)}`,
    );
    const size = await client.query<{ bytes: string }>('SELECT pg_total_relation_size($1::regclass) AS bytes', [
      copyName,
    ]);
    const now = this.opts.now?.() ?? new Date();
    await insertPiece(client, {
      id: this.id,
      piece,
      expiresAt: new Date(now.getTime() + this.opts.retentionMs),
      migrationFile: file.relPath,
      statementLine: s.line,
      statement: oneLine(s.sql).slice(0, 2000),
      kind: target.kind,
      sourceSchema: table.schema,
      sourceTable: table.name,
      columns: copied,
      columnTypes: copiedInfo.map((c) => c.type),
      keyColumns: key,
      copyTable: copy,
      rows: r.rowCount ?? 0,
      bytes: Number(size.rows[0]?.bytes ?? 0),
      ddl,
      notes,
    });
    this.log(
      `Backups: ${file.relPath}:${s.line} — copied ${KIND_WORDS[target.kind]} of ${table.schema}.${table.name}${wholeTable ? '' : ` (${target.columns.join(', ')})`}: ${r.rowCount ?? 0} row(s) to ${BACKUP_SCHEMA}.${copy} in ${formatDuration(performance.now() - started)}`,
    );
  }

  /** What this run backed up, read back from the manifest (what committed, not what was attempted). */
  async result(client: pg.ClientBase): Promise<BackupSummary | undefined> {
    if (!this.planned.size) return undefined;
    return summarize(await readPieces(client, this.id))[0];
  }
}

/**
 * The statement's targets with what its foreign-key cascades destroy, in the order the pieces are taken: the cascade's
 * key columns first, then one whole-table copy per table, a table before every table it references; the statement's
 * other targets last. A restore puts pieces back newest first, so referenced rows are back before the rows and keys
 * that point at them.
 */
async function withCascades(client: pg.ClientBase, targets: Target[]): Promise<Target[]> {
  const own = targets.filter((t) => t.kind === 'rows');
  if (!own.length) return targets;
  const found: Target[] = [];
  for (const t of own) {
    // A DELETE fires the ON DELETE actions of the foreign keys pointing at the table; TRUNCATE only with CASCADE.
    if (t.via !== 'delete' && !t.cascade) continue;
    const table = await resolveTable(client, t.table);
    if (table) found.push(...(await cascadeTargets(client, table, t.via === 'truncate')));
  }
  // One copy per table, the statement's own target first (TRUNCATE a, b CASCADE reaches b twice).
  const rows: Target[] = [];
  const seen = new Set<string>();
  for (const t of [...own, ...found.filter((f) => f.kind === 'rows')]) {
    const key = `${t.table.schema ?? ''}.${t.table.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(t);
  }
  return [
    ...found.filter((f) => f.kind !== 'rows'),
    ...(await referencingFirst(client, rows)),
    ...targets.filter((t) => t.kind !== 'rows'),
  ];
}

/** Orders targets so that a table comes before every table it references (foreign keys among them; cycles as found). */
async function referencingFirst(client: pg.ClientBase, targets: Target[]): Promise<Target[]> {
  if (targets.length < 2) return targets;
  const oids = await Promise.all(targets.map(async (t) => (await resolveTable(client, t.table))?.oid));
  const known = oids.filter((o): o is number => o !== undefined);
  const edges = await client.query<{ child: number; parent: number }>(
    `SELECT DISTINCT conrelid::int AS child, confrelid::int AS parent FROM pg_constraint
      WHERE contype = 'f' AND conrelid = ANY($1::oid[]) AND confrelid = ANY($1::oid[]) AND conrelid <> confrelid`,
    [known],
  );
  // Kahn's algorithm: a table is placed once every table referencing it is placed.
  const waitingFor = new Map<number, number>();
  for (const e of edges.rows) waitingFor.set(e.parent, (waitingFor.get(e.parent) ?? 0) + 1);
  const out: Target[] = [];
  const placed = new Set<number>();
  for (let progress = true; progress;) {
    progress = false;
    for (const [i, t] of targets.entries()) {
      const oid = oids[i];
      if (oid === undefined || placed.has(oid) || (waitingFor.get(oid) ?? 0) > 0) continue;
      placed.add(oid);
      out.push(t);
      progress = true;
      for (const e of edges.rows) if (e.child === oid) waitingFor.set(e.parent, (waitingFor.get(e.parent) ?? 1) - 1);
    }
  }
  // A reference cycle, and tables that do not exist (yet): as found.
  return [...out, ...targets.filter((_, i) => oids[i] === undefined || !placed.has(oids[i]))];
}

/** The exact command and action usage that put a backup back. */
export function restoreUsage(id: string): { command: string; action: string } {
  return {
    command: `rail-actions restore --database-url "$DATABASE_URL" --backup-id ${id}`,
    action: `uses: <owner>/rail-actions/actions/restore@v1 with: database-url: \${{ secrets.DATABASE_URL }}, backup-id: ${id}`,
  };
}
