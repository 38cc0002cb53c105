// The release family's decisions as pure functions over data already read: what a release's result is, which
// deployment a rollback restores, what the post step does with what an interrupted main step left, and what a health
// body must contain. The actions and the CLI both reach them through the use cases (use-cases.ts), so each decision
// exists once and is unit-tested on sources (test/release-policies.test.ts).
import {
  CANCELLABLE_STATUSES,
  IN_PROGRESS_STATUSES,
  SUCCESS_STATUSES,
  newestFirst,
  pickActive,
  pickRollbackTarget,
  type DeploymentSummary,
} from '../railway/deployments.js';
import { describeRisks, type MigrationRisk } from './migrate-guard.js';
import {
  crashedDuring,
  needsHumanReason,
  releaseSucceeded,
  servicesToRollBack,
  unchangedBySkip,
  type Release,
  type ServiceRelease,
} from './release.js';

// ---------- expect-version ----------

/** `expect-version`: the verified deployment's id (default), its commit, nothing, or a literal text. */
export type ExpectVersionSetting = string;

export interface ExpectVersion {
  /** What the body must contain; undefined = nothing. */
  value?: string;
  /** Why the body is checked for something else than the setting says (a restored deployment). */
  note?: string;
}

/**
 * What the health body of `deploymentId` must contain. `deployment-id` → that deployment's own id (Railway sets
 * RAILWAY_DEPLOYMENT_ID per deployment, and a rollback is a new deployment: docs guides/roll-back-bad-deploy.md);
 * `commit` → its commit when known; `none`/'' → nothing; anything else is a literal. A RESTORED deployment (a
 * rollback, or a redeploy of the target) is checked against ITS identity, never a literal: a literal such as `v2`
 * names the release that was undone, and the old version rightly does not answer it.
 */
export function resolveExpectVersion(
  setting: ExpectVersionSetting,
  ctx: { deploymentId: string; commitSha?: string; restored?: boolean; input?: string },
): ExpectVersion {
  const v = setting.trim();
  const input = ctx.input ?? 'expect-version';
  if (v === '' || v === 'none') return {};
  if (v === 'deployment-id') return { value: ctx.deploymentId };
  if (v === 'commit') {
    if (ctx.commitSha) return { value: ctx.commitSha };
    return ctx.restored
      ? { note: `${input} commit: the restored deployment's commit is not known, so its body is not checked for one` }
      : {};
  }
  if (ctx.restored)
    return {
      note: `${input} '${v}' names the release that was rolled back, so the restored version is checked without it`,
    };
  return { value: v };
}

// ---------- release outcome ----------

export type ReleaseResult =
  'deployed' | 'rolled-back' | 'rollback-failed' | 'failed' | 'superseded' | 'cancelled' | 'needs-human';

export interface OutcomeContext {
  /** The job / command was cancelled. */
  cancelled: boolean;
  rollbackOnFailure: boolean;
  /** Breaking/destructive migrations of the release's migrate plan (migrate-guard.ts). */
  risks: MigrationRisk[];
  force: boolean;
  /** How the front end names the switches in notes (action inputs or CLI flags). */
  names?: { rollback?: string; force?: string };
}

export type OutcomeDecision = { result: ReleaseResult; notes: string[]; rollBack?: false } | { rollBack: true };

/**
 * After deploy and verify: the release's result, or that it must be rolled back. Cancelled beats everything; a
 * superseded service means someone else's newer release, left alone; nothing live means nothing to roll back; a
 * rollback never crosses a breaking/destructive migration unless forced (the guard the release action and
 * `rail-actions deploy --rollback-on-failure` share).
 */
export function decideAfterVerify(release: Release, ctx: OutcomeContext): OutcomeDecision {
  const rollbackName = ctx.names?.rollback ?? 'rollback: false';
  const forceName = ctx.names?.force ?? 'force: true';
  const superseded = release.services.filter((s) => s.outcome === 'superseded');
  if (ctx.cancelled || release.services.some((s) => s.outcome === 'cancelled')) {
    return {
      result: 'cancelled',
      notes: [
        'The job was cancelled: the post step cancels deployments still in progress and rolls back one that went live unverified.',
      ],
    };
  }
  if (releaseSucceeded(release)) return { result: 'deployed', notes: [] };
  if (superseded.length) {
    return {
      result: 'superseded',
      notes: [
        `Superseded by a newer deployment (${superseded.map((s) => `${s.service.name} → ${s.supersededBy ?? '?'}`).join(', ')}): nothing is rolled back, the newer release is left alone.`,
      ],
    };
  }
  if (servicesToRollBack(release).length === 0 && release.services.every((s) => s.outcome !== 'crashed')) {
    return {
      result: 'failed',
      notes: [
        'No new deployment went live, so nothing needed rolling back: production still runs the previous deployments (read back from Railway below).',
      ],
    };
  }
  if (!ctx.rollbackOnFailure)
    return { result: 'failed', notes: [`${rollbackName} — the failed release was left in place.`] };
  if (ctx.risks.length && !ctx.force) {
    return {
      result: 'needs-human',
      notes: [
        `Not rolled back automatically: the migrate plan has breaking/destructive migrations (${describeRisks(ctx.risks)}); rolling code back could break on the new schema. Set ${forceName} to override.`,
      ],
    };
  }
  return { rollBack: true };
}

