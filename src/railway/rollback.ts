// Rolling a service back to a retained deployment (deploymentRollback → Boolean, so the new deployment is found by
// listing), falling back to deploymentRedeploy (a rebuild) when the target cannot be rolled back: a rollback restores a
// retained image with no rebuild, and images are kept for a limited time after removal (docs.railway.com
// deployments/deployment-actions.md, guides/roll-back-bad-deploy.md, pricing/plans.md "Image retention policy";
// deploymentRollback returns Boolean!, railwayapp/cli src/gql/schema.json). canRollback is re-read at rollback time:
// whether it held when the target was recorded is not known (no public source shows whether the active deployment
// reports it). Both mutations go through applyOnce: a rollback answered with a 502 is looked for before anything is
// sent again.
import { InputError, errorMessage } from '../core/errors.js';
import type { RailwayClient } from './client.js';
import {
  findNewDeployment,
  getDeployment,
  getServiceInstance,
  listDeployments,
  newDeploymentIn,
  pickActive,
  type DeploymentDetail,
  type DeploymentSummary,
  type ServiceScope,
} from './deployments.js';
import { applyOnce } from './effects.js';
import { RailwayApiError } from './errors.js';
import { setServiceImage } from './deploy.js';
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
  /**
   * An image service's image SETTING put back in this environment (serviceInstanceUpdate scoped to it): a rollback
   * restores the running image, but the setting the release changed would make the next deploy pull the bad image.
   * `restored: false` when setting it back failed (then `warning` says what to do).
   */
  imageSetting?: ImageSettingRestore;
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
  /**
   * The image the service's setting named before the release changed it (read at prepare time): what the setting is
   * put back to when the target deployment does not say which image it ran (meta.image). Image services only.
   */
  previousImage?: string;
}

/** An image reference pinned to a digest cannot move; a tag can (`:latest`, `:1.2`). */
function isMutableImage(image: string): boolean {
  return !/@sha256:[0-9a-f]{64}$/i.test(image);
}

