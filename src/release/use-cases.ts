// The release family's use cases, called by both front ends: the actions (src/actions/*.ts: inputs → use case →
// outputs/summary) and the CLI (src/cli/commands/*.ts: flags → use case → terminal). Each takes a resolved spec
// (spec.ts), a way to connect to Railway and a reporter, and returns a typed result; every decision it takes is a
// pure function of policies.ts. Nothing here knows where its options came from or how its result is shown.
import { UserFacingError, errorMessage } from '../core/errors.js';
import { checkHealth, validateHealthOptions, type HealthAttempt, type HealthResult } from '../health/index.js';
import type { RailwayClient } from '../railway/client.js';
import type { DeploySource } from '../railway/deploy.js';
import { listDeployments, pickActive } from '../railway/deployments.js';
import { RailwayUnconfirmedError } from '../railway/errors.js';
import { resolveTarget } from '../railway/resolve.js';
import { describeRisks, type MigrationRisk } from './migrate-guard.js';
import {
  chooseRollbackTarget,
  decideAfterRollback,
  decideAfterVerify,
  finalResult,
  type RecordedEntry,
  type ReleaseResult,
  type TargetChoice,
} from './policies.js';
import {
  cancelUnfinished,
  confirmProduction,
  deployRelease,
  leftOnItsWay,
  prepareRelease,
  restoreImageSettings,
  rollbackRelease,
  rollbackService,
  unchangedBySkip,
  verifyRelease,
  type AutodeployMode,
  type Release,
  type ServiceRelease,
} from './release.js';
import type { CheckSpec, HealthSpec, RailwaySpec } from './spec.js';
import { describeRule, ruleFor, verifySpecFor, verifySpecForRestored } from './verify-rules.js';
import { formatDuration } from '../core/duration.js';

/** How a use case talks while it runs: log lines, warnings, and named sections (an action's log groups). */
export interface Reporter {
  log(message: string): void;
  warn(message: string): void;
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
}

/** A reporter for a plain log function (the CLI, tests): groups are a heading line. */
export function plainReporter(log: (m: string) => void, warn: (m: string) => void = log): Reporter {
  return {
    log,
    warn,
    group: async (title, fn) => {
      log(`── ${title}`);
      return fn();
    },
  };
}

export type ReleasePhase = 'deploying' | 'verifying' | 'rolling-back' | 'done';

export interface RunIo {
  connect(deadline: number): Promise<RailwayClient>;
  reporter: Reporter;
  signal: AbortSignal;
  /** Called right before each change and when a phase ends (the actions' post-step state). */
  onPhase?: (release: Release, phase: ReleasePhase) => void;
  /** Follow deployments over WebSocket (the waits fall back to polling either way). */
  useSubscription?: boolean;
}

/** How the front end names its switches in notes ("verify: false" in an action, "--force" in the CLI). */
export interface SwitchNames {
  verifyOff: string;
  rollbackOff: string;
  force: string;
}

export const ACTION_NAMES: SwitchNames = {
  verifyOff: 'verify: false',
  rollbackOff: 'rollback: false',
  force: 'force: true',
};

// ---------- settle ----------

/**
 * Time the main flow takes, after its own timeout or a cancellation, to cancel what it left building and read what
 * Railway runs (with a derived client: the release's is past its deadline or aborted). On cancellation the runner
 * sends SIGINT, then SIGTERM 7.5 s later, then kills the process 2.5 s after that (actions/runner@258d6c8
 * src/Runner.Sdk/ProcessInvoker.cs:32-33, 447-460): 6 s fits inside the first grace period.
 */
export const SETTLE_MS = 60_000;
export const SETTLE_CANCELLED_MS = 6_000;

/**
 * Ends every path on what Railway really runs: a deployment the release left on its way (timeout, WAITING,
 * NEEDS_APPROVAL) is cancelled where Railway allows it (not after a cancellation: the post step does that in an
 * action; a terminal user was told what continues), then every service whose state the run did not prove is read, and
 * an image setting changed by a release that put nothing live is put back (restoreImageSettings).
 */
