// Shared plumbing for the Railway actions (railway-deploy, rollback, release): input reading with validation
// before any network call, the client with logs routed to core, post-step state, outputs and summaries.
import * as core from '@actions/core';
import { InputError, UserFacingError } from '../../core/errors.js';
import { parseExpectJson, parseExpectStatus, parseHeaders, secretHeaderValues } from '../../health/index.js';
import { RailwayClient, parseApiUrl } from '../../railway/client.js';
import { CANCELLABLE_STATUSES, IN_PROGRESS_STATUSES, SUCCESS_STATUSES, getDeployment } from '../../railway/deployments.js';
import { cancelDeployment } from '../../railway/deploy.js';
import { rollbackTo } from '../../railway/rollback.js';
import { waitForDeployment } from '../../railway/waiter.js';
import { errorMessage } from '../../core/errors.js';
import { scrubSecrets } from '../../core/redact.js';
import {
  cancelUnfinished,
  confirmProduction,
  crashedDuring,
  describeProduction,
  isHttpSpec,
  productionDeploymentOf,
  unchangedBySkip,
  verifyDeployment,
  type AutodeployMode,
  type Release,
  type ServiceRelease,
  type VerifySpec,
} from '../../release/release.js';
import { connectionChecks, preflight, renderPreflightMarkdown, type PreflightReport } from '../../release/preflight.js';
import { describeRule, parseHealthUrls, ruleFor, verifySpecFor, verifySpecForRestored, type VerifyRules } from '../../release/verify-rules.js';
import { FETCH_HEADERS_MAX_MS, HOSTED_JOB_MAX_MS } from '../../core/duration.js';
import { quoteValue, secretParts } from '../../core/redact.js';
import {
  booleanInput, choiceInput, durationInput, integerInput, listInput, mask, notLongerThan, oneLine, readInput, sendableHeaders, stringInput, tokenInput,
} from './inputs.js';
import type { DeploySource } from '../../railway/deploy.js';
import { createUploadTarball } from '../../railway/upload.js';

export interface RailwayInputs {
  token: string;
  apiUrl: string;
  project: string;
  environment: string;
  services: string[];
  timeoutMs: number;
  waitingTimeoutMs: number;
  subscriptions: boolean;
}

/**
 * Reads and validates the connection inputs (token masked first). Throws InputError; sends nothing. railway-token must
 * be a header-safe token (tokenInput), api-url one URL without credentials: fetch refuses a URL with user:password@
 * (Fetch standard, Request constructor: "If parsedURL includes credentials, then throw a TypeError"), and Railway
 * authenticates by the token header anyway. Durations are bounded by the 6 h a job may run on a GitHub-hosted runner.
 */
export function readRailwayInputs(opts: { servicesRequired: boolean; defaultTimeout: string }): RailwayInputs {
  const token = tokenInput('railway-token', { required: true }).trim();
  const rawApiUrl = oneLine('api-url', readInput('api-url').trim());
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]*@/i.test(rawApiUrl)) {
    throw new InputError('api-url', `must not contain credentials (user:password@): Railway is authenticated by railway-token, and fetch refuses such URLs; got ${quoteValue(rawApiUrl)}`);
  }
  const apiUrl = parseApiUrl(rawApiUrl, 'api-url').toString();
  const services = listInput('service');
  if (opts.servicesRequired && services.length === 0) throw new InputError('service', 'is required: one or more service names or ids, one per line');
  return {
    token,
    apiUrl,
    project: stringInput('project'),
    environment: stringInput('environment'),
    services,
    timeoutMs: durationInput('timeout', opts.defaultTimeout, { max: HOSTED_JOB_MAX_MS }),
    waitingTimeoutMs: durationInput('waiting-timeout', '5m', { max: HOSTED_JOB_MAX_MS }),
    subscriptions: booleanInput('subscriptions', true),
  };
}

