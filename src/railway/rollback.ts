// Rolling a service back to a retained deployment (deploymentRollback → Boolean, so the new deployment is found by
// listing), falling back to deploymentRedeploy (a rebuild) when the target cannot be rolled back (reference §4, §6.9).
// canRollback is re-read at rollback time: whether it held when the target was recorded is not known (the active
// deployment may not report it, reference "Update 2026-12-02"). Both mutations go through applyOnce: a rollback
// answered with a 502 is looked for before anything is sent again.
import { InputError, errorMessage } from '../core/errors.js';
import type { RailwayClient } from './client.js';
import { findNewDeployment, getDeployment, getServiceInstance, listDeployments, newDeploymentIn, type DeploymentDetail, type ServiceScope } from './deployments.js';
import { applyOnce } from './effects.js';
import { RailwayApiError } from './errors.js';
import { REDEPLOY_DEPLOYMENT, ROLLBACK_DEPLOYMENT } from './operations.js';
import { waitForDeployment, type WaitOptions, type WaitResult } from './waiter.js';

export type RollbackMethod = 'rollback' | 'redeploy';

export interface RollbackResult {
  targetId: string;
  method: RollbackMethod;
  /** Why the redeploy fallback was used. */
  fallbackReason?: string;
  /**
   * True when the restored deployment runs exactly the target's image and variables (deploymentRollback: "There is no
   * rebuild", docs guides/roll-back-bad-deploy.md). A redeploy rebuilds from the target's source, and for an image
   * service pulls its tag again (docs guides/private-container-registry.md): a moved tag is NOT the old version.
   */
  exact: boolean;
  /** Set when what was restored may differ from the target (a mutable image tag pulled again). */
  warning?: string;
  /** The deployment the rollback created. */
  deploymentId?: string;
  /** The new deployment was found by reading state after Railway's answer was lost. */
  reconciled?: boolean;
  wait?: WaitResult;
  ok: boolean;
  message: string;
  startedAt: number;
  /** When the rollback mutation was sent. */
  requestedAt?: number;
  finishedAt: number;
}

export interface RollbackOptions extends Omit<WaitOptions, 'scope'> {
  /** Called once the mutation is accepted and the new deployment is known (for post-step state). */
  onStarted?: (info: { method: RollbackMethod; deploymentId: string }) => void;
  /** How long a lost answer is looked for before the request may be sent again (effects.ts). */
  settleMs?: number;
}

/** An image reference pinned to a digest cannot move; a tag can (`:latest`, `:1.2`). */
function isMutableImage(image: string): boolean {
  return !/@sha256:[0-9a-f]{64}$/i.test(image);
}

