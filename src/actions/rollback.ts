// rollback action: puts services back on a given deployment, or on the one recorded by railway-deploy / the root
// action, or on the newest rollback-able deployment older than what serves now; redeploys when the image is gone;
// waits; verifies each restored service by its own rule (the same rules and code as the root action's rollback).
// Refuses to roll code back across a breaking/destructive migration unless forced.
import * as core from '@actions/core';
import { InputError, UserFacingError, errorMessage } from '../core/errors.js';
import { scrubSecrets } from '../core/redact.js';
import type { RailwayClient } from '../railway/client.js';
import { listDeployments, newestFirst, pickActive, pickRollbackTarget } from '../railway/deployments.js';
import { RailwayUnconfirmedError } from '../railway/errors.js';
import { resolveTarget } from '../railway/resolve.js';
import { describeRisks, parseMigratePlan, riskyMigrations } from '../release/migrate-guard.js';
import { needsHumanReason, productionDeploymentOf, releaseJson, rollbackService, type Release, type ServiceRelease } from '../release/release.js';
import { verifySpecFor } from '../release/verify-rules.js';
import { renderReleaseSummary } from '../release/summary.js';
import { booleanInput, stringInput } from './lib/inputs.js';
import { connectRailway, logRules, perService, readHealthInputs, readRailwayInputs, settleRelease, type HealthInputs } from './lib/railway.js';
import { cancellationSignal, runAction } from './lib/runtime.js';

interface RecordedEntry {
  service?: string;
  serviceId?: string;
  deploymentId?: string | null;
  rollbackTargetId?: string | null;
  outcome?: string;
  supersededBy?: string | null;
}

function readRecorded(): RecordedEntry[] {
  const text = core.getInput('deployments').trim();
  if (!text) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InputError('deployments', "expected the JSON 'deployments' output of railway-deploy, but it is not valid JSON");
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (!list.every((e) => e && typeof e === 'object')) throw new InputError('deployments', 'expected a JSON array of objects (the railway-deploy output)');
  return list as RecordedEntry[];
}

