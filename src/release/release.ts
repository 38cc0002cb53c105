// A release: several services deployed in parallel as one unit, verified (the NEW version must answer),
// and rolled back together when any part fails. Plain data + functions; actions and the CLI render it.
import { formatDuration } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import { AbortedError } from '../core/retry.js';
import { checkHealth, type HealthCheckOptions, type HealthResult } from '../health/index.js';
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

/** How a deployment was verified: its HTTP health endpoint, or Railway's own status (no HTTP, e.g. a worker). */
export type VerifyRule = 'http' | 'railway-status';

export interface VerificationRecord {
  rule: VerifyRule;
  /** The health URL (rule http). */
  url?: string;
  expectVersion?: string;
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
  /** Why a live new deployment was not verified (verify: false, or the release failed before verification). */
  unverifiedReason?: string;
  rollback?: RollbackRecord;
  /** Set by the rollback action when nothing was done for this service, with the reason. */
  skipped?: string;
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

/** An HTTP health check of the deployment, while Railway's status is watched for the window. */
export interface HttpVerifySpec {
  rule?: 'http';
  url: string;
  /** Everything checkHealth needs except url/version/signal. */
  health: Omit<HealthCheckOptions, 'url' | 'expectVersion' | 'signal' | 'onAttempt'>;
  /** Literal text the body must contain (e.g. the new deployment id), or undefined. */
  expectVersion?: string;
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
 * DeploymentInstanceStatus enum in railwayapp/cli src/gql/schema.json; reference §2.3, §6.8).
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
  const stopWatching = watchDeployment(client, deploymentId, onStatus, { signal: controller.signal, log: opts.log, useSubscription: opts.useSubscription });
  try {
    let health: HealthResult | undefined;
    if (isHttpSpec(spec)) {
      const onAttempt =
        opts.onAttempt ??
        ((a: { n: number; ok: boolean; status?: number; latencyMs: number; reason: string }) =>
          opts.log(`health #${a.n} ${a.ok ? 'ok' : 'not ok'} ${a.status ?? '—'} ${Math.round(a.latencyMs)}ms ${a.reason}`));
      health = await checkHealth({ ...spec.health, url: spec.url, expectVersion: spec.expectVersion, signal: controller.signal, onAttempt });
    }
    const checkPassed = health ? health.healthy : true;
    if (checkPassed && !controller.signal.aborted) await windowOver;
    let readError: string | undefined;
    if (checkPassed && !leftSuccess && !opts.signal?.aborted) {
      try {
        const d = await getDeployment(client, deploymentId);
        onStatus(d.status, d.instances.map((i) => i.status));
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
      reason = spec.windowMs > 0 ? `Railway reported ${leftSuccess} during the ${window} verification window` : `Railway reported ${leftSuccess} when its status was read (verify-window 0)`;
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
    const record: VerificationRecord = { rule, startedAt, finishedAt: Date.now(), healthy, reason, attempts: health?.attempts ?? 0, windowMs: spec.windowMs };
    if (isHttpSpec(spec)) record.url = spec.url;
    if (isHttpSpec(spec) && spec.expectVersion) record.expectVersion = spec.expectVersion;
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
        svc.unverifiedReason = opts.unverifiedReason ?? "no health URL and no verification rule: only Railway's SUCCESS vouches for it";
        opts.log(`${svc.service.name}: not verified — ${svc.unverifiedReason}`);
        return;
      }
      opts.log(`${svc.service.name}: verifying ${svc.deploymentId} by ${ruleText(spec)}`);
      event(release, svc.service.name, 'verify', isHttpSpec(spec) ? 'verify started' : 'verify by status started');
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
      event(release, svc.service.name, v.healthy ? 'healthy' : 'unhealthy', v.healthy ? (v.rule === 'http' ? 'healthy' : 'status held') : 'verification failed', v.finishedAt);
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
export async function rollbackService(client: RailwayClient, release: Release, svc: ServiceRelease, targetId: string, opts: RollbackReleaseOptions): Promise<RollbackRecord> {
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
  });
  const rb: RollbackRecord = { targetId, method: r.method, ok: r.ok, status: r.wait?.status ?? '', message: r.message, startedAt, finishedAt: r.finishedAt };
  if (r.deploymentId) rb.deploymentId = r.deploymentId;
  if (r.requestedAt) rb.requestedAt = r.requestedAt;
  if (r.fallbackReason) rb.fallbackReason = r.fallbackReason;
  svc.rollback = rb;
  event(release, name, rb.ok ? 'done' : 'fail', rb.ok ? `rolled back (${rb.method})` : 'rollback failed');
  if (rb.ok && rb.deploymentId) {
    if (!svc.url) {
      // The restored deployment's domain decides between the HTTP rule and Railway's status for it.
      const d = await getDeployment(client, rb.deploymentId).catch(() => undefined);
      const url = d?.url ?? (d?.staticUrl ? `https://${d.staticUrl}` : undefined);
      if (url) svc.url = url;
    }
    const spec = opts.specFor?.(svc, rb.deploymentId);
    if (spec) {
      opts.log(`${name}: verifying the restored deployment ${rb.deploymentId} by ${ruleText(spec)}`);
      event(release, name, 'verify', 'verify restored');
      rb.verification = await verifyDeployment(client, rb.deploymentId, spec, { signal: opts.signal, log: (m) => opts.log(`${name}: ${m}`), useSubscription: opts.useSubscription });
      event(release, name, rb.verification.healthy ? 'healthy' : 'unhealthy', rb.verification.healthy ? 'restored version healthy' : 'restored version unhealthy', rb.verification.finishedAt);
    }
  }
  return rb;
}

/**
 * Rolls back every service whose new deployment went live, to the target recorded before deploying, and verifies
 * each restored service by its own rule (HTTP for a service with a URL, Railway's status for a worker).
 */
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
      const startedAt = Date.now();
      const targetId = svc.rollbackTargetId;
      if (!targetId) {
        svc.rollback = { targetId: '', ok: false, status: '', message: 'no earlier deployment can be rolled back to (first deploy, or nothing retained)', startedAt, finishedAt: Date.now() };
        event(release, svc.service.name, 'fail', 'no rollback target');
        return;
      }
      try {
        await rollbackService(client, release, svc, targetId, opts);
      } catch (err) {
        svc.rollback = { targetId, ok: false, status: '', message: `rollback failed: ${client.scrub(errorMessage(err))}`, startedAt, finishedAt: Date.now() };
        event(release, svc.service.name, 'fail', 'rollback failed');
      }
    }),
  );
}

