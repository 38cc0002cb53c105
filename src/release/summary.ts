// Markdown for job summaries: a table per service (before → after, verdict, status, URL, durations), each service's
// verdict with its reason, a mermaid gantt timeline of the release, and the failure evidence (log tails, deployment
// events). Pure functions.
import { formatDuration } from '../core/duration.js';
import { escapeHtml, escapeMarkdownCell } from '../core/text.js';
import type { FailureDiagnostics } from '../railway/diagnostics.js';
import {
  describeProduction,
  needsHumanReason,
  productionDeploymentOf,
  serviceVerdict,
  type Release,
  type ServiceRelease,
  type VerificationRecord,
} from './release.js';

const short = (id: string | undefined | null): string => (id ? `\`${id.slice(0, 8)}\`` : '—');

/** Table cells must not break the row. */
export const cell = escapeMarkdownCell;

function dur(from: number | undefined, to: number | undefined): string {
  return from !== undefined && to !== undefined && to >= from ? formatDuration(to - from) : '—';
}

function deployingAt(svc: ServiceRelease): number | undefined {
  return svc.history.find((h) => h.status === 'DEPLOYING')?.at;
}

function statusText(svc: ServiceRelease): string {
  const parts = [svc.status || svc.outcome];
  if (svc.start?.by === 'railway') parts.push('adopted (autodeploy)');
  if (svc.outcome === 'skipped')
    parts.push(svc.skipReason === 'watch-paths' ? 'unchanged: watch paths matched no changed file' : 'skipped');
  if (svc.outcome === 'superseded' && svc.supersededBy) parts.push(`superseded by ${short(svc.supersededBy)}`);
  if (svc.cancel) parts.push(svc.cancel.cancelled ? 'cancelled after the timeout' : 'NOT cancelled');
  if (svc.verification)
    parts.push(
      svc.verification.healthy
        ? `verified by ${ruleWord(svc.verification)} ✅`
        : `${ruleWord(svc.verification)} verification failed ❌`,
    );
  if (svc.rollback) parts.push(svc.rollback.ok ? `rolled back (${svc.rollback.method}) ↩️` : 'rollback failed ❌');
  return parts.join(', ');
}

const ruleWord = (v: VerificationRecord): string => (v.rule === 'http' ? 'HTTP' : 'Railway status');

export function renderServiceTable(release: Release): string {
  const rows = [
    '| Service | Before | Deployed | Now serving | Verdict | Status | URL | Build | Deploy total | Verify | Rollback |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of release.services) {
    const build = dur(s.triggeredAt, deployingAt(s) ?? s.finishedAt);
    const total = dur(s.triggeredAt, s.finishedAt);
    const verify = s.verification
      ? `${dur(s.verification.startedAt, s.verification.finishedAt)}${s.verification.timeToHealthyMs !== undefined ? ` (healthy after ${formatDuration(s.verification.timeToHealthyMs)})` : ''}`
      : '—';
    const rollback = s.rollback
      ? `${dur(s.rollback.startedAt, s.rollback.finishedAt)} → ${short(s.rollback.deploymentId)}`
      : '—';
    rows.push(
      `| ${cell(s.service.name)} | ${short(s.previousDeploymentId)} | ${short(s.deploymentId)} | ${short(productionDeploymentOf(s))} | **${serviceVerdict(s).verdict}** | ${cell(statusText(s))} | ${s.url ? cell(s.url) : '—'} | ${build} | ${total} | ${cell(verify)} | ${cell(rollback)} |`,
    );
  }
  return rows.join('\n');
}