/** Reads `source` and its companion inputs; the upload tarball is built here, before anything is mutated. */
export async function readSource(services: string[] = [], opts: { upload?: boolean } = {}): Promise<DeploySource> {
  const kind = choiceInput('source', ['commit', 'upload', 'image'] as const, 'commit');
  if (kind === 'commit') {
    // Empty commit-sha (e.g. `commit-sha: ${{ inputs.sha }}` of an unset input) falls back to the workflow's commit:
    // serviceInstanceDeployV2 without a commitSha redeploys the commit the service already runs, NOT the branch head
    // (docs integrations/api/manage-services.md; docs PR #1163), so a commit is always sent.
    const given = stringInput('commit-sha').trim();
    const sha = given || (process.env.GITHUB_SHA ?? '').trim();
    if (sha && !/^[0-9a-f]{7,40}$/i.test(sha)) throw new InputError('commit-sha', `expected a git commit sha (7–40 hex characters), got '${sha}'`);
    if (!given && sha) core.info(`commit-sha is empty: deploying the workflow's commit ${sha} (GITHUB_SHA)`);
    return sha ? { kind, commitSha: sha } : { kind };
  }
  if (kind === 'image') {
    const image = stringInput('image').trim();
    if (image && /\s/.test(image)) throw new InputError('image', `expected an image reference like ghcr.io/acme/api:1.2.3, got '${image}'`);
    return image ? { kind, image } : { kind };
  }
  // A read-only preflight builds no archive (nothing is uploaded).
  if (opts.upload === false) return { kind, dir: '.', tarball: Buffer.alloc(0), files: [] };
  // `path`: one directory for every service, or `service=dir` lines (monorepo: each service uploads its own root).
  const lines = core.getInput('path').split('\n').map((l) => l.trim()).filter(Boolean);
  const perService: Record<string, { dir: string; tarball: Buffer; files: string[] }> = {};
  let shared: string | undefined;
  for (const line of lines) {
    const eq = line.indexOf('=');
    const name = eq > 0 ? line.slice(0, eq).trim() : '';
    if (name && services.includes(name)) {
      if (perService[name]) throw new InputError('path', `names service '${name}' twice`);
      perService[name] = await tarballOf(line.slice(eq + 1).trim(), name);
    } else if (shared !== undefined) {
      throw new InputError('path', "gives more than one directory without a service name; use 'service=dir' lines");
    } else shared = line;
  }
  const uncovered = services.filter((s) => !perService[s]);
  const base = uncovered.length > 0 || Object.keys(perService).length === 0 ? await tarballOf(shared ?? '.') : Object.values(perService)[0];
  if (!base) throw new InputError('path', 'names no directory to upload');
  const source: DeploySource = { kind, ...base };
  if (Object.keys(perService).length > 0) source.perService = perService;
  return source;
}

async function tarballOf(dir: string, service?: string): Promise<{ dir: string; tarball: Buffer; files: string[] }> {
  const { body, files } = await createUploadTarball(dir);
  core.info(`Upload${service ? ` for ${service}` : ''}: ${files.length} file(s), ${(body.length / 1024).toFixed(1)} KiB gzip from '${dir}' (.gitignore/.railwayignore applied; .git and node_modules dropped)`);
  return { dir, tarball: body, files };
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
 * src/consts.rs, src/client.rs; reference "Update 2026-12-02"): the same variable, set in the step's env, bounds how
 * long one Railway request may go unanswered here. Anything else than a positive whole number is ignored.
 */
function httpTimeoutFromEnv(): number | undefined {
  const raw = (process.env.RAILWAY_HTTP_TIMEOUT ?? '').trim();
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) return undefined;
  return Number(raw) * 1000;
}

export interface HealthInputs extends VerifyRules {
  /** URL parts and header values to scrub from summaries (also registered with core.setSecret). */
  secrets: string[];
}

/**
 * The verification inputs, validated before any network call. health-url: one URL (one service only), or one
 * `service=URL` / `service=none` line per service; a service it does not name is checked at its public domain +
 * health-path, or by Railway's status when it has no domain. `known` adds names a line may use besides `services`
 * (the rollback action's recorded deployments). expect-version: `deployment-id` (default — the verified deployment's
 * id must be in the body, so the old version answering does not count), `commit`, `none`, or text.
 */
