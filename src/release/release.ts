// A release: several services deployed in parallel as one unit, verified (the NEW version must answer),
// and rolled back together when any part fails. Plain data + functions; actions and the CLI render it.
import { formatDuration } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import { AbortedError } from '../core/retry.js';
import { deploymentUrl } from '../core/url.js';
import { checkHealth, type HealthCheckOptions, type HealthResult } from '../health/index.js';
import type { RailwayClient } from '../railway/client.js';
import {
  cancelDeployment,
  checkSourceFits,
  imageChangeOf,
  planCommitDeploy,
  sourceForService,
  triggerDeployment,
  type CancelResult,
  type DeploySource,
} from '../railway/deploy.js';
import {
  IN_PROGRESS_STATUSES,
  SUCCESS_STATUSES,
  commitOf,
  getDeployment,
  getServiceInstance,
  listDeployments,
  newestFirst,
  pickActive,
  readServiceState,
  releaseStartOf,
  sameCommit,
  type AutoDeployStatus,
  type DeploymentSummary,
  type ServiceInstanceState,
  type ServiceScope,
} from '../railway/deployments.js';
import { collectFailureDiagnostics, type FailureDiagnostics } from '../railway/diagnostics.js';
import type { RequestedDeploy } from './policies.js';
import { RailwayUnconfirmedError } from '../railway/errors.js';
import type { NamedId, RailwayTarget } from '../railway/resolve.js';
import { restoreImageSetting, rollbackTo, type ImageSettingRestore, type RollbackMethod } from '../railway/rollback.js';
import {
  archiveFitsRootDirectory,
  createUploadTarball,
  normaliseRootDirectory,
  planUploadRoot,
} from '../railway/upload.js';
import {
  waitForDeployment,
  watchDeployment,
  type StatusChange,
  type WaitOutcome,
  type WaitResult,
} from '../railway/waiter.js';

/**
 * 'unconfirmed': the request that starts the deployment lost its answer and Railway's state could not be read, so
 * whether it took effect is unknown (RailwayUnconfirmedError) — never retried. 'refused': autodeploy: refuse found
 * Railway deploying by itself and sent nothing.
 */
export type DeployOutcome = WaitOutcome | 'not-started' | 'error' | 'unconfirmed' | 'refused';

/** What to do when Railway deploys the commit by itself (GitHub autodeploy, docs deployments/github-autodeploys.md). */
export type AutodeployMode = 'adopt' | 'refuse' | 'deploy';

/** How a deployment was verified: its HTTP health endpoint, or Railway's own status (no HTTP, e.g. a worker). */
export type VerifyRule = 'http' | 'railway-status';

export interface VerificationRecord {
  rule: VerifyRule;
  /** The health URL (rule http). */
  url?: string;
  expectVersion?: string;
  /** Why the body was checked for something else than expect-version says (e.g. a restored deployment). */
  expectNote?: string;
  /** How long Railway's status had to stay SUCCESS (the soak). */
  windowMs: number;
  startedAt: number;
  finishedAt: number;
  healthy: boolean;
  reason: string;
  attempts: number;
  timeToHealthyMs?: number;
  p95LatencyMs?: number;
  lastStatus?: number;
  /** Set when Railway reported the deployment leaving SUCCESS during the window (CRASHED after SUCCESS). */
  statusDuringWindow?: string;
  /** The last status Railway reported during verification. */
  railwayStatus?: string;
  /** The job was cancelled during verification. */
  cancelled?: boolean;
}

export interface RollbackRecord {
  targetId: string;
  method?: RollbackMethod;
  deploymentId?: string;
  ok: boolean;
  status: string;
  message: string;
  startedAt: number;
  requestedAt?: number;
  finishedAt: number;
  /** Why deploymentRedeploy (a rebuild) was used instead of deploymentRollback. */
  fallbackReason?: string;
  /** What a redeploy restores may differ from the target (a mutable image tag pulled again). */
  warning?: string;
  /** The rollback request lost its answer and Railway's state could not be read: whether it landed is unknown. */
  unconfirmed?: boolean;
  /** The job was cancelled while the rollback deployment was still on its way. */
  interrupted?: boolean;
  verification?: VerificationRecord;
}

/** How the deployment of this release started. */
export interface StartRecord {
  /** 'railway': Railway's own deployment of the commit (GitHub autodeploy) was adopted; nothing was sent. */
  by: 'this-release' | 'railway';
  mode?: AutodeployMode;
  /** serviceInstanceAutoDeployStatus when it was read (undefined: not read, or refused). */
  autodeploy?: AutoDeployStatus;
  /** One sentence for logs and the summary. */
  note: string;
}

/** What Railway runs for the service, read after everything else (the outputs report this, not the plan). */
export interface ProductionRead {
  /** The newest SUCCESS/SLEEPING deployment; undefined when nothing serves. */
  deploymentId?: string;
  status?: string;
  /** Deployments still on their way when it was read: one of them may replace `deploymentId` after the action. */
  pending: Array<{ id: string; status: string }>;
  readAt: number;
  /** The read failed: what Railway runs is unknown. */
  error?: string;
}

export interface ServiceRelease {
  service: NamedId;
  scope: ServiceScope;
  /** What served before this release (newest SUCCESS/SLEEPING deployment). */
  previousDeploymentId?: string;
  /** Newest deployment with canRollback before this release, never one of the release's commit: what a rollback restores. */
  rollbackTargetId?: string;
  deploymentId?: string;
  status: string;
  outcome: DeployOutcome;
  message: string;
  url?: string;
  triggeredAt?: number;
  finishedAt?: number;
  history: StatusChange[];
  supersededBy?: string;
  diagnostics?: FailureDiagnostics;
  verification?: VerificationRecord;
  /** Why a live new deployment was not verified (verify: false, or the release failed before verification). */
  unverifiedReason?: string;
  rollback?: RollbackRecord;
  /** Set by the rollback action when nothing was done for this service, with the reason. */
  skipped?: string;
  /** The instance state read before deploying (source kind, domains). */
  instance?: ServiceInstanceState;
  /** The service's deployments read before deploying (what "new" is compared against). */
  known?: DeploymentSummary[];
  /** The service's own source when it differs from the release's (an upload re-rooted for its Root Directory). */
  source?: DeploySource;
  start?: StartRecord;
  /** SKIPPED: why (watch paths matched no changed file, or a 'Wait for CI' check failed / unknown). */
  skipReason?: WaitResult['skipReason'];
  /** A deployment left unfinished (timeout, WAITING, NEEDS_APPROVAL) was cancelled — or why not. */
  cancel?: CancelResult & { error?: string };
  production?: ProductionRead;
  /** An image release: the service's image setting in this environment was set from `from` to `to` before deploying. */
  imageChange?: { from: string; to: string };
  /**
   * The image setting put back to `imageChange.from` because nothing of this release went live (restoreImageSettings)
   * — or, `restored: false`, why not: the next deploy, redeploy or restart-policy rebuild would pull the bad image.
   */
  imageSettingRestore?: ImageSettingRestore;
  /** The deploy request was sent (and, until deploymentId is set, not answered): what the post step looks for. */
  requested?: RequestedDeploy;
}

