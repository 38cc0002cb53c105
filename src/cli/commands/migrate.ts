// `rail-actions migrate`: apply the pending migrations the way the migrate action does — one advisory lock, short
// lock_timeout with retries, optionally pinned to the plan-hash a human approved.
import { formatDuration } from '../../core/duration.js';
import { InputError, UserFacingError, errorMessage } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import { MigrationFailedError, applyMigrations, type AppliedFile } from '../../migrations/runner/apply.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, type Values } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { DATABASE_INPUT_ALIASES, DATABASE_OPTIONS, readDatabaseOptions } from '../database.js';
import { Progress, table } from '../ui.js';

export const migrateCommand: Command = {
  spec: {
    name: 'migrate',
    summary: 'Apply the pending migrations safely (advisory lock, lock_timeout with retries, optional plan-hash pin).',
    details:
      "With --plan-hash (from 'rail-actions plan' or the migrate-gate action) nothing is applied unless the pending set is\n" +
      "exactly the approved one. With --command the project's own migrator (e.g. 'npx prisma migrate deploy') runs under\n" +
      'the same lock. Ctrl-C stops between statements; what was applied is reported.',
    options: [
      ...DATABASE_OPTIONS,
      { name: 'command', type: 'string', value: 'CMD', description: "Run the project's migrator under the rail-actions lock instead of the built-in runner." },
      { name: 'plan-hash', type: 'string', value: 'HEX', description: 'Refuse to apply anything but the approved plan (64 hex characters).' },
      { name: 'lock-timeout', type: 'string', value: 'DURATION', default: '5s', description: 'Postgres lock_timeout per statement (a lock wait longer than this is retried).' },
      { name: 'statement-timeout', type: 'string', value: 'DURATION', default: '15m', description: 'Postgres statement_timeout (0 = off).' },
      { name: 'lock-wait', type: 'string', value: 'DURATION', default: '10m', description: 'How long to wait for another migration holding the rail-actions lock.' },
      { name: 'max-retries', type: 'string', value: 'N', default: '5', description: 'Retries after a lock timeout.' },
      { name: 'json', type: 'boolean', description: 'Print the result as JSON on stdout.' },
    ],
    inputAliases: DATABASE_INPUT_ALIASES,
    examples: ['DATABASE_URL=postgres://… rail-actions migrate --plan-hash 3b1f…', 'rail-actions migrate --command "npx prisma migrate deploy"'],
  },
  async run(v: Values, ctx: CliContext) {
    const db = readDatabaseOptions(v);
    const planHash = v.string('plan-hash')?.trim().toLowerCase() || undefined;
    if (planHash && !/^[0-9a-f]{64}$/.test(planHash)) throw new InputError('plan-hash', `expected the 64-character hex plan-hash of 'rail-actions plan', got '${planHash}'`);
    const command = v.string('command')?.trim() || undefined;
    const lockTimeoutMs = v.duration('lock-timeout') ?? 5000;
    const statementTimeoutMs = v.duration('statement-timeout', { allowZero: true }) ?? 15 * 60_000;
    const lockWaitMs = v.duration('lock-wait', { allowZero: true }) ?? 10 * 60_000;
    const maxRetries = v.integer('max-retries', { min: 0, max: 100 }) ?? 5;
    const json = v.flag('json');
    if (!json) ctx.log(ctx.errColor.dim(`Target ${redactUrl(db.databaseUrl)}; lock_timeout ${formatDuration(lockTimeoutMs)}, up to ${maxRetries} retries`));

    let current = 'taking the migration lock';
    const progress = new Progress(() => current, { stream: ctx.err, plainEveryMs: 30_000 });
    const log = (m: string) => {
      current = db.scrub(m);
      if (!json) progress.log(ctx.errColor.dim(current));
    };
    let applied: AppliedFile[] = [];
    let failure: string | undefined;
    let pending = 0;
    let hash: string | undefined;
    try {
      const result = await applyMigrations({
        databaseUrl: db.databaseUrl,
        dir: db.dir,
        tool: db.tool,
        cwd: db.cwd,
        lockTimeoutMs,
        statementTimeoutMs,
        lockWaitMs,
        maxRetries,
        signal: ctx.signal,
        log,
        warn: (m) => progress.log(ctx.errColor.yellow(db.scrub(m))),
        label: 'target database',
        ...(planHash ? { planHash } : {}),
        ...(command ? { command } : {}),
      });
      applied = result.applied;
      pending = result.report.pending.length;
      hash = result.planHash;
    } catch (err) {
      if (err instanceof InputError) throw err;
      if (err instanceof MigrationFailedError) applied = err.applied;
      failure = db.scrub(errorMessage(err));
      if (!(err instanceof UserFacingError) && !(err instanceof MigrationFailedError) && !ctx.signal.aborted) failure = `unexpected error: ${failure}`;
    } finally {
      progress.stop();
    }
    if (json) {
      ctx.print(JSON.stringify({ ok: !failure, applied, pendingBefore: pending, planHash: hash ?? null, error: failure ?? null }, null, 2));
    } else {
      const c = ctx.color;
      ctx.print(
        failure
          ? c.red(c.bold(`✘ migration failed${applied.length ? ` after applying ${applied.length} file(s)` : ' — nothing applied'}`))
          : c.green(c.bold(applied.length ? `✔ applied ${applied.length} migration(s)` : '✔ nothing to apply')),
      );
      if (applied.length) {
        ctx.print(
          table(
            [['APPLIED', 'STATEMENTS', 'TIME'], ...applied.map((a) => [a.file, a.statements === null ? '—' : String(a.statements), a.ms === null ? '—' : formatDuration(a.ms)])],
            c,
          ),
        );
      }
      if (failure) ctx.print(failure);
      else if (hash) ctx.print(c.dim(`plan-hash ${hash}`));
    }
    if (ctx.signal.aborted) return EXIT_INTERRUPTED;
    return failure ? EXIT_FAILED : EXIT_OK;
  },
};
