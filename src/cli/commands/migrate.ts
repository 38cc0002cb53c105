// `rail-actions migrate`: apply the pending migrations the way the migrate action does — the same use case
// (runMigrate, src/migrations/use-cases.ts) and the same option readers (readMigrateSpec): one advisory lock, short
// lock_timeout with retries, optionally pinned to the plan-hash a human approved, optionally rehearsed first.
import { backupLines } from '../../backup/report.js';
import { formatDuration } from '../../core/duration.js';
import { UserFacingError } from '../../core/errors.js';
import type { AppliedFile } from '../../migrations/runner/apply.js';
import { readMigrateSpec } from '../../migrations/spec.js';
import { runMigrate, type MigrateRun } from '../../migrations/use-cases.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, type Values } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { DATABASE_EXTRAS, DATABASE_NAMES, databaseFlags, startMigrationsCommand } from '../database.js';
import { jsonFlag } from '../options.js';
import { table } from '../ui.js';

const NAMES = [
  ...DATABASE_NAMES,
  'migrations-command',
  'plan-hash',
  'mode',
  'rehearsal-database-url',
  'lock-timeout',
  'statement-timeout',
  'lock-wait',
  'max-retries',
  'backup',
  'backup-max-size',
  'backup-retention',
];

export const migrateCommand: Command = {
  spec: {
    name: 'migrate',
    summary: 'Apply the pending migrations safely (advisory lock, lock_timeout with retries, optional plan-hash pin).',
    details:
      "With --plan-hash (from 'rail-actions plan' or the migrate-gate action) nothing is applied unless the pending set is\n" +
      "exactly the approved one. With --command the project's own migrator (e.g. 'npx prisma migrate deploy') runs under\n" +
      'the same lock. Ctrl-C stops between statements; what was applied is reported. An app without migrations is\n' +
      'success with nothing applied.',
    ...databaseFlags(
      'cli:migrate',
      NAMES,
      {
        ...DATABASE_EXTRAS,
        'migrations-command': {
          description: "(e.g. 'npx prisma migrate deploy'), under the same lock, with DATABASE_URL in its environment.",
        },
      },
      [jsonFlag()],
    ),
    examples: [
      'DATABASE_URL=postgres://… rail-actions migrate --plan-hash 3b1f…',
      'rail-actions migrate --command "npx prisma migrate deploy"',
    ],
  },
  async run(v: Values, ctx: CliContext) {
    let current = 'taking the migration lock';
    const { spec, json, progress } = startMigrationsCommand(
      v,
      ctx,
      'cli:migrate',
      NAMES,
      readMigrateSpec,
      () => current,
    );
    let run: MigrateRun;
    try {
      run = await runMigrate(
        spec,
        {
          log: (m) => {
            current = m;
            if (!json) progress.log(ctx.errColor.dim(m));
          },
          warn: (m) => progress.log(ctx.errColor.yellow(m)),
          group: (title, fn) => {
            if (!json) progress.log(ctx.errColor.dim(`── ${title}`));
            return fn();
          },
          signal: ctx.signal,
        },
        { commandInput: 'command', label: 'target database' },
      );
    } finally {
      progress.stop();
    }
    const view = viewOf(run, ctx.signal.aborted);
    if (json) {
      ctx.print(JSON.stringify(view, null, 2));
    } else {
      const c = ctx.color;
      const { applied, partiallyApplied: partial } = view;
      if (run.kind === 'no-migrations') ctx.print(c.dim(`${run.none.found} — nothing to migrate`));
      ctx.print(
        view.error !== null
          ? c.red(
              c.bold(
                run.kind === 'rehearsal-failed'
                  ? '✘ rehearsal failed — production was not touched'
                  : `✘ migration failed${applied.length ? ` after applying ${applied.length} file(s)` : partial ? '' : ' — nothing applied'}${partial ? `${applied.length ? ';' : ' —'} ${partial.file} partly applied (${partial.committedGroups.length} of ${partial.groups} statement groups committed; the next run resumes at group ${partial.resumeAtGroup})` : ''}`,
              ),
            )
          : run.kind === 'rehearsed'
            ? c.green(
                c.bold(
                  `✔ rehearsal passed (${run.rehearsal.result?.applied.length ?? 0} migration(s), target untouched)`,
                ),
              )
            : c.green(c.bold(applied.length ? `✔ applied ${applied.length} migration(s)` : '✔ nothing to apply')),
      );
      if (applied.length) {
        ctx.print(
          table(
            [
              ['APPLIED', 'STATEMENTS', 'TIME'],
              ...applied.map((a) => [
                a.file,
                a.statements === null ? '—' : String(a.statements),
                a.ms === null ? '—' : formatDuration(a.ms),
              ]),
            ],
            c,
          ),
        );
      }
      if ((run.kind === 'applied' || run.kind === 'failed') && run.backup)
        for (const line of backupLines(run.backup)) ctx.print(spec.scrub(line));
      if (view.error !== null) ctx.print(view.error);
      else if (view.planHash) ctx.print(c.dim(`plan-hash ${view.planHash}`));
    }
    if (ctx.signal.aborted) return EXIT_INTERRUPTED;
    return view.ok ? EXIT_OK : EXIT_FAILED;
  },
};