export function readHealthInputs(services: string[], opts: { known?: string[] } = {}): HealthInputs {
  const known = [...new Set([...services, ...(opts.known ?? [])])];
  // readInput masks every URL's credentials before parseHealthUrls can quote a line it refuses.
  const rawUrls = readInput('health-url');
  const secrets = secretParts(rawUrls);
  const urls = parseHealthUrls(rawUrls, { known, count: services.length });
  const headers = sendableHeaders('health-headers', parseHeaders(stringInput('health-headers', { multiline: true }), 'health-headers'));
  const headerSecrets = secretHeaderValues(headers);
  mask(headerSecrets);
  secrets.push(...headerSecrets);
  const healthPath = stringInput('health-path', { fallback: '/health' }).trim();
  // Resolved against each service's domain (new URL(path, domain)): '//host', a scheme or a backslash ('/\host' is
  // '//host' to the WHATWG parser) would point the check at another host.
  if (!/^\/(?![/\\])[^\s\\]*$/.test(healthPath)) {
    throw new InputError('health-path', `expected a path starting with a single / (e.g. /health), appended to each service's domain; got ${quoteValue(healthPath)}`);
  }
  const expectVersion = stringInput('expect-version', { fallback: 'deployment-id' }).trim();
  const expectStatus = parseExpectStatus(stringInput('expect-status', { fallback: '200', multiline: true }), 'expect-status');
  const expectJson = parseExpectJson(stringInput('expect-json', { multiline: true }), 'expect-json');
  const consecutiveSuccesses = integerInput('consecutive-successes', 3, { min: 1, max: 100 });
  // Bounds (stated in action.yml): a job runs at most 6 h on a GitHub-hosted runner; fetch gives up on headers
  // after 300 s; an interval longer than the check, or a latency limit above the request timeout, cannot take effect.
  const timeoutMs = durationInput('health-timeout', '5m', { max: HOSTED_JOB_MAX_MS });
  const intervalMs = durationInput('health-interval', '1s');
  notLongerThan('health-interval', intervalMs, 'health-timeout', timeoutMs);
  const requestTimeoutMs = durationInput('request-timeout', '10s', { max: FETCH_HEADERS_MAX_MS });
  const maxLatencyMs = core.getInput('max-latency').trim() ? durationInput('max-latency', '1s') : undefined;
  if (maxLatencyMs !== undefined) notLongerThan('max-latency', maxLatencyMs, 'request-timeout', requestTimeoutMs);
  const windowMs = durationInput('verify-window', '30s', { allowZero: true, max: HOSTED_JOB_MAX_MS });
  return {
    urls,
    healthPath,
    expectVersion,
    secrets,
    windowMs,
    http: {
      expectStatus,
      expectJson,
      consecutiveSuccesses,
      intervalMs,
      maxIntervalMs: Math.max(intervalMs, 5000),
      timeoutMs,
      requestTimeoutMs,
      maxLatencyMs,
      headers,
    },
  };
}

/** Log lines naming the rule that verifies each service (the domain is known only after the instance is read). */
export function logRules(health: HealthInputs, services: ServiceRelease[]): void {
  for (const s of services) core.info(`${s.service.name}: verified by ${describeRule(ruleFor(health, s))}`);
}

export { verifySpecFor };

/** The autodeploy inputs (commit sources): adopt Railway's own deployment of the commit, refuse, or deploy anyway. */
export function readAutodeployInputs(): { mode: AutodeployMode; waitMs: number } {
  return {
    mode: choiceInput('autodeploy', ['adopt', 'refuse', 'deploy'] as const, 'adopt'),
    waitMs: durationInput('autodeploy-wait', '30s', { allowZero: true, max: HOSTED_JOB_MAX_MS }),
  };
}

// ---------- after the main flow ----------

/**
 * Time the main step takes, after its own timeout or a cancellation, to cancel what it left building and read what
 * Railway runs (with a derived client: the release's is past its deadline or aborted). On cancellation the runner
 * sends SIGINT, then SIGTERM 7.5 s later, then kills the process 2.5 s after that (actions/runner@258d6c8
 * src/Runner.Sdk/ProcessInvoker.cs:32-33, 447-460): 6 s fits inside the first grace period.
 */
export const SETTLE_MS = 60_000;
export const SETTLE_CANCELLED_MS = 6_000;

