// The post step of railway-deploy and the root action as a use case: what an interrupted main step left (saved
// right before each change) is cancelled, waited for or rolled back — each decision is cleanupFirstStep /
// cleanupAction's (policies.ts) — and what Railway runs is read for every service at the end; an image setting the
// release changed is put back when nothing of it went live.
import { errorMessage } from '../core/errors.js';
import type { RailwayClient } from '../railway/client.js';
import { cancelDeployment } from '../railway/deploy.js';
import { findNewDeployment, getDeployment, mayBeDeployOf } from '../railway/deployments.js';
import { restoreImageSetting, rollbackTo } from '../railway/rollback.js';
import { waitForDeployment } from '../railway/waiter.js';
import { cleanupAction, cleanupFirstStep, type InflightService } from './policies.js';
import {
  confirmProduction,
  describeProduction,
  isHttpSpec,
  type ProductionRead,
  verifyDeployment,
  type Release,
  type ServiceRelease,
  type VerifySpec,
} from './release.js';
import type { HealthSpec } from './spec.js';
import { verifySpecForRestored } from './verify-rules.js';

export interface CleanupRow {
  service: string;
  deploymentId: string;
  found: string;
  action: string;
  /** What Railway runs after the post step (read at its end), e.g. "abc (SUCCESS)". */
  productionNow: string;
  /** The id alone ('' when nothing serves or it could not be read). */
  productionDeploymentId: string;
  /** Set when a person must act, with what to do. */
  needsHuman?: string;
}

/**
 * The post step's budget. A cancelled job gets the job cancel timeout for everything still to run —
 * `cancel-timeout-minutes`, 5 minutes by default (actions/runner@258d6c8 src/Sdk/WorkflowParser/WorkflowConstants.cs:10
 * DefaultJobCancelTimeoutInMinutes = 5; src/Sdk/DTPipelines/Pipelines/PipelineConstants.cs:17) — and the listener
 * kills the worker 15 s before it ends (src/Runner.Listener/JobDispatcher.cs:1278-1285). The cancelled step takes up to
 * 10 s to stop (ProcessInvoker.cs:32-33), and always() steps and other actions' post steps share the rest: 3 minutes
 * leaves them over a minute and a half.
 */
export const POST_STEP_BUDGET_MS = 3 * 60_000;

/**
 * Reads while looking for what a deploy request sent just before the cancellation created (0.5 s, 1 s, … apart: about
 * 7.5 s in all). Railway may list a fresh deployment late (effects.ts `settleMs`), and the request may still be
 * processed after the runner dropped its connection.
 */
const REQUEST_LOOKS = 6;

/** A verification that fits in what is left of the post step's budget (minus a margin to write the summary). */
function withinBudget(spec: VerifySpec, deadline: number): VerifySpec {
  const left = Math.max(1000, deadline - Date.now() - 10_000);
  const windowMs = Math.min(spec.windowMs, Math.floor(left / 2));
  return isHttpSpec(spec)
    ? { ...spec, windowMs, health: { ...spec.health, timeoutMs: Math.min(spec.health.timeoutMs, left - windowMs) } }
    : { ...spec, windowMs };
}

/**
 * The post step when the main step did not finish (job cancelled, runner killed it). Per service: a rollback that was
 * on its way is waited for and verified by the service's rule; a deployment still building is cancelled
 * (cancelDeployment: only what Railway documents as cancellable, with the reason when it declines); with
 * `rollbackLive`, a new deployment that went live unverified — or goes live while the budget lasts — is rolled back to
 * the recorded target. Ends with what Railway runs, read for every service.
 */
