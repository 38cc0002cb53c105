// The migrations family's job summaries, log lines and annotations as pure functions of the plan or the migrate result;
// the entries (src/actions/migrate-gate.ts, migrate.ts) hand them @actions/core's summary and emit what they return.
import path from 'node:path';
import { formatDuration } from '../core/duration.js';
import { escapeHtml, headerRow } from '../core/text.js';
import type { MigrationPlan, PlanFinding } from './plan.js';
import type { AppliedFile, ApplyResult, PartialFile } from './runner/apply.js';
import type { RehearsalResult } from './runner/rehearse.js';

/** The part of @actions/core's job summary builder these renderers use (so no @actions import here). */
export interface SummarySink {
  addHeading(text: string, level?: number): unknown;
  addRaw(text: string, addEOL?: boolean): unknown;
  addList(items: string[]): unknown;
  addTable(rows: Array<Array<string | { data: string; header?: boolean }>>): unknown;
  addDetails(label: string, content: string): unknown;
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
/** `detected` for an app without migrations (the database was not contacted). */
export const NO_MIGRATIONS = 'no migrations found';
const RISK_ICON: Record<string, string> = {
  safe: '🟢',
  blocking: '🟠',
  opaque: '🟣',
  breaking: '🔴',
  destructive: '⛔',
};
// GitHub shows at most 10 annotations of each level per step; more only clutter the log.
const MAX_ANNOTATIONS = 50;
// A step summary may be at most 1 MiB (docs "Adding a job summary"): long tables are cut, the log has everything.
const MAX_SUMMARY_ROWS = 300;

/** An annotation for the entry to emit (core.error / core.warning): the plan's blockers, then its serious findings. */
export interface Annotation {
  level: 'error' | 'warning';
  message: string;
  props: { title: string; file?: string; startLine?: number; startColumn?: number };
}

/** At most MAX_ANNOTATIONS: blockers first (errors), then serious findings not already blocking. */
export function gateAnnotations(plan: MigrationPlan, repoPath: (f: string) => string): Annotation[] {
  const out: Annotation[] = [];
  let budget = MAX_ANNOTATIONS;
  for (const b of plan.blockers) {
    if (budget-- <= 0) break;
    out.push({
      level: 'error',
      message: b.detail,
      props: {
        title: `migrate-gate blocked: ${b.kind === 'rule' ? (b.rule ?? 'rule') : b.kind}`,
        ...(b.file ? { file: repoPath(b.file) } : {}),
        ...(b.line ? { startLine: b.line } : {}),
      },
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
    const message = `${f.message}. Safer: ${f.safeAlternative}${f.sizeNote ? `. ${f.sizeNote}` : ''}`;
    out.push({ level: f.level === 'error' && f.risk !== 'safe' ? 'error' : 'warning', message, props });
  }
  return out;
}

/** The plan for the step log: a group title and its lines, then the reasons (outside the group). */
export function gatePlanLog(plan: MigrationPlan): { title: string; lines: string[]; reasons: string[] } {
  const lines: string[] = [];
  for (const f of plan.files)
    lines.push(
      `${f.file}: ${f.statementCount} statement(s), risk ${f.risk}${f.hasNonTransactional ? ', has non-transactional statements' : ''}`,
    );
  for (const f of plan.findings) {
    lines.push(
      `  ${f.file}:${f.line}:${f.column} [${f.risk}/${f.level}] ${f.rule}: ${f.message}${f.sizeNote ? ` (${f.sizeNote})` : ''}`,
    );
  }
  for (const i of plan.ignored) lines.push(`  ${i.file}:${i.line} ignored ${i.rule}: ${i.reason}`);
  return {
    title: `Plan: ${plan.pendingCount} pending migration(s), ${plan.counts.statements} statement(s), risk ${plan.risk}`,
    lines,
    reasons: plan.reasons,
  };
}

/** The gate's job summary. `detected`: why the tool/dir were chosen, or NO_MIGRATIONS. */
export function renderGateSummary(
  s: SummarySink,
  plan: MigrationPlan,
  repoPath: (f: string) => string,
  detected: string,
): void {
  // A table under its heading with at most MAX_SUMMARY_ROWS rows (a summary has a size limit; the log has them all).
  const cappedTable = <T>(title: string, headers: string[], items: T[], row: (item: T) => string[], what: string) => {
    if (!items.length) return;
    s.addHeading(title, 3);
    s.addTable([headerRow(...headers), ...items.slice(0, MAX_SUMMARY_ROWS).map(row)]);
    if (items.length > MAX_SUMMARY_ROWS)
      s.addRaw(`<p>… and ${items.length - MAX_SUMMARY_ROWS} more ${what} (the step log lists them all).</p>`, true);
  };
  s.addHeading(
    `Migrate gate: ${detected === NO_MIGRATIONS ? '✅ No migrations — nothing to migrate' : DECISION_TITLE[plan.decision]}`,
    2,
  );
  s.addRaw(
    `<p>${plan.pendingCount} pending migration(s) · highest risk <strong>${RISK_ICON[plan.risk] ?? ''} ${plan.risk}</strong> · ` +
      `approval policy <code>${plan.policy.approval}</code> · tool <code>${plan.tool}</code> (${escapeHtml(detected)}) · ` +
      `${detected === NO_MIGRATIONS ? 'database not contacted' : `PostgreSQL ${plan.policy.serverVersion ?? '?'}`} · plan-hash <code>${plan.planHash}</code></p>`,
    true,
  );
  s.addList(plan.reasons.map(escapeHtml));
  cappedTable(
    'Blockers',
    ['Kind', 'Where', 'Detail'],
    plan.blockers,
    (b) => [
      b.kind === 'rule' ? code(b.rule ?? '') : b.kind,
      b.file ? code(`${repoPath(b.file)}${b.line ? `:${b.line}` : ''}`) : '—',
      escapeHtml(b.detail),
    ],
    'blockers',
  );
  cappedTable(
    'Pending migrations',
    ['Migration', 'Statements', 'Risk', 'Transactions'],
    plan.files,
    (f) => [
      code(repoPath(f.file)),
      f.kind === 'opaque' ? 'code (not analysable)' : String(f.statementCount),
      `${RISK_ICON[f.risk] ?? ''} ${f.risk}`,
      f.noTransaction
        ? 'none (tool runs it outside a transaction)'
        : f.hasNonTransactional
          ? 'split: some statements run alone'
          : 'one transaction',
    ],
    'migrations',
  );
  cappedTable(
    'Findings',
    ['Risk', 'Rule', 'Where', 'What', 'Safer alternative'],
    plan.findings.filter((f) => f.level !== 'notice' || f.sizeNote),
    (f) => [
      `${RISK_ICON[f.risk] ?? ''} ${f.risk}`,
      code(f.rule),
      code(`${repoPath(f.file)}:${f.line}`),
      escapeHtml(f.message) + (f.sizeNote ? `<br><em>${escapeHtml(f.sizeNote)}</em>` : ''),
      escapeHtml(f.safeAlternative),
    ],
    'findings',
  );
  const notices = plan.findings.filter((f) => f.level === 'notice' && !f.sizeNote);
  if (notices.length) {
    s.addDetails(
      `${notices.length} hygiene notice(s)`,
      `<ul>${notices
        .slice(0, MAX_SUMMARY_ROWS)
        .map(
          (f) =>
            `<li><code>${escapeHtml(f.rule)}</code> ${escapeHtml(repoPath(f.file))}:${f.line} — ${escapeHtml(f.message)}</li>`,
        )
        .join('')}</ul>`,
    );
  }
  cappedTable(
    'Ignored by inline directives',
    ['Rule', 'Where', 'Reason given'],
    plan.ignored,
    (i) => [code(i.rule), code(`${repoPath(i.file)}:${i.line}`), escapeHtml(i.reason)],
    'ignores',
  );
  if (plan.statements.length) {
    s.addHeading('Statements', 3);
    // @actions/core renders an empty cell as an unclosed <td>: always put something in it.
    const yes = (b: boolean) => (b ? 'yes' : '—');
    s.addTable([
      headerRow('Where', 'Statement', 'Lock', 'Rewrite', 'Scan', 'In tx', 'Risk'),
      ...plan.statements
        .slice(0, 200)
        .map((st) => [
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
}

/** "2 (resumed at group 2)": statements this run executed, and where it took over from an interrupted run. */
function statementsCell(a: AppliedFile): string {
  if (a.statements === null) return '—';
  return a.resumedAtGroup ? `${a.statements} (resumed at group ${a.resumedAtGroup})` : String(a.statements);
}

/** The files a rehearsal or the migration applied: statements run and time taken (no table when there are none). */
function appliedTable(out: SummarySink, label: string, files: AppliedFile[]): void {
  if (!files.length) return;
  out.addTable([
    headerRow(label, 'Statements', 'Time'),
    ...files.map((a) => [code(a.file), statementsCell(a), a.ms === null ? '—' : formatDuration(a.ms)]),
  ]);
}

/** The migrate step's job summary section (the backup's, src/backup/report.ts, follows it). */
export function renderMigrateSummary(
  out: SummarySink,
  s: {
    rehearsal?: RehearsalResult;
    result?: ApplyResult;
    applied: AppliedFile[];
    partial?: PartialFile;
    failure?: string;
    rehearseOnly?: boolean;
    scrub: (t: string) => string;
  },
): void {
  // "nothing applied" only when it is true: a partly applied file has committed statements.
  const partly = s.partial
    ? `${s.partial.file} partly applied (${s.partial.committedGroups.length} of ${s.partial.groups} statement groups committed; the next run resumes ${s.partial.resumeAt > s.partial.groups ? 'by recording it' : `at group ${s.partial.resumeAt}`})`
    : undefined;
  const title = s.failure
    ? `❌ Migration failed${s.applied.length ? ` after applying ${s.applied.length} file(s)${partly ? `; ${partly}` : ''}` : partly ? ` — ${partly}` : ' — nothing applied'}`
    : s.rehearseOnly
      ? `✅ Rehearsal passed (${s.rehearsal?.result?.applied.length ?? 0} migration(s), production untouched)`
      : s.applied.length
        ? `✅ Applied ${s.applied.length} migration(s)`
        : '✅ Nothing to apply';
  out.addHeading(`Migrate: ${title}`, 2);
  if (s.result) {
    out.addTable([
      headerRow('Tool', 'Directory', 'Mode', 'Pending before', 'Plan hash', 'Lock wait'),
      [
        s.result.tool,
        `<code>${escapeHtml(path.relative(process.cwd(), s.result.dir) || '.')}</code>`,
        s.result.mode === 'command' ? 'project command' : 'rail-actions runner',
        String(s.result.report.pending.length),
        `<code>${s.result.planHash.slice(0, 16)}…</code>`,
        formatDuration(s.result.lockWaitMs),
      ],
    ]);
  }
  if (s.rehearsal) {
    out.addRaw(
      `<p><strong>Rehearsal</strong> on a copy of the production schema: ${s.rehearsal.ok ? `passed (${s.rehearsal.result?.applied.length ?? 0} file(s))` : 'FAILED'} in ${formatDuration(s.rehearsal.ms)}.</p>`,
      true,
    );
  }
  appliedTable(out, 'Rehearsed file', s.rehearsal?.result?.applied ?? []);
  appliedTable(out, 'Applied file', s.applied);
  if (s.failure) out.addRaw(`<pre>${escapeHtml(s.scrub(s.failure))}</pre>`, true);
}