/**
 * Ends every path of a main step on what Railway really runs: a deployment the release left on its way (timeout,
 * WAITING, NEEDS_APPROVAL) is cancelled where Railway allows it (not after a job cancellation: the post step does
 * that), then every service whose state the run did not prove is read (confirmProduction).
 */
export async function settleRelease(client: RailwayClient, release: Release, opts: { cancelled: boolean }): Promise<void> {
  const settle = client.derive({ deadline: Date.now() + (opts.cancelled ? SETTLE_CANCELLED_MS : SETTLE_MS) });
  try {
    if (!opts.cancelled) await cancelUnfinished(settle, release, { log: (m) => core.info(m) });
    await confirmProduction(settle, release, { log: (m) => core.info(m) });
  } finally {
    await settle.close();
  }
}

// ---------- post-step state ----------

export const STATE_PHASE = 'railway-phase';
export const STATE_RELEASE = 'railway-release';

export interface InflightService {
  service: string;
  serviceId: string;
  projectId: string;
  environmentId: string;
  deploymentId?: string;
  rollbackTargetId?: string;
  rollbackDeploymentId?: string;
  /** The service's public URL (for the rule that verifies a restored deployment in the post step). */
  url?: string;
}

export function saveReleaseState(release: Release, phase: 'deploying' | 'verifying' | 'rolling-back' | 'done'): void {
  const inflight: InflightService[] = release.services.map((s) => {
    const entry: InflightService = { service: s.service.name, serviceId: s.service.id, projectId: s.scope.projectId, environmentId: s.scope.environmentId };
    if (s.deploymentId) entry.deploymentId = s.deploymentId;
    if (s.rollbackTargetId) entry.rollbackTargetId = s.rollbackTargetId;
    if (s.rollback?.deploymentId) entry.rollbackDeploymentId = s.rollback.deploymentId;
    if (s.url) entry.url = s.url;
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

export interface CleanupRow {
  service: string;
  deploymentId: string;
  found: string;
  action: string;
  /** What Railway runs after the post step (read at its end), e.g. "abc (SUCCESS)". */
  productionNow: string;
  /** The id alone ('' when nothing serves or it could not be read). */
  productionDeploymentId: string;
  /** Set when a person must act, with what to do. */
  needsHuman?: string;
}

/**
 * The post step's budget. A cancelled job gets the job cancel timeout for everything still to run —
 * `cancel-timeout-minutes`, 5 minutes by default (actions/runner@258d6c8 src/Sdk/WorkflowParser/WorkflowConstants.cs:10
 * DefaultJobCancelTimeoutInMinutes = 5; src/Sdk/DTPipelines/Pipelines/PipelineConstants.cs:17) — and the listener
 * kills the worker 15 s before it ends (src/Runner.Listener/JobDispatcher.cs:1278-1285). The cancelled step takes up to
 * 10 s to stop (ProcessInvoker.cs:32-33), and always() steps and other actions' post steps share the rest: 3 minutes
 * leaves them over a minute and a half.
 */
export const POST_STEP_BUDGET_MS = 3 * 60_000;

/** A verification that fits in what is left of the post step's budget (minus a margin to write the summary). */
function withinBudget(spec: VerifySpec, deadline: number): VerifySpec {
  const left = Math.max(1000, deadline - Date.now() - 10_000);
  const windowMs = Math.min(spec.windowMs, Math.floor(left / 2));
  return isHttpSpec(spec) ? { ...spec, windowMs, health: { ...spec.health, timeoutMs: Math.min(spec.health.timeoutMs, left - windowMs) } } : { ...spec, windowMs };
}

/**
 * The post step when the main step did not finish (job cancelled, runner killed it). Per service: a rollback that was
 * on its way is waited for and verified by the service's rule; a deployment still building is cancelled
 * (cancelDeployment: only what Railway documents as cancellable, with the reason when it declines); with
 * `rollbackLive`, a new deployment that went live unverified — or goes live while the budget lasts — is rolled back to
 * the recorded target. Ends with what Railway runs, read for every service.
 */
export async function cleanUpAfterInterruptedMain(
  client: RailwayClient,
  inflight: InflightService[],
  opts: { rollbackLive: boolean; deadline: number; health?: HealthInputs },
): Promise<CleanupRow[]> {
  const log = (s: InflightService, m: string) => core.info(`${s.service}: ${m}`);
  return Promise.all(
    inflight.map(async (s): Promise<CleanupRow> => {
      const row: CleanupRow = { service: s.service, deploymentId: s.deploymentId ?? '', found: '', action: '', productionNow: '', productionDeploymentId: '' };
      const scope = { projectId: s.projectId, environmentId: s.environmentId, serviceId: s.serviceId };
      const named = { service: { id: s.serviceId, name: s.service }, ...(s.url ? { url: s.url } : {}) };
      const verifyRestored = async (id: string): Promise<string> => {
        if (!opts.health) return 'not verified (verify: false)';
        const v = await verifyDeployment(client, id, withinBudget(verifySpecForRestored(opts.health, named, id), opts.deadline), { log: (m) => log(s, m), useSubscription: false });
        return v.healthy ? `verified by ${v.rule === 'http' ? 'HTTP' : 'Railway status'}` : `verification FAILED: ${v.reason}`;
      };
      try {
        if (s.rollbackDeploymentId) {
          const id = s.rollbackDeploymentId;
          row.found = `rollback ${id} on its way`;
          const w = await waitForDeployment(client, id, { deadline: opts.deadline - 15_000, scope, useSubscription: false, registrationDelayMs: 0, log: (m) => log(s, m) });
          row.action = w.ok ? `waited for the rollback: ${id} went live; ${await verifyRestored(id)}` : `waited for the rollback: ${w.message}`;
          if (!w.ok || /FAILED/.test(row.action)) row.needsHuman = `the rollback deployment ${id} ${w.ok ? 'failed verification' : `did not go live (${w.outcome})`}`;
        } else if (!s.deploymentId) {
          row.found = 'no deployment started';
          row.action = 'none';
        } else {
          const d = await getDeployment(client, s.deploymentId);
          row.found = d.status;
          if (CANCELLABLE_STATUSES.has(d.status)) {
            const c = await cancelDeployment(client, s.deploymentId, { log: (m) => log(s, m) });
            row.action = c.cancelled ? `cancelled the in-flight deployment (was ${c.status})` : c.reason;
          } else if (IN_PROGRESS_STATUSES.has(d.status)) {
            const declined = `not cancelled: it is ${d.status}, and Railway documents cancelling only initializing, queued or building deployments`;
            if (opts.rollbackLive && d.status === 'DEPLOYING') {
              // It may go live any moment, unverified: wait while the budget lasts and roll it back if it does.
              const w = await waitForDeployment(client, s.deploymentId, { deadline: opts.deadline - 90_000, scope, useSubscription: false, registrationDelayMs: 0 });
              if (w.ok) row.action = `${declined}; it went live, unverified — ${await rollBack(s, scope)}`;
              else row.action = `${declined}; it ended ${w.status || w.outcome}`;
            } else {
              row.action = `${declined}; it may still go live, unverified`;
              row.needsHuman = `deployment ${s.deploymentId} is ${d.status} and may go live unverified: cancel or approve it in Railway deliberately`;
            }
          } else if (SUCCESS_STATUSES.has(d.status) && opts.rollbackLive) {
            row.action = await rollBack(s, scope);
          } else if (SUCCESS_STATUSES.has(d.status)) {
            row.action = 'none: the deployment had already gone live (not verified)';
          } else {
            row.action = 'none: the deployment had already ended';
          }
        }
      } catch (err) {
        row.action = `failed: ${client.scrub(errorMessage(err))}`;
        row.needsHuman = 'the clean-up failed';
      }
      await readProduction(client, scope, row);
      return row;

      async function rollBack(svc: InflightService, sc: typeof scope): Promise<string> {
        if (!svc.rollbackTargetId) {
          row.needsHuman = 'nothing was recorded to roll back to';
          return 'could not roll back: no rollback target was recorded';
        }
        const r = await rollbackTo(client, sc, svc.rollbackTargetId, { deadline: opts.deadline - 30_000, useSubscription: false, log: (m) => log(svc, m) });
        if (!r.ok) {
          row.needsHuman = `the rollback to ${svc.rollbackTargetId} failed`;
          return `rollback to ${svc.rollbackTargetId} failed: ${r.message}`;
        }
        return `rolled back the unverified release to ${svc.rollbackTargetId} (${r.method}) as ${r.deploymentId ?? '?'}; ${r.deploymentId ? await verifyRestored(r.deploymentId) : ''}`;
      }
    }),
  );
}

/** What Railway runs for the service at the end of the post step. */
async function readProduction(client: RailwayClient, scope: { projectId: string; environmentId: string; serviceId: string }, row: CleanupRow): Promise<void> {
  const probe: ServiceRelease = { service: { id: scope.serviceId, name: row.service }, scope, status: '', outcome: 'not-started', message: '', history: [] };
  const release: Release = { project: { id: scope.projectId, name: '' }, environment: { id: scope.environmentId, name: '' }, source: 'commit', startedAt: Date.now(), services: [probe], events: [] };
  await confirmProduction(client, release, { all: true });
  row.productionNow = describeProduction(probe);
  row.productionDeploymentId = probe.production?.error ? '' : (probe.production?.deploymentId ?? '');
  if (probe.production?.error) row.needsHuman = `${row.needsHuman ? `${row.needsHuman}; ` : ''}what Railway runs could not be read`;
  else if (probe.production?.pending.length) row.needsHuman = `${row.needsHuman ? `${row.needsHuman}; ` : ''}a deployment is still on its way (${probe.production.pending.map((d) => `${d.id} ${d.status}`).join(', ')})`;
}

export async function writeCleanupSummary(title: string, rows: CleanupRow[]): Promise<void> {
  core.summary.addHeading(title, 2).addTable([
    [
      { data: 'Service', header: true },
      { data: 'Deployment', header: true },
      { data: 'Found', header: true },
      { data: 'Action', header: true },
      { data: 'Production now', header: true },
      { data: 'Needs a human', header: true },
    ],
    ...rows.map((r) => [r.service, r.deploymentId || '—', r.found || '—', r.action, r.productionNow || '—', r.needsHuman ? `🚨 ${r.needsHuman}` : 'no']),
  ]);
  await core.summary.write();
}

// ---------- outputs ----------

/** Release-level status word: SUCCESS when every service went live, else the first failing service's status. */
export function statusWord(svc: ServiceRelease): string {
  switch (svc.outcome) {
    case 'success':
      if (svc.verification && !svc.verification.healthy) return crashedDuring(svc.verification) ? 'CRASHED' : 'UNHEALTHY';
      return svc.status || 'SUCCESS';
    case 'superseded':
      return 'SUPERSEDED';
    case 'timeout':
      return 'TIMEOUT';
    case 'cancelled':
      return 'CANCELLED';
    case 'error':
    case 'not-started':
    case 'unconfirmed':
      return 'ERROR';
    case 'refused':
      return 'REFUSED';
    case 'needs-approval':
      return 'NEEDS_APPROVAL';
    case 'waiting':
      return 'WAITING';
    default:
      return svc.status || svc.outcome.toUpperCase();
  }
}

/** SUCCESS when every service went live or was SKIPPED by watch paths (nothing to deploy); else the first failing word. */
export function releaseStatus(release: Release): string {
  const failing = release.services.filter((s) => !unchangedBySkip(s)).map(statusWord);
  return failing.find((w) => w !== 'SUCCESS' && w !== 'SLEEPING') ?? failing[0] ?? (release.services.length ? 'SKIPPED' : 'ERROR');
}

/** One value per service, newline-separated in `service` order (a single service gives a plain value). */
export function perService(release: Release, pick: (s: ServiceRelease) => string | undefined): string {
  return release.services.map((s) => pick(s) ?? '').join('\n');
}

export function setReleaseOutputs(release: Release, json: unknown): void {
  core.setOutput('deployment-id', perService(release, (s) => s.deploymentId));
  core.setOutput('previous-deployment-id', perService(release, (s) => s.previousDeploymentId));
  core.setOutput('status', releaseStatus(release));
  core.setOutput('url', perService(release, (s) => s.url));
  core.setOutput('production-deployment-id', perService(release, (s) => productionDeploymentOf(s)));
  core.setOutput('deployments', JSON.stringify(json));
}

/**
 * The post step of railway-deploy and of the root action: when the main step did not finish (the job was cancelled),
 * cancel deployments still building and, with `rollbackLive`, roll back releases that went live unverified — within
 * POST_STEP_BUDGET_MS. The summary (and a `production-deployment-id:` log line per service) says what Railway runs.
 */
export async function postCleanup(opts: { rollbackLive: boolean; defaultTimeout: string; what: string; title: string; verify?: boolean }): Promise<void> {
  const { phase, inflight } = loadReleaseState();
  if (!phase || phase === 'done' || inflight.every((s) => !s.deploymentId && !s.rollbackDeploymentId)) {
    core.info('Main step finished; nothing to clean up.');
    return;
  }
  const inputs = readRailwayInputs({ servicesRequired: false, defaultTimeout: opts.defaultTimeout });
  // The same inputs as the main step (health-url lines name services as `service` does: names or ids).
  const health = opts.verify && booleanInput('verify', true) ? readHealthInputs(inputs.services) : undefined;
  const deadline = Date.now() + POST_STEP_BUDGET_MS;
  const client = await connectRailway(inputs, deadline, new AbortController().signal);
  try {
    core.warning(`The ${opts.what} step did not finish (phase: ${phase}): cancelling deployments still in progress${opts.rollbackLive ? ', finishing a rollback under way and rolling back unverified releases' : ''} (at most ${POST_STEP_BUDGET_MS / 60_000} min).`);
    const rows = await cleanUpAfterInterruptedMain(client, inflight, { rollbackLive: opts.rollbackLive, deadline, ...(health ? { health } : {}) });
    for (const row of rows) {
      core.info(`${row.service}: ${row.deploymentId || '—'} was ${row.found}; ${row.action}; production now ${row.productionNow || 'unknown'}${row.needsHuman ? `; NEEDS A HUMAN: ${row.needsHuman}` : ''}`);
      core.info(`production-deployment-id: ${row.service}=${row.productionDeploymentId}`);
      if (row.needsHuman) core.warning(`${row.service}: needs a human — ${row.needsHuman}; Railway runs ${row.productionNow || 'an unknown deployment'}`);
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
    client = await connectRailway(inputs, Date.now() + Math.min(inputs.timeoutMs, 5 * 60_000), new AbortController().signal);
    report = await preflight(client, {
      ...(inputs.project ? { project: inputs.project } : {}),
      ...(inputs.environment ? { environment: inputs.environment } : {}),
      services: inputs.services,
      source: source.kind,
      ...(source.kind === 'commit' && source.commitSha ? { commitSha: source.commitSha } : {}),
    });
  } catch (err) {
    report = { tokenKind: 'project', project: null, environment: null, services: [], checks: connectionChecks(err), ok: false };
  } finally {
    await client?.close();
  }
  if (opts.health && report.services.length) {
    for (const f of report.services) {
      const choice = ruleFor(opts.health, { service: f.service, ...(f.url ? { url: f.url } : {}) });
      report.checks.push({ subject: f.service.name, check: 'verification rule', verdict: 'confirmed', detail: describeRule(choice) });
    }
  }
  for (const c of report.checks) core.info(`${c.verdict.toUpperCase().padEnd(9)} ${c.subject}: ${c.check} — ${c.detail}${c.todo ? ` → ${c.todo}` : ''}`);
  core.setOutput('checks', JSON.stringify(report));
  core.setOutput('result', report.ok ? 'checked' : 'check-failed');
  core.summary.addRaw(scrubSecrets(renderPreflightMarkdown(report, opts.title), opts.health?.secrets ?? []), true);
  await core.summary.write();
  if (!report.ok) {
    const refuted = report.checks.filter((c) => c.verdict === 'refuted');
    throw new UserFacingError(`Preflight refuted ${refuted.length} check(s): ${refuted.map((c) => `${c.subject}: ${c.check} — ${c.detail}`).join('; ')}`);
  }
}
