// The migration plan: what the gate decided about a set of pending migrations and why. Serialised as the gate's `plan`
// output (JSON) and read back by the migrate and rollback actions; `planHash` ties an approval to exact file contents.
import { escapeMarkdownCell as mdCell } from '../core/text.js';
import type { FileAnalysis } from './analyze.js';
import { RULES } from './analyze/rules.js';
import {
  maxRisk,
  RISK_ORDER,
  type FindingLevel,
  type IgnoredFinding,
  type RiskClass,
  type StatementEffects,
} from './analyze/types.js';
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
  /** 'none' when no migrations were found at all (noMigrationsPlan). */
  tool: ToolName | 'none';
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
  /** Set when the plan was shrunk to fit a step output / action input (see planJsonForOutput). */
  truncated?: boolean;
  /** With `truncated`: how many entries of each list were left out (the counts above stay those of the full plan). */
  omitted?: Partial<
    Record<'files' | 'statements' | 'findings' | 'blockers' | 'anomalies' | 'ignored' | 'reasons', number>
  >;
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
        ...(st.decidedBy?.length ? { decidedBy: st.decidedBy } : {}),
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
    const entry = byRule.get(f.rule) ?? {
      rule: f.rule,
      count: 0,
      risk: f.risk,
      source: info?.source ?? 'rail-actions',
      reason: info?.reason ?? '',
      safeAlternative: info?.safeAlternative ?? '',
    };
    entry.count++;
    entry.risk = maxRisk(entry.risk, f.risk);
    byRule.set(f.rule, entry);
  }
  const rules = [...byRule.values()].sort(
    (a, b) =>
      RISK_ORDER.indexOf(b.risk) - RISK_ORDER.indexOf(a.risk) || b.count - a.count || a.rule.localeCompare(b.rule),
  );

  const blockers: PlanBlocker[] = report.anomalies.map((an) => ({
    kind: an.kind,
    ...(an.file ? { file: an.file } : {}),
    detail: an.detail,
  }));
  for (const f of findings) {
    if (f.blocksPlan) blockers.push({ kind: 'rule', rule: f.rule, file: f.file, line: f.line, detail: f.message });
  }

  const reasons: string[] = [];
  let decision: PlanDecision;
  if (blockers.length > 0) {
    decision = 'blocked';
    for (const b of blockers)
      reasons.push(
        `blocked: ${b.file ? `${b.file}${b.line ? `:${b.line}` : ''}: ` : ''}${b.kind === 'rule' ? `${b.rule}: ` : `${b.kind}: `}${b.detail}`,
      );
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
      reasons.push(
        `${cls}: ${hits.length} finding(s) (${rules.join(', ')}), first at ${hits[0]?.file}:${hits[0]?.line}`,
      );
    }
  } else {
    decision = 'auto-apply';
    reasons.push(`every pending statement is safe${policy.tableStats ? ' (table sizes weighed)' : ''}`);
  }
  for (const line of report.resumes ?? []) reasons.push(`resumes: ${line}`);

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

/**
 * Size budgets of the gate's outputs. The runner hands every action input to the action as an environment variable
 * INPUT_<NAME> (docs "Metadata syntax for GitHub Actions", inputs.<input_id>), and Linux refuses to start a process
 * when one environment string (NAME=value) exceeds MAX_ARG_STRLEN = 32 pages = 128 KiB (include/uapi/linux/binfmts.h;
 * execve(2), "Limits on size of arguments and environment": E2BIG). `plan` feeds the rollback/release action's
 * migrate-plan input and `plan-markdown` the approval action's plan input, so both stay well below that, in UTF-8
 * bytes. The markdown budget also fits GitHub's 65,536-character issue body with room for the approval instructions.
 */
export const PLAN_OUTPUT_MAX_BYTES = 64 * 1024;
export const PLAN_MARKDOWN_MAX_BYTES = 32 * 1024;

const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * The plan of a project without migrations (NoMigrationsError): nothing pending, decision no-pending, the hash of the
 * empty set — the same outputs as a database that is up to date, with the reason saying why.
 */
export function noMigrationsPlan(opts: {
  tool?: ToolName;
  dir: string;
  reason: string;
  policy: PlanPolicy;
}): MigrationPlan {
  const report: PendingReport = {
    tool: opts.tool ?? 'sql',
    dir: opts.dir,
    files: [],
    applied: [],
    pending: [],
    anomalies: [],
  };
  return { ...buildPlan(report, [], opts.policy), tool: opts.tool ?? 'none', reasons: [opts.reason] };
}

