// What every statement handler shares: the facts it fills in, the view of the migration set and the live catalog it
// reads, and the dispatch types. One handler per libpg-query node type (statements/*.ts); statement.ts holds the table.
import type { AlterTableType, Node as PgNode } from 'libpg-query';
import { asList, asNode, str, type Node } from '../ast.js';
import type { LiveColumn, Volatility } from '../catalog.js';
import type { RuleId } from '../rules.js';
import { strongerLock, type LockMode, type StatementEffects } from '../types.js';

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

/** Every statement type libpg-query can return (the keys of its Node union, e.g. 'AlterTableStmt'). */
export type NodeType = PgNode extends infer U ? (U extends unknown ? keyof U : never) : never;

/** Classifies one statement of type K into `f`. */
export type Handler<K extends NodeType = NodeType> = (node: Node, f: Facts, ctx: StatementContext, type: K) => void;

/** Handlers keyed by node type: a key that is not a libpg-query node type fails to compile. */
export type HandlerTable = { [K in NodeType]?: Handler<K> };

/** One ALTER TABLE statement, as its subcommand handlers see it. */
export interface AlterTableScope {
  ctx: StatementContext;
  f: Facts;
  table: string | undefined;
  /** Bare table name, the key of NOT VALID constraints and validated NOT NULL checks. */
  tkey: string;
  /** The table existed before this migration set (it may hold rows and be in use). */
  existing: boolean;
  /** Columns added by this statement so far (duplicate ADD COLUMN names). */
  addedColumns: Array<[string | undefined, number | undefined]>;
}

/** Classifies one ALTER TABLE subcommand (AlterTableCmd) into `s.f`. */
export type SubcommandHandler = (cmd: Node, s: AlterTableScope) => void;

/** Subcommand handlers keyed by AlterTableCmd.subtype: a key that is not a libpg-query subtype fails to compile. */
export type SubcommandTable = { [K in AlterTableType]?: SubcommandHandler };

export const ROBUST_HINT = 'add IF [NOT] EXISTS';

export class Facts implements StatementFacts {
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

  private readonly ctx: StatementContext;

  constructor(ctx: StatementContext) {
    this.ctx = ctx;
  }

  touch(table: string | undefined, lock: LockMode | null): void {
    if (table && !this.tables.includes(table)) this.tables.push(table);
    this.lock = strongerLock(this.lock, lock);
  }

  hit(
    rule: RuleId,
    opts: { message?: string; table?: string; columnName?: string | undefined; loc?: number | undefined } = {},
  ): void {
    const f: RawFinding = { rule };
    if (opts.message) f.message = opts.message;
    if (opts.table) f.table = opts.table;
    if (opts.columnName) f.columnName = opts.columnName;
    if (opts.loc !== undefined) f.loc = opts.loc;
    this.findings.push(f);
  }

  /** prefer-robust-stmts: a statement that fails when re-run, where a retry can happen (outside a transaction). */
  robust(ok: boolean, what: string, loc?: number): void {
    if (!ok && this.ctx.runsOutsideTransaction && !this.ctx.inExplicitTransaction) {
      this.hit('prefer-robust-stmts', {
        message: `${what} runs outside a transaction without IF [NOT] EXISTS; a retry after a partial failure errors (${ROBUST_HINT})`,
        loc,
      });
    }
  }
}

export function duplicateColumns(cols: Array<[string | undefined, number | undefined]>, what: string): RawFinding[] {
  const seen = new Set<string>();
  const out: RawFinding[] = [];
  for (const [name, loc] of cols) {
    if (!name) continue;
    if (seen.has(name)) {
      out.push({
        rule: 'ban-duplicate-column-assignments',
        message: `column ${name} is ${what} twice`,
        ...(loc !== undefined ? { loc } : {}),
      });
    }
    seen.add(name);
  }
  return out;
}

export function constraintsOf(columnDef: Node): Array<[string, Node]> {
  return asList(columnDef.constraints)
    .map((c) => asNode(asNode(c)?.Constraint))
    .filter((c): c is Node => c !== undefined)
    .map((c) => [str(c.contype) ?? '', c]);
}
