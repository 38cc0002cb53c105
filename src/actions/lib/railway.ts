// Shared plumbing for the Railway actions (railway-deploy, rollback, release): input reading with validation
// before any network call, the client with logs routed to core, post-step state, outputs and summaries.
import * as core from '@actions/core';
import { InputError } from '../../core/errors.js';
import { parseExpectJson, parseExpectStatus, parseHeaders, secretHeaderValues, secretUrlParts } from '../../health/index.js';
import { RailwayClient, parseApiUrl } from '../../railway/client.js';
import { IN_PROGRESS_STATUSES, SUCCESS_STATUSES, getDeployment } from '../../railway/deployments.js';
import { CANCEL_DEPLOYMENT } from '../../railway/operations.js';
import { rollbackTo } from '../../railway/rollback.js';
import { errorMessage } from '../../core/errors.js';
import { crashedDuring, productionDeploymentOf, type Release, type ServiceRelease } from '../../release/release.js';
import { NO_HTTP, describeRule, parseHealthUrls, ruleFor, verifySpecFor, type VerifyRules } from '../../release/verify-rules.js';
import { booleanInput, choiceInput, durationInput, integerInput, listInput, secretInput, stringInput } from './inputs.js';
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

/** Reads and validates the connection inputs (token masked first). Throws InputError; sends nothing. */
export function readRailwayInputs(opts: { servicesRequired: boolean; defaultTimeout: string }): RailwayInputs {
  const token = secretInput('railway-token', { required: true }).trim();
  const apiUrl = parseApiUrl(core.getInput('api-url'), 'api-url').toString();
  const services = listInput('service');
  if (opts.servicesRequired && services.length === 0) throw new InputError('service', 'is required: one or more service names or ids, one per line');
  return {
    token,
    apiUrl,
    project: stringInput('project'),
    environment: stringInput('environment'),
    services,
    timeoutMs: durationInput('timeout', opts.defaultTimeout),
    waitingTimeoutMs: durationInput('waiting-timeout', '5m'),
    subscriptions: booleanInput('subscriptions', true),
  };
}

/** Reads `source` and its companion inputs; the upload tarball is built here, before anything is mutated. */
export async function readSource(services: string[] = []): Promise<DeploySource> {
  const kind = choiceInput('source', ['commit', 'upload', 'image'] as const, 'commit');
  if (kind === 'commit') {
    const sha = stringInput('commit-sha').trim();
    if (sha && !/^[0-9a-f]{7,40}$/i.test(sha)) throw new InputError('commit-sha', `expected a git commit sha (7–40 hex characters), got '${sha}'`);
    return sha ? { kind, commitSha: sha } : { kind };
  }
  if (kind === 'image') {
    const image = stringInput('image').trim();
    if (image && /\s/.test(image)) throw new InputError('image', `expected an image reference like ghcr.io/acme/api:1.2.3, got '${image}'`);
    return image ? { kind, image } : { kind };
  }
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
  return RailwayClient.connect({
    token: inputs.token,
    apiUrl: inputs.apiUrl,
    deadline,
    signal,
    webSocket: inputs.subscriptions,
    log: (m) => core.info(m),
  });
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
  const secrets: string[] = [];
  const known = [...new Set([...services, ...(opts.known ?? [])])];
  const urls = parseHealthUrls(core.getInput('health-url'), { known, count: services.length });
  for (const url of [...urls.named.values(), urls.single]) {
    if (!url || url === NO_HTTP) continue;
    for (const s of secretUrlParts(url)) {
      core.setSecret(s);
      secrets.push(s);
    }
  }
  const headers = parseHeaders(core.getInput('health-headers'), 'health-headers');
  for (const s of secretHeaderValues(headers)) {
    core.setSecret(s);
    secrets.push(s);
  }
  const intervalMs = durationInput('health-interval', '1s');
  return {
    urls,
    healthPath: stringInput('health-path', { fallback: '/health' }),
    expectVersion: stringInput('expect-version', { fallback: 'deployment-id' }).trim(),
    secrets,
    windowMs: durationInput('verify-window', '30s', { allowZero: true }),
    http: {
      expectStatus: parseExpectStatus(stringInput('expect-status', { fallback: '200' }), 'expect-status'),
      expectJson: parseExpectJson(core.getInput('expect-json'), 'expect-json'),
      consecutiveSuccesses: integerInput('consecutive-successes', 3, { min: 1 }),
      intervalMs,
      maxIntervalMs: Math.max(intervalMs, 5000),
      timeoutMs: durationInput('health-timeout', '5m'),
      requestTimeoutMs: durationInput('request-timeout', '10s'),
      maxLatencyMs: core.getInput('max-latency').trim() ? durationInput('max-latency', '1s') : undefined,
      headers,
    },
  };
}

/** Log lines naming the rule that verifies each service (the domain is known only after the instance is read). */
export function logRules(health: HealthInputs, services: ServiceRelease[]): void {
  for (const s of services) core.info(`${s.service.name}: verified by ${describeRule(ruleFor(health, s))}`);
}

export { verifySpecFor };

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
}