export async function settleRelease(
  client: RailwayClient,
  release: Release,
  opts: { cancelled: boolean; log: (m: string) => void },
): Promise<void> {
  const settle = client.derive({ deadline: Date.now() + (opts.cancelled ? SETTLE_CANCELLED_MS : SETTLE_MS) });
  try {
    if (!opts.cancelled) await cancelUnfinished(settle, release, { log: opts.log });
    await confirmProduction(settle, release, { log: opts.log });
    // An image release that put nothing live must not leave the image setting naming its image (needs the read above).
    if (!opts.cancelled) await restoreImageSettings(settle, release, { log: opts.log });
  } finally {
    await settle.close();
  }
}

// ---------- deploy / release ----------

export interface ReleaseSpec {
  railway: RailwaySpec;
  source: DeploySource;
  autodeploy: { mode: AutodeployMode; waitMs: number };
  /** false: no checks at all; Railway reporting SUCCESS is enough (said in the notes). */
  verify: boolean;
  health?: HealthSpec;
  rollbackOnFailure: boolean;
  /** Breaking/destructive migrations of the release's migrate plan: no automatic rollback across them unless forced. */
  risks: MigrationRisk[];
  force: boolean;
  names: SwitchNames;
}

export interface ReleaseRun {
  release: Release;
  result: ReleaseResult;
  notes: string[];
  /** Removes the Railway token (and what the client registered) from text shown to people. */
  scrub: (text: string) => string;
  /** An unexpected failure after something was sent: reported (what Railway runs was read), then rethrown by the front end. */
  error?: Error;
}

/** A rollback needs at least this long, whatever is left of `timeout` (restoring production matters more). */
export const ROLLBACK_MIN_MS = 5 * 60_000;

/**
 * Deploy → verify (each service by its own rule) → roll every live service back together when the release fails
 * (never across a breaking/destructive migration unless forced) → read what Railway runs. `verify: false` and
 * `rollbackOnFailure: false` make it railway-deploy's plain deploy. Throws only before anything was sent (bad
 * target, a source the service cannot take).
 */