/** After the rollback of a release: rolled-back only when every rolled-back service was restored and passed its rule. */
export function decideAfterRollback(
  release: Release,
  ctx: { cancelled: boolean },
): { result: ReleaseResult; notes: string[] } {
  const rolled = release.services.filter((s) => s.rollback);
  if (ctx.cancelled) {
    return {
      result: 'cancelled',
      notes: [
        'The job was cancelled during the rollback: Railway goes on with a rollback deployment already created; the post step waits for it and verifies it.',
      ],
    };
  }
  if (rolled.length === 0)
    return {
      result: 'failed',
      notes: [
        'No new deployment replaced the previous one, so nothing needed rolling back: production still runs the previous deployments.',
      ],
    };
  return {
    result: rolled.every((s) => s.rollback?.ok && s.rollback.verification?.healthy !== false)
      ? 'rolled-back'
      : 'rollback-failed',
    notes: [],
  };
}

/** Once what Railway runs was read: a service a person must look at turns the result into needs-human (a cancelled or failed rollback keeps its word). */
export function finalResult(result: ReleaseResult, release: Release): ReleaseResult {
  const humans = release.services.some((s) => needsHumanReason(s, release) !== undefined);
  return humans && result !== 'cancelled' && result !== 'rollback-failed' ? 'needs-human' : result;
}

/** The `needs-human` output: the result says so, or a service needs a person (a deployment parked for approval / CI too). */
export function releaseNeedsHuman(result: ReleaseResult, release: Release): boolean {
  const parked = release.services.some((s) => s.outcome === 'needs-approval' || s.outcome === 'waiting');
  return (
    result === 'needs-human' ||
    result === 'rollback-failed' ||
    parked ||
    release.services.some((s) => needsHumanReason(s, release) !== undefined)
  );
}

/** The `healthy` output: '' when nothing was verified (verify off), else whether the release deployed and every service passed. */
export function releaseHealthy(result: ReleaseResult, release: Release, verify: boolean): string {
  if (result === 'deployed' && !verify) return '';
  return String(result === 'deployed' && release.services.every((s) => s.verification?.healthy || unchangedBySkip(s)));
}

// ---------- status words ----------

/** Release-level status word: SUCCESS when every service went live, else the first failing service's status. */
export function statusWord(svc: ServiceRelease): string {
  switch (svc.outcome) {
    case 'success':
      if (svc.verification && !svc.verification.healthy)
        return crashedDuring(svc.verification) ? 'CRASHED' : 'UNHEALTHY';
      return svc.status || 'SUCCESS';
    case 'superseded':
      return 'SUPERSEDED';
    case 'timeout':
      return 'TIMEOUT';
    case 'cancelled':
      return 'CANCELLED';
    case 'error':
    case 'not-started':
    case 'unconfirmed':
      return 'ERROR';
    case 'refused':
      return 'REFUSED';
    case 'needs-approval':
      return 'NEEDS_APPROVAL';
    case 'waiting':
      return 'WAITING';
    default:
      return svc.status || svc.outcome.toUpperCase();
  }
}

/** SUCCESS when every service went live or was SKIPPED by watch paths (nothing to deploy); else the first failing word. */
export function releaseStatus(release: Release): string {
  const failing = release.services.filter((s) => !unchangedBySkip(s)).map(statusWord);
  return (
    failing.find((w) => w !== 'SUCCESS' && w !== 'SLEEPING') ??
    failing[0] ??
    (release.services.length ? 'SKIPPED' : 'ERROR')
  );
}

// ---------- rollback target ----------

/** One entry of railway-deploy's / the root action's `deployments` output, as the rollback reads it. */
export interface RecordedEntry {
  service?: string;
  serviceId?: string;
  deploymentId?: string | null;
  rollbackTargetId?: string | null;
  outcome?: string;
  supersededBy?: string | null;
}

export interface TargetChoice {
  targetId: string;
  /** Set when nothing should be done, with the reason. */
  skip?: string;
  /** How it was chosen. */
  from: 'explicit' | 'recorded' | 'history';
}

/**
 * The deployment a rollback restores, from the service's deployments (newest first or not). In order: an explicit
 * id (skipped when it already serves); the target recorded by the release being undone — unless that release was
 * superseded, or a newer deployment replaced it (force overrides), or the target already serves; else the newest
 * deployment Railway can roll back to that is older than what serves now, preferring another commit than the one
 * being undone (the same commit is still right when only variables changed: a rollback restores the target's
 * variables too). Returns undefined when nothing can be rolled back to.
 */
