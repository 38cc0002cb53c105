// Plumbing the Railway actions (railway-deploy, rollback, release) share around the use cases: the step's inputs as
// specs (src/release/spec.ts over coreSource), the client with logs routed to core, post-step state and the post step,
// outputs and summaries. Decisions live in src/release/policies.ts; this file only wires them to @actions/core.
import * as core from '@actions/core';
import { UserFacingError } from '../../core/errors.js';
import { scrubSecrets } from '../../core/redact.js';
import { headerRow } from '../../core/text.js';
import { RailwayClient } from '../../railway/client.js';
import type { DeploySource } from '../../railway/deploy.js';
import { cleanUpAfterInterruptedMain, POST_STEP_BUDGET_MS, type CleanupRow } from '../../release/cleanup.js';
import { cleanupNeeded, releaseStatus, statusWord, type InflightService } from '../../release/policies.js';
import {
  failedConnectionReport,
  preflight,
  renderPreflightMarkdown,
  type PreflightReport,
} from '../../release/preflight.js';
import {
  productionDeploymentOf,
  type AutodeployMode,
  type Release,
  type ServiceRelease,
} from '../../release/release.js';
import {
  readAutodeploySpec,
  readHealthSpec,
  readRailwaySpec,
  readSourceSpec,
  type HealthSpec,
  type RailwaySpec,
} from '../../release/spec.js';
import { settleRelease as settleWith, type Reporter } from '../../release/use-cases.js';
import { describeRule, ruleFor } from '../../release/verify-rules.js';
import type { Place } from '../../options/catalogue.js';
import { booleanInput, coreSource } from './inputs.js';
import { runAction } from './runtime.js';

export type RailwayInputs = RailwaySpec;
export type HealthInputs = HealthSpec;

/** The step's log as the use cases' reporter: groups are the runner's collapsible log groups. */
export const coreReporter: Reporter = {
  log: (m) => core.info(m),
  warn: (m) => core.warning(m),
  group: (title, fn) => core.group(title, fn),
};

/** The connection inputs (readRailwaySpec over the step's inputs). Throws InputError; sends nothing. */
export function readRailwayInputs(opts: { servicesRequired: boolean; defaultTimeout: string }): RailwayInputs {
  return readRailwaySpec(coreSource, opts);
}

/**
 * `source` and its companion inputs (readSourceSpec); the upload tarball is built here, before anything is mutated.
 * An empty commit-sha (e.g. `commit-sha: ${{ inputs.sha }}` of an unset input) falls back to the workflow's commit.
 */
export function readSource(services: string[] = [], opts: { upload?: boolean } = {}): Promise<DeploySource> {
  return readSourceSpec(coreSource, services, {
    ...opts,
    fallbackSha: process.env.GITHUB_SHA ?? '',
    log: (m) => core.info(m),
  });
}

export function connectRailway(inputs: RailwayInputs, deadline: number, signal: AbortSignal): Promise<RailwayClient> {
  const requestTimeoutMs = httpTimeoutFromEnv();
  return RailwayClient.connect({
    token: inputs.token,
    apiUrl: inputs.apiUrl,
    deadline,
    signal,
    webSocket: inputs.subscriptions,
    log: (m) => core.info(m),
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
  });
}

/**
 * RAILWAY_HTTP_TIMEOUT (whole seconds), the official CLI's override of its 90 s HTTP timeout (railwayapp/cli
 * src/consts.rs, src/client.rs): the same variable, set in the step's env, bounds how
 * long one Railway request may go unanswered here. Anything else than a positive whole number is ignored.
 */
function httpTimeoutFromEnv(): number | undefined {
  const raw = (process.env.RAILWAY_HTTP_TIMEOUT ?? '').trim();
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) return undefined;
  return Number(raw) * 1000;
}

/** The verification inputs (readHealthSpec over the step's inputs), validated before any network call. */
export function readHealthInputs(services: string[], opts: { known?: string[]; place?: Place } = {}): HealthInputs {
  return readHealthSpec(coreSource, services, opts);
}

/** Log lines naming the rule that verifies each service (the domain is known only after the instance is read). */
export function logRules(health: HealthInputs, services: ServiceRelease[]): void {
  for (const s of services) core.info(`${s.service.name}: verified by ${describeRule(ruleFor(health, s))}`);
}

/** The autodeploy inputs (commit sources): adopt Railway's own deployment of the commit, refuse, or deploy anyway. */
export function readAutodeployInputs(): { mode: AutodeployMode; waitMs: number } {
  return readAutodeploySpec(coreSource);
}

