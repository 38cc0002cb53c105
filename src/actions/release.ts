// Root action: deploy → verify (each service by its own rule: the NEW version must answer healthy over HTTP, or a
// worker's new deployment must stay SUCCESS on Railway for the window) → roll every live service back together, each
// restored service verified by its own rule, in one step. Every path ends on what Railway really runs: a deployment
// left building at the timeout is cancelled, everything the run did not prove is read back, and what a person must do
// is said (needs-human). A post step cleans up when the main step did not finish (job cancelled). `check-only: true`
// runs read-only preflight checks instead (no mutation).
import * as core from '@actions/core';
import { UserFacingError, errorMessage } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { scrubSecrets } from '../core/redact.js';
import { resolveTarget } from '../railway/resolve.js';
import { describeRisks, parseMigratePlan, riskyMigrations } from '../release/migrate-guard.js';
import {
  deployRelease,
  leftOnItsWay,
  needsHumanReason,
  prepareRelease,
  productionDeploymentOf,
  releaseJson,
  releaseSucceeded,
  rollbackRelease,
  serviceVerdict,
  servicesToRollBack,
  unchangedBySkip,
  verifyRelease,
  type Release,
} from '../release/release.js';
import { describeRule, ruleFor, verifySpecForRestored } from '../release/verify-rules.js';
import { renderReleaseSummary } from '../release/summary.js';
import { booleanInput } from './lib/inputs.js';
import {
  connectRailway,
  perService,
  readAutodeployInputs,
  readHealthInputs,
  readRailwayInputs,
  logRules,
  readSource,
  runPreflightStep,
  saveReleaseState,
  setReleaseOutputs,
  settleRelease,
  postCleanup,
  verifySpecFor,
  type HealthInputs,
} from './lib/railway.js';
import { cancellationSignal, runAction } from './lib/runtime.js';

type ReleaseResult = 'deployed' | 'rolled-back' | 'rollback-failed' | 'failed' | 'superseded' | 'cancelled' | 'needs-human';

/** A rollback needs at least this long, whatever is left of `timeout` (restoring production matters more). */
const ROLLBACK_MIN_MS = 5 * 60_000;

