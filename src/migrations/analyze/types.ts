// Shapes produced by the migration risk analysis (src/migrations/analyze.ts) and consumed by the plan and the gate.
import type { CatalogFacts, CatalogQuestions } from './catalog.js';

/**
 * Risk classes, in ascending order of severity:
 * - safe: catalog-only or non-blocking; auto-apply.
 * - blocking: takes a long lock, rewrites or scans an existing table; weighed by table size when stats are known.
 * - opaque: the effect cannot be determined statically (DML backfills, DO blocks, unparseable SQL, JS/TS migrations).
 * - breaking: breaks the version of the app that is still running (renames, drops of columns the app may read, …).
 * - destructive: loses data (DROP TABLE/COLUMN/SCHEMA/DATABASE, TRUNCATE, DELETE).
 */
export type RiskClass = 'safe' | 'blocking' | 'opaque' | 'breaking' | 'destructive';

export const RISK_ORDER: readonly RiskClass[] = ['safe', 'blocking', 'opaque', 'breaking', 'destructive'];

export function maxRisk(a: RiskClass, b: RiskClass): RiskClass {
  return RISK_ORDER.indexOf(a) >= RISK_ORDER.indexOf(b) ? a : b;
}

/** Postgres table-level lock modes, weakest first (explicit-locking.html). */
export type LockMode =
  | 'ACCESS SHARE'
  | 'ROW SHARE'
  | 'ROW EXCLUSIVE'
  | 'SHARE UPDATE EXCLUSIVE'
  | 'SHARE'
  | 'SHARE ROW EXCLUSIVE'
  | 'EXCLUSIVE'
  | 'ACCESS EXCLUSIVE';

export const LOCK_ORDER: readonly LockMode[] = [
  'ACCESS SHARE',
  'ROW SHARE',
  'ROW EXCLUSIVE',
  'SHARE UPDATE EXCLUSIVE',
  'SHARE',
  'SHARE ROW EXCLUSIVE',
  'EXCLUSIVE',
  'ACCESS EXCLUSIVE',
];

export function strongerLock(a: LockMode | null, b: LockMode | null): LockMode | null {
  if (!a) return b;
  if (!b) return a;
  return LOCK_ORDER.indexOf(a) >= LOCK_ORDER.indexOf(b) ? a : b;
}

/** error: needs a human (or fails); warning: worth reading; notice: hygiene or an explained downgrade. */
export type FindingLevel = 'error' | 'warning' | 'notice';

/** One rule hit on one statement. */
export interface Finding {
  rule: string;
  risk: RiskClass;
  level: FindingLevel;
  /** One line: what this statement does and why it matters. */
  message: string;
  /** One line: the safe way to get the same result. */
  safeAlternative: string;
  file: string;
  /** 1-based line/column of the statement (or of the offending node when known). */
  line: number;
  column: number;
  /** Schema-qualified (when written so) table the finding is about. */
  table?: string;
  /** The table column, for column-level rules (type changes …). */
  columnName?: string;
  /** When table size changed the class: what was known and what was decided. */
  sizeNote?: string;
  /** The class before a size/new-table adjustment. */
  originalRisk?: RiskClass;
  /** The plan cannot be applied as written (certain failure or silently lost work): the gate blocks. */
  blocksPlan?: boolean;
}

/** A finding suppressed by an inline directive; the directive's reason is kept for reviewers. */
export interface IgnoredFinding {
  rule: string;
  file: string;
  line: number;
  /** Where the directive was written. */
  directiveLine: number;
  reason: string;
}

