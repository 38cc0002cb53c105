// railway-deploy action: deploys one or more services (in parallel, as one release) from a commit, an uploaded
// directory or an image, records each service's rollback target first, and waits for a terminal state.
import * as core from '@actions/core';
import { UserFacingError } from '../core/errors.js';
import { resolveTarget } from '../railway/resolve.js';
import { deployRelease, prepareRelease, releaseJson, type Release } from '../release/release.js';
import { renderReleaseSummary } from '../release/summary.js';
import {
  connectRailway,
  postCleanup,
  readRailwayInputs,
  readSource,
  releaseStatus,
  saveReleaseState,
  setReleaseOutputs,
} from './lib/railway.js';
import { cancellationSignal, runAction } from './lib/runtime.js';

async function main(): Promise<void> {
  const inputs = readRailwayInputs({ servicesRequired: true, defaultTimeout: '20m' });
  const signal = cancellationSignal();
  const deadline = Date.now() + inputs.timeoutMs;
  const source = await readSource(inputs.services);

  const client = await connectRailway(inputs, deadline, signal);
  let release: Release | undefined;
  try {
    core.info(`Token: ${client.tokenKind === 'project' ? 'project token' : 'account/workspace token'}`);
    const target = await resolveTarget(client, { project: inputs.project, environment: inputs.environment, services: inputs.services });
    release = await prepareRelease(client, target, source);
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
        log: (m) => core.info(m),
        onTriggered: () => saveReleaseState(r, 'deploying'),
      }),
    );
    release.finishedAt = Date.now();
    const cancelled = release.services.some((s) => s.outcome === 'cancelled');
    // A cancelled main leaves the post step to cancel what is still building.
    if (!cancelled) saveReleaseState(release, 'done');

    const status = releaseStatus(release);
    setReleaseOutputs(release, releaseJson(release));
    for (const s of release.services) {
      if (s.outcome === 'superseded') core.warning(`${s.service.name}: ${s.message}`);
      else if (s.outcome === 'waiting' || s.outcome === 'needs-approval') core.warning(`${s.service.name}: ${s.message}`);
    }
    const ok = status === 'SUCCESS' || status === 'SLEEPING';
    const verdict = ok
      ? `✅ Deployed: ${release.services.map((s) => `${s.service.name} → \`${s.deploymentId}\``).join(', ')}`
      : cancelled
        ? '⏹️ Cancelled while waiting — the post step cancels deployments still in progress.'
        : `❌ Release ${status}`;
    core.summary.addRaw(client.scrub(renderReleaseSummary(release, { title: 'Railway deploy', verdict })), true);
    await core.summary.write();
    if (!ok) {
      const failed = release.services.filter((s) => s.outcome !== 'success');
      throw new UserFacingError(failed.map((s) => `${s.service.name}: ${s.message}`).join('; '));
    }
  } finally {
    await client.close();
  }
}

await runAction(main, () => postCleanup({ rollbackLive: false, defaultTimeout: '20m', capMs: 5 * 60_000, what: 'deploy', title: 'Railway deploy: cleanup after an interrupted deploy' }));
