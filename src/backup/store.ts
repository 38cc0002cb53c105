// Where backups live: schema rail_actions_backup in the user's own database (never a workflow artifact, which anyone
// with read access to the repository can download), one copy table per destroyed thing and one manifest row each.
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { formatBytes } from '../core/bytes.js';
import { InputError } from '../core/errors.js';
import { quoteValue } from '../core/redact.js';
import { quoteIdent, quoteQualified } from '../core/sql.js';
import type { ColumnInfo } from './catalog.js';
import type { TargetKind } from './targets.js';

export const BACKUP_SCHEMA = 'rail_actions_backup';
export const MANIFEST = `${BACKUP_SCHEMA}.backups`;

export const ident = quoteIdent;
export const qualified = (schema: string, name: string): string => quoteQualified(schema, name);

/** What re-creating the destroyed structure needs, read from the catalog before the statement ran. */
export interface RestoreDdl {
  /** Per backed-up column: NOT NULL, default expression, identity (a/d), generated (s), owned sequence. */
  columns: Array<Omit<ColumnInfo, 'attnum'>>;
  /** ALTER TABLE … ADD CONSTRAINT / CREATE INDEX / CREATE TRIGGER statements of the table (or of the column). */
  statements: string[];
  /** Statements on other tables (foreign keys pointing at it) and grants: tried one by one, a failure is reported. */
  bestEffort: string[];
}

export interface BackupPiece {
  id: string;
  piece: number;
  createdAt: Date;
  expiresAt: Date;
  migrationFile: string;
  statementLine: number | null;
  statement: string;
  kind: TargetKind;
  sourceSchema: string;
  sourceTable: string;
  columns: string[];
  columnTypes: string[];
  keyColumns: string[];
  copyTable: string | null;
  rows: number;
  bytes: number;
  ddl: RestoreDdl;
  notes: string[];
  status: 'kept' | 'restored' | 'expired';
  restoredAt: Date | null;
}

/** Creates the schema and the manifest (idempotent). */
export async function ensureManifest(client: pg.ClientBase): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${BACKUP_SCHEMA}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${MANIFEST} (
       id text NOT NULL,
       piece integer NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       expires_at timestamptz NOT NULL,
       migration_file text NOT NULL,
       statement_line integer,
       statement text NOT NULL,
       kind text NOT NULL,
       source_schema text NOT NULL,
       source_table text NOT NULL,
       columns text[] NOT NULL,
       column_types text[] NOT NULL,
       key_columns text[] NOT NULL,
       copy_table text,
       rows bigint NOT NULL,
       bytes bigint NOT NULL,
       ddl jsonb NOT NULL,
       notes text[] NOT NULL DEFAULT '{}',
       status text NOT NULL DEFAULT 'kept' CHECK (status IN ('kept', 'restored', 'expired')),
       restored_at timestamptz,
       PRIMARY KEY (id, piece)
     )`,
  );
}

export async function manifestExists(client: pg.ClientBase): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [MANIFEST]);
  return r.rows[0]?.ok === true;
}

/** b20261203t015416_3fa9: sortable by time, unique enough per database, a plain identifier. */
export function newBackupId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').toLowerCase();
  return `b${stamp}_${randomBytes(2).toString('hex')}`;
}

export function isBackupId(v: string): boolean {
  return /^b\d{8}t\d{6}_[0-9a-f]{4}$/.test(v);
}

/** `<backup-id>_<piece>__<table>[__<column>]`, cut to PostgreSQL's 63-byte identifiers with a hash when longer. */
export function copyTableName(id: string, piece: number, table: string, column?: string): string {
  const full = `${id}_${piece}__${table}${column ? `__${column}` : ''}`;
  if (Buffer.byteLength(full) <= 63) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  let head = full;
  while (Buffer.byteLength(head) > 63 - 9) head = head.slice(0, -1);
  return `${head}_${hash}`;
}

// The manifest's columns under BackupPiece's names, so rows need no mapping (bigint sizes as float8: a JavaScript number,
// exact below 2^53 bytes).
const PIECE_COLUMNS = `id, piece, created_at AS "createdAt", expires_at AS "expiresAt", migration_file AS "migrationFile",
  statement_line AS "statementLine", statement, kind, source_schema AS "sourceSchema", source_table AS "sourceTable",
  columns, column_types AS "columnTypes", key_columns AS "keyColumns", copy_table AS "copyTable", rows::float8 AS rows,
  bytes::float8 AS bytes, ddl, notes, status, restored_at AS "restoredAt"`;

export async function insertPiece(
  client: pg.ClientBase,
  p: Omit<BackupPiece, 'createdAt' | 'status' | 'restoredAt'>,
): Promise<void> {
  await client.query(
    `INSERT INTO ${MANIFEST} (id, piece, expires_at, migration_file, statement_line, statement, kind, source_schema, source_table, columns,
       column_types, key_columns, copy_table, rows, bytes, ddl, notes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
    [
      p.id,
      p.piece,
      p.expiresAt,
      p.migrationFile,
      p.statementLine,
      p.statement,
      p.kind,
      p.sourceSchema,
      p.sourceTable,
      p.columns,
      p.columnTypes,
      p.keyColumns,
      p.copyTable,
      p.rows,
      p.bytes,
      JSON.stringify(p.ddl),
      p.notes,
    ],
  );
}

