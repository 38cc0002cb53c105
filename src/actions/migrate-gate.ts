// migrate-gate action: publishes the migration plan (decision, risk, content hash), a job summary with the plan as
// tables and annotations on the offending lines. Needing approval is a normal outcome; only a blocked plan fails.
// First: lets the bundled libpg-query find its .wasm (see the module).
import '../migrations/analyze/wasm-dirname.js';
import path from 'node:path';
import * as core from '@actions/core';
import { InputError, UserFacingError } from '../core/errors.js';
import { redactUrl, scrubSecrets } from '../core/redact.js';
import { DEFAULT_LARGE_TABLE_ROWS } from '../migrations/analyze.js';
import { NoMigrationsError, parseToolName } from '../migrations/detect.js';
import { runGate } from '../migrations/gate.js';
import {
  APPROVAL_POLICIES,
  PLAN_MARKDOWN_MAX_BYTES,
  PLAN_OUTPUT_MAX_BYTES,
  noMigrationsPlan,
  planJsonForOutput,
  planMarkdown,
  type MigrationPlan,
  type PlanFinding,
} from '../migrations/plan.js';
import { choiceInput, databaseUrlInput, directoryInput, integerInput, stringInput } from './lib/inputs.js';
import { runAction } from './lib/runtime.js';


function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const code = (t: string) => `<code>${escapeHtml(t)}</code>`;
const oneLine = (t: string, max: number) => {
  const flat = t.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
};
const DECISION_TITLE: Record<MigrationPlan['decision'], string> = {
  'no-pending': '✅ No pending migrations',
  'auto-apply': '✅ Safe to apply unattended',
  'requires-approval': '⏸️ Approval required',
  blocked: '⛔ Blocked',
};
const NO_MIGRATIONS = 'no migrations found';
const RISK_ICON: Record<string, string> = { safe: '🟢', blocking: '🟠', opaque: '🟣', breaking: '🔴', destructive: '⛔' };
// GitHub shows at most 10 annotations of each level per step; more only clutter the log.
const MAX_ANNOTATIONS = 50;
// A step summary may be at most 1 MiB (docs "Adding a job summary"): long tables are cut, the log has everything.
const MAX_SUMMARY_ROWS = 300;