/** Gantt labels: mermaid treats ':' '#' ';' specially. */
function label(text: string): string {
  return text.replace(/[:#;]/g, ' ').replace(/\s+/g, ' ').trim() || 'step';
}

export function renderTimeline(release: Release): string {
  const lines = ['```mermaid', 'gantt', '  title Release timeline', '  dateFormat x', '  axisFormat %H:%M:%S'];
  let n = 0;
  const task = (name: string, tag: string, from: number | undefined, to: number | undefined) => {
    if (from === undefined || to === undefined) return;
    const end = Math.max(to, from + 1);
    lines.push(`  ${label(name)} :${tag ? `${tag}, ` : ''}t${++n}, ${Math.round(from)}, ${Math.round(end)}`);
  };
  for (const s of release.services) {
    lines.push(`  section ${label(s.service.name)}`);
    const deploying = deployingAt(s);
    const failed = s.outcome !== 'success';
    if (s.triggeredAt !== undefined) {
      const buildEnd = deploying ?? s.finishedAt;
      task(
        s.outcome === 'superseded' ? 'build (superseded)' : 'build',
        failed && !deploying ? 'crit' : 'done',
        s.triggeredAt,
        buildEnd,
      );
      // The status the deploy itself ended in (a crash during verification is the verify bar's).
      const ended = s.history[s.history.length - 1]?.status ?? s.status;
      if (deploying)
        task(`deploy ${(ended || s.outcome).toLowerCase()}`, failed ? 'crit' : 'done', deploying, s.finishedAt);
    } else if (!s.rollback) {
      task(
        s.outcome === 'success' ? 'nothing to do' : 'not started',
        s.outcome === 'success' ? 'done' : 'crit',
        release.startedAt,
        s.finishedAt ?? release.finishedAt,
      );
    }
    const v = s.verification;
    if (v)
      task(
        v.rule === 'http'
          ? v.healthy
            ? 'verify healthy'
            : 'verify failed'
          : v.healthy
            ? 'status held'
            : 'status failed',
        v.healthy ? 'done' : 'crit',
        v.startedAt,
        v.finishedAt,
      );
    if (s.rollback) {
      task(
        s.rollback.ok ? `rollback (${s.rollback.method ?? 'rollback'})` : 'rollback failed',
        s.rollback.ok ? 'active' : 'crit',
        s.rollback.startedAt,
        s.rollback.finishedAt,
      );
      const rv = s.rollback.verification;
      if (rv)
        task(
          rv.healthy ? 'restored version healthy' : 'restored version unhealthy',
          rv.healthy ? 'done' : 'crit',
          rv.startedAt,
          rv.finishedAt,
        );
    }
  }
  lines.push('```');
  return lines.join('\n');
}

export function renderDiagnostics(name: string, d: FailureDiagnostics): string {
  const out: string[] = [
    `<details><summary>${escapeHtml(name)}: why deployment ${d.deploymentId} failed</summary>`,
    '',
  ];
  if (d.events.length) {
    out.push('| Step | Started | Detail |', '|---|---|---|');
    for (const e of d.events) {
      const detail = [
        e.error,
        e.detail,
        e.attempt !== undefined ? `attempt ${e.attempt}${e.maxAttempts ? `/${e.maxAttempts}` : ''}` : '',
        e.durationMs !== undefined ? formatDuration(e.durationMs) : '',
      ]
        .filter(Boolean)
        .join(' · ');
      out.push(`| ${cell(e.step)} | ${cell(e.createdAt)} | ${cell(detail || '—')} |`);
    }
    out.push('');
  }
  const block = (title: string, lines: FailureDiagnostics['buildLogs']) => {
    if (!lines.length) return;
    out.push(
      `**${title}** (last ${lines.length} lines)`,
      '',
      '```text',
      ...lines.map((l) => `${l.timestamp} ${l.severity === 'error' ? 'ERR ' : ''}${l.message.replace(/```/g, "'''")}`),
      '```',
      '',
    );
  };
  block('Build logs', d.buildLogs);
  block('Deploy logs', d.deployLogs);
  if (d.problems.length) out.push(`_Could not fetch: ${escapeHtml(d.problems.join('; '))}_`, '');
  out.push('</details>');
  return out.join('\n');
}

/** The whole summary for an action: heading, verdict line, table, messages, timeline, diagnostics. */
export function renderReleaseSummary(
  release: Release,
  opts: { title: string; verdict: string; notes?: string[] },
): string {
  const parts = [
    `## ${opts.title}`,
    '',
    opts.verdict,
    '',
    `Project **${cell(release.project.name)}**, environment **${cell(release.environment.name)}**, source \`${release.source}\`.`,
    '',
    renderServiceTable(release),
    '',
  ];
  for (const s of release.services) {
    // The verdict's reason already says how each deployment fared under its rule; the deploy and rollback messages
    // add what Railway did.
    const { verdict, reason } = serviceVerdict(s);
    parts.push(`- **${cell(s.service.name)}** — **${verdict}**: ${reason}`);
    if (s.start?.note) parts.push(`  - start: ${s.start.note}`);
    if (s.message && (s.deploymentId || s.outcome === 'refused' || s.outcome === 'unconfirmed'))
      parts.push(`  - deploy: ${s.message}`);
    if (s.cancel)
      parts.push(`  - unfinished deployment: ${s.cancel.reason}${s.cancel.error ? ` (${s.cancel.error})` : ''}`);
    if (s.rollback)
      parts.push(
        `  - rollback: ${s.rollback.message}${s.rollback.fallbackReason ? ` (${s.rollback.fallbackReason})` : ''}${s.rollback.warning ? ` — ${s.rollback.warning}` : ''}`,
      );
    if (s.production) parts.push(`  - production, read from Railway at the end: ${describeProduction(s)}`);
    const human = needsHumanReason(s, release);
    if (human) parts.push(`  - 🚨 **needs a human**: ${human}`);
  }
  for (const note of opts.notes ?? []) parts.push(`- ${note}`);
  parts.push('', '### Timeline', '', renderTimeline(release), '');
  for (const s of release.services) if (s.diagnostics) parts.push(renderDiagnostics(s.service.name, s.diagnostics), '');
  return parts.join('\n');
}