/** What one statement does to the database: shared by the analysis, the plan and the classifier. */
export interface StatementEffects {
  /** Existing tables (or indexes) it touches, as written. */
  tables: string[];
  /** Strongest table-level lock taken on an existing table; null when none (new objects, SET …). */
  lock: LockMode | null;
  rewritesTable: boolean;
  scansTable: boolean;
  /** Breaks the app version that is still running (drop/rename/NOT NULL/type change …). */
  breaking: boolean;
  destructive: boolean;
  /**
   * The facts that decided lock/rewrite/scan, one sentence each, e.g. "no scan: NOT NULL proven by valid CHECK
   * constraint users_email_nn" or "gen_random_uuid() is volatile (pg_proc.provolatile = 'v'): … rewritten". Read from
   * the live catalog when the analysis had it (AnalyzeOptions.readCatalog). Absent when nothing needed deciding.
   */
  decidedBy?: string[];
}

export interface StatementAnalysis extends StatementEffects {
  file: string;
  /** 0-based index of the statement in its file. */
  index: number;
  /** 1-based start line/column (columns count characters, not bytes) and end line of the statement text. */
  line: number;
  column: number;
  endLine: number;
  /** Byte range in the file (libpg-query's stmt_location / stmt_len, leading whitespace trimmed). */
  byteStart: number;
  byteEnd: number;
  /** AST node type (AlterTableStmt, IndexStmt …) or 'ParseError'. */
  kind: string;
  /** Statement text, whitespace-trimmed. */
  sql: string;
  /** False: Postgres refuses it inside a transaction block; the runner executes it alone. */
  transactional: boolean;
  risk: RiskClass;
  findings: Finding[];
  ignored: IgnoredFinding[];
  /** Why lock/scan rules did not apply (e.g. the table is created earlier in the same pending set). */
  note?: string;
}

export interface TableStats {
  /** pg_class.reltuples (estimate), or an exact bounded count when the table was never analysed. */
  rows: number;
  /** pg_total_relation_size. */
  bytes: number;
}

export interface AnalyzeOptions {
  /**
   * Live sizes keyed by table name as written in the SQL ('users', 'public.users'); lookups fall back from the
   * qualified name to the bare one. Without stats, blocking findings keep their class.
   */
  tableStats?: Map<string, TableStats>;
  /** Tables with at least this many rows are "large" (blocking upgraded to error); fewer → downgraded to safe. */
  largeTableRows?: number;
  /** server_version_num (e.g. 150004) or a major version (15). Default 15, like squawk. */
  pgVersion?: number;
  /**
   * How the runner executes a file: 'file' = the whole file in one transaction (statements that cannot run in a
   * transaction are split out by the runner); 'none' = statement by statement (dbmate transaction:false …).
   */
  transactionMode?: 'file' | 'none';
  /** The rail-actions migrate runner sets lock_timeout/statement_timeout itself; false = require them in the SQL. */
  runnerSetsTimeouts?: boolean;
  /** Opt-in rules (squawk's opt-in ones: require-table-schema). */
  enableRules?: string[];
  /** Rules switched off entirely. */
  disableRules?: string[];
  /**
   * Live column types (format_type output) keyed `${table}.${column}` with the table as written in the SQL; lets a
   * binary-coercible ALTER COLUMN TYPE (varchar(20) → text …) pass without a rewrite finding.
   */
  columnTypes?: Map<string, string>;
  /**
   * Live NOT NULL proofs keyed `${table}.${column}`: 'not-null' (attnotnull) or 'check' (a validated
   * CHECK (col IS NOT NULL)); lets SET NOT NULL pass without a scan finding when the database proves it.
   */
  notNullProofs?: Map<string, 'not-null' | 'check'>;
  /**
   * Reads the live catalog facts the pending statements depend on (function volatility, domain constraints, column
   * type/typmod/collation/indexes, validated CHECK constraints, index columns, partition keys) — called once per
   * analysis, after parsing, with exactly the questions the statements raise. Usually
   * `(q) => fetchCatalogFacts(client, q)` (analyze/catalog.ts). Without it, unknown facts get the cautious answer.
   */
  readCatalog?: (questions: CatalogQuestions) => Promise<CatalogFacts>;
  /**
   * Worker threads that parse besides the calling one (0 = parse on the calling thread only). Default: chosen from
   * the input size and the CPU count (analyze/parallel.ts). The result is the same either way.
   */
  parseThreads?: number;
}