interface MarkdownLimits {
  reasons: number;
  files: number;
  /** List only files whose risk is not safe (the others are counted). */
  riskyFilesOnly: boolean;
  findings: number;
  ignored: number;
}

function renderMarkdown(plan: MigrationPlan, l: MarkdownLimits): { head: string[]; tail: string[] } {
  const head: string[] = [];
  head.push(
    `**Migration plan: ${plan.decision}** — ${plan.pendingCount} pending migration(s), highest risk **${plan.risk}** (approval policy \`${plan.policy.approval}\`)`,
  );
  head.push('');
  for (const r of plan.reasons.slice(0, l.reasons)) head.push(`- ${mdCell(r)}`);
  if (plan.reasons.length > l.reasons) head.push(`- … and ${plan.reasons.length - l.reasons} more reason(s)`);
  if (plan.files.length) {
    // Over the limit, risky files are listed first (then safe ones while there is room), in apply order.
    const risky = plan.files.filter((f) => f.risk !== 'safe');
    const chosen = new Set(risky.slice(0, l.files));
    if (!l.riskyFilesOnly) for (const f of plan.files) if (chosen.size < l.files) chosen.add(f);
    const listed = plan.files.filter((f) => chosen.has(f));
    if (listed.length) {
      head.push('', '| Migration | Statements | Risk |', '|---|---|---|');
      for (const f of listed)
        head.push(`| \`${mdCell(f.file)}\` | ${f.kind === 'opaque' ? 'code' : f.statementCount} | ${f.risk} |`);
    }
    const unlisted = plan.files.length - listed.length;
    if (unlisted > 0) {
      const safe = plan.files.filter((f) => f.risk === 'safe').length;
      head.push(
        '',
        `… and ${unlisted} more migration(s) not listed${l.riskyFilesOnly ? ` (${safe} of all ${plan.files.length} are safe)` : ''}.`,
      );
    }
  }
  const serious = plan.findings.filter((f) => f.level !== 'notice');
  if (serious.length) {
    head.push('', '| Risk | Rule | Where | What | Safer |', '|---|---|---|---|---|');
    for (const f of serious.slice(0, l.findings)) {
      head.push(
        `| ${f.risk} | \`${f.rule}\` | \`${mdCell(f.file)}:${f.line}\` | ${mdCell(f.message)}${f.sizeNote ? ` (${mdCell(f.sizeNote)})` : ''} | ${mdCell(f.safeAlternative)} |`,
      );
    }
    if (serious.length > l.findings) head.push('', `… and ${serious.length - l.findings} more finding(s).`);
  }
  if (plan.ignored.length) {
    head.push('', 'Accepted by inline ignores:');
    for (const i of plan.ignored.slice(0, l.ignored))
      head.push(`- \`${i.rule}\` at \`${mdCell(i.file)}:${i.line}\`: ${mdCell(i.reason)}`);
    if (plan.ignored.length > l.ignored) head.push(`- … and ${plan.ignored.length - l.ignored} more`);
  }
  // Always kept, whatever has to go: which rules fired (with their worst class) and the hash the approval is for.
  const tail: string[] = [];
  if (plan.rules.length)
    tail.push('', `Rules that fired: ${plan.rules.map((r) => `\`${r.rule}\` (${r.risk} ×${r.count})`).join(', ')}`);
  tail.push('', `plan-hash \`${plan.planHash}\``);
  return { head, tail };
}

/**
 * A compact Markdown rendering of the plan for humans outside the job summary (the approval issue, PR comments):
 * decision, pending files, findings that matter, accepted ignores, the rules that fired and the plan hash — at most
 * `maxBytes` (UTF-8). A large plan lists fewer rows (risky files first); decision, rules and hash are always kept.
 */