export type TimelineKind =
  'start' | 'status' | 'done' | 'fail' | 'verify' | 'healthy' | 'unhealthy' | 'rollback' | 'info';

export interface TimelineEvent {
  at: number;
  service: string;
  kind: TimelineKind;
  label: string;
}

export interface Release {
  project: NamedId;
  environment: NamedId;
  source: DeploySource['kind'];
  /** The commit a commit release deploys. */
  commitSha?: string;
  startedAt: number;
  finishedAt?: number;
  services: ServiceRelease[];
  events: TimelineEvent[];
}

export type Logger = (msg: string) => void;

function event(release: Release, service: string, kind: TimelineKind, label: string, at = Date.now()): void {
  release.events.push({ at, service, kind, label });
}

/**
 * Reads each service's state and records its rollback target (newest canRollback deployment — not a status
 * filter — and never one of the release's commit: Railway's own autodeploy of it may already be there) and what
 * serves now. Checks the source fits every service; an upload to a service with a Root Directory is re-archived
 * with the prefix Railway builds in (planUploadRoot). Sends NO mutation.
 */
export async function prepareRelease(
  client: RailwayClient,
  target: RailwayTarget,
  source: DeploySource,
  opts: { log?: Logger } = {},
): Promise<Release> {
  const release: Release = {
    project: target.project,
    environment: target.environment,
    source: source.kind,
    startedAt: Date.now(),
    services: [],
    events: [],
  };
  const commitSha = source.kind === 'commit' ? source.commitSha : undefined;
  if (commitSha) release.commitSha = commitSha;
  release.services = await Promise.all(
    target.services.map(async (service): Promise<ServiceRelease> => {
      const scope = { projectId: target.project.id, environmentId: target.environment.id, serviceId: service.id };
      const { instance, deployments } = await readServiceState(client, scope);
      const own = await reRootUpload(sourceForService(source, service), instance, service.name, opts.log);
      checkSourceFits(service.name, instance, own);
      const { active: previous, rollbackTarget, url } = releaseStartOf(instance, deployments, commitSha);
      const svc: ServiceRelease = {
        service,
        scope,
        status: '',
        outcome: 'not-started',
        message: 'not started',
        history: [],
        instance,
        known: deployments,
      };
      if (own !== sourceForService(source, service)) svc.source = own;
      if (previous) svc.previousDeploymentId = previous.id;
      if (rollbackTarget) svc.rollbackTargetId = rollbackTarget.id;
      if (url) svc.url = url;
      return svc;
    }),
  );
  return release;
}

/**
 * Railway builds inside the service's Root Directory of what it receives, uploads included (docs cli/deploying.md
 * "Deployment from Subdirectories"): an archive of that very directory (rooted at it) holds nothing there, so it is
 * rebuilt rooted where the prefix is kept (planUploadRoot; `railway up <dir>` without --path-as-root does the same).
 */
async function reRootUpload(
  source: DeploySource,
  instance: ServiceInstanceState,
  serviceName: string,
  log?: Logger,
): Promise<DeploySource> {
  if (source.kind !== 'upload' || archiveFitsRootDirectory(source.files, instance.rootDirectory)) return source;
  const { archiveRoot } = planUploadRoot(source.dir, instance.rootDirectory, serviceName);
  const { body, files } = await createUploadTarball(source.dir, { archiveRoot });
  log?.(
    `${serviceName}: Root Directory '/${normaliseRootDirectory(instance.rootDirectory)}' — upload re-archived from ${archiveRoot} (${files.length} file(s), ${(body.length / 1024).toFixed(1)} KiB) so Railway finds it there`,
  );
  return { kind: 'upload', dir: source.dir, tarball: body, files };
}

export interface DeployReleaseOptions {
  deadline: number;
  signal?: AbortSignal;
  log: Logger;
  waitingTimeoutMs?: number;
  useSubscription?: boolean;
  /** Called as soon as a service's deployment id is known (post-step state). */
  onTriggered?: (svc: ServiceRelease) => void;
  /**
   * Called right before the request that starts a service's deployment is sent (post-step state): if the job is
   * cancelled before the answer, the request may have landed all the same.
   */
  onRequesting?: (svc: ServiceRelease) => void;
  pollInitialMs?: number;
  pollMaxMs?: number;
  /** Commit sources: adopt Railway's own deployment of the commit (default), refuse, or deploy regardless. */
  autodeploy?: AutodeployMode;
  /** How long to wait for Railway's own deployment of the commit when autodeploy is on (planCommitDeploy, default 30 s). */
  autodeployWaitMs?: number;
  /** Pause between reads while waiting for it. Default 5 s (the Free plan has 100 requests an hour). */
  autodeployIntervalMs?: number;
}

const ADOPT_NOTE = (d: DeploymentSummary, sha: string): string =>
  `adopted Railway's own deployment ${d.id} of ${sha.slice(0, 12)} (GitHub autodeploy; ${d.status} when found) — nothing was sent, so the commit is not built twice`;

