// railway-deploy action: deploys one or more services (in parallel, as one release) from a commit, an uploaded
// directory or an image, records each service's rollback target first, and waits for a terminal state. A commit
// Railway already deploys by itself (GitHub autodeploy) is adopted, not built twice. Every path ends on what Railway
// runs (read back when the run did not prove it). `check-only: true` runs read-only preflight checks instead.
import * as core from '@actions/core';
import { UserFacingError } from '../core/errors.js';
import { resolveTarget } from '../railway/resolve.js';
import { deployRelease, leftOnItsWay, needsHumanReason, prepareRelease, releaseJson, unchangedBySkip, type Release } from '../release/release.js';
import { renderReleaseSummary } from '../release/summary.js';
import { booleanInput } from './lib/inputs.js';
import {
  connectRailway,
  postCleanup,
  readAutodeployInputs,
  readRailwayInputs,
  readSource,
  releaseStatus,
  runPreflightStep,
  saveReleaseState,
  setReleaseOutputs,
  settleRelease,
} from './lib/railway.js';
import { cancellationSignal, runAction } from './lib/runtime.js';

async function main(): Promise<void> {
  const inputs = readRailwayInputs({ servicesRequired: true, defaultTimeout: '20m' });
  if (booleanInput('check-only', false)) {
    await runPreflightStep({ title: 'Railway deploy: preflight (read-only)' });
    return;
  }
  const autodeploy = readAutodeployInputs();
  const signal = cancellationSignal();
  const deadline = Date.now() + inputs.timeoutMs;
  const source = await readSource(inputs.services);

  const client = await connectRailway(inputs, deadline, signal);
  let release: Release | undefined;
  try {
    core.info(`Token: ${client.tokenKind === 'project' ? 'project token' : 'account/workspace token'}`);
    const target = await resolveTarget(client, { project: inputs.project, environment: inputs.environment, services: inputs.services });
    release = await prepareRelease(client, target, source, { log: (m) => core.info(m) });
    for (const s of release.services) {
      core.info(`${s.service.name}: serving ${s.previousDeploymentId ?? 'nothing'}; rollback target ${s.rollbackTargetId ?? 'none'}`);
    }
    saveReleaseState(release, 'deploying');
    const r = release;
    await core.group(`Deploying ${release.services.map((s) => s.service.name).join(', ')} to ${release.environment.name}`, () =>
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
    const cancelled = signal.aborted || release.services.some((s) => s.outcome === 'cancelled');
    await settleRelease(client, release, { cancelled });
    release.finishedAt = Date.now();
    // A cancelled main, or a deployment still on its way, leaves the post step to cancel what is still building.
    if (!cancelled && !release.services.some(leftOnItsWay)) saveReleaseState(release, 'done');

    const status = releaseStatus(release);
    const humans = release.services.map((s) => needsHumanReason(s, r)).filter((x): x is string => x !== undefined);
    const ok = release.services.every((s) => s.outcome === 'success' || unchangedBySkip(s));
    const result = cancelled ? 'cancelled' : humans.length ? 'needs-human' : ok ? 'deployed' : release.services.some((s) => s.outcome === 'superseded') ? 'superseded' : 'failed';
    setReleaseOutputs(release, releaseJson(release));
    core.setOutput('result', result);
    core.setOutput('needs-human', String(humans.length > 0));
    for (const s of release.services) {
      if (s.outcome === 'superseded' || s.outcome === 'waiting' || s.outcome === 'needs-approval' || s.outcome === 'skipped') core.warning(`${s.service.name}: ${s.message}`);
    }
    const verdict =
      result === 'deployed'
        ? `✅ Deployed: ${release.services.map((s) => `${s.service.name} → \`${unchangedBySkip(s) ? `${s.previousDeploymentId ?? '—'} (unchanged: watch paths)` : s.deploymentId}\``).join(', ')}`
        : result === 'cancelled'
          ? '⏹️ Cancelled while waiting — the post step cancels deployments still in progress.'
          : result === 'needs-human'
            ? '🚨 Needs a human: what runs and what to do is said per service below.'
            : `❌ Release ${status}`;
    core.summary.addRaw(client.scrub(renderReleaseSummary(release, { title: 'Railway deploy', verdict })), true);
    await core.summary.write();
    if (result !== 'deployed') {
      const failed = release.services.filter((s) => (s.outcome !== 'success' && !unchangedBySkip(s)) || needsHumanReason(s, r));
      throw new UserFacingError(failed.map((s) => `${s.service.name}: ${s.message}${needsHumanReason(s, r) ? `; NEEDS A HUMAN: ${needsHumanReason(s, r)}` : ''}`).join('; '));
    }
  } finally {
    await client.close();
  }
}

await runAction(main, () => postCleanup({ rollbackLive: false, defaultTimeout: '20m', what: 'deploy', title: 'Railway deploy: cleanup after an interrupted deploy' }), {
  // A failure before any output was set: nothing was changed unless post-step state was saved (right before the first change).
  failureOutputs: (f) => ({ result: f.stateSaved ? 'needs-human' : 'failed', 'needs-human': String(f.stateSaved), status: 'ERROR', deployments: '[]' }),
});
