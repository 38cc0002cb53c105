// Root action: deploy → verify (each service by its own rule: the NEW version must answer healthy over HTTP, or a
// worker's new deployment must stay SUCCESS on Railway for the window) → roll every live service back together, each
// restored service verified by its own rule, in one step. A post step cleans up when the main step did not finish
// (job cancelled): cancels deployments still building, rolls back a new deployment that went live without being verified.
import * as core from '@actions/core';
import { UserFacingError } from '../core/errors.js';
import { scrubSecrets } from '../core/redact.js';
import { resolveTarget } from '../railway/resolve.js';
import { describeRisks, parseMigratePlan, riskyMigrations } from '../release/migrate-guard.js';
import {
  deployRelease,
  prepareRelease,
  productionDeploymentOf,
  releaseJson,
  releaseSucceeded,
  rollbackRelease,
  serviceVerdict,
  servicesToRollBack,
  verifyRelease,
  type Release,
} from '../release/release.js';
import { describeRule, ruleFor } from '../release/verify-rules.js';
import { renderReleaseSummary } from '../release/summary.js';
import { booleanInput } from './lib/inputs.js';
import {
  connectRailway,
  perService,
  readHealthInputs,
  readRailwayInputs,
  logRules,
  readSource,
  saveReleaseState,
  setReleaseOutputs,
  postCleanup,
  verifySpecFor,
} from './lib/railway.js';
import { cancellationSignal, runAction } from './lib/runtime.js';

type ReleaseResult = 'deployed' | 'rolled-back' | 'rollback-failed' | 'failed' | 'superseded' | 'cancelled' | 'needs-human';

