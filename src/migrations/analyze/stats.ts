// Live table sizes for weighing blocking statements: pg_class.reltuples (the planner's estimate) and
// pg_total_relation_size. An index name resolves to its table. A table never analysed (reltuples = -1 on PG 14+) is
// counted exactly, but only up to the large-table threshold, so the lookup stays cheap on huge tables.
import type { ClientBase } from 'pg';
import { quoteIdent } from '../../core/sql.js';
import type { TableStats } from './types.js';

/** 'public.Users' (as the parser reports names: already case-folded unless quoted) → '"public"."Users"'. */
export function regclassText(name: string): string {
  return name.split('.').map(quoteIdent).join('.');
}

interface Row {
  name: string;
  qualified: string;
  reltuples: number;
  bytes: string;
}

/** Sizes of the named tables/indexes that exist; missing names are simply absent from the map. */
export async function fetchTableStats(
  client: ClientBase,
  names: string[],
  largeTableRows: number,
): Promise<Map<string, TableStats>> {
  const out = new Map<string, TableStats>();
  if (names.length === 0) return out;
  const res = await client.query<Row>(
    `SELECT i.name,
            quote_ident(n.nspname) || '.' || quote_ident(t.relname) AS qualified,
            t.reltuples::float8 AS reltuples,
            pg_total_relation_size(t.oid)::text AS bytes
       FROM unnest($1::text[], $2::text[]) AS i(name, reg)
       JOIN pg_class c ON c.oid = to_regclass(i.reg)
       LEFT JOIN pg_index x ON x.indexrelid = c.oid
       JOIN pg_class t ON t.oid = COALESCE(x.indrelid, c.oid)
       JOIN pg_namespace n ON n.oid = t.relnamespace`,
    [names, names.map(regclassText)],
  );
  for (const row of res.rows) {
    let rows = Number(row.reltuples);
    if (!(rows >= 0)) {
      try {
        const count = await client.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM (SELECT 1 FROM ${row.qualified} LIMIT $1) s`,
          [largeTableRows],
        );
        rows = Number(count.rows[0]?.n ?? 0);
      } catch {
        // No SELECT privilege or the statement timeout hit: the size stays unknown and the finding keeps its class.
        continue;
      }
    }
    out.set(row.name, { rows, bytes: Number(row.bytes) });
  }
  return out;
}

export async function serverVersionNum(client: ClientBase): Promise<number> {
  const res = await client.query<{ server_version_num: string }>('SHOW server_version_num');
  return Number(res.rows[0]?.server_version_num ?? 0);
}

export interface ColumnFacts {
  /** format_type() of each column, keyed `${table}.${column}` (table as written in the SQL). */
  types: Map<string, string>;
  /** Columns already NOT NULL, or with a validated CHECK (col IS NOT NULL). */
  notNullProofs: Map<string, 'not-null' | 'check'>;
}

/** Live column definitions for the columns a finding depends on (binary-coercible type changes, SET NOT NULL). */
export async function fetchColumnFacts(
  client: ClientBase,
  columns: Array<{ table: string; column: string }>,
): Promise<ColumnFacts> {
  const facts: ColumnFacts = { types: new Map(), notNullProofs: new Map() };
  if (columns.length === 0) return facts;
  const res = await client.query<{ tbl: string; col: string; type: string; notnull: boolean; checked: boolean }>(
    `SELECT i.tbl, i.col, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
            EXISTS (SELECT 1 FROM pg_constraint c
                     WHERE c.conrelid = a.attrelid AND c.contype = 'c' AND c.convalidated
                       AND pg_get_constraintdef(c.oid) = format('CHECK ((%s IS NOT NULL))', quote_ident(a.attname))) AS checked
       FROM unnest($1::text[], $2::text[], $3::text[]) AS i(tbl, reg, col)
       JOIN pg_attribute a ON a.attrelid = to_regclass(i.reg) AND a.attname = i.col AND a.attnum > 0 AND NOT a.attisdropped`,
    [columns.map((c) => c.table), columns.map((c) => regclassText(c.table)), columns.map((c) => c.column)],
  );
  for (const row of res.rows) {
    const key = `${row.tbl}.${row.col}`;
    facts.types.set(key, row.type);
    if (row.notnull) facts.notNullProofs.set(key, 'not-null');
    else if (row.checked) facts.notNullProofs.set(key, 'check');
  }
  return facts;
}
