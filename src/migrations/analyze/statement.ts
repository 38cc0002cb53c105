// Classifies one parsed statement: the lock it takes, whether it rewrites/scans, whether it can run in a transaction,
// and which rules it hits. Lock facts: PG docs explicit-locking.html / sql-altertable.html (migrations.md §5).
import { nonTransactionalReason } from '../runner/split.js';
import {
  asList,
  asNode,
  child,
  collectNodes,
  containsNode,
  hasDefElem,
  location,
  names,
  rangeVarName,
  str,
  type Node,
} from './ast.js';
import { constantText, type LiveColumn, type Volatility } from './catalog.js';
import type { RuleId } from './rules.js';
import { strongerLock, type LockMode, type StatementEffects } from './types.js';

/** A rule hit before ignores, size weighing and positions are applied. */
export interface RawFinding {
  rule: RuleId;
  message?: string;
  table?: string;
  columnName?: string;
  /** Byte offset of the offending node, when the AST has one. */
  loc?: number;
}

export interface StatementFacts extends StatementEffects {
  /** The catalog or PostgreSQL facts that decided lock/rewrite/scan, one sentence each (shown in the plan). */
  decidedBy: string[];
  /** Why it cannot run in a transaction block (undefined: it can). */
  nonTransactional?: string;
  findings: RawFinding[];
  /** Why a rule did not apply although it usually would (binary-coercible type change …). */
  note?: string;
}

/** What the live database proves about a column's NULLs (SET NOT NULL, PRIMARY KEY USING INDEX). */
export type NotNullProof = { by: 'not-null' } | { by: 'check'; constraint: string } | { by: 'none' };

/**
 * Read-only view of the live catalog for one analysis. Every lookup answers undefined when the fact is not known
 * (no database, or the object is not there), and the analysis then keeps the cautious answer.
 */
export interface CatalogView {
  /** pg_proc.provolatile of the most volatile overload. */
  volatility(fn: string): Volatility | undefined;
  /** Constraint names of a domain type ([] for a domain without constraints); undefined when not a known domain. */
  domainConstraints(type: string): string[] | undefined;
  column(table: string, column: string): LiveColumn | undefined;
  /** undefined: unknown. { by: 'none' }: the catalog was read and proves nothing. */
  notNullProof(table: string, column: string): NotNullProof | undefined;
  /** Columns of an index named by ADD … USING INDEX, with their NOT NULL proofs. */
  indexColumns(table: string, index: string): Array<{ name: string; proof: NotNullProof }> | undefined;
  /** Partition key and DEFAULT partition of a partitioned table. */
  partitioned(table: string): { key: string; hasDefault: boolean } | undefined;
  /** The validated CHECK constraint on `table` that implies a RANGE bound (key IS NOT NULL AND key >= lo AND key < hi). */
  rangeBoundProof(table: string, key: string, lower: string, upper: string): string | undefined;
}

export const NO_CATALOG: CatalogView = {
  volatility: () => undefined,
  domainConstraints: () => undefined,
  column: () => undefined,
  notNullProof: () => undefined,
  indexColumns: () => undefined,
  partitioned: () => undefined,
  rangeBoundProof: () => undefined,
};

/** What the analyzer knows about the whole pending migration set and the current file at this statement. */
export interface StatementContext {
  pgMajor: number;
  /** A table created by an earlier statement of the pending set: empty, and unknown to the running app. */
  isNewTable(name: string): boolean;
  /** An object of this kind and name is created again by a later statement of the pending set. */
  recreatedLater(kind: string, name: string): boolean;
  /** Constraints added NOT VALID earlier in the set: table|conname → the transaction it ran in and the column of a NOT NULL check. */
  notValidConstraints: Map<string, { transactionId: string; notNullColumn?: string }>;
  /** table|column pairs that have a validated CHECK (col IS NOT NULL). */
  validatedNotNull: Set<string>;
  file: string;
  /** Inside an explicit BEGIN … COMMIT written in the file. */
  inExplicitTransaction: boolean;
  /** The statement will not run inside a transaction (file runs statement by statement, or it is split out). */
  runsOutsideTransaction: boolean;
  /** Identifies the transaction this statement runs in (NOT VALID + VALIDATE in one transaction hold the lock together). */
  transactionId: string;
  /** The live column type (format_type) when known, for binary-coercible type changes. */
  columnType(table: string, column: string): string | undefined;
  /** What the live database proves about a column's NULLs: already NOT NULL, or a validated CHECK (col IS NOT NULL). */
  liveNotNull(table: string, column: string): 'not-null' | 'check' | undefined;
  /** The live catalog (tables created earlier in the pending set are never looked up in it). */
  catalog: CatalogView;
}

/** Bare (unqualified) object name, for matching created/dropped objects across statements. */
export function bareName(name: string): string {
  const i = name.lastIndexOf('.');
  return i === -1 ? name : name.slice(i + 1);
}

// Built-in functions whose result does not change per row (pg_proc.provolatile 'i' or 's'): a DEFAULT using only these
// is evaluated once and stored as the column's "missing value" on PG 11+, so no rewrite (sql-altertable.html, Notes:
// "adding a column with a volatile DEFAULT … will require the entire table and its indexes to be rewritten"). The live
// catalog overrides both lists; without it, an unknown function is assumed volatile, as squawk does.
const NON_VOLATILE_FUNCTIONS = new Set([
  'now', 'statement_timestamp', 'transaction_timestamp', 'current_timestamp', 'current_date', 'localtimestamp',
  'lower', 'upper', 'concat', 'coalesce', 'to_jsonb', 'to_json', 'jsonb_build_object', 'json_build_object',
  'jsonb_build_array', 'json_build_array', 'array', 'make_date', 'make_timestamp', 'make_timestamptz', 'make_interval',
  'to_timestamp', 'to_date', 'length', 'abs', 'round', 'trim', 'replace', 'md5', 'current_user', 'current_schema',
  'current_setting', 'timezone', 'date_trunc', 'nullif', 'greatest', 'least', 'int4', 'int8', 'text', 'uuid',
]);
const VOLATILE_HINT = new Set(['random', 'gen_random_uuid', 'uuid_generate_v4', 'uuid_generate_v1', 'clock_timestamp',
  'timeofday', 'nextval', 'txid_current', 'uuidv7', 'uuidv4']);

const VOLATILITY_NAMES: Record<Volatility, string> = { i: 'immutable', s: 'stable', v: 'volatile' };

/**
 * Whether a DEFAULT expression may differ per row (forces a table rewrite), and the fact that decided it: the live
 * pg_proc.provolatile when known, else the built-in lists.
 */
export function defaultVolatility(expr: unknown, catalog: CatalogView = NO_CATALOG): { volatile: boolean; facts: string[] } {
  const facts: string[] = [];
  let volatile = false;
  for (const fc of collectNodes(expr, 'FuncCall')) {
    // The parser has folded unquoted names to lower case; a quoted "Name" is a different function.
    const parts = names(fc.funcname);
    const fname = parts[parts.length - 1] ?? '';
    const written = parts.join('.');
    const live = catalog.volatility(written) ?? (parts.length > 1 ? undefined : catalog.volatility(fname));
    if (live) {
      facts.push(`${written}() is ${VOLATILITY_NAMES[live]} (pg_proc.provolatile = '${live}')`);
      if (live === 'v') volatile = true;
    } else if (VOLATILE_HINT.has(fname) || !NON_VOLATILE_FUNCTIONS.has(fname)) {
      facts.push(VOLATILE_HINT.has(fname) ? `${written}() is volatile` : `${written}() is not a known non-volatile built-in and the live catalog was not read: assumed volatile`);
      volatile = true;
    } else {
      facts.push(`${written}() is a non-volatile built-in`);
    }
  }
  // Sub-selects in defaults are not allowed by Postgres; anything else (constants, casts, arrays, operators,
  // SQLValueFunction like CURRENT_TIMESTAMP) is non-volatile.
  return { volatile, facts };
}

