// `rail-actions rollback`: put a service back on an earlier deployment (deploymentRollback, or a redeploy when the
// image is no longer retained), wait for it, optionally verify the restored version.
import { formatDuration } from '../../core/duration.js';
import { InputError, UserFacingError } from '../../core/errors.js';
import { scrubSecrets } from '../../core/redact.js';
import { readFile } from 'node:fs/promises';
import { describeRisks, parseMigratePlan, riskyMigrations } from '../../release/migrate-guard.js';
import { listDeployments, pickActive, pickRollbackTarget, rollbackTo, type RollbackResult } from '../../railway/index.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, type Values } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { RAILWAY_OPTIONS, connectRailway, resolveRailway } from '../railway.js';
import { Progress, table } from '../ui.js';
import { HEALTH_OPTIONS, readHealthOptions, runHealthCheck } from './verify.js';

export const rollbackCommand: Command = {
  spec: {
    name: 'rollback',
    summary: 'Roll a service back to an earlier deployment (default: the newest one that can be rolled back to) and wait for it.',
    details:
      'Without --deployment-id the target is the newest deployment with canRollback other than the one serving now\n' +
      "(superseded good deployments show REMOVED, so status is not a filter). With --health-url the restored version is\n" +
      "verified with the same health check as 'verify' (--expect-version defaults to the rollback deployment's id only\n" +
      "when --expect-version=deployment-id is given).",
    options: [
      ...RAILWAY_OPTIONS,
      { name: 'service', short: 's', type: 'string', value: 'NAME|ID', description: 'The service to roll back.', required: true },
      { name: 'deployment-id', type: 'string', value: 'ID', description: 'Deployment to restore (default: the previous rollback-able one).' },
      { name: 'wait-timeout', type: 'string', value: 'DURATION', default: '20m', description: 'Give up waiting for the rollback deployment after this long.' },
      {
        name: 'migrate-plan',
        type: 'string',
        value: 'FILE',
        description: "The release's migration plan ('rail-actions plan --json' / the migrate-gate output): refuse to roll code back across a breaking or destructive migration.",
      },
      { name: 'force', type: 'boolean', description: 'Roll back even across a breaking/destructive migration.' },
      { name: 'health-url', type: 'string', value: 'URL', description: 'Verify the restored version at this URL.' },
      ...HEALTH_OPTIONS,
      { name: 'json', type: 'boolean', description: 'Print the result as JSON on stdout.' },
    ],
    examples: ['RAILWAY_TOKEN=… rail-actions rollback --service api', 'rail-actions rollback --service api --deployment-id 3f2a… --health-url https://api.example.com/health'],
  },
  async run(v: Values, ctx: CliContext) {
    const service = v.required('service');
    const waitTimeoutMs = v.duration('wait-timeout') ?? 20 * 60_000;
    const explicitTarget = v.string('deployment-id')?.trim();
    const healthUrl = v.string('health-url')?.trim();
    const health = healthUrl ? readHealthOptions(v, healthUrl) : undefined;
    const wantsDeploymentIdVersion = health?.opts.expectVersion === 'deployment-id';
    const planFile = v.string('migrate-plan')?.trim();
    let planText = '';
    if (planFile) {
      try {
        planText = await readFile(planFile, 'utf8');
      } catch (err) {
        throw new InputError('migrate-plan', `cannot read '${planFile}' (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
    }
    // Decided before anything is sent to Railway: old code on a migrated schema needs a human, not a script.
    const risks = riskyMigrations(parseMigratePlan(planText, 'migrate-plan'));
    if (risks.length && !v.flag('force')) {
      throw new UserFacingError(
        `refusing to roll back: the release's migrations include ${describeRisks(risks)}. The previous code may not work on the migrated schema — roll forward with a fix, or restore the schema first and re-run with --force.`,
      );
    }
    if (risks.length) ctx.log(ctx.errColor.yellow(`--force: rolling back across ${describeRisks(risks)}`));

    const client = await connectRailway(v, ctx, { deadline: Date.now() + waitTimeoutMs });
    const scrub = (t: string) => scrubSecrets(client.scrub(t), health?.secrets ?? []);
    let progress: Progress | undefined;
    try {
      const target = await resolveRailway(client, v, [service]);
      const svc = target.services[0];
      if (!svc) throw new InputError('service', 'is required');
      const scope = { projectId: target.project.id, environmentId: target.environment.id, serviceId: svc.id };
      const deployments = await listDeployments(client, scope);
      const active = pickActive(deployments);
      let targetId = explicitTarget;
      if (!targetId) {
        const picked = pickRollbackTarget(deployments, active ? { exclude: [active.id] } : {});
        if (!picked) {
          throw new UserFacingError(
            `${svc.name}: no earlier deployment can be rolled back to (first deploy, or images no longer retained); give --deployment-id to redeploy a specific one`,
          );
        }
        targetId = picked.id;
      } else if (active && explicitTarget === active.id) {
        throw new InputError('deployment-id', `${explicitTarget} is what ${svc.name} serves now; nothing to roll back`);
      }
      ctx.log(`Rolling ${ctx.errColor.bold(svc.name)} back from ${active?.id ?? 'nothing'} to ${ctx.errColor.bold(targetId)}`);
      let status = 'requesting';
      let newId: string | undefined;
      progress = new Progress(() => `${svc.name}: ${newId ? `${newId.slice(0, 8)} ${status}` : status}`, { stream: ctx.err });
      const result: RollbackResult = await rollbackTo(client, scope, targetId, {
        deadline: Date.now() + waitTimeoutMs,
        signal: ctx.signal,
        useSubscription: !v.flag('no-websocket'),
        log: (m) => progress?.log(ctx.errColor.dim(scrub(m))),
        onStatus: (change) => {
          status = change.status;
        },
        onStarted: ({ deploymentId, method }) => {
          newId = deploymentId;
          status = `${method} started`;
        },
      });
      progress.stop();

      let verdict: Awaited<ReturnType<typeof runHealthCheck>> | undefined;
      if (health && result.ok && result.deploymentId && !ctx.signal.aborted) {
        if (wantsDeploymentIdVersion) health.opts.expectVersion = result.deploymentId;
        verdict = await runHealthCheck(health, ctx, 'verify restored version');
      }
      const ok = result.ok && (verdict === undefined || verdict.healthy);
      if (v.flag('json')) {
        ctx.print(
          JSON.stringify(
            {
              ok,
              service: svc.name,
              previousDeploymentId: active?.id ?? null,
              targetId,
              method: result.method,
              fallbackReason: result.fallbackReason ?? null,
              deploymentId: result.deploymentId ?? null,
              status: result.wait?.status ?? null,
              message: scrub(result.message),
              healthy: verdict ? verdict.healthy : null,
              healthReason: verdict ? scrub(verdict.lastReason) : null,
              durationMs: result.finishedAt - result.startedAt,
            },
            null,
            2,
          ),
        );
      } else {
        const c = ctx.color;
        ctx.print(ok ? c.green(c.bold('✔ rolled back')) : c.red(c.bold('✘ rollback failed')));
        ctx.print(
          table(
            [
              ['SERVICE', 'WAS SERVING', 'RESTORED', 'METHOD', 'NEW DEPLOYMENT', 'STATUS', 'VERIFIED', 'TIME'],
              [
                svc.name,
                active?.id ?? '—',
                targetId,
                result.method,
                result.deploymentId ?? '—',
                result.wait?.status ?? '—',
                verdict ? (verdict.healthy ? c.green('healthy') : c.red('unhealthy')) : '—',
                formatDuration(result.finishedAt - result.startedAt),
              ],
            ],
            c,
          ),
        );
        ctx.print(scrub(result.message));
        if (result.fallbackReason) ctx.print(`redeployed instead of rolling back: ${scrub(result.fallbackReason)}`);
        if (verdict && !verdict.healthy) ctx.print(`restored version not healthy: ${scrub(verdict.lastReason)}`);
      }
      if (ctx.signal.aborted) return EXIT_INTERRUPTED;
      return ok ? EXIT_OK : EXIT_FAILED;
    } finally {
      progress?.stop();
      await client.close();
    }
  },
};
