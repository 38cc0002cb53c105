// rollback action: puts services back on a given deployment, or on the one recorded by railway-deploy / the root
// action, or on the newest rollback-able deployment older than what serves now; redeploys when the image is gone;
// waits; verifies each restored service by its own rule. Refuses to roll code back across a breaking/destructive
// migration unless forced. The flow and its decisions are runRollback's (src/release/use-cases.ts, policies.ts),
// shared with `rail-actions rollback`; this entry wires inputs → use case → outputs and summary.
import * as core from '@actions/core';
import { InputError, UserFacingError } from '../core/errors.js';
import { scrubSecrets } from '../core/redact.js';
import { escapeHtml } from '../core/text.js';
import { needsHumanReason, productionDeploymentOf, releaseJson, type Release } from '../release/release.js';
import { parseRecorded, readMigrateRisks } from '../release/spec.js';
import { renderReleaseSummary } from '../release/summary.js';
import { ACTION_NAMES, runRollback } from '../release/use-cases.js';
import { booleanInput, stringInput } from './lib/inputs.js';
import {
  connectRailway,
  coreReporter,
  readHealthInputs,
  readRailwayInputs,
  setPerServiceOutputs,
} from './lib/railway.js';
import { cancellationSignal, runAction } from './lib/runtime.js';

export async function main(): Promise<void> {
  const recorded = parseRecorded(stringInput('deployments', { multiline: true }));
  const railway = readRailwayInputs({ servicesRequired: false, defaultTimeout: '15m' });
  if (railway.services.length === 0)
    railway.services = recorded.map((e) => e.serviceId ?? e.service ?? '').filter(Boolean);
  if (railway.services.length === 0)
    throw new InputError('service', "is required (or pass railway-deploy's 'deployments' output)");
  const explicitTarget = stringInput('deployment-id').trim();
  if (explicitTarget && railway.services.length > 1)
    throw new InputError('deployment-id', 'names one deployment, so give exactly one service');
  const force = booleanInput('force', false);
  // verify: false — a restored deployment counts once Railway reports SUCCESS (as in the root action).
  const verify = booleanInput('verify', true);
  // health-url lines may name services as recorded in `deployments` (name or id), whichever `service` holds.
  const health = readHealthInputs(railway.services, {
    known: recorded.flatMap((e) => [e.service ?? '', e.serviceId ?? '']).filter(Boolean),
    place: 'actions/rollback/action.yml',
  });
  const risks = readMigrateRisks(stringInput('migrate-plan', { multiline: true }));

  const signal = cancellationSignal();
  const run = await runRollback(
    {
      railway,
      ...(explicitTarget ? { explicitTarget } : {}),
      recorded,
      force,
      risks,
      ...(verify ? { health } : {}),
      names: ACTION_NAMES,
    },
    {
      connect: (deadline) => connectRailway(railway, deadline, signal),
      reporter: coreReporter,
      signal,
      useSubscription: railway.subscriptions,
    },
  );
  if (run.refusal) {
    core.setOutput('needs-human', 'true');
    core.setOutput('status', 'REFUSED');
    core.setOutput('result', 'refused');
    core.summary
      .addHeading('Railway rollback: refused (needs a human)', 2)
      .addRaw(`<p>${escapeHtml(run.refusal)}</p>`, true);
    await core.summary.write();
    throw new UserFacingError(run.refusal);
  }
  const { release, failed } = run;
  writeOutputs(release);
  core.setOutput('result', run.result);
  const verdict = failed.length
    ? `❌ Rollback did not restore a healthy version for ${failed.map((s) => s.service.name).join(', ')}`
    : `↩️ Rolled back: ${release.services.map((s) => `${s.service.name} → \`${s.rollback?.deploymentId ?? s.previousDeploymentId ?? '—'}\``).join(', ')}`;
  const notes = verify
    ? []
    : ['verify: false — restored deployments count once Railway reports SUCCESS; nothing was verified.'];
  core.summary.addRaw(
    scrubSecrets(
      run.scrub(renderReleaseSummary(release, { title: 'Railway rollback', verdict, notes })),
      health.secrets,
    ),
    true,
  );
  await core.summary.write();
  if (failed.length)
    throw new UserFacingError(
      failed
        .map(
          (s) =>
            `${s.service.name}: ${s.rollback?.verification && !s.rollback.verification.healthy ? `restored version not healthy: ${s.rollback.verification.reason}` : (s.rollback?.message ?? s.message)}`,
        )
        .join('; '),
    );
}

function writeOutputs(release: Release): void {
  setPerServiceOutputs(release, {
    'deployment-id': (s) => s.rollback?.deploymentId,
    'rolled-back-to': (s) => s.rollback?.targetId,
    method: (s) => s.rollback?.method,
    'previous-deployment-id': (s) => s.previousDeploymentId,
    url: (s) => s.url,
    'production-deployment-id': productionDeploymentOf,
  });
  const statuses = release.services.map((s) =>
    !s.rollback
      ? 'SKIPPED'
      : !s.rollback.ok
        ? s.rollback.status || 'FAILED'
        : s.rollback.verification?.healthy === false
          ? 'UNHEALTHY'
          : s.rollback.status || 'SUCCESS',
  );
  core.setOutput(
    'status',
    statuses.find((x) => x !== 'SUCCESS' && x !== 'SKIPPED' && x !== 'SLEEPING') ??
      (statuses.every((x) => x === 'SKIPPED') ? 'SKIPPED' : 'SUCCESS'),
  );
  const verified = release.services.map((s) => s.rollback?.verification);
  core.setOutput('healthy', verified.some((v) => v) ? String(verified.every((v) => !v || v.healthy)) : '');
  core.setOutput(
    'needs-human',
    String(release.services.some((s) => needsHumanReason(s, release) !== undefined || (s.rollback && !s.rollback.ok))),
  );
  core.setOutput('deployments', JSON.stringify(releaseJson(release)));
}

export async function run(): Promise<void> {
  await runAction(main, {
    failureOutputs: { result: 'rollback-failed', status: 'FAILED', 'needs-human': 'false', deployments: '[]' },
  });
}

await run();
