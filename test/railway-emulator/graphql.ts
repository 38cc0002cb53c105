// GraphQL layer of the emulator: schema.graphql with resolvers over the World, and Railway's auth rules.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  GraphQLError,
  buildSchema,
  type GraphQLFieldConfig,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { IN_PROGRESS_STATUSES, type DeploymentStatus, type EmulatedDeployment, type EmulatedLog } from './types.js';
import {
  EmulatorError,
  type EnvironmentRecord,
  type Principal,
  type ProjectRecord,
  type ServiceRecord,
  type World,
} from './world.js';

export const SCHEMA_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'schema.graphql');

export interface RequestContext {
  principal: Principal | null;
  /** Why principal is null (Railway's wording), when a token was sent but not recognised. */
  authError: string;
  /** The raw Project-Access-Token header, for the projectToken query. */
  projectTokenHeader: string | null;
}

/** Resolves Railway's two auth headers to a principal, like backboard does. */
export function authenticate(world: World, headers: Record<string, string | undefined>): RequestContext {
  const lower: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  const projectToken = lower['project-access-token']?.trim() || null;
  if (projectToken) {
    const record = world.projectTokens.get(projectToken);
    if (!record) return { principal: null, authError: 'Project Token not found', projectTokenHeader: projectToken };
    return {
      principal: {
        kind: 'project',
        projectId: record.projectId,
        environmentId: record.environmentId,
        tokenId: record.id,
      },
      authError: '',
      projectTokenHeader: projectToken,
    };
  }
  const authorization = lower.authorization?.trim() ?? '';
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim();
  if (bearer && world.accountTokens.has(bearer))
    return { principal: { kind: 'account' }, authError: '', projectTokenHeader: null };
  // Workspace (formerly team) tokens use the same Bearer header (docs integrations/api.md; docs commit b56bc98a).
  const workspaceId = bearer ? world.workspaceTokens.get(bearer) : undefined;
  if (workspaceId) return { principal: { kind: 'workspace', workspaceId }, authError: '', projectTokenHeader: null };
  return { principal: null, authError: 'Not Authorized', projectTokenHeader: null };
}

function gqlError(message: string): GraphQLError {
  return new GraphQLError(message);
}

function requireAuth(ctx: RequestContext): Principal {
  if (!ctx.principal) throw gqlError(ctx.authError || 'Not Authorized');
  return ctx.principal;
}

/** Throws Railway's "Not Authorized" unless the caller may touch this project (and environment). */
function requireAccess(world: World, ctx: RequestContext, projectId: string, environmentId?: string | null): Principal {
  const p = requireAuth(ctx);
  const project = world.projects.get(projectId);
  if (!project || !world.canSeeProject(p, project)) throw gqlError('Not Authorized');
  if (p.kind === 'project' && environmentId && environmentId !== p.environmentId) throw gqlError('Not Authorized');
  return p;
}

