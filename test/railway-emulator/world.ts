// The emulated Railway world: projects, environments, services, tokens, variables, and deployments with their
// timer-driven state machine and real app processes.
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import ignore from 'ignore';
import { AppProcess, ListenerPool, ServiceProxy, behaviourEnv, probe } from './apps.js';
import {
  IN_PROGRESS_STATUSES,
  type AppBehaviour,
  type DeploymentEventStep,
  type DeploymentInstanceStatus,
  type DeploymentKind,
  type DeploymentStatus,
  type EmulatedDeployment,
  type EmulatedEvent,
  type EmulatedLog,
  type ScriptedDeployment,
} from './types.js';

export interface WorldOptions {
  buildMs: number;
  deployMs: number;
  tickMs: number;
  /** Start a real app process per deployment (default true). */
  apps: boolean;
  /** How long Railway's healthcheck (when a service has healthcheckPath) keeps trying before FAILED. */
  healthcheckTimeoutMs: number;
  /** How long a container may take to open its port before the deployment FAILS (startDelayMs counts here). */
  startTimeoutMs: number;
  /** A new deployment is invisible to reads for this long: the backend "may not have fully registered the deployment
   *  yet" (railwayapp/cli src/commands/up.rs waits 500 ms and ignores read errors while polling, PR #743). */
  registrationLagMs: number;
  /** Whether the ACTIVE deployment reports canRollback: true. No public source shows it either way (docs.railway.com
   *  guides/roll-back-bad-deploy.md is silent on it), so tests run both; the client must re-read canRollback at rollback time. */
  activeCanRollback: boolean;
}

/** A workspace (formerly team). The account token's user is a member unless `member` is false. */
export interface WorkspaceRecord {
  id: string;
  name: string;
  createdAt: string;
  member: boolean;
}
/** workspaceId null = a personal project: `projects` without workspaceId lists only these (docs
 *  integrations/api/manage-projects.md), and workspace tokens cannot see them (docs integrations/api.md). */
export interface ProjectRecord {
  id: string;
  name: string;
  createdAt: string;
  workspaceId: string | null;
}
export interface EnvironmentRecord {
  id: string;
  name: string;
  projectId: string;
  createdAt: string;
}
export interface ServiceRecord {
  id: string;
  name: string;
  projectId: string;
  createdAt: string;
  source: { repo?: string; image?: string };
  app: AppBehaviour | false;
  domain: boolean;
  /** The commit a deploy without commitSha builds (the branch head of the connected repo). */
  headCommit: string;
  healthcheckPath: string | null;
  healthcheckTimeoutSeconds: number | null;
  /** GitHub autodeploy: a repo-connected service deploys every push to its trigger branch by itself, on by default
   *  (docs deployments/github-autodeploys.md). */
  autoDeploy: boolean;
  /** Trigger branch of autodeploys. */
  branch: string;
  /** Watch paths, gitignore-style, matched from `/` even with a Root Directory (docs builds/build-configuration.md). */
  watchPatterns: string[];
  /** Root Directory: builds run inside it, uploads included (docs builds/build-configuration.md, cli/deploying.md). */
  rootDirectory: string | null;
  customDomain: { domain: string; verified: boolean } | null;
  /** source.image set by serviceInstanceUpdate WITH an environmentId: that environment only (schema argument doc). */
  imageByEnvironment: Map<string, string>;
}
export interface ProjectTokenRecord {
  id: string;
  token: string;
  name: string;
  projectId: string;
  environmentId: string;
  createdAt: string;
}

export type Principal =
  | { kind: 'project'; projectId: string; environmentId: string; tokenId: string }
  | { kind: 'workspace'; workspaceId: string }
  | { kind: 'account' };

const REMOVABLE_WHEN_SUPERSEDED: ReadonlySet<DeploymentStatus> = new Set<DeploymentStatus>([
  'SUCCESS',
  'SLEEPING',
  'CRASHED',
]);
const STOPPED_STATUSES: ReadonlySet<DeploymentStatus> = new Set<DeploymentStatus>([
  'REMOVED',
  'CRASHED',
  'FAILED',
  'SKIPPED',
]);
const MAX_LOG_LINES = 5000;

export class EmulatorError extends Error {}

