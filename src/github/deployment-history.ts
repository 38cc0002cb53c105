// Reads what GitHub Deployments say about one commit in one environment: every deployment of that commit there, each
// with all its statuses. The promotion guard judges this record (src/release/promotion.ts); this file only reads it.
import { UserFacingError } from '../core/errors.js';
import { GitHubApiError, type DeploymentRecord, type DeploymentStatusRecord, type GitHubRest } from './rest.js';

export interface DeploymentHistoryEntry {
  deployment: DeploymentRecord;
  statuses: DeploymentStatusRecord[];
}

export interface ReadHistoryOptions {
  rest: GitHubRest;
  owner: string;
  repo: string;
  /** Full 40-character commit SHA. */
  sha: string;
  environment: string;
}

/**
 * `GET /repos/{owner}/{repo}/deployments?sha=…&environment=…` ("List deployments": `sha` is "the SHA recorded at
 * creation time"), then `GET …/deployments/{id}/statuses` for each ("List deployment statuses"). Both need the
 * "Deployments" repository permission (read) for a private repository (docs.github.com/rest/deployments/deployments,
 * docs.github.com/rest/deployments/statuses).
 */
export async function readDeploymentHistory(o: ReadHistoryOptions): Promise<DeploymentHistoryEntry[]> {
  const deployments = await o.rest.listDeployments({
    owner: o.owner,
    repo: o.repo,
    sha: o.sha,
    environment: o.environment,
  });
  const out: DeploymentHistoryEntry[] = [];
  for (const deployment of deployments) {
    out.push({
      deployment,
      statuses: await o.rest.listDeploymentStatuses({ owner: o.owner, repo: o.repo, deploymentId: deployment.id }),
    });
  }
  return out;
}

/**
 * Turns the answers that mean "this token cannot read these deployments" into one message naming the token input and
 * the permission to grant; anything else is returned unchanged.
 */
export function explainDeploymentReadError(
  err: unknown,
  o: { owner: string; repo: string; tokenInput: string },
): unknown {
  // The entry point's client may already have wrapped the API error in a generic explanation (kept as the cause):
  // the message here is the more specific one, so it wins.
  const api =
    err instanceof GitHubApiError
      ? err
      : err instanceof Error && err.cause instanceof GitHubApiError
        ? err.cause
        : undefined;
  if (!api) return err;
  const where = `reading the GitHub deployments of ${o.owner}/${o.repo}`;
  const token = `the '${o.tokenInput}' input (default: the job's GITHUB_TOKEN)`;
  const grant =
    "The job needs 'permissions: deployments: read' (deploy.yml's gate job has it; the calling job must grant deployments: read or write), " +
    'or a fine-grained token with the "Deployments" repository permission (read).';
  switch (api.status) {
    case 401:
      return new UserFacingError(
        `GitHub refused the token while ${where} (HTTP 401): ${token} is invalid or expired. ${grant}`,
        { cause: api },
      );
    case 403:
      // A 403 with a rate-limit reset is a rate limit the client already waited out, not a missing permission.
      if (api.retryAfterMs !== undefined) return err;
      return new UserFacingError(
        `The token may not read deployments (HTTP 403) while ${where}: ${token} lacks the permission. ${grant}`,
        { cause: api },
      );
    case 404:
      return new UserFacingError(
        `Repository ${o.owner}/${o.repo} was not found with this token (HTTP 404) while ${where}: check the 'repository' input, ` +
          `and that ${token} can see that repository (a job's GITHUB_TOKEN only reads its own repository). ${grant}`,
        { cause: api },
      );
    default:
      return err;
  }
}
