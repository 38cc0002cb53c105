// The migration plan: what the gate decided about a set of pending migrations and why. Serialised as the gate's `plan`
// output (JSON) and read back by the migrate and rollback actions; `planHash` ties an approval to exact file contents.
import type { FileAnalysis } from './analyze.js';
import { RULES } from './analyze/rules.js';
import { maxRisk, RISK_ORDER, type FindingLevel, type IgnoredFinding, type RiskClass, type StatementEffects } from './analyze/types.js';
import { planHash } from './hash.js';
import type { Anomaly, PendingReport, ToolName } from './types.js';

export const PLAN_SCHEMA = 'rail-actions/migration-plan@1';

export type ApprovalPolicy = 'risky' | 'always' | 'never';
export const APPROVAL_POLICIES: readonly ApprovalPolicy[] = ['risky', 'always', 'never'];

/**
 * no-pending: nothing to apply. auto-apply: may run unattended. requires-approval: a human must approve (a normal
 * outcome). blocked: must not run as is (process anomaly in the history, or SQL that certainly fails/loses work).
 */
export type PlanDecision = 'no-pending' | 'auto-apply' | 'requires-approval' | 'blocked';

export interface PlanPolicy {
  approval: ApprovalPolicy;
  largeTableRows: number;
  /** server_version_num of the live database, when known. */
  serverVersion?: number;
  /** Table sizes were read from the live database. */
  tableStats: boolean;
}

export interface PlanFile {
  id: string;
  file: string;
  checksum: string;
  kind: 'sql' | 'opaque';
  noTransaction: boolean;
  risk: RiskClass;
  statementCount: number;
  /** Some statement must run outside a transaction: the file is not atomic. */
  hasNonTransactional: boolean;
  parseErrors: Array<{ line: number; column: number; message: string }>;
  directives: FileAnalysis['directives'];
}

export interface PlanStatement extends StatementEffects {
  file: string;
  index: number;
  line: number;
  endLine: number;
  kind: string;
  /** Statement text, cut at 500 characters. */
  sql: string;
  transactional: boolean;
  risk: RiskClass;
  rules: string[];
  note?: string;
}

export interface PlanFinding {
  rule: string;
  risk: RiskClass;
  level: FindingLevel;
  file: string;
  line: number;
  column: number;
  statement: number;
  message: string;
  safeAlternative: string;
  table?: string;
  sizeNote?: string;
  originalRisk?: RiskClass;
  blocksPlan?: boolean;
}

export interface PlanBlocker {
  kind: Anomaly['kind'] | 'rule';
  file?: string;
  line?: number;
  rule?: string;
  detail: string;
}

/** One line per rule that fired (after ignores): how often, the worst class, and the catalogue's reason/alternative. */
export interface PlanRule {
  rule: string;
  count: number;
  risk: RiskClass;
  source: string;
  reason: string;
  safeAlternative: string;
}

export interface MigrationPlan {
  schema: typeof PLAN_SCHEMA;
  tool: ToolName;
  dir: string;
  /** sha256 hex over the pending files' ids and content checksums, in apply order (src/migrations/hash.ts). */
  planHash: string;
  decision: PlanDecision;
  requiresApproval: boolean;
  /** Highest class over all pending statements ('safe' when nothing is pending). */
  risk: RiskClass;
  pendingCount: number;
  /** Why the decision was taken, one line each. */
  reasons: string[];
  blockers: PlanBlocker[];
  anomalies: Anomaly[];
  policy: PlanPolicy;
  counts: { statements: number; findings: number; ignored: number; byRisk: Record<RiskClass, number> };
  files: PlanFile[];
  statements: PlanStatement[];
  /** Rules that fired, worst first. */
  rules: PlanRule[];
  findings: PlanFinding[];
  ignored: IgnoredFinding[];
  /** Set when the plan was shrunk to fit a step output (statement text and notices dropped). */
  truncated?: boolean;
}

const SQL_LIMIT = 500;

