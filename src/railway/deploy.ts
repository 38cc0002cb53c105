// Starting (and cancelling) a deployment from one of the three sources, always ending with the new deployment's id
// (serviceInstanceDeployV2 returns it, railwayapp/cli src/gql/schema.json; /up returns it, cli src/controllers/upload.rs). Every mutation goes through applyOnce: an
// answer lost after Railway applied it is reconciled by reading state, never answered with a second deployment.
import { InputError } from '../core/errors.js';
import type { RailwayClient, UploadResponse } from './client.js';
import {
  CANCELLABLE_STATUSES,
  findDeploymentOfCommit,
  getAutoDeployStatus,
  getDeployment,
  getServiceInstance,
  listDeployments,
  mayBeDeployOf,
  newDeploymentIn,
  type AutoDeployStatus,
  type DeploymentSummary,
  type ServiceInstanceState,
  type ServiceScope,
} from './deployments.js';
import { applyOnce, type EffectResult, type EffectSpec } from './effects.js';
import { archiveFitsRootDirectory, normaliseRootDirectory } from './upload.js';
import { CANCEL_DEPLOYMENT, DEPLOY_SERVICE_INSTANCE, SET_SERVICE_IMAGE } from './operations.js';

export type DeploySource =
  | { kind: 'commit'; commitSha?: string }
  | {
      kind: 'upload';
      dir: string;
      tarball: Buffer;
      files: string[];
      /** Monorepos: a different directory per service (keyed by the service name or id as given). */
      perService?: Record<string, { dir: string; tarball: Buffer; files: string[] }>;
    }
  | { kind: 'image'; image?: string };

/** The source for one service: its own upload directory when `perService` names it. */
export function sourceForService(source: DeploySource, service: { id: string; name: string }): DeploySource {
  if (source.kind !== 'upload' || !source.perService) return source;
  const own = source.perService[service.name] ?? source.perService[service.id];
  return own ? { kind: 'upload', ...own } : source;
}

/** Refuses a source the service cannot take — before anything is mutated. */
export function checkSourceFits(serviceName: string, instance: ServiceInstanceState, source: DeploySource): void {
  const repo = instance.source?.repo ?? null;
  const image = instance.source?.image ?? null;
  if (source.kind === 'commit' && !repo) {
    throw new InputError(
      'source',
      `'commit' needs a GitHub-connected service, but service '${serviceName}' has ${image ? `an image source (${image}): use source: image` : 'no repository connected: use source: upload'}`,
    );
  }
  if (source.kind === 'commit' && !source.commitSha) throw missingCommit(serviceName);
  if (source.kind === 'upload' && !archiveFitsRootDirectory(source.files, instance.rootDirectory)) {
    // Railway builds inside the Root Directory of the archive, uploads included (docs cli/deploying.md): an archive
    // rooted at the service's own directory (like `railway up dir --path-as-root`) has nothing there and FAILS.
    const root = normaliseRootDirectory(instance.rootDirectory);
    throw new InputError(
      'path',
      `service '${serviceName}' has the Root Directory '/${root}', but the upload from '${source.dir}' has no files under '${root}/': upload the repository root, or keep the '${root}' prefix in the archive (planUploadRoot)`,
    );
  }
  if (source.kind === 'image' && !image) {
    throw new InputError(
      'source',
      `'image' needs an image-sourced service, but service '${serviceName}' ${repo ? `deploys from the repository ${repo}: use source: commit` : 'has no image source: use source: upload'}`,
    );
  }
}

function missingCommit(serviceName: string): InputError {
  // serviceInstanceDeployV2 without commitSha deploys "the commit currently associated with the service" — not the
  // branch head (docs integrations/api/manage-services.md; docs PR #1163): never a silent redeploy of the old code.
  return new InputError(
    'commit-sha',
    `is required to deploy service '${serviceName}' from its repository: without it Railway redeploys the commit the service already runs, not the one just pushed`,
  );
}

/**
 * The change an image release makes to the service's image setting in its environment before deploying (from → to),
 * or undefined when it changes nothing (another source, no image given, or the same image). The release records it so
 * the setting can be put back when the release fails before anything goes live (release.ts restoreImageSettings).
 */
export function imageChangeOf(
  instance: ServiceInstanceState,
  source: DeploySource,
): { from: string; to: string } | undefined {
  const from = instance.source?.image;
  if (source.kind !== 'image' || !source.image || !from || source.image === from) return undefined;
  return { from, to: source.image };
}

export interface TriggerOptions {
  /** The service's deployments listed before this call (prepareRelease has them); listed here when absent. */
  known?: DeploymentSummary[];
  log?: (msg: string) => void;
  signal?: AbortSignal;
  /** How long a lost answer is looked for before the request may be sent again (effects.ts). */
  settleMs?: number;
}

export interface StartedDeployment {
  deploymentId: string;
  /** The app's address when Railway said it (/up `deploymentDomain`) — never the dashboard link /up calls `url`. */
  url?: string;
  /** The dashboard link of an upload (the /up response's `url`). */
  dashboardUrl?: string;
  /** Requests sent: more than 1 only when an earlier one was proven not to have landed. */
  sends: number;
  /** The deployment was found by reading state after Railway's answer was lost. */
  reconciled: boolean;
}