export function chooseRollbackTarget(
  list: DeploymentSummary[],
  opts: { explicit?: string; recorded?: RecordedEntry | undefined; force?: boolean } = {},
): TargetChoice | undefined {
  const active = pickActive(list);
  const newest = newestFirst(list)[0];
  if (opts.explicit) {
    if (active?.id === opts.explicit)
      return {
        targetId: opts.explicit,
        from: 'explicit',
        skip: `${opts.explicit} is already serving; nothing to roll back`,
      };
    return { targetId: opts.explicit, from: 'explicit' };
  }
  const entry = opts.recorded;
  if (entry) {
    if (entry.outcome === 'superseded') {
      return {
        targetId: '',
        from: 'recorded',
        skip: `the recorded release was superseded by ${entry.supersededBy ?? 'a newer deployment'}; not rolling back a newer release`,
      };
    }
    const ours = entry.deploymentId ?? undefined;
    if (ours && newest && newest.id !== ours && !opts.force) {
      const oursAt = list.find((d) => d.id === ours)?.createdAt;
      if (!oursAt || Date.parse(newest.createdAt) > Date.parse(oursAt)) {
        return {
          targetId: '',
          from: 'recorded',
          skip: `a newer deployment ${newest.id} replaced the recorded one (${ours}); not rolling back a newer release (force overrides)`,
        };
      }
    }
    if (entry.rollbackTargetId) {
      if (active?.id === entry.rollbackTargetId)
        return {
          targetId: entry.rollbackTargetId,
          from: 'recorded',
          skip: `${entry.rollbackTargetId} (the recorded target) is already serving; nothing to roll back`,
        };
      return { targetId: entry.rollbackTargetId, from: 'recorded' };
    }
  }
  const candidate = active
    ? (pickRollbackTarget(list, { exclude: [active.id], olderThan: active.createdAt, notSameCommitAs: active }) ??
      pickRollbackTarget(list, { exclude: [active.id], olderThan: active.createdAt }))
    : pickRollbackTarget(list);
  return candidate ? { targetId: candidate.id, from: 'history' } : undefined;
}

// ---------- post-step cleanup ----------

/** What the post step knows of one service of an interrupted main step (saved right before each change). */
export interface InflightService {
  service: string;
  serviceId: string;
  projectId: string;
  environmentId: string;
  deploymentId?: string;
  rollbackTargetId?: string;
  rollbackDeploymentId?: string;
  /** The service's public URL (for the rule that verifies a restored deployment in the post step). */
  url?: string;
  /**
   * The image setting this release changed before deploying (release.ts `imageChange`), put back by the post step when
   * nothing of the release went live. Absent in state saved before it was recorded, and for non-image releases.
   */
  imageChange?: { from: string; to: string };
  /**
   * A deploy request was sent and its answer (the deployment id) had not come back when the state was last saved: it
   * may have landed all the same. The deployments listed before it, and the commit it deploys, to find it by.
   */
  requested?: RequestedDeploy;
}

export interface RequestedDeploy {
  knownDeploymentIds: string[];
  commitSha?: string;
}

/** True when the main step left something the post step must look at. */
export function cleanupNeeded(phase: string, inflight: InflightService[]): boolean {
  return (
    Boolean(phase) && phase !== 'done' && inflight.some((s) => s.deploymentId || s.rollbackDeploymentId || s.requested)
  );
}

export type CleanupStep =
  | { step: 'wait-rollback'; deploymentId: string }
  | { step: 'nothing-started' }
  | { step: 'find-requested'; requested: RequestedDeploy }
  | { step: 'read-deployment'; deploymentId: string };

/**
 * First decision, before anything is read: finish a rollback on its way, else look at the release's deployment — or,
 * when only its request was sent, look for what that request created (never a second request: effects.ts).
 */
export function cleanupFirstStep(s: InflightService): CleanupStep {
  if (s.rollbackDeploymentId) return { step: 'wait-rollback', deploymentId: s.rollbackDeploymentId };
  if (s.deploymentId) return { step: 'read-deployment', deploymentId: s.deploymentId };
  // Without the list of what existed before, nothing could be told apart as the request's: never act on a guess.
  if (s.requested && Array.isArray(s.requested.knownDeploymentIds))
    return { step: 'find-requested', requested: s.requested };
  return { step: 'nothing-started' };
}

export type CleanupAction =
  | { action: 'cancel' }
  | { action: 'wait-then-roll-back' }
  | { action: 'leave'; needsHuman: true }
  | { action: 'roll-back' }
  | { action: 'none'; why: 'live-unverified' | 'ended' };

/**
 * What to do with the release's deployment given its status: cancel what Railway documents as cancellable
 * (initializing, queued, building); with `rollbackLive` (the root action), roll back a deployment that went live
 * unverified — or wait for one still DEPLOYING and roll it back if it goes live; otherwise say that it may still go
 * live (a person decides).
 */
export function cleanupAction(status: string, rollbackLive: boolean): CleanupAction {
  if (CANCELLABLE_STATUSES.has(status)) return { action: 'cancel' };
  if (IN_PROGRESS_STATUSES.has(status))
    return rollbackLive && status === 'DEPLOYING'
      ? { action: 'wait-then-roll-back' }
      : { action: 'leave', needsHuman: true };
  if (SUCCESS_STATUSES.has(status))
    return rollbackLive ? { action: 'roll-back' } : { action: 'none', why: 'live-unverified' };
  return { action: 'none', why: 'ended' };
}