/** The pieces of one backup (or of every backup), oldest piece first. */
export async function readPieces(client: pg.ClientBase, id?: string): Promise<BackupPiece[]> {
  if (!(await manifestExists(client))) return [];
  const r = await client.query<BackupPiece>(
    `SELECT ${PIECE_COLUMNS} FROM ${MANIFEST} ${id ? 'WHERE id = $1' : ''} ORDER BY created_at, id, piece`,
    id ? [id] : [],
  );
  return r.rows;
}

export interface BackupSummary {
  id: string;
  createdAt: Date;
  expiresAt: Date;
  pieces: BackupPiece[];
  rows: number;
  bytes: number;
  status: BackupPiece['status'];
}

export function summarize(pieces: BackupPiece[]): BackupSummary[] {
  const byId = new Map<string, BackupPiece[]>();
  for (const p of pieces) byId.set(p.id, [...(byId.get(p.id) ?? []), p]);
  return [...byId.entries()].map(([id, list]) => ({
    id,
    createdAt: list[0]!.createdAt,
    expiresAt: list.reduce((a, p) => (p.expiresAt > a ? p.expiresAt : a), list[0]!.expiresAt),
    pieces: list,
    rows: list.reduce((a, p) => a + p.rows, 0),
    bytes: list.reduce((a, p) => a + p.bytes, 0),
    status: list.every((p) => p.status === 'restored')
      ? 'restored'
      : list.some((p) => p.status === 'expired')
        ? 'expired'
        : 'kept',
  }));
}

/**
 * Drops the copy tables of expired backups (at the start of a run that may back up). Their manifest rows stay, marked
 * expired, so a later restore of that id says it expired instead of "unknown backup". Returns the ids dropped.
 */
export async function purgeExpired(client: pg.ClientBase, now = new Date()): Promise<string[]> {
  if (!(await manifestExists(client))) return [];
  const r = await client.query<{ id: string; piece: number; copy_table: string | null }>(
    `SELECT id, piece, copy_table FROM ${MANIFEST} WHERE status = 'kept' AND expires_at <= $1 ORDER BY id, piece`,
    [now],
  );
  for (const row of r.rows) {
    if (row.copy_table) await client.query(`DROP TABLE IF EXISTS ${qualified(BACKUP_SCHEMA, row.copy_table)}`);
    await client.query(`UPDATE ${MANIFEST} SET status = 'expired', copy_table = NULL WHERE id = $1 AND piece = $2`, [
      row.id,
      row.piece,
    ]);
  }
  return [...new Set(r.rows.map((x) => x.id))];
}

// ----------------------------------------------------------------------------------------- sizes

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  k: 1024,
  mb: 1024 ** 2,
  m: 1024 ** 2,
  gb: 1024 ** 3,
  g: 1024 ** 3,
  tb: 1024 ** 4,
  t: 1024 ** 4,
};

/** `500MB`, `2GB`, `1.5gb`, `1048576` (bytes); 1 kB = 1024 B like pg_size_pretty. `0` = no limit. */
export function parseSize(value: string, input: string): number {
  const text = value.trim().toLowerCase().replace(/\s+/g, '').replace(/ib$/, 'b');
  const m = /^(\d+(?:\.\d+)?)([a-z]*)$/.exec(text);
  const unit = m ? SIZE_UNITS[m[2] || 'b'] : undefined;
  if (!m || unit === undefined)
    throw new InputError(input, `expected a size like 500MB, 2GB or 0 (no limit), got ${quoteValue(value.trim())}`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new InputError(input, `is too large, got ${quoteValue(value.trim())}`);
  return bytes;
}

/** Sizes print as everywhere else (src/core/bytes.ts). */
export const formatSize = formatBytes;