/** True when a DEFAULT expression may differ per row (forces a table rewrite). */
export function isVolatileDefault(expr: unknown, catalog: CatalogView = NO_CATALOG): boolean {
  return defaultVolatility(expr, catalog).volatile;
}

const SERIAL_TYPES = new Set(['serial', 'serial4', 'bigserial', 'serial8', 'smallserial', 'serial2']);

export interface TypeInfo {
  name: string;
  hasTypmods: boolean;
  isArray: boolean;
  loc?: number;
}

export function typeInfo(typeName: unknown): TypeInfo | undefined {
  const t = asNode(typeName);
  if (!t) return undefined;
  const parts = names(t.names);
  const name = (parts[parts.length - 1] ?? '').toLowerCase();
  const loc = location(t);
  return { name, hasTypmods: asList(t.typmods).length > 0, isArray: asList(t.arrayBounds).length > 0, ...(loc !== undefined ? { loc } : {}) };
}

/** squawk's column type hygiene rules (prefer-bigint-*, prefer-identity, prefer-text-field, ban-char-field …). */
export function typeFindings(typeName: unknown, fallbackLoc: number | undefined, column: string | undefined): RawFinding[] {
  const t = typeInfo(typeName);
  if (!t) return [];
  const loc = t.loc ?? fallbackLoc;
  const col = column ? `column ${column}` : 'the column';
  const at = (rule: RuleId, message: string): RawFinding => ({ rule, message, ...(loc !== undefined ? { loc } : {}) });
  const out: RawFinding[] = [];
  switch (t.name) {
    case 'int4':
    case 'int':
    case 'integer':
    case 'serial':
    case 'serial4':
      out.push(at('prefer-bigint-over-int', `${col} is a 32-bit integer; it can overflow at 2^31`));
      break;
    case 'int2':
    case 'smallint':
    case 'smallserial':
    case 'serial2':
      out.push(at('prefer-bigint-over-smallint', `${col} is a 16-bit integer; it overflows at 32767`));
      break;
    // char(n)/character(n) parse as bpchar; a bare "char" is the one-byte internal type, not blank-padded text.
    case 'bpchar':
      out.push(at('ban-char-field', `${col} is char(n): values are blank-padded`));
      break;
    case 'varchar':
      if (t.hasTypmods) out.push(at('prefer-text-field', `${col} is varchar(n): raising the limit later takes ACCESS EXCLUSIVE`));
      break;
    case 'timestamp':
      out.push(at('prefer-timestamptz', `${col} is timestamp without time zone`));
      break;
    case 'json':
      out.push(at('prefer-jsonb', `${col} is json, not jsonb`));
      break;
  }
  if (SERIAL_TYPES.has(t.name)) out.push(at('prefer-identity', `${col} is ${t.name}`));
  return out;
}

function duplicateColumns(cols: Array<[string | undefined, number | undefined]>, what: string): RawFinding[] {
  const seen = new Set<string>();
  const out: RawFinding[] = [];
  for (const [name, loc] of cols) {
    if (!name) continue;
    if (seen.has(name)) {
      out.push({ rule: 'ban-duplicate-column-assignments', message: `column ${name} is ${what} twice`, ...(loc !== undefined ? { loc } : {}) });
    }
    seen.add(name);
  }
  return out;
}

function constraintsOf(columnDef: Node): Array<[string, Node]> {
  return asList(columnDef.constraints)
    .map((c) => asNode(asNode(c)?.Constraint))
    .filter((c): c is Node => c !== undefined)
    .map((c) => [str(c.contype) ?? '', c]);
}

/** `CHECK (col IS NOT NULL)` → col. */
function notNullCheckColumn(constraint: Node): string | undefined {
  const test = child(constraint.raw_expr, 'NullTest');
  if (!test || str(test.nulltesttype) !== 'IS_NOT_NULL') return undefined;
  return names(child(test.arg, 'ColumnRef')?.fields).pop();
}

const DROP_OBJECT_KINDS: Record<string, string> = {
  OBJECT_VIEW: 'view',
  OBJECT_MATVIEW: 'view',
  OBJECT_TYPE: 'type',
  OBJECT_DOMAIN: 'type',
  OBJECT_SEQUENCE: 'sequence',
  OBJECT_EXTENSION: 'extension',
  OBJECT_FUNCTION: 'function',
  OBJECT_PROCEDURE: 'function',
  OBJECT_ROUTINE: 'function',
  OBJECT_AGGREGATE: 'function',
};

/** Name of one object in DropStmt.objects (List of String, TypeName, ObjectWithArgs or String). */
function dropObjectName(obj: unknown): string | undefined {
  const n = asNode(obj);
  if (!n) return undefined;
  if (n.List) return names(asNode(n.List)?.items).join('.');
  if (n.TypeName) return names(asNode(n.TypeName)?.names).join('.');
  if (n.ObjectWithArgs) return names(asNode(n.ObjectWithArgs)?.objname).join('.');
  if (n.String) return str(asNode(n.String)?.sval);
  return undefined;
}

/** Object kinds and names a statement creates (for "re-created later in the set" and "new table" checks). */
export function createdObjects(type: string, node: Node): Array<{ kind: string; name: string }> {
  const out: Array<{ kind: string; name: string }> = [];
  const add = (kind: string, name: string | undefined) => {
    if (name) out.push({ kind, name: bareName(name) });
  };
  switch (type) {
    case 'CreateStmt': {
      const table = rangeVarName(node.relation);
      add('table', table);
      for (const elt of asList(node.tableElts)) {
        const c = child(elt, 'Constraint');
        if (c && table) add('constraint', `${bareName(table)}|${str(c.conname) ?? ''}`);
      }
      break;
    }
    case 'CreateTableAsStmt':
      add(str(node.objtype) === 'OBJECT_MATVIEW' ? 'view' : 'table', rangeVarName(asNode(node.into)?.rel));
      break;
    case 'ViewStmt':
      add('view', rangeVarName(node.view));
      break;
    case 'CreateEnumStmt':
    case 'CreateRangeStmt':
      add('type', names(node.typeName).join('.'));
      break;
    case 'CompositeTypeStmt':
      add('type', rangeVarName(node.typevar));
      break;
    case 'CreateDomainStmt':
      add('type', names(node.domainname).join('.'));
      break;
    case 'CreateSeqStmt':
      add('sequence', rangeVarName(node.sequence));
      break;
    case 'CreateExtensionStmt':
      add('extension', str(node.extname));
      break;
    case 'CreateFunctionStmt':
      add('function', names(node.funcname).join('.'));
      break;
    case 'AlterTableStmt': {
      const table = rangeVarName(node.relation);
      for (const c of asList(node.cmds)) {
        const cmd = child(c, 'AlterTableCmd');
        const con = child(cmd?.def, 'Constraint');
        if (cmd?.subtype === 'AT_AddConstraint' && con && table) add('constraint', `${bareName(table)}|${str(con.conname) ?? ''}`);
      }
      break;
    }
  }
  return out;
}

class Facts implements StatementFacts {
  tables: string[] = [];
  lock: LockMode | null = null;
  rewritesTable = false;
  scansTable = false;
  breaking = false;
  destructive = false;
  nonTransactional?: string;
  findings: RawFinding[] = [];
  note?: string;
  decidedBy: string[] = [];

  touch(table: string | undefined, lock: LockMode | null): void {
    if (table && !this.tables.includes(table)) this.tables.push(table);
    this.lock = strongerLock(this.lock, lock);
  }

  hit(rule: RuleId, opts: { message?: string; table?: string; columnName?: string | undefined; loc?: number | undefined } = {}): void {
    const f: RawFinding = { rule };
    if (opts.message) f.message = opts.message;
    if (opts.table) f.table = opts.table;
    if (opts.columnName) f.columnName = opts.columnName;
    if (opts.loc !== undefined) f.loc = opts.loc;
    this.findings.push(f);
  }
}