async function main(): Promise<void> {
  // The URL is masked (and validated) before anything can print it, including input errors.
  const { url: databaseUrl, secrets } = databaseUrlInput('database-url', { required: true })!;
  const scrub = (t: string) => scrubSecrets(t, secrets);
  const tool = parseToolName(stringInput('migrations-tool'), 'migrations-tool');
  const dir = stringInput('migrations-dir', { fallback: '' }).trim();
  const approval = choiceInput('approval', APPROVAL_POLICIES, 'risky');
  const largeTableRows = integerInput('large-table-rows', DEFAULT_LARGE_TABLE_ROWS, { min: 0 });
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const cwd = directoryInput('working-directory');

  core.info(`Target ${redactUrl(databaseUrl)}; approval policy ${approval}; large tables from ${largeTableRows} rows`);
  // Paths in the plan are relative to working-directory; annotations need them relative to the repository root.
  const repoPath = (file: string) => path.relative(workspace, path.resolve(cwd, file)).split(path.sep).join('/') || '.';
  let result;
  try {
    result = await runGate({ databaseUrl, dir, tool, cwd, approval, largeTableRows, log: (m) => core.info(scrub(m)) });
  } catch (err) {
    if (err instanceof NoMigrationsError) {
      // An app without migrations is not an error: the database is as up to date as it can be. No connection needed.
      const where = repoPath(err.where);
      const notice =
        `No migrations found in '${where}' (looked for: ${err.lookedFor}) — nothing to migrate; set migrate: false to skip the gate` +
        (err.dir ? '' : ", or migrations-dir (and migrations-tool) if the app keeps them elsewhere");
      const plan = noMigrationsPlan({ ...(err.tool ? { tool: err.tool } : {}), dir: err.dir ?? cwd, reason: notice, policy: { approval, largeTableRows, tableStats: false } });
      core.notice(notice, { title: 'migrate-gate: no migrations' });
      setPlanOutputs(plan);
      await writeSummary(plan, repoPath, NO_MIGRATIONS);
      return;
    }
    if (err instanceof InputError) throw err;
    throw new UserFacingError(scrub(err instanceof Error ? err.message : String(err)));
  }
  const { plan } = result;
  setPlanOutputs(plan);

  logPlan(plan);
  annotate(plan, repoPath);
  await writeSummary(plan, repoPath, result.detected);

  if (plan.decision === 'blocked') {
    throw new UserFacingError(`Migration plan blocked (${plan.blockers.length} problem(s)): ${plan.reasons.join('; ')}`);
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
  core.startGroup(`Plan: ${plan.pendingCount} pending migration(s), ${plan.counts.statements} statement(s), risk ${plan.risk}`);
  for (const f of plan.files) core.info(`${f.file}: ${f.statementCount} statement(s), risk ${f.risk}${f.hasNonTransactional ? ', has non-transactional statements' : ''}`);
  for (const f of plan.findings) {
    core.info(`  ${f.file}:${f.line}:${f.column} [${f.risk}/${f.level}] ${f.rule}: ${f.message}${f.sizeNote ? ` (${f.sizeNote})` : ''}`);
  }
  for (const i of plan.ignored) core.info(`  ${i.file}:${i.line} ignored ${i.rule}: ${i.reason}`);
  core.endGroup();
  for (const r of plan.reasons) core.info(r);
}

function annotate(plan: MigrationPlan, repoPath: (f: string) => string): void {
  let budget = MAX_ANNOTATIONS;
  for (const b of plan.blockers) {
    if (budget-- <= 0) break;
    core.error(b.detail, {
      title: `migrate-gate blocked: ${b.kind === 'rule' ? (b.rule ?? 'rule') : b.kind}`,
      ...(b.file ? { file: repoPath(b.file) } : {}),
      ...(b.line ? { startLine: b.line } : {}),
    });
  }
  const serious = (f: PlanFinding) => f.level !== 'notice' && !f.blocksPlan;
  for (const f of plan.findings.filter(serious)) {
    if (budget-- <= 0) break;
    const props = {
      title: `${f.rule} (${f.risk})`,
      file: repoPath(f.file),
      startLine: f.line,
      startColumn: f.column,
    };
    const text = `${f.message}. Safer: ${f.safeAlternative}${f.sizeNote ? `. ${f.sizeNote}` : ''}`;
    if (f.level === 'error' && f.risk !== 'safe') core.error(text, props);
    else core.warning(text, props);
  }
}

async function writeSummary(plan: MigrationPlan, repoPath: (f: string) => string, detected: string): Promise<void> {
  const s = core.summary;
  const more = (total: number, what: string) => {
    if (total > MAX_SUMMARY_ROWS) s.addRaw(`<p>… and ${total - MAX_SUMMARY_ROWS} more ${what} (the step log lists them all).</p>`, true);
  };
  s.addHeading(`Migrate gate: ${detected === NO_MIGRATIONS ? '✅ No migrations — nothing to migrate' : DECISION_TITLE[plan.decision]}`, 2);
  s.addRaw(
    `<p>${plan.pendingCount} pending migration(s) · highest risk <strong>${RISK_ICON[plan.risk] ?? ''} ${plan.risk}</strong> · ` +
      `approval policy <code>${plan.policy.approval}</code> · tool <code>${plan.tool}</code> (${escapeHtml(detected)}) · ` +
      `${detected === NO_MIGRATIONS ? 'database not contacted' : `PostgreSQL ${plan.policy.serverVersion ?? '?'}`} · plan-hash <code>${plan.planHash}</code></p>`,
    true,
  );
  s.addList(plan.reasons.map(escapeHtml));
  if (plan.blockers.length) {
    s.addHeading('Blockers', 3);
    s.addTable([
      [{ data: 'Kind', header: true }, { data: 'Where', header: true }, { data: 'Detail', header: true }],
      ...plan.blockers.slice(0, MAX_SUMMARY_ROWS).map((b) => [b.kind === 'rule' ? code(b.rule ?? '') : b.kind, b.file ? code(`${repoPath(b.file)}${b.line ? `:${b.line}` : ''}`) : '—', escapeHtml(b.detail)]),
    ]);
    more(plan.blockers.length, 'blockers');
  }
  if (plan.files.length) {
    s.addHeading('Pending migrations', 3);
    s.addTable([
      [{ data: 'Migration', header: true }, { data: 'Statements', header: true }, { data: 'Risk', header: true }, { data: 'Transactions', header: true }],
      ...plan.files.slice(0, MAX_SUMMARY_ROWS).map((f) => [
        code(repoPath(f.file)),
        f.kind === 'opaque' ? 'code (not analysable)' : String(f.statementCount),
        `${RISK_ICON[f.risk] ?? ''} ${f.risk}`,
        f.noTransaction ? 'none (tool runs it outside a transaction)' : f.hasNonTransactional ? 'split: some statements run alone' : 'one transaction',
      ]),
    ]);
    more(plan.files.length, 'migrations');
  }
  const shown = plan.findings.filter((f) => f.level !== 'notice' || f.sizeNote);
  if (shown.length) {
    s.addHeading('Findings', 3);
    s.addTable([
      [{ data: 'Risk', header: true }, { data: 'Rule', header: true }, { data: 'Where', header: true }, { data: 'What', header: true }, { data: 'Safer alternative', header: true }],
      ...shown.slice(0, MAX_SUMMARY_ROWS).map((f) => [
        `${RISK_ICON[f.risk] ?? ''} ${f.risk}`,
        code(f.rule),
        code(`${repoPath(f.file)}:${f.line}`),
        escapeHtml(f.message) + (f.sizeNote ? `<br><em>${escapeHtml(f.sizeNote)}</em>` : ''),
        escapeHtml(f.safeAlternative),
      ]),
    ]);
    more(shown.length, 'findings');
  }
  const notices = plan.findings.filter((f) => f.level === 'notice' && !f.sizeNote);
  if (notices.length) {
    s.addDetails(
      `${notices.length} hygiene notice(s)`,
      `<ul>${notices.slice(0, MAX_SUMMARY_ROWS).map((f) => `<li><code>${escapeHtml(f.rule)}</code> ${escapeHtml(repoPath(f.file))}:${f.line} — ${escapeHtml(f.message)}</li>`).join('')}</ul>`,
    );
  }
  if (plan.ignored.length) {
    s.addHeading('Ignored by inline directives', 3);
    s.addTable([
      [{ data: 'Rule', header: true }, { data: 'Where', header: true }, { data: 'Reason given', header: true }],
      ...plan.ignored.slice(0, MAX_SUMMARY_ROWS).map((i) => [code(i.rule), code(`${repoPath(i.file)}:${i.line}`), escapeHtml(i.reason)]),
    ]);
    more(plan.ignored.length, 'ignores');
  }
  if (plan.statements.length) {
    s.addHeading('Statements', 3);
    // @actions/core renders an empty cell as an unclosed <td>: always put something in it.
    const yes = (b: boolean) => (b ? 'yes' : '—');
    s.addTable([
      [
        { data: 'Where', header: true }, { data: 'Statement', header: true }, { data: 'Lock', header: true }, { data: 'Rewrite', header: true },
        { data: 'Scan', header: true }, { data: 'In tx', header: true }, { data: 'Risk', header: true },
      ],
      ...plan.statements.slice(0, 200).map((st) => [
        code(`${repoPath(st.file)}:${st.line}`),
        code(oneLine(st.sql, 120) || st.kind),
        st.lock ?? '—',
        yes(st.rewritesTable),
        yes(st.scansTable),
        st.transactional ? 'yes' : '<strong>no</strong>',
        `${RISK_ICON[st.risk] ?? ''} ${st.risk}${st.note ? ' (new table)' : ''}`,
      ]),
    ]);
    if (plan.statements.length > 200) s.addRaw(`<p>… and ${plan.statements.length - 200} more statements.</p>`, true);
  }
  await s.write();
}

void runAction(main, {
  // An error before a plan exists fails closed: a continue-on-error workflow reading requires-approval or decision
  // must not take "no value" for "safe to apply unattended".
  failureOutputs: { decision: 'blocked', 'requires-approval': 'true' },
});
