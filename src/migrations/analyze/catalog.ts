// Live catalog facts that decide whether a statement rewrites or scans: function volatility (pg_proc.provolatile),
// domain constraints (pg_constraint.contypid), column type/typmod/collation/NOT NULL and the indexes on a column
// (pg_attribute, pg_depend), validated CHECK constraints (pg_constraint.convalidated), index columns (pg_index) and
// partition keys/default partitions (pg_partitioned_table). The analysis asks for exactly what its statements need
// (CatalogQuestions), once per pending set, and reads nothing else. Read-only queries only.
import './wasm-dirname.js';
import type { ClientBase } from 'pg';
import { parse } from 'libpg-query';
import { asList, asNode, child, names, str, unwrap, type Node } from './ast.js';
import { regclassText } from './stats.js';

export type Volatility = 'i' | 's' | 'v';

export interface CatalogQuestions {
  /** Function names as the parser reports them (unquoted names already folded to lower case; `schema.name`). */
  functions: string[];
  /** Type names of added columns that are not built-in (domains may carry constraints). */
  types: string[];
  columns: Array<{ table: string; column: string }>;
  /** Tables whose validated CHECK constraints may prove NOT NULL or a partition bound. */
  tables: string[];
  /** Indexes named by ADD … USING INDEX, with the table they belong to. */
  indexes: Array<{ table: string; index: string }>;
  /** Partitioned tables gaining a partition (their key and default partition matter). */
  partitionParents: string[];
}

export interface LiveColumn {
  /** format_type(atttypid, atttypmod): 'character varying(20)', 'vector(768)'. */
  type: string;
  notNull: boolean;
  /** Collation name, null for non-collatable types. */
  collation: string | null;
  /** Indexes that depend on the column (key or expression). */
  indexes: string[];
}

export interface LiveCheck {
  name: string;
  /** pg_get_constraintdef() without the leading CHECK: '((email IS NOT NULL))'. */
  expression: string;
}

export interface LiveIndex {
  columns: Array<{ name: string; notNull: boolean }>;
}

export interface CatalogFacts {
  functions: Map<string, Volatility>;
  /** Domain type name → its constraint names (empty: a domain without constraints). Non-domains are absent. */
  domains: Map<string, string[]>;
  /** Keyed `${table}.${column}`, table as written in the SQL. */
  columns: Map<string, LiveColumn>;
  /** Validated CHECK constraints by table as written. A table present with [] has none. */
  checks: Map<string, LiveCheck[]>;
  /** Keyed `${table}|${index}`. */
  indexes: Map<string, LiveIndex>;
  /** Partitioned table → pg_get_partkeydef ('RANGE (created_at)') and whether it has a DEFAULT partition. */
  partitioned: Map<string, { key: string; hasDefault: boolean }>;
}

export function emptyCatalog(): CatalogFacts {
  return {
    functions: new Map(),
    domains: new Map(),
    columns: new Map(),
    checks: new Map(),
    indexes: new Map(),
    partitioned: new Map(),
  };
}

export function emptyQuestions(): CatalogQuestions {
  return { functions: [], types: [], columns: [], tables: [], indexes: [], partitionParents: [] };
}

