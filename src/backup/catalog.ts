// Catalog reads a backup needs: the table behind a name, its columns, a key to match rows by, and the DDL that
// re-creates what a DROP takes with it (constraints, indexes, triggers, foreign keys pointing at it, grants).
import type pg from 'pg';
import { quoteQualified } from '../core/sql.js';
import type { RelationRef } from '../migrations/runner/split.js';
import { ident, qualified, type RestoreDdl } from './store.js';
import type { Target } from './targets.js';

export interface TableRef {
  oid: number;
  schema: string;
  name: string;
}

export interface ColumnInfo {
  attnum: number;
  name: string;
  type: string;
  notNull: boolean;
  default: string | null;
  identity: string;
  generated: string;
  sequence: string | null;
}

/** The table a name resolves to now (through search_path, like the statement itself), or undefined. */
export async function resolveTable(client: pg.ClientBase, ref: RelationRef): Promise<TableRef | undefined> {
  const r = await client.query<{ oid: number; schema: string; name: string; relkind: string }>(
    `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relkind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
    [quoteQualified(ref.schema, ref.name)],
  );
  const row = r.rows[0];
  // Ordinary and partitioned tables only: views, foreign tables … hold no data of their own to copy.
  return row && (row.relkind === 'r' || row.relkind === 'p')
    ? { oid: row.oid, schema: row.schema, name: row.name }
    : undefined;
}

export async function tableByName(client: pg.ClientBase, schema: string, name: string): Promise<TableRef | undefined> {
  return resolveTable(client, { schema, name });
}

export async function columnsOf(client: pg.ClientBase, t: TableRef): Promise<ColumnInfo[]> {
  const r = await client.query<ColumnInfo>(
    `SELECT a.attnum::int AS attnum, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS "notNull",
            pg_get_expr(d.adbin, d.adrelid) AS default, a.attidentity AS identity, a.attgenerated AS generated,
            pg_get_serial_sequence($2, a.attname) AS sequence
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [t.oid, qualified(t.schema, t.name)],
  );
  return r.rows;
}

/**
 * Columns that identify a row: the primary key, else the narrowest valid unique index on NOT NULL columns without
 * expressions or a predicate. Keys containing `exclude` (the columns the statement drops or rewrites) do not count.
 * Empty when there is none.
 */
export async function keyOf(client: pg.ClientBase, t: TableRef, exclude: string[] = []): Promise<string[]> {
  const r = await client.query<{ cols: string[]; notnull: boolean }>(
    `SELECT array_agg(a.attname::text ORDER BY k.ord) AS cols, bool_and(a.attnotnull) AS notnull
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL AND k.ord <= i.indnkeyatts
      GROUP BY i.indexrelid, i.indisprimary
      ORDER BY i.indisprimary DESC, count(*), i.indexrelid`,
    [t.oid],
  );
  const key = r.rows.find((x) => x.notnull && !x.cols.some((c) => exclude.includes(c)));
  return key?.cols ?? [];
}

/** Estimated bytes of copying `columns` of `t` (all of them when empty): pg_stats widths, else the table's size. */
export async function estimateCopyBytes(client: pg.ClientBase, t: TableRef, columns: string[]): Promise<number> {
  const r = await client.query<{ table_bytes: string; reltuples: number; part: string | null; known: string }>(
    `SELECT pg_table_size($1::oid) AS table_bytes, c.reltuples,
            (SELECT sum(s.avg_width) FROM pg_stats s WHERE s.schemaname = $2 AND s.tablename = $3 AND s.attname = ANY($4)) AS part,
            (SELECT count(*) FROM pg_stats s WHERE s.schemaname = $2 AND s.tablename = $3 AND s.attname = ANY($4)) AS known
       FROM pg_class c WHERE c.oid = $1`,
    [t.oid, t.schema, t.name, columns],
  );
  const row = r.rows[0];
  const whole = Number(row?.table_bytes ?? 0);
  if (!columns.length || !row) return whole;
  // A copy of a few columns is ~ rows × (their widths + the 24-byte tuple header + item pointer); without statistics
  // for every column (never analysed), the whole table's size is the safe upper bound.
  if (Number(row.known) === columns.length && row.reltuples > 0 && row.part !== null)
    return Math.min(whole, Math.round(row.reltuples * (Number(row.part) + 28)));
  return whole;
}