/** Turns lookups that fail into GraphQL errors with the emulator's message. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof EmulatorError) throw gqlError(error.message);
    throw error;
  }
}

// ---------- cursor pagination (Relay style, as Railway's connections) ----------

interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export function encodeCursor(id: string): string {
  return Buffer.from(`cursor:${id}`, 'utf8').toString('base64');
}

function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  if (!text.startsWith('cursor:')) throw gqlError(`Invalid cursor: ${cursor}`);
  return text.slice('cursor:'.length);
}

export function paginate<T>(
  items: T[],
  args: PageArgs,
  idOf: (item: T) => string,
): {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { startCursor: string | null; endCursor: string | null; hasNextPage: boolean; hasPreviousPage: boolean };
} {
  for (const n of [args.first, args.last])
    if (n !== undefined && n !== null && n < 0) throw gqlError('Pagination argument must be non-negative');
  let start = 0;
  let end = items.length;
  if (args.after) {
    const id = decodeCursor(args.after);
    const at = items.findIndex((i) => idOf(i) === id);
    start = at >= 0 ? at + 1 : start;
  }
  if (args.before) {
    const id = decodeCursor(args.before);
    const at = items.findIndex((i) => idOf(i) === id);
    end = at >= 0 ? at : end;
  }
  let sliceStart = start;
  let sliceEnd = end;
  if (args.first !== undefined && args.first !== null) sliceEnd = Math.min(sliceEnd, sliceStart + args.first);
  if (args.last !== undefined && args.last !== null) sliceStart = Math.max(sliceStart, sliceEnd - args.last);
  const page = items.slice(sliceStart, sliceEnd);
  const edges = page.map((node) => ({ cursor: encodeCursor(idOf(node)), node }));
  return {
    edges,
    pageInfo: {
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
      hasNextPage: sliceEnd < end || (args.before ? end < items.length : false),
      hasPreviousPage: sliceStart > start || (args.after ? start > 0 : false),
    },
  };
}

// ---------- views: plain objects the default resolver walks (functions take field args) ----------

type View = Record<string, unknown>;

function projectView(world: World, p: ProjectRecord): View {
  return {
    id: p.id,
    name: p.name,
    createdAt: p.createdAt,
    updatedAt: p.createdAt,
    deletedAt: null,
    description: null,
    workspaceId: p.workspaceId,
    environments: (args: PageArgs) =>
      paginate(
        world.environmentsOf(p.id).map((e) => environmentView(world, e)),
        args,
        (v) => v.id as string,
      ),
    services: (args: PageArgs) =>
      paginate(
        world.servicesOf(p.id).map((s) => serviceView(world, s)),
        args,
        (v) => v.id as string,
      ),
  };
}

function environmentView(world: World, e: EnvironmentRecord): View {
  return {
    id: e.id,
    name: e.name,
    projectId: e.projectId,
    createdAt: e.createdAt,
    updatedAt: e.createdAt,
    deletedAt: null,
    isEphemeral: false,
    canAccess: true,
    serviceInstances: (args: PageArgs) =>
      paginate(
        world.servicesOf(e.projectId).map((s) => serviceInstanceView(world, s, e.id)),
        args,
        (v) => v.id as string,
      ),
  };
}

function serviceView(world: World, s: ServiceRecord): View {
  return {
    id: s.id,
    name: s.name,
    projectId: s.projectId,
    createdAt: s.createdAt,
    updatedAt: s.createdAt,
    deletedAt: null,
    icon: null,
    project: () => projectView(world, world.requireProject(s.projectId)),
  };
}

function domainsView(world: World, s: ServiceRecord, environmentId: string): View {
  const domain = world.domainOf(s.id, environmentId);
  return {
    serviceDomains: domain
      ? [
          {
            id: `${s.id}:${environmentId}:domain`,
            domain,
            suffix: 'up.railway.app',
            environmentId,
            projectId: s.projectId,
            serviceId: s.id,
            syncStatus: 'ACTIVE',
            targetPort: null,
            createdAt: s.createdAt,
            updatedAt: s.createdAt,
            deletedAt: null,
          },
        ]
      : [],
    // A custom domain serves the app only once its DNS is verified (CustomDomain.status.verified in the schema).
    customDomains: s.customDomain
      ? [
          {
            id: `${s.id}:${environmentId}:custom`,
            domain: s.customDomain.domain,
            environmentId,
            projectId: s.projectId,
            serviceId: s.id,
            isRailwayDomain: false,
            syncStatus: s.customDomain.verified ? 'ACTIVE' : 'CREATING',
            targetPort: null,
            createdAt: s.createdAt,
            updatedAt: s.createdAt,
            deletedAt: null,
            status: { verified: s.customDomain.verified },
          },
        ]
      : [],
  };
}

function serviceInstanceView(world: World, s: ServiceRecord, environmentId: string): View {
  return {
    id: `${s.id}:${environmentId}`,
    serviceId: s.id,
    serviceName: s.name,
    environmentId,
    createdAt: s.createdAt,
    updatedAt: s.createdAt,
    deletedAt: null,
    builder: 'RAILPACK',
    cronSchedule: null,
    drainingSeconds: null,
    overlapSeconds: null,
    healthcheckPath: s.healthcheckPath,
    healthcheckTimeout: s.healthcheckTimeoutSeconds,
    numReplicas: 1,
    preDeployCommand: null,
    railwayConfigFile: null,
    region: 'us-west1',
    restartPolicyMaxRetries: 10,
    restartPolicyType: 'ON_FAILURE',
    rootDirectory: s.rootDirectory,
    sleepApplication: false,
    source:
      s.source.repo || world.imageOf(s, environmentId)
        ? { repo: s.source.repo ?? null, image: world.imageOf(s, environmentId) ?? null }
        : null,
    startCommand: null,
    watchPatterns: [...s.watchPatterns],
    service: () => serviceView(world, s),
    domains: () => domainsView(world, s, environmentId),
    latestDeployment: () => {
      const d = world.deploymentsOf(s.id, environmentId).filter((x) => world.visible(x))[0];
      return d ? deploymentView(world, d) : null;
    },
    activeDeployments: () =>
      world
        .deploymentsOf(s.id, environmentId)
        .filter((d) => world.visible(d))
        .filter(
          (d) => d.status === 'SUCCESS' || d.status === 'SLEEPING' || (d.status === 'CRASHED' && !d.deploymentStopped),
        )
        .map((d) => deploymentView(world, d)),
  };
}

/** A snapshot of the deployment (subscriptions must not see later mutations of the same object). */
export function deploymentView(world: World, d: EmulatedDeployment): View {
  return {
    id: d.id,
    status: d.status,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    statusUpdatedAt: d.statusUpdatedAt,
    projectId: d.projectId,
    environmentId: d.environmentId,
    serviceId: d.serviceId,
    snapshotId: d.snapshotId,
    canRollback: world.reportedCanRollback(d),
    canRedeploy: d.canRedeploy && !IN_PROGRESS_STATUSES.has(d.status),
    deploymentStopped: d.deploymentStopped,
    meta: { ...d.meta },
    diagnosis: null,
    url: d.url,
    staticUrl: d.staticUrl,
    suggestAddServiceDomain: false,
    creator: null,
    instances: d.instances.map((i) => ({ ...i })),
    sockets:
      d.appPort !== null
        ? [{ ipv6: false, port: d.appPort, processName: 'node', updatedAt: Math.floor(Date.now() / 1000) }]
        : [],
    environment: () => environmentView(world, world.requireEnvironment(d.environmentId)),
    service: () => serviceView(world, world.requireService(d.serviceId)),
  };
}

