// migrate-gate action: publishes the migration plan (decision, risk, content hash), a job summary with the plan as
// tables and annotations on the offending lines. Needing approval is a normal outcome; only a blocked plan fails. The
// plan comes from planMigrations (src/migrations/use-cases.ts), shared with `rail-actions plan`.
// First: lets the bundled libpg-query find its .wasm (see the module).
import '../migrations/analyze/wasm-dirname.js';
import path from 'node:path';
import * as core from '@actions/core';
import { UserFacingError } from '../core/errors.js';
import {
  PLAN_MARKDOWN_MAX_BYTES,
  PLAN_OUTPUT_MAX_BYTES,
  planJsonForOutput,
  planMarkdown,
  type MigrationPlan,
} from '../migrations/plan.js';
import { readGateSpec } from '../migrations/spec.js';
import { NO_MIGRATIONS, gateAnnotations, gatePlanLog, renderGateSummary } from '../migrations/summary.js';
import { planMigrations } from '../migrations/use-cases.js';
import { coreSource } from './lib/inputs.js';
import { runAction } from './lib/runtime.js';

export async function main(): Promise<void> {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  // The URL is masked (and validated) before anything can print it, including input errors.
  const spec = readGateSpec(coreSource, { base: workspace });
  // Paths in the plan are relative to working-directory; annotations need them relative to the repository root.
  const repoPath = (file: string) =>
    path.relative(workspace, path.resolve(spec.cwd, file)).split(path.sep).join('/') || '.';
  const run = await planMigrations(
    spec,
    { log: (m) => core.info(m) },
    (none) =>
      // An app without migrations is not an error: the database is as up to date as it can be. No connection needed.
      `${none.found} — nothing to migrate; set migrate: false to skip the gate` +
      (none.searched ? ', or migrations-dir (and migrations-tool) if the app keeps them elsewhere' : ''),
  );
  const { plan } = run;
  if (run.kind === 'no-migrations') {
    core.notice(plan.reasons[0] ?? run.none.found, { title: 'migrate-gate: no migrations' });
    setPlanOutputs(plan);
    await writeSummary(plan, repoPath, NO_MIGRATIONS);
    return;
  }
  setPlanOutputs(plan);

  logPlan(plan);
  annotate(plan, repoPath);
  await writeSummary(plan, repoPath, run.gate.detected);

  if (plan.decision === 'blocked') {
    throw new UserFacingError(
      `Migration plan blocked (${plan.blockers.length} problem(s)): ${plan.reasons.join('; ')}`,
    );
  }
  core.info(`Decision: ${plan.decision} (risk ${plan.risk}, ${plan.pendingCount} pending, plan-hash ${plan.planHash})`);
}

function setPlanOutputs(plan: MigrationPlan): void {
  const planJson = planJsonForOutput(plan, PLAN_OUTPUT_MAX_BYTES);
  const markdown = planMarkdown(plan, 30, PLAN_MARKDOWN_MAX_BYTES);
  if (planJson.length < JSON.stringify(plan).length) {
    core.warning(
      `The plan is too large for an action input (${plan.files.length} files, ${plan.statements.length} statements, ${plan.findings.length} findings): ` +
        `the 'plan' output is shortened to ${Math.ceil(Buffer.byteLength(planJson) / 1024)} KiB (truncated: true; decision, risk, hash, rules and risky files kept) — the job summary and the log have the details.`,
    );
  }
  core.setOutput('pending-count', String(plan.pendingCount));
  core.setOutput('risk', plan.risk);
  core.setOutput('requires-approval', String(plan.requiresApproval));
  core.setOutput('decision', plan.decision);
  core.setOutput('plan', planJson);
  core.setOutput('plan-hash', plan.planHash);
  core.setOutput('plan-markdown', markdown);
}

function logPlan(plan: MigrationPlan): void {
  const log = gatePlanLog(plan);
  core.startGroup(log.title);
  for (const line of log.lines) core.info(line);
  core.endGroup();
  for (const r of log.reasons) core.info(r);
}

function annotate(plan: MigrationPlan, repoPath: (f: string) => string): void {
  for (const a of gateAnnotations(plan, repoPath))
    (a.level === 'error' ? core.error : core.warning)(a.message, a.props);
}

async function writeSummary(plan: MigrationPlan, repoPath: (f: string) => string, detected: string): Promise<void> {
  renderGateSummary(core.summary, plan, repoPath, detected);
  await core.summary.write();
}

export async function run(): Promise<void> {
  await runAction(main, {
    // An error before a plan exists fails closed: a continue-on-error workflow reading requires-approval or decision
    // must not take "no value" for "safe to apply unattended".
    failureOutputs: { decision: 'blocked', 'requires-approval': 'true' },
  });
}

await run();
