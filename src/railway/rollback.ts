// Rolling a service back to a retained deployment (deploymentRollback → Boolean, so the new deployment is
// found by listing), falling back to deploymentRedeploy (a rebuild) when the image is gone (reference §4, §6.9).
import { InputError, errorMessage } from '../core/errors.js';
import type { RailwayClient } from './client.js';
import { findNewDeployment, getDeployment, listDeployments, type ServiceScope } from './deployments.js';
import { RailwayApiError } from './errors.js';
import { REDEPLOY_DEPLOYMENT, ROLLBACK_DEPLOYMENT } from './operations.js';
import { waitForDeployment, type WaitOptions, type WaitResult } from './waiter.js';

export type RollbackMethod = 'rollback' | 'redeploy';

export interface RollbackResult {
  targetId: string;
  method: RollbackMethod;
  /** Why the redeploy fallback was used. */
  fallbackReason?: string;
  /** The deployment the rollback created. */
  deploymentId?: string;
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
}

export async function rollbackTo(client: RailwayClient, scope: ServiceScope, targetId: string, opts: RollbackOptions): Promise<RollbackResult> {
  const startedAt = Date.now();
  const log = opts.log ?? (() => undefined);
  // Both reads in parallel: they are all that stands between a failed verdict and the rollback request.
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

  let method: RollbackMethod = 'rollback';
  let fallbackReason: string | undefined;
  let deploymentId: string | undefined;
  let requestedAt: number | undefined;
  if (target.canRollback) {
    requestedAt = Date.now();
    try {
      const data = await client.request<{ deploymentRollback: boolean }>(ROLLBACK_DEPLOYMENT, { id: targetId }, 'RollbackDeployment');
      if (data.deploymentRollback) {
        const created = await findNewDeployment(client, scope, knownIds, notBefore, { signal: opts.signal });
        if (!created) {
          return done('rollback', undefined, false, `Railway accepted the rollback to ${targetId} but no new deployment appeared in the service's list`);
        }
        deploymentId = created.id;
      } else {
        fallbackReason = 'deploymentRollback answered false';
      }
    } catch (err) {
      if (!(err instanceof RailwayApiError) || err.retryable) throw err;
      fallbackReason = `deploymentRollback was refused: ${errorMessage(err)}`;
    }
  } else {
    fallbackReason = `deployment ${targetId} can no longer be rolled back (its image is not retained any more)`;
  }

  if (!deploymentId) {
    method = 'redeploy';
    if (!target.canRedeploy) {
      return done('redeploy', undefined, false, `cannot restore ${targetId}: ${fallbackReason ?? 'not rollback-able'}, and it cannot be redeployed either`);
    }
    log(`${fallbackReason ?? 'rollback unavailable'}; rebuilding it with deploymentRedeploy instead`);
    requestedAt ??= Date.now();
    const data = await client.request<{ deploymentRedeploy: { id: string } }>(REDEPLOY_DEPLOYMENT, { id: targetId }, 'RedeployDeployment');
    deploymentId = data.deploymentRedeploy.id;
  }
  opts.onStarted?.({ method, deploymentId });
  log(`${method === 'rollback' ? 'rolling back' : 'redeploying'} to ${targetId}: new deployment ${deploymentId}`);
  const wait = await waitForDeployment(client, deploymentId, { ...opts, scope });
  return done(method, wait, wait.ok, wait.ok ? `restored ${targetId} as deployment ${deploymentId} (${method})` : `${method} to ${targetId} did not go live: ${wait.message}`);

  function done(m: RollbackMethod, w: WaitResult | undefined, ok: boolean, message: string): RollbackResult {
    const r: RollbackResult = { targetId, method: m, ok, message, startedAt, finishedAt: Date.now() };
    if (fallbackReason) r.fallbackReason = fallbackReason;
    if (deploymentId) r.deploymentId = deploymentId;
    if (w) r.wait = w;
    if (requestedAt) r.requestedAt = requestedAt;
    return r;
  }
}