/** Starts every service's deployment in parallel and waits for each to reach a terminal state. */
export async function deployRelease(
  client: RailwayClient,
  release: Release,
  source: DeploySource,
  opts: DeployReleaseOptions,
): Promise<void> {
  await Promise.all(
    release.services.map(async (svc) => {
      const name = svc.service.name;
      const log = (m: string) => opts.log(`${name}: ${m}`);
      const own = svc.source ?? sourceForService(source, svc.service);
      event(release, name, 'start', 'deploy requested');
      try {
        const instance = svc.instance ?? (await getServiceInstance(client, svc.scope));
        let known = svc.known;
        if (own.kind === 'commit' && own.commitSha) {
          const mode = opts.autodeploy ?? 'adopt';
          // A finished failure of this commit is an earlier attempt, not a build to join: this run tries again.
          const sha = own.commitSha;
          const failedBefore = (svc.known ?? [])
            .filter((d) => (d.status === 'FAILED' || d.status === 'CRASHED') && sameCommit(commitOf(d), sha))
            .map((d) => d.id);
          if (failedBefore.length && mode !== 'deploy')
            log(
              `earlier deployment(s) of ${sha.slice(0, 12)} ended FAILED/CRASHED (${failedBefore.join(', ')}): not adopted`,
            );
          const plan = await planCommitDeploy(client, svc.scope, name, sha, {
            whenAutodeploy: mode,
            waitMs: opts.autodeployWaitMs,
            intervalMs: opts.autodeployIntervalMs ?? 5000,
            signal: opts.signal,
            exclude: failedBefore,
            known: svc.known,
            onList: (list) => (known = list),
          });
          svc.start = { by: 'this-release', mode, note: '' };
          if (plan.autodeploy) svc.start.autodeploy = plan.autodeploy;
          if (plan.action === 'refuse') {
            svc.outcome = 'refused';
            svc.message = `not deployed (autodeploy: refuse): ${plan.message}`;
            svc.start.note = 'refused: Railway deploys this service by itself';
            svc.finishedAt = Date.now();
            event(release, name, 'fail', 'refused (autodeploy)');
            return;
          }
          if (plan.action === 'adopt') {
            svc.start = { ...svc.start, by: 'railway', note: ADOPT_NOTE(plan.deployment, own.commitSha) };
            svc.deploymentId = plan.deployment.id;
            svc.triggeredAt = Date.parse(plan.deployment.createdAt) || Date.now();
            opts.onTriggered?.(svc);
            log(svc.start.note);
          } else {
            svc.start.note =
              mode === 'deploy'
                ? 'deployed by this release (autodeploy: deploy — Railway was not asked)'
                : plan.autodeploy?.enabled === false
                  ? 'deployed by this release (GitHub autodeploy is off for this service)'
                  : plan.autodeploy?.enabled
                    ? `deployed by this release: Railway's own deployment of ${own.commitSha.slice(0, 12)} did not appear in time (autodeploy is on: a push to another branch, or the webhook is late)`
                    : "deployed by this release (Railway's autodeploy status could not be read, and no deployment of this commit was there)";
          }
        }
        if (!svc.deploymentId) {
          // Recorded before the request: once it is sent the setting may have changed, whatever happens next.
          const change = imageChangeOf(instance, own);
          if (change) svc.imageChange = change;
          // What "new" is compared against, read before the request and saved with it.
          known ??= await listDeployments(client, svc.scope, { maxPages: 1, pageSize: 30 });
          svc.requested = {
            // The newest are enough: the post step compares with one page of the newest deployments.
            knownDeploymentIds: newestFirst(known)
              .slice(0, 30)
              .map((d) => d.id),
            ...(own.kind === 'commit' && own.commitSha ? { commitSha: own.commitSha } : {}),
          };
          opts.onRequesting?.(svc);
          const started = await triggerDeployment(client, svc.scope, instance, own, {
            known,
            log,
            signal: opts.signal,
          });
          svc.deploymentId = started.deploymentId;
          svc.triggeredAt = Date.now();
          if (started.url) svc.url = started.url;
          opts.onTriggered?.(svc);
          log(
            `deployment ${started.deploymentId} started (${own.kind}${started.reconciled ? '; found by reading Railway after its answer was lost' : ''})`,
          );
        }
      } catch (err) {
        if (err instanceof AbortedError || opts.signal?.aborted) {
          svc.outcome = 'cancelled';
          svc.message = svc.requested
            ? 'cancelled while the deploy request was on its way: it may have started a deployment (the post step looks for it)'
            : 'cancelled before the deployment started';
        } else if (err instanceof RailwayUnconfirmedError) {
          // Never retried: a second request could deploy twice. What Railway runs is read at the end (confirmProduction).
          svc.outcome = 'unconfirmed';
          svc.message = `${client.scrub(errorMessage(err))}; not retried (a second request could deploy twice)`;
        } else {
          // Refused, or proven not to have landed (effects.ts): nothing for the post step to look for.
          delete svc.requested;
          svc.outcome = 'error';
          svc.message = `could not start the deployment: ${client.scrub(errorMessage(err))}`;
        }
        svc.finishedAt = Date.now();
        event(
          release,
          name,
          'fail',
          svc.outcome === 'cancelled'
            ? 'cancelled'
            : svc.outcome === 'unconfirmed'
              ? 'deploy unconfirmed'
              : 'deploy not started',
        );
        return;
      }
      await followDeployment(client, release, svc, own, opts);
    }),
  );
}

/** Waits for the service's deployment; a newer deployment of the SAME commit (Railway's autodeploy) is adopted. */
async function followDeployment(
  client: RailwayClient,
  release: Release,
  svc: ServiceRelease,
  own: DeploySource,
  opts: DeployReleaseOptions,
): Promise<void> {
  const name = svc.service.name;
  for (let adoptions = 0; ; adoptions++) {
    const deploymentId = svc.deploymentId as string;
    const wait = await waitForDeployment(client, deploymentId, {
      deadline: opts.deadline,
      signal: opts.signal,
      scope: svc.scope,
      waitingTimeoutMs: opts.waitingTimeoutMs,
      useSubscription: opts.useSubscription,
      pollInitialMs: opts.pollInitialMs,
      pollMaxMs: opts.pollMaxMs,
      log: (m) => opts.log(`${name}: ${m}`),
      onStatus: (change) => {
        svc.status = change.status;
        svc.history.push(change);
        if (
          change.status === 'BUILDING' ||
          change.status === 'DEPLOYING' ||
          change.status === 'WAITING' ||
          change.status === 'NEEDS_APPROVAL'
        ) {
          event(release, name, 'status', change.status.toLowerCase().replace('_', ' '), change.at);
        }
      },
    }).catch((err: unknown) => {
      svc.outcome = 'error';
      svc.message = `lost track of deployment ${deploymentId}: ${client.scrub(errorMessage(err))}`;
      return undefined;
    });
    svc.finishedAt = Date.now();
    if (!wait) {
      event(release, name, 'fail', 'status unknown');
      return;
    }
    svc.status = wait.status;
    svc.outcome = wait.outcome;
    svc.message = wait.message;
    if (wait.supersededBy) svc.supersededBy = wait.supersededBy;
    // Railway's autodeploy of the same commit replaced ours (its webhook came late): it is this release, follow it. Not
    // with autodeploy known to be off: then a newer deployment is someone else's release, even of the same commit.
    if (
      wait.outcome === 'superseded' &&
      wait.supersededBy &&
      own.kind === 'commit' &&
      own.commitSha &&
      svc.start?.autodeploy?.enabled !== false &&
      adoptions < 2
    ) {
      const newer = await getDeployment(client, wait.supersededBy).catch(() => undefined);
      if (newer && sameCommit(commitOf(newer), own.commitSha)) {
        opts.log(
          `${name}: ${deploymentId} was replaced by Railway's own deployment ${newer.id} of the same commit (GitHub autodeploy); following that one`,
        );
        svc.start = {
          by: 'railway',
          ...(svc.start?.mode ? { mode: svc.start.mode } : {}),
          ...(svc.start?.autodeploy ? { autodeploy: svc.start.autodeploy } : {}),
          note: ADOPT_NOTE(newer, own.commitSha),
        };
        svc.deploymentId = newer.id;
        delete svc.supersededBy;
        opts.onTriggered?.(svc);
        continue;
      }
    }
    if (wait.ok) {
      event(release, name, 'done', wait.status === 'SLEEPING' ? 'live (sleeping)' : 'live (SUCCESS)');
      if (!svc.url && !svc.instance) {
        // A deployment's staticUrl is its service's domain, so with the instance read (no domain) there is nothing to
        // learn: every request counts on the Free plan's 100 an hour (docs integrations/api.md).
        try {
          const d = await getDeployment(client, deploymentId);
          const url = deploymentUrl(d);
          if (url) svc.url = url;
        } catch {
          // the deploy itself succeeded
        }
      }
    } else if (wait.outcome === 'skipped') {
      // Not a failure when watch paths matched nothing: nothing was deployed and what ran before still runs.
      if (wait.skipReason) svc.skipReason = wait.skipReason;
      event(release, name, 'info', wait.skipReason === 'watch-paths' ? 'skipped (watch paths): unchanged' : 'skipped');
    } else {
      event(
        release,
        name,
        'fail',
        wait.outcome === 'superseded' ? 'superseded' : (wait.status || wait.outcome).toLowerCase(),
      );
      if (
        wait.outcome !== 'cancelled' &&
        wait.outcome !== 'superseded' &&
        wait.outcome !== 'timeout' &&
        wait.outcome !== 'waiting' &&
        wait.outcome !== 'needs-approval'
      ) {
        svc.diagnostics = await collectFailureDiagnostics(client, deploymentId);
      }
    }
    return;
  }
}