async function main(): Promise<void> {
  const recorded = readRecorded();
  const inputs = readRailwayInputs({ servicesRequired: false, defaultTimeout: '15m' });
  if (inputs.services.length === 0) inputs.services = recorded.map((e) => e.serviceId ?? e.service ?? '').filter(Boolean);
  if (inputs.services.length === 0) throw new InputError('service', "is required (or pass railway-deploy's 'deployments' output)");
  const explicitTarget = stringInput('deployment-id').trim();
  if (explicitTarget && inputs.services.length > 1) throw new InputError('deployment-id', 'names one deployment, so give exactly one service');
  const force = booleanInput('force', false);
  // verify: false — a restored deployment counts once Railway reports SUCCESS (as in the root action).
  const verify = booleanInput('verify', true);
  // health-url lines may name services as recorded in `deployments` (name or id), whichever `service` holds.
  const health = readHealthInputs(inputs.services, { known: recorded.flatMap((e) => [e.service ?? '', e.serviceId ?? '']).filter(Boolean) });
  const plan = parseMigratePlan(core.getInput('migrate-plan'));

  // Migration-aware: decided before any API call, so a refusal sends nothing.
  const risks = riskyMigrations(plan);
  if (risks.length > 0 && !force) {
    core.setOutput('needs-human', 'true');
    core.setOutput('status', 'REFUSED');
    core.setOutput('result', 'refused');
    const message =
      `Refusing to roll back: this release applied migration(s) the plan marks breaking/destructive — ${describeRisks(risks)}. ` +
      'The previous code may not work on the migrated schema. Roll forward with a fix, or restore the schema first and re-run with force: true.';
    core.summary.addHeading('Railway rollback: refused (needs a human)', 2).addRaw(`<p>${escapeHtml(message)}</p>`, true);
    await core.summary.write();
    throw new UserFacingError(message);
  }
  if (risks.length > 0) core.warning(`force: true — rolling back across ${describeRisks(risks)}`);
  core.setOutput('needs-human', 'false');

  const signal = cancellationSignal();
  const deadline = Date.now() + inputs.timeoutMs;
  const client = await connectRailway(inputs, deadline, signal);
  try {
    const target = await resolveTarget(client, { project: inputs.project, environment: inputs.environment, services: inputs.services });
    const release: Release = { project: target.project, environment: target.environment, source: 'commit', startedAt: Date.now(), services: [], events: [] };
    release.services = target.services.map((service) => ({
      service,
      scope: { projectId: target.project.id, environmentId: target.environment.id, serviceId: service.id },
      status: '',
      outcome: 'not-started',
      message: '',
      history: [],
    }));
    // Choose every target (reads only) before the first rollback is sent.
    const plans = await Promise.all(release.services.map((svc) => chooseTarget(client, svc, explicitTarget, recorded, force)));
    if (verify) logRules(health, release.services);
    await Promise.all(
      release.services.map(async (svc, i) => {
        const choice = plans[i];
        if (!choice || choice.skip) {
          svc.message = choice?.skip ?? 'skipped';
          svc.skipped = svc.message;
          svc.outcome = 'success';
          return;
        }
        await rollbackOne(client, release, svc, choice.targetId, { deadline, signal, health: verify ? health : undefined });
      }),
    );
    // What Railway runs for every service the run did not prove (a failed or unconfirmed rollback, a skipped one).
    await settleRelease(client, release, { cancelled: signal.aborted });
    release.finishedAt = Date.now();
    writeOutputs(release);
    const failed = release.services.filter((s) => (s.rollback && (!s.rollback.ok || s.rollback.verification?.healthy === false)) || s.outcome === 'error');
    core.setOutput('result', failed.length ? 'rollback-failed' : release.services.some((s) => s.rollback) ? 'rolled-back' : 'skipped');
    const verdict = failed.length
      ? `❌ Rollback did not restore a healthy version for ${failed.map((s) => s.service.name).join(', ')}`
      : `↩️ Rolled back: ${release.services.map((s) => `${s.service.name} → \`${s.rollback?.deploymentId ?? s.previousDeploymentId ?? '—'}\``).join(', ')}`;
    const notes = verify ? [] : ['verify: false — restored deployments count once Railway reports SUCCESS; nothing was verified.'];
    core.summary.addRaw(scrubSecrets(client.scrub(renderReleaseSummary(release, { title: 'Railway rollback', verdict, notes })), health.secrets), true);
    await core.summary.write();
    if (failed.length) throw new UserFacingError(failed.map((s) => `${s.service.name}: ${s.rollback?.verification && !s.rollback.verification.healthy ? `restored version not healthy: ${s.rollback.verification.reason}` : (s.rollback?.message ?? s.message)}`).join('; '));
  } finally {
    await client.close();
  }
}

interface TargetChoice {
  targetId: string;
  /** Set when nothing should be done, with the reason. */
  skip?: string;
}

async function chooseTarget(client: RailwayClient, svc: ServiceRelease, explicit: string, recorded: RecordedEntry[], force: boolean): Promise<TargetChoice> {
  const list = await listDeployments(client, svc.scope);
  const active = pickActive(list);
  if (active) svc.previousDeploymentId = active.id;
  const newest = newestFirst(list)[0];
  if (explicit) {
    if (active?.id === explicit) return { targetId: explicit, skip: `${explicit} is already serving; nothing to roll back` };
    return { targetId: explicit };
  }
  const entry = recorded.find((e) => e.serviceId === svc.service.id || e.service === svc.service.name);
  if (entry) {
    if (entry.outcome === 'superseded') {
      return { targetId: '', skip: `the recorded release was superseded by ${entry.supersededBy ?? 'a newer deployment'}; not rolling back a newer release` };
    }
    const ours = entry.deploymentId ?? undefined;
    if (ours && newest && newest.id !== ours && !force) {
      const oursAt = list.find((d) => d.id === ours)?.createdAt;
      if (!oursAt || Date.parse(newest.createdAt) > Date.parse(oursAt)) {
        return { targetId: '', skip: `a newer deployment ${newest.id} replaced the recorded one (${ours}); not rolling back a newer release (force: true overrides)` };
      }
    }
    if (entry.rollbackTargetId) {
      if (active?.id === entry.rollbackTargetId) return { targetId: entry.rollbackTargetId, skip: `${entry.rollbackTargetId} (the recorded target) is already serving; nothing to roll back` };
      return { targetId: entry.rollbackTargetId };
    }
  }
  // The newest rollback-able deployment older than what serves now (what serves now is the one to undo).
  // Prefer another commit than the release being undone; the same commit is still right when only variables
  // changed (a rollback restores the target's variables too).
  const candidate = active
    ? (pickRollbackTarget(list, { exclude: [active.id], olderThan: active.createdAt, notSameCommitAs: active }) ??
      pickRollbackTarget(list, { exclude: [active.id], olderThan: active.createdAt }))
    : pickRollbackTarget(list);
  if (!candidate) throw new UserFacingError(`${svc.service.name}: no earlier deployment can be rolled back to (none is retained with canRollback)`);
  return { targetId: candidate.id };
}

async function rollbackOne(
  client: RailwayClient,
  release: Release,
  svc: ServiceRelease,
  targetId: string,
  opts: { deadline: number; signal: AbortSignal; health: HealthInputs | undefined },
): Promise<void> {
  const name = svc.service.name;
  const health = opts.health;
  let rb;
  try {
    rb = await rollbackService(client, release, svc, targetId, {
      deadline: opts.deadline,
      signal: opts.signal,
      log: (m) => core.info(m),
      // Here expect-version is about the restored deployment itself (its id by default, or e.g. the old version's text).
      specFor: health ? (s, id) => verifySpecFor(health, s, id) : undefined,
    });
  } catch (err) {
    if (!(err instanceof RailwayUnconfirmedError)) throw err;
    // Never sent again: whether the rollback landed is unknown; what Railway runs is read at the end.
    svc.rollback = { targetId, ok: false, status: '', message: client.scrub(errorMessage(err)), unconfirmed: true, startedAt: Date.now(), finishedAt: Date.now() };
    svc.message = svc.rollback.message;
    svc.outcome = 'error';
    return;
  }
  svc.status = rb.status;
  svc.message = rb.message;
  svc.outcome = rb.ok ? 'success' : 'error';
  if (rb.fallbackReason) core.warning(`${name}: ${rb.fallbackReason}; used deploymentRedeploy (a rebuild) instead`);
}

function writeOutputs(release: Release): void {
  const rb = (s: ServiceRelease) => s.rollback;
  core.setOutput('deployment-id', perService(release, (s) => rb(s)?.deploymentId));
  core.setOutput('rolled-back-to', perService(release, (s) => rb(s)?.targetId));
  core.setOutput('method', perService(release, (s) => rb(s)?.method));
  core.setOutput('previous-deployment-id', perService(release, (s) => s.previousDeploymentId));
  core.setOutput('url', perService(release, (s) => s.url));
  const statuses = release.services.map((s) => (!s.rollback ? 'SKIPPED' : !s.rollback.ok ? s.rollback.status || 'FAILED' : s.rollback.verification?.healthy === false ? 'UNHEALTHY' : s.rollback.status || 'SUCCESS'));
  core.setOutput('status', statuses.find((x) => x !== 'SUCCESS' && x !== 'SKIPPED' && x !== 'SLEEPING') ?? (statuses.every((x) => x === 'SKIPPED') ? 'SKIPPED' : 'SUCCESS'));
  const verified = release.services.map((s) => s.rollback?.verification);
  core.setOutput('healthy', verified.some((v) => v) ? String(verified.every((v) => !v || v.healthy)) : '');
  core.setOutput('production-deployment-id', perService(release, (s) => productionDeploymentOf(s)));
  core.setOutput('needs-human', String(release.services.some((s) => needsHumanReason(s, release) !== undefined || (s.rollback && !s.rollback.ok))));
  core.setOutput('deployments', JSON.stringify(releaseJson(release)));
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

await runAction(main, { failureOutputs: { result: 'rollback-failed', status: 'FAILED', 'needs-human': 'false', deployments: '[]' } });
