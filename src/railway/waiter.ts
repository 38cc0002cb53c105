// Waits for a deployment to reach a terminal state: subscription first (cheap on the rate limit), polling
// with an adaptive interval when the WebSocket is refused or drops. Status semantics: docs.railway.com deployments/reference.md and the DeploymentStatus enum (railwayapp/cli src/gql/schema.json).
import { InputError, errorMessage } from '../core/errors.js';
import { AbortedError, sleep } from '../core/retry.js';
import { formatDuration } from '../core/duration.js';
import type { RailwayClient } from './client.js';
import {
  IN_PROGRESS_STATUSES,
  SUCCESS_STATUSES,
  getDeployment,
  listDeployments,
  type ServiceScope,
} from './deployments.js';
import { RailwayApiError } from './errors.js';
import { BUILD_LOGS, DEPLOYMENT_STATUS_SUBSCRIPTION } from './operations.js';

export type WaitOutcome =
  | 'success'
  | 'failed'
  | 'crashed'
  | 'skipped'
  | 'removed'
  | 'superseded'
  | 'needs-approval'
  | 'waiting'
  | 'unknown-status'
  | 'timeout'
  | 'cancelled';

/**
 * What an outcome means for the service: 'live' (the deployment serves), 'unchanged' (SKIPPED: nothing was deployed
 * and what ran before still runs — not a failure), 'failed', or 'undecided' (superseded, timeout, cancelled, waiting,
 * needs approval: no verdict on this deployment).
 */
export type WaitVerdict = 'live' | 'unchanged' | 'failed' | 'undecided';

export function verdictOf(outcome: WaitOutcome): WaitVerdict {
  if (outcome === 'success') return 'live';
  if (outcome === 'skipped') return 'unchanged';
  if (outcome === 'failed' || outcome === 'crashed' || outcome === 'removed' || outcome === 'unknown-status')
    return 'failed';
  return 'undecided';
}

export interface StatusChange {
  status: string;
  at: number;
}

export interface WaitResult {
  deploymentId: string;
  outcome: WaitOutcome;
  /** True only for 'success' (the deployment went live). */
  ok: boolean;
  verdict: WaitVerdict;
  /** SKIPPED: watch paths matched no changed file ("No changed files matched patterns", which the CLI treats as
   *  success, railwayapp/cli up.rs PR #584), or a 'Wait for CI' check failed (docs deployments/github-autodeploys.md). */
  skipReason?: 'watch-paths' | 'wait-for-ci-or-unknown';
  /** Status reads that failed and were ridden out (registration race, 5xx, errors[]). */
  readErrors: number;
  /** Last status Railway reported ('' when none was seen). */
  status: string;
  message: string;
  history: StatusChange[];
  supersededBy?: string;
  transport: 'websocket' | 'polling' | 'websocket+polling';
  startedAt: number;
  finishedAt: number;
}

export interface WaitOptions {
  /** Epoch ms: report 'timeout' when reached. */
  deadline: number;
  signal?: AbortSignal;
  /** Needed to tell "superseded by a newer deployment" from "removed". */
  scope?: ServiceScope;
  /** How long WAITING or NEEDS_APPROVAL may last before it is reported as such. Default 5 min. */
  waitingTimeoutMs?: number;
  /** How long an unknown status is tolerated. Default 60 s. */
  unknownGraceMs?: number;
  pollInitialMs?: number;
  pollMaxMs?: number;
  /** With a subscription, poll once after this long without an event (silent stalls). Default 120 s. */
  heartbeatMs?: number;
  useSubscription?: boolean;
  /**
   * Pause before the first read: right after a deploy or upload Railway "may not have fully registered the
   * deployment yet" (railwayapp/cli src/commands/up.rs waits 500 ms, PR #743). Default 500.
   */
  registrationDelayMs?: number;
  log?: (msg: string) => void;
  onStatus?: (change: StatusChange) => void;
}

/** Read errors that waiting cannot cure: the token, an input, the job. Everything else is ridden out to the deadline. */
function fatalReadError(err: unknown): boolean {
  return (
    err instanceof AbortedError || err instanceof InputError || (err instanceof RailwayApiError && err.isAuthError)
  );
}

type InboxItem =
  { kind: 'status'; status: string } | { kind: 'error'; error: Error } | { kind: 'timeout' } | { kind: 'aborted' };

/** Single-consumer queue bridging subscription callbacks into the wait loop. */
class Inbox {
  private items: InboxItem[] = [];
  private waiter: ((item: InboxItem) => void) | undefined;