/** A SKIPPED deployment that means "nothing to deploy here" (watch paths), not a failed release. */
export function unchangedBySkip(svc: ServiceRelease): boolean {
  return svc.outcome === 'skipped' && svc.skipReason === 'watch-paths';
}

/** Outcomes that leave the service's deployment on its way on Railway: it may still go live, unverified, later. */
const UNFINISHED: ReadonlySet<DeployOutcome> = new Set<DeployOutcome>(['timeout', 'waiting', 'needs-approval']);

/**
 * A deployment this release left on its way (the timeout was reached while it built, or it sits in WAITING /
 * NEEDS_APPROVAL) would go live later, unverified: cancel it while Railway documents that as possible
 * (cancelDeployment: initializing, queued, building); otherwise record why not — the caller reports needs-human.
 * Use a client that still has time (RailwayClient.derive): the release's may be past its deadline.
 */
export async function cancelUnfinished(
  client: RailwayClient,
  release: Release,
  opts: { log: Logger; signal?: AbortSignal },
): Promise<void> {
  await Promise.all(
    release.services.map(async (svc) => {
      if (!svc.deploymentId || !UNFINISHED.has(svc.outcome)) return;
      try {
        svc.cancel = await cancelDeployment(client, svc.deploymentId, {
          log: (m) => opts.log(`${svc.service.name}: ${m}`),
          signal: opts.signal,
        });
        opts.log(`${svc.service.name}: ${svc.deploymentId} ${svc.cancel.reason}`);
        if (svc.cancel.cancelled) event(release, svc.service.name, 'info', 'unfinished deployment cancelled');
      } catch (err) {
        svc.cancel = {
          cancelled: false,
          status: svc.status,
          reason: 'not cancelled: the request failed',
          error: client.scrub(errorMessage(err)),
        };
        opts.log(`${svc.service.name}: could not cancel ${svc.deploymentId}: ${svc.cancel.error}`);
      }
    }),
  );
}

/**
 * An image release changed the service's image setting before deploying (deploy.ts triggerDeployment); when nothing
 * of it went live — its deployment FAILED or CRASHED while building or pulling, was cancelled at the timeout, or never
 * started — the previous deployment still serves but the setting names the new image, so the next redeploy,
 * restart-policy rebuild or autodeploy would pull it (serviceInstanceDeployV2 deploys the instance as configured,
 * docs integrations/api/manage-services.md; a redeploy "pulls the tag again", docs guides/private-container-registry.md).
 * Puts it back, scoped to the environment, through restoreImageSetting
 * (applyOnce: a lost answer is reconciled by reading the setting). Needs what Railway runs read first
 * (confirmProduction): nothing is changed while this release's deployment serves or is still on its way, a rolled-back
 * service (rollbackTo puts it back itself), nor a setting someone else has changed since. A failure is recorded
 * (`imageSettingRestore.restored: false`) and needsHumanReason names the setting to fix by hand.
 */
export async function restoreImageSettings(
  client: RailwayClient,
  release: Release,
  opts: { log: Logger; signal?: AbortSignal; settleMs?: number },
): Promise<void> {
  await Promise.all(
    release.services.map(async (svc) => {
      const change = svc.imageChange;
      if (!change || svc.rollback || !nothingOfReleaseLive(svc)) return;
      const name = svc.service.name;
      const r = await restoreImageSetting(client, svc.scope, change.from, {
        log: (m) => opts.log(`${name}: ${m}`),
        signal: opts.signal,
        settleMs: opts.settleMs,
        expect: change.to,
      });
      if (!r) return;
      svc.imageSettingRestore = r;
      if (r.restored) {
        svc.message = `${svc.message}; image setting restored to ${r.to} (the release had set ${r.from}; nothing of it went live)`;
        event(release, name, 'info', 'image setting restored');
      } else {
        event(release, name, 'fail', 'image setting not restored');
      }
    }),
  );
}

/** Railway, read at the end, runs none of this release's deployments and has none of them on its way. */
function nothingOfReleaseLive(svc: ServiceRelease): boolean {
  const p = svc.production;
  if (!p || p.error || svc.outcome === 'success' || svc.outcome === 'superseded') return false;
  if (!svc.deploymentId) return p.pending.length === 0 && p.deploymentId === svc.previousDeploymentId;
  return p.deploymentId !== svc.deploymentId && !p.pending.some((d) => d.id === svc.deploymentId);
}

/**
 * True when the run itself proved what the service runs: its new deployment went live (and, when verified, stayed
 * healthy) with no rollback, or the rollback's deployment went live (and, when verified, was healthy). Everything
 * else is read from Railway by confirmProduction.
 */
function productionProven(svc: ServiceRelease): boolean {
  const rb = svc.rollback;
  if (rb) return rb.ok && rb.verification?.healthy !== false && !rb.interrupted;
  return (
    svc.outcome === 'success' &&
    !svc.supersededBy &&
    svc.verification?.healthy !== false &&
    svc.verification?.cancelled !== true
  );
}

/**
 * Reads what Railway runs for every service whose state the run did not prove (failures, timeouts, cancellations,
 * unconfirmed requests, superseded releases): the newest SUCCESS/SLEEPING deployment, and what is still on its way.
 * The outputs report this reading, not what the code meant to do.
 */
export async function confirmProduction(
  client: RailwayClient,
  release: Release,
  opts: { log?: Logger; all?: boolean } = {},
): Promise<void> {
  await Promise.all(
    release.services.map(async (svc) => {
      if (!opts.all && productionProven(svc)) return;
      const readAt = Date.now();
      try {
        const list = await listDeployments(client, svc.scope, { maxPages: 1, pageSize: 20 });
        const active = pickActive(list);
        const pending = newestFirst(list)
          .filter(
            (d) =>
              IN_PROGRESS_STATUSES.has(d.status) && (!active || Date.parse(d.createdAt) > Date.parse(active.createdAt)),
          )
          .map((d) => ({ id: d.id, status: d.status }));
        svc.production = { pending, readAt };
        if (active) {
          svc.production.deploymentId = active.id;
          svc.production.status = active.status;
        }
      } catch (err) {
        svc.production = { pending: [], readAt, error: client.scrub(errorMessage(err)) };
      }
      opts.log?.(`${svc.service.name}: Railway runs ${describeProduction(svc)}`);
    }),
  );
}

/** True when this release's own deployment (or its rollback's) was still on its way when production was read. */
export function leftOnItsWay(svc: ServiceRelease): boolean {
  return svc.production?.pending.some((d) => d.id === svc.deploymentId || d.id === svc.rollback?.deploymentId) ?? false;
}