/** settleRelease (use-cases.ts) logging to the step's log. */
export function settleRelease(client: RailwayClient, release: Release, opts: { cancelled: boolean }): Promise<void> {
  return settleWith(client, release, { ...opts, log: (m) => core.info(m) });
}

// ---------- post-step state ----------

export const STATE_PHASE = 'railway-phase';
export const STATE_RELEASE = 'railway-release';

export type { CleanupRow, InflightService };

export function saveReleaseState(release: Release, phase: 'deploying' | 'verifying' | 'rolling-back' | 'done'): void {
  const inflight: InflightService[] = release.services.map((s) => {
    const entry: InflightService = {
      service: s.service.name,
      serviceId: s.service.id,
      projectId: s.scope.projectId,
      environmentId: s.scope.environmentId,
    };
    if (s.deploymentId) entry.deploymentId = s.deploymentId;
    if (s.rollbackTargetId) entry.rollbackTargetId = s.rollbackTargetId;
    if (s.rollback?.deploymentId) entry.rollbackDeploymentId = s.rollback.deploymentId;
    if (s.url) entry.url = s.url;
    if (s.imageChange) entry.imageChange = { from: s.imageChange.from, to: s.imageChange.to };
    if (s.requested && !s.deploymentId) entry.requested = s.requested;
    return entry;
  });
  core.saveState(STATE_RELEASE, JSON.stringify(inflight));
  core.saveState(STATE_PHASE, phase);
}

export function loadReleaseState(): { phase: string; inflight: InflightService[] } {
  const phase = core.getState(STATE_PHASE);
  let inflight: InflightService[] = [];
  try {
    const parsed: unknown = JSON.parse(core.getState(STATE_RELEASE) || '[]');
    if (Array.isArray(parsed)) inflight = parsed as InflightService[];
  } catch {
    inflight = [];
  }
  return { phase, inflight };
}

export async function writeCleanupSummary(title: string, rows: CleanupRow[]): Promise<void> {
  core.summary
    .addHeading(title, 2)
    .addTable([
      headerRow('Service', 'Deployment', 'Found', 'Action', 'Production now', 'Needs a human'),
      ...rows.map((r) => [
        r.service,
        r.deploymentId || '—',
        r.found || '—',
        r.action,
        r.productionNow || '—',
        r.needsHuman ? `🚨 ${r.needsHuman}` : 'no',
      ]),
    ]);
  await core.summary.write();
}

// ---------- outputs ----------

export { releaseStatus, statusWord };

/** One value per service, newline-separated in `service` order (a single service gives a plain value). */
export function perService(release: Release, pick: (s: ServiceRelease) => string | undefined): string {
  return release.services.map((s) => pick(s) ?? '').join('\n');
}

/** Sets each output to its per-service value (perService). */
export function setPerServiceOutputs(
  release: Release,
  outputs: Record<string, (s: ServiceRelease) => string | undefined>,
): void {
  for (const [name, pick] of Object.entries(outputs)) core.setOutput(name, perService(release, pick));
}

export function setReleaseOutputs(release: Release, json: unknown): void {
  setPerServiceOutputs(release, {
    'deployment-id': (s) => s.deploymentId,
    'previous-deployment-id': (s) => s.previousDeploymentId,
    url: (s) => s.url,
    'production-deployment-id': productionDeploymentOf,
  });
  core.setOutput('status', releaseStatus(release));
  core.setOutput('deployments', JSON.stringify(json));
}

/**
 * railway-deploy's and the root action's entry: main, the post step that cleans up after a cancelled main step, and
 * what a failed main step still outputs. Nothing was changed unless post-step state was saved (saveReleaseState runs
 * right before the first change), so that decides between failed and needs-human.
 */
export function runReleaseAction(
  main: () => Promise<void>,
  cleanup: Parameters<typeof postCleanup>[0],
  failureOutputs: Record<string, string>,
): Promise<void> {
  return runAction(main, () => postCleanup(cleanup), {
    failureOutputs: (f) => ({
      result: f.stateSaved ? 'needs-human' : 'failed',
      'needs-human': String(f.stateSaved),
      ...failureOutputs,
      status: 'ERROR',
      deployments: '[]',
    }),
  });
}

/**
 * The post step of railway-deploy and of the root action: when the main step did not finish (the job was cancelled),
 * cancel deployments still building and, with `rollbackLive`, roll back releases that went live unverified — within
 * POST_STEP_BUDGET_MS. The summary (and a `production-deployment-id:` log line per service) says what Railway runs.
 */