  push(item: InboxItem): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(item);
    } else this.items.push(item);
  }

  next(timeoutMs: number, signal?: AbortSignal): Promise<InboxItem> {
    const queued = this.items.shift();
    if (queued) return Promise.resolve(queued);
    if (signal?.aborted) return Promise.resolve({ kind: 'aborted' });
    return new Promise((resolve) => {
      const finish = (item: InboxItem) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiter = undefined;
        resolve(item);
      };
      const onAbort = () => finish({ kind: 'aborted' });
      const timer = setTimeout(() => finish({ kind: 'timeout' }), Math.max(0, timeoutMs));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = finish;
    });
  }
}

const OUTCOME_MESSAGES: Record<string, (id: string) => string> = {
  FAILED: (id) => `deployment ${id} FAILED (build, pre-deploy command or Railway's healthcheck failed)`,
  CRASHED: (id) => `deployment ${id} CRASHED (the process exited and the restart policy gave up)`,
};

export async function waitForDeployment(
  client: RailwayClient,
  deploymentId: string,
  opts: WaitOptions,
): Promise<WaitResult> {
  const startedAt = Date.now();
  const log = opts.log ?? (() => undefined);
  const waitingTimeoutMs = opts.waitingTimeoutMs ?? 5 * 60_000;
  const unknownGraceMs = opts.unknownGraceMs ?? 60_000;
  const pollInitialMs = opts.pollInitialMs ?? 1000;
  const pollMaxMs = opts.pollMaxMs ?? 10_000;
  const heartbeatMs = opts.heartbeatMs ?? 120_000;
  const history: StatusChange[] = [];
  let status = '';
  let statusSince = startedAt;
  let usedWs = false;
  let usedPoll = false;
  let warnedAbout = '';
  let readErrors = 0;
  let readErrorStreak = 0;
  let lastReadError: string | undefined;

  const inbox = new Inbox();
  let mode: 'ws' | 'poll' = (opts.useSubscription ?? client.webSocketEnabled) ? 'ws' : 'poll';
  let unsubscribe: (() => void) | undefined;
  const registrationDelayMs = Math.min(opts.registrationDelayMs ?? 500, Math.max(0, opts.deadline - Date.now()));
  if (registrationDelayMs > 0) await sleep(registrationDelayMs, opts.signal).catch(() => undefined);
  if (mode === 'ws' && !opts.signal?.aborted) {
    unsubscribe = client.subscribe<{ deployment: { id: string; status: string } }>(
      DEPLOYMENT_STATUS_SUBSCRIPTION,
      { id: deploymentId },
      {
        next: (data) => inbox.push({ kind: 'status', status: data.deployment.status }),
        error: (error) => inbox.push({ kind: 'error', error }),
        complete: () => inbox.push({ kind: 'error', error: new Error('the subscription ended') }),
      },
    );
  }

  const result = (outcome: WaitOutcome, message: string, extra: Partial<WaitResult> = {}): WaitResult => ({
    deploymentId,
    outcome,
    ok: outcome === 'success',
    verdict: verdictOf(outcome),
    readErrors,
    status,
    message,
    history,
    transport: usedWs && usedPoll ? 'websocket+polling' : usedWs ? 'websocket' : 'polling',
    startedAt,
    finishedAt: Date.now(),
    ...extra,
  });

  /**
   * One status read. A failed read (5xx, HTTP 200 + errors[], "not found" just after creation) does not end the
   * tracking: the CLI ignores read errors while polling for a verdict (railwayapp/cli up.rs, PR #743); the deadline
   * bounds it. Only errors waiting cannot cure (auth, input) end it.
   */
  const poll = async (): Promise<string | undefined> => {
    usedPoll = true;
    try {
      const d = await getDeployment(client, deploymentId);
      readErrorStreak = 0;
      return d.status;
    } catch (err) {
      if (err instanceof AbortedError || opts.signal?.aborted) return undefined;
      if (fatalReadError(err)) throw err;
      readErrors += 1;
      readErrorStreak += 1;
      lastReadError = client.scrub(errorMessage(err));
      if (readErrorStreak === 1 || readErrorStreak % 5 === 0) {
        log(`could not read deployment ${deploymentId} (${lastReadError}); still tracking it until the deadline`);
      }
      return undefined;
    }
  };

  /** Why a SKIPPED deployment was skipped, from its build log (one read; unknown when it cannot be read). */
  const skipReason = async (): Promise<'watch-paths' | 'wait-for-ci-or-unknown'> => {
    try {
      const data = await client.request<{ buildLogs: Array<{ message: string }> }>(
        BUILD_LOGS,
        { deploymentId, limit: 50 },
        'BuildLogs',
      );
      return data.buildLogs.some((l) => l.message.startsWith('No changed files matched patterns'))
        ? 'watch-paths'
        : 'wait-for-ci-or-unknown';
    } catch {
      return 'wait-for-ci-or-unknown';
    }
  };

  /** Time until the current status hits a limit (WAITING too long, unknown too long). */
  const statusLimitIn = (): number => {
    if (status === 'WAITING' || status === 'NEEDS_APPROVAL') return statusSince + waitingTimeoutMs - Date.now();
    if (status && !IN_PROGRESS_STATUSES.has(status) && !KNOWN_TERMINAL.has(status))
      return statusSince + unknownGraceMs - Date.now();
    return Infinity;
  };

  const evaluate = async (): Promise<WaitResult | undefined> => {
    if (!status) return undefined;
    const inStatus = Date.now() - statusSince;
    if (SUCCESS_STATUSES.has(status)) {
      return result(
        'success',
        status === 'SLEEPING'
          ? `deployment ${deploymentId} is live (SLEEPING: serverless, wakes on the first request)`
          : `deployment ${deploymentId} is live (SUCCESS)`,
      );
    }
    const msg = OUTCOME_MESSAGES[status];
    if (msg) return result(status.toLowerCase() as WaitOutcome, msg(deploymentId));
    if (status === 'SKIPPED') {
      // Not a failure: nothing was deployed, the previous deployment still serves.
      const why = await skipReason();
      return result(
        'skipped',
        why === 'watch-paths'
          ? `deployment ${deploymentId} was SKIPPED: no changed file matched the service's watch paths ("No changed files matched patterns") — nothing to deploy, the running deployment is unchanged`
          : `deployment ${deploymentId} was SKIPPED (a 'Wait for CI' check failed, or watch paths matched no changed file) — nothing was deployed, the running deployment is unchanged`,
        { skipReason: why },
      );
    }
    if (status === 'REMOVED' || status === 'REMOVING') {
      const newer = opts.scope ? await findNewer(client, opts.scope, deploymentId) : undefined;
      if (newer) {
        return result(
          'superseded',
          `deployment ${deploymentId} was superseded by a newer deployment ${newer} (someone else deployed); that newer release is left alone — no rollback`,
          {
            supersededBy: newer,
          },
        );
      }
      return result('removed', `deployment ${deploymentId} was ${status} (cancelled or removed) before it went live`);
    }
    if (status === 'WAITING' || status === 'NEEDS_APPROVAL') {
      if (warnedAbout !== status) {
        warnedAbout = status;
        log(
          status === 'WAITING'
            ? `deployment ${deploymentId} is WAITING: Railway's 'Wait for CI' holds it until GitHub checks pass — if this workflow is one of those checks it is waiting on itself`
            : `deployment ${deploymentId} NEEDS_APPROVAL: approve it in Railway's dashboard (or deploymentApprove) to continue`,
        );
      }
      if (inStatus >= waitingTimeoutMs) {
        return status === 'WAITING'
          ? result(
              'waiting',
              `deployment ${deploymentId} was still WAITING after ${formatDuration(inStatus)} (Railway's 'Wait for CI' — a deadlock if it waits for this very workflow)`,
            )
          : result(
              'needs-approval',
              `deployment ${deploymentId} still NEEDS_APPROVAL after ${formatDuration(inStatus)}: a human must approve it in Railway`,
            );
      }
      return undefined;
    }
    if (IN_PROGRESS_STATUSES.has(status)) return undefined;
    if (inStatus >= unknownGraceMs)
      return result(
        'unknown-status',
        `deployment ${deploymentId} stayed in unknown status '${status}' for ${formatDuration(inStatus)}`,
      );
    return undefined;
  };

  try {
    let pollDelay = pollInitialMs;
    let polledOnce = false;
    for (;;) {
      if (opts.signal?.aborted)
        return result(
          'cancelled',
          `cancelled while waiting for deployment ${deploymentId}${status ? ` (last status ${status})` : ''}`,
        );
      const left = opts.deadline - Date.now();
      if (left <= 0) {
        const unread = !status && lastReadError ? ` (its status could not be read: ${lastReadError})` : '';
        return result(
          'timeout',
          `timed out after ${formatDuration(Date.now() - startedAt)} waiting for deployment ${deploymentId}${status ? ` (still ${status})` : unread}`,
        );
      }
      let observed: string | undefined;
      if (mode === 'ws') {
        // Until a first status arrives, check soon: a server may not push the current state on subscribe.
        const quiet = status ? heartbeatMs : Math.min(heartbeatMs, 5000);
        const item = await inbox.next(Math.max(0, Math.min(quiet, left, statusLimitIn())), opts.signal);
        if (item.kind === 'status') {
          usedWs = true;
          observed = item.status;
        } else if (item.kind === 'aborted') continue;
        else if (item.kind === 'error') {
          log(`status subscription unavailable (${errorMessage(item.error)}); falling back to polling`);
          mode = 'poll';
          unsubscribe?.();
          unsubscribe = undefined;
          observed = await poll();
          polledOnce = true;
        } else {
          if (!status) log(`no status from the subscription yet; asking once`);
          observed = await poll(); // heartbeat or a status limit to check
        }
      } else {
        if (polledOnce) {
          try {
            await sleep(Math.min(pollDelay, Math.max(0, left), Math.max(0, statusLimitIn())), opts.signal);
          } catch {
            continue; // aborted: reported at the top of the loop
          }
          // Adaptive: slow down while nothing changes, and more when the rate-limit budget runs low.
          const remaining = client.rateLimit.remaining;
          const longInStatus = Date.now() - statusSince > 120_000; // a long build: nothing to catch quickly
          const cap =
            remaining !== undefined && remaining < 50
              ? Math.max(pollMaxMs, 30_000)
              : longInStatus
                ? Math.max(pollMaxMs, 20_000)
                : pollMaxMs;
          pollDelay = Math.min(cap, Math.round(pollDelay * 1.5));
        }
        observed = await poll();
        polledOnce = true;
      }
      if (observed !== undefined && observed !== status) {
        status = observed;
        statusSince = Date.now();
        const change = { status, at: statusSince };
        history.push(change);
        opts.onStatus?.(change);
        log(`deployment ${deploymentId}: ${status}`);
        pollDelay = pollInitialMs;
      }
      const verdict = await evaluate();
      if (verdict) return verdict;
    }
  } finally {
    unsubscribe?.();
  }
}