export async function rollbackTo(client: RailwayClient, scope: ServiceScope, targetId: string, opts: RollbackOptions): Promise<RollbackResult> {
  const startedAt = Date.now();
  const log = opts.log ?? (() => undefined);
  // Both reads in parallel: they are all that stands between a failed verdict and the rollback request. The target
  // is read NOW (not trusted from when it was recorded): canRollback decides between the two mutations.
  const [known, target] = await Promise.all([
    listDeployments(client, scope, { maxPages: 1, pageSize: 50 }),
    getDeployment(client, targetId).catch((err: unknown) => {
      if (err instanceof RailwayApiError && err.graphqlMessages.length) {
        throw new InputError('deployment-id', `Railway has no deployment '${targetId}' for this token (${err.graphqlMessages.join('; ')})`);
      }
      throw err;
    }),
  ]);
  if (target.serviceId && target.serviceId !== scope.serviceId) {
    throw new InputError('deployment-id', `deployment ${targetId} belongs to another service (${target.serviceId}), not ${scope.serviceId}`);
  }
  if (target.environmentId && target.environmentId !== scope.environmentId) {
    throw new InputError('deployment-id', `deployment ${targetId} belongs to another environment (${target.environmentId}), not ${scope.environmentId}`);
  }
  const knownIds = new Set(known.map((d) => d.id));
  const notBefore = known[0]?.createdAt;
  const created = async (): Promise<string | undefined> => newDeploymentIn(await listDeployments(client, scope, { maxPages: 1, pageSize: 20 }), knownIds, notBefore)?.id;
  const effect = { log, signal: opts.signal, settleMs: opts.settleMs };

  let method: RollbackMethod = 'rollback';
  let fallbackReason: string | undefined;
  let deploymentId: string | undefined;
  let requestedAt: number | undefined;
  let reconciled = false;
  let warning: string | undefined;
  if (target.canRollback) {
    requestedAt = Date.now();
    try {
      // true/false = Railway's answer; a string = the new deployment, found by reading state after a lost answer.
      const r = await applyOnce<boolean | string>(client, {
        ...effect,
        what: `deploymentRollback to ${targetId}`,
        send: async () => (await client.request<{ deploymentRollback: boolean }>(ROLLBACK_DEPLOYMENT, { id: targetId }, 'RollbackDeployment')).deploymentRollback,
        find: created,
      });
      reconciled = r.reconciled;
      if (r.value === false) fallbackReason = 'deploymentRollback answered false';
      else if (typeof r.value === 'string') deploymentId = r.value;
      else {
        // Accepted: it returns no id, so the new deployment is found by listing. It landed — never sent again.
        const found = await findNewDeployment(client, scope, knownIds, notBefore, { signal: opts.signal }).catch((err: unknown) => {
          throw new RailwayApiError(`Railway accepted the rollback to ${targetId}, but its new deployment could not be read: ${errorMessage(err)}`, {
            httpStatus: 200,
            operationName: 'ListDeployments',
            retryable: false,
          });
        });
        if (!found) return done('rollback', undefined, false, `Railway accepted the rollback to ${targetId} but no new deployment appeared in the service's list`);
        deploymentId = found.id;
      }
    } catch (err) {
      // Only Railway refusing the rollback (HTTP 200 + errors[], e.g. the image is gone) falls back to a redeploy.
      if (!(err instanceof RailwayApiError) || err.retryable || err.httpStatus >= 500 || err.operationName !== 'RollbackDeployment') throw err;
      fallbackReason = `deploymentRollback was refused: ${errorMessage(err)}`;
    }
  } else {
    fallbackReason = `deployment ${targetId} reports canRollback: false now (its image is not retained, or Railway does not offer rollback to it)`;
  }

  if (!deploymentId) {
    method = 'redeploy';
    if (!target.canRedeploy) {
      return done('redeploy', undefined, false, `cannot restore ${targetId}: ${fallbackReason ?? 'not rollback-able'}, and it cannot be redeployed either`);
    }
    warning = await redeployCaveat(client, scope, target);
    log(`${fallbackReason ?? 'rollback unavailable'}; rebuilding it with deploymentRedeploy instead${warning ? ` (${warning})` : ''}`);
    requestedAt ??= Date.now();
    const r = await applyOnce(client, {
      ...effect,
      what: `deploymentRedeploy of ${targetId}`,
      send: async () => (await client.request<{ deploymentRedeploy: { id: string } }>(REDEPLOY_DEPLOYMENT, { id: targetId }, 'RedeployDeployment')).deploymentRedeploy.id,
      find: created,
    });
    deploymentId = r.value;
    reconciled ||= r.reconciled;
  }
  opts.onStarted?.({ method, deploymentId });
  log(`${method === 'rollback' ? 'rolling back' : 'redeploying'} to ${targetId}: new deployment ${deploymentId}`);
  const wait = await waitForDeployment(client, deploymentId, { ...opts, scope });
  const restored = `restored ${targetId} as deployment ${deploymentId} (${method}${warning ? `; ${warning}` : ''})`;
  return done(method, wait, wait.ok, wait.ok ? restored : `${method} to ${targetId} did not go live: ${wait.message}`);

  function done(m: RollbackMethod, w: WaitResult | undefined, ok: boolean, message: string): RollbackResult {
    const r: RollbackResult = { targetId, method: m, exact: m === 'rollback', ok, message, startedAt, finishedAt: Date.now() };
    if (fallbackReason) r.fallbackReason = fallbackReason;
    if (warning) r.warning = warning;
    if (deploymentId) r.deploymentId = deploymentId;
    if (reconciled) r.reconciled = true;
    if (w) r.wait = w;
    if (requestedAt) r.requestedAt = requestedAt;
    return r;
  }
}

/** Why a redeploy of `target` may not bring back what it ran: an image service pulls its (mutable) tag again. */
async function redeployCaveat(client: RailwayClient, scope: ServiceScope, target: DeploymentDetail): Promise<string | undefined> {
  const fromMeta = typeof target.meta?.image === 'string' ? target.meta.image : undefined;
  const image = fromMeta ?? (await getServiceInstance(client, scope).catch(() => undefined))?.source?.image ?? undefined;
  if (!image || !isMutableImage(image)) return undefined;
  return `a redeploy pulls the image tag ${image} again — if the tag moved since, this is NOT a rollback to the old version; pin images by digest (@sha256:…) to make it one`;
}