export async function runRelease(spec: ReleaseSpec, io: RunIo): Promise<ReleaseRun> {
  const { reporter: rep, signal } = io;
  const log = (m: string) => rep.log(m);
  const deadline = Date.now() + spec.railway.timeoutMs;
  const client = await io.connect(deadline);
  const commitSha = spec.source.kind === 'commit' ? spec.source.commitSha : undefined;
  const health = spec.health;
  let release: Release | undefined;
  try {
    const target = await resolveTarget(client, {
      project: spec.railway.project,
      environment: spec.railway.environment,
      services: spec.railway.services,
    });
    release = await prepareRelease(client, target, spec.source, { log });
    const r = release;
    for (const s of r.services)
      log(
        `${s.service.name}: serving ${s.previousDeploymentId ?? 'nothing'}; rollback target ${s.rollbackTargetId ?? 'none'}`,
      );
    if (spec.verify && health)
      for (const s of r.services) log(`${s.service.name}: verified by ${describeRule(ruleFor(health, s))}`);
    io.onPhase?.(r, 'deploying');

    await rep.group(`Deploying ${r.services.map((s) => s.service.name).join(', ')} to ${r.environment.name}`, () =>
      deployRelease(client, r, spec.source, {
        deadline,
        signal,
        waitingTimeoutMs: spec.railway.waitingTimeoutMs,
        useSubscription: io.useSubscription,
        autodeploy: spec.autodeploy.mode,
        autodeployWaitMs: spec.autodeploy.waitMs,
        log,
        onTriggered: () => io.onPhase?.(r, 'deploying'),
        onRequesting: () => io.onPhase?.(r, 'deploying'),
      }),
    );
    const live = r.services.filter((s) => s.outcome === 'success');
    if (!signal.aborted && r.services.every((s) => s.outcome === 'success' || unchangedBySkip(s))) {
      if (spec.verify && health && live.length) {
        io.onPhase?.(r, 'verifying');
        await rep.group('Verify', () =>
          verifyRelease(
            client,
            r,
            (svc) => (svc.deploymentId ? verifySpecFor(health, svc, svc.deploymentId, commitSha) : undefined),
            { signal, log },
          ),
        );
      } else if (!spec.verify && spec.health) {
        for (const s of live)
          s.unverifiedReason = `${spec.names.verifyOff} — counted as deployed because Railway reports SUCCESS`;
      }
    } else {
      const failed = r.services
        .filter((s) => s.outcome !== 'success' && !unchangedBySkip(s))
        .map((s) => `${s.service.name} ${s.status || s.outcome}`);
      for (const s of live) s.unverifiedReason = `the release failed before verification (${failed.join(', ')})`;
    }

    const decision = decideAfterVerify(r, {
      cancelled: signal.aborted,
      rollbackOnFailure: spec.rollbackOnFailure,
      risks: spec.risks,
      force: spec.force,
      names: { rollback: spec.names.rollbackOff, force: spec.names.force },
    });
    let result: ReleaseResult;
    const notes: string[] = [];
    if (!decision.rollBack) {
      result = decision.result;
      notes.push(...decision.notes);
    } else {
      if (spec.risks.length) rep.warn(`${spec.names.force} — rolling back across ${describeRisks(spec.risks)}`);
      io.onPhase?.(r, 'rolling-back');
      // Restoring production must not be cut short by what the deploy used of `timeout`.
      const rollbackDeadline = Math.max(deadline, Date.now() + ROLLBACK_MIN_MS);
      const rollbackClient =
        rollbackDeadline > deadline ? client.derive({ deadline: rollbackDeadline, signal }) : client;
      try {
        await rep.group('Roll back', () =>
          rollbackRelease(rollbackClient, r, {
            deadline: rollbackDeadline,
            signal,
            log,
            useSubscription: io.useSubscription,
            onRollbackStarted: (svc, id) => {
              if (svc.rollback) svc.rollback.deploymentId = id;
              else
                svc.rollback = {
                  targetId: svc.rollbackTargetId ?? '',
                  deploymentId: id,
                  ok: false,
                  status: '',
                  message: 'in progress',
                  startedAt: Date.now(),
                  finishedAt: Date.now(),
                };
              io.onPhase?.(r, 'rolling-back');
            },
            // Each restored service by its own rule: the restored deployment's identity over HTTP (a literal
            // expect-version names the undone release and is not asked of the old version), a worker by Railway's status.
            specFor: (svc, id) => (spec.verify && health ? verifySpecForRestored(health, svc, id) : undefined),
          }),
        );
      } finally {
        if (rollbackClient !== client) await rollbackClient.close();
      }
      const after = decideAfterRollback(r, { cancelled: signal.aborted });
      result = after.result;
      notes.push(...after.notes);
    }

    // What Railway runs now: a deployment left building is cancelled, and whatever the run did not prove is read.
    await rep.group('Production now', () => settleRelease(client, r, { cancelled: signal.aborted, log }));
    result = finalResult(result, r);
    r.finishedAt = Date.now();
    // The post step takes over only what this release left on its way (or a cancelled job).
    if (result !== 'cancelled' && !r.services.some(leftOnItsWay)) io.onPhase?.(r, 'done');
    notes.push(...verificationNotes(spec, r, commitSha));
    return { release: r, result, notes, scrub: (t) => client.scrub(t) };
  } catch (err) {
    // An unexpected failure after something was sent: still say what Railway runs before failing.
    if (release && release.services.some((s) => s.deploymentId)) {
      const r = release;
      await settleRelease(client, r, { cancelled: signal.aborted, log }).catch(() => undefined);
      r.finishedAt = Date.now();
      return {
        release: r,
        result: 'needs-human',
        notes: [
          `The step failed unexpectedly (${client.scrub(errorMessage(err))}); what Railway runs was read back above.`,
        ],
        error: err instanceof Error ? err : new Error(String(err)),
        scrub: (t) => client.scrub(t),
      };
    }
    throw err;
  } finally {
    await client.close();
  }
}