/**
 * Sends the one mutation (two for a changed image) that starts the deployment; returns its id. A commit deploy
 * needs `commitSha` (see missingCommit). After an ambiguous failure (edge 5xx, reset, timeout) the deployment is
 * looked for among the service's deployments that were not there before — the one of this commit for commit deploys.
 */
export async function triggerDeployment(
  client: RailwayClient,
  scope: ServiceScope,
  instance: ServiceInstanceState,
  source: DeploySource,
  opts: TriggerOptions = {},
): Promise<StartedDeployment> {
  if (source.kind === 'commit' && !source.commitSha) throw missingCommit(instance.serviceName);
  const known = new Set(
    (opts.known ?? (await listDeployments(client, scope, { maxPages: 1, pageSize: 30 }))).map((d) => d.id),
  );
  const common = { log: opts.log, signal: opts.signal, settleMs: opts.settleMs };
  const fresh = async (accept?: (d: DeploymentSummary) => boolean): Promise<DeploymentSummary | undefined> =>
    newDeploymentIn(await listDeployments(client, scope, { maxPages: 1, pageSize: 30 }), known, undefined, accept);
  const deployV2 = async (what: string, commitSha: string | undefined): Promise<StartedDeployment> => {
    const r = await applyOnce(client, {
      ...common,
      what,
      send: async () =>
        (
          await client.request<{ serviceInstanceDeployV2: string }>(
            DEPLOY_SERVICE_INSTANCE,
            { environmentId: scope.environmentId, serviceId: scope.serviceId, commitSha },
            'DeployServiceInstance',
          )
        ).serviceInstanceDeployV2,
      find: async () => (await fresh(mayBeDeployOf(commitSha)))?.id,
    });
    return { deploymentId: r.value, sends: r.sends, reconciled: r.reconciled };
  };

  switch (source.kind) {
    case 'commit':
      return deployV2(
        `serviceInstanceDeployV2 of ${instance.serviceName} at ${source.commitSha?.slice(0, 12) ?? ''}`,
        source.commitSha,
      );
    case 'image': {
      const image = source.image;
      if (image && image !== instance.source?.image) {
        // Idempotent, but the rule holds anyway: reconcile by reading the instance's image.
        await setServiceImage(client, scope, image, {
          ...common,
          what: `serviceInstanceUpdate of ${instance.serviceName} to ${image}`,
        });
      }
      // Image services have no commit: serviceInstanceDeployV2 deploys the instance's image.
      return deployV2(
        `serviceInstanceDeployV2 of ${instance.serviceName} (image ${image ?? instance.source?.image ?? 'as configured'})`,
        undefined,
      );
    }
    case 'upload': {
      const r = await applyOnce<UploadResponse>(client, {
        ...common,
        what: `upload of ${instance.serviceName} (${(source.tarball.length / 1024).toFixed(1)} KiB)`,
        send: () => client.uploadTarball(scope, source.tarball),
        find: async () => {
          const d = await fresh();
          return d ? { deploymentId: d.id } : undefined;
        },
      });
      const out: StartedDeployment = { deploymentId: r.value.deploymentId, sends: r.sends, reconciled: r.reconciled };
      if (r.value.serviceUrl) out.url = r.value.serviceUrl;
      if (r.value.dashboardUrl) out.dashboardUrl = r.value.dashboardUrl;
      return out;
    }
  }
}

/** What to do about a commit Railway may already deploy by itself (GitHub autodeploy). */
export type CommitPlan =
  | { action: 'deploy'; autodeploy?: AutoDeployStatus }
  | { action: 'adopt'; deployment: DeploymentSummary; autodeploy?: AutoDeployStatus }
  | { action: 'refuse'; message: string; autodeploy?: AutoDeployStatus };

export interface CommitPlanOptions {
  /**
   * With autodeploy on and no deployment of the commit seen within `waitMs`: 'adopt' deploys it then (the push may
   * not have been to the trigger branch), 'refuse' stops with instructions, 'deploy' deploys without looking.
   */
  whenAutodeploy: 'adopt' | 'refuse' | 'deploy';
  /** How long to wait for Railway's own deployment of the commit to appear (GitHub's webhook). Default 30 s. */
  waitMs?: number;
  /** Deployments that are ours (not Railway's), e.g. from an earlier attempt of this release. */
  exclude?: Iterable<string>;
  signal?: AbortSignal;
  /** The service's deployments just read (prepareRelease has them): looked at first, without a request. */
  known?: DeploymentSummary[];
  /** Called with every list read while looking (the newest is what a deploy's reconciliation compares against). */
  onList?: (list: DeploymentSummary[]) => void;
  /** Pause between reads while waiting for Railway's deployment. Default 2 s. */
  intervalMs?: number;
}