export function planMarkdown(plan: MigrationPlan, maxFindings = 30, maxBytes = PLAN_MARKDOWN_MAX_BYTES): string {
  const tiers: MarkdownLimits[] = [
    { reasons: 20, files: 200, riskyFilesOnly: false, findings: maxFindings, ignored: 50 },
    { reasons: 20, files: 100, riskyFilesOnly: true, findings: Math.min(maxFindings, 20), ignored: 20 },
    { reasons: 5, files: 30, riskyFilesOnly: true, findings: 5, ignored: 5 },
  ];
  let last = { head: [] as string[], tail: [] as string[] };
  for (const limits of tiers) {
    last = renderMarkdown(plan, limits);
    const text = [...last.head, ...last.tail].join('\n');
    if (utf8Bytes(text) <= maxBytes) return text;
  }
  // Still too large (huge cells): keep whole head lines while they fit, then the tail.
  const marker = ['', '… (shortened to fit the step output: the job summary has the whole plan)'];
  let tail = [...marker, ...last.tail].join('\n');
  if (utf8Bytes(tail) > maxBytes) tail = [...marker, '', `plan-hash \`${plan.planHash}\``].join('\n');
  let budget = maxBytes - utf8Bytes(tail) - 1;
  const kept: string[] = [];
  for (const line of last.head) {
    const size = utf8Bytes(line) + 1;
    if (size > budget) break;
    kept.push(line);
    budget -= size;
  }
  return `${kept.join('\n')}\n${tail}`;
}

/**
 * The plan as JSON of at most `maxBytes` UTF-8 bytes (see PLAN_OUTPUT_MAX_BYTES). Shrinks in steps, each marked
 * `truncated: true` with the number of left-out entries in `omitted`: statement text and hygiene notices go first,
 * then the statement list, then findings, then safe files, then everything but breaking/destructive files. Always
 * kept: schema, tool, decision, risk, pendingCount, planHash, policy, counts and every rule that fired — plus, as far
 * as they fit, the risky files and the blockers, which the rollback guard and humans need.
 */
export function planJsonForOutput(plan: MigrationPlan, maxBytes = PLAN_OUTPUT_MAX_BYTES): string {
  const full = JSON.stringify(plan);
  if (utf8Bytes(full) <= maxBytes) return full;
  const serious = plan.findings.filter((f) => f.level !== 'notice');
  const slimFiles = (files: PlanFile[]) =>
    files.map((f) => ({ ...f, directives: [], parseErrors: f.parseErrors.slice(0, 3) }));
  const riskyFiles = plan.files.filter((f) => f.risk !== 'safe');
  const severeFiles = plan.files.filter((f) => f.risk === 'breaking' || f.risk === 'destructive');
  const shortened = (v: Partial<MigrationPlan>): MigrationPlan => {
    const out: MigrationPlan = { ...plan, ...v, truncated: true };
    const omitted: NonNullable<MigrationPlan['omitted']> = {};
    for (const key of ['files', 'statements', 'findings', 'blockers', 'anomalies', 'ignored', 'reasons'] as const) {
      const n = plan[key].length - out[key].length;
      if (n > 0) omitted[key] = n;
    }
    out.omitted = omitted;
    return out;
  };
  const variants: MigrationPlan[] = [
    shortened({ statements: plan.statements.map((s) => ({ ...s, sql: '' })), findings: serious }),
    shortened({ statements: [], findings: serious }),
    shortened({ statements: [], findings: serious.slice(0, 100) }),
    shortened({ statements: [], findings: [], files: slimFiles(plan.files) }),
    shortened({
      statements: [],
      findings: [],
      files: slimFiles(riskyFiles),
      blockers: plan.blockers.slice(0, 100),
      anomalies: plan.anomalies.slice(0, 100),
      ignored: plan.ignored.slice(0, 100),
      reasons: plan.reasons.slice(0, 20),
    }),
  ];
  for (const v of variants) {
    const json = JSON.stringify(v);
    if (utf8Bytes(json) <= maxBytes) return json;
  }
  // Last resort, guaranteed to end: only breaking/destructive files, rules without their catalogue text, and lists
  // halved (largest first) until the JSON fits.
  const lists = {
    files: slimFiles(severeFiles),
    blockers: plan.blockers.slice(0, 50),
    anomalies: [] as Anomaly[],
    ignored: plan.ignored.slice(0, 20),
    reasons: plan.reasons.slice(0, 10),
  };
  const rules = plan.rules.map((r) => ({ ...r, reason: '', safeAlternative: '' }));
  for (;;) {
    const json = JSON.stringify(shortened({ statements: [], findings: [], rules, ...lists }));
    if (utf8Bytes(json) <= maxBytes) return json;
    const key = (Object.keys(lists) as Array<keyof typeof lists>)
      .filter((k) => lists[k].length > (k === 'reasons' ? 1 : 0))
      .sort((a, b) => lists[b].length - lists[a].length)[0];
    if (!key) return json; // only the fixed fields are left: maxBytes is smaller than any plan
    (lists[key] as unknown[]).splice(Math.max(key === 'reasons' ? 1 : 0, Math.floor(lists[key].length / 2)));
  }
}
