// Deployment reads: listing (sorted client-side, paginated), one deployment, service state, and the
// rollback-target rule (newest deployment with canRollback — superseded good ones show REMOVED).
import { sleep } from '../core/retry.js';
import type { RailwayClient } from './client.js';
import { GET_DEPLOYMENT, LIST_DEPLOYMENTS, SERVICE_INSTANCE_STATE } from './operations.js';

/** Railway's DeploymentStatus, kept open: unknown values must not crash the waiter (reference §2.3). */
export type DeploymentStatus =
  | 'BUILDING'
  | 'CRASHED'
  | 'DEPLOYING'
  | 'FAILED'
  | 'INITIALIZING'
  | 'NEEDS_APPROVAL'
  | 'QUEUED'
  | 'REMOVED'
  | 'REMOVING'
  | 'SKIPPED'
  | 'SLEEPING'
  | 'SUCCESS'
  | 'WAITING'
  | (string & {});

export const IN_PROGRESS_STATUSES: ReadonlySet<string> = new Set(['INITIALIZING', 'QUEUED', 'WAITING', 'BUILDING', 'DEPLOYING', 'NEEDS_APPROVAL']);
export const SUCCESS_STATUSES: ReadonlySet<string> = new Set(['SUCCESS', 'SLEEPING']);
/** Never a sensible rollback target: they never ran (or died). */
const BAD_STATUSES: ReadonlySet<string> = new Set(['FAILED', 'CRASHED', 'SKIPPED']);

export interface DeploymentSummary {
  id: string;
  status: DeploymentStatus;
  createdAt: string;
  canRollback: boolean;
  canRedeploy: boolean;
  url: string | null;
  staticUrl: string | null;
  /** Untyped JSON; GitHub deploys carry commitHash/branch (reference §2.5). */
  meta?: Record<string, unknown> | null;
}

export interface DeploymentDetail extends DeploymentSummary {
  serviceId: string | null;
  environmentId?: string;
  deploymentStopped: boolean;
  instances: Array<{ id: string; status: string }>;
}

export interface ServiceInstanceState {
  id: string;
  serviceName: string;
  source: { repo: string | null; image: string | null } | null;
  latestDeployment: { id: string; status: string; createdAt: string; canRollback: boolean } | null;
  activeDeployments: Array<{ id: string; status: string; createdAt: string }>;
  domains: { serviceDomains: Array<{ domain: string }>; customDomains: Array<{ domain: string }> };
}

export interface ServiceScope {
  projectId: string;
  environmentId: string;
  serviceId: string;
}

const time = (iso: string): number => Date.parse(iso) || 0;

export function newestFirst<T extends { createdAt: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => time(b.createdAt) - time(a.createdAt));
}

/** All deployments of a service in an environment, newest first (server order is not trusted). */
export async function listDeployments(client: RailwayClient, scope: ServiceScope, opts: { maxPages?: number; pageSize?: number } = {}): Promise<DeploymentSummary[]> {
  const out: DeploymentSummary[] = [];
  let after: string | undefined;
  const maxPages = opts.maxPages ?? 5;
  for (let page = 0; page < maxPages; page++) {
    const data = await client.request<{
      deployments: { edges: Array<{ node: DeploymentSummary }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    }>(LIST_DEPLOYMENTS, { input: { projectId: scope.projectId, environmentId: scope.environmentId, serviceId: scope.serviceId }, first: opts.pageSize ?? 50, after }, 'ListDeployments');
    out.push(...data.deployments.edges.map((e) => e.node));
    if (!data.deployments.pageInfo.hasNextPage || !data.deployments.pageInfo.endCursor) break;
    after = data.deployments.pageInfo.endCursor;
  }
  return newestFirst(out);
}

export async function getDeployment(client: RailwayClient, id: string): Promise<DeploymentDetail> {
  const data = await client.request<{ deployment: DeploymentDetail }>(GET_DEPLOYMENT, { id }, 'GetDeployment');
  return data.deployment;
}

export async function getServiceInstance(client: RailwayClient, scope: ServiceScope): Promise<ServiceInstanceState> {
  const data = await client.request<{ serviceInstance: ServiceInstanceState }>(
    SERVICE_INSTANCE_STATE,
    { environmentId: scope.environmentId, serviceId: scope.serviceId },
    'ServiceInstanceState',
  );
  return data.serviceInstance;
}

/** The public URL of a service: its first custom domain, else its Railway domain. */
export function serviceUrlOf(instance: ServiceInstanceState | undefined): string | undefined {
  const domain = instance?.domains.customDomains[0]?.domain ?? instance?.domains.serviceDomains[0]?.domain;
  if (!domain) return undefined;
  return /^https?:\/\//.test(domain) ? domain : `https://${domain}`;
}

/**
 * The deployment a rollback should restore: the newest one with canRollback (NOT filtered by SUCCESS: the last
 * good deployment is REMOVED once superseded), skipping ones that never ran or crashed, the excluded ids (the
 * release being replaced), and anything created after `olderThan` (ISO) when given.
 */
export function pickRollbackTarget(
  deployments: DeploymentSummary[],
  opts: { exclude?: Iterable<string>; olderThan?: string; notSameCommitAs?: DeploymentSummary } = {},
): DeploymentSummary | undefined {
  const exclude = new Set(opts.exclude ?? []);
  const limit = opts.olderThan ? time(opts.olderThan) : Infinity;
  // Restoring the same commit as the release being undone would put the same code back.
  const avoidCommit = commitOf(opts.notSameCommitAs);
  return newestFirst(deployments).find(
    (d) =>
      d.canRollback &&
      !exclude.has(d.id) &&
      !BAD_STATUSES.has(d.status) &&
      !IN_PROGRESS_STATUSES.has(d.status) &&
      time(d.createdAt) < limit &&
      !(avoidCommit && commitOf(d) === avoidCommit),
  );
}

export function commitOf(d: DeploymentSummary | undefined): string | undefined {
  const hash = d?.meta?.commitHash;
  return typeof hash === 'string' && hash ? hash : undefined;
}

/** What runs now: the newest SUCCESS/SLEEPING deployment. */
export function pickActive(deployments: DeploymentSummary[]): DeploymentSummary | undefined {
  return newestFirst(deployments).find((d) => SUCCESS_STATUSES.has(d.status));
}

/**
 * After a mutation that returns only a Boolean (deploymentRollback): the new deployment is the newest one not in
 * `known` and not older than the newest known one. Railway may take a moment to list it, so poll briefly.
 */
export async function findNewDeployment(
  client: RailwayClient,
  scope: ServiceScope,
  known: ReadonlySet<string>,
  notBefore: string | undefined,
  opts: { attempts?: number; intervalMs?: number; signal?: AbortSignal } = {},
): Promise<DeploymentSummary | undefined> {
  const attempts = opts.attempts ?? 10;
  for (let i = 0; i < attempts; i++) {
    const list = await listDeployments(client, scope, { maxPages: 1, pageSize: 20 });
    const fresh = list.find((d) => !known.has(d.id) && (!notBefore || time(d.createdAt) >= time(notBefore)));
    if (fresh) return fresh;
    if (i < attempts - 1) await sleep(Math.min(5000, (opts.intervalMs ?? 500) * (i + 1)), opts.signal);
  }
  return undefined;
}