function isoNano(ms: number, seq: number): string {
  // RFC3339 with nanoseconds like Railway's log timestamps; seq keeps lines in the same ms ordered.
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, -1)}${String(seq % 1_000_000).padStart(6, '0')}Z`;
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** A Root Directory as a relative posix path ('' for the archive root). */
function normaliseRoot(dir: string): string {
  return dir.replace(/\\/g, '/').replace(/^\/+|\/+$/g, '');
}

function underRoot(files: string[], rootDirectory: string): boolean {
  const root = normaliseRoot(rootDirectory);
  return root === '' || files.some((f) => f.startsWith(`${root}/`));
}

/** Gitignore-style watch paths, matched from the repository root (docs builds/build-configuration.md). */
export function watchPatternsMatch(patterns: string[], changedFiles: string[]): boolean {
  const rules = ignore().add(patterns);
  return changedFiles.some((f) => rules.ignores(f.replace(/^\/+/, '')));
}

export class World {
  readonly workspaces = new Map<string, WorkspaceRecord>();
  readonly projects = new Map<string, ProjectRecord>();
  readonly environments = new Map<string, EnvironmentRecord>();
  readonly services = new Map<string, ServiceRecord>();
  readonly projectTokens = new Map<string, ProjectTokenRecord>();
  readonly accountTokens = new Set<string>();
  /** workspace token → workspace id (sent as Authorization: Bearer like account tokens, docs integrations/api.md). */
  readonly workspaceTokens = new Map<string, string>();
  readonly deployments = new Map<string, EmulatedDeployment>();
  /** key `${environmentId}:${serviceId}` or `${environmentId}:` for shared variables */
  readonly variables = new Map<string, Record<string, string>>();
  readonly changes = new EventEmitter();

  private scripts = new Map<string, ScriptedDeployment[]>();
  private timers = new Set<NodeJS.Timeout>();
  private aborted = new Set<string>();
  private apps = new Map<string, AppProcess>();
  private appStarts = new Set<Promise<unknown>>();
  private waiters = new Map<string, (proceed: boolean) => void>();
  private proxies = new Map<string, ServiceProxy>();
  /** instance key → deployment the edge still routes to after a newer one became active (staleRoutingMs) */
  private stalePins = new Map<string, string>();
  private lastCreatedMs = 0;
  private logSeq = 0;
  private closed = false;
  readonly listenerPool = new ListenerPool(3);

  constructor(readonly opts: WorldOptions) {
    this.changes.setMaxListeners(0);
  }

  // ---------- seed data ----------

  addWorkspace(w: { name: string; id?: string; member?: boolean }): WorkspaceRecord {
    const record: WorkspaceRecord = {
      id: w.id ?? randomUUID(),
      name: w.name,
      createdAt: new Date().toISOString(),
      member: w.member ?? true,
    };
    this.workspaces.set(record.id, record);
    return record;
  }

  addProject(p: { name: string; id?: string; workspaceId?: string }): ProjectRecord {
    if (p.workspaceId !== undefined && !this.workspaces.has(p.workspaceId))
      throw new EmulatorError('Workspace not found');
    const record: ProjectRecord = {
      id: p.id ?? randomUUID(),
      name: p.name,
      createdAt: new Date().toISOString(),
      workspaceId: p.workspaceId ?? null,
    };
    this.projects.set(record.id, record);
    return record;
  }

  /** Whether a principal may read a project: account → personal + member workspaces; workspace → its own only. */
  canSeeProject(p: Principal, project: ProjectRecord): boolean {
    if (p.kind === 'project') return p.projectId === project.id;
    if (p.kind === 'workspace') return project.workspaceId === p.workspaceId;
    return project.workspaceId === null || this.workspaces.get(project.workspaceId)?.member === true;
  }

  /** Workspaces a Bearer token operates on (`apiToken { workspaces }`). */
  workspacesOf(p: Principal): WorkspaceRecord[] {
    if (p.kind === 'workspace') return [...this.workspaces.values()].filter((w) => w.id === p.workspaceId);
    if (p.kind === 'account') return [...this.workspaces.values()].filter((w) => w.member);
    return [];
  }

  addEnvironment(projectId: string, e: { name: string; id?: string }): EnvironmentRecord {
    this.requireProject(projectId);
    const record: EnvironmentRecord = {
      id: e.id ?? randomUUID(),
      name: e.name,
      projectId,
      createdAt: new Date().toISOString(),
    };
    this.environments.set(record.id, record);
    return record;
  }

  addService(
    projectId: string,
    s: {
      name: string;
      id?: string;
      source?: { repo?: string; image?: string };
      app?: AppBehaviour | false;
      domain?: boolean;
      healthcheckPath?: string;
      healthcheckTimeoutSeconds?: number;
      autoDeploy?: boolean;
      branch?: string;
      watchPatterns?: string[];
      rootDirectory?: string;
      customDomain?: { domain: string; verified?: boolean };
    },
  ): ServiceRecord {
    this.requireProject(projectId);
    const record: ServiceRecord = {
      id: s.id ?? randomUUID(),
      name: s.name,
      projectId,
      createdAt: new Date().toISOString(),
      source: s.source ?? {},
      app: s.app ?? {},
      domain: s.domain ?? true,
      headCommit: hex(20),
      healthcheckPath: s.healthcheckPath ?? null,
      healthcheckTimeoutSeconds: s.healthcheckTimeoutSeconds ?? null,
      autoDeploy: s.autoDeploy ?? Boolean(s.source?.repo),
      branch: s.branch ?? 'main',
      watchPatterns: s.watchPatterns ?? [],
      rootDirectory: s.rootDirectory ?? null,
      customDomain: s.customDomain
        ? { domain: s.customDomain.domain, verified: s.customDomain.verified ?? false }
        : null,
      imageByEnvironment: new Map(),
    };
    this.services.set(record.id, record);
    return record;
  }

  projectToken(projectId: string, environmentId: string): string {
    this.requireProject(projectId);
    const env = this.requireEnvironment(environmentId);
    if (env.projectId !== projectId)
      throw new EmulatorError(`environment ${environmentId} is not in project ${projectId}`);
    // Railway tokens are bare UUIDs for both kinds: the kind cannot be told from the text.
    const record: ProjectTokenRecord = {
      id: randomUUID(),
      token: randomUUID(),
      name: `token-${this.projectTokens.size + 1}`,
      projectId,
      environmentId,
      createdAt: new Date().toISOString(),
    };
    this.projectTokens.set(record.token, record);
    return record.token;
  }

  accountToken(): string {
    const token = randomUUID();
    this.accountTokens.add(token);
    return token;
  }

  workspaceToken(workspaceId: string): string {
    if (!this.workspaces.has(workspaceId)) throw new EmulatorError('Workspace not found');
    const token = randomUUID();
    this.workspaceTokens.set(token, workspaceId);
    return token;
  }

  scriptDeployment(serviceId: string, b: ScriptedDeployment): void {
    this.requireService(serviceId);
    const queue = this.scripts.get(serviceId) ?? [];
    queue.push(b);
    this.scripts.set(serviceId, queue);
  }

  setVariables(environmentId: string, serviceId: string | null, vars: Record<string, string>, replace: boolean): void {
    const key = `${environmentId}:${serviceId ?? ''}`;
    this.variables.set(key, replace ? { ...vars } : { ...(this.variables.get(key) ?? {}), ...vars });
  }

  variablesFor(environmentId: string, serviceId: string | null): Record<string, string> {
    const shared = this.variables.get(`${environmentId}:`) ?? {};
    if (serviceId === null) return { ...shared };
    return { ...shared, ...(this.variables.get(`${environmentId}:${serviceId}`) ?? {}) };
  }

  // ---------- lookups ----------

  requireProject(id: string): ProjectRecord {
    const p = this.projects.get(id);
    if (!p) throw new EmulatorError('Project not found');
    return p;
  }

  requireEnvironment(id: string): EnvironmentRecord {
    const e = this.environments.get(id);
    if (!e) throw new EmulatorError('Environment not found');
    return e;
  }

  requireService(id: string): ServiceRecord {
    const s = this.services.get(id);
    if (!s) throw new EmulatorError('Service not found');
    return s;
  }

  requireDeployment(id: string): EmulatedDeployment {
    const d = this.deployments.get(id);
    if (!d) throw new EmulatorError('Deployment not found');
    return d;
  }

  environmentsOf(projectId: string): EnvironmentRecord[] {
    return [...this.environments.values()].filter((e) => e.projectId === projectId);
  }

  servicesOf(projectId: string): ServiceRecord[] {
    return [...this.services.values()].filter((s) => s.projectId === projectId);
  }

  /** Newest first, like Railway's list (callers should still sort by createdAt themselves). */
  deploymentsOf(serviceId: string, environmentId?: string): EmulatedDeployment[] {
    return [...this.deployments.values()]
      .filter((d) => d.serviceId === serviceId && (environmentId === undefined || d.environmentId === environmentId))
      .reverse();
  }

  allDeploymentsNewestFirst(): EmulatedDeployment[] {
    return [...this.deployments.values()].reverse();
  }

  activeDeployment(serviceId: string, environmentId?: string): EmulatedDeployment | undefined {
    return this.deploymentsOf(serviceId, environmentId).find((d) => d.status === 'SUCCESS' || d.status === 'SLEEPING');
  }

  /** Readable through the API yet (see registrationLagMs). */
  visible(d: EmulatedDeployment): boolean {
    return Date.now() >= d.visibleAt;
  }

  /** canRollback as the API reports it (see activeCanRollback). */
  reportedCanRollback(d: EmulatedDeployment): boolean {
    if (!d.canRollback) return false;
    return this.opts.activeCanRollback || this.activeDeployment(d.serviceId, d.environmentId)?.id !== d.id;
  }

  /** The image setting of a service in an environment (the default environment when none is given). */
  imageSettingOf(serviceId: string, environmentId?: string): string | undefined {
    return this.imageOf(this.requireService(serviceId), environmentId ?? this.defaultEnvironment(serviceId));
  }

  /** The image a service instance runs in an environment (per-environment override first). */
  imageOf(service: ServiceRecord, environmentId: string): string | undefined {
    return service.imageByEnvironment.get(environmentId) ?? service.source.image;
  }

  /**
   * A push to the service's repository: the branch head moves to `sha`, and with autodeploy on (and the trigger
   * branch) Railway starts its own deployment of that commit after `delayMs` (its webhook). With watch paths set and
   * `changedFiles` given, a push touching none of them ends SKIPPED with "No changed files matched patterns". Resolves
   * to the deployment Railway created, or null (autodeploy off, another branch).
   */
  async push(
    serviceId: string,
    sha: string,
    o: {
      environmentId?: string;
      branch?: string;
      changedFiles?: string[];
      delayMs?: number;
      script?: ScriptedDeployment;
    } = {},
  ): Promise<string | null> {
    const service = this.requireService(serviceId);
    if (!service.source.repo) throw new EmulatorError('Service is not connected to a GitHub repository');
    const branch = o.branch ?? service.branch;
    if (branch === service.branch) service.headCommit = sha;
    if (!service.autoDeploy || branch !== service.branch) return null;
    const environmentId = o.environmentId ?? this.defaultEnvironment(serviceId);
    if (o.delayMs) await this.delay(o.delayMs);
    if (this.closed) return null;
    const unmatched =
      service.watchPatterns.length > 0 &&
      o.changedFiles !== undefined &&
      !watchPatternsMatch(service.watchPatterns, o.changedFiles);
    const script: ScriptedDeployment = unmatched
      ? { ...o.script, outcome: 'SKIPPED', skipReason: 'watch-paths' }
      : (o.script ?? {});
    return this.createDeployment({ serviceId, environmentId, kind: 'github', commitSha: sha, script, meta: { branch } })
      .id;
  }

  /** The environment a service is used in when a caller does not say (its latest deployment's, else the first). */
  defaultEnvironment(serviceId: string): string {
    const service = this.requireService(serviceId);
    const latest = this.deploymentsOf(serviceId)[0];
    if (latest) return latest.environmentId;
    const env = this.environmentsOf(service.projectId)[0];
    if (!env) throw new EmulatorError(`project ${service.projectId} has no environment`);
    return env.id;
  }

  domainOf(serviceId: string, environmentId: string): string | null {
    const service = this.requireService(serviceId);
    if (!service.domain) return null;
    const env = this.requireEnvironment(environmentId);
    const slug = `${service.name}-${env.name}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
    return `${slug}-${service.id.replace(/-/g, '').slice(0, 4)}.up.railway.app`;
  }

  proxyFor(serviceId: string, environmentId?: string): ServiceProxy {
    const envId = environmentId ?? this.defaultEnvironment(serviceId);
    const key = `${envId}:${serviceId}`;
    let proxy = this.proxies.get(key);
    if (!proxy) {
      const { server, port } = this.listenerPool.take();
      proxy = new ServiceProxy(server, port, () => {
        const pinned = this.deployments.get(this.stalePins.get(key) ?? '');
        if (pinned?.appPort && (pinned.status === 'SUCCESS' || pinned.status === 'SLEEPING')) return pinned.appPort;
        const active = this.activeDeployment(serviceId, envId);
        if (active?.status === 'SLEEPING') {
          // A sleeping service wakes on traffic; the request that wakes it gets the edge's 502 (docs
          // deployments/serverless.md: "the first request may 502" while the container starts).
          this.setStatus(active, 'SUCCESS');
          return { status: 502 };
        }
        return active?.appPort ?? null;
      });
      this.proxies.set(key, proxy);
    }
    return proxy;
  }

  serviceUrl(serviceId: string, environmentId?: string): string {
    return this.proxyFor(serviceId, environmentId).url;
  }

  /** App Sleeping (docs deployments/serverless.md): the active deployment goes SLEEPING until the next request to its
   *  URL; Railway lists it as SLEEPING (DeploymentStatus enum, railwayapp/cli src/gql/schema.json). */
  sleep(serviceId: string, environmentId?: string): EmulatedDeployment {
    const active = this.activeDeployment(serviceId, environmentId);
    if (!active || active.status !== 'SUCCESS')
      throw new EmulatorError('Service has no active deployment to put to sleep');
    this.setStatus(active, 'SLEEPING');
    return active;
  }

  setAppBehaviour(deploymentId: string, b: AppBehaviour): void {
    const d = this.requireDeployment(deploymentId);
    d.app = { ...d.app, ...b };
    this.apps.get(deploymentId)?.update(b);
  }

  // ---------- deployments ----------

  /**
   * Creates a deployment and starts its state machine. `source` is the deployment a rollback/redeploy starts
   * from; `external` deployments (someone else deploying) do not consume the scripted queue.
   */
  createDeployment(args: {
    serviceId: string;
    environmentId: string;
    kind: DeploymentKind;
    commitSha?: string | null;
    source?: EmulatedDeployment;
    script?: ScriptedDeployment;
    meta?: Record<string, unknown>;
    uploadedFiles?: string[];
  }): EmulatedDeployment {
    const service = this.requireService(args.serviceId);
    const env = this.requireEnvironment(args.environmentId);
    if (env.projectId !== service.projectId) throw new EmulatorError('Service not found in environment');

    const scripted =
      args.script ??
      (args.kind === 'external' || args.kind === 'github' ? undefined : this.scripts.get(service.id)?.shift());
    const inherited: AppBehaviour = args.source ? args.source.app : service.app === false ? {} : service.app;
    const app: AppBehaviour = { ...inherited, ...(scripted?.app ?? {}) };

    const nowMs = Math.max(Date.now(), this.lastCreatedMs + 1);
    this.lastCreatedMs = nowMs;
    const now = new Date(nowMs).toISOString();
    const id = randomUUID();
    const isRollback = args.kind === 'rollback';
    const commitSha =
      isRollback || args.kind === 'redeploy' || args.kind === 'variables'
        ? (args.source?.commitSha ?? null)
        : (args.commitSha ?? null);
    const sourceImage = typeof args.source?.meta.image === 'string' ? args.source.meta.image : undefined;
    const instanceImage = this.imageOf(service, env.id);
    const pulledImage =
      args.kind === 'redeploy' || args.kind === 'variables' ? (sourceImage ?? instanceImage) : instanceImage;
    const image =
      isRollback && args.source
        ? args.source.image
        : (pulledImage ?? `registry.railway.internal/${service.id}:${hex(6)}`);

    const meta: Record<string, unknown> = isRollback && args.source ? { ...args.source.meta } : {};
    if (commitSha) {
      Object.assign(meta, {
        branch: 'main',
        commitHash: commitSha,
        commitMessage: `Commit ${commitSha.slice(0, 7)}`,
        commitAuthor: 'rail-actions-tests',
        repo: service.source.repo ?? null,
      });
    }
    if (!isRollback && pulledImage) meta.image = image;
    meta.reason =
      args.kind === 'external' || args.kind === 'upload' || args.kind === 'github'
        ? 'deploy'
        : args.kind === 'variables'
          ? 'redeploy'
          : args.kind;
    if (args.source) meta[isRollback ? 'rollbackTargetDeploymentId' : 'redeployedFromDeploymentId'] = args.source.id;
    Object.assign(meta, args.meta ?? {});

    const domain = this.domainOf(service.id, env.id);
    const d: EmulatedDeployment = {
      id,
      projectId: service.projectId,
      environmentId: env.id,
      serviceId: service.id,
      status: 'INITIALIZING',
      history: [{ status: 'INITIALIZING', at: nowMs }],
      createdAt: now,
      updatedAt: now,
      statusUpdatedAt: now,
      canRollback: false,
      canRedeploy: true,
      deploymentStopped: false,
      kind: args.kind,
      sourceDeploymentId: args.source?.id ?? null,
      image,
      commitSha,
      meta,
      snapshotId: isRollback && args.source ? args.source.snapshotId : randomUUID(),
      url: domain ? `https://${domain}` : null,
      staticUrl: domain,
      instances: [],
      events: [],
      buildLogs: [],
      deployLogs: [],
      variables: isRollback && args.source ? { ...args.source.variables } : this.variablesFor(env.id, service.id),
      app,
      script: { ...(scripted ?? {}), outcome: scripted?.outcome ?? 'SUCCESS' },
      appPort: null,
      appPid: null,
      visibleAt: Date.now() + this.opts.registrationLagMs, // real time: createdAt may be bumped 1 ms ahead for ordering
    };
    if (args.uploadedFiles) d.uploadedFiles = args.uploadedFiles;

    // A new deployment cancels older ones of the same service instance that are still on their way (one that watch
    // paths skip never starts, so it replaces nothing).
    const skippedByWatchPaths = d.script.outcome === 'SKIPPED' && d.script.skipReason === 'watch-paths';
    for (const older of skippedByWatchPaths ? [] : this.deploymentsOf(service.id, env.id)) {
      if (IN_PROGRESS_STATUSES.has(older.status)) this.abort(older, 'REMOVED', 'Superseded by a newer deployment');
    }
    this.deployments.set(id, d);
    this.changes.emit('created', d);
    void this.run(d).catch((error: unknown) => {
      if (!this.closed) this.log(d, 'deploy', `emulator error: ${String(error)}`, 'error');
    });
    return d;
  }

  approve(id: string): void {
    const d = this.requireDeployment(id);
    if (d.status !== 'NEEDS_APPROVAL') throw new EmulatorError('Deployment does not need approval');
    this.waiters.get(id)?.(true);
  }

  /** Ends a WAITING deployment: proceed (CI passed) or SKIPPED (CI failed). */
  resolveWaiting(id: string, proceed: boolean): void {
    const d = this.requireDeployment(id);
    if (d.status !== 'WAITING') throw new EmulatorError('Deployment is not waiting');
    this.waiters.get(id)?.(proceed);
  }

  cancel(id: string): void {
    const d = this.requireDeployment(id);
    if (IN_PROGRESS_STATUSES.has(d.status)) this.abort(d, 'REMOVED', 'Deployment cancelled');
  }

  expireImages(serviceId: string): void {
    const active = this.activeDeployment(serviceId);
    for (const d of this.deploymentsOf(serviceId)) {
      if (d !== active && d.canRollback) {
        d.canRollback = false;
        this.touch(d);
      }
    }
  }

  private abort(d: EmulatedDeployment, status: DeploymentStatus, reason: string): void {
    this.aborted.add(d.id);
    this.waiters.get(d.id)?.(false);
    this.log(d, d.status === 'BUILDING' || d.status === 'QUEUED' ? 'build' : 'deploy', reason);
    this.setStatus(d, status);
    void this.stopApp(d);
  }

  private live(d: EmulatedDeployment): boolean {
    return !this.closed && !this.aborted.has(d.id);
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          resolve();
        },
        Math.max(0, ms),
      );
      this.timers.add(timer);
    });
  }

  private waitForDecision(d: EmulatedDeployment): Promise<boolean> {
    return new Promise((resolve) => {
      this.waiters.set(d.id, (proceed) => {
        this.waiters.delete(d.id);
        resolve(proceed);
      });
    });
  }

  private touch(d: EmulatedDeployment): void {
    d.updatedAt = new Date().toISOString();
    this.changes.emit('change', d);
    this.changes.emit(`deployment:${d.id}`, d);
  }

  setStatus(d: EmulatedDeployment, status: DeploymentStatus): void {
    if (d.status === status) return;
    const at = Date.now();
    d.status = status;
    d.history.push({ status, at });
    d.statusUpdatedAt = new Date(at).toISOString();
    const instanceStatus: Partial<Record<DeploymentStatus, DeploymentInstanceStatus>> = {
      SUCCESS: 'RUNNING',
      CRASHED: 'CRASHED',
      REMOVING: 'REMOVING',
      REMOVED: 'REMOVED',
      FAILED: 'EXITED',
      SLEEPING: 'STOPPED',
    };
    const mapped = instanceStatus[status];
    if (mapped) for (const i of d.instances) i.status = mapped;
    if (status === 'SKIPPED') for (const i of d.instances) i.status = 'SKIPPED';
    d.deploymentStopped = STOPPED_STATUSES.has(status);
    this.touch(d);
  }

  private event(
    d: EmulatedDeployment,
    step: DeploymentEventStep,
    payload: EmulatedEvent['payload'] = null,
  ): EmulatedEvent {
    const e: EmulatedEvent = {
      id: randomUUID(),
      step,
      createdAt: new Date().toISOString(),
      completedAt: null,
      payload,
    };
    d.events.push(e);
    this.touch(d);
    return e;
  }

  private complete(d: EmulatedDeployment, e: EmulatedEvent, payload?: EmulatedEvent['payload']): void {
    const done = Date.now();
    e.completedAt = new Date(done).toISOString();
    e.payload = { ...(e.payload ?? {}), durationMs: done - Date.parse(e.createdAt), ...(payload ?? {}) };
    this.touch(d);
  }

  log(d: EmulatedDeployment, kind: 'build' | 'deploy', message: string, severity: 'info' | 'error' = 'info'): void {
    const line: EmulatedLog = {
      timestamp: isoNano(Date.now(), this.logSeq++),
      message,
      severity,
      attributes: [{ key: 'level', value: severity }],
    };
    const list = kind === 'build' ? d.buildLogs : d.deployLogs;
    list.push(line);
    if (list.length > MAX_LOG_LINES) list.splice(0, list.length - MAX_LOG_LINES);
    this.changes.emit(`log:${kind}:${d.id}`, line);
  }

  private async run(d: EmulatedDeployment): Promise<void> {
    const { tickMs } = this.opts;
    const script = d.script;
    const service = this.requireService(d.serviceId);
    const needsBuild = d.kind !== 'rollback' && typeof d.meta.image !== 'string';

    if (d.kind !== 'rollback') {
      const snapshot = this.event(d, 'SNAPSHOT_CODE');
      await this.delay(tickMs);
      if (!this.live(d)) return;
      this.complete(d, snapshot);
    } else {
      await this.delay(tickMs);
      if (!this.live(d)) return;
    }

    if (script.outcome === 'SKIPPED' && script.skipReason === 'watch-paths') {
      // The CLI recognises exactly this build-log prefix (railwayapp/cli src/commands/up.rs, PR #584).
      const patterns = service.watchPatterns.length ? service.watchPatterns.join(', ') : '(service watch paths)';
      this.log(d, 'build', `No changed files matched patterns: ${patterns}`);
      this.setStatus(d, 'SKIPPED');
      return;
    }
    if (d.uploadedFiles && service.rootDirectory && !underRoot(d.uploadedFiles, service.rootDirectory)) {
      // Builds run inside the Root Directory, uploads included (docs cli/deploying.md "Deployment from
      // Subdirectories", builds/build-configuration.md); an archive rooted elsewhere has nothing there. Wording: ours.
      this.log(d, 'build', `Could not find root directory: /${normaliseRoot(service.rootDirectory)}`, 'error');
      this.setStatus(d, 'FAILED');
      return;
    }

    if (script.outcome === 'NEEDS_APPROVAL') {
      this.setStatus(d, 'NEEDS_APPROVAL');
      const approved = await this.waitForDecision(d);
      if (!this.live(d) || !approved) return;
    } else if (script.outcome === 'WAITING' || script.outcome === 'SKIPPED') {
      this.setStatus(d, 'WAITING');
      const proceed =
        script.outcome === 'SKIPPED' ? await this.delay(tickMs * 2).then(() => false) : await this.waitForDecision(d);
      if (!this.live(d)) return;
      if (!proceed) {
        this.log(d, 'build', 'Deployment skipped: a required GitHub check did not pass');
        this.setStatus(d, 'SKIPPED');
        return;
      }
    }

    this.setStatus(d, 'QUEUED');
    await this.delay(tickMs);
    if (!this.live(d)) return;

    const failAtBuild = script.outcome === 'FAILED' && (script.failAt ?? 'BUILD') === 'BUILD';
    if (needsBuild) {
      if (!(await this.build(d, script.buildMs ?? this.opts.buildMs, failAtBuild))) return;
    } else if (script.buildMs !== undefined && d.kind !== 'rollback') {
      // Image services pull instead of building; a scripted buildMs still stretches that phase.
      this.setStatus(d, 'BUILDING');
      this.log(d, 'build', `Pulling image ${d.image}`);
      await this.delay(script.buildMs);
      if (!this.live(d)) return;
    }
    if (!needsBuild && failAtBuild) {
      this.log(d, 'build', `Error: failed to pull image ${d.image}: manifest unknown`, 'error');
      this.setStatus(d, 'FAILED');
      return;
    }

    await this.deploy(d, service);
  }

  private async build(d: EmulatedDeployment, buildMs: number, fail: boolean): Promise<boolean> {
    this.setStatus(d, 'BUILDING');
    const step = this.event(d, 'BUILD_IMAGE');
    const lines = [
      '[Region: us-west1]',
      'Using Railpack builder',
      '↳ Detected Node',
      '↳ Using npm package manager',
      '[stage-0 4/8] RUN npm ci',
      'added 412 packages, and audited 413 packages in 9s',
      '[stage-0 6/8] RUN npm run build',
      '> app@1.0.0 build',
      '> tsc -p tsconfig.build.json',
    ];
    const slice = buildMs / (lines.length + 1);
    for (const line of lines) {
      this.log(d, 'build', line);
      await this.delay(slice);
      if (!this.live(d)) return false;
    }
    await this.delay(slice);
    if (!this.live(d)) return false;
    if (fail) {
      const error =
        'failed to solve: process "/bin/bash -ol pipefail -c npm run build" did not complete successfully: exit code: 2';
      this.log(
        d,
        'build',
        "src/server.ts(42,7): error TS2322: Type 'string' is not assignable to type 'number'.",
        'error',
      );
      this.log(d, 'build', 'npm error Lifecycle script `build` failed with error: code 2', 'error');
      this.log(d, 'build', `ERROR: failed to build: ${error}`, 'error');
      this.log(d, 'build', `Build Failed: build daemon returned an error < ${error} >`, 'error');
      this.complete(d, step, { error: `Build Failed: ${error}` });
      this.setStatus(d, 'FAILED');
      return false;
    }
    this.log(d, 'build', `Build time: ${(buildMs / 1000).toFixed(2)} seconds`);
    this.complete(d, step);
    const publish = this.event(d, 'PUBLISH_IMAGE');
    this.log(d, 'build', `Publishing image ${d.image}`);
    this.complete(d, publish);
    return true;
  }

  private async deploy(d: EmulatedDeployment, service: ServiceRecord): Promise<void> {
    const { tickMs, deployMs } = this.opts;
    const script = d.script;
    const deployStarted = Date.now();
    this.setStatus(d, 'DEPLOYING');
    d.instances = [{ id: randomUUID(), status: 'INITIALIZING' }];
    this.touch(d);
    const container = this.event(d, 'CREATE_CONTAINER');
    this.log(d, 'deploy', 'Starting Container');

    const wantsApp = this.opts.apps && service.app !== false;
    const crashOnStart = script.outcome === 'CRASHED';
    let app: AppProcess | undefined;
    if (wantsApp) {
      const env: Record<string, string> = {
        ...d.variables,
        ...behaviourEnv({ ...d.app, crashOnStart: crashOnStart || d.app.crashOnStart }),
        RAILWAY_DEPLOYMENT_ID: d.id,
        RAILWAY_SERVICE_ID: d.serviceId,
        RAILWAY_SERVICE_NAME: service.name,
        RAILWAY_ENVIRONMENT_ID: d.environmentId,
        RAILWAY_ENVIRONMENT_NAME: this.requireEnvironment(d.environmentId).name,
        RAILWAY_PROJECT_ID: d.projectId,
        RAILWAY_PROJECT_NAME: this.requireProject(d.projectId).name,
        RAILWAY_SNAPSHOT_ID: d.snapshotId,
        RAILWAY_REPLICA_ID: d.instances[0]?.id ?? '',
      };
      if (d.commitSha && d.kind !== 'upload') env.RAILWAY_GIT_COMMIT_SHA = d.commitSha;
      if (typeof d.meta.image === 'string') {
        // Image deploys have no commit: unless a version is scripted, the app reports the image tag as its version.
        env.APP_IMAGE = d.meta.image;
        env.APP_VERSION ??= /:([^:/@]+)$/.exec(d.meta.image)?.[1] ?? d.meta.image;
      }
      const domain = this.domainOf(d.serviceId, d.environmentId);
      if (domain) env.RAILWAY_PUBLIC_DOMAIN = domain;
      const starting = AppProcess.start(env, (line, stream) =>
        this.log(d, 'deploy', line, stream === 'stderr' ? 'error' : 'info'),
      );
      this.appStarts.add(starting);
      try {
        app = await starting;
      } finally {
        this.appStarts.delete(starting);
      }
      if (!this.live(d)) {
        await app.stop();
        return;
      }
      this.apps.set(d.id, app);
      d.appPid = app.pid;
      void app.exited.then((exit) => this.onAppExit(d, app as AppProcess, exit.code, exit.signal, exit.expected));
    } else if (crashOnStart) {
      this.log(d, 'deploy', "Error: Cannot find module '/app/dist/server.js'", 'error');
    }

    // Wait until the container answers HTTP at all (Railway marks a deployment without healthcheck active once
    // the container runs; the emulator waits for the port so SUCCESS means something really serves).
    if (app) {
      const answered = await this.waitUntil(
        () => (app.running ? probe(app.port, '/', 1000).then((s) => s !== null) : Promise.resolve(true)),
        this.opts.startTimeoutMs,
      );
      if (!this.live(d)) return;
      if (!app.running) return; // onAppExit already marked it CRASHED
      if (!answered) {
        this.failHealthcheck(d, container, 'Container never opened its port');
        return;
      }
      d.appPort = app.port;
      d.instances.forEach((i) => (i.status = 'RUNNING'));
      this.touch(d);
    } else if (crashOnStart) {
      await this.delay(tickMs);
      if (!this.live(d)) return;
      this.setStatus(d, 'CRASHED');
      return;
    } else {
      d.instances.forEach((i) => (i.status = 'RUNNING'));
    }
    this.complete(d, container);

    const failHealthcheck = script.outcome === 'FAILED' && script.failAt === 'HEALTHCHECK';
    if (service.healthcheckPath || failHealthcheck) {
      const path = service.healthcheckPath ?? '/health';
      const maxMs =
        service.healthcheckTimeoutSeconds !== null
          ? service.healthcheckTimeoutSeconds * 1000
          : this.opts.healthcheckTimeoutMs;
      const step = this.event(d, 'HEALTHCHECK', { attempt: 0, maxAttempts: 0 });
      this.log(d, 'build', '====================\nStarting Healthcheck\n====================');
      this.log(d, 'build', `Path: ${path}`);
      let attempt = 0;
      const healthy = failHealthcheck
        ? false
        : await this.waitUntil(async () => {
            attempt += 1;
            const status = app ? await probe(app.port, path, 1000) : 200;
            if (status !== 200)
              this.log(
                d,
                'build',
                `Attempt #${attempt} failed with ${status === null ? 'service unavailable' : `status ${status}`}. Continuing to retry.`,
              );
            return status === 200;
          }, maxMs);
      if (!this.live(d) || (app && !app.running)) return;
      if (!healthy) {
        if (failHealthcheck) {
          for (attempt = 1; attempt <= 3; attempt++)
            this.log(d, 'build', `Attempt #${attempt} failed with service unavailable. Continuing to retry.`);
          attempt = 3;
        }
        step.payload = { attempt, maxAttempts: attempt };
        this.failHealthcheck(d, step, `Healthcheck failed: ${path} did not return 200 (${attempt} attempts)`);
        return;
      }
      this.log(d, 'build', `[1/1] Healthcheck succeeded!`);
      this.complete(d, step, { attempt, maxAttempts: attempt });
    }

    const remaining = deployMs - (Date.now() - deployStarted);
    if (remaining > 0) await this.delay(remaining);
    if (!this.live(d) || (app && !app.running)) return;

    const previous = this.activeDeployment(d.serviceId, d.environmentId);
    this.setStatus(d, 'SUCCESS');
    d.canRollback = true;
    this.touch(d);
    if (script.staleRoutingMs !== undefined && previous?.appPort) {
      // The edge keeps sending traffic to the old deployment for a while: the old version still answers.
      const key = `${d.environmentId}:${d.serviceId}`;
      this.stalePins.set(key, previous.id);
      void this.delay(script.staleRoutingMs).then(() => {
        if (this.stalePins.get(key) === previous.id) this.stalePins.delete(key);
        if (!this.closed) this.retirePrevious(d);
      });
    } else {
      this.retirePrevious(d);
    }
    if (script.sleepAfterSuccessMs !== undefined) {
      // App Sleeping (docs deployments/serverless.md): SLEEPING until traffic wakes it (see proxyFor).
      await this.delay(script.sleepAfterSuccessMs);
      if (this.live(d) && d.status === 'SUCCESS') this.setStatus(d, 'SLEEPING');
    }
    if (script.crashAfterSuccessMs !== undefined) {
      // A process that dies after it went live: Railway reads CRASHED once the restart policy (default ON_FAILURE)
      // gave up (docs deployments/reference.md, deployments/restart-policy.md; CRASHED in the DeploymentStatus enum,
      // railwayapp/cli src/gql/schema.json).
      await this.delay(script.crashAfterSuccessMs);
      if (!this.live(d) || d.status !== 'SUCCESS') return;
      if (app?.running) {
        this.log(
          d,
          'deploy',
          'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
          'error',
        );
        app.crash();
      } else if (!app) {
        this.setStatus(d, 'CRASHED');
      }
    }
  }

  private failHealthcheck(d: EmulatedDeployment, step: EmulatedEvent, error: string): void {
    this.log(d, 'build', '1/1 replicas never became healthy!', 'error');
    this.log(d, 'build', 'Healthcheck failed!', 'error');
    this.complete(d, step, { error });
    this.aborted.add(d.id);
    this.setStatus(d, 'FAILED');
    void this.stopApp(d);
  }

  /** Polls `check` every tick until true or `maxMs` passes. */
  private async waitUntil(check: () => Promise<boolean>, maxMs: number): Promise<boolean> {
    const deadline = Date.now() + maxMs;
    for (;;) {
      if (this.closed) return false;
      if (await check()) return true;
      if (Date.now() >= deadline) return false;
      await this.delay(this.opts.tickMs);
    }
  }

  /** Retires deployments older than `d` that still run or crashed (REMOVING → REMOVED). */
  private retirePrevious(d: EmulatedDeployment): void {
    for (const older of this.deploymentsOf(d.serviceId, d.environmentId)) {
      if (older.createdAt >= d.createdAt || !REMOVABLE_WHEN_SUPERSEDED.has(older.status)) continue;
      const drain = this.event(older, 'DRAIN_INSTANCES');
      this.setStatus(older, 'REMOVING');
      void this.stopApp(older).then(async () => {
        await this.delay(this.opts.tickMs * 2);
        this.complete(older, drain);
        if (older.status === 'REMOVING') this.setStatus(older, 'REMOVED');
      });
    }
  }

  private onAppExit(
    d: EmulatedDeployment,
    app: AppProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
    expected: boolean,
  ): void {
    if (this.apps.get(d.id) === app) this.apps.delete(d.id);
    d.appPort = null;
    d.appPid = null;
    if (expected || this.closed) return;
    this.log(d, 'deploy', `Process exited with ${code !== null ? `code ${code}` : `signal ${signal}`}`, 'error');
    if (d.status === 'DEPLOYING' || d.status === 'SUCCESS' || d.status === 'SLEEPING') {
      this.aborted.add(d.id);
      this.setStatus(d, 'CRASHED');
    }
  }

  private async stopApp(d: EmulatedDeployment): Promise<void> {
    const app = this.apps.get(d.id);
    if (!app) return;
    d.appPort = null;
    await app.stop();
  }

  runningApps(): Array<{ deploymentId: string; pid: number; port: number }> {
    return [...this.apps.entries()]
      .filter(([, a]) => a.running)
      .map(([deploymentId, a]) => ({ deploymentId, pid: a.pid, port: a.port }));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const resolve of this.waiters.values()) resolve(false);
    // Apps still spawning must be waited for, or they would outlive close().
    const starting = await Promise.allSettled([...this.appStarts]);
    for (const s of starting) if (s.status === 'fulfilled' && s.value instanceof AppProcess) s.value.killNow();
    await Promise.all([...this.apps.values()].map((a) => a.stop(1000)));
    this.apps.clear();
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    await this.listenerPool.close();
  }
}