/** "abc (SUCCESS)", with what is still on its way, or why it is unknown. */
export function describeProduction(svc: ServiceRelease): string {
  const p = svc.production;
  if (!p) return productionDeploymentOf(svc) ?? 'nothing';
  if (p.error) return `an unknown deployment (it could not be read: ${p.error})`;
  const now = p.deploymentId ? `${p.deploymentId} (${p.status ?? 'SUCCESS'})` : 'no deployment';
  return p.pending.length
    ? `${now}; still on its way: ${p.pending.map((d) => `${d.id} (${d.status})`).join(', ')}`
    : now;
}

/**
 * Why a person must look at this service now (undefined when production is the new version verified, or the previous
 * version confirmed — restored, or untouched with nothing pending): each reason names what is live and what to do.
 */
export function needsHumanReason(
  svc: ServiceRelease,
  release?: Pick<Release, 'project' | 'environment'>,
): string | undefined {
  const where = release ? ` (${release.project.name} / ${release.environment.name} / ${svc.service.name})` : '';
  const p = svc.production;
  const live = describeProduction(svc);
  if (p?.error)
    return `what Railway runs could not be read (${p.error}); open the service in Railway${where} and check which deployment is active before doing anything else`;
  if (svc.outcome === 'unconfirmed') {
    return `the deploy request's answer was lost and Railway could not be read, so whether it took effect is unknown; Railway now runs ${live}. Check the service's deployments in Railway${where}; if a deployment of this release is there, let it finish (or cancel it), otherwise re-run — nothing was retried automatically`;
  }
  const rb = svc.rollback;
  if (rb?.unconfirmed)
    return `the rollback request's answer was lost and Railway could not be read; Railway now runs ${live}. Check the service in Railway${where} before rolling back by hand (rail-actions rollback)`;
  if (rb?.interrupted) {
    return `the job was cancelled while the rollback deployment ${rb.deploymentId ?? '?'} was ${rb.status || 'on its way'}; Railway runs ${live}. The post step waits for it and verifies it — read its summary; if it did not go live, roll back by hand (rail-actions rollback --deployment-id ${rb.targetId})`;
  }
  if (rb && !rb.ok)
    return `the rollback to ${rb.targetId} failed (${rb.message}); Railway runs ${live}. Roll back by hand (rail-actions rollback --deployment-id ${rb.targetId}) or roll forward with a fix`;
  if (rb?.verification?.cancelled) {
    return `the job was cancelled while the restored deployment ${rb.deploymentId ?? '?'} was being verified; Railway runs ${live}, not verified. Check it (rail-actions verify) before the next release`;
  }
  if (rb?.verification && !rb.verification.healthy)
    return `the restored deployment ${rb.deploymentId ?? '?'} failed verification (${rb.verification.reason}); Railway runs ${live}. Investigate the previous version or roll forward with a fix`;
  if (svc.cancel && !svc.cancel.cancelled && svc.deploymentId) {
    return `deployment ${svc.deploymentId} was left ${svc.cancel.status || svc.status || 'unfinished'} (${svc.message}) and was ${svc.cancel.error ? `not cancelled (${svc.cancel.error})` : svc.cancel.reason}; if it goes live it runs UNVERIFIED. Railway runs ${live}. Cancel it in Railway${where}, or verify it and roll back when needed`;
  }
  // Only this release's own deployments count: someone else's newer deployment (superseded) is their release.
  const ours = p?.pending.filter((d) => d.id === svc.deploymentId || d.id === rb?.deploymentId) ?? [];
  if (ours.length)
    return `Railway runs ${live}: this release's ${ours.map((d) => `${d.id} (${d.status})`).join(', ')} is still on its way and replaces it when it goes live, unverified. Check it in Railway${where}`;
  const img = svc.imageSettingRestore;
  if (img && !img.restored) {
    return `Railway runs ${live}, but the service's image setting in this environment may still name ${img.from}, which this release set and which did not go live; putting it back to ${img.to} failed (${img.error ?? 'unknown error'}). The next deploy, redeploy or restart would pull ${img.from}: set Source Image back to ${img.to} by hand (Service → Settings → Source Image${where})`;
  }
  return undefined;
}

/** An HTTP health check of the deployment, while Railway's status is watched for the window. */
export interface HttpVerifySpec {
  rule?: 'http';
  url: string;
  /** Everything checkHealth needs except url/version/signal. */
  health: Omit<HealthCheckOptions, 'url' | 'expectVersion' | 'signal' | 'onAttempt'>;
  /** Literal text the body must contain (e.g. the new deployment id), or undefined. */
  expectVersion?: string;
  /** Why expectVersion is not what the expect-version input says (a restored deployment, verifySpecForRestored). */
  expectNote?: string;
  /** Railway's status must stay SUCCESS at least this long after verification starts (CRASHED after SUCCESS). */
  windowMs: number;
}

/** No HTTP (a worker): Railway's status must stay SUCCESS, no instance CRASHED/RESTARTING, for the window. */
export interface StatusVerifySpec {
  rule: 'railway-status';
  windowMs: number;
  /** Why this service has no HTTP check (for logs). */
  why?: string;
}

export type VerifySpec = HttpVerifySpec | StatusVerifySpec;

export function isHttpSpec(spec: VerifySpec): spec is HttpVerifySpec {
  return spec.rule !== 'railway-status';
}

/**
 * What is wrong with a live deployment's Railway status, or undefined. Railway reports SUCCESS once the container
 * runs when no healthcheck is configured, and CRASHED only after the restart policy gave up, so a crash loop can
 * still read SUCCESS while an instance is CRASHED or RESTARTING (docs.railway.com deployments/reference.md; the
 * DeploymentInstanceStatus enum in railwayapp/cli src/gql/schema.json; docs deployments/restart-policy.md).
 */
export function liveStatusProblem(status: string, instances: readonly string[]): string | undefined {
  if (!SUCCESS_STATUSES.has(status)) return status || 'no status';
  const bad = instances.find((i) => i === 'CRASHED' || i === 'RESTARTING');
  return bad ? `${status} with an instance ${bad}` : undefined;
}

/** True when a verification failed because Railway reported a crash or restart (not an HTTP verdict). */
export function crashedDuring(v: VerificationRecord): boolean {
  return v.statusDuringWindow !== undefined && /CRASHED|RESTARTING/.test(v.statusDuringWindow);
}

/**
 * Verifies one live deployment by its rule. Both rules share the watch: Railway's status is followed for the whole
 * `windowMs` (subscription, polling as fallback) and leaving SUCCESS, or an instance CRASHED/RESTARTING, fails the
 * verification. Rule http also needs checkHealth to pass (the deployment id in the body); rule railway-status is the
 * soak alone. When the window ends the status is read once more, so a status-only verification never passes without
 * Railway having reported a status (also with a window of 0) and a crash right before the end is not missed.
 * Superseded during the window is reported, not treated as our failure (verifyRelease).
 */