export async function rollbackTo(
  client: RailwayClient,
  scope: ServiceScope,
  targetId: string,
  opts: RollbackOptions,
): Promise<RollbackResult> {
  const startedAt = Date.now();
  const log = opts.log ?? (() => undefined);
  // Both reads in parallel: they are all that stands between a failed verdict and the rollback request. The target
  // is read NOW (not trusted from when it was recorded): canRollback decides between the two mutations.
  const [known, target] = await Promise.all([
    listDeployments(client, scope, { maxPages: 1, pageSize: 50 }),
    getDeployment(client, targetId).catch((err: unknown) => {
      if (err instanceof RailwayApiError && err.graphqlMessages.length) {
        throw new InputError(
          'deployment-id',
          `Railway has no deployment '${targetId}' for this token (${err.graphqlMessages.join('; ')})`,
        );
      }
      throw err;
    }),
  ]);
  if (target.serviceId && target.serviceId !== scope.serviceId) {
    throw new InputError(
      'deployment-id',
      `deployment ${targetId} belongs to another service (${target.serviceId}), not ${scope.serviceId}`,
    );
  }
  if (target.environmentId && target.environmentId !== scope.environmentId) {
    throw new InputError(
      'deployment-id',
      `deployment ${targetId} belongs to another environment (${target.environmentId}), not ${scope.environmentId}`,
    );
  }
  const knownIds = new Set(known.map((d) => d.id));
  const notBefore = known[0]?.createdAt;
  const created = async (): Promise<string | undefined> =>
    newDeploymentIn(await listDeployments(client, scope, { maxPages: 1, pageSize: 20 }), knownIds, notBefore)?.id;
  const effect = { log, signal: opts.signal, settleMs: opts.settleMs };

  let method: RollbackMethod = 'rollback';
  let fallbackReason: string | undefined;
  let deploymentId: string | undefined;
  let requestedAt: number | undefined;
  let reconciled = false;
  let warning: string | undefined;
  let imageSetting: RollbackResult['imageSetting'];
  if (target.canRollback) {
    requestedAt = Date.now();
    try {
      // true/false = Railway's answer; a string = the new deployment, found by reading state after a lost answer.
      const r = await applyOnce<boolean | string>(client, {
        ...effect,
        what: `deploymentRollback to ${targetId}`,
        send: async () =>
          (
            await client.request<{ deploymentRollback: boolean }>(
              ROLLBACK_DEPLOYMENT,
              { id: targetId },
              'RollbackDeployment',
            )
          ).deploymentRollback,
        find: created,
      });
      reconciled = r.reconciled;
      if (r.value === false) fallbackReason = 'deploymentRollback answered false';
      else if (typeof r.value === 'string') deploymentId = r.value;
      else {
        // Accepted: it returns no id, so the new deployment is found by listing. It landed — never sent again.
        const found = await findNewDeployment(client, scope, knownIds, notBefore, { signal: opts.signal }).catch(
          (err: unknown) => {
            throw new RailwayApiError(
              `Railway accepted the rollback to ${targetId}, but its new deployment could not be read: ${errorMessage(err)}`,
              {
                httpStatus: 200,
                operationName: 'ListDeployments',
                retryable: false,
              },
            );
          },
        );
        if (!found)
          return done(
            'rollback',
            undefined,
            false,
            `Railway accepted the rollback to ${targetId} but no new deployment appeared in the service's list`,
          );
        deploymentId = found.id;
      }
    } catch (err) {
      // Only Railway refusing the rollback (HTTP 200 + errors[], e.g. the image is gone) falls back to a redeploy.
      if (
        !(err instanceof RailwayApiError) ||
        err.retryable ||
        err.httpStatus >= 500 ||
        err.operationName !== 'RollbackDeployment'
      )
        throw err;
      fallbackReason = `deploymentRollback was refused: ${errorMessage(err)}`;
    }
  } else {
    fallbackReason = `deployment ${targetId} reports canRollback: false now (its image is not retained, or Railway does not offer rollback to it)`;
  }

  if (!deploymentId) {
    method = 'redeploy';
    if (!target.canRedeploy) {
      return done(
        'redeploy',
        undefined,
        false,
        `cannot restore ${targetId}: ${fallbackReason ?? 'not rollback-able'}, and it cannot be redeployed either`,
      );
    }
    const caveat = await redeployCaveat(client, scope, target, known);
    if (caveat?.refuse) {
      // Not sent: it would pull the very tag the deployment being replaced was pulled from — the same bad image.
      return done(
        'redeploy',
        undefined,
        false,
        `cannot restore ${targetId}: ${fallbackReason ?? 'not rollback-able'}, and ${caveat.text}`,
      );
    }
    warning = caveat?.text;
    log(
      `${fallbackReason ?? 'rollback unavailable'}; rebuilding it with deploymentRedeploy instead${warning ? ` (${warning})` : ''}`,
    );
    requestedAt ??= Date.now();
    const r = await applyOnce(client, {
      ...effect,
      what: `deploymentRedeploy of ${targetId}`,
      send: async () =>
        (
          await client.request<{ deploymentRedeploy: { id: string } }>(
            REDEPLOY_DEPLOYMENT,
            { id: targetId },
            'RedeployDeployment',
          )
        ).deploymentRedeploy.id,
      find: created,
    });
    deploymentId = r.value;
    reconciled ||= r.reconciled;
  }
  opts.onStarted?.({ method, deploymentId });
  log(`${method === 'rollback' ? 'rolling back' : 'redeploying'} to ${targetId}: new deployment ${deploymentId}`);
  const restoreImage = imageOf(target) ?? opts.previousImage;
  if (restoreImage) {
    imageSetting = await restoreImageSetting(client, scope, restoreImage, { ...effect, log });
    if (imageSetting && !imageSetting.restored) {
      const todo = `the service's image setting in this environment still names ${imageSetting.from}, so its next deploy would run that image again: set it back to ${imageSetting.to} (Service → Settings → Source Image)`;
      warning = warning ? `${warning}; ${todo}` : todo;
    }
  }
  const wait = await waitForDeployment(client, deploymentId, { ...opts, scope });
  const setting = imageSetting?.restored
    ? `; image setting set back from ${imageSetting.from} to ${imageSetting.to} in this environment`
    : '';
  const restored = `restored ${targetId} as deployment ${deploymentId} (${method}${setting}${warning ? `; ${warning}` : ''})`;
  return done(
    method,
    wait,
    wait.ok,
    wait.ok ? restored : `${method} to ${targetId} did not go live: ${wait.message}${setting}`,
  );

  function done(m: RollbackMethod, w: WaitResult | undefined, ok: boolean, message: string): RollbackResult {
    const r: RollbackResult = {
      targetId,
      method: m,
      exact: m === 'rollback',
      ok,
      message,
      startedAt,
      finishedAt: Date.now(),
    };
    if (fallbackReason) r.fallbackReason = fallbackReason;
    if (warning) r.warning = warning;
    if (deploymentId) r.deploymentId = deploymentId;
    if (reconciled) r.reconciled = true;
    if (imageSetting) r.imageSetting = imageSetting;
    if (w) r.wait = w;
    if (requestedAt) r.requestedAt = requestedAt;
    return r;
  }
}

