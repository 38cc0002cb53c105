// A release: several services deployed in parallel as one unit, verified (the NEW version must answer),
// and rolled back together when any part fails. Plain data + functions; actions and the CLI render it.
import { formatDuration } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import { AbortedError } from '../core/retry.js';
import { checkHealth, type HealthCheckOptions } from '../health/index.js';
import type { RailwayClient } from '../railway/client.js';
import { checkSourceFits, sourceForService, triggerDeployment, type DeploySource } from '../railway/deploy.js';
import {
  SUCCESS_STATUSES,
  getDeployment,
  getServiceInstance,
  listDeployments,
  pickActive,
  pickRollbackTarget,
  serviceUrlOf,
  type ServiceInstanceState,
  type ServiceScope,
} from '../railway/deployments.js';
import { collectFailureDiagnostics, type FailureDiagnostics } from '../railway/diagnostics.js';
import type { NamedId, RailwayTarget } from '../railway/resolve.js';
import { rollbackTo, type RollbackMethod } from '../railway/rollback.js';
import { waitForDeployment, watchDeployment, type StatusChange, type WaitOutcome } from '../railway/waiter.js';

export type DeployOutcome = WaitOutcome | 'not-started' | 'error';

export interface VerificationRecord {
  url: string;
  expectVersion?: string;
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
  verification?: VerificationRecord;
}

export interface ServiceRelease {
  service: NamedId;
  scope: ServiceScope;
  /** What served before this release (newest SUCCESS/SLEEPING deployment). */
  previousDeploymentId?: string;
  /** Newest deployment with canRollback before this release: what a rollback restores. */
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
  rollback?: RollbackRecord;
  /** The instance state read before deploying (source kind, domains). */
  instance?: ServiceInstanceState;
}

export type TimelineKind = 'start' | 'status' | 'done' | 'fail' | 'verify' | 'healthy' | 'unhealthy' | 'rollback' | 'info';

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
 * filter) and what serves now. Checks the source fits every service. Sends NO mutation.
 */
export async function prepareRelease(client: RailwayClient, target: RailwayTarget, source: DeploySource): Promise<Release> {
  const release: Release = { project: target.project, environment: target.environment, source: source.kind, startedAt: Date.now(), services: [], events: [] };
  release.services = await Promise.all(
    target.services.map(async (service): Promise<ServiceRelease> => {
      const scope = { projectId: target.project.id, environmentId: target.environment.id, serviceId: service.id };
      const [instance, deployments] = await Promise.all([getServiceInstance(client, scope), listDeployments(client, scope)]);
      checkSourceFits(service.name, instance, sourceForService(source, service));
      const previous = pickActive(deployments);
      const rollbackTarget = pickRollbackTarget(deployments);
      const svc: ServiceRelease = { service, scope, status: '', outcome: 'not-started', message: 'not started', history: [], instance };
      if (previous) svc.previousDeploymentId = previous.id;
      if (rollbackTarget) svc.rollbackTargetId = rollbackTarget.id;
      const url = serviceUrlOf(instance);
      if (url) svc.url = url;
      return svc;
    }),
  );
  return release;
}

export interface DeployReleaseOptions {
  deadline: number;
  signal?: AbortSignal;
  log: Logger;
  waitingTimeoutMs?: number;
  useSubscription?: boolean;
  /** Called as soon as a service's deployment id is known (post-step state). */
  onTriggered?: (svc: ServiceRelease) => void;
  pollInitialMs?: number;
  pollMaxMs?: number;
}