/** Answers the questions with a handful of catalog queries (nothing is asked when there is nothing to ask). */
export async function fetchCatalogFacts(client: ClientBase, q: CatalogQuestions): Promise<CatalogFacts> {
  const facts = emptyCatalog();
  const uniq = <T>(xs: T[], key: (x: T) => string) => [...new Map(xs.map((x) => [key(x), x])).values()];

  const functions = uniq(q.functions, (f) => f);
  if (functions.length) {
    const split = functions.map((f) => {
      const i = f.lastIndexOf('.');
      return i === -1 ? ['', f] : [f.slice(0, i), f.slice(i + 1)];
    });
    // Every overload counts: the most volatile one decides (the analysis does not resolve argument types).
    const res = await client.query<{ name: string; vols: string }>(
      `SELECT i.name, string_agg(DISTINCT p.provolatile::text, '') AS vols
         FROM unnest($1::text[], $2::text[], $3::text[]) AS i(name, nsp, fn)
         JOIN pg_proc p ON p.proname = i.fn
         JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE (i.nsp = '' AND pg_function_is_visible(p.oid)) OR n.nspname = i.nsp
        GROUP BY i.name`,
      [functions, split.map((s) => s[0]), split.map((s) => s[1])],
    );
    for (const row of res.rows)
      facts.functions.set(row.name, row.vols.includes('v') ? 'v' : row.vols.includes('s') ? 's' : 'i');
  }

  const types = uniq(q.types, (t) => t);
  if (types.length) {
    const res = await client.query<{ name: string; cons: string[] }>(
      `SELECT i.name, ARRAY(SELECT c.conname::text FROM pg_constraint c WHERE c.contypid = t.oid ORDER BY c.conname) AS cons
         FROM unnest($1::text[], $2::text[]) AS i(name, reg)
         JOIN pg_type t ON t.oid = to_regtype(i.reg)
        WHERE t.typtype = 'd'`,
      [types, types.map(regclassText)],
    );
    for (const row of res.rows) facts.domains.set(row.name, row.cons);
  }

  const columns = uniq(q.columns, (c) => `${c.table}.${c.column}`);
  if (columns.length) {
    const res = await client.query<{
      tbl: string;
      col: string;
      type: string;
      notnull: boolean;
      collation: string | null;
      indexes: string[];
    }>(
      `SELECT i.tbl, i.col, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull, co.collname::text AS collation,
              ARRAY(SELECT DISTINCT ic.relname::text
                      FROM pg_depend d JOIN pg_index x ON x.indexrelid = d.objid JOIN pg_class ic ON ic.oid = x.indexrelid
                     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                       AND d.refobjid = a.attrelid AND d.refobjsubid = a.attnum) AS indexes
         FROM unnest($1::text[], $2::text[], $3::text[]) AS i(tbl, reg, col)
         JOIN pg_attribute a ON a.attrelid = to_regclass(i.reg) AND a.attname = i.col AND a.attnum > 0 AND NOT a.attisdropped
         LEFT JOIN pg_collation co ON co.oid = a.attcollation`,
      [columns.map((c) => c.table), columns.map((c) => regclassText(c.table)), columns.map((c) => c.column)],
    );
    for (const row of res.rows) {
      facts.columns.set(`${row.tbl}.${row.col}`, {
        type: row.type,
        notNull: row.notnull,
        collation: row.collation,
        indexes: row.indexes,
      });
    }
  }

  const tables = uniq(q.tables, (t) => t);
  if (tables.length) {
    const res = await client.query<{ tbl: string; name: string | null; def: string | null }>(
      `SELECT i.tbl, c.conname::text AS name, pg_get_constraintdef(c.oid) AS def
         FROM unnest($1::text[], $2::text[]) AS i(tbl, reg)
         JOIN pg_class t ON t.oid = to_regclass(i.reg)
         LEFT JOIN pg_constraint c ON c.conrelid = t.oid AND c.contype = 'c' AND c.convalidated`,
      [tables, tables.map(regclassText)],
    );
    for (const row of res.rows) {
      const list = facts.checks.get(row.tbl) ?? [];
      if (row.name && row.def)
        list.push({ name: row.name, expression: row.def.replace(/^CHECK\s*/, '').replace(/\s+NOT VALID$/, '') });
      facts.checks.set(row.tbl, list);
    }
  }

  const indexes = uniq(q.indexes, (x) => `${x.table}|${x.index}`);
  if (indexes.length) {
    // An index lives in its table's schema.
    const reg = indexes.map((x) =>
      x.table.includes('.')
        ? regclassText(`${x.table.slice(0, x.table.lastIndexOf('.'))}.${x.index}`)
        : regclassText(x.index),
    );
    const res = await client.query<{ tbl: string; idx: string; col: string; notnull: boolean }>(
      `SELECT i.tbl, i.idx, a.attname::text AS col, a.attnotnull AS notnull
         FROM unnest($1::text[], $2::text[], $3::text[]) AS i(tbl, idx, reg)
         JOIN pg_index x ON x.indexrelid = to_regclass(i.reg)
         JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ANY (x.indkey::int2[]) AND a.attnum > 0`,
      [indexes.map((x) => x.table), indexes.map((x) => x.index), reg],
    );
    for (const row of res.rows) {
      const key = `${row.tbl}|${row.idx}`;
      const entry = facts.indexes.get(key) ?? { columns: [] };
      entry.columns.push({ name: row.col, notNull: row.notnull });
      facts.indexes.set(key, entry);
    }
  }

  const parents = uniq(q.partitionParents, (p) => p);
  if (parents.length) {
    const res = await client.query<{ tbl: string; key: string; has_default: boolean }>(
      `SELECT i.tbl, pg_get_partkeydef(p.partrelid) AS key, p.partdefid <> 0 AS has_default
         FROM unnest($1::text[], $2::text[]) AS i(tbl, reg)
         JOIN pg_partitioned_table p ON p.partrelid = to_regclass(i.reg)`,
      [parents, parents.map(regclassText)],
    );
    for (const row of res.rows) facts.partitioned.set(row.tbl, { key: row.key, hasDefault: row.has_default });
  }
  return facts;
}