/**
 * Each service's verdict, one word (documented in action.yml's `deployments` output):
 * verified / verified-by-status (the new deployment serves and passed its rule), unverified (live on Railway's
 * SUCCESS alone), unhealthy / crashed (failed verification, not rolled back), failed (never went live), not-started,
 * superseded, cancelled, rolled-back / rollback-failed (the release was rolled back; the restored deployment passed
 * its rule, or did not), skipped (rollback action: nothing to do).
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
  | 'skipped';

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
      if (!v) return { verdict: 'unverified', reason: `Railway reports ${svc.status || 'SUCCESS'}; not verified: ${svc.unverifiedReason ?? 'no verification ran'}` };
      if (v.healthy) return { verdict: v.rule === 'http' ? 'verified' : 'verified-by-status', reason: `${ruleName(v.rule)}: ${v.reason}` };
      if (v.cancelled) return { verdict: 'cancelled', reason: v.reason };
      return { verdict: crashedDuring(v) ? 'crashed' : 'unhealthy', reason: `${ruleName(v.rule)}: ${v.reason}` };
    }
    case 'crashed':
      return { verdict: 'crashed', reason: svc.message };
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
  if (!rb.ok) return { verdict: 'rollback-failed', reason: `${why}${rb.message}` };
  const restored = `restored ${rb.targetId} as ${rb.deploymentId ?? '?'} (${rb.method ?? 'rollback'})`;
  const v = rb.verification;
  if (!v) return { verdict: 'rolled-back', reason: `${why}${restored}; Railway reports ${rb.status || 'SUCCESS'}, not verified` };
  if (!v.healthy) return { verdict: 'rollback-failed', reason: `${why}${restored}, but it failed ${ruleName(v.rule)} verification: ${v.reason}` };
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
    };
  });
}

/** What production runs now for a service after this release (for outputs). */
export function productionDeploymentOf(svc: ServiceRelease): string | undefined {
  if (svc.rollback?.ok && svc.rollback.deploymentId) return svc.rollback.deploymentId;
  if (svc.outcome === 'superseded') return svc.supersededBy;
  if (svc.outcome === 'success' && svc.deploymentId) return svc.deploymentId;
  return svc.previousDeploymentId;
}
