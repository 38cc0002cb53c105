// Root action: deploy → verify (each service by its own rule: the NEW version must answer healthy over HTTP, or a
// worker's new deployment must stay SUCCESS on Railway for the window) → roll every live service back together, each
// restored service verified by its own rule, in one step. The flow and its decisions are runRelease's
// (src/release/use-cases.ts, policies.ts), shared with `rail-actions deploy`; this entry wires inputs → use case →
// outputs and summary. A post step cleans up when the main step did not finish (job cancelled). `check-only: true`
// runs read-only preflight checks instead (no mutation).
import * as core from '@actions/core';
import { UserFacingError } from '../core/errors.js';
import { scrubSecrets } from '../core/redact.js';
import { releaseHealthy, releaseNeedsHuman, type ReleaseResult } from '../release/policies.js';
import { needsHumanReason, releaseJson, serviceVerdict, unchangedBySkip, type Release } from '../release/release.js';
import { readMigrateRisks } from '../release/spec.js';
import { renderReleaseSummary } from '../release/summary.js';
import { ACTION_NAMES, runRelease, type ReleaseRun } from '../release/use-cases.js';
import { booleanInput, stringInput } from './lib/inputs.js';
import {
  connectRailway,
  coreReporter,
  readAutodeployInputs,
  readHealthInputs,
  readRailwayInputs,
  readSource,
  runPreflightStep,
  runReleaseAction,
  saveReleaseState,
  setReleaseOutputs,
  type HealthInputs,
} from './lib/railway.js';
import { cancellationSignal } from './lib/runtime.js';

export async function main(): Promise<void> {
  const railway = readRailwayInputs({ servicesRequired: true, defaultTimeout: '30m' });
  const health = readHealthInputs(railway.services);
  // verify: false — no checks at all; Railway reporting SUCCESS is enough (said in the summary).
  const verify = booleanInput('verify', true);
  if (booleanInput('check-only', false)) {
    await runPreflightStep({ title: 'Railway release: preflight (read-only)', ...(verify ? { health } : {}) });
    return;
  }
  const rollbackOnFailure = booleanInput('rollback', true);
  const force = booleanInput('force', false);
  const risks = readMigrateRisks(stringInput('migrate-plan', { multiline: true }));
  const autodeploy = readAutodeployInputs();
  const signal = cancellationSignal();
  const source = await readSource(railway.services);

  const run = await runRelease(
    { railway, source, autodeploy, verify, health, rollbackOnFailure, risks, force, names: ACTION_NAMES },
    {
      connect: (deadline) => connectRailway(railway, deadline, signal),
      reporter: coreReporter,
      signal,
      useSubscription: railway.subscriptions,
      onPhase: (r, phase) => saveReleaseState(r, phase),
    },
  );
  await report(run, { verify, health });
  if (run.error) throw run.error;
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

/** The step's outputs, summary and failure from what runRelease returned. */
async function report(run: ReleaseRun, opts: { verify: boolean; health: HealthInputs }): Promise<void> {
  const { release: r, result } = run;
  setReleaseOutputs(r, releaseJson(r));
  core.setOutput('result', result);
  // Empty when verify: false deployed it: nothing was verified, so "healthy" would claim too much.
  core.setOutput('healthy', releaseHealthy(result, r, opts.verify));
  core.setOutput('rolled-back', String(r.services.some((s) => s.rollback?.ok)));
  core.setOutput('needs-human', String(releaseNeedsHuman(result, r)));

  const verdicts = VERDICTS(opts.verify);
  core.summary.addRaw(
    scrubSecrets(
      run.scrub(renderReleaseSummary(r, { title: 'Railway release', verdict: verdicts[result], notes: run.notes })),
      opts.health.secrets,
    ),
    true,
  );
  await core.summary.write();
  if (result !== 'deployed' && !run.error)
    throw new UserFacingError(run.scrub(`${verdicts[result].replace(/^\S+\s/, '')} ${failureDetail(r)}`));
}

/** One clause per service that did not simply deploy: its verdict, why, and what a person must do. */
export function failureDetail(r: Release): string {
  return r.services
    .filter(
      (s) =>
        (s.outcome !== 'success' && !unchangedBySkip(s)) ||
        s.verification?.healthy === false ||
        s.rollback ||
        needsHumanReason(s, r),
    )
    .map((s) => {
      const human = needsHumanReason(s, r);
      const own = s.verification && !s.verification.healthy ? `not healthy (${s.verification.reason})` : s.message;
      return `${s.service.name}: ${serviceVerdict(s).verdict} — ${own}${s.rollback ? `; ${s.rollback.message}` : ''}${human ? `; NEEDS A HUMAN: ${human}` : ''}`;
    })
    .join('; ');
}

export async function run(): Promise<void> {
  await runReleaseAction(
    main,
    {
      rollbackLive: true,
      defaultTimeout: '30m',
      verify: true,
      what: 'release',
      title: 'Railway release: cleanup after an interrupted release',
    },
    { healthy: 'false', 'rolled-back': 'false' },
  );
}

await run();