function logView(d: EmulatedDeployment, l: EmulatedLog): View {
  return {
    timestamp: l.timestamp,
    message: l.message,
    severity: l.severity,
    attributes: l.attributes,
    tags: {
      deploymentId: d.id,
      deploymentInstanceId: d.instances[0]?.id ?? null,
      environmentId: d.environmentId,
      projectId: d.projectId,
      serviceId: d.serviceId,
      snapshotId: d.snapshotId,
    },
  };
}

interface LogArgs {
  deploymentId: string;
  limit?: number | null;
  filter?: string | null;
  startDate?: string | null;
  endDate?: string | null;
}

function selectLogs(lines: EmulatedLog[], args: LogArgs): EmulatedLog[] {
  let selected = lines;
  if (args.filter) {
    const needle = args.filter.toLowerCase();
    selected = selected.filter((l) => l.message.toLowerCase().includes(needle));
  }
  if (args.startDate) {
    const from = Date.parse(args.startDate);
    selected = selected.filter((l) => Date.parse(l.timestamp) >= from);
  }
  if (args.endDate) {
    const to = Date.parse(args.endDate);
    selected = selected.filter((l) => Date.parse(l.timestamp) <= to);
  }
  // Railway returns limit+1 lines (a known API quirk the CLI trims client-side); the tail is the interesting part.
  if (args.limit !== undefined && args.limit !== null) selected = selected.slice(-Math.max(0, args.limit + 1));
  return selected;
}