export async function postCleanup(opts: {
  rollbackLive: boolean;
  defaultTimeout: string;
  what: string;
  title: string;
  verify?: boolean;
}): Promise<void> {
  const { phase, inflight } = loadReleaseState();
  if (!cleanupNeeded(phase, inflight)) {
    core.info('Main step finished; nothing to clean up.');
    return;
  }
  const inputs = readRailwayInputs({ servicesRequired: false, defaultTimeout: opts.defaultTimeout });
  // The same inputs as the main step (health-url lines name services as `service` does: names or ids).
  const health = opts.verify && booleanInput('verify', true) ? readHealthInputs(inputs.services) : undefined;
  const deadline = Date.now() + POST_STEP_BUDGET_MS;
  const client = await connectRailway(inputs, deadline, new AbortController().signal);
  try {
    core.warning(
      `The ${opts.what} step did not finish (phase: ${phase}): cancelling deployments still in progress${opts.rollbackLive ? ', finishing a rollback under way and rolling back unverified releases' : ''} (at most ${POST_STEP_BUDGET_MS / 60_000} min).`,
    );
    const rows = await cleanUpAfterInterruptedMain(client, inflight, {
      rollbackLive: opts.rollbackLive,
      deadline,
      log: (m) => core.info(m),
      ...(health ? { health } : {}),
    });
    for (const row of rows) {
      core.info(
        `${row.service}: ${row.deploymentId || '—'} was ${row.found}; ${row.action}; production now ${row.productionNow || 'unknown'}${row.needsHuman ? `; NEEDS A HUMAN: ${row.needsHuman}` : ''}`,
      );
      core.info(`production-deployment-id: ${row.service}=${row.productionDeploymentId}`);
      if (row.needsHuman)
        core.warning(
          `${row.service}: needs a human — ${row.needsHuman}; Railway runs ${row.productionNow || 'an unknown deployment'}`,
        );
    }
    await writeCleanupSummary(opts.title, rows);
  } finally {
    await client.close();
  }
}

// ---------- read-only preflight (check-only) ----------

/**
 * `check-only: true`: the read-only checks of src/release/preflight.ts (no mutation), as a summary table and the
 * `checks` output; fails the step when a check is refuted. Runs before migrations in deploy.yml's gate job.
 */
export async function runPreflightStep(opts: { title: string; health?: HealthInputs }): Promise<void> {
  const inputs = readRailwayInputs({ servicesRequired: true, defaultTimeout: '5m' });
  const source = await readSource(inputs.services, { upload: false });
  let report: PreflightReport;
  let client: RailwayClient | undefined;
  try {
    client = await connectRailway(
      inputs,
      Date.now() + Math.min(inputs.timeoutMs, 5 * 60_000),
      new AbortController().signal,
    );
    report = await preflight(client, {
      ...(inputs.project ? { project: inputs.project } : {}),
      ...(inputs.environment ? { environment: inputs.environment } : {}),
      services: inputs.services,
      source: source.kind,
      ...(source.kind === 'commit' && source.commitSha ? { commitSha: source.commitSha } : {}),
    });
  } catch (err) {
    report = failedConnectionReport(err);
  } finally {
    await client?.close();
  }
  if (opts.health && report.services.length) {
    for (const f of report.services) {
      const choice = ruleFor(opts.health, { service: f.service, ...(f.url ? { url: f.url } : {}) });
      report.checks.push({
        subject: f.service.name,
        check: 'verification rule',
        verdict: 'confirmed',
        detail: describeRule(choice),
      });
    }
  }
  for (const c of report.checks)
    core.info(
      `${c.verdict.toUpperCase().padEnd(9)} ${c.subject}: ${c.check} — ${c.detail}${c.todo ? ` → ${c.todo}` : ''}`,
    );
  core.setOutput('checks', JSON.stringify(report));
  core.setOutput('result', report.ok ? 'checked' : 'check-failed');
  core.summary.addRaw(scrubSecrets(renderPreflightMarkdown(report, opts.title), opts.health?.secrets ?? []), true);
  await core.summary.write();
  if (!report.ok) {
    const refuted = report.checks.filter((c) => c.verdict === 'refuted');
    throw new UserFacingError(
      `Preflight refuted ${refuted.length} check(s): ${refuted.map((c) => `${c.subject}: ${c.check} — ${c.detail}`).join('; ')}`,
    );
  }
}