/** Combines the pending report, the per-file analyses (same order as report.pending) and the policy into the plan. */
export function buildPlan(report: PendingReport, analyses: FileAnalysis[], policy: PlanPolicy): MigrationPlan {
  const byFile = new Map(analyses.map((a) => [a.file, a]));
  const files: PlanFile[] = [];
  const statements: PlanStatement[] = [];
  const findings: PlanFinding[] = [];
  const ignored: IgnoredFinding[] = [];
  const byRisk = Object.fromEntries(RISK_ORDER.map((r) => [r, 0])) as Record<RiskClass, number>;
  let risk: RiskClass = 'safe';

  for (const mf of report.pending) {
    const a = byFile.get(mf.relPath);
    if (!a) throw new Error(`internal: no analysis for pending migration ${mf.relPath}`);
    let fileRisk: RiskClass = 'safe';
    for (const st of a.statements) {
      fileRisk = maxRisk(fileRisk, st.risk);
      byRisk[st.risk]++;
      statements.push({
        file: st.file,
        index: st.index,
        line: st.line,
        endLine: st.endLine,
        kind: st.kind,
        sql: st.sql.length > SQL_LIMIT ? `${st.sql.slice(0, SQL_LIMIT)}…` : st.sql,
        tables: st.tables,
        lock: st.lock,
        rewritesTable: st.rewritesTable,
        scansTable: st.scansTable,
        breaking: st.breaking,
        destructive: st.destructive,
        transactional: st.transactional,
        risk: st.risk,
        rules: [...new Set(st.findings.map((f) => f.rule))],
        ...(st.note ? { note: st.note } : {}),
      });
      for (const f of st.findings) findings.push({ ...f, statement: st.index });
      ignored.push(...st.ignored);
    }
    risk = maxRisk(risk, fileRisk);
    files.push({
      id: mf.id,
      file: mf.relPath,
      checksum: mf.checksum,
      kind: a.kind,
      noTransaction: mf.noTransaction === true,
      risk: fileRisk,
      statementCount: a.kind === 'opaque' ? 0 : a.statements.length,
      hasNonTransactional: a.statements.some((s) => !s.transactional),
      parseErrors: a.parseErrors,
      directives: a.directives,
    });
  }

  const byRule = new Map<string, PlanRule>();
  for (const f of findings) {
    const info = RULES.get(f.rule);
    const entry = byRule.get(f.rule) ?? { rule: f.rule, count: 0, risk: f.risk, source: info?.source ?? 'rail-actions', reason: info?.reason ?? '', safeAlternative: info?.safeAlternative ?? '' };
    entry.count++;
    entry.risk = maxRisk(entry.risk, f.risk);
    byRule.set(f.rule, entry);
  }
  const rules = [...byRule.values()].sort((a, b) => RISK_ORDER.indexOf(b.risk) - RISK_ORDER.indexOf(a.risk) || b.count - a.count || a.rule.localeCompare(b.rule));

  const blockers: PlanBlocker[] = report.anomalies.map((an) => ({ kind: an.kind, ...(an.file ? { file: an.file } : {}), detail: an.detail }));
  for (const f of findings) {
    if (f.blocksPlan) blockers.push({ kind: 'rule', rule: f.rule, file: f.file, line: f.line, detail: f.message });
  }

  const reasons: string[] = [];
  let decision: PlanDecision;
  if (blockers.length > 0) {
    decision = 'blocked';
    for (const b of blockers) reasons.push(`blocked: ${b.file ? `${b.file}${b.line ? `:${b.line}` : ''}: ` : ''}${b.kind === 'rule' ? `${b.rule}: ` : `${b.kind}: `}${b.detail}`);
  } else if (report.pending.length === 0) {
    decision = 'no-pending';
    reasons.push('no pending migrations');
  } else if (policy.approval === 'always') {
    decision = 'requires-approval';
    reasons.push(`approval=always: ${report.pending.length} pending migration(s) need approval`);
  } else if (policy.approval === 'never') {
    decision = 'auto-apply';
    reasons.push(`approval=never: applying without approval (highest risk: ${risk})`);
  } else if (risk !== 'safe') {
    decision = 'requires-approval';
    for (const cls of [...RISK_ORDER].reverse()) {
      if (cls === 'safe') continue;
      const hits = findings.filter((f) => f.risk === cls);
      if (hits.length === 0) continue;
      const rules = [...new Set(hits.map((h) => h.rule))];
      reasons.push(`${cls}: ${hits.length} finding(s) (${rules.join(', ')}), first at ${hits[0]?.file}:${hits[0]?.line}`);
    }
  } else {
    decision = 'auto-apply';
    reasons.push(`every pending statement is safe${policy.tableStats ? ' (table sizes weighed)' : ''}`);
  }

  return {
    schema: PLAN_SCHEMA,
    tool: report.tool,
    dir: report.dir,
    planHash: planHash(report.pending),
    decision,
    requiresApproval: decision === 'requires-approval',
    risk,
    pendingCount: report.pending.length,
    reasons,
    blockers,
    anomalies: report.anomalies,
    policy,
    counts: { statements: statements.length, findings: findings.length, ignored: ignored.length, byRisk },
    files,
    statements,
    rules,
    findings,
    ignored,
  };
}

