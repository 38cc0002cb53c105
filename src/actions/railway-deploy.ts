// railway-deploy action: deploys one or more services (in parallel, as one release) from a commit, an uploaded
// directory or an image, records each service's rollback target first, and waits for a terminal state. A commit
// Railway already deploys by itself (GitHub autodeploy) is adopted, not built twice. Every path ends on what Railway
// runs (read back when the run did not prove it). The flow is runRelease's without verification or rollback (the
// same use case as the root action and `rail-actions deploy`); this entry wires inputs → use case → outputs and
// summary. `check-only: true` runs read-only preflight checks instead.
import * as core from '@actions/core';
import { UserFacingError } from '../core/errors.js';
import { needsHumanReason, releaseJson, unchangedBySkip } from '../release/release.js';
import { renderReleaseSummary } from '../release/summary.js';
import { ACTION_NAMES, runRelease } from '../release/use-cases.js';
import { booleanInput } from './lib/inputs.js';
import {
  connectRailway,
  coreReporter,
  readAutodeployInputs,
  readRailwayInputs,
  readSource,
  releaseStatus,
  runPreflightStep,
  runReleaseAction,
  saveReleaseState,
  setReleaseOutputs,
} from './lib/railway.js';
import { cancellationSignal } from './lib/runtime.js';

export async function main(): Promise<void> {
  const railway = readRailwayInputs({ servicesRequired: true, defaultTimeout: '20m' });
  if (booleanInput('check-only', false)) {
    await runPreflightStep({ title: 'Railway deploy: preflight (read-only)' });
    return;
  }
  const autodeploy = readAutodeployInputs();
  const signal = cancellationSignal();
  const source = await readSource(railway.services);

  const run = await runRelease(
    {
      railway,
      source,
      autodeploy,
      verify: false,
      rollbackOnFailure: false,
      risks: [],
      force: false,
      names: ACTION_NAMES,
    },
    {
      connect: async (deadline) => {
        const client = await connectRailway(railway, deadline, signal);
        core.info(`Token: ${client.tokenKind === 'project' ? 'project token' : 'account/workspace token'}`);
        return client;
      },
      reporter: coreReporter,
      signal,
      useSubscription: railway.subscriptions,
      onPhase: (r, phase) => saveReleaseState(r, phase),
    },
  );
  const { release, result } = run;
  setReleaseOutputs(release, releaseJson(release));
  core.setOutput('result', result);
  core.setOutput('needs-human', String(release.services.some((s) => needsHumanReason(s, release) !== undefined)));
  for (const s of release.services) {
    if (
      s.outcome === 'superseded' ||
      s.outcome === 'waiting' ||
      s.outcome === 'needs-approval' ||
      s.outcome === 'skipped'
    )
      core.warning(`${s.service.name}: ${s.message}`);
  }
  const verdict =
    result === 'deployed'
      ? `✅ Deployed: ${release.services.map((s) => `${s.service.name} → \`${unchangedBySkip(s) ? `${s.previousDeploymentId ?? '—'} (unchanged: watch paths)` : s.deploymentId}\``).join(', ')}`
      : result === 'cancelled'
        ? '⏹️ Cancelled while waiting — the post step cancels deployments still in progress.'
        : result === 'needs-human'
          ? '🚨 Needs a human: what runs and what to do is said per service below.'
          : `❌ Release ${releaseStatus(release)}`;
  core.summary.addRaw(
    run.scrub(renderReleaseSummary(release, { title: 'Railway deploy', verdict, notes: run.notes })),
    true,
  );
  await core.summary.write();
  if (run.error) throw run.error;
  if (result !== 'deployed') {
    const failed = release.services.filter(
      (s) => (s.outcome !== 'success' && !unchangedBySkip(s)) || needsHumanReason(s, release),
    );
    throw new UserFacingError(
      failed
        .map(
          (s) =>
            `${s.service.name}: ${s.message}${needsHumanReason(s, release) ? `; NEEDS A HUMAN: ${needsHumanReason(s, release)}` : ''}`,
        )
        .join('; '),
    );
  }
}

export async function run(): Promise<void> {
  await runReleaseAction(
    main,
    {
      rollbackLive: false,
      defaultTimeout: '20m',
      what: 'deploy',
      title: 'Railway deploy: cleanup after an interrupted deploy',
    },
    {},
  );
}

await run();