export function saveReleaseState(release: Release, phase: 'deploying' | 'verifying' | 'rolling-back' | 'done'): void {
  const inflight: InflightService[] = release.services.map((s) => {
    const entry: InflightService = { service: s.service.name, serviceId: s.service.id, projectId: s.scope.projectId, environmentId: s.scope.environmentId };
    if (s.deploymentId) entry.deploymentId = s.deploymentId;
    if (s.rollbackTargetId) entry.rollbackTargetId = s.rollbackTargetId;
    if (s.rollback?.deploymentId) entry.rollbackDeploymentId = s.rollback.deploymentId;
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
  productionNow: string;
}

/**
 * The post step when the main step did not finish (job cancelled, runner killed it): cancel deployments still
 * building; with `rollbackLive`, roll back a new deployment that went live unverified to the recorded target.
 */
export async function cleanUpAfterInterruptedMain(client: RailwayClient, inflight: InflightService[], opts: { rollbackLive: boolean; deadline: number }): Promise<CleanupRow[]> {
  return Promise.all(
    inflight.map(async (s): Promise<CleanupRow> => {
      const row: CleanupRow = { service: s.service, deploymentId: s.deploymentId ?? '', found: '', action: '', productionNow: '' };
      if (s.rollbackDeploymentId) {
        const d = await getDeployment(client, s.rollbackDeploymentId).catch(() => undefined);
        row.found = `rollback ${s.rollbackDeploymentId} ${d?.status ?? 'unknown'}`;
        row.action = 'none: the rollback restoring the previous version was already under way';
        row.productionNow = SUCCESS_STATUSES.has(d?.status ?? '') ? s.rollbackDeploymentId : `${s.rollbackDeploymentId} (${d?.status ?? 'unknown'})`;
        return row;
      }
      if (!s.deploymentId) {
        row.found = 'no deployment started';
        row.action = 'none';
        return row;
      }
      const scope = { projectId: s.projectId, environmentId: s.environmentId, serviceId: s.serviceId };
      try {
        const d = await getDeployment(client, s.deploymentId);
        row.found = d.status;
        if (IN_PROGRESS_STATUSES.has(d.status)) {
          await client.request<{ deploymentCancel: boolean }>(CANCEL_DEPLOYMENT, { id: s.deploymentId }, 'CancelDeployment');
          row.action = `cancelled the in-flight deployment (was ${d.status})`;
          row.productionNow = 'previous deployment (unchanged)';
        } else if (SUCCESS_STATUSES.has(d.status) && opts.rollbackLive) {
          if (!s.rollbackTargetId) {
            row.action = 'could not roll back: no rollback target was recorded';
            row.productionNow = `${s.deploymentId} (unverified)`;
          } else {
            const r = await rollbackTo(client, scope, s.rollbackTargetId, { deadline: opts.deadline, log: (m) => core.info(`${s.service}: ${m}`) });
            row.action = r.ok ? `rolled back the unverified release to ${s.rollbackTargetId} (${r.method})` : `rollback failed: ${r.message}`;
            row.productionNow = r.ok && r.deploymentId ? r.deploymentId : `${s.deploymentId} (unverified)`;
          }
        } else if (SUCCESS_STATUSES.has(d.status)) {
          row.action = 'none: the deployment had already gone live (not verified)';
          row.productionNow = s.deploymentId;
        } else {
          row.action = 'none: the deployment had already ended';
          row.productionNow = 'previous deployment (unchanged)';
        }
      } catch (err) {
        row.action = `failed: ${client.scrub(errorMessage(err))}`;
      }
      return row;
    }),
  );
}

export async function writeCleanupSummary(title: string, rows: CleanupRow[]): Promise<void> {
  core.summary.addHeading(title, 2).addTable([
    [
      { data: 'Service', header: true },
      { data: 'Deployment', header: true },
      { data: 'Found', header: true },
      { data: 'Action', header: true },
      { data: 'Production now', header: true },
    ],
    ...rows.map((r) => [r.service, r.deploymentId || '—', r.found || '—', r.action, r.productionNow || '—']),
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
      return 'ERROR';
    case 'needs-approval':
      return 'NEEDS_APPROVAL';
    case 'waiting':
      return 'WAITING';
    default:
      return svc.status || svc.outcome.toUpperCase();
  }
}

export function releaseStatus(release: Release): string {
  const words = release.services.map(statusWord);
  return words.find((w) => w !== 'SUCCESS' && w !== 'SLEEPING') ?? words[0] ?? 'ERROR';
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
 * cancel deployments still building and, with `rollbackLive`, roll back releases that went live unverified.
 */
export async function postCleanup(opts: { rollbackLive: boolean; defaultTimeout: string; capMs: number; what: string; title: string }): Promise<void> {
  const { phase, inflight } = loadReleaseState();
  if (!phase || phase === 'done' || inflight.every((s) => !s.deploymentId)) {
    core.info('Main step finished; nothing to clean up.');
    return;
  }
  const inputs = readRailwayInputs({ servicesRequired: false, defaultTimeout: opts.defaultTimeout });
  const deadline = Date.now() + Math.min(inputs.timeoutMs, opts.capMs);
  const client = await connectRailway(inputs, deadline, new AbortController().signal);
  try {
    core.warning(`The ${opts.what} step did not finish (phase: ${phase}): cancelling deployments still in progress${opts.rollbackLive ? ' and rolling back unverified ones' : ''}.`);
    const rows = await cleanUpAfterInterruptedMain(client, inflight, { rollbackLive: opts.rollbackLive, deadline });
    for (const row of rows) {
      core.info(`${row.service}: ${row.deploymentId || '—'} was ${row.found}; ${row.action}${opts.rollbackLive ? `; production now ${row.productionNow || 'unknown'}` : ''}`);
    }
    await writeCleanupSummary(opts.title, rows);
  } finally {
    await client.close();
  }
}