const ROBUST_HINT = 'add IF [NOT] EXISTS';

export function classifyStatement(type: string, node: Node, ctx: StatementContext): StatementFacts {
  const f = new Facts();
  const reason = nonTransactionalReason(type, node);
  if (reason) f.nonTransactional = reason;
  const robust = (ok: boolean, what: string, loc?: number) => {
    if (!ok && ctx.runsOutsideTransaction && !ctx.inExplicitTransaction) {
      f.hit('prefer-robust-stmts', { message: `${what} runs outside a transaction without IF [NOT] EXISTS; a retry after a partial failure errors (${ROBUST_HINT})`, loc });
    }
  };

  switch (type) {
    case 'AlterTableStmt':
      alterTable(node, ctx, f, robust);
      break;

    case 'IndexStmt': {
      const table = rangeVarName(node.relation);
      const isNew = table !== undefined && ctx.isNewTable(table);
      const concurrent = node.concurrent === true;
      f.touch(table, concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE');
      f.scansTable = !isNew;
      const method = str(node.accessMethod) ?? 'btree';
      const idx = str(node.idxname);
      if (concurrent && ctx.inExplicitTransaction) {
        f.hit('ban-concurrent-index-creation-in-transaction', { table, message: `CREATE INDEX CONCURRENTLY ${idx ?? ''} is inside BEGIN … COMMIT: Postgres rejects it (25001)` });
      }
      if (!concurrent && !isNew) {
        f.hit('require-concurrent-index-creation', { table, message: `CREATE ${node.unique ? 'UNIQUE ' : ''}INDEX ${idx ?? ''} on ${table ?? '?'} without CONCURRENTLY blocks writes (SHARE lock) for the whole build` });
      }
      if ((method === 'hnsw' || method === 'ivfflat') && !isNew) {
        f.hit('vector-index-build', { table, message: `${method.toUpperCase()} index build on ${table ?? '?'}: CPU- and memory-heavy, slow on large tables` });
      }
      if (!node.unique && asList(node.indexParams).length > 3) {
        f.hit('index-too-many-columns', { table, message: `non-unique index on ${asList(node.indexParams).length} columns` });
      }
      if (concurrent && node.if_not_exists !== true) {
        // Never atomic, even when written inside BEGIN: a failed build leaves an INVALID index behind.
        f.hit('prefer-robust-stmts', { message: `CREATE INDEX CONCURRENTLY ${idx ?? ''} without IF NOT EXISTS: a retry after a failed build errors (${ROBUST_HINT})` });
      } else if (!concurrent) robust(node.if_not_exists === true, `CREATE INDEX ${idx ?? ''}`);
      break;
    }

    case 'CreateStmt': {
      const table = rangeVarName(node.relation);
      const cols: Array<[string | undefined, number | undefined]> = [];
      for (const elt of asList(node.tableElts)) {
        const col = child(elt, 'ColumnDef');
        if (col) {
          const name = str(col.colname);
          cols.push([name, location(col)]);
          f.findings.push(...typeFindings(col.typeName, location(col), name));
          for (const [, c] of constraintsOf(col)) {
            const pk = rangeVarName(c.pktable);
            if (pk) f.touch(pk, 'SHARE ROW EXCLUSIVE');
          }
        }
        const con = child(elt, 'Constraint');
        if (con) {
          const pk = rangeVarName(con.pktable);
          if (pk) f.touch(pk, 'SHARE ROW EXCLUSIVE');
        }
      }
      // Partitions attach to their parent: SHARE UPDATE EXCLUSIVE on it (PG 12+).
      for (const parent of asList(node.inhRelations)) {
        if (node.partbound) f.touch(rangeVarName(asNode(parent)?.RangeVar), 'SHARE UPDATE EXCLUSIVE');
      }
      f.findings.push(...duplicateColumns(cols, 'declared'));
      robust(node.if_not_exists === true, `CREATE TABLE ${table ?? ''}`);
      break;
    }

    case 'DropStmt': {
      const removeType = str(node.removeType) ?? '';
      const objects = asList(node.objects).map(dropObjectName).filter((n): n is string => Boolean(n));
      const ifExists = node.missing_ok === true;
      if (removeType === 'OBJECT_TABLE' || removeType === 'OBJECT_FOREIGN_TABLE') {
        for (const t of objects) {
          f.touch(t, 'ACCESS EXCLUSIVE');
          if (ctx.isNewTable(t)) continue;
          f.destructive = true;
          f.breaking = true;
          f.hit('ban-drop-table', { table: t, message: `DROP TABLE ${t}${node.behavior === 'DROP_CASCADE' ? ' CASCADE' : ''} loses its data and breaks the running app version if it still uses it` });
        }
        robust(ifExists, 'DROP TABLE');
      } else if (removeType === 'OBJECT_INDEX') {
        const concurrent = node.concurrent === true;
        for (const i of objects) {
          f.touch(i, concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE');
          if (!concurrent) f.hit('require-concurrent-index-deletion', { table: i, message: `DROP INDEX ${i} without CONCURRENTLY takes ACCESS EXCLUSIVE on its table` });
        }
        if (concurrent && ctx.inExplicitTransaction) {
          f.hit('ban-concurrent-index-creation-in-transaction', { message: 'DROP INDEX CONCURRENTLY is inside BEGIN … COMMIT: Postgres rejects it (25001)' });
        }
        robust(ifExists, 'DROP INDEX');
      } else if (removeType === 'OBJECT_SCHEMA') {
        f.destructive = true;
        f.breaking = true;
        for (const s of objects) f.hit('ban-drop-schema', { message: `DROP SCHEMA ${s}${node.behavior === 'DROP_CASCADE' ? ' CASCADE' : ''} loses every object in it` });
      } else if (DROP_OBJECT_KINDS[removeType]) {
        const kind = DROP_OBJECT_KINDS[removeType];
        for (const o of objects) {
          if (removeType === 'OBJECT_VIEW' || removeType === 'OBJECT_MATVIEW') f.touch(o, 'ACCESS EXCLUSIVE');
          if (ctx.recreatedLater(kind, bareName(o))) continue;
          if (kind === 'function') continue; // functions are dropped and re-created with new signatures all the time
          if (kind === 'view' && ctx.isNewTable(o)) continue;
          f.breaking = true;
          f.hit('ban-drop-object', { message: `DROP ${removeType.replace('OBJECT_', '')} ${o}: the running app version may use it` });
        }
        robust(ifExists, `DROP ${removeType.replace('OBJECT_', '')}`);
      }
      break;
    }

    case 'DropdbStmt':
      f.destructive = true;
      f.hit('ban-drop-database', { message: `DROP DATABASE ${str(node.dbname) ?? ''}` });
      break;

    case 'TruncateStmt': {
      const rels = asList(node.relations).map((r) => rangeVarName(asNode(r)?.RangeVar)).filter((n): n is string => Boolean(n));
      for (const r of rels) f.touch(r, 'ACCESS EXCLUSIVE');
      const existing = rels.filter((r) => !ctx.isNewTable(r));
      if (existing.length) {
        f.destructive = true;
        if (node.behavior === 'DROP_CASCADE') f.hit('ban-truncate-cascade', { table: existing[0], message: `TRUNCATE ${existing.join(', ')} CASCADE also empties every table referencing them` });
        else f.hit('ban-truncate', { table: existing[0], message: `TRUNCATE ${existing.join(', ')} deletes every row` });
      }
      break;
    }

    case 'RenameStmt': {
      const renameType = str(node.renameType) ?? '';
      const table = rangeVarName(node.relation);
      robust(false, 'RENAME (fails on a second run: the old name is gone)');
      if (table) f.touch(table, renameType === 'OBJECT_INDEX' ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE');
      const isNew = table !== undefined && ctx.isNewTable(table);
      if (['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE'].includes(renameType) && !isNew) {
        f.breaking = true;
        f.hit('renaming-table', { table, message: `RENAME ${table ?? ''} TO ${str(node.newname) ?? ''}: the running app version still uses the old name` });
      } else if (renameType === 'OBJECT_COLUMN' && !isNew) {
        f.breaking = true;
        f.hit('renaming-column', { table, message: `RENAME COLUMN ${table ?? ''}.${str(node.subname) ?? ''} TO ${str(node.newname) ?? ''}: the running app version still uses the old name` });
      } else if (renameType === 'OBJECT_SCHEMA') {
        f.breaking = true;
        f.hit('renaming-schema', { message: `RENAME SCHEMA ${str(node.subname) ?? ''} TO ${str(node.newname) ?? ''}` });
      }
      break;
    }

    case 'AlterObjectSchemaStmt': {
      // Moving a table/view to another schema is a rename as far as the running app is concerned.
      const objectType = str(node.objectType) ?? '';
      const table = rangeVarName(node.relation);
      if (table) f.touch(table, 'ACCESS EXCLUSIVE');
      if (['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE'].includes(objectType) && table && !ctx.isNewTable(table)) {
        f.breaking = true;
        f.hit('renaming-table', { table, message: `SET SCHEMA moves ${table} to ${str(node.newschema) ?? ''}: the running app version still uses the old qualified name` });
      }
      break;
    }

    case 'AlterEnumStmt': {
      const typeName = names(node.typeName).join('.');
      if (node.oldVal !== undefined) {
        f.breaking = true;
        f.hit('renaming-enum-value', { message: `RENAME VALUE '${str(node.oldVal) ?? ''}' of ${typeName} to '${str(node.newVal) ?? ''}'` });
      } else {
        if (ctx.pgMajor < 12) f.nonTransactional = 'ALTER TYPE … ADD VALUE (PostgreSQL < 12)';
        if (node.newValNeighbor === undefined) f.hit('require-enum-value-ordering', { message: `ADD VALUE '${str(node.newVal) ?? ''}' to ${typeName} without BEFORE/AFTER appends it at the end` });
      }
      break;
    }

    case 'CreateDomainStmt':
      if (constraintsOf({ constraints: node.constraints }).some(([t]) => t === 'CONSTR_CHECK')) {
        f.hit('ban-create-domain-with-constraint', { message: `domain ${names(node.domainname).join('.')} has a CHECK constraint` });
      }
      break;

    case 'AlterDomainStmt':
      if (str(node.subtype) === 'C') {
        const con = child(node.def, 'Constraint');
        f.scansTable = !con?.skip_validation;
        f.hit('ban-alter-domain-with-add-constraint', { message: `ALTER DOMAIN ${names(node.typeName).join('.')} ADD CONSTRAINT re-checks every column that uses the domain` });
      }
      break;

    case 'VacuumStmt': {
      const rels = asList(node.rels).map((r) => rangeVarName(child(r, 'VacuumRelation')?.relation)).filter((n): n is string => Boolean(n));
      const full = hasDefElem(node.options, 'full');
      for (const r of rels) f.touch(r, full ? 'ACCESS EXCLUSIVE' : 'SHARE UPDATE EXCLUSIVE');
      f.scansTable = true;
      if (full) {
        f.rewritesTable = true;
        f.hit('prefer-repack', { table: rels[0], message: `VACUUM FULL ${rels.join(', ') || '(all tables)'} rewrites under ACCESS EXCLUSIVE` });
      }
      break;
    }

    case 'ClusterStmt': {
      const t = rangeVarName(node.relation);
      f.touch(t, 'ACCESS EXCLUSIVE');
      f.rewritesTable = true;
      f.hit('prefer-repack', { table: t, message: `CLUSTER ${t ?? '(all tables)'} rewrites under ACCESS EXCLUSIVE` });
      break;
    }

    case 'ReindexStmt': {
      const t = rangeVarName(node.relation);
      const concurrent = hasDefElem(node.params, 'concurrently');
      // The table gets SHARE (writes blocked); the index itself gets ACCESS EXCLUSIVE (reads using it block).
      f.touch(t, concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE');
      f.scansTable = true;
      if (!concurrent) f.hit('require-concurrent-reindex', { table: t, message: `REINDEX ${t ?? str(node.name) ?? ''} without CONCURRENTLY blocks writes and reads that use the index` });
      break;
    }

    case 'RefreshMatViewStmt': {
      const v = rangeVarName(node.relation);
      f.touch(v, node.concurrent ? 'EXCLUSIVE' : 'ACCESS EXCLUSIVE');
      f.scansTable = true;
      f.rewritesTable = !node.concurrent; // rebuilt into new storage
      if (!node.concurrent) f.hit('require-concurrent-refresh', { table: v, message: `REFRESH MATERIALIZED VIEW ${v ?? ''} blocks reads of the view while it runs` });
      break;
    }

    case 'UpdateStmt':
    case 'MergeStmt': {
      const t = rangeVarName(node.relation);
      f.touch(t, 'ROW EXCLUSIVE');
      f.scansTable = true;
      const targets = asList(node.targetList).map((r) => child(r, 'ResTarget')).filter((r): r is Node => r !== undefined);
      f.findings.push(...duplicateColumns(targets.map((r) => [str(r.name), location(r)]), 'assigned'));
      if (!(t && ctx.isNewTable(t))) f.hit('data-backfill', { table: t, message: `${type === 'UpdateStmt' ? 'UPDATE' : 'MERGE INTO'} ${t ?? ''}${type === 'UpdateStmt' && !node.whereClause ? ' (every row)' : ''}: row locks held for the whole transaction` });
      break;
    }

    case 'InsertStmt': {
      const t = rangeVarName(node.relation);
      f.touch(t, 'ROW EXCLUSIVE');
      const cols = asList(node.cols).map((r) => child(r, 'ResTarget')).filter((r): r is Node => r !== undefined);
      f.findings.push(...duplicateColumns(cols.map((r) => [str(r.name), location(r)]), 'listed'));
      const select = child(node.selectStmt, 'SelectStmt');
      const isValues = select !== undefined && asList(select.valuesLists).length > 0;
      if (!isValues && !(t && ctx.isNewTable(t))) f.hit('data-backfill', { table: t, message: `INSERT INTO ${t ?? ''} … SELECT copies data; its size is unknown` });
      break;
    }

    case 'DeleteStmt': {
      const t = rangeVarName(node.relation);
      f.touch(t, 'ROW EXCLUSIVE');
      f.scansTable = true;
      if (!(t && ctx.isNewTable(t))) {
        f.destructive = true;
        f.hit('data-deletion', { table: t, message: `DELETE FROM ${t ?? ''}${node.whereClause ? '' : ' (every row)'}` });
      }
      break;
    }

    case 'DoStmt':
      f.hit('opaque-statement', { message: 'DO block: its effect cannot be inspected' });
      break;
    case 'CallStmt':
      f.hit('opaque-statement', { message: 'CALL of a procedure: its effect cannot be inspected' });
      break;
    case 'SelectStmt':
      if (containsNode(node, new Set(['FuncCall']))) f.hit('opaque-statement', { message: 'SELECT that calls functions: their effect cannot be inspected' });
      break;

    case 'CommentStmt': {
      // COMMENT ON TABLE/COLUMN/VIEW takes SHARE UPDATE EXCLUSIVE on the relation (checked against pg_locks).
      const objtype = str(node.objtype) ?? '';
      const parts = names(asNode(node.object)?.List ? asNode(asNode(node.object)?.List)?.items : undefined);
      const rel = objtype === 'OBJECT_COLUMN' ? parts.slice(0, -1) : ['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE'].includes(objtype) ? parts : [];
      if (rel.length) f.touch(rel.join('.'), 'SHARE UPDATE EXCLUSIVE');
      break;
    }

    case 'CreateTrigStmt':
      f.touch(rangeVarName(node.relation), 'SHARE ROW EXCLUSIVE');
      break;
    case 'CreatePolicyStmt':
    case 'AlterPolicyStmt':
      f.touch(rangeVarName(node.table), 'ACCESS EXCLUSIVE');
      break;
    case 'CreateStatsStmt':
      for (const r of asList(node.relations)) f.touch(rangeVarName(asNode(r)?.RangeVar), 'SHARE UPDATE EXCLUSIVE');
      break;
    case 'LockStmt':
      for (const r of asList(node.relations)) f.touch(rangeVarName(asNode(r)?.RangeVar), lockFromMode(node.mode));
      break;
    case 'CreateSeqStmt':
      robust(node.if_not_exists === true, 'CREATE SEQUENCE');
      break;
    case 'CreateSchemaStmt':
      robust(node.if_not_exists === true, 'CREATE SCHEMA');
      break;
    case 'CreateExtensionStmt':
      robust(node.if_not_exists === true, 'CREATE EXTENSION');
      break;

    default:
      if (!KNOWN_SAFE.has(type) && !reason) f.hit('unrecognized-statement', { message: `${type} is not classified by the gate` });
  }
  return f;
}

// Statements that only create or change catalog objects nobody uses yet, or session settings: no table lock to speak of.
const KNOWN_SAFE = new Set([
  'CreateTableAsStmt', 'ViewStmt', 'CreateFunctionStmt', 'CreateEnumStmt', 'CompositeTypeStmt', 'CreateRangeStmt',
  'GrantStmt', 'GrantRoleStmt', 'CreateRoleStmt', 'AlterRoleStmt', 'AlterRoleSetStmt', 'DropRoleStmt',
  'RuleStmt', 'AlterSeqStmt', 'AlterOwnerStmt', 'AlterFunctionStmt', 'AlterDefaultPrivilegesStmt',
  'CreateCastStmt', 'DefineStmt', 'CreateOpClassStmt', 'CreateOpFamilyStmt', 'AlterOpFamilyStmt', 'CreateForeignTableStmt',
  'CreateEventTrigStmt', 'AlterEventTrigStmt', 'AlterExtensionStmt', 'AlterExtensionContentsStmt', 'CreatePublicationStmt',
  'AlterPublicationStmt', 'AlterCollationStmt', 'SecLabelStmt', 'NotifyStmt', 'ListenStmt', 'UnlistenStmt',
  'CheckPointStmt', 'ExplainStmt', 'CreatePLangStmt', 'CreateConversionStmt', 'CreateTransformStmt',
  'ImportForeignSchemaStmt', 'CreateFdwStmt', 'AlterFdwStmt', 'CreateForeignServerStmt', 'AlterForeignServerStmt',
  'CreateUserMappingStmt', 'AlterUserMappingStmt', 'DropUserMappingStmt', 'AlterDatabaseSetStmt', 'AlterDatabaseStmt',
  'VariableSetStmt', 'VariableShowStmt', 'TransactionStmt', 'CreatedbStmt', 'AlterSystemStmt', 'DiscardStmt',
  'CreateTableSpaceStmt', 'DropTableSpaceStmt', 'CreateSubscriptionStmt', 'DropSubscriptionStmt', 'AlterSubscriptionStmt',
  'AlterTSDictionaryStmt', 'AlterTSConfigurationStmt', 'AlterTypeStmt', 'AlterOperatorStmt', 'AlterStatsStmt',
  'DropOwnedStmt', 'ReassignOwnedStmt', 'AlterTableMoveAllStmt', 'CreateAmStmt', 'AlterEnumStmt', 'PrepareStmt',
  'DeallocateStmt', 'ConstraintsSetStmt', 'AlterDatabaseRefreshCollStmt',
]);

function lockFromMode(mode: unknown): LockMode {
  const modes: LockMode[] = ['ACCESS SHARE', 'ROW SHARE', 'ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE'];
  return typeof mode === 'number' && mode >= 1 && mode <= 8 ? (modes[mode - 1] ?? 'ACCESS EXCLUSIVE') : 'ACCESS EXCLUSIVE';
}

// ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE (sql-altertable.html); everything else takes it.
const ALTER_LOCKS: Record<string, LockMode> = {
  AT_SetStatistics: 'SHARE UPDATE EXCLUSIVE',
  AT_SetOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_ResetOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_ClusterOn: 'SHARE UPDATE EXCLUSIVE',
  AT_DropCluster: 'SHARE UPDATE EXCLUSIVE',
  AT_SetRelOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_ResetRelOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_ValidateConstraint: 'SHARE UPDATE EXCLUSIVE',
  AT_AttachPartition: 'SHARE UPDATE EXCLUSIVE',
  AT_EnableTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableAlwaysTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableReplicaTrig: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableTrigAll: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrigAll: 'SHARE ROW EXCLUSIVE',
  AT_EnableTrigUser: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrigUser: 'SHARE ROW EXCLUSIVE',
};
const REWRITING_SUBTYPES = new Set(['AT_SetTableSpace', 'AT_SetLogged', 'AT_SetUnLogged', 'AT_SetAccessMethod']);

function alterTable(node: Node, ctx: StatementContext, f: Facts, robust: (ok: boolean, what: string, loc?: number) => void): void {
  const table = rangeVarName(node.relation);
  const objtype = str(node.objtype) ?? 'OBJECT_TABLE';
  const isNew = table !== undefined && ctx.isNewTable(table);
  const tkey = table ? bareName(table) : '?';
  const addedColumns: Array<[string | undefined, number | undefined]> = [];
  const existing = !isNew;

  for (const c of asList(node.cmds)) {
    const cmd = child(c, 'AlterTableCmd');
    if (!cmd) continue;
    const subtype = str(cmd.subtype) ?? '';
    const col = str(cmd.name);
    // ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE (on both tables); every other ADD CONSTRAINT takes ACCESS EXCLUSIVE.
    const isFk = subtype === 'AT_AddConstraint' && child(cmd.def, 'Constraint')?.contype === 'CONSTR_FOREIGN';
    f.touch(table, isFk ? 'SHARE ROW EXCLUSIVE' : (ALTER_LOCKS[subtype] ?? 'ACCESS EXCLUSIVE'));
    if (objtype !== 'OBJECT_TABLE' && objtype !== 'OBJECT_FOREIGN_TABLE') continue;

    switch (subtype) {
      case 'AT_AddColumn': {
        const def = child(cmd.def, 'ColumnDef');
        if (!def) break;
        const name = str(def.colname);
        const loc = location(def);
        addedColumns.push([name, loc]);
        f.findings.push(...typeFindings(def.typeName, loc, name));
        const cons = constraintsOf(def);
        const typeName = typeInfo(def.typeName)?.name ?? '';
        const defaultCon = cons.find(([t]) => t === 'CONSTR_DEFAULT')?.[1];
        const generatedStored = cons.some(([t, c]) => t === 'CONSTR_GENERATED' && str(c.generated_kind) !== 'v');
        const identity = cons.some(([t]) => t === 'CONSTR_IDENTITY');
        const serial = SERIAL_TYPES.has(typeName);
        const notNull = cons.some(([t]) => t === 'CONSTR_NOTNULL' || t === 'CONSTR_PRIMARY');
        const hasDefault = defaultCon !== undefined || identity || serial || generatedStored;
        const volatility = defaultCon !== undefined && existing ? defaultVolatility(defaultCon.raw_expr, ctx.catalog) : { volatile: false, facts: [] };
        const volatileDefault = defaultCon !== undefined && (ctx.pgMajor < 11 || volatility.volatile);
        // A domain with constraints has no "missing value" fast path: every row is rewritten (and checked) even without
        // a default (tablecmds.c ATExecAddColumn: has_domain_constraints; verified in the gate corpus).
        const typeWritten = names(asNode(def.typeName)?.names).join('.');
        const domainCons = existing && !SERIAL_TYPES.has(typeName) ? ctx.catalog.domainConstraints(typeWritten) : undefined;
        const domainRewrite = domainCons !== undefined && domainCons.length > 0;
        if (existing && defaultCon !== undefined && ctx.pgMajor >= 11) f.decidedBy.push(...volatility.facts.map((x) => `${x}: ${volatility.volatile ? 'every row gets its own value, so the table is rewritten' : 'the default is stored once as the missing value, no rewrite (PG 11+)'}`));
        if (domainCons !== undefined) f.decidedBy.push(domainRewrite ? `${typeWritten} is a domain with constraint(s) ${domainCons.join(', ')}: the table is rewritten to check every row` : `${typeWritten} is a domain without constraints: no rewrite`);
        if (existing && (volatileDefault || identity || serial || generatedStored || domainRewrite)) {
          f.rewritesTable = true;
          const what = generatedStored ? 'a stored generated column' : identity ? 'an identity column' : serial ? `a ${typeName} column` : domainRewrite ? `domain type ${typeWritten} (constraints ${domainCons.join(', ')})` : ctx.pgMajor < 11 ? 'a default (PostgreSQL < 11)' : 'a volatile default';
          f.hit('adding-field-with-default', { table, loc, message: `ADD COLUMN ${name ?? ''} with ${what} rewrites ${table ?? ''} under ACCESS EXCLUSIVE` });
        }
        if (existing && notNull && !hasDefault) {
          f.breaking = true;
          f.hit('adding-required-field', { table, loc, message: `ADD COLUMN ${name ?? ''} NOT NULL without a default fails if ${table ?? ''} has rows and breaks INSERTs of the running app version` });
        }
        for (const [t, con] of cons) {
          const cloc = location(con) ?? loc;
          if (!existing) break;
          if (t === 'CONSTR_PRIMARY') {
            f.scansTable = true;
            f.hit('adding-serial-primary-key-field', { table, loc: cloc, message: `ADD COLUMN ${name ?? ''} … PRIMARY KEY builds a unique index on ${table ?? ''} under ACCESS EXCLUSIVE` });
          } else if (t === 'CONSTR_UNIQUE') {
            f.scansTable = true;
            f.hit('disallowed-unique-constraint', { table, loc: cloc, message: `ADD COLUMN ${name ?? ''} … UNIQUE builds a unique index on ${table ?? ''} under ACCESS EXCLUSIVE` });
          } else if (t === 'CONSTR_FOREIGN') {
            const pk = rangeVarName(con.pktable);
            f.touch(pk, 'SHARE ROW EXCLUSIVE');
            if (!hasDefault) {
              // A column that is NULL in every row references nothing: PostgreSQL marks the key valid without a
              // check (parse_utilcmd.c transformFKConstraints; verified in the gate corpus).
              f.decidedBy.push(`no scan: the new column ${name ?? ''} is NULL in every row, so REFERENCES ${pk ?? ''} is valid without a check`);
              continue;
            }
            f.scansTable = true;
            f.hit('adding-foreign-key-constraint', { table, loc: cloc, message: `ADD COLUMN ${name ?? ''} … DEFAULT … REFERENCES ${pk ?? ''} validates every row of ${table ?? ''} while holding ACCESS EXCLUSIVE (SHARE ROW EXCLUSIVE on ${pk ?? ''})` });
          } else if (t === 'CONSTR_CHECK' && !con.skip_validation) {
            f.scansTable = true;
            f.hit('constraint-missing-not-valid', { table, loc: cloc, message: `ADD COLUMN ${name ?? ''} … CHECK validates every row of ${table ?? ''} under ACCESS EXCLUSIVE` });
          }
        }
        robust(cmd.missing_ok === true, `ADD COLUMN ${name ?? ''}`, loc);
        break;
      }

      case 'AT_DropColumn':
        if (existing) {
          f.destructive = true;
          f.breaking = true;
          f.hit('ban-drop-column', { table, message: `DROP COLUMN ${table ?? ''}.${col ?? ''} loses its data; the running app version may still use it` });
        }
        robust(cmd.missing_ok === true, `DROP COLUMN ${col ?? ''}`);
        break;

      case 'AT_DropNotNull':
        if (existing) {
          f.breaking = true;
          f.hit('ban-drop-not-null', { table, message: `DROP NOT NULL on ${table ?? ''}.${col ?? ''}: readers that assume NOT NULL may break` });
        }
        break;

      case 'AT_SetNotNull':
        setNotNull(ctx, f, table, tkey, col, existing);
        break;

      case 'AT_AlterColumnType': {
        const def = child(cmd.def, 'ColumnDef');
        const loc = location(def);
        f.findings.push(...typeFindings(def?.typeName, loc, col));
        if (existing) {
          const using = def?.raw_default !== undefined;
          const target = typeSpec(def?.typeName);
          const live = table && col ? ctx.catalog.column(table, col) : undefined;
          const current = live?.type ?? (table && col ? ctx.columnType(table, col) : undefined);
          if (!using && target && current && isBinaryCoercible(parseFormatType(current), target)) {
            // sql-altertable.html, Notes: no rewrite when the old type is binary coercible to the new one, but "if
            // the collation for a column has been changed, an index rebuild is always required".
            const collClause = names(asNode(def?.collClause)?.collname).pop();
            const newCollation = collClause ?? live?.collation ?? undefined;
            const collationChanges = live !== undefined && collClause !== undefined && live.collation !== null && collClause !== live.collation;
            f.decidedBy.push(`${table ?? ''}.${col ?? ''} is ${current} in the live database; ${current} → ${formatSpec(target)} is binary-coercible: no table rewrite`);
            if (collationChanges && live.indexes.length > 0) {
              f.scansTable = true;
              f.decidedBy.push(`the collation changes from "${live.collation ?? ''}" to "${newCollation ?? ''}" and index(es) ${live.indexes.join(', ')} depend on the column: they are rebuilt (table scan) under ACCESS EXCLUSIVE`);
              f.hit('alter-column-rebuilds-index', { table, columnName: col, loc, message: `ALTER COLUMN ${col ?? ''} COLLATE "${newCollation ?? ''}" rebuilds index(es) ${live.indexes.join(', ')} of ${table ?? ''} under ACCESS EXCLUSIVE (each rebuild scans the table)` });
              break;
            }
            if (collationChanges) f.decidedBy.push(`the collation changes from "${live.collation ?? ''}" to "${newCollation ?? ''}" and no index depends on the column: catalog-only`);
            f.note = `${table ?? ''}.${col ?? ''}: ${current} → ${formatSpec(target)} is binary-coercible: no rewrite, only a brief ACCESS EXCLUSIVE lock`;
            break;
          }
          f.rewritesTable = true;
          f.breaking = true;
          const from = current ? ` from ${current}` : '';
          f.hit('changing-column-type', { table, columnName: col, loc, message: `ALTER COLUMN ${col ?? ''} TYPE ${target ? formatSpec(target) : ''}${from}${using ? ' with USING' : ''} rewrites ${table ?? ''} and its indexes under ACCESS EXCLUSIVE${current ? '' : ' (unless binary-coercible)'} and may break the running app version` });
        }
        break;
      }

      case 'AT_AddConstraint': {
        const con = child(cmd.def, 'Constraint');
        if (!con) break;
        const contype = str(con.contype) ?? '';
        const conname = str(con.conname);
        const loc = location(con);
        robust(false, `ADD CONSTRAINT ${conname ?? ''} (fails if it already exists; DROP CONSTRAINT IF EXISTS first)`, loc);
        const notValid = con.skip_validation === true;
        if (notValid && conname) {
          const nn = contype === 'CONSTR_CHECK' ? notNullCheckColumn(con) : undefined;
          ctx.notValidConstraints.set(`${tkey}|${conname}`, { transactionId: ctx.transactionId, ...(nn ? { notNullColumn: nn } : {}) });
        }
        if (!existing) {
          if (contype === 'CONSTR_FOREIGN') f.touch(rangeVarName(con.pktable), 'SHARE ROW EXCLUSIVE');
          break;
        }
        if (contype === 'CONSTR_FOREIGN') {
          const pk = rangeVarName(con.pktable);
          f.touch(pk, 'SHARE ROW EXCLUSIVE');
          if (!notValid) {
            f.scansTable = true;
            f.hit('adding-foreign-key-constraint', { table, loc, message: `ADD FOREIGN KEY ${conname ?? ''} on ${table ?? ''} → ${pk ?? ''} without NOT VALID scans ${table ?? ''} under SHARE ROW EXCLUSIVE on both tables` });
            // squawk reports this twice too, so `-- squawk-ignore constraint-missing-not-valid` means the same here.
            f.hit('constraint-missing-not-valid', { table, loc, message: `FOREIGN KEY ${conname ?? ''} is added validated: the scan of ${table ?? ''} runs while the lock is held` });
          }
        } else if (contype === 'CONSTR_CHECK') {
          if (!notValid) {
            f.scansTable = true;
            f.hit('constraint-missing-not-valid', { table, loc, message: `ADD CHECK ${conname ?? ''} without NOT VALID scans ${table ?? ''} under ACCESS EXCLUSIVE` });
          }
        } else if (contype === 'CONSTR_UNIQUE') {
          if (!con.indexname) {
            f.scansTable = true;
            f.hit('disallowed-unique-constraint', { table, loc, message: `ADD UNIQUE ${conname ?? ''} builds its index on ${table ?? ''} under ACCESS EXCLUSIVE and fails on duplicates` });
          }
        } else if (contype === 'CONSTR_PRIMARY') {
          if (!con.indexname) {
            f.scansTable = true;
            f.hit('adding-serial-primary-key-field', { table, loc, message: `ADD PRIMARY KEY on ${table ?? ''} builds its index under ACCESS EXCLUSIVE` });
          } else {
            primaryKeyUsingIndex(ctx, f, table, str(con.indexname) ?? '', loc);
          }
        } else if (contype === 'CONSTR_EXCLUSION') {
          f.scansTable = true;
          f.hit('adding-exclusion-constraint', { table, loc, message: `ADD EXCLUDE ${conname ?? ''} on ${table ?? ''} scans under ACCESS EXCLUSIVE and cannot be NOT VALID` });
        } else if (contype === 'CONSTR_NOTNULL' && !notValid) {
          setNotNull(ctx, f, table, tkey, names(con.keys)[0], existing);
        }
        break;
      }

      case 'AT_ValidateConstraint': {
        f.scansTable = true;
        const key = `${tkey}|${col ?? ''}`;
        const added = ctx.notValidConstraints.get(key);
        if (added?.notNullColumn) ctx.validatedNotNull.add(`${tkey}|${added.notNullColumn}`);
        if (added && added.transactionId === ctx.transactionId && existing) {
          f.hit('constraint-missing-not-valid', { table, message: `VALIDATE CONSTRAINT ${col ?? ''} runs in the same transaction that added it NOT VALID: the ACCESS EXCLUSIVE lock is held through the scan` });
        }
        break;
      }

      case 'AT_DropConstraint':
        if (existing && !ctx.recreatedLater('constraint', `${tkey}|${col ?? ''}`)) {
          f.breaking = true;
          f.hit('ban-drop-constraint', { table, message: `DROP CONSTRAINT ${col ?? ''} on ${table ?? ''}` });
        }
        robust(cmd.missing_ok === true, `DROP CONSTRAINT ${col ?? ''}`);
        break;

      case 'AT_DetachPartition': {
        const pc = child(cmd.def, 'PartitionCmd');
        robust(false, 'DETACH PARTITION');
        if (!pc?.concurrent) {
          f.hit('require-concurrent-partition-detach', { table, message: `DETACH PARTITION ${rangeVarName(pc?.name) ?? ''} without CONCURRENTLY takes ACCESS EXCLUSIVE on ${table ?? ''}` });
        } else {
          f.lock = 'SHARE UPDATE EXCLUSIVE';
          if (ctx.inExplicitTransaction) f.hit('ban-concurrent-index-creation-in-transaction', { table, message: 'DETACH PARTITION CONCURRENTLY is inside BEGIN … COMMIT: Postgres rejects it (25001)' });
        }
        break;
      }

      case 'AT_AttachPartition':
        attachPartition(cmd, ctx, f, table);
        break;

      default:
        if (REWRITING_SUBTYPES.has(subtype) && existing) {
          f.rewritesTable = true;
          f.hit('prefer-repack', { table, message: `${subtype.replace('AT_', '')} rewrites ${table ?? ''} under ACCESS EXCLUSIVE` });
        }
    }
  }
  f.findings.push(...duplicateColumns(addedColumns, 'added'));
}

function setNotNull(ctx: StatementContext, f: Facts, table: string | undefined, tkey: string, col: string | undefined, existing: boolean): void {
  if (!existing) return;
  // sql-altertable.html, SET/DROP NOT NULL: "Ordinarily this is checked during the ALTER TABLE by scanning the entire
  // table; however, if a valid CHECK constraint is found which proves no NULL can exist, then the table scan is
  // skipped" (PG 12+). The proof may come from earlier in this set or from the live database.
  if (ctx.pgMajor >= 12 && col && ctx.validatedNotNull.has(`${tkey}|${col}`)) {
    f.note = `${table ?? ''}.${col}: a CHECK (${col} IS NOT NULL) is validated earlier in this migration set, so SET NOT NULL skips the scan`;
    f.decidedBy.push(`no scan: NOT NULL proven by a CHECK (${col} IS NOT NULL) validated earlier in this migration set`);
    return;
  }
  const proof = table && col ? liveProof(ctx, table, col) : undefined;
  if (proof?.by === 'not-null') {
    f.note = `${table ?? ''}.${col ?? ''} is already NOT NULL in the live database: nothing to scan`;
    f.decidedBy.push(`no scan: ${table ?? ''}.${col ?? ''} is already NOT NULL (pg_attribute.attnotnull)`);
    return;
  }
  if (proof?.by === 'check' && ctx.pgMajor >= 12) {
    f.note = `${table ?? ''}.${col ?? ''} has a validated CHECK (${col ?? ''} IS NOT NULL) in the live database, so SET NOT NULL skips the scan`;
    f.decidedBy.push(`no scan: NOT NULL proven by valid CHECK constraint ${proof.constraint}`);
    return;
  }
  if (proof?.by === 'none') f.decidedBy.push(`scan: ${table ?? ''}.${col ?? ''} is nullable and no valid CHECK (${col ?? ''} IS NOT NULL) exists on ${table ?? ''}`);
  f.scansTable = true;
  f.hit('adding-not-nullable-field', { table, columnName: col, message: `SET NOT NULL on ${table ?? ''}.${col ?? ''} scans the whole table under ACCESS EXCLUSIVE and fails if a NULL exists` });
}

/** The live NOT NULL proof from the catalog, else from the older columnTypes/notNullProofs options. */
function liveProof(ctx: StatementContext, table: string, col: string): NotNullProof | undefined {
  const fromCatalog = ctx.catalog.notNullProof(table, col);
  if (fromCatalog && fromCatalog.by !== 'none') return fromCatalog;
  const legacy = ctx.liveNotNull(table, col);
  if (legacy === 'not-null') return { by: 'not-null' };
  if (legacy === 'check') return { by: 'check', constraint: `CHECK (${col} IS NOT NULL)` };
  return fromCatalog;
}

/**
 * ADD PRIMARY KEY USING INDEX: no index build, but every index column that is not NOT NULL yet gets SET NOT NULL,
 * which scans the table under ACCESS EXCLUSIVE unless a valid CHECK proves it (sql-altertable.html, ADD
 * table_constraint_using_index; verified in the gate corpus).
 */
function primaryKeyUsingIndex(ctx: StatementContext, f: Facts, table: string | undefined, index: string, loc: number | undefined): void {
  const columns = table ? ctx.catalog.indexColumns(table, index) : undefined;
  if (!columns) {
    f.scansTable = true;
    f.hit('adding-not-nullable-field', { table, loc, message: `ADD PRIMARY KEY USING INDEX ${index} sets NOT NULL on the index columns: a full scan of ${table ?? ''} under ACCESS EXCLUSIVE unless they are NOT NULL already (the live catalog was not read)` });
    return;
  }
  const unproven: string[] = [];
  for (const c of columns) {
    if (c.proof.by === 'not-null') f.decidedBy.push(`no scan for ${c.name}: already NOT NULL (pg_attribute.attnotnull)`);
    else if (c.proof.by === 'check' && ctx.pgMajor >= 12) f.decidedBy.push(`no scan for ${c.name}: NOT NULL proven by valid CHECK constraint ${c.proof.constraint}`);
    else unproven.push(c.name);
  }
  if (unproven.length === 0) return;
  f.scansTable = true;
  f.decidedBy.push(`scan: index ${index} column(s) ${unproven.join(', ')} are nullable with no valid CHECK (… IS NOT NULL)`);
  f.hit('adding-not-nullable-field', { table, columnName: unproven[0], loc, message: `ADD PRIMARY KEY USING INDEX ${index} sets NOT NULL on ${unproven.join(', ')}: a full scan of ${table ?? ''} under ACCESS EXCLUSIVE` });
}

/**
 * ATTACH PARTITION (sql-altertable.html, ATTACH PARTITION, PG 12+): SHARE UPDATE EXCLUSIVE on the parent, ACCESS
 * EXCLUSIVE on the table being attached (and on a DEFAULT partition). "a full table scan is performed to check that
 * existing rows in the table do not violate the partition constraint. It is possible to avoid this scan by adding a
 * valid CHECK constraint to the table that allows only rows satisfying the desired partition constraint"; a DEFAULT
 * partition is scanned for rows that now belong to the new one.
 */
function attachPartition(cmd: Node, ctx: StatementContext, f: Facts, parent: string | undefined): void {
  const pc = child(cmd.def, 'PartitionCmd');
  const part = rangeVarName(pc?.name);
  f.touch(part, 'ACCESS EXCLUSIVE');
  if (!part || ctx.isNewTable(part)) {
    if (part) f.decidedBy.push(`${part} is created earlier in this migration set: nothing to scan`);
    return;
  }
  const bound = asNode(pc?.bound);
  const info = parent ? ctx.catalog.partitioned(parent) : undefined;
  let proof: string | undefined;
  const keyMatch = info ? /^RANGE \(([a-z_][a-z0-9_$]*)\)$/.exec(info.key) : null;
  if (keyMatch?.[1] && bound && str(bound.strategy) === 'r') {
    const lower = asList(bound.lowerdatums);
    const upper = asList(bound.upperdatums);
    const lo = lower.length === 1 ? constantText(lower[0]) : undefined;
    const hi = upper.length === 1 ? constantText(upper[0]) : undefined;
    if (lo !== undefined && hi !== undefined) proof = ctx.catalog.rangeBoundProof(part, keyMatch[1], lo, hi);
  }
  if (proof) f.decidedBy.push(`no scan of ${part}: the partition bound is implied by valid CHECK constraint ${proof}`);
  else {
    f.scansTable = true;
    f.decidedBy.push(info ? `scan: no valid CHECK constraint on ${part} implies the partition bound (partition key ${info.key})` : `scan: the live catalog was not read, so no CHECK constraint on ${part} is known to imply the bound`);
    f.hit('partition-attach-scan', { table: part, message: `ATTACH PARTITION ${part} scans it under ACCESS EXCLUSIVE to check the partition bound` });
  }
  if (info?.hasDefault) {
    f.scansTable = true;
    f.decidedBy.push(`scan: ${parent ?? ''} has a DEFAULT partition, which is scanned for rows of the new bound`);
    // No table: the parent's size says nothing about the DEFAULT partition's, so the finding is never downgraded.
    f.hit('partition-attach-scan', { message: `ATTACH PARTITION on ${parent ?? ''} also scans its DEFAULT partition under ACCESS EXCLUSIVE` });
  }
}

/** A column type reduced to what binary coercibility depends on: base name, type modifiers, array-ness. */
export interface TypeSpec {
  base: string;
  mods: number[];
  array: boolean;
}

const FORMAT_TYPE_BASES: Record<string, string> = {
  'character varying': 'varchar',
  'bit varying': 'varbit',
  character: 'bpchar',
  'timestamp without time zone': 'timestamp',
  'timestamp with time zone': 'timestamptz',
  integer: 'int4',
  bigint: 'int8',
  smallint: 'int2',
  boolean: 'bool',
};

/** format_type() output ('character varying(20)', 'numeric(10,2)', 'text[]') → TypeSpec. */
export function parseFormatType(text: string): TypeSpec {
  const m = /^(.*?)(?:\(([\d,\s]+)\))?(\[\])?$/.exec(text.trim());
  const rawBase = (m?.[1] ?? text).trim();
  return {
    base: FORMAT_TYPE_BASES[rawBase] ?? rawBase,
    mods: (m?.[2] ?? '').split(',').filter((x) => x.trim() !== '').map(Number),
    array: Boolean(m?.[3]),
  };
}

/** TypeSpec of a TypeName AST node (constant modifiers only). */
export function typeSpec(typeName: unknown): TypeSpec | undefined {
  const t = asNode(typeName);
  const info = typeInfo(t);
  if (!t || !info) return undefined;
  const mods: number[] = [];
  for (const m of asList(t.typmods)) {
    const ival = asNode(child(m, 'A_Const')?.ival);
    if (!ival) return undefined; // a non-integer modifier: do not guess
    mods.push(typeof ival.ival === 'number' ? ival.ival : 0);
  }
  return { base: info.name, mods, array: info.isArray };
}

const DISPLAY_NAMES: Record<string, string> = { int4: 'integer', int8: 'bigint', int2: 'smallint', bpchar: 'char', bool: 'boolean', float8: 'double precision', float4: 'real' };

export function formatSpec(t: TypeSpec): string {
  return `${DISPLAY_NAMES[t.base] ?? t.base}${t.mods.length ? `(${t.mods.join(',')})` : ''}${t.array ? '[]' : ''}`;
}

/**
 * Type changes Postgres performs without rewriting the table (sql-altertable.html Notes; strong_migrations' safe
 * list): widening varchar/varbit/numeric precision at the same scale, dropping the limit, varchar↔text, cidr→inet.
 */
export function isBinaryCoercible(from: TypeSpec, to: TypeSpec): boolean {
  if (from.array !== to.array) return false;
  if (from.base === to.base && from.mods.join(',') === to.mods.join(',')) return true;
  // Same type, target without a modifier: no length coercion is applied (coerce_type_typmod skips typmod -1), e.g.
  // vector(768) → vector. `char` and `bit` without a length parse with modifier 1, so they never get here.
  if (from.base === to.base && to.mods.length === 0) return true;
  const widens = (a: number[], b: number[]) => b.length === 0 || (a.length > 0 && (b[0] ?? 0) >= (a[0] ?? 0));
  if (from.base === 'varchar' && to.base === 'varchar') return widens(from.mods, to.mods);
  if (from.base === 'varbit' && to.base === 'varbit') return widens(from.mods, to.mods);
  if (from.base === 'varchar' && to.base === 'text') return true;
  if (from.base === 'text' && to.base === 'varchar') return to.mods.length === 0;
  if (from.base === 'numeric' && to.base === 'numeric') {
    if (to.mods.length === 0) return true;
    if (from.mods.length === 0) return false;
    return (to.mods[0] ?? 0) >= (from.mods[0] ?? 0) && (to.mods[1] ?? 0) === (from.mods[1] ?? 0);
  }
  return from.base === 'cidr' && to.base === 'inet';
}
