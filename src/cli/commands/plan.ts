// `rail-actions plan`: the migrate gate against a database — pending migrations, their risk and the decision. The same
// use case (planMigrations, src/migrations/use-cases.ts) and option readers (readGateSpec) as the migrate-gate action.
import path from 'node:path';
import { formatDuration } from '../../core/duration.js';
import type { MigrationPlan } from '../../migrations/plan.js';
import { readGateSpec } from '../../migrations/spec.js';
import { planMigrations } from '../../migrations/use-cases.js';
import { EXIT_FAILED, EXIT_OK, type Values } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { DATABASE_EXTRAS, DATABASE_NAMES, databaseFlags, startMigrationsCommand } from '../database.js';
import { jsonFlag } from '../options.js';
import { table, type Palette } from '../ui.js';

const NAMES = [...DATABASE_NAMES, 'approval', 'large-table-rows'];

const DECISION_TEXT: Record<MigrationPlan['decision'], string> = {
  'no-pending': 'no pending migrations',
  'auto-apply': 'safe to apply unattended',
  'requires-approval': 'approval required',
  blocked: 'BLOCKED',
};

function riskColor(risk: string, c: Palette): string {
  if (risk === 'safe') return c.green(risk);
  if (risk === 'destructive' || risk === 'breaking') return c.red(risk);
  return c.yellow(risk);
}

export const planCommand: Command = {
  spec: {
    name: 'plan',
    summary:
      'Show the migration plan (the migrate gate): pending migrations, their risk, and whether they need approval.',
    details:
      "Read-only: reads the migration history, the server version and table sizes. Exit 0 for 'no pending', 'auto-apply'\n" +
      "and 'approval required' (a normal outcome); exit 1 when the plan is blocked (history anomaly or SQL that cannot work).",
    ...databaseFlags('cli:plan', NAMES, DATABASE_EXTRAS, [
      jsonFlag("the plan (the migrate-gate action's `plan` output)"),
    ]),
    examples: [
      'DATABASE_URL=postgres://… rail-actions plan --dir prisma/migrations',
      'rail-actions plan --database-url "$DATABASE_URL" --json | jq .decision',
    ],
  },
  async run(v: Values, ctx: CliContext) {
    const { spec, json, progress } = startMigrationsCommand(
      v,
      ctx,
      'cli:plan',
      NAMES,
      readGateSpec,
      () => 'reading history and analysing pending migrations',
    );
    let run;
    try {
      run = await planMigrations(
        spec,
        { log: (m) => (json ? undefined : progress.log(ctx.errColor.dim(m))) },
        (none) =>
          `${none.found} — nothing to migrate${none.searched ? '; give --dir (and --tool) if the app keeps them elsewhere' : ''}`,
      );
    } finally {
      progress.stop();
    }
    const plan = run.plan;
    if (json) {
      ctx.print(spec.scrub(JSON.stringify(plan, null, 2)));
      return plan.decision === 'blocked' ? EXIT_FAILED : EXIT_OK;
    }
    printPlan(plan, ctx, spec.scrub, path.relative(spec.cwd, plan.dir) || '.');
    if (run.kind === 'plan') {
      const t = run.gate.timings;
      ctx.print(
        ctx.color.dim(
          `(history ${formatDuration(t.pendingMs)}, analysis ${formatDuration(t.analyzeMs)}, table sizes ${formatDuration(t.statsMs)})`,
        ),
      );
    }
    return plan.decision === 'blocked' ? EXIT_FAILED : EXIT_OK;
  },
};

function printPlan(plan: MigrationPlan, ctx: CliContext, scrub: (t: string) => string, dir: string): void {
  const c = ctx.color;
  const decision = DECISION_TEXT[plan.decision];
  const headline =
    plan.decision === 'blocked'
      ? c.red(c.bold(`⛔ ${decision}`))
      : plan.decision === 'requires-approval'
        ? c.yellow(c.bold(`⏸ ${decision}`))
        : c.green(c.bold(`✔ ${decision}`));
  ctx.print(
    `${headline} — ${plan.pendingCount} pending ${plan.tool} migration(s) in ${dir}, highest risk ${riskColor(plan.risk, c)}`,
  );
  if (plan.pendingCount > 0) ctx.print(`plan-hash ${plan.planHash}`);
  for (const reason of plan.reasons) ctx.print(`  • ${scrub(reason)}`);
  if (plan.files.length) {
    ctx.print('');
    ctx.print(
      table(
        [
          ['MIGRATION', 'RISK', 'STATEMENTS', 'NOTES'],
          ...plan.files.map((f) => [
            f.file,
            riskColor(f.risk, c),
            String(f.statementCount),
            [
              f.kind === 'opaque' ? 'opaque (JS/TS: not analysable)' : '',
              f.hasNonTransactional || f.noTransaction ? 'not atomic (runs outside a transaction)' : '',
              f.parseErrors.length ? `${f.parseErrors.length} parse error(s)` : '',
            ]
              .filter(Boolean)
              .join('; ') || '—',
          ]),
        ],
        c,
      ),
    );
  }
  const risky = plan.statements.filter((s) => s.risk !== 'safe');
  if (risky.length) {
    ctx.print('');
    ctx.print(
      table(
        [
          ['STATEMENT', 'KIND', 'LOCK', 'RISK', 'RULES'],
          ...risky.map((s) => [
            `${s.file}:${s.line}`,
            s.kind,
            s.lock ?? '—',
            riskColor(s.risk, c),
            s.rules.join(', ') || '—',
          ]),
        ],
        c,
      ),
    );
  }
  const findings = plan.findings.filter((f) => f.level !== 'notice');
  if (findings.length) {
    ctx.print('');
    ctx.print(c.bold('Findings:'));
    for (const f of findings) {
      ctx.print(
        `  ${f.level === 'error' ? c.red('✘') : c.yellow('!')} ${f.file}:${f.line}:${f.column} ${c.bold(f.rule)} (${riskColor(f.risk, c)}) ${scrub(f.message)}${f.sizeNote ? ` [${f.sizeNote}]` : ''}`,
      );
      if (f.safeAlternative) ctx.print(c.dim(`      safer: ${scrub(f.safeAlternative)}`));
    }
  }
  if (plan.blockers.length) {
    ctx.print('');
    ctx.print(c.red(c.bold('Blockers:')));
    for (const b of plan.blockers)
      ctx.print(`  ⛔ ${b.file ? `${b.file}${b.line ? `:${b.line}` : ''} ` : ''}${b.kind}: ${scrub(b.detail)}`);
  }
  const otherAnomalies = plan.anomalies.filter(
    (a) => !plan.blockers.some((b) => b.kind === a.kind && b.file === a.file),
  );
  for (const a of otherAnomalies)
    ctx.print(`  ${c.yellow('!')} ${a.kind}${a.file ? ` ${a.file}` : ''}: ${scrub(a.detail)}`);
  if (plan.ignored.length) ctx.print(c.dim(`${plan.ignored.length} finding(s) ignored by inline directives`));
}