// ---- reading CHECK expressions with the real parser ----

/** Top-level AND conjuncts of a CHECK expression (parsed from pg_get_constraintdef output), or [] when unparseable. */
export async function checkConjuncts(expression: string): Promise<Node[]> {
  let tree: { stmts?: unknown[] };
  try {
    tree = await parse(`SELECT WHERE ${expression}`);
  } catch {
    return [];
  }
  const select = child(asNode(asNode(tree.stmts?.[0])?.stmt), 'SelectStmt');
  const out: Node[] = [];
  const walk = (v: unknown) => {
    const bool = child(v, 'BoolExpr');
    if (bool && str(bool.boolop) === 'AND_EXPR') for (const a of asList(bool.args)) walk(a);
    else if (asNode(v)) out.push(asNode(v) as Node);
  };
  walk(select?.whereClause);
  return out;
}

function columnOf(v: unknown): string | undefined {
  const parts = names(child(v, 'ColumnRef')?.fields);
  return parts.length === 1 ? parts[0] : undefined;
}

/** The value of a constant (through casts), as text, for comparing partition bounds with CHECK expressions. */
export function constantText(v: unknown): string | undefined {
  const [type, node] = unwrap(v) ?? ['', {}];
  if (type === 'TypeCast') return constantText(node.arg);
  if (type !== 'A_Const' || node.isnull === true) return undefined;
  for (const [k, inner] of Object.entries(node)) {
    const n = asNode(inner);
    if (!n) continue;
    if (k === 'sval') return str(n.sval) ?? '';
    if (k === 'ival') return String(typeof n.ival === 'number' ? n.ival : 0);
    if (k === 'fval') return str(n.fval);
    if (k === 'boolval') return String(n.boolval === true);
  }
  return undefined;
}

/**
 * A conjunct proves `col IS NOT NULL` only when it is that test. PostgreSQL proves NOT NULL from CHECK constraints by
 * weak implication (NotNullImpliedByRelConstraints → predicate_implied_by(…, weak = true), PG 12+): a CHECK passes
 * when it is NULL, so `CHECK (col > 0)` admits NULLs and does not count (verified in the gate corpus).
 */
export function provesNotNull(conjunct: Node, column: string): boolean {
  const test = child(conjunct, 'NullTest');
  return test !== undefined && str(test.nulltesttype) === 'IS_NOT_NULL' && columnOf(test.arg) === column;
}

/** `col <op> constant` (either side) → the constant's text, for the operator given. */
export function comparisonWith(conjunct: Node, column: string, op: string): string | undefined {
  const expr = child(conjunct, 'A_Expr');
  if (!expr || str(expr.kind) !== 'AEXPR_OP') return undefined;
  const name = names(expr.name).pop();
  const flipped: Record<string, string> = { '<': '>', '>': '<', '<=': '>=', '>=': '<=', '=': '=' };
  if (name === op && columnOf(expr.lexpr) === column) return constantText(expr.rexpr);
  if (name === flipped[op] && columnOf(expr.rexpr) === column) return constantText(expr.lexpr);
  return undefined;
}