function verificationNotes(spec: ReleaseSpec, r: Release, commitSha: string | undefined): string[] {
  const notes: string[] = [];
  if (spec.rollbackOnFailure || spec.health) {
    if (!spec.verify || !spec.health) {
      notes.push(
        `${spec.names.verifyOff} — nothing was verified (no HTTP check, no status soak): services count as deployed because Railway reports SUCCESS.`,
      );
    } else {
      const health = spec.health;
      notes.push(
        `Verification rules: ${r.services.map((s) => `${s.service.name} → ${describeRule(ruleFor(health, s))}`).join('; ')}.`,
      );
      if (r.services.some((s) => s.verification?.healthy)) {
        // The verdict covers the window, not forever: a crash after it is Railway's restart policy's, not this run's.
        notes.push(
          `Railway's status was watched for verify-window (${formatDuration(health.windowMs)}) from the start of each verification; a crash after that window is not part of this verdict.`,
        );
      }
    }
  }
  if (commitSha && r.services.some((s) => s.start)) {
    notes.push(
      `autodeploy: ${spec.autodeploy.mode} — ${r.services
        .filter((s) => s.start)
        .map(
          (s) =>
            `${s.service.name}: ${s.start?.by === 'railway' ? "Railway's own deployment adopted" : s.outcome === 'refused' ? 'refused' : 'deployed by this release'}`,
        )
        .join('; ')}.`,
    );
  }
  return notes;
}

// ---------- rollback ----------

export interface RollbackSpec {
  railway: RailwaySpec;
  /** One deployment to restore (one service only). */
  explicitTarget?: string;
  recorded: RecordedEntry[];
  force: boolean;
  risks: MigrationRisk[];
  /** Verify each restored service by its rule; undefined = a restored deployment counts once Railway reports SUCCESS. */
  health?: HealthSpec;
  names: SwitchNames;
}

export type RollbackResultWord = 'rolled-back' | 'rollback-failed' | 'skipped' | 'refused';

export interface RollbackRun {
  release: Release;
  result: RollbackResultWord;
  /** Services whose rollback failed or whose restored version failed its rule. */
  failed: ServiceRelease[];
  /** Set when refused before anything was sent: the reason. */
  refusal?: string;
  /** Removes the Railway token (and what the client registered) from text shown to people. */
  scrub: (text: string) => string;
}

/** Refused before any request: rolling code back across a breaking/destructive migration needs a person (or force). */
export function rollbackRefusal(spec: Pick<RollbackSpec, 'risks' | 'force' | 'names'>): string | undefined {
  if (spec.risks.length === 0 || spec.force) return undefined;
  return (
    `Refusing to roll back: this release applied migration(s) the plan marks breaking/destructive — ${describeRisks(spec.risks)}. ` +
    `The previous code may not work on the migrated schema. Roll forward with a fix, or restore the schema first and re-run with ${spec.names.force}.`
  );
}

/**
 * Puts services back on a given deployment, on the target recorded by the release being undone, or on the newest
 * deployment Railway can roll back to (chooseRollbackTarget); redeploys when the image is gone; waits; verifies each
 * restored service by its own rule; reads what Railway runs. Every target is chosen (reads only) before the first
 * rollback is sent. A refusal (rollbackRefusal) is returned before connecting.
 */
