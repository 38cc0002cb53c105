// Shared shapes of the migrations core (see coord/CONTRACTS.md). Pure types: no runtime imports.

export type ToolName = 'prisma' | 'drizzle' | 'knex' | 'node-pg-migrate' | 'golang-migrate' | 'dbmate' | 'sql';

export const TOOL_NAMES: readonly ToolName[] = [
  'prisma',
  'drizzle',
  'knex',
  'node-pg-migrate',
  'golang-migrate',
  'dbmate',
  'sql',
];

export interface MigrationFile {
  /** The id the tool records in its history table (Prisma folder name, knex file name, golang-migrate version …). */
  id: string;
  /** Absolute path of the file that holds the up migration. */
  path: string;
  /** Path relative to the repository root / cwd, for messages and annotations. */
  relPath: string;
  /** The SQL that runs on `up`; undefined = opaque (JS/TS code we cannot analyse). */
  sql?: string;
  /** The checksum the tool itself would record/compare (Prisma sha256 hex, drizzle sha256 hex …); sha256 hex otherwise. */
  checksum: string;
  kind: 'sql' | 'opaque';
  /** The tool runs this file outside a transaction (dbmate `transaction:false`, node-pg-migrate noTransaction …). */
  noTransaction?: boolean;
}

/** One row of the tool's history table, normalised. */
export interface AppliedRow {
  id: string;
  /** Checksum recorded by the tool, when it records one. */
  checksum?: string;
  /** ISO timestamp of when the row says the migration finished (or was applied). */
  appliedAt?: string;
  /** The row records a failed/unfinished/rolled-back/dirty state. */
  failed?: boolean;
  dirty?: boolean;
  /** Free text from the tool (Prisma `logs`, …). */
  detail?: string;
}

export type AnomalyKind =
  'checksum-drift' | 'failed' | 'dirty' | 'out-of-order' | 'locked' | 'missing-file' | 'interrupted';

export interface Anomaly {
  kind: AnomalyKind;
  file?: string;
  detail: string;
}

export interface PendingReport {
  tool: ToolName;
  dir: string;
  files: MigrationFile[];
  applied: AppliedRow[];
  pending: MigrationFile[];
  anomalies: Anomaly[];
  /** Pending files an interrupted rail-actions run left partly applied, one line each (the gate reads them). */
  resumes?: string[];
}

export interface FindPendingOptions {
  databaseUrl: string;
  dir: string;
  tool?: ToolName | 'auto';
  cwd?: string;
}