/** The image a deployment of an image service ran (meta.image: Deployment.meta is untyped JSON in railwayapp/cli
 * src/gql/schema.json, its keys undocumented — hence optional), if any. */
function imageOf(d: Pick<DeploymentSummary, 'meta'> | undefined): string | undefined {
  const image = d?.meta?.image;
  return typeof image === 'string' && image ? image : undefined;
}

/**
 * Why a redeploy of `target` may not bring back what it ran: "The redeploy pulls the tag again and picks up the new
 * digest" (docs guides/private-container-registry.md), so a mutable tag may name another image by now. `refuse` when
 * it certainly cannot restore anything: the tag is the one the deployment being replaced was pulled from.
 */
async function redeployCaveat(
  client: RailwayClient,
  scope: ServiceScope,
  target: DeploymentDetail,
  known: DeploymentSummary[],
): Promise<{ text: string; refuse: boolean } | undefined> {
  const image =
    imageOf(target) ?? (await getServiceInstance(client, scope).catch(() => undefined))?.source?.image ?? undefined;
  if (!image || !isMutableImage(image)) return undefined;
  const replaced = pickActive(known.filter((d) => d.id !== target.id));
  if (replaced && imageOf(replaced) === image) {
    return {
      refuse: true,
      text: `a redeploy would pull the image tag ${image} again — the tag the running deployment ${replaced.id} was pulled from — so it cannot bring back the old version (a mutable tag redeploy is not a rollback); not sent. Push the old image under a new tag (or pin it by digest, @sha256:…) and deploy that`,
    };
  }
  return {
    refuse: false,
    text: `a redeploy pulls the image tag ${image} again — if the tag moved since, this is NOT a rollback to the old version; pin images by digest (@sha256:…) to make it one`,
  };
}

/** An image setting put back (or not: `restored: false`, with the failure in `error`). */
export interface ImageSettingRestore {
  from: string;
  to: string;
  restored: boolean;
  error?: string;
}

/**
 * Puts an image service's image setting back to `image` in THIS environment (serviceInstanceUpdate with
 * environmentId: without it Railway changes every environment that is not a fork, schema argument description).
 * deploymentRollback restores the deployment's image (docs guides/roll-back-bad-deploy.md); no public source says it
 * also puts back the setting the release changed, which the next deploy (or a variable change) would pull. Setting it
 * is harmless when Railway already did. Undefined when there is nothing to put back; a failure is reported
 * (`restored: false`), never thrown: the rollback itself stands.
 *
 * With `expect` (a release that failed before going live puts back what IT changed): only a setting that still names
 * `expect` is changed — another value was set by someone else since and is left alone — and a setting that cannot be
 * read is reported as not restored, since it may still name the bad image.
 */
export async function restoreImageSetting(
  client: RailwayClient,
  scope: ServiceScope,
  image: string,
  effect: { log: (msg: string) => void; signal?: AbortSignal; settleMs?: number; expect?: string },
): Promise<ImageSettingRestore | undefined> {
  const { expect, ...spec } = effect;
  let current: string | null | undefined;
  try {
    current = (await getServiceInstance(client, scope)).source?.image;
  } catch (err) {
    const error = client.scrub(errorMessage(err));
    effect.log(`could not read the service's image setting (${error}); not changed`);
    return expect ? { from: expect, to: image, restored: false, error: `it could not be read: ${error}` } : undefined;
  }
  if (!current || current === image) return undefined;
  if (expect && current !== expect) {
    effect.log(
      `the image setting names ${current} now, not ${expect} as this release set it: changed since by someone else, left alone`,
    );
    return undefined;
  }
  try {
    const r = await setServiceImage(client, scope, image, {
      ...spec,
      what: `serviceInstanceUpdate of the image setting back to ${image}`,
    });
    if (!r.value) throw new Error('Railway answered serviceInstanceUpdate with false');
    effect.log(`image setting set back from ${current} to ${image} in this environment`);
    return { from: current, to: image, restored: true };
  } catch (err) {
    const error = client.scrub(errorMessage(err));
    effect.log(`could not set the image setting back to ${image} (${error})`);
    return { from: current, to: image, restored: false, error };
  }
}