export async function verifyDeployment(
  client: RailwayClient,
  deploymentId: string,
  spec: VerifySpec,
  opts: { signal?: AbortSignal; log: Logger; onAttempt?: HealthCheckOptions['onAttempt']; useSubscription?: boolean },
): Promise<VerificationRecord> {
  const startedAt = Date.now();
  const rule: VerifyRule = isHttpSpec(spec) ? 'http' : 'railway-status';
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let leftSuccess: string | undefined;
  let railwayStatus: string | undefined;
  const onStatus = (status: string, instances: string[]): void => {
    railwayStatus = status;
    const problem = liveStatusProblem(status, instances);
    if (problem && !leftSuccess) {
      leftSuccess = problem;
      opts.log(`deployment ${deploymentId} went ${problem} during verification`);
      controller.abort();
    }
  };
  let windowTimer: NodeJS.Timeout | undefined;
  const windowOver = new Promise<void>((resolve) => {
    windowTimer = setTimeout(resolve, spec.windowMs);
    controller.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const stopWatching = watchDeployment(client, deploymentId, onStatus, {
    signal: controller.signal,
    log: opts.log,
    useSubscription: opts.useSubscription,
  });
  try {
    let health: HealthResult | undefined;
    if (isHttpSpec(spec)) {
      const onAttempt =
        opts.onAttempt ??
        ((a: { n: number; ok: boolean; status?: number; latencyMs: number; reason: string }) =>
          opts.log(
            `health #${a.n} ${a.ok ? 'ok' : 'not ok'} ${a.status ?? '—'} ${Math.round(a.latencyMs)}ms ${a.reason}`,
          ));
      health = await checkHealth({
        ...spec.health,
        url: spec.url,
        expectVersion: spec.expectVersion,
        signal: controller.signal,
        onAttempt,
      });
    }
    const checkPassed = health ? health.healthy : true;
    if (checkPassed && !controller.signal.aborted) await windowOver;
    let readError: string | undefined;
    if (checkPassed && !leftSuccess && !opts.signal?.aborted) {
      try {
        const d = await getDeployment(client, deploymentId);
        onStatus(
          d.status,
          d.instances.map((i) => i.status),
        );
      } catch (err) {
        readError = client.scrub(errorMessage(err));
        opts.log(`could not read the status of ${deploymentId} at the end of the window (${readError})`);
      }
    }
    const cancelled = opts.signal?.aborted === true && !leftSuccess;
    // An HTTP answer carrying the deployment id proves it serves; a status-only verification has nothing but the status.
    const sawStatus = railwayStatus !== undefined;
    const healthy = checkPassed && !leftSuccess && !cancelled && (rule === 'http' || sawStatus);
    const window = formatDuration(spec.windowMs);
    let reason: string;
    if (leftSuccess) {
      reason =
        spec.windowMs > 0
          ? `Railway reported ${leftSuccess} during the ${window} verification window`
          : `Railway reported ${leftSuccess} when its status was read (verify-window 0)`;
    } else if (cancelled) {
      reason = 'verification cancelled';
    } else if (health && !health.healthy) {
      reason = health.lastReason;
    } else if (!sawStatus && rule === 'railway-status') {
      reason = `could not read the deployment's status from Railway${readError ? ` (${readError})` : ''}: not verified`;
    } else {
      const soak =
        spec.windowMs > 0
          ? `Railway reported ${railwayStatus ?? 'SUCCESS'} with no instance crashed or restarting for the whole ${window} window`
          : `Railway reported ${railwayStatus ?? 'SUCCESS'} with no instance crashed or restarting (read once: verify-window 0)`;
      reason = health ? `healthy (${health.attempts} attempt(s)); ${soak}` : soak;
    }
    if (isHttpSpec(spec) && spec.expectNote) reason = `${reason} (${spec.expectNote})`;
    const record: VerificationRecord = {
      rule,
      startedAt,
      finishedAt: Date.now(),
      healthy,
      reason,
      attempts: health?.attempts ?? 0,
      windowMs: spec.windowMs,
    };
    if (isHttpSpec(spec)) record.url = spec.url;
    if (isHttpSpec(spec) && spec.expectVersion) record.expectVersion = spec.expectVersion;
    if (isHttpSpec(spec) && spec.expectNote) record.expectNote = spec.expectNote;
    if (health?.timeToHealthyMs !== undefined) record.timeToHealthyMs = health.timeToHealthyMs;
    if (health?.p95LatencyMs !== undefined) record.p95LatencyMs = health.p95LatencyMs;
    if (health?.lastStatus !== undefined) record.lastStatus = health.lastStatus;
    if (leftSuccess) record.statusDuringWindow = leftSuccess;
    if (railwayStatus !== undefined) record.railwayStatus = railwayStatus;
    if (cancelled) record.cancelled = true;
    return record;
  } finally {
    clearTimeout(windowTimer);
    stopWatching();
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}

function ruleText(spec: VerifySpec): string {
  return isHttpSpec(spec) ? `HTTP ${spec.url}` : `Railway status${spec.why ? ` (${spec.why})` : ''}`;
}

/**
 * Verifies every live service of the release by its own rule (in parallel). A service without a spec is not
 * verified: `unverifiedReason` says why (the caller's reason, e.g. verify: false).
 */
export async function verifyRelease(
  client: RailwayClient,
  release: Release,
  specFor: (svc: ServiceRelease) => VerifySpec | undefined,
  opts: { signal?: AbortSignal; log: Logger; unverifiedReason?: string },
): Promise<void> {
  await Promise.all(
    release.services.map(async (svc) => {
      if (svc.outcome !== 'success' || !svc.deploymentId) return;
      const spec = specFor(svc);
      if (!spec) {
        svc.unverifiedReason =
          opts.unverifiedReason ?? "no health URL and no verification rule: only Railway's SUCCESS vouches for it";
        opts.log(`${svc.service.name}: not verified — ${svc.unverifiedReason}`);
        return;
      }
      opts.log(`${svc.service.name}: verifying ${svc.deploymentId} by ${ruleText(spec)}`);
      event(release, svc.service.name, 'verify', isHttpSpec(spec) ? 'verify started' : 'verify by status started');
      svc.verification = await verifyDeployment(client, svc.deploymentId, spec, {
        signal: opts.signal,
        log: (m) => opts.log(`${svc.service.name}: ${m}`),
      });
      const v = svc.verification;
      if (v.statusDuringWindow === 'REMOVED' || v.statusDuringWindow === 'REMOVING') {
        // Someone deployed on top of us while verifying: not ours to judge or roll back.
        const list = await listDeployments(client, svc.scope, { maxPages: 1, pageSize: 10 }).catch(() => []);
        const newest = list[0];
        if (newest && newest.id !== svc.deploymentId) {
          svc.outcome = 'superseded';
          svc.supersededBy = newest.id;
          svc.status = v.statusDuringWindow;
          svc.message = `deployment ${svc.deploymentId} was superseded by ${newest.id} during verification; that newer release is left alone — no rollback`;
          event(release, svc.service.name, 'info', 'superseded');
          return;
        }
      }
      event(
        release,
        svc.service.name,
        v.healthy ? 'healthy' : 'unhealthy',
        v.healthy ? (v.rule === 'http' ? 'healthy' : 'status held') : 'verification failed',
        v.finishedAt,
      );
      if (!v.healthy && v.statusDuringWindow) svc.status = v.statusDuringWindow;
    }),
  );
}

/**
 * True when the release as a whole went live and verified (a superseded service fails it too). A service SKIPPED
 * because watch paths matched no changed file counts as done: there was nothing to deploy, and what ran before
 * still runs (the CLI treats it as success in CI, railwayapp/cli src/commands/up.rs, PR #584).
 */
export function releaseSucceeded(release: Release): boolean {
  return release.services.every(
    (s) => unchangedBySkip(s) || (s.outcome === 'success' && (s.verification === undefined || s.verification.healthy)),
  );
}

/** Services whose NEW deployment may be serving (live, or left SUCCESS during the window) — the ones to roll back. */
export function servicesToRollBack(release: Release): ServiceRelease[] {
  return release.services.filter(
    (s) => s.deploymentId && s.outcome === 'success' && s.history.some((h) => SUCCESS_STATUSES.has(h.status)),
  );
}

export interface RollbackReleaseOptions {
  deadline: number;
  signal?: AbortSignal;
  log: Logger;
  /** Verification of the restored version by the service's own rule; expectVersion is the rollback deployment's id. */
  specFor?: (svc: ServiceRelease, rollbackDeploymentId: string) => VerifySpec | undefined;
  onRollbackStarted?: (svc: ServiceRelease, deploymentId: string) => void;
  useSubscription?: boolean;
}

/**
 * Services that crashed/failed without ever showing SUCCESS replaced nothing if the previous deployment is still
 * live; if it is gone (the new one took over, then died) they need a rollback too. Asks Railway.
 */
async function replacedPrevious(client: RailwayClient, svc: ServiceRelease): Promise<boolean> {
  if (!svc.deploymentId || !svc.previousDeploymentId) return false;
  if (svc.outcome !== 'crashed' && svc.outcome !== 'failed') return false;
  const list = await listDeployments(client, svc.scope, { maxPages: 1, pageSize: 20 }).catch(() => undefined);
  const previous = list?.find((d) => d.id === svc.previousDeploymentId);
  return previous !== undefined && !SUCCESS_STATUSES.has(previous.status);
}

/**
 * Rolls one service back to `targetId` (deploymentRollback, or deploymentRedeploy when the image is gone), waits
 * for the new deployment, and verifies it by the service's own rule (`specFor`). Sets and returns `svc.rollback`.
 * Throws what rollbackTo throws before anything was sent (e.g. InputError for a target of another service).
 */
export async function rollbackService(
  client: RailwayClient,
  release: Release,
  svc: ServiceRelease,
  targetId: string,
  opts: RollbackReleaseOptions,
): Promise<RollbackRecord> {
  const name = svc.service.name;
  const startedAt = Date.now();
  event(release, name, 'rollback', `rollback to ${targetId.slice(0, 8)}`);
  opts.log(`${name}: rolling back to ${targetId}`);
  const r = await rollbackTo(client, svc.scope, targetId, {
    deadline: opts.deadline,
    signal: opts.signal,
    useSubscription: opts.useSubscription,
    log: (m) => opts.log(`${name}: ${m}`),
    onStarted: ({ deploymentId }) => opts.onRollbackStarted?.(svc, deploymentId),
    previousImage: svc.instance?.source?.image ?? undefined,
  });
  const rb: RollbackRecord = {
    targetId,
    method: r.method,
    ok: r.ok,
    status: r.wait?.status ?? '',
    message: r.message,
    startedAt,
    finishedAt: r.finishedAt,
  };
  if (r.deploymentId) rb.deploymentId = r.deploymentId;
  if (r.requestedAt) rb.requestedAt = r.requestedAt;
  if (r.fallbackReason) rb.fallbackReason = r.fallbackReason;
  if (r.warning) rb.warning = r.warning;
  // Railway goes on with a rollback deployment that was already created: the job only stopped watching it.
  if (r.wait?.outcome === 'cancelled' && r.deploymentId) rb.interrupted = true;
  svc.rollback = rb;
  event(release, name, rb.ok ? 'done' : 'fail', rb.ok ? `rolled back (${rb.method})` : 'rollback failed');
  if (rb.ok && rb.deploymentId) {
    if (!svc.url) {
      // The restored deployment's domain decides between the HTTP rule and Railway's status for it.
      const d = await getDeployment(client, rb.deploymentId).catch(() => undefined);
      const url = deploymentUrl(d);
      if (url) svc.url = url;
    }
    const spec = opts.specFor?.(svc, rb.deploymentId);
    if (spec) {
      opts.log(`${name}: verifying the restored deployment ${rb.deploymentId} by ${ruleText(spec)}`);
      event(release, name, 'verify', 'verify restored');
      rb.verification = await verifyDeployment(client, rb.deploymentId, spec, {
        signal: opts.signal,
        log: (m) => opts.log(`${name}: ${m}`),
        useSubscription: opts.useSubscription,
      });
      event(
        release,
        name,
        rb.verification.healthy ? 'healthy' : 'unhealthy',
        rb.verification.healthy ? 'restored version healthy' : 'restored version unhealthy',
        rb.verification.finishedAt,
      );
    }
  }
  return rb;
}

/**
 * Rolls back every service whose new deployment went live, to the target recorded before deploying, and verifies
 * each restored service by its own rule (HTTP for a service with a URL, Railway's status for a worker).
 */
export async function rollbackRelease(
  client: RailwayClient,
  release: Release,
  opts: RollbackReleaseOptions,
): Promise<void> {
  const live = servicesToRollBack(release);
  const others = release.services.filter((s) => !live.includes(s));
  const replaced = await Promise.all(others.map((s) => replacedPrevious(client, s)));
  const targets = [...live, ...others.filter((_, i) => replaced[i])];
  for (const svc of others) {
    if (!targets.includes(svc) && svc.outcome !== 'superseded' && svc.previousDeploymentId) {
      opts.log(
        `${svc.service.name}: nothing to roll back — the previous deployment ${svc.previousDeploymentId} still serves`,
      );
    }
  }
  await Promise.all(
    targets.map(async (svc) => {
      const startedAt = Date.now();
      const targetId = svc.rollbackTargetId;
      if (!targetId) {
        svc.rollback = {
          targetId: '',
          ok: false,
          status: '',
          message: 'no earlier deployment can be rolled back to (first deploy, or nothing retained)',
          startedAt,
          finishedAt: Date.now(),
        };
        event(release, svc.service.name, 'fail', 'no rollback target');
        return;
      }
      try {
        await rollbackService(client, release, svc, targetId, opts);
      } catch (err) {
        const deploymentId = svc.rollback?.deploymentId;
        svc.rollback = {
          targetId,
          ok: false,
          status: '',
          message: `rollback failed: ${client.scrub(errorMessage(err))}`,
          startedAt,
          finishedAt: Date.now(),
        };
        if (deploymentId) svc.rollback.deploymentId = deploymentId;
        // Never sent again: whether the first request landed is unknown (effects.ts).
        if (err instanceof RailwayUnconfirmedError) svc.rollback.unconfirmed = true;
        event(
          release,
          svc.service.name,
          'fail',
          err instanceof RailwayUnconfirmedError ? 'rollback unconfirmed' : 'rollback failed',
        );
      }
    }),
  );
}

/**
 * Each service's verdict, one word (documented in action.yml's `deployments` output):
 * verified / verified-by-status (the new deployment serves and passed its rule), unverified (live on Railway's
 * SUCCESS alone), unhealthy / crashed (failed verification, not rolled back), failed (never went live), not-started,
 * superseded, cancelled, rolled-back / rollback-failed (the release was rolled back; the restored deployment passed
 * its rule, or did not), skipped (rollback action: nothing to do), unchanged (Railway SKIPPED the deployment: watch
 * paths matched no changed file, so what ran before still runs), refused (autodeploy: refuse — Railway deploys the
 * service by itself), unconfirmed (the deploy request's answer was lost and Railway could not be read).
 */
export type Verdict =
  | 'verified'
  | 'verified-by-status'
  | 'unverified'
  | 'unhealthy'
  | 'crashed'
  | 'failed'
  | 'not-started'
  | 'superseded'
  | 'cancelled'
  | 'rolled-back'
  | 'rollback-failed'
  | 'skipped'
  | 'unchanged'
  | 'refused'
  | 'unconfirmed';

export interface ServiceVerdict {
  verdict: Verdict;
  reason: string;
}

const ruleName = (rule: VerifyRule): string => (rule === 'http' ? 'HTTP' : 'Railway status');

/** The verdict on the new deployment alone (before any rollback). */
function newDeploymentVerdict(svc: ServiceRelease): ServiceVerdict {
  switch (svc.outcome) {
    case 'success': {
      const v = svc.verification;
      if (!v)
        return {
          verdict: 'unverified',
          reason: `Railway reports ${svc.status || 'SUCCESS'}; not verified: ${svc.unverifiedReason ?? 'no verification ran'}`,
        };
      if (v.healthy)
        return {
          verdict: v.rule === 'http' ? 'verified' : 'verified-by-status',
          reason: `${ruleName(v.rule)}: ${v.reason}`,
        };
      if (v.cancelled) return { verdict: 'cancelled', reason: v.reason };
      return { verdict: crashedDuring(v) ? 'crashed' : 'unhealthy', reason: `${ruleName(v.rule)}: ${v.reason}` };
    }
    case 'crashed':
      return { verdict: 'crashed', reason: svc.message };
    case 'skipped':
      return unchangedBySkip(svc)
        ? {
            verdict: 'unchanged',
            reason: `${svc.message}${svc.previousDeploymentId ? ` (still ${svc.previousDeploymentId})` : ''}`,
          }
        : { verdict: 'failed', reason: svc.message };
    case 'refused':
    case 'unconfirmed':
      return { verdict: svc.outcome, reason: svc.message };
    case 'superseded':
    case 'cancelled':
    case 'not-started':
      return { verdict: svc.outcome, reason: svc.message };
    case 'error':
      return { verdict: svc.deploymentId ? 'failed' : 'not-started', reason: svc.message };
    default:
      return { verdict: 'failed', reason: svc.message };
  }
}

/** The service's final verdict and why: what happened to its new deployment, and to the restored one. */
export function serviceVerdict(svc: ServiceRelease): ServiceVerdict {
  if (svc.skipped !== undefined) return { verdict: 'skipped', reason: svc.skipped };
  const rb = svc.rollback;
  if (!rb) return newDeploymentVerdict(svc);
  let why = '';
  if (svc.deploymentId) {
    const own = newDeploymentVerdict(svc);
    why =
      own.verdict === 'verified' || own.verdict === 'verified-by-status' || own.verdict === 'unverified'
        ? `new deployment ${svc.deploymentId} was ${own.verdict}, rolled back with the release; `
        : `new deployment ${svc.deploymentId} ${own.verdict} (${own.reason}); `;
  }
  if (!rb.ok)
    return {
      verdict: 'rollback-failed',
      reason: `${why}${rb.interrupted ? `the job was cancelled while rollback deployment ${rb.deploymentId ?? '?'} was ${rb.status || 'on its way'}` : rb.message}`,
    };
  const restored = `restored ${rb.targetId} as ${rb.deploymentId ?? '?'} (${rb.method ?? 'rollback'})`;
  const v = rb.verification;
  if (!v)
    return {
      verdict: 'rolled-back',
      reason: `${why}${restored}; Railway reports ${rb.status || 'SUCCESS'}, not verified`,
    };
  if (!v.healthy)
    return {
      verdict: 'rollback-failed',
      reason: `${why}${restored}, but it failed ${ruleName(v.rule)} verification: ${v.reason}`,
    };
  return { verdict: 'rolled-back', reason: `${why}${restored}, verified by ${ruleName(v.rule)}: ${v.reason}` };
}

/** The `deployments` output: one entry per service, stable field names. */
export function releaseJson(release: Release): Array<Record<string, unknown>> {
  return release.services.map((s) => {
    const { verdict, reason } = serviceVerdict(s);
    return {
      service: s.service.name,
      serviceId: s.service.id,
      environmentId: s.scope.environmentId,
      projectId: s.scope.projectId,
      verdict,
      reason,
      productionDeploymentId: productionDeploymentOf(s) ?? null,
      deploymentId: s.deploymentId ?? null,
      previousDeploymentId: s.previousDeploymentId ?? null,
      rollbackTargetId: s.rollbackTargetId ?? null,
      status: s.status || null,
      outcome: s.outcome,
      url: s.url ?? null,
      supersededBy: s.supersededBy ?? null,
      verifiedBy: s.verification?.rule ?? null,
      healthy: s.verification ? s.verification.healthy : null,
      rolledBackTo: s.rollback?.ok ? s.rollback.targetId : null,
      rollbackDeploymentId: s.rollback?.deploymentId ?? null,
      rollbackVerifiedBy: s.rollback?.verification?.rule ?? null,
      rollbackHealthy: s.rollback?.verification ? s.rollback.verification.healthy : null,
      durationMs: s.triggeredAt && s.finishedAt ? s.finishedAt - s.triggeredAt : null,
      verifiedAt: s.verification ? new Date(s.verification.finishedAt).toISOString() : null,
      rollbackRequestedAt: s.rollback?.requestedAt ? new Date(s.rollback.requestedAt).toISOString() : null,
      startedBy: s.start?.by ?? (s.deploymentId ? 'this-release' : null),
      autodeploy: s.start?.autodeploy ? s.start.autodeploy.enabled : null,
      skipReason: s.skipReason ?? null,
      cancelled: s.cancel ? s.cancel.cancelled : null,
      productionStatus: s.production ? (s.production.error ? 'unknown' : (s.production.status ?? null)) : null,
      productionPending: s.production ? s.production.pending.map((d) => d.id) : [],
      needsHuman: needsHumanReason(s, release) ?? null,
    };
  });
}

/**
 * What production runs for a service after this release (for outputs): what Railway reported when it was read at
 * the end (confirmProduction), else what the run itself proved.
 */
export function productionDeploymentOf(svc: ServiceRelease): string | undefined {
  // Unreadable at the end and not proven by the run: unknown, so nothing is claimed (needs-human says so).
  if (svc.production) return svc.production.error ? undefined : svc.production.deploymentId;
  if (svc.rollback?.ok && svc.rollback.deploymentId) return svc.rollback.deploymentId;
  if (svc.outcome === 'superseded') return svc.supersededBy;
  if (svc.outcome === 'success' && svc.deploymentId) return svc.deploymentId;
  return svc.previousDeploymentId;
}
