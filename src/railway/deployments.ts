// Deployment reads: listing (sorted client-side, paginated), one deployment, service state, GitHub autodeploy, and
// the rollback-target rule (newest deployment with canRollback — superseded good ones show REMOVED).
import { InputError } from '../core/errors.js';
import { AbortedError, sleep } from '../core/retry.js';
import { httpsUrl } from '../core/url.js';
import type { RailwayClient } from './client.js';
import { RailwayApiError } from './errors.js';
import {
  AUTO_DEPLOY_STATUS,
  GET_DEPLOYMENT,
  LIST_DEPLOYMENTS,
  SERVICE_INSTANCE_STATE,
  SERVICE_STATE,
} from './operations.js';

/** Railway's DeploymentStatus, kept open: unknown values must not crash the waiter (railwayapp/cli src/gql/schema.json). */
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

export const IN_PROGRESS_STATUSES: ReadonlySet<string> = new Set([
  'INITIALIZING',
  'QUEUED',
  'WAITING',
  'BUILDING',
  'DEPLOYING',
  'NEEDS_APPROVAL',
]);
/** What Railway documents as cancellable: "Abort" of an initializing or building deployment (docs
 *  deployments/reference.md), and a queued one (not started yet). DEPLOYING and later are not. */
export const CANCELLABLE_STATUSES: ReadonlySet<string> = new Set(['INITIALIZING', 'QUEUED', 'BUILDING']);
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
  /** Untyped JSON (Deployment.meta in railwayapp/cli src/gql/schema.json); GitHub deploys carry commitHash/branch. */
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
  /** Root Directory: builds run inside it, uploads included (docs builds/build-configuration.md, cli/deploying.md). */
  rootDirectory?: string | null;
  source: { repo: string | null; image: string | null } | null;
  latestDeployment: { id: string; status: string; createdAt: string; canRollback: boolean } | null;
  activeDeployments: Array<{ id: string; status: string; createdAt: string }>;
  domains: {
    serviceDomains: Array<{ domain: string }>;
    customDomains: Array<{ domain: string; status?: { verified: boolean } | null }>;
  };
}