/** Starts every service's deployment in parallel and waits for each to reach a terminal state. */
export async function deployRelease(client: RailwayClient, release: Release, source: DeploySource, opts: DeployReleaseOptions): Promise<void> {
  await Promise.all(
    release.services.map(async (svc) => {
      const name = svc.service.name;
      event(release, name, 'start', 'deploy requested');
      try {
        const instance = svc.instance ?? (await getServiceInstance(client, svc.scope));
        const started = await triggerDeployment(client, svc.scope, instance, sourceForService(source, svc.service));
        svc.deploymentId = started.deploymentId;
        svc.triggeredAt = Date.now();
        if (started.url) svc.url = started.url;
        opts.onTriggered?.(svc);
        opts.log(`${name}: deployment ${started.deploymentId} started (${source.kind})`);
      } catch (err) {
        if (err instanceof AbortedError || opts.signal?.aborted) {
          svc.outcome = 'cancelled';
          svc.message = 'cancelled before the deployment started';
        } else {
          svc.outcome = 'error';
          svc.message = `could not start the deployment: ${client.scrub(errorMessage(err))}`;
        }
        svc.finishedAt = Date.now();
        event(release, name, 'fail', svc.outcome === 'cancelled' ? 'cancelled' : 'deploy not started');
        return;
      }
      const deploymentId = svc.deploymentId;
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
          if (change.status === 'BUILDING' || change.status === 'DEPLOYING' || change.status === 'WAITING' || change.status === 'NEEDS_APPROVAL') {
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
      if (wait.ok) {
        event(release, name, 'done', wait.status === 'SLEEPING' ? 'live (sleeping)' : 'live (SUCCESS)');
        try {
          const d = await getDeployment(client, deploymentId);
          const url = d.staticUrl ? (/^https?:/.test(d.staticUrl) ? d.staticUrl : `https://${d.staticUrl}`) : d.url;
          if (url) svc.url = url;
        } catch {
          // the URL is informative; the deploy itself succeeded
        }
      } else {
        event(release, name, 'fail', wait.outcome === 'superseded' ? 'superseded' : (wait.status || wait.outcome).toLowerCase());
        if (wait.outcome !== 'cancelled' && wait.outcome !== 'superseded') {
          svc.diagnostics = await collectFailureDiagnostics(client, deploymentId);
        }
      }
    }),
  );
}

export interface VerifySpec {
  url: string;
  /** Everything checkHealth needs except url/version/signal. */
  health: Omit<HealthCheckOptions, 'url' | 'expectVersion' | 'signal' | 'onAttempt'>;
  /** Literal text the body must contain (e.g. the new deployment id), or undefined. */
  expectVersion?: string;
  /** Railway's status must stay SUCCESS at least this long after verification starts (CRASHED after SUCCESS). */
  windowMs: number;
}

/**
 * Health-checks one live deployment while watching its Railway status: unhealthy, or leaving SUCCESS inside the
 * window, fails verification. Superseded during the window is reported, not treated as our failure.
 */
export async function verifyDeployment(
  client: RailwayClient,
  deploymentId: string,
  spec: VerifySpec,
  opts: { signal?: AbortSignal; log: Logger; onAttempt?: HealthCheckOptions['onAttempt'] },
): Promise<VerificationRecord> {
  const startedAt = Date.now();
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let leftSuccess: string | undefined;
  let windowDone: () => void = () => undefined;
  const windowOver = new Promise<void>((resolve) => {
    windowDone = resolve;
  });
  const windowTimer = setTimeout(() => windowDone(), spec.windowMs);
  const stopWatching = watchDeployment(
    client,
    deploymentId,
    (status, instances) => {
      // A crash loop can still read SUCCESS while an instance is CRASHED/RESTARTING (reference §4).
      const badInstance = instances.find((i) => i === 'CRASHED' || i === 'RESTARTING');
      if ((!SUCCESS_STATUSES.has(status) || badInstance) && !leftSuccess) {
        leftSuccess = SUCCESS_STATUSES.has(status) ? `${status} with an instance ${badInstance ?? ''}` : status;
        opts.log(`deployment ${deploymentId} went ${leftSuccess} during verification`);
        controller.abort();
        windowDone();
      }
    },
    { signal: controller.signal, log: opts.log },
  );
  try {
    const onAttempt =
      opts.onAttempt ??
      ((a: { n: number; ok: boolean; status?: number; latencyMs: number; reason: string }) =>
        opts.log(`health #${a.n} ${a.ok ? 'ok' : 'not ok'} ${a.status ?? '—'} ${Math.round(a.latencyMs)}ms ${a.reason}`));
    const health = await checkHealth({ ...spec.health, url: spec.url, expectVersion: spec.expectVersion, signal: controller.signal, onAttempt });
    if (health.healthy && !leftSuccess && !opts.signal?.aborted) {
      await Promise.race([windowOver, new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }))]);
    }
    const healthy = health.healthy && !leftSuccess && !opts.signal?.aborted;
    const reason = leftSuccess
      ? `Railway reported ${leftSuccess} during the ${formatDuration(spec.windowMs)} verification window`
      : opts.signal?.aborted
        ? 'verification cancelled'
        : health.healthy
          ? `healthy (${health.attempts} attempt(s))`
          : health.lastReason;
    const record: VerificationRecord = { url: spec.url, startedAt, finishedAt: Date.now(), healthy, reason, attempts: health.attempts };
    if (spec.expectVersion) record.expectVersion = spec.expectVersion;
    if (health.timeToHealthyMs !== undefined) record.timeToHealthyMs = health.timeToHealthyMs;
    if (health.p95LatencyMs !== undefined) record.p95LatencyMs = health.p95LatencyMs;
    if (health.lastStatus !== undefined) record.lastStatus = health.lastStatus;
    if (leftSuccess) record.statusDuringWindow = leftSuccess;
    return record;
  } finally {
    clearTimeout(windowTimer);
    stopWatching();
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/** Verifies every live service of the release that has a spec (in parallel). */
export async function verifyRelease(
  client: RailwayClient,
  release: Release,
  specFor: (svc: ServiceRelease) => VerifySpec | undefined,
  opts: { signal?: AbortSignal; log: Logger },
): Promise<void> {
  await Promise.all(
    release.services.map(async (svc) => {
      if (svc.outcome !== 'success' || !svc.deploymentId) return;
      const spec = specFor(svc);
      if (!spec) {
        opts.log(`${svc.service.name}: no health URL — not verified beyond Railway's status`);
        return;
      }
      event(release, svc.service.name, 'verify', 'verify started');
      svc.verification = await verifyDeployment(client, svc.deploymentId, spec, { signal: opts.signal, log: (m) => opts.log(`${svc.service.name}: ${m}`) });
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
      event(release, svc.service.name, v.healthy ? 'healthy' : 'unhealthy', v.healthy ? 'healthy' : 'verification failed', v.finishedAt);
      if (!v.healthy && v.statusDuringWindow) svc.status = v.statusDuringWindow;
    }),
  );
}

/** True when the release as a whole went live and verified (a superseded service fails it too). */
export function releaseSucceeded(release: Release): boolean {
  return release.services.every((s) => s.outcome === 'success' && (s.verification === undefined || s.verification.healthy));
}

/** Services whose NEW deployment may be serving (live, or left SUCCESS during the window) — the ones to roll back. */
export function servicesToRollBack(release: Release): ServiceRelease[] {
  return release.services.filter((s) => s.deploymentId && s.outcome === 'success' && s.history.some((h) => SUCCESS_STATUSES.has(h.status)));
}

export interface RollbackReleaseOptions {
  deadline: number;
  signal?: AbortSignal;
  log: Logger;
  /** Verification of the restored version; expectVersion defaults to the rollback deployment's id. */
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

/** Rolls back every service whose new deployment went live, to the target recorded before deploying. */
export async function rollbackRelease(client: RailwayClient, release: Release, opts: RollbackReleaseOptions): Promise<void> {
  const live = servicesToRollBack(release);
  const others = release.services.filter((s) => !live.includes(s));
  const replaced = await Promise.all(others.map((s) => replacedPrevious(client, s)));
  const targets = [...live, ...others.filter((_, i) => replaced[i])];
  for (const svc of others) {
    if (!targets.includes(svc) && svc.outcome !== 'superseded' && svc.previousDeploymentId) {
      opts.log(`${svc.service.name}: nothing to roll back — the previous deployment ${svc.previousDeploymentId} still serves`);
    }
  }
  await Promise.all(
    targets.map(async (svc) => {
      const name = svc.service.name;
      const startedAt = Date.now();
      const targetId = svc.rollbackTargetId;
      if (!targetId) {
        svc.rollback = { targetId: '', ok: false, status: '', message: 'no earlier deployment can be rolled back to (first deploy, or nothing retained)', startedAt, finishedAt: Date.now() };
        event(release, name, 'fail', 'no rollback target');
        return;
      }
      event(release, name, 'rollback', `rollback to ${targetId.slice(0, 8)}`);
      opts.log(`${name}: rolling back to ${targetId}`);
      try {
        const r = await rollbackTo(client, svc.scope, targetId, {
          deadline: opts.deadline,
          signal: opts.signal,
          useSubscription: opts.useSubscription,
          log: (m) => opts.log(`${name}: ${m}`),
          onStarted: ({ deploymentId }) => opts.onRollbackStarted?.(svc, deploymentId),
        });
        svc.rollback = { targetId, method: r.method, ok: r.ok, status: r.wait?.status ?? '', message: r.message, startedAt, finishedAt: r.finishedAt };
        if (r.deploymentId) svc.rollback.deploymentId = r.deploymentId;
        if (r.requestedAt) svc.rollback.requestedAt = r.requestedAt;
      } catch (err) {
        svc.rollback = { targetId, ok: false, status: '', message: `rollback failed: ${client.scrub(errorMessage(err))}`, startedAt, finishedAt: Date.now() };
      }
      const rb = svc.rollback;
      event(release, name, rb.ok ? 'done' : 'fail', rb.ok ? `rolled back (${rb.method})` : 'rollback failed');
      if (rb.ok && rb.deploymentId) {
        const spec = opts.specFor?.(svc, rb.deploymentId);
        if (spec) {
          event(release, name, 'verify', 'verify restored');
          rb.verification = await verifyDeployment(client, rb.deploymentId, spec, { signal: opts.signal, log: (m) => opts.log(`${name}: ${m}`) });
          event(release, name, rb.verification.healthy ? 'healthy' : 'unhealthy', rb.verification.healthy ? 'restored version healthy' : 'restored version unhealthy', rb.verification.finishedAt);
        }
      }
    }),
  );
}

/** The `deployments` output: one entry per service, stable field names. */
export function releaseJson(release: Release): Array<Record<string, unknown>> {
  return release.services.map((s) => ({
    service: s.service.name,
    serviceId: s.service.id,
    environmentId: s.scope.environmentId,
    projectId: s.scope.projectId,
    deploymentId: s.deploymentId ?? null,
    previousDeploymentId: s.previousDeploymentId ?? null,
    rollbackTargetId: s.rollbackTargetId ?? null,
    status: s.status || null,
    outcome: s.outcome,
    url: s.url ?? null,
    supersededBy: s.supersededBy ?? null,
    healthy: s.verification ? s.verification.healthy : null,
    rolledBackTo: s.rollback?.ok ? s.rollback.targetId : null,
    rollbackDeploymentId: s.rollback?.deploymentId ?? null,
    durationMs: s.triggeredAt && s.finishedAt ? s.finishedAt - s.triggeredAt : null,
    verifiedAt: s.verification ? new Date(s.verification.finishedAt).toISOString() : null,
    rollbackRequestedAt: s.rollback?.requestedAt ? new Date(s.rollback.requestedAt).toISOString() : null,
  }));
}

/** What production runs now for a service after this release (for outputs). */
export function productionDeploymentOf(svc: ServiceRelease): string | undefined {
  if (svc.rollback?.ok && svc.rollback.deploymentId) return svc.rollback.deploymentId;
  if (svc.outcome === 'superseded') return svc.supersededBy;
  if (svc.outcome === 'success') return svc.deploymentId;
  return svc.previousDeploymentId;
}