/** DDL that puts back what DROP TABLE takes with the table; `attnums` limits it to what depends on those columns. */
export async function restoreDdlOf(
  client: pg.ClientBase,
  t: TableRef,
  columns: ColumnInfo[],
  attnums?: number[],
): Promise<{ ddl: RestoreDdl; notes: string[] }> {
  const table = qualified(t.schema, t.name);
  const onlyColumns = attnums !== undefined;
  const touches = (keys: number[] | null) => !onlyColumns || (keys ?? []).some((k) => attnums.includes(k));
  const statements: string[] = [];
  const bestEffort: string[] = [];
  const notes: string[] = [];

  // Own constraints, primary and unique keys first (foreign keys elsewhere may need them). NOT NULL is per column.
  const cons = await client.query<{ name: string; type: string; def: string; keys: number[] | null; depends: boolean }>(
    `SELECT conname AS name, contype AS type, pg_get_constraintdef(oid) AS def, conkey::int[] AS keys,
            EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_constraint'::regclass AND d.objid = c.oid
                      AND d.refobjid = $1 AND d.refobjsubid = ANY($2::int[])) AS depends
       FROM pg_constraint c WHERE conrelid = $1 AND contype IN ('p', 'u', 'x', 'c', 'f')
      ORDER BY CASE contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'x' THEN 2 WHEN 'c' THEN 3 ELSE 4 END, conname`,
    [t.oid, attnums ?? []],
  );
  for (const c of cons.rows) {
    if (touches(c.keys) || (onlyColumns && c.depends))
      statements.push(`ALTER TABLE ${table} ADD CONSTRAINT ${ident(c.name)} ${c.def}`);
  }
  // Indexes that back no constraint (those come back with their constraint), including ones on expressions of it.
  const idx = await client.query<{ def: string; keys: number[]; depends: boolean }>(
    `SELECT pg_get_indexdef(i.indexrelid) AS def, i.indkey::int2[]::int[] AS keys,
            EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
                      AND d.refobjid = $1 AND d.refobjsubid = ANY($2::int[])) AS depends
       FROM pg_index i
      WHERE i.indrelid = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
      ORDER BY i.indexrelid`,
    [t.oid, attnums ?? []],
  );
  for (const i of idx.rows) if (touches(i.keys) || (onlyColumns && i.depends)) statements.push(i.def);

  // Foreign keys of other tables that point at it: DROP … CASCADE removed them.
  const inbound = await client.query<{ tbl: string; name: string; def: string; keys: number[] }>(
    `SELECT format('%I.%I', n.nspname, r.relname) AS tbl, c.conname AS name, pg_get_constraintdef(c.oid) AS def, c.confkey::int[] AS keys
       FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
      WHERE c.confrelid = $1 AND c.contype = 'f' AND c.conrelid <> $1 ORDER BY 1, 2`,
    [t.oid],
  );
  for (const f of inbound.rows)
    if (touches(f.keys)) bestEffort.push(`ALTER TABLE ${f.tbl} ADD CONSTRAINT ${ident(f.name)} ${f.def}`);

  if (!onlyColumns) {
    const trig = await client.query<{ def: string }>(
      'SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = $1 AND NOT tgisinternal ORDER BY tgname',
      [t.oid],
    );
    statements.push(...trig.rows.map((r) => r.def));
    // Table privileges of roles other than the owner (aclexplode of pg_class.relacl).
    const grants = await client.query<{ stmt: string }>(
      `SELECT format('GRANT %s ON %s TO %s', string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type), $2::text,
                     CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END) AS stmt
         FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
        WHERE c.oid = $1 AND a.grantee <> c.relowner GROUP BY a.grantee ORDER BY 1`,
      [t.oid, table],
    );
    bestEffort.push(...grants.rows.map((r) => r.stmt));
    const extra = await client.query<{ policies: string; rls: boolean; views: string; owner: string; me: string }>(
      `SELECT (SELECT count(*) FROM pg_policy WHERE polrelid = $1) AS policies, c.relrowsecurity AS rls,
              (SELECT count(DISTINCT v.oid) FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class v ON v.oid = w.ev_class
                WHERE d.refobjid = $1 AND d.classid = 'pg_rewrite'::regclass AND v.oid <> $1) AS views,
              pg_get_userbyid(c.relowner) AS owner, current_user AS me
         FROM pg_class c WHERE c.oid = $1`,
      [t.oid],
    );
    const e = extra.rows[0];
    if (e && Number(e.policies) > 0)
      notes.push(`${e.policies} row-level security polic${Number(e.policies) === 1 ? 'y is' : 'ies are'} not restored`);
    if (e?.rls) notes.push('row-level security (ENABLE ROW LEVEL SECURITY) is not restored');
    if (e && Number(e.views) > 0)
      notes.push(`${e.views} view(s) depend on it; a DROP … CASCADE drops them and restore does not re-create them`);
    if (e && e.owner !== e.me) notes.push(`the restored table is owned by the restoring role, not ${e.owner}`);
    notes.push('comments and column-level privileges are not restored');
  } else {
    const views = await client.query<{ n: string }>(
      `SELECT count(DISTINCT w.ev_class) AS n FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = $1 AND d.refobjsubid = ANY($2::int[]) AND w.ev_class <> $1`,
      [t.oid, attnums],
    );
    if (Number(views.rows[0]?.n ?? 0) > 0)
      notes.push(
        `${views.rows[0]?.n} view(s) use the column; DROP COLUMN … CASCADE drops them and restore does not re-create them`,
      );
  }
  const ddlColumns = columns.map((c) => ({
    name: c.name,
    type: c.type,
    notNull: c.notNull,
    default: c.default,
    identity: c.identity,
    generated: c.generated,
    sequence: c.sequence,
  }));
  return { ddl: { columns: ddlColumns, statements, bestEffort }, notes };
}