/** GitHub autodeploy of a service instance (Query.serviceInstanceAutoDeployStatus). */
export interface AutoDeployStatus {
  enabled: boolean;
  canEnable: boolean;
  reason: string | null;
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
export async function listDeployments(
  client: RailwayClient,
  scope: ServiceScope,
  opts: { maxPages?: number; pageSize?: number } = {},
): Promise<DeploymentSummary[]> {
  const out: DeploymentSummary[] = [];
  let after: string | undefined;
  const maxPages = opts.maxPages ?? 5;
  for (let page = 0; page < maxPages; page++) {
    const data = await client.request<{
      deployments: {
        edges: Array<{ node: DeploymentSummary }>;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    }>(
      LIST_DEPLOYMENTS,
      {
        input: { projectId: scope.projectId, environmentId: scope.environmentId, serviceId: scope.serviceId },
        first: opts.pageSize ?? 50,
        after,
      },
      'ListDeployments',
    );
    out.push(...data.deployments.edges.map((e) => e.node));
    if (!data.deployments.pageInfo.hasNextPage || !data.deployments.pageInfo.endCursor) break;
    after = data.deployments.pageInfo.endCursor;
  }
  return newestFirst(out);
}

type DeploymentPage = {
  edges: Array<{ node: DeploymentSummary }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
};

/**
 * A service instance and its deployments (newest first) — what getServiceInstance + listDeployments return — with the
 * first page of deployments in the same request (SERVICE_STATE); further pages, rarely needed, are listed after it.
 */
export async function readServiceState(
  client: RailwayClient,
  scope: ServiceScope,
  opts: { maxPages?: number; pageSize?: number } = {},
): Promise<{ instance: ServiceInstanceState; deployments: DeploymentSummary[] }> {
  const input = { projectId: scope.projectId, environmentId: scope.environmentId, serviceId: scope.serviceId };
  const first = opts.pageSize ?? 50;
  const data = await client.request<{ serviceInstance: ServiceInstanceState; deployments: DeploymentPage }>(
    SERVICE_STATE,
    { environmentId: scope.environmentId, serviceId: scope.serviceId, input, first },
    'ServiceState',
  );
  const out = data.deployments.edges.map((e) => e.node);
  let page = data.deployments.pageInfo;
  for (let n = 1; n < (opts.maxPages ?? 5) && page.hasNextPage && page.endCursor; n++) {
    const next = await client.request<{ deployments: DeploymentPage }>(
      LIST_DEPLOYMENTS,
      { input, first, after: page.endCursor },
      'ListDeployments',
    );
    out.push(...next.deployments.edges.map((e) => e.node));
    page = next.deployments.pageInfo;
  }
  return { instance: data.serviceInstance, deployments: newestFirst(out) };
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

/**
 * The public URL of a service: its first VERIFIED custom domain (CustomDomain.status.verified in the schema — an
 * unverified one does not reach the app yet), else its Railway domain.
 */
export function serviceUrlOf(instance: ServiceInstanceState | undefined): string | undefined {
  const custom = instance?.domains.customDomains.find((d) => d.status?.verified === true);
  return httpsUrl(custom?.domain ?? instance?.domains.serviceDomains[0]?.domain);
}

/**
 * The deployment a rollback should restore: the newest one that serves now (SUCCESS/SLEEPING) or has canRollback
 * (NOT filtered by SUCCESS: the last good deployment is REMOVED once superseded), skipping ones that never ran or
 * crashed, the excluded ids (the release being replaced), anything created after `olderThan` (ISO), and any
 * deployment of the release's commit (`excludeCommit`, or the commit of `notSameCommitAs`): with GitHub autodeploy
 * Railway may already run its own deployment of that commit, and restoring it would put the same code back.
 *
 * The serving deployment counts even when it reports canRollback: false — no public source says whether the active
 * deployment does (docs.railway.com guides/roll-back-bad-deploy.md is silent on it); rollbackTo re-reads canRollback when it is needed and redeploys
 * when it cannot roll back. Skipping it would restore an OLDER version than the one that served.
 */
export function pickRollbackTarget(
  deployments: DeploymentSummary[],
  opts: {
    exclude?: Iterable<string>;
    olderThan?: string;
    notSameCommitAs?: DeploymentSummary;
    excludeCommit?: string;
  } = {},
): DeploymentSummary | undefined {
  const exclude = new Set(opts.exclude ?? []);
  const limit = opts.olderThan ? time(opts.olderThan) : Infinity;
  const avoid = [commitOf(opts.notSameCommitAs), opts.excludeCommit].filter((c): c is string => Boolean(c));
  return newestFirst(deployments).find(
    (d) =>
      (d.canRollback || SUCCESS_STATUSES.has(d.status)) &&
      !exclude.has(d.id) &&
      !BAD_STATUSES.has(d.status) &&
      !IN_PROGRESS_STATUSES.has(d.status) &&
      time(d.createdAt) < limit &&
      !avoid.some((c) => sameCommit(commitOf(d), c)),
  );
}

export function commitOf(d: Pick<DeploymentSummary, 'meta'> | undefined): string | undefined {
  const hash = d?.meta?.commitHash;
  return typeof hash === 'string' && hash ? hash : undefined;
}

/** Same commit, allowing an abbreviated sha on either side (at least 7 hex characters, like git). */
export function sameCommit(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (Math.min(x.length, y.length) < 7) return x === y;
  return x.startsWith(y) || y.startsWith(x);
}

/**
 * Could `d` be what a deploy of `commitSha` created? A deployment of another commit is not (e.g. an autodeploy of a
 * newer push); one without commit information may be. Without a commit (image, upload) any new deployment may be.
 */
export function mayBeDeployOf(commitSha: string | undefined): ((d: DeploymentSummary) => boolean) | undefined {
  return commitSha ? (d) => !commitOf(d) || sameCommit(commitOf(d), commitSha) : undefined;
}

/**
 * Whether Railway deploys every push of the connected repository by itself: on by default for a service linked to
 * a repo (docs deployments/github-autodeploys.md). A pipeline that also deploys the same commit builds twice.
 */
export async function getAutoDeployStatus(client: RailwayClient, scope: ServiceScope): Promise<AutoDeployStatus> {
  const data = await client.request<{ serviceInstanceAutoDeployStatus: AutoDeployStatus }>(
    AUTO_DEPLOY_STATUS,
    { projectId: scope.projectId, environmentId: scope.environmentId, serviceId: scope.serviceId },
    'AutoDeployStatus',
  );
  const s = data.serviceInstanceAutoDeployStatus;
  return { enabled: s.enabled, canEnable: s.canEnable, reason: s.reason ?? null };
}

/**
 * Railway's own deployment of `commitSha` among the service's recent deployments (meta.commitHash; GitHub deploys
 * carry it in Deployment.meta): the newest one not in `exclude`, ignoring REMOVED/REMOVING ones (cancelled or replaced).
 * With `waitMs` it keeps looking that long, since the autodeploy starts when GitHub's webhook arrives.
 */
export async function findDeploymentOfCommit(
  client: RailwayClient,
  scope: ServiceScope,
  commitSha: string,
  opts: {
    exclude?: Iterable<string>;
    waitMs?: number;
    intervalMs?: number;
    signal?: AbortSignal;
    /** A list just read (e.g. before deploying): looked at first instead of a request. */
    first?: DeploymentSummary[];
    /** Called with every list read, so a caller can keep the newest one. */
    onList?: (list: DeploymentSummary[]) => void;
  } = {},
): Promise<DeploymentSummary | undefined> {
  const exclude = new Set(opts.exclude ?? []);
  const until = Date.now() + (opts.waitMs ?? 0);
  let given = opts.first;
  for (;;) {
    const list = given ?? (await listDeployments(client, scope, { maxPages: 1, pageSize: 30 }));
    if (!given) opts.onList?.(list);
    given = undefined;
    const match = list.find(
      (d) =>
        !exclude.has(d.id) && d.status !== 'REMOVED' && d.status !== 'REMOVING' && sameCommit(commitOf(d), commitSha),
    );
    if (match) return match;
    const left = until - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(opts.intervalMs ?? 2000, left), opts.signal ?? client.signal);
  }
}

/** What runs now: the newest SUCCESS/SLEEPING deployment. */
export function pickActive(deployments: DeploymentSummary[]): DeploymentSummary | undefined {
  return newestFirst(deployments).find((d) => SUCCESS_STATUSES.has(d.status));
}

/**
 * Where a release of `commitSha` starts from: the deployment serving now, the one a rollback would restore (never one
 * of that commit) and the service's URL. Preflight reports these facts from the same function the release acts on.
 */
export function releaseStartOf(
  instance: ServiceInstanceState,
  deployments: DeploymentSummary[],
  commitSha?: string,
): { active?: DeploymentSummary; rollbackTarget?: DeploymentSummary; url?: string } {
  const active = pickActive(deployments);
  const rollbackTarget = pickRollbackTarget(deployments, commitSha ? { excludeCommit: commitSha } : {});
  const url = serviceUrlOf(instance);
  return { ...(active ? { active } : {}), ...(rollbackTarget ? { rollbackTarget } : {}), ...(url ? { url } : {}) };
}

/** The newest deployment in `list` that is not in `known` and not older than `notBefore` (ISO). */
export function newDeploymentIn(
  list: DeploymentSummary[],
  known: ReadonlySet<string>,
  notBefore?: string,
  accept: (d: DeploymentSummary) => boolean = () => true,
): DeploymentSummary | undefined {
  return newestFirst(list).find(
    (d) => !known.has(d.id) && (!notBefore || time(d.createdAt) >= time(notBefore)) && accept(d),
  );
}

/**
 * After a mutation that returns only a Boolean (deploymentRollback): the new deployment is the newest one not in
 * `known` and not older than the newest known one. Railway may take a moment to list it, so poll briefly; a failed
 * read is one more try, not the end (the CLI ignores read errors while polling, railwayapp/cli up.rs, PR #743).
 */
export async function findNewDeployment(
  client: RailwayClient,
  scope: ServiceScope,
  known: ReadonlySet<string>,
  notBefore: string | undefined,
  opts: {
    attempts?: number;
    intervalMs?: number;
    signal?: AbortSignal;
    accept?: (d: DeploymentSummary) => boolean;
  } = {},
): Promise<DeploymentSummary | undefined> {
  const attempts = opts.attempts ?? 10;
  let lastErr: Error | undefined;
  for (let i = 0; i < attempts; i++) {
    try {
      const fresh = newDeploymentIn(
        await listDeployments(client, scope, { maxPages: 1, pageSize: 20 }),
        known,
        notBefore,
        opts.accept,
      );
      if (fresh) return fresh;
      lastErr = undefined;
    } catch (err) {
      if (
        err instanceof AbortedError ||
        err instanceof InputError ||
        (err instanceof RailwayApiError && err.isAuthError)
      )
        throw err;
      lastErr = err instanceof Error ? err : new Error(String(err));
    }
    if (i < attempts - 1) await sleep(Math.min(5000, (opts.intervalMs ?? 500) * (i + 1)), opts.signal);
  }
  if (lastErr) throw lastErr;
  return undefined;
}