/** A push-based async iterator whose return() unsubscribes immediately (async generators would wait). */
export function eventIterator<T>(
  subscribe: (push: (value: T) => void) => () => void,
  initial: T[] = [],
): AsyncIterableIterator<T> {
  const queue: T[] = [...initial];
  let pending: ((r: IteratorResult<T>) => void) | null = null;
  let done = false;
  const unsubscribe = subscribe((value) => {
    if (done) return;
    if (pending) {
      const resolve = pending;
      pending = null;
      resolve({ value, done: false });
    } else {
      queue.push(value);
    }
  });
  const finish = (): Promise<IteratorResult<T>> => {
    if (!done) {
      done = true;
      unsubscribe();
      queue.length = 0;
      pending?.({ value: undefined, done: true });
      pending = null;
    }
    return Promise.resolve({ value: undefined, done: true });
  };
  return {
    next: () => {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift() as T, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (pending = resolve));
    },
    return: finish,
    throw: (error: unknown) => {
      void finish();
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

// ---------- schema with resolvers ----------

type Resolver = (source: unknown, args: Record<string, unknown>, ctx: RequestContext) => unknown;

export function buildEmulatorSchema(world: World): GraphQLSchema {
  const schema = buildSchema(fs.readFileSync(SCHEMA_PATH, 'utf8'));
  const str = (v: unknown): string => String(v);

  const deploymentAccess = (ctx: RequestContext, id: string): EmulatedDeployment => {
    requireAuth(ctx);
    const d = world.deployments.get(id);
    // Just after creation a deployment may not be readable yet (registrationLagMs).
    if (!d || !world.visible(d)) throw gqlError('Deployment not found');
    requireAccess(world, ctx, d.projectId, d.environmentId);
    return d;
  };
  const instanceAccess = (
    ctx: RequestContext,
    environmentId: string,
    serviceId: string,
  ): { service: ServiceRecord; env: EnvironmentRecord } => {
    requireAuth(ctx);
    const env = world.environments.get(environmentId);
    const service = world.services.get(serviceId);
    if (!env) throw gqlError('Environment not found');
    requireAccess(world, ctx, env.projectId, env.id);
    if (!service || service.projectId !== env.projectId) throw gqlError('ServiceInstance not found');
    return { service, env };
  };

  const query: Record<string, Resolver> = {
    projectToken: (_s, _a, ctx) => {
      if (!ctx.projectTokenHeader) throw gqlError('Project Token not found');
      const p = requireAuth(ctx);
      if (p.kind !== 'project') throw gqlError('Project Token not found');
      const record = [...world.projectTokens.values()].find((t) => t.id === p.tokenId);
      if (!record) throw gqlError('Project Token not found');
      return {
        id: record.id,
        name: record.name,
        createdAt: record.createdAt,
        projectId: record.projectId,
        environmentId: record.environmentId,
        displayToken: `${record.token.slice(0, 4)}…${record.token.slice(-4)}`,
        project: () => projectView(world, world.requireProject(record.projectId)),
        environment: () => environmentView(world, world.requireEnvironment(record.environmentId)),
      };
    },
    me: (_s, _a, ctx) => {
      const p = requireAuth(ctx);
      if (p.kind !== 'account') throw gqlError('Not Authorized');
      return { id: 'user-emulated', name: 'Emulated User', email: 'user@example.com' };
    },
    projects: (_s, args, ctx) => {
      const p = requireAuth(ctx);
      const workspaceId = (args.workspaceId as string | null | undefined) ?? null;
      let list: ProjectRecord[];
      if (p.kind === 'project') {
        list = [...world.projects.values()].filter((proj) => proj.id === p.projectId);
      } else if (workspaceId === null) {
        // "Gets all projects for a user or workspace": without workspaceId only the personal projects (docs
        // integrations/api/manage-projects.md); a workspace token has no personal resources (docs integrations/api.md).
        if (p.kind === 'workspace') throw gqlError('Not Authorized');
        list = [...world.projects.values()].filter((proj) => proj.workspaceId === null);
      } else {
        if (!world.workspacesOf(p).some((w) => w.id === workspaceId)) throw gqlError('Not Authorized');
        list = [...world.projects.values()].filter((proj) => proj.workspaceId === workspaceId);
      }
      return paginate(
        list.map((proj) => projectView(world, proj)),
        args as PageArgs,
        (v) => v.id as string,
      );
    },
    apiToken: (_s, _a, ctx) => {
      // "Introspect the current API token and its accessible workspaces" (schema): Bearer tokens only.
      const p = requireAuth(ctx);
      if (p.kind === 'project') throw gqlError('Not Authorized');
      return { workspaces: world.workspacesOf(p).map((w) => ({ id: w.id, name: w.name })) };
    },
    serviceInstanceAutoDeployStatus: (_s, args, ctx) => {
      const { service, env } = instanceAccess(ctx, str(args.environmentId), str(args.serviceId));
      if (env.projectId !== args.projectId) throw gqlError('Not Authorized');
      // Autodeploy exists only for repo-connected services (docs deployments/github-autodeploys.md). Reasons: ours.
      if (!service.source.repo)
        return { enabled: false, canEnable: false, reason: 'Service is not connected to a GitHub repository' };
      return {
        enabled: service.autoDeploy,
        canEnable: !service.autoDeploy,
        reason: service.autoDeploy ? null : 'Automatic deployments are disabled for this service',
      };
    },
    project: (_s, args, ctx) => {
      requireAuth(ctx);
      const proj = world.projects.get(str(args.id));
      if (!proj) throw gqlError('Project not found');
      requireAccess(world, ctx, proj.id);
      return projectView(world, proj);
    },
    environment: (_s, args, ctx) => {
      requireAuth(ctx);
      const env = world.environments.get(str(args.id));
      if (!env || (args.projectId && env.projectId !== args.projectId)) throw gqlError('Environment not found');
      requireAccess(world, ctx, env.projectId, env.id);
      return environmentView(world, env);
    },
    service: (_s, args, ctx) => {
      requireAuth(ctx);
      const service = world.services.get(str(args.id));
      if (!service) throw gqlError('Service not found');
      requireAccess(world, ctx, service.projectId);
      return serviceView(world, service);
    },
    serviceInstance: (_s, args, ctx) => {
      const { service, env } = instanceAccess(ctx, str(args.environmentId), str(args.serviceId));
      return serviceInstanceView(world, service, env.id);
    },
    domains: (_s, args, ctx) => {
      const { service, env } = instanceAccess(ctx, str(args.environmentId), str(args.serviceId));
      if (env.projectId !== args.projectId) throw gqlError('Not Authorized');
      return domainsView(world, service, env.id);
    },
    variables: (_s, args, ctx) => {
      requireAuth(ctx);
      const env = world.environments.get(str(args.environmentId));
      if (!env || env.projectId !== args.projectId) throw gqlError('Environment not found');
      requireAccess(world, ctx, env.projectId, env.id);
      return world.variablesFor(env.id, (args.serviceId as string | null | undefined) ?? null);
    },
    deployments: (_s, args, ctx) => {
      const p = requireAuth(ctx);
      const input = args.input as {
        projectId?: string | null;
        environmentId?: string | null;
        serviceId?: string | null;
        includeDeleted?: boolean | null;
        status?: { in?: DeploymentStatus[] | null; notIn?: DeploymentStatus[] | null } | null;
      };
      if (p.kind === 'project') {
        if (input.projectId && input.projectId !== p.projectId) throw gqlError('Not Authorized');
        if (input.environmentId && input.environmentId !== p.environmentId) throw gqlError('Not Authorized');
      }
      if (!input.projectId && !input.environmentId && !input.serviceId && p.kind !== 'project') {
        throw gqlError('Must provide at least one of projectId, environmentId or serviceId');
      }
      const list = world
        .allDeploymentsNewestFirst()
        .filter(
          (d) =>
            world.visible(d) &&
            world.canSeeProject(p, world.requireProject(d.projectId)) &&
            (!input.projectId || d.projectId === input.projectId) &&
            (!input.environmentId || d.environmentId === input.environmentId) &&
            (!input.serviceId || d.serviceId === input.serviceId) &&
            (p.kind !== 'project' || (d.projectId === p.projectId && d.environmentId === p.environmentId)) &&
            (!input.status?.in || input.status.in.includes(d.status)) &&
            (!input.status?.notIn || !input.status.notIn.includes(d.status)),
        );
      return paginate(
        list.map((d) => deploymentView(world, d)),
        args as PageArgs,
        (v) => v.id as string,
      );
    },
    deployment: (_s, args, ctx) => deploymentView(world, deploymentAccess(ctx, str(args.id))),
    deploymentEvents: (_s, args, ctx) => {
      const d = deploymentAccess(ctx, str(args.id));
      return paginate(
        d.events.map((e) => ({ ...e, payload: e.payload ? { ...e.payload } : null })),
        args as PageArgs,
        (e) => e.id,
      );
    },
    buildLogs: (_s, args, ctx) => {
      const d = deploymentAccess(ctx, str(args.deploymentId));
      return selectLogs(d.buildLogs, args as unknown as LogArgs).map((l) => logView(d, l));
    },
    deploymentLogs: (_s, args, ctx) => {
      const d = deploymentAccess(ctx, str(args.deploymentId));
      return selectLogs(d.deployLogs, args as unknown as LogArgs).map((l) => logView(d, l));
    },
  };

  const deployFromService = (
    ctx: RequestContext,
    args: Record<string, unknown>,
    latestCommit = false,
  ): EmulatedDeployment => {
    const { service, env } = instanceAccess(ctx, str(args.environmentId), str(args.serviceId));
    const commitSha = (args.commitSha as string | null | undefined) ?? null;
    if (world.imageOf(service, env.id))
      return world.createDeployment({ serviceId: service.id, environmentId: env.id, kind: 'deploy' });
    if (commitSha !== null && !/^[0-9a-f]{7,40}$/i.test(commitSha)) throw gqlError(`Commit not found: ${commitSha}`);
    if (commitSha === null && !service.source.repo)
      throw gqlError('Service has no source to deploy; connect a repo or image, or upload with `railway up`');
    // Without commitSha: "the commit currently associated with the service", not the branch head (docs
    // integrations/api/manage-services.md, docs PR #1163); latestCommit: true takes the branch head (cli
    // ServiceInstanceDeployLatestCommit.graphql).
    const current = world.deploymentsOf(service.id, env.id).find((d) => d.commitSha)?.commitSha ?? service.headCommit;
    const sha = commitSha ?? (latestCommit ? service.headCommit : current);
    return world.createDeployment({ serviceId: service.id, environmentId: env.id, kind: 'deploy', commitSha: sha });
  };

  const mutation: Record<string, Resolver> = {
    serviceInstanceDeployV2: (_s, args, ctx) => guard(() => deployFromService(ctx, args).id),
    serviceInstanceDeploy: (_s, args, ctx) =>
      guard(() => {
        deployFromService(ctx, args, args.latestCommit === true);
        return true;
      }),
    serviceInstanceRedeploy: (_s, args, ctx) =>
      guard(() => {
        const { service, env } = instanceAccess(ctx, str(args.environmentId), str(args.serviceId));
        const latest = world.deploymentsOf(service.id, env.id)[0];
        if (!latest) throw gqlError('No deployment found to redeploy');
        world.createDeployment({ serviceId: service.id, environmentId: env.id, kind: 'redeploy', source: latest });
        return true;
      }),
    serviceInstanceUpdate: (_s, args, ctx) =>
      guard(() => {
        requireAuth(ctx);
        const service = world.services.get(str(args.serviceId));
        if (!service) throw gqlError('Service not found');
        const environmentId = (args.environmentId as string | null | undefined) ?? null;
        if (environmentId !== null) {
          const env = world.environments.get(environmentId);
          if (!env || env.projectId !== service.projectId) throw gqlError('Environment not found');
        }
        const p = requireAccess(world, ctx, service.projectId, environmentId);
        // Without environmentId the update applies to every environment that is not a fork (schema argument doc):
        // beyond a project token's single environment.
        if (p.kind === 'project' && environmentId === null) throw gqlError('Not Authorized');
        const input = args.input as {
          source?: { image?: string | null; repo?: string | null } | null;
          healthcheckPath?: string | null;
          healthcheckTimeout?: number | null;
          rootDirectory?: string | null;
        };
        // Settings apply to the next deployment; updating them does not deploy by itself.
        if (input.source?.image && environmentId !== null) {
          service.imageByEnvironment.set(environmentId, input.source.image);
        } else if (input.source) {
          service.source = {
            ...(input.source.image ? { image: input.source.image } : {}),
            ...(input.source.repo ? { repo: input.source.repo } : {}),
          };
          service.imageByEnvironment.clear(); // forks are not modelled: every environment
        }
        if (input.rootDirectory !== undefined) service.rootDirectory = input.rootDirectory || null;
        if (input.healthcheckPath !== undefined) service.healthcheckPath = input.healthcheckPath || null;
        if (input.healthcheckTimeout !== undefined)
          service.healthcheckTimeoutSeconds = input.healthcheckTimeout ?? null;
        return true;
      }),
    deploymentRedeploy: (_s, args, ctx) =>
      guard(() => {
        const target = deploymentAccess(ctx, str(args.id));
        if (IN_PROGRESS_STATUSES.has(target.status))
          throw gqlError('Cannot redeploy a deployment that is still in progress');
        const d = world.createDeployment({
          serviceId: target.serviceId,
          environmentId: target.environmentId,
          kind: 'redeploy',
          source: target,
        });
        return deploymentView(world, d);
      }),
    deploymentRollback: (_s, args, ctx) =>
      guard(() => {
        const target = deploymentAccess(ctx, str(args.id));
        if (!target.canRollback) throw gqlError('Deployment cannot be rolled back: its image is no longer available');
        world.createDeployment({
          serviceId: target.serviceId,
          environmentId: target.environmentId,
          kind: 'rollback',
          source: target,
        });
        return true;
      }),
    deploymentCancel: (_s, args, ctx) =>
      guard(() => {
        world.cancel(deploymentAccess(ctx, str(args.id)).id);
        return true;
      }),
    deploymentApprove: (_s, args, ctx) =>
      guard(() => {
        world.approve(deploymentAccess(ctx, str(args.id)).id);
        return true;
      }),
    variableCollectionUpsert: (_s, args, ctx) =>
      guard(() => {
        const input = args.input as {
          projectId: string;
          environmentId: string;
          serviceId?: string | null;
          variables: unknown;
          replace?: boolean | null;
          skipDeploys?: boolean | null;
        };
        upsertVariables(world, ctx, input, input.variables);
        return true;
      }),
    variableUpsert: (_s, args, ctx) =>
      guard(() => {
        const input = args.input as {
          projectId: string;
          environmentId: string;
          serviceId?: string | null;
          name: string;
          value: string;
          skipDeploys?: boolean | null;
        };
        upsertVariables(world, ctx, { ...input, replace: false }, { [input.name]: input.value });
        return true;
      }),
  };

  const subscription: Record<string, { subscribe: Resolver; resolve: (payload: unknown) => unknown }> = {
    deployment: {
      subscribe: (_s, args, ctx) => {
        const d = deploymentAccess(ctx, str(args.id));
        return eventIterator<View>(
          (push) => {
            const listener = (changed: EmulatedDeployment): void => push(deploymentView(world, changed));
            world.changes.on(`deployment:${d.id}`, listener);
            return () => world.changes.off(`deployment:${d.id}`, listener);
          },
          [deploymentView(world, d)],
        );
      },
      resolve: (payload) => payload,
    },
    buildLogs: logSubscription(world, 'build', deploymentAccess),
    deploymentLogs: logSubscription(world, 'deploy', deploymentAccess),
  };

  attach(schema, 'Query', query);
  attach(schema, 'Mutation', mutation);
  const subFields = (schema.getType('Subscription') as GraphQLObjectType).getFields();
  for (const [name, impl] of Object.entries(subscription)) {
    const field = subFields[name] as unknown as GraphQLFieldConfig<unknown, RequestContext> | undefined;
    if (!field) throw new Error(`schema.graphql has no Subscription.${name}`);
    field.subscribe = impl.subscribe as GraphQLFieldConfig<unknown, RequestContext>['subscribe'];
    field.resolve = impl.resolve;
  }
  return schema;
}

function logSubscription(
  world: World,
  kind: 'build' | 'deploy',
  access: (ctx: RequestContext, id: string) => EmulatedDeployment,
): { subscribe: Resolver; resolve: (p: unknown) => unknown } {
  return {
    subscribe: (_s, args, ctx) => {
      const d = access(ctx, String(args.deploymentId));
      const existing = selectLogs(kind === 'build' ? d.buildLogs : d.deployLogs, args as unknown as LogArgs);
      const filter = (args.filter as string | null | undefined)?.toLowerCase();
      return eventIterator<View[]>(
        (push) => {
          const listener = (line: EmulatedLog): void => {
            if (!filter || line.message.toLowerCase().includes(filter)) push([logView(d, line)]);
          };
          world.changes.on(`log:${kind}:${d.id}`, listener);
          return () => world.changes.off(`log:${kind}:${d.id}`, listener);
        },
        existing.length ? [existing.map((l) => logView(d, l))] : [],
      );
    },
    resolve: (payload) => payload,
  };
}

function upsertVariables(
  world: World,
  ctx: RequestContext,
  input: {
    projectId: string;
    environmentId: string;
    serviceId?: string | null;
    replace?: boolean | null;
    skipDeploys?: boolean | null;
  },
  variables: unknown,
): void {
  requireAuth(ctx);
  const env = world.environments.get(input.environmentId);
  if (!env || env.projectId !== input.projectId) throw gqlError('Environment not found');
  requireAccess(world, ctx, env.projectId, env.id);
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables))
    throw gqlError('variables must be an object of name → value');
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(variables as Record<string, unknown>)) {
    if (typeof v !== 'string') throw gqlError(`Variable ${k} must be a string`);
    vars[k] = v;
  }
  const serviceId = input.serviceId ?? null;
  if (serviceId !== null) {
    const service = world.services.get(serviceId);
    if (!service || service.projectId !== env.projectId) throw gqlError('Service not found');
  }
  world.setVariables(env.id, serviceId, vars, input.replace ?? false);
  if (input.skipDeploys) return;
  // Changing variables redeploys the affected service(s) from their latest deployment.
  const affected = serviceId !== null ? [serviceId] : world.servicesOf(env.projectId).map((s) => s.id);
  for (const id of affected) {
    const latest = world.deploymentsOf(id, env.id)[0];
    if (latest) world.createDeployment({ serviceId: id, environmentId: env.id, kind: 'variables', source: latest });
  }
}

function attach(schema: GraphQLSchema, typeName: string, resolvers: Record<string, Resolver>): void {
  const fields = (schema.getType(typeName) as GraphQLObjectType).getFields();
  for (const [name, fn] of Object.entries(resolvers)) {
    const field = fields[name];
    if (!field) throw new Error(`schema.graphql has no ${typeName}.${name}`);
    field.resolve = (source, args: Record<string, unknown>, ctx: RequestContext) => guard(() => fn(source, args, ctx));
  }
}