const mdCell = (t: string) => t.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

/**
 * A compact Markdown rendering of the plan for humans outside the job summary (the approval issue, PR comments):
 * decision, pending files, findings that matter, accepted ignores and the plan hash.
 */
export function planMarkdown(plan: MigrationPlan, maxFindings = 30): string {
  const lines: string[] = [];
  lines.push(`**Migration plan: ${plan.decision}** — ${plan.pendingCount} pending migration(s), highest risk **${plan.risk}** (approval policy \`${plan.policy.approval}\`)`);
  lines.push('');
  for (const r of plan.reasons) lines.push(`- ${r}`);
  if (plan.files.length) {
    lines.push('', '| Migration | Statements | Risk |', '|---|---|---|');
    for (const f of plan.files) lines.push(`| \`${mdCell(f.file)}\` | ${f.kind === 'opaque' ? 'code' : f.statementCount} | ${f.risk} |`);
  }
  const serious = plan.findings.filter((f) => f.level !== 'notice');
  if (serious.length) {
    lines.push('', '| Risk | Rule | Where | What | Safer |', '|---|---|---|---|---|');
    for (const f of serious.slice(0, maxFindings)) {
      lines.push(`| ${f.risk} | \`${f.rule}\` | \`${mdCell(f.file)}:${f.line}\` | ${mdCell(f.message)}${f.sizeNote ? ` (${mdCell(f.sizeNote)})` : ''} | ${mdCell(f.safeAlternative)} |`);
    }
    if (serious.length > maxFindings) lines.push('', `… and ${serious.length - maxFindings} more finding(s).`);
  }
  if (plan.ignored.length) {
    lines.push('', 'Accepted by inline ignores:');
    for (const i of plan.ignored) lines.push(`- \`${i.rule}\` at \`${mdCell(i.file)}:${i.line}\`: ${mdCell(i.reason)}`);
  }
  lines.push('', `plan-hash \`${plan.planHash}\``);
  return lines.join('\n');
}

/**
 * The plan as JSON no longer than `maxChars` (step outputs share a 1 MiB budget per job). Shrinks in steps, each
 * marked `truncated: true`: statement text and hygiene notices go first, then the statement list, then all but the
 * first findings. Decision, risk, hash, files, rules, blockers and ignores are always kept.
 */
export function planJsonForOutput(plan: MigrationPlan, maxChars: number): string {
  const full = JSON.stringify(plan);
  if (full.length <= maxChars) return full;
  const serious = plan.findings.filter((f) => f.level !== 'notice');
  const variants: MigrationPlan[] = [
    { ...plan, truncated: true, statements: plan.statements.map((s) => ({ ...s, sql: '' })), findings: serious },
    { ...plan, truncated: true, statements: [], findings: serious },
    { ...plan, truncated: true, statements: [], findings: serious.slice(0, 100) },
    { ...plan, truncated: true, statements: [], findings: [], files: plan.files.map((f) => ({ ...f, directives: [], parseErrors: f.parseErrors.slice(0, 5) })) },
  ];
  for (const v of variants) {
    const json = JSON.stringify(v);
    if (json.length <= maxChars) return json;
  }
  return JSON.stringify(variants[variants.length - 1]);
}