/**
 * Decides how a commit deploy starts on a service that may autodeploy: a repo-connected service deploys every push by
 * itself (docs deployments/github-autodeploys.md), so deploying the same commit as well builds twice and one
 * deployment supersedes the other. When Railway's deployment of the commit exists (any status but REMOVED), adopt it
 * and wait for it; otherwise deploy, or refuse — per `whenAutodeploy`. With autodeploy known to be OFF nothing is
 * adopted: Railway did not deploy the commit by itself, so a deployment of it is an earlier run's (or someone's).
 */
export async function planCommitDeploy(
  client: RailwayClient,
  scope: ServiceScope,
  serviceName: string,
  commitSha: string,
  opts: CommitPlanOptions,
): Promise<CommitPlan> {
  if (opts.whenAutodeploy === 'deploy') return { action: 'deploy' };
  let autodeploy: AutoDeployStatus | undefined;
  try {
    autodeploy = await getAutoDeployStatus(client, scope);
  } catch {
    autodeploy = undefined; // unknown (e.g. a token that may not read it): look for Railway's deployment anyway
  }
  const withStatus = <T extends object>(plan: T): T & { autodeploy?: AutoDeployStatus } =>
    autodeploy ? { ...plan, autodeploy } : plan;
  if (autodeploy?.enabled === false) return withStatus({ action: 'deploy' as const });
  const found = await findDeploymentOfCommit(client, scope, commitSha, {
    exclude: opts.exclude,
    signal: opts.signal,
    onList: opts.onList,
    intervalMs: opts.intervalMs,
    // A list read just before (prepareRelease) is looked at first, without a request.
    ...(opts.known ? { first: opts.known } : {}),
    waitMs: opts.waitMs ?? 30_000,
  });
  if (found) return withStatus({ action: 'adopt' as const, deployment: found });
  if (!autodeploy?.enabled || opts.whenAutodeploy === 'adopt') return withStatus({ action: 'deploy' as const });
  const waited = Math.round((opts.waitMs ?? 30_000) / 1000);
  return withStatus({
    action: 'refuse' as const,
    message:
      `service '${serviceName}' deploys every push by itself (GitHub autodeploy is on), but Railway's deployment of ${commitSha.slice(0, 12)} did not appear within ${waited}s; ` +
      'deploying it from here as well would build it twice and one deployment would supersede the other. Either let Railway deploy and have this ' +
      'workflow adopt it (run it on the trigger branch), or turn autodeploy off for this service (Service → Settings → Source: disconnect the trigger branch) so this workflow is the only deployer.',
  });
}

export interface CancelResult {
  /** Railway cancelled it (it now reads REMOVED). */
  cancelled: boolean;
  /** Status read before deciding. */
  status: string;
  reason: string;
}

/**
 * Cancels a deployment only in a state Railway documents as cancellable (CANCELLABLE_STATUSES): the status is read
 * first and a DEPLOYING or live deployment is left alone, with the reason. A lost answer is reconciled by re-reading
 * the status (REMOVED = it landed).
 */
export async function cancelDeployment(
  client: RailwayClient,
  deploymentId: string,
  opts: { log?: (msg: string) => void; signal?: AbortSignal } = {},
): Promise<CancelResult> {
  const before = await getDeployment(client, deploymentId);
  if (!CANCELLABLE_STATUSES.has(before.status)) {
    return {
      cancelled: false,
      status: before.status,
      reason: `not cancelled: it is ${before.status}, and Railway documents cancelling only initializing, queued or building deployments`,
    };
  }
  const r = await applyOnce(client, {
    what: `deploymentCancel of ${deploymentId}`,
    log: opts.log,
    signal: opts.signal,
    send: async () =>
      (await client.request<{ deploymentCancel: boolean }>(CANCEL_DEPLOYMENT, { id: deploymentId }, 'CancelDeployment'))
        .deploymentCancel,
    find: async () => ((await getDeployment(client, deploymentId)).status === 'REMOVED' ? true : undefined),
  });
  return {
    cancelled: r.value,
    status: before.status,
    reason: r.value ? `cancelled (was ${before.status})` : 'Railway answered false',
  };
}

/**
 * Sets the image an image-sourced service pulls, in ONE environment: serviceInstanceUpdate with environmentId (without
 * it the change applies to every non-fork environment — Railway public API, ServiceInstanceUpdateInput). Idempotent,
 * but reconciled by reading the instance's image anyway, like every request with an effect (src/railway/effects.ts).
 */
export function setServiceImage(
  client: RailwayClient,
  scope: ServiceScope,
  image: string,
  spec: Omit<EffectSpec<boolean>, 'send' | 'find'>,
): Promise<EffectResult<boolean>> {
  return applyOnce(client, {
    ...spec,
    send: async () =>
      (
        await client.request<{ serviceInstanceUpdate: boolean }>(
          SET_SERVICE_IMAGE,
          { environmentId: scope.environmentId, serviceId: scope.serviceId, image },
          'SetServiceImage',
        )
      ).serviceInstanceUpdate,
    find: async () => ((await getServiceInstance(client, scope)).source?.image === image ? true : undefined),
  });
}
