// `rail-actions rollback`: put services back on an earlier deployment — the same use case (runRollback), target rule
// (chooseRollbackTarget), migration guard and verification as the rollback action: deploymentRollback, or a redeploy
// when the image is no longer retained; wait; optionally verify each restored service by its rule.
import { formatDuration } from '../../core/duration.js';
import { InputError, UserFacingError } from '../../core/errors.js';
import { optionDefault } from '../../options/catalogue.js';
import { readBoolean, readString } from '../../options/readers.js';
import { releaseJson, productionDeploymentOf } from '../../release/release.js';
import { readHealthSpec, readMigrateRisks } from '../../release/spec.js';
import { runRollback } from '../../release/use-cases.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, type Values } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { catalogueFlags, cliSource, jsonFlag } from '../options.js';
import { RAILWAY_OPTIONS, SERVICE_OPTION, cliRunIo, readCliRailwaySpec, requiredServices } from '../railway.js';
import { table } from '../ui.js';
import { ALIAS_FLAGS, CLI_NAMES, VERIFY_ALIASES, VERIFY_FLAG_EXTRAS, VERIFY_NAMES, readPlanFile } from './deploy.js';

export const rollbackCommand: Command = {
  spec: {
    name: 'rollback',
    summary:
      'Roll services back to an earlier deployment (default: the newest one Railway can roll back to) and wait for it.',
    details:
      'Without --deployment-id the target is the newest deployment with canRollback older than the one serving now,\n' +
      'preferring another commit than the one being undone (superseded good deployments show REMOVED, so status is not a\n' +
      "filter) — the rollback action's rule. With --verify, --health-url or --health-path each restored service is verified\n" +
      "by its rule (--expect-version deployment-id: the restored deployment's own id).",
    options: [
      ...RAILWAY_OPTIONS,
      { ...SERVICE_OPTION, required: true },
      ...catalogueFlags('cli:rollback', ['deployment-id', 'timeout', 'waiting-timeout', 'migrate-plan', 'force'], {
        'migrate-plan': {
          description:
            "A file: 'rail-actions plan --json' or the migrate-gate's plan output; refuse to roll code back across a breaking or destructive migration.",
        },
      }),
      ...catalogueFlags('cli:rollback', VERIFY_NAMES, VERIFY_FLAG_EXTRAS),
      ...ALIAS_FLAGS,
      { name: 'wait-timeout', type: 'string', value: 'DURATION', description: 'Same as --timeout (older name).' },
      jsonFlag(),
    ],
    examples: [
      'RAILWAY_TOKEN=… rail-actions rollback --service api',
      'rail-actions rollback --service api --deployment-id 3f2a… --health-url https://api.example.com/health',
    ],
  },
  async run(v: Values, ctx: CliContext) {
    const services = requiredServices(v);
    const src = cliSource(v, VERIFY_ALIASES);
    const railway = readCliRailwaySpec(v, services, optionDefault('timeout', 'cli:rollback'));
    const explicitTarget = readString(src, 'deployment-id').trim();
    if (explicitTarget && services.length > 1)
      throw new InputError('deployment-id', 'names one deployment, so give exactly one service');
    const verify = v.flag('verify') || v.given('health-url') || v.given('health-path');
    const health = readHealthSpec(src, services, { place: 'cli:rollback' });
    const force = readBoolean(src, 'force', false);
    // Decided before anything is sent to Railway: old code on a migrated schema needs a human, not a script.
    const risks = readMigrateRisks(await readPlanFile(v));

    const { io, scrub } = cliRunIo(railway, ctx, health.secrets);
    const run = await runRollback(
      {
        railway,
        ...(explicitTarget ? { explicitTarget } : {}),
        recorded: [],
        force,
        risks,
        ...(verify ? { health } : {}),
        names: CLI_NAMES,
      },
      io,
    );
    if (run.refusal) throw new UserFacingError(run.refusal);
    const { release, result } = run;
    const ok = result === 'rolled-back' || result === 'skipped';
    if (v.flag('json')) {
      const first = release.services[0];
      ctx.print(
        scrub(
          JSON.stringify(
            {
              ok,
              result,
              // One service: its fields at the top (as before), every service in `services` (the action's `deployments`).
              previousDeploymentId: first?.previousDeploymentId ?? null,
              targetId: first?.rollback?.targetId ?? null,
              method: first?.rollback?.method ?? null,
              deploymentId: first?.rollback?.deploymentId ?? null,
              status: first?.rollback?.status || null,
              healthy: first?.rollback?.verification ? first.rollback.verification.healthy : null,
              skipped: first?.skipped ?? null,
              services: releaseJson(release),
            },
            null,
            2,
          ),
        ),
      );
    } else {
      const c = ctx.color;
      ctx.print(
        ok
          ? c.green(c.bold(result === 'skipped' ? '✔ nothing to roll back' : '✔ rolled back'))
          : c.red(c.bold('✘ rollback failed')),
      );
      ctx.print(
        table(
          [
            [
              'SERVICE',
              'WAS SERVING',
              'RESTORED',
              'METHOD',
              'NEW DEPLOYMENT',
              'STATUS',
              'VERIFIED',
              'NOW SERVING',
              'TIME',
            ],
            ...release.services.map((s) => [
              s.service.name,
              s.previousDeploymentId ?? '—',
              s.rollback?.targetId ?? '—',
              s.rollback?.method ?? '—',
              s.rollback?.deploymentId ?? '—',
              s.rollback?.status || (s.skipped ? 'SKIPPED' : '—'),
              s.rollback?.verification
                ? s.rollback.verification.healthy
                  ? c.green('healthy')
                  : c.red('unhealthy')
                : '—',
              productionDeploymentOf(s) ?? '—',
              s.rollback ? formatDuration(s.rollback.finishedAt - s.rollback.startedAt) : '—',
            ]),
          ],
          c,
        ),
      );
      for (const s of release.services) {
        ctx.print(`${c.bold(s.service.name)}: ${scrub(s.skipped ?? s.rollback?.message ?? s.message)}`);
        if (s.rollback?.fallbackReason)
          ctx.print(`  redeployed instead of rolling back: ${scrub(s.rollback.fallbackReason)}`);
        if (s.rollback?.verification && !s.rollback.verification.healthy)
          ctx.print(`  restored version not healthy: ${scrub(s.rollback.verification.reason)}`);
      }
    }
    if (ctx.signal.aborted) return EXIT_INTERRUPTED;
    return ok ? EXIT_OK : EXIT_FAILED;
  },
};
