// Rolling code back across a breaking/destructive migration can leave old code on a schema it cannot use (a dropped
// column, a renamed table). The migrate gate's plan says which statements are; tolerant of plan shape on purpose.
import { InputError } from '../core/errors.js';

export interface MigrationRisk {
  risk: 'breaking' | 'destructive';
  where: string;
  detail: string;
}

const RISKY = new Set(['breaking', 'destructive']);

/** Parses the migrate-plan input (empty → undefined). Invalid JSON is an InputError naming the input. */
export function parseMigratePlan(text: string, input = 'migrate-plan'): unknown {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch (err) {
    throw new InputError(input, `expected the JSON plan output by the migrate gate, but it is not valid JSON (${(err as Error).message})`);
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

/**
 * Every statement/file/finding the plan marks breaking or destructive (risk field, or breaking/destructive flags),
 * wherever it sits: plan.risk, plan.files[].risk, plan.files[].statements[].risk, plan.statements[]. Findings the
 * user explicitly ignored (`ignored`) do not count; a plan with nothing pending does not either.
 */
export function riskyMigrations(plan: unknown): MigrationRisk[] {
  if (!plan || typeof plan !== 'object') return [];
  const root = plan as Record<string, unknown>;
  if (root.decision === 'no-pending' || root.pendingCount === 0) return [];
  const out: MigrationRisk[] = [];
  const seen = new Set<string>();
  const visit = (node: unknown, file: string | undefined, depth: number): void => {
    if (depth > 12 || !node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) visit(item, file, depth + 1);
      return;
    }
    const o = node as Record<string, unknown>;
    const here = str(o.file) ?? str(o.relPath) ?? str(o.path) ?? file;
    const riskField = str(o.risk);
    const risk = riskField && RISKY.has(riskField) ? (riskField as MigrationRisk['risk']) : o.destructive === true ? 'destructive' : o.breaking === true ? 'breaking' : undefined;
    if (risk && o !== root) {
      const line = typeof o.line === 'number' ? `:${o.line}` : '';
      const detail = (str(o.sql) ?? str(o.message) ?? str(o.kind) ?? str(o.rule) ?? '').replace(/\s+/g, ' ').slice(0, 160);
      const where = `${here ?? 'migration'}${line}`;
      const key = `${risk}|${where}|${detail}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push({ risk, where, detail });
      }
    }
    for (const [k, v] of Object.entries(o)) {
      if (k === 'ignored') continue;
      if (v && typeof v === 'object') visit(v, here, depth + 1);
    }
  };
  visit(root, undefined, 0);
  const topRisk = str(root.risk);
  if (out.length === 0 && topRisk && RISKY.has(topRisk)) out.push({ risk: topRisk as MigrationRisk['risk'], where: 'plan', detail: `the plan's overall risk is ${topRisk}` });
  // Prefer the most specific entries: drop file-level ones when a statement of the same file is listed.
  return out.filter((r) => r.detail || !out.some((o) => o !== r && o.detail && o.where.startsWith(r.where)));
}

export function describeRisks(risks: MigrationRisk[], limit = 5): string {
  const shown = risks.slice(0, limit).map((r) => `${r.risk} ${r.where}${r.detail ? ` (${r.detail})` : ''}`);
  return `${shown.join('; ')}${risks.length > limit ? `; and ${risks.length - limit} more` : ''}`;
}