/** The --json result (what the human output is made of too). */
interface MigrateView {
  ok: boolean;
  rehearsal: 'passed' | 'failed' | 'skipped';
  applied: AppliedFile[];
  partiallyApplied: { file: string; groups: number; committedGroups: number[]; resumeAtGroup: number } | null;
  backup: { id: string; bytes: number; rows: number; expiresAt: string } | null;
  pendingBefore: number;
  planHash: string | null;
  error: string | null;
}

function viewOf(run: MigrateRun, aborted: boolean): MigrateView {
  const rehearsal = 'rehearsal' in run && run.rehearsal ? (run.rehearsal.ok ? 'passed' : 'failed') : 'skipped';
  const none = { rehearsal, applied: [], partiallyApplied: null, backup: null } as const;
  switch (run.kind) {
    case 'no-migrations':
      return { ok: true, ...none, applied: [], pendingBefore: 0, planHash: run.planHash, error: null };
    case 'rehearsal-failed':
      return {
        ok: false,
        ...none,
        applied: [],
        pendingBefore: 0,
        planHash: null,
        error: `Rehearsal failed — production was not touched: ${run.rehearsal.error ?? 'unknown error'}`,
      };
    case 'rehearsed':
      return {
        ok: true,
        ...none,
        applied: [],
        pendingBefore: run.rehearsal.result?.report.pending.length ?? 0,
        planHash: run.rehearsal.result?.planHash ?? null,
        error: null,
      };
    case 'applied':
    case 'failed': {
      const backup = run.backup
        ? {
            id: run.backup.id,
            bytes: run.backup.bytes,
            rows: run.backup.rows,
            expiresAt: run.backup.expiresAt.toISOString(),
          }
        : null;
      if (run.kind === 'applied')
        return {
          ok: true,
          rehearsal,
          applied: run.result.applied,
          partiallyApplied: null,
          backup,
          pendingBefore: run.result.report.pending.length,
          planHash: run.result.planHash,
          error: null,
        };
      const p = run.partial;
      // What the runner or the database refused is said as it is; anything else is a bug worth calling one.
      const unexpected = !(run.error instanceof UserFacingError) && !aborted;
      return {
        ok: false,
        rehearsal,
        applied: run.applied,
        partiallyApplied: p
          ? { file: p.file, groups: p.groups, committedGroups: p.committedGroups, resumeAtGroup: p.resumeAt }
          : null,
        backup,
        pendingBefore: 0,
        planHash: null,
        error: unexpected ? `unexpected error: ${run.message}` : run.message,
      };
    }
  }
}