export async function runRollback(spec: RollbackSpec, io: RunIo): Promise<RollbackRun> {
  const rep = io.reporter;
  const refusal = rollbackRefusal(spec);
  const empty: Release = {
    project: { id: '', name: '' },
    environment: { id: '', name: '' },
    source: 'commit',
    startedAt: Date.now(),
    services: [],
    events: [],
  };
  if (refusal) return { release: empty, result: 'refused', failed: [], refusal, scrub: (t) => t };
  if (spec.risks.length) rep.warn(`${spec.names.force} — rolling back across ${describeRisks(spec.risks)}`);
  const deadline = Date.now() + spec.railway.timeoutMs;
  const client = await io.connect(deadline);
  try {
    const target = await resolveTarget(client, {
      project: spec.railway.project,
      environment: spec.railway.environment,
      services: spec.railway.services,
    });
    const release: Release = {
      project: target.project,
      environment: target.environment,
      source: 'commit',
      startedAt: Date.now(),
      services: [],
      events: [],
    };
    release.services = target.services.map((service) => ({
      service,
      scope: { projectId: target.project.id, environmentId: target.environment.id, serviceId: service.id },
      status: '',
      outcome: 'not-started',
      message: '',
      history: [],
    }));
    const choices = await Promise.all(
      release.services.map(async (svc): Promise<TargetChoice> => {
        const list = await listDeployments(client, svc.scope);
        const choice = chooseRollbackTarget(list, {
          ...(spec.explicitTarget ? { explicit: spec.explicitTarget } : {}),
          recorded: recordedFor(spec.recorded, svc),
          force: spec.force,
        });
        const active = pickActive(list);
        if (active) svc.previousDeploymentId = active.id;
        if (!choice)
          throw new UserFacingError(
            `${svc.service.name}: no earlier deployment can be rolled back to (none is retained with canRollback)`,
          );
        return choice;
      }),
    );
    const health = spec.health;
    if (health)
      for (const s of release.services) rep.log(`${s.service.name}: verified by ${describeRule(ruleFor(health, s))}`);
    await Promise.all(
      release.services.map(async (svc, i) => {
        const choice = choices[i] as TargetChoice;
        if (choice.skip) {
          svc.message = choice.skip;
          svc.skipped = choice.skip;
          svc.outcome = 'success';
          return;
        }
        try {
          const rb = await rollbackService(client, release, svc, choice.targetId, {
            deadline,
            signal: io.signal,
            log: (m) => rep.log(m),
            useSubscription: io.useSubscription,
            // A standalone rollback: expect-version is about the restored deployment itself (its id by default, its
            // commit, or a literal the caller gives for the version being restored).
            specFor: health ? (s, id) => verifySpecFor(health, s, id) : undefined,
          });
          svc.status = rb.status;
          svc.message = rb.message;
          svc.outcome = rb.ok ? 'success' : 'error';
          if (rb.fallbackReason)
            rep.warn(`${svc.service.name}: ${rb.fallbackReason}; used deploymentRedeploy (a rebuild) instead`);
        } catch (err) {
          if (!(err instanceof RailwayUnconfirmedError)) throw err;
          // Never sent again: whether the rollback landed is unknown; what Railway runs is read at the end.
          svc.rollback = {
            targetId: choice.targetId,
            ok: false,
            status: '',
            message: client.scrub(errorMessage(err)),
            unconfirmed: true,
            startedAt: Date.now(),
            finishedAt: Date.now(),
          };
          svc.message = svc.rollback.message;
          svc.outcome = 'error';
        }
      }),
    );
    // What Railway runs for every service the run did not prove (a failed or unconfirmed rollback, a skipped one).
    await settleRelease(client, release, { cancelled: io.signal.aborted, log: (m) => rep.log(m) });
    release.finishedAt = Date.now();
    const failed = release.services.filter(
      (s) => (s.rollback && (!s.rollback.ok || s.rollback.verification?.healthy === false)) || s.outcome === 'error',
    );
    return {
      release,
      result: failed.length ? 'rollback-failed' : release.services.some((s) => s.rollback) ? 'rolled-back' : 'skipped',
      failed,
      scrub: (t) => client.scrub(t),
    };
  } finally {
    await client.close();
  }
}

function recordedFor(recorded: RecordedEntry[], svc: ServiceRelease): RecordedEntry | undefined {
  return recorded.find((e) => e.serviceId === svc.service.id || e.service === svc.service.name);
}

// ---------- verify ----------

/** One health check of a URL until the NEW version answers healthy N times in a row (health-check action, `rail-actions verify`). */
export async function runVerify(
  spec: CheckSpec,
  io: { signal: AbortSignal; onAttempt?: (a: HealthAttempt) => void },
): Promise<HealthResult> {
  validateHealthOptions({ ...spec.options });
  return checkHealth({ ...spec.options, signal: io.signal, ...(io.onAttempt ? { onAttempt: io.onAttempt } : {}) });
}