async function main(): Promise<void> {
  const inputs = readRailwayInputs({ servicesRequired: true, defaultTimeout: '30m' });
  const health = readHealthInputs(inputs.services);
  // verify: false — no checks at all; Railway reporting SUCCESS is enough (said in the summary).
  const verify = booleanInput('verify', true);
  const rollbackOnFailure = booleanInput('rollback', true);
  const force = booleanInput('force', false);
  const risks = riskyMigrations(parseMigratePlan(core.getInput('migrate-plan')));
  const signal = cancellationSignal();
  const deadline = Date.now() + inputs.timeoutMs;
  const source = await readSource(inputs.services);
  const commitSha = source.kind === 'commit' ? source.commitSha : undefined;

  const client = await connectRailway(inputs, deadline, signal);
  let release: Release | undefined;
  try {
    const target = await resolveTarget(client, { project: inputs.project, environment: inputs.environment, services: inputs.services });
    release = await prepareRelease(client, target, source);
    const r = release;
    for (const s of r.services) core.info(`${s.service.name}: serving ${s.previousDeploymentId ?? 'nothing'}; rollback target ${s.rollbackTargetId ?? 'none'}`);
    if (verify) logRules(health, r.services);
    saveReleaseState(r, 'deploying');

    await core.group('Deploy', () =>
      deployRelease(client, r, source, {
        deadline,
        signal,
        waitingTimeoutMs: inputs.waitingTimeoutMs,
        log: (m) => core.info(m),
        onTriggered: () => saveReleaseState(r, 'deploying'),
      }),
    );
    if (!signal.aborted && r.services.every((s) => s.outcome === 'success')) {
      if (verify) {
        saveReleaseState(r, 'verifying');
        await core.group('Verify', () =>
          verifyRelease(client, r, (svc) => (svc.deploymentId ? verifySpecFor(health, svc, svc.deploymentId, commitSha) : undefined), { signal, log: (m) => core.info(m) }),
        );
      } else {
        for (const s of r.services) s.unverifiedReason = 'verify: false — counted as deployed because Railway reports SUCCESS';
      }
    } else {
      const failed = r.services.filter((s) => s.outcome !== 'success').map((s) => `${s.service.name} ${s.status || s.outcome}`);
      for (const s of r.services) if (s.outcome === 'success') s.unverifiedReason = `the release failed before verification (${failed.join(', ')})`;
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
      notes.push('No new deployment went live, so nothing needed rolling back: production still runs the previous deployments.');
    } else if (!rollbackOnFailure) {
      result = 'failed';
      notes.push('rollback: false — the failed release was left in place.');
    } else if (risks.length && !force) {
      result = 'needs-human';
      notes.push(`Not rolled back automatically: the migrate plan has breaking/destructive migrations (${describeRisks(risks)}); rolling code back could break on the new schema. Set force: true to override.`);
    } else {
      saveReleaseState(r, 'rolling-back');
      await core.group('Roll back', () =>
        rollbackRelease(client, r, {
          deadline: Math.max(deadline, Date.now() + 5 * 60_000),
          signal,
          log: (m) => core.info(m),
          onRollbackStarted: (svc, id) => {
            if (svc.rollback) svc.rollback.deploymentId = id;
            else svc.rollback = { targetId: svc.rollbackTargetId ?? '', deploymentId: id, ok: false, status: '', message: 'in progress', startedAt: Date.now(), finishedAt: Date.now() };
            saveReleaseState(r, 'rolling-back');
          },
          // Each restored service by its own rule: the api's restored deployment id over HTTP, a worker by Railway's status.
          specFor: (svc, id) => (verify ? verifySpecFor(health, svc, id, undefined) : undefined),
        }),
      );
      const rolled = r.services.filter((s) => s.rollback);
      if (rolled.length === 0) {
        result = 'failed';
        notes.push('No new deployment replaced the previous one, so nothing needed rolling back: production still runs the previous deployments.');
      } else {
        result = rolled.every((s) => s.rollback?.ok && s.rollback.verification?.healthy !== false) ? 'rolled-back' : 'rollback-failed';
      }
    }
    if (!verify) {
      notes.push('verify: false — nothing was verified (no HTTP check, no status soak): services count as deployed because Railway reports SUCCESS.');
    } else {
      notes.push(`Verification rules: ${r.services.map((s) => `${s.service.name} → ${describeRule(ruleFor(health, s))}`).join('; ')}.`);
    }
    release.finishedAt = Date.now();
    if (result !== 'cancelled') saveReleaseState(r, 'done');

    setReleaseOutputs(r, releaseJson(r));
    core.setOutput('result', result);
    // Empty when verify: false deployed it: nothing was verified, so "healthy" would claim too much.
    core.setOutput('healthy', result === 'deployed' && !verify ? '' : String(result === 'deployed' && r.services.every((s) => s.verification?.healthy)));
    core.setOutput('rolled-back', String(r.services.some((s) => s.rollback?.ok)));
    // A deployment parked in NEEDS_APPROVAL / WAITING (Wait for CI) also needs a person to act in Railway.
    const parked = r.services.some((s) => s.outcome === 'needs-approval' || s.outcome === 'waiting');
    core.setOutput('needs-human', String(result === 'needs-human' || result === 'rollback-failed' || parked));
    core.setOutput('production-deployment-id', perService(r, (s) => productionDeploymentOf(s)));

    const verdicts: Record<ReleaseResult, string> = {
      deployed: verify
        ? '✅ Deployed and verified: every service passed its rule (HTTP health with the new deployment id, or Railway status for the window).'
        : '✅ Deployed (verify: false — Railway reports SUCCESS; nothing was verified).',
      'rolled-back': '↩️ The release failed and was rolled back; the restored version is running.',
      'rollback-failed': '🚨 The release failed and the rollback did not restore a healthy version — needs a human.',
      failed: '❌ The release failed.',
      superseded: '⏭️ Superseded by a newer deployment.',
      cancelled: '⏹️ Cancelled.',
      'needs-human': '🚨 The release failed and was NOT rolled back (breaking/destructive migrations) — needs a human.',
    };
    core.summary.addRaw(scrubSecrets(client.scrub(renderReleaseSummary(r, { title: 'Railway release', verdict: verdicts[result], notes })), health.secrets), true);
    await core.summary.write();
    if (result !== 'deployed') {
      const why = r.services
        .filter((s) => s.outcome !== 'success' || s.verification?.healthy === false || s.rollback)
        .map((s) => {
          const own = s.verification && !s.verification.healthy ? `not healthy (${s.verification.reason})` : s.message;
          return `${s.service.name}: ${serviceVerdict(s).verdict} — ${own}${s.rollback ? `; ${s.rollback.message}` : ''}`;
        })
        .join('; ');
      throw new UserFacingError(`${verdicts[result].replace(/^\S+\s/, '')} ${why}`);
    }
  } finally {
    await client.close();
  }
}

await runAction(main, () => postCleanup({ rollbackLive: true, defaultTimeout: '30m', capMs: 10 * 60_000, what: 'release', title: 'Railway release: cleanup after an interrupted release' }));