export async function cleanUpAfterInterruptedMain(
  client: RailwayClient,
  inflight: InflightService[],
  opts: { rollbackLive: boolean; deadline: number; health?: HealthSpec; log: (m: string) => void },
): Promise<CleanupRow[]> {
  const log = (s: InflightService, m: string) => opts.log(`${s.service}: ${m}`);
  return Promise.all(
    inflight.map(async (s): Promise<CleanupRow> => {
      const row: CleanupRow = {
        service: s.service,
        deploymentId: s.deploymentId ?? '',
        found: '',
        action: '',
        productionNow: '',
        productionDeploymentId: '',
      };
      const scope = { projectId: s.projectId, environmentId: s.environmentId, serviceId: s.serviceId };
      const named = { service: { id: s.serviceId, name: s.service }, ...(s.url ? { url: s.url } : {}) };
      const verifyRestored = async (id: string): Promise<string> => {
        if (!opts.health) return 'not verified (verify: false)';
        const v = await verifyDeployment(
          client,
          id,
          withinBudget(verifySpecForRestored(opts.health, named, id), opts.deadline),
          { log: (m) => log(s, m), useSubscription: false },
        );
        return v.healthy
          ? `verified by ${v.rule === 'http' ? 'HTTP' : 'Railway status'}`
          : `verification FAILED: ${v.reason}`;
      };
      // A deploy request was sent but its answer never came back: nothing of it started, read from Railway.
      let requestAbsent = false;
      try {
        let first = cleanupFirstStep(s);
        let foundNote = '';
        if (first.step === 'find-requested') {
          const requested = first.requested;
          const found = await findNewDeployment(client, scope, new Set(requested.knownDeploymentIds), undefined, {
            attempts: REQUEST_LOOKS,
            intervalMs: 500,
            accept: mayBeDeployOf(requested.commitSha),
          });
          if (found) {
            s.deploymentId = found.id;
            row.deploymentId = found.id;
            foundNote = ' (found by reading Railway: the deploy request was sent, its answer was lost with the job)';
            first = { step: 'read-deployment', deploymentId: found.id };
            log(s, `the deploy request sent before the cancellation created ${found.id}`);
          } else {
            requestAbsent = true;
          }
        }
        if (requestAbsent) {
          row.found = 'no deployment started (the deploy request was sent; Railway lists nothing it created)';
          row.action = 'none';
        } else if (first.step === 'wait-rollback') {
          const id = first.deploymentId;
          row.found = `rollback ${id} on its way`;
          const w = await waitForDeployment(client, id, {
            deadline: opts.deadline - 15_000,
            scope,
            useSubscription: false,
            registrationDelayMs: 0,
            log: (m) => log(s, m),
          });
          row.action = w.ok
            ? `waited for the rollback: ${id} went live; ${await verifyRestored(id)}`
            : `waited for the rollback: ${w.message}`;
          if (!w.ok || /FAILED/.test(row.action))
            row.needsHuman = `the rollback deployment ${id} ${w.ok ? 'failed verification' : `did not go live (${w.outcome})`}`;
        } else if (first.step === 'nothing-started') {
          row.found = 'no deployment started';
          row.action = 'none';
        } else if (first.step === 'read-deployment') {
          const d = await getDeployment(client, first.deploymentId);
          row.found = `${d.status}${foundNote}`;
          const decision = cleanupAction(d.status, opts.rollbackLive);
          const declined = `not cancelled: it is ${d.status}, and Railway documents cancelling only initializing, queued or building deployments`;
          if (decision.action === 'cancel') {
            const c = await cancelDeployment(client, first.deploymentId, { log: (m) => log(s, m) });
            row.action = c.cancelled ? `cancelled the in-flight deployment (was ${c.status})` : c.reason;
          } else if (decision.action === 'wait-then-roll-back') {
            // It may go live any moment, unverified: wait while the budget lasts and roll it back if it does.
            const w = await waitForDeployment(client, first.deploymentId, {
              deadline: opts.deadline - 90_000,
              scope,
              useSubscription: false,
              registrationDelayMs: 0,
            });
            if (w.ok) row.action = `${declined}; it went live, unverified — ${await rollBack(s, scope)}`;
            else row.action = `${declined}; it ended ${w.status || w.outcome}`;
          } else if (decision.action === 'leave') {
            row.action = `${declined}; it may still go live, unverified`;
            row.needsHuman = `deployment ${first.deploymentId} is ${d.status} and may go live unverified: cancel or approve it in Railway deliberately`;
          } else if (decision.action === 'roll-back') {
            row.action = await rollBack(s, scope);
          } else {
            row.action =
              decision.why === 'live-unverified'
                ? 'none: the deployment had already gone live (not verified)'
                : 'none: the deployment had already ended';
          }
        }
      } catch (err) {
        row.action = `failed: ${client.scrub(errorMessage(err))}`;
        row.needsHuman = 'the clean-up failed';
      }
      const production = await readProduction(client, scope, row);
      await restoreImage(s, scope, production);
      return row;

      /**
       * The image setting the release changed (saved with the in-flight state) is put back when, read at the end,
       * nothing of the release is live or on its way — the same rule as the main step's restoreImageSettings
       * (release.ts), which a cancelled main step skips. `expect`: only a setting that still names the release's image.
       */
      async function restoreImage(
        svc: InflightService,
        sc: typeof scope,
        p: ProductionRead | undefined,
      ): Promise<void> {
        const change = svc.imageChange;
        if (!change || typeof change.from !== 'string' || typeof change.to !== 'string') return;
        const ours = svc.deploymentId;
        if (!ours && !requestAbsent) return;
        if (!p || p.error || (ours && (p.deploymentId === ours || p.pending.some((d) => d.id === ours)))) return;
        if (!ours) {
          // Nothing was found, but a deployment Railway lists only now (late) may be the request's, building the image.
          const known = new Set(svc.requested?.knownDeploymentIds ?? []);
          const late = [p.deploymentId, ...p.pending.map((d) => d.id)].filter(
            (id): id is string => id !== undefined && !known.has(id),
          );
          if (late.length) {
            row.action = `${row.action}; image setting left at ${change.to} (${late.join(', ')} appeared since the request)`;
            row.needsHuman = `${row.needsHuman ? `${row.needsHuman}; ` : ''}${late.join(', ')} appeared after the deploy request and may run ${change.to}: if it is not wanted, cancel or roll it back and set Source Image back to ${change.from} by hand (Service → Settings → Source Image)`;
            return;
          }
        }
        const r = await restoreImageSetting(client, sc, change.from, {
          log: (m) => log(svc, m),
          expect: change.to,
        });
        if (!r) return;
        if (r.restored) {
          row.action = `${row.action}; image setting restored to ${r.to} (the release had set ${r.from}; nothing of it went live)`;
        } else {
          row.action = `${row.action}; image setting NOT restored to ${r.to} (${r.error ?? 'unknown error'})`;
          row.needsHuman = `${row.needsHuman ? `${row.needsHuman}; ` : ''}the service's image setting may still name ${r.from}, which the next deploy, redeploy or restart would pull: set Source Image back to ${r.to} by hand (Service → Settings → Source Image)`;
        }
      }

      async function rollBack(svc: InflightService, sc: typeof scope): Promise<string> {
        if (!svc.rollbackTargetId) {
          row.needsHuman = 'nothing was recorded to roll back to';
          return 'could not roll back: no rollback target was recorded';
        }
        const r = await rollbackTo(client, sc, svc.rollbackTargetId, {
          deadline: opts.deadline - 30_000,
          useSubscription: false,
          log: (m) => log(svc, m),
        });
        if (!r.ok) {
          row.needsHuman = `the rollback to ${svc.rollbackTargetId} failed`;
          return `rollback to ${svc.rollbackTargetId} failed: ${r.message}`;
        }
        return `rolled back the unverified release to ${svc.rollbackTargetId} (${r.method}) as ${r.deploymentId ?? '?'}; ${r.deploymentId ? await verifyRestored(r.deploymentId) : ''}`;
      }
    }),
  );
}

/** What Railway runs for the service at the end of the post step. */
async function readProduction(
  client: RailwayClient,
  scope: { projectId: string; environmentId: string; serviceId: string },
  row: CleanupRow,
): Promise<ProductionRead | undefined> {
  const probe: ServiceRelease = {
    service: { id: scope.serviceId, name: row.service },
    scope,
    status: '',
    outcome: 'not-started',
    message: '',
    history: [],
  };
  const release: Release = {
    project: { id: scope.projectId, name: '' },
    environment: { id: scope.environmentId, name: '' },
    source: 'commit',
    startedAt: Date.now(),
    services: [probe],
    events: [],
  };
  await confirmProduction(client, release, { all: true });
  row.productionNow = describeProduction(probe);
  row.productionDeploymentId = probe.production?.error ? '' : (probe.production?.deploymentId ?? '');
  if (probe.production?.error)
    row.needsHuman = `${row.needsHuman ? `${row.needsHuman}; ` : ''}what Railway runs could not be read`;
  else if (probe.production?.pending.length)
    row.needsHuman = `${row.needsHuman ? `${row.needsHuman}; ` : ''}a deployment is still on its way (${probe.production.pending.map((d) => `${d.id} ${d.status}`).join(', ')})`;
  return probe.production;
}
