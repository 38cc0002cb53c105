// The GitHub REST calls rail-actions makes, behind one small typed interface. Cores take a `GitHubRest` so they never
// import @actions/*: entry points build one from @actions/github's `octokit.request`, tests point that at a local server.
import { retry, type RetryDecision } from '../core/retry.js';
import { errorMessage } from '../core/errors.js';

/** The shape of `octokit.request` that we rely on (route string + params → { status, data }). */
export type RequestFn = (route: string, params?: Record<string, unknown>) => Promise<{ status: number; data: unknown }>;

export interface IssueComment {
  id: number;
  body: string;
  login: string;
  /** 'User' | 'Bot' | 'Organization' */
  userType: string;
  createdAt: string;
  url: string;
}

export type RepoPermission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface GitHubRest {
  createIssue(p: {
    owner: string;
    repo: string;
    title: string;
    body: string;
    assignees: string[];
    labels: string[];
  }): Promise<{ number: number; url: string }>;
  getIssueState(p: {
    owner: string;
    repo: string;
    issueNumber: number;
  }): Promise<{ state: 'open' | 'closed'; closedBy?: string }>;
  listIssueComments(p: { owner: string; repo: string; issueNumber: number }): Promise<IssueComment[]>;
  createIssueComment(p: { owner: string; repo: string; issueNumber: number; body: string }): Promise<void>;
  closeIssue(p: {
    owner: string;
    repo: string;
    issueNumber: number;
    reason: 'completed' | 'not_planned';
  }): Promise<void>;
  /** null when the user is not a collaborator (or does not exist). */
  getCollaboratorPermission(p: { owner: string; repo: string; username: string }): Promise<RepoPermission | null>;
  /** false when the team does not exist or the token cannot see it (both answer 404). */
  teamExists(p: { org: string; teamSlug: string }): Promise<boolean>;
  /** true only for an active membership (a pending invitation does not count). */
  isTeamMember(p: { org: string; teamSlug: string; username: string }): Promise<boolean>;
  createDeployment(p: {
    owner: string;
    repo: string;
    ref: string;
    environment: string;
    description?: string;
    productionEnvironment?: boolean;
    transientEnvironment?: boolean;
    payload?: Record<string, unknown>;
  }): Promise<{ id: number; url: string }>;
  createDeploymentStatus(p: {
    owner: string;
    repo: string;
    deploymentId: number;
    state: DeploymentState;
    environmentUrl?: string;
    logUrl?: string;
    description?: string;
    autoInactive?: boolean;
    environment?: string;
  }): Promise<{ id: number }>;
  /** Every deployment matching the filters (all pages), in the order GitHub lists them. */
  listDeployments(p: { owner: string; repo: string; sha?: string; environment?: string }): Promise<DeploymentRecord[]>;
  /** Every status of one deployment (all pages), in the order GitHub lists them. */
  listDeploymentStatuses(p: { owner: string; repo: string; deploymentId: number }): Promise<DeploymentStatusRecord[]>;
}

export type DeploymentState = 'queued' | 'in_progress' | 'success' | 'failure' | 'error' | 'inactive' | 'pending';

/** A GitHub deployment as listed by `GET /repos/{owner}/{repo}/deployments` (docs "REST API endpoints for deployments"). */
export interface DeploymentRecord {
  id: number;
  /** The commit recorded at creation time (the `sha` filter of the list matches it). */
  sha: string;
  ref: string;
  environment: string;
  description: string | null;
  /** ISO 8601. */
  createdAt: string;
  /** Login of the creator (github-actions[bot] for the job's GITHUB_TOKEN); null when GitHub omits it. */
  creator: string | null;
  /** API URL of the deployment. */
  url: string;
}

/** A deployment status as listed by `GET …/deployments/{id}/statuses` (docs "REST API endpoints for deployment statuses"). */
export interface DeploymentStatusRecord {
  id: number;
  /** One of DeploymentState on github.com; kept as GitHub sent it. */
  state: string;
  description: string | null;
  environmentUrl: string | null;
  logUrl: string | null;
  /** ISO 8601. */
  createdAt: string;
  creator: string | null;
}

/** A GitHub API failure with the HTTP status (undefined for network errors), message already scrubbed of the token. */
export class GitHubApiError extends Error {
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  /** The route that failed, e.g. `POST /repos/{owner}/{repo}/issues`. */
  readonly route: string | undefined;
  /**
   * What GitHub says the endpoint needs (`X-Accepted-GitHub-Permissions`, e.g. `issues=write`): sent with 403s to
   * GitHub App and fine-grained tokens (GitHub docs "Troubleshooting the REST API", insufficient permissions).
   */
  readonly acceptedPermissions: string | undefined;
  constructor(
    message: string,
    status: number | undefined,
    retryAfterMs?: number,
    extra: { route?: string; acceptedPermissions?: string } = {},
  ) {
    super(message);
    this.name = 'GitHubApiError';
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    this.route = extra.route;
    this.acceptedPermissions = extra.acceptedPermissions;
  }
}