async function main(): Promise<void> {
  const inputs = readRailwayInputs({ servicesRequired: true, defaultTimeout: '30m' });
  const health = readHealthInputs(inputs.services);
  // verify: false — no checks at all; Railway reporting SUCCESS is enough (said in the summary).
  const verify = booleanInput('verify', true);
  if (booleanInput('check-only', false)) {
    await runPreflightStep({ title: 'Railway release: preflight (read-only)', ...(verify ? { health } : {}) });
    return;
  }
  const rollbackOnFailure = booleanInput('rollback', true);
  const force = booleanInput('force', false);
  const risks = riskyMigrations(parseMigratePlan(core.getInput('migrate-plan')));
  const autodeploy = readAutodeployInputs();
  const signal = cancellationSignal();
  const deadline = Date.now() + inputs.timeoutMs;
  const source = await readSource(inputs.services);
  const commitSha = source.kind === 'commit' ? source.commitSha : undefined;

  const client = await connectRailway(inputs, deadline, signal);
  let release: Release | undefined;
  let reported = false;
  try {
    const target = await resolveTarget(client, { project: inputs.project, environment: inputs.environment, services: inputs.services });
    release = await prepareRelease(client, target, source, { log: (m) => core.info(m) });
    const r = release;
    for (const s of r.services) core.info(`${s.service.name}: serving ${s.previousDeploymentId ?? 'nothing'}; rollback target ${s.rollbackTargetId ?? 'none'}`);
    if (verify) logRules(health, r.services);
    saveReleaseState(r, 'deploying');

    await core.group('Deploy', () =>
      deployRelease(client, r, source, {
        deadline,
        signal,
        waitingTimeoutMs: inputs.waitingTimeoutMs,
        autodeploy: autodeploy.mode,
        autodeployWaitMs: autodeploy.waitMs,
        log: (m) => core.info(m),
        onTriggered: () => saveReleaseState(r, 'deploying'),
      }),
    );
    const live = r.services.filter((s) => s.outcome === 'success');
    if (!signal.aborted && r.services.every((s) => s.outcome === 'success' || unchangedBySkip(s))) {
      if (verify && live.length) {
        saveReleaseState(r, 'verifying');
        await core.group('Verify', () =>
          verifyRelease(client, r, (svc) => (svc.deploymentId ? verifySpecFor(health, svc, svc.deploymentId, commitSha) : undefined), { signal, log: (m) => core.info(m) }),
        );
      } else if (!verify) {
        for (const s of live) s.unverifiedReason = 'verify: false — counted as deployed because Railway reports SUCCESS';
      }
    } else {
      const failed = r.services.filter((s) => s.outcome !== 'success' && !unchangedBySkip(s)).map((s) => `${s.service.name} ${s.status || s.outcome}`);
      for (const s of live) s.unverifiedReason = `the release failed before verification (${failed.join(', ')})`;
    }

    let result: ReleaseResult;
    const notes: string[] = [];
    const superseded = r.services.filter((s) => s.outcome === 'superseded');
    if (signal.aborted || r.services.some((s) => s.outcome === 'cancelled')) {
      result = 'cancelled';
      notes.push('The job was cancelled: the post step cancels deployments still in progress and rolls back one that went live unverified.');
    } else if (releaseSucceeded(r)) {
      result = 'deployed';
    } else if (superseded.length) {
      result = 'superseded';
      notes.push(`Superseded by a newer deployment (${superseded.map((s) => `${s.service.name} → ${s.supersededBy ?? '?'}`).join(', ')}): nothing is rolled back, the newer release is left alone.`);
    } else if (servicesToRollBack(r).length === 0 && r.services.every((s) => s.outcome !== 'crashed')) {
      result = 'failed';
      notes.push('No new deployment went live, so nothing needed rolling back: production still runs the previous deployments (read back from Railway below).');
    } else if (!rollbackOnFailure) {
      result = 'failed';
      notes.push('rollback: false — the failed release was left in place.');
    } else if (risks.length && !force) {
      result = 'needs-human';
      notes.push(`Not rolled back automatically: the migrate plan has breaking/destructive migrations (${describeRisks(risks)}); rolling code back could break on the new schema. Set force: true to override.`);
    } else {
      saveReleaseState(r, 'rolling-back');
      // Restoring production must not be cut short by what the deploy used of `timeout`.
      const rollbackDeadline = Math.max(deadline, Date.now() + ROLLBACK_MIN_MS);
      const rollbackClient = rollbackDeadline > deadline ? client.derive({ deadline: rollbackDeadline, signal }) : client;
      try {
        await core.group('Roll back', () =>
          rollbackRelease(rollbackClient, r, {
            deadline: rollbackDeadline,
            signal,
            log: (m) => core.info(m),
            onRollbackStarted: (svc, id) => {
              if (svc.rollback) svc.rollback.deploymentId = id;
              else svc.rollback = { targetId: svc.rollbackTargetId ?? '', deploymentId: id, ok: false, status: '', message: 'in progress', startedAt: Date.now(), finishedAt: Date.now() };
              saveReleaseState(r, 'rolling-back');
            },
            // Each restored service by its own rule: the restored deployment's id over HTTP (a literal expect-version
            // names the undone release and is not asked of the old version), a worker by Railway's status.
            specFor: (svc, id) => (verify ? verifySpecForRestored(health, svc, id) : undefined),
          }),
        );
      } finally {
        if (rollbackClient !== client) await rollbackClient.close();
      }
      const rolled = r.services.filter((s) => s.rollback);
      if (signal.aborted) {
        result = 'cancelled';
        notes.push('The job was cancelled during the rollback: Railway goes on with a rollback deployment already created; the post step waits for it and verifies it.');
      } else if (rolled.length === 0) {
        result = 'failed';
        notes.push('No new deployment replaced the previous one, so nothing needed rolling back: production still runs the previous deployments.');
      } else {
        result = rolled.every((s) => s.rollback?.ok && s.rollback.verification?.healthy !== false) ? 'rolled-back' : 'rollback-failed';
      }
    }

    // What Railway runs now: a deployment left building is cancelled, and whatever the run did not prove is read.
    await core.group('Production now', () => settleRelease(client, r, { cancelled: signal.aborted }));
    const humans = r.services.map((s) => needsHumanReason(s, r)).filter((x): x is string => x !== undefined);
    if (humans.length && result !== 'cancelled' && result !== 'rollback-failed') result = 'needs-human';
    // The post step takes over only what this release left on its way (or a cancelled job).
    if (result !== 'cancelled' && !r.services.some(leftOnItsWay)) saveReleaseState(r, 'done');

    if (!verify) {
      notes.push('verify: false — nothing was verified (no HTTP check, no status soak): services count as deployed because Railway reports SUCCESS.');
    } else {
      notes.push(`Verification rules: ${r.services.map((s) => `${s.service.name} → ${describeRule(ruleFor(health, s))}`).join('; ')}.`);
      if (r.services.some((s) => s.verification?.healthy)) {
        // The verdict covers the window, not forever: a crash after it is Railway's restart policy's, not this run's.
        notes.push(`Railway's status was watched for verify-window (${formatDuration(health.windowMs)}) from the start of each verification; a crash after that window is not part of this verdict.`);
      }
    }
    if (commitSha && r.services.some((s) => s.start)) {
      notes.push(`autodeploy: ${autodeploy.mode} — ${r.services.filter((s) => s.start).map((s) => `${s.service.name}: ${s.start?.by === 'railway' ? "Railway's own deployment adopted" : s.outcome === 'refused' ? 'refused' : 'deployed by this release'}`).join('; ')}.`);
    }
    reported = true;
    await report(client, r, result, { verify, health, notes });
  } catch (err) {
    // An unexpected failure after something was sent: still say what Railway runs before failing.
    if (release && !reported && release.services.some((s) => s.deploymentId)) {
      const r = release;
      await settleRelease(client, r, { cancelled: signal.aborted }).catch(() => undefined);
      await report(client, r, 'needs-human', { verify, health, notes: [`The step failed unexpectedly (${client.scrub(errorMessage(err))}); what Railway runs was read back above.`], rethrow: false }).catch(() => undefined);
    }
    throw err;
  } finally {
    await client.close();
  }
}