/**
 * What the foreign keys pointing at `root` destroy along with its rows, as backup targets: every row of the tables a
 * TRUNCATE … CASCADE empties, the rows an ON DELETE CASCADE removes (the whole referencing table is copied, as for the
 * DELETE itself: which rows go is known only when it runs), recursively; and the key columns an ON DELETE SET NULL /
 * SET DEFAULT overwrites (PostgreSQL docs, CREATE TABLE "REFERENCES … ON DELETE referential_action"; TRUNCATE
 * "CASCADE: Automatically truncate all tables that have foreign-key references to any of the named tables").
 * Nearest first (withCascades orders them for the restore).
 */
export async function cascadeTargets(client: pg.ClientBase, root: TableRef, truncate: boolean): Promise<Target[]> {
  const out: Target[] = [];
  const rowsOf = new Set([root.oid]);
  const rootName = `${root.schema}.${root.name}`;
  for (let level = [root.oid]; level.length;) {
    const r = await client.query<{ oid: number; schema: string; name: string; action: string; columns: string[] }>(
      `SELECT c.conrelid::int AS oid, n.nspname AS schema, r.relname AS name, c.confdeltype AS action,
              ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, i)
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.i) AS columns
         FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
        WHERE c.confrelid = ANY($1::oid[]) AND c.contype = 'f' AND ($2 OR c.confdeltype IN ('c', 'n', 'd'))
          -- A partitioned table's key is cloned onto each partition: the copy of the partitioned table holds their rows.
          AND NOT EXISTS (SELECT 1 FROM pg_constraint p WHERE p.oid = c.conparentid AND p.confrelid = c.confrelid)
        ORDER BY 2, 3, c.conname`,
      [level, truncate],
    );
    const next: number[] = [];
    for (const row of r.rows) {
      const table = { schema: row.schema, name: row.name };
      if (truncate || row.action === 'c') {
        if (rowsOf.has(row.oid)) continue; // copied whole already
        rowsOf.add(row.oid);
        next.push(row.oid);
        out.push({ kind: 'rows', table, columns: [], via: truncate ? 'truncate' : 'delete', cascadeOf: rootName });
      } else {
        out.push({ kind: 'values', table, columns: row.columns, cascadeOf: rootName });
      }
    }
    level = next;
  }
  // A SET NULL key is kept even on a table copied whole: restoring rows only adds the missing ones, and the rows the
  // cascade kept have their keys overwritten.
  return out;
}