interface ErrorLike {
  status?: unknown;
  message?: unknown;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

function toApiError(err: unknown, route: string): GitHubApiError {
  const e = (err ?? {}) as ErrorLike;
  const status = typeof e.status === 'number' ? e.status : undefined;
  const headers = e.response?.headers ?? {};
  let retryAfterMs: number | undefined;
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = retryAfter * 1000;
  else if (String(headers['x-ratelimit-remaining']) === '0') {
    const reset = Number(headers['x-ratelimit-reset']);
    if (Number.isFinite(reset)) retryAfterMs = Math.max(1000, reset * 1000 - Date.now());
  }
  const data = e.response?.data as { message?: unknown } | undefined;
  const detail = typeof data?.message === 'string' ? data.message : errorMessage(err);
  const accepted = headers['x-accepted-github-permissions'];
  return new GitHubApiError(
    `GitHub API ${route} failed${status ? ` (HTTP ${status})` : ''}: ${detail}`,
    status,
    retryAfterMs,
    {
      route,
      ...(accepted !== undefined && String(accepted) ? { acceptedPermissions: String(accepted) } : {}),
    },
  );
}

function isRateLimited(err: GitHubApiError): boolean {
  return err.status === 429 || (err.status === 403 && err.retryAfterMs !== undefined);
}

export interface GitHubRestOptions {
  /** Epoch ms after which no retry starts. */
  deadline?: number;
  signal?: AbortSignal;
  log?: (msg: string) => void;
  maxAttempts?: number;
}

export function createGitHubRest(request: RequestFn, opts: GitHubRestOptions = {}): GitHubRest {
  async function call(
    route: string,
    params: Record<string, unknown>,
    ok404 = false,
  ): Promise<{ status: number; data: unknown } | null> {
    return retry(
      async () => {
        try {
          return await request(route, params);
        } catch (err) {
          const apiErr = toApiError(err, route);
          if (ok404 && apiErr.status === 404) return null;
          throw apiErr;
        }
      },
      {
        maxAttempts: opts.maxAttempts ?? 5,
        ...(opts.deadline !== undefined ? { deadline: opts.deadline } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        classify: (err): RetryDecision => {
          if (!(err instanceof GitHubApiError)) return { retry: false };
          // Network errors, 5xx and rate limits are transient; 4xx are answers about our request and final.
          if (err.status === undefined || err.status >= 500 || isRateLimited(err)) {
            return { retry: true, ...(err.retryAfterMs !== undefined ? { delayMs: err.retryAfterMs } : {}) };
          }
          return { retry: false };
        },
        onRetry: ({ err, attempt, delayMs }) =>
          opts.log?.(`${errorMessage(err)}; retry ${attempt} in ${Math.round(delayMs)}ms`),
      },
    );
  }
  const must = async (route: string, params: Record<string, unknown>) =>
    (await call(route, params)) as { status: number; data: unknown };

  return {
    async createIssue(p) {
      const { data } = await must('POST /repos/{owner}/{repo}/issues', {
        owner: p.owner,
        repo: p.repo,
        title: p.title,
        body: p.body,
        ...(p.assignees.length ? { assignees: p.assignees } : {}),
        ...(p.labels.length ? { labels: p.labels } : {}),
      });
      const d = data as { number: number; html_url: string };
      return { number: d.number, url: d.html_url };
    },
    async getIssueState(p) {
      const { data } = await must('GET /repos/{owner}/{repo}/issues/{issue_number}', {
        owner: p.owner,
        repo: p.repo,
        issue_number: p.issueNumber,
      });
      const d = data as { state: 'open' | 'closed'; closed_by?: { login?: string } | null };
      return { state: d.state, ...(d.closed_by?.login ? { closedBy: d.closed_by.login } : {}) };
    },
    async listIssueComments(p) {
      const perPage = 100;
      const all: IssueComment[] = [];
      for (let page = 1; ; page++) {
        const { data } = await must('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
          owner: p.owner,
          repo: p.repo,
          issue_number: p.issueNumber,
          per_page: perPage,
          page,
        });
        const rows = data as Array<{
          id: number;
          body?: string | null;
          user?: { login?: string; type?: string } | null;
          created_at: string;
          html_url: string;
        }>;
        for (const r of rows) {
          all.push({
            id: r.id,
            body: r.body ?? '',
            login: r.user?.login ?? '',
            userType: r.user?.type ?? 'User',
            createdAt: r.created_at,
            url: r.html_url,
          });
        }
        if (rows.length < perPage) return all;
      }
    },
    async createIssueComment(p) {
      await must('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
        owner: p.owner,
        repo: p.repo,
        issue_number: p.issueNumber,
        body: p.body,
      });
    },
    async closeIssue(p) {
      await must('PATCH /repos/{owner}/{repo}/issues/{issue_number}', {
        owner: p.owner,
        repo: p.repo,
        issue_number: p.issueNumber,
        state: 'closed',
        state_reason: p.reason,
      });
    },
    async getCollaboratorPermission(p) {
      const res = await call(
        'GET /repos/{owner}/{repo}/collaborators/{username}/permission',
        { owner: p.owner, repo: p.repo, username: p.username },
        true,
      );
      if (!res) return null;
      return ((res.data as { permission?: string }).permission ?? 'none') as RepoPermission;
    },
    async teamExists(p) {
      return (await call('GET /orgs/{org}/teams/{team_slug}', { org: p.org, team_slug: p.teamSlug }, true)) !== null;
    },
    async isTeamMember(p) {
      const res = await call(
        'GET /orgs/{org}/teams/{team_slug}/memberships/{username}',
        { org: p.org, team_slug: p.teamSlug, username: p.username },
        true,
      );
      return res !== null && (res.data as { state?: string }).state === 'active';
    },
    async createDeployment(p) {
      const { status, data } = await must('POST /repos/{owner}/{repo}/deployments', {
        owner: p.owner,
        repo: p.repo,
        ref: p.ref,
        environment: p.environment,
        // We already ran CI ourselves and the ref is an exact commit: no merging, no status-check gate.
        auto_merge: false,
        required_contexts: [],
        ...(p.description ? { description: p.description } : {}),
        ...(p.productionEnvironment !== undefined ? { production_environment: p.productionEnvironment } : {}),
        ...(p.transientEnvironment !== undefined ? { transient_environment: p.transientEnvironment } : {}),
        ...(p.payload ? { payload: p.payload } : {}),
      });
      const d = data as { id?: number; url?: string; message?: string };
      // 202 means GitHub wanted to merge first and created nothing.
      if (status !== 201 || typeof d.id !== 'number') {
        throw new GitHubApiError(
          `GitHub did not create the deployment (HTTP ${status}): ${d.message ?? 'no id returned'}`,
          status,
          undefined,
          { route: 'POST /repos/{owner}/{repo}/deployments' },
        );
      }
      return { id: d.id, url: d.url ?? '' };
    },
    async createDeploymentStatus(p) {
      const { data } = await must('POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
        owner: p.owner,
        repo: p.repo,
        deployment_id: p.deploymentId,
        state: p.state,
        ...(p.environmentUrl ? { environment_url: p.environmentUrl } : {}),
        ...(p.logUrl ? { log_url: p.logUrl } : {}),
        ...(p.description ? { description: p.description.slice(0, 140) } : {}),
        ...(p.autoInactive !== undefined ? { auto_inactive: p.autoInactive } : {}),
        ...(p.environment ? { environment: p.environment } : {}),
      });
      return { id: (data as { id: number }).id };
    },
    async listDeployments(p) {
      const rows = await pages<ApiDeployment>('GET /repos/{owner}/{repo}/deployments', {
        owner: p.owner,
        repo: p.repo,
        ...(p.sha ? { sha: p.sha } : {}),
        ...(p.environment ? { environment: p.environment } : {}),
      });
      return rows.map((d) => ({
        id: d.id,
        sha: d.sha,
        ref: d.ref,
        environment: d.environment,
        description: d.description ?? null,
        createdAt: d.created_at,
        creator: d.creator?.login ?? null,
        url: d.url,
      }));
    },
    async listDeploymentStatuses(p) {
      const rows = await pages<ApiDeploymentStatus>('GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
        owner: p.owner,
        repo: p.repo,
        deployment_id: p.deploymentId,
      });
      return rows.map((s) => ({
        id: s.id,
        state: s.state,
        description: s.description || null,
        environmentUrl: s.environment_url || null,
        logUrl: s.log_url || s.target_url || null,
        createdAt: s.created_at,
        creator: s.creator?.login ?? null,
      }));
    },
  };

  /**
   * Every row of a list endpoint, page by page at GitHub's maximum page size of 100 (docs "Using pagination in the REST
   * API"), until a short page. Bounded, so a server that ignores `page` cannot loop forever.
   */
  async function pages<T>(route: string, params: Record<string, unknown>): Promise<T[]> {
    const perPage = 100;
    const all: T[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const { data } = await must(route, { ...params, per_page: perPage, page });
      const rows = data as T[];
      all.push(...rows);
      if (rows.length < perPage) break;
    }
    return all;
  }
}

/** 5,000 rows: far more deployments than one commit gets in one environment. */
const MAX_PAGES = 50;

interface ApiDeployment {
  id: number;
  sha: string;
  ref: string;
  environment: string;
  description?: string | null;
  created_at: string;
  creator?: { login?: string } | null;
  url: string;
}
interface ApiDeploymentStatus {
  id: number;
  state: string;
  description?: string | null;
  environment_url?: string | null;
  log_url?: string | null;
  target_url?: string | null;
  created_at: string;
  creator?: { login?: string } | null;
}