const VERDICTS = (verify: boolean): Record<ReleaseResult, string> => ({
  deployed: verify
    ? '✅ Deployed and verified: every service passed its rule (HTTP health with the new deployment id, or Railway status for the window).'
    : '✅ Deployed (verify: false — Railway reports SUCCESS; nothing was verified).',
  'rolled-back': '↩️ The release failed and was rolled back; the restored version is running and passed its rule.',
  'rollback-failed': '🚨 The release failed and the rollback did not restore a healthy version — needs a human.',
  failed: '❌ The release failed before anything went live; Railway still runs the previous deployments.',
  superseded: '⏭️ Superseded by a newer deployment.',
  cancelled: '⏹️ Cancelled.',
  'needs-human': '🚨 Needs a human: what runs and what to do is said per service below.',
});

async function report(
  client: { scrub(t: string): string },
  r: Release,
  result: ReleaseResult,
  opts: { verify: boolean; health: HealthInputs; notes: string[]; rethrow?: boolean },
): Promise<void> {
  r.finishedAt = Date.now();
  setReleaseOutputs(r, releaseJson(r));
  core.setOutput('result', result);
  // Empty when verify: false deployed it: nothing was verified, so "healthy" would claim too much.
  core.setOutput('healthy', result === 'deployed' && !opts.verify ? '' : String(result === 'deployed' && r.services.every((s) => s.verification?.healthy || unchangedBySkip(s))));
  core.setOutput('rolled-back', String(r.services.some((s) => s.rollback?.ok)));
  const humans = r.services.map((s) => needsHumanReason(s, r)).filter(Boolean);
  // A deployment parked in NEEDS_APPROVAL / WAITING (Wait for CI) also needs a person to act in Railway.
  const parked = r.services.some((s) => s.outcome === 'needs-approval' || s.outcome === 'waiting');
  core.setOutput('needs-human', String(result === 'needs-human' || result === 'rollback-failed' || parked || humans.length > 0));
  core.setOutput('production-deployment-id', perService(r, (s) => productionDeploymentOf(s)));

  const verdicts = VERDICTS(opts.verify);
  core.summary.addRaw(scrubSecrets(client.scrub(renderReleaseSummary(r, { title: 'Railway release', verdict: verdicts[result], notes: opts.notes })), opts.health.secrets), true);
  await core.summary.write();
  if (result !== 'deployed' && opts.rethrow !== false) {
    const why = r.services
      .filter((s) => (s.outcome !== 'success' && !unchangedBySkip(s)) || s.verification?.healthy === false || s.rollback || needsHumanReason(s, r))
      .map((s) => {
        const human = needsHumanReason(s, r);
        const own = s.verification && !s.verification.healthy ? `not healthy (${s.verification.reason})` : s.message;
        return `${s.service.name}: ${serviceVerdict(s).verdict} — ${own}${s.rollback ? `; ${s.rollback.message}` : ''}${human ? `; NEEDS A HUMAN: ${human}` : ''}`;
      })
      .join('; ');
    throw new UserFacingError(`${verdicts[result].replace(/^\S+\s/, '')} ${why}`);
  }
}

await runAction(main, () => postCleanup({ rollbackLive: true, defaultTimeout: '30m', verify: true, what: 'release', title: 'Railway release: cleanup after an interrupted release' }), {
  // A failure before any output was set: nothing was changed unless post-step state was saved (right before the first change).
  failureOutputs: (f) => ({ result: f.stateSaved ? 'needs-human' : 'failed', 'needs-human': String(f.stateSaved), healthy: 'false', 'rolled-back': 'false', status: 'ERROR', deployments: '[]' }),
});
