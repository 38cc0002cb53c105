// The migrate gate's core: pending migrations → analysis weighed by live table sizes → plan. No @actions imports, so
// the action, the CLI and tests share it. Validates files and tool before opening any connection; the connection is
// read-only (history tables, pg_class, server version).
import { InputError, UserFacingError } from '../core/errors.js';
import {
  analyzeMigrationFiles,
  applyTableStats,
  fetchCatalogFacts,
  tablesToWeigh,
  type FileAnalysis,
} from './analyze.js';
import { fetchTableStats, serverVersionNum } from './analyze/stats.js';
import { connectDatabase, safeDbError } from './db.js';
import { loadMigrations, pendingWithClient } from './pending.js';
import { describeInterrupted, interruptedFiles, isOwnDirtyFlag } from './runner/progress.js';
import { buildPlan, type ApprovalPolicy, type MigrationPlan } from './plan.js';
import type { PendingReport, ToolName } from './types.js';

export interface GateOptions {
  databaseUrl: string;
  dir: string;
  tool: ToolName | 'auto';
  cwd: string;
  approval: ApprovalPolicy;
  largeTableRows: number;
  log?: (msg: string) => void;
}

export interface GateResult {
  plan: MigrationPlan;
  report: PendingReport;
  analyses: FileAnalysis[];
  /** Why the tool/dir were chosen. */
  detected: string;
  timings: { pendingMs: number; analyzeMs: number; statsMs: number };
}

export async function runGate(opts: GateOptions): Promise<GateResult> {
  const log = opts.log ?? (() => undefined);
  const loaded = await loadMigrations({ dir: opts.dir, tool: opts.tool, cwd: opts.cwd });
  log(
    `Tool ${loaded.detected.tool} in ${loaded.detected.dir}: ${loaded.detected.reason}; ${loaded.files.length} migration file(s) on disk`,
  );
  const client = await connectDatabase(opts.databaseUrl, { applicationName: 'rail-actions migrate-gate' });
  try {
    const t0 = performance.now();
    // The gate only reads; a stuck catalog query must not hang the deploy.
    await client.query("SET statement_timeout = '60s'");
    const report = await pendingWithClient(client, loaded);
    await noteInterruptedFiles(client, loaded, report);
    const serverVersion = await serverVersionNum(client);
    const t1 = performance.now();
    // Each file is parsed once; the live catalog answers what decides a statement (function volatility, constraint
    // validity, column types and collations, partition bounds) — see docs/migrate-gate-rules.md.
    const analyses = await analyzeMigrationFiles(report.pending, {
      pgVersion: serverVersion,
      largeTableRows: opts.largeTableRows,
      readCatalog: (q) => fetchCatalogFacts(client, q),
    });
    const t2 = performance.now();
    const stats = await fetchTableStats(client, tablesToWeigh(analyses), opts.largeTableRows);
    applyTableStats(
      analyses.flatMap((a) => a.statements),
      stats,
      opts.largeTableRows,
    );
    const t3 = performance.now();
    const plan = buildPlan(report, analyses, {
      approval: opts.approval,
      largeTableRows: opts.largeTableRows,
      serverVersion,
      tableStats: true,
    });
    return {
      plan,
      report,
      analyses,
      detected: loaded.detected.reason,
      timings: { pendingMs: t1 - t0, analyzeMs: t2 - t1, statsMs: t3 - t2 },
    };
  } catch (err) {
    if (err instanceof UserFacingError || err instanceof InputError) throw err;
    throw new UserFacingError(
      `Reading the database for the migration plan failed: ${safeDbError(err, opts.databaseUrl)}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Files an interrupted migrate run left partly applied (src/migrations/runner/progress.ts): the plan says where the
 * next run resumes; a file that changed after some of its groups committed blocks the plan, as migrate would refuse it.
 */
async function noteInterruptedFiles(
  client: Awaited<ReturnType<typeof connectDatabase>>,
  loaded: Awaited<ReturnType<typeof loadMigrations>>,
  report: PendingReport,
): Promise<void> {
  const history = await loaded.adapter.historyTable(client);
  const pendingIds = new Set(report.pending.map((f) => f.id));
  const interrupted = (await interruptedFiles(client, history, report.files)).filter((i) =>
    pendingIds.has(i.migration),
  );
  if (interrupted.length === 0) return;
  const ids = new Set(interrupted.map((i) => i.migration));
  report.anomalies = report.anomalies.filter((a) => !isOwnDirtyFlag(a, report.tool, report.files, ids));
  for (const i of interrupted) {
    if (!i.sameContent && i.committedGroups.length > 0)
      report.anomalies.push({ kind: 'interrupted', file: i.file, detail: describeInterrupted(i) });
  }
  report.resumes = interrupted.filter((i) => i.sameContent || i.committedGroups.length === 0).map(describeInterrupted);
}
