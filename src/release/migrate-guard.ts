// Rolling code back across a breaking/destructive migration can leave old code on a schema it cannot use (a dropped
// column, a renamed table). The migrate gate's plan says which statements are. Strict about what counts as a plan
// (parseMigratePlan fails closed), tolerant of where in it the risky statements sit (riskyMigrations).
import { InputError } from '../core/errors.js';

export interface MigrationRisk {
  risk: 'breaking' | 'destructive';
  where: string;
  detail: string;
}

const RISKY = new Set(['breaking', 'destructive']);

// The plan's vocabulary (src/migrations/plan.ts MigrationPlan, schema rail-actions/migration-plan@1), restated here so
// the rollback bundles do not pull in the SQL analyser.
const PLAN_SCHEMA = 'rail-actions/migration-plan@1';
const RISK_CLASSES = ['safe', 'blocking', 'opaque', 'breaking', 'destructive'];
const DECISIONS = ['no-pending', 'auto-apply', 'requires-approval', 'blocked'];

/**
 * Parses the migrate-plan input (empty → undefined: no plan given). Fails closed: anything that is not a plan — invalid
 * JSON, `null`, an array, a string, `{}`, or an object whose plan fields have the wrong type — is an InputError naming
 * the input, so the guard never reads "not a plan" as "no risky migrations" and lets a rollback through. A plan must
 * say something about its risk: a `risk` class, or `files` / `statements` lists (the shapes riskyMigrations reads).
 */
export function parseMigratePlan(text: string, input = 'migrate-plan'): unknown {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  let plan: unknown;
  try {
    plan = JSON.parse(trimmed) as unknown;
  } catch (err) {
    throw new InputError(
      input,
      `expected the JSON plan output by the migrate gate, but it is not valid JSON (${(err as Error).message})`,
    );
  }
  const refuse = (why: string) =>
    new InputError(
      input,
      `expected the JSON plan output by the migrate gate (its 'plan' output), but ${why}; refusing to guess whether the rollback is safe`,
    );
  if (plan === null || typeof plan !== 'object' || Array.isArray(plan)) {
    throw refuse(`got ${plan === null ? 'null' : Array.isArray(plan) ? 'an array' : `a ${typeof plan}`}`);
  }
  const p = plan as Record<string, unknown>;
  if (p.schema !== undefined && p.schema !== PLAN_SCHEMA)
    throw refuse(`its schema is ${JSON.stringify(p.schema).slice(0, 80)}, not ${PLAN_SCHEMA}`);
  if (p.risk !== undefined && !RISK_CLASSES.includes(p.risk as string))
    throw refuse(`its risk is ${JSON.stringify(p.risk).slice(0, 80)}, not one of ${RISK_CLASSES.join(', ')}`);
  if (p.decision !== undefined && !DECISIONS.includes(p.decision as string))
    throw refuse(`its decision is ${JSON.stringify(p.decision).slice(0, 80)}, not one of ${DECISIONS.join(', ')}`);
  for (const list of ['files', 'statements', 'findings'] as const) {
    if (
      p[list] !== undefined &&
      !(
        Array.isArray(p[list]) &&
        (p[list] as unknown[]).every((e) => e !== null && typeof e === 'object' && !Array.isArray(e))
      )
    ) {
      throw refuse(`its ${list} is not a list of objects`);
    }
  }
  if (p.pendingCount !== undefined && !(Number.isInteger(p.pendingCount) && (p.pendingCount as number) >= 0))
    throw refuse('its pendingCount is not a whole number');
  if (p.risk === undefined && p.files === undefined && p.statements === undefined) {
    throw refuse(
      `it has none of the fields that say what the migrations risk (risk, files, statements)${Object.keys(p).length ? `; it has ${Object.keys(p).slice(0, 5).join(', ')}` : ': it is empty'}`,
    );
  }
  return plan;
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
    const risk =
      riskField && RISKY.has(riskField)
        ? (riskField as MigrationRisk['risk'])
        : o.destructive === true
          ? 'destructive'
          : o.breaking === true
            ? 'breaking'
            : undefined;
    if (risk && o !== root) {
      const line = typeof o.line === 'number' ? `:${o.line}` : '';
      const detail = (str(o.sql) ?? str(o.message) ?? str(o.kind) ?? str(o.rule) ?? '')
        .replace(/\s+/g, ' ')
        .slice(0, 160);
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
  if (out.length === 0 && topRisk && RISKY.has(topRisk))
    out.push({
      risk: topRisk as MigrationRisk['risk'],
      where: 'plan',
      detail: `the plan's overall risk is ${topRisk}`,
    });
  // Prefer the most specific entries: drop file-level ones when a statement of the same file is listed.
  return out.filter((r) => r.detail || !out.some((o) => o !== r && o.detail && o.where.startsWith(r.where)));
}

export function describeRisks(risks: MigrationRisk[], limit = 5, backupId?: string): string {
  const shown = risks.slice(0, limit).map((r) => `${r.risk} ${r.where}${r.detail ? ` (${r.detail})` : ''}`);
  return `${shown.join('; ')}${risks.length > limit ? `; and ${risks.length - limit} more` : ''}${restoreHint(risks, backupId)}`;
}

/**
 * For a destructive migration: where the destroyed data is and the exact command that puts it back. The migrate step
 * (backup: auto, src/backup) copied it into schema rail_actions_backup before the statement ran; its backup-id output
 * names the backup, and restore without an id takes the newest one not yet restored.
 */
export function restoreHint(risks: MigrationRisk[], backupId?: string): string {
  if (!risks.some((r) => r.risk === 'destructive')) return '';
  const id = backupId ? ` --backup-id ${backupId}` : '';
  return ` — the migrate step backed up what the destructive statements destroyed${backupId ? ` (backup ${backupId})` : ' (its backup-id output; with backup: auto)'}: put it back first with \`rail-actions restore --database-url "$DATABASE_URL"${id}\` or the actions/restore action${backupId ? ` with backup-id: ${backupId}` : ' (without backup-id it restores the newest backup not yet restored)'}`;
}