const KNOWN_TERMINAL: ReadonlySet<string> = new Set([
  'SUCCESS',
  'SLEEPING',
  'FAILED',
  'CRASHED',
  'SKIPPED',
  'REMOVED',
  'REMOVING',
]);

/** Id of the newest deployment of the service created after ours, if any (it superseded ours). */
async function findNewer(
  client: RailwayClient,
  scope: ServiceScope,
  deploymentId: string,
): Promise<string | undefined> {
  try {
    const list = await listDeployments(client, scope, { maxPages: 1, pageSize: 20 });
    const ours = list.find((d) => d.id === deploymentId);
    const newest = list[0];
    if (!newest || newest.id === deploymentId) return undefined;
    if (ours && Date.parse(newest.createdAt) <= Date.parse(ours.createdAt)) return undefined;
    return newest.id;
  } catch {
    return undefined;
  }
}

/**
 * Watches a live deployment's status (e.g. during a verification window) and calls `onStatus` for each
 * status seen: subscription first, polling `pollMs` when the WebSocket is unavailable. Returns stop().
 */
export function watchDeployment(
  client: RailwayClient,
  deploymentId: string,
  onStatus: (status: string, instanceStatuses: string[]) => void,
  opts: { pollMs?: number; signal?: AbortSignal; log?: (msg: string) => void; useSubscription?: boolean } = {},
): () => void {
  let stopped = false;
  let unsubscribe: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const pollMs = opts.pollMs ?? 3000;
  const poll = async (): Promise<void> => {
    if (stopped || opts.signal?.aborted) return;
    try {
      const d = await getDeployment(client, deploymentId);
      if (!stopped)
        onStatus(
          d.status,
          d.instances.map((i) => i.status),
        );
    } catch (err) {
      opts.log?.(`could not read the status of ${deploymentId} (${errorMessage(err)})`);
    }
    if (!stopped) timer = setTimeout(() => void poll(), pollMs);
  };
  if (opts.useSubscription ?? client.webSocketEnabled) {
    unsubscribe = client.subscribe<{ deployment: { status: string; instances?: Array<{ status: string }> } }>(
      DEPLOYMENT_STATUS_SUBSCRIPTION,
      { id: deploymentId },
      {
        next: (data) => {
          if (!stopped)
            onStatus(
              data.deployment.status,
              (data.deployment.instances ?? []).map((i) => i.status),
            );
        },
        error: (err) => {
          if (stopped) return;
          opts.log?.(`status subscription unavailable (${errorMessage(err)}); polling every ${pollMs / 1000}s`);
          void poll();
        },
        complete: () => {
          if (!stopped) void poll();
        },
      },
    );
  } else {
    timer = setTimeout(() => void poll(), 0);
  }
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    unsubscribe?.();
  };
}
