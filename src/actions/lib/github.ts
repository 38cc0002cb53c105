// Builds the GitHubRest the src/github cores use from @actions/github (GITHUB_API_URL, proxy settings, user agent).
import * as github from '@actions/github';
import { InputError, UserFacingError } from '../../core/errors.js';
import { escapeLineBreaks, quoteValue, scrubSecrets } from '../../core/redact.js';
import { tokenProblem } from './inputs.js';
import { GitHubApiError, createGitHubRest, type GitHubRest, type GitHubRestOptions } from '../../github/rest.js';

export interface GitHubActionOptions extends GitHubRestOptions {
  /** The input the token came from, named when GitHub refuses it (default `token`). */
  tokenInput?: string;
}

export function githubRest(token: string, opts: GitHubActionOptions = {}): GitHubRest {
  const tokenInput = opts.tokenInput ?? 'token';
  // Checked here as well as by tokenInput, so an entry that read its token another way cannot send a broken header
  // (octokit's error for one quotes the whole header, token included).
  const problem = tokenProblem(token);
  if (problem) throw new InputError(tokenInput, problem);
  const octokit = github.getOctokit(token);
  const log = opts.log;
  // Retry lines quote GitHub's (or octokit's) error text: scrubbed of the token and kept on one line.
  const rest = createGitHubRest(octokit.request, {
    ...opts,
    ...(log ? { log: (m: string) => log(escapeLineBreaks(scrubSecrets(m, [token]))) } : {}),
  });
  // Every call: a refusal (401/403/404) becomes a message naming the token input and the permission it lacks.
  const wrapped = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(rest) as Array<[string, (...args: unknown[]) => Promise<unknown>]>) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw explainGitHubError(err, tokenInput);
      }
    };
  }
  return wrapped as unknown as GitHubRest;
}

/**
 * The `permissions:` a route needs with the job's GITHUB_TOKEN (GitHub docs "Permissions required for GitHub Apps"
 * and "Controlling permissions for GITHUB_TOKEN"), for messages about a refused request.
 */
export function permissionFor(route: string): string {
  const access = route.startsWith('GET ') ? 'read' : 'write';
  if (/\/deployments\b/.test(route)) return `deployments: ${access}`;
  if (/\/issues\b/.test(route)) return 'issues: write'; // the approval action reads and writes its issue
  if (/\/actions\//.test(route)) return 'actions: read';
  if (/^GET \/orgs\/\{org\}\/teams/.test(route))
    return "organization members: read (a GitHub App or fine-grained token: the job's GITHUB_TOKEN cannot read teams)";
  if (/\/collaborators\//.test(route))
    return 'metadata: read (every token of the repository has it: check the repository name)';
  return 'the permission this endpoint needs';
}

/**
 * A GitHub refusal as the user should read it. 401: the token is not valid. 403 (not a rate limit): it lacks a
 * permission — GitHub's X-Accepted-GitHub-Permissions says which when it sends it. 404: GitHub answers 404, not 403,
 * when a token may not see a private resource (docs "Troubleshooting the REST API"), so it is either absent or hidden.
 * Other API failures (5xx and network errors after the retries, 422) are expected failures too: said as they are,
 * never as "Unexpected error".
 */
export function explainGitHubError(err: unknown, tokenInput: string): unknown {
  if (!(err instanceof GitHubApiError)) return err;
  const need = permissionFor(err.route ?? '');
  const accepted = err.acceptedPermissions ? ` (GitHub accepts: ${err.acceptedPermissions})` : '';
  switch (err.status) {
    case 401:
      return new UserFacingError(
        `${err.message} — the '${tokenInput}' input holds no valid token (expired, revoked or mistyped); with the default \${{ github.token }} check that the job did not replace it`,
        { cause: err },
      );
    case 403:
      if (err.retryAfterMs !== undefined)
        return new UserFacingError(`${err.message} — GitHub's rate limit, still exhausted after the retries`, {
          cause: err,
        });
      return new UserFacingError(
        `${err.message} — the '${tokenInput}' token lacks a permission${accepted}: give the job \`permissions: ${need}\` (or a token that has it)`,
        { cause: err },
      );
    case 404:
      return new UserFacingError(
        `${err.message} — it does not exist, or the '${tokenInput}' token cannot see it: check the repository and ids, and that the job has \`permissions: ${need}\``,
        { cause: err },
      );
    case undefined:
      return new UserFacingError(
        `${err.message} — GitHub's API (GITHUB_API_URL ${process.env['GITHUB_API_URL'] ?? 'https://api.github.com'}) could not be reached`,
        { cause: err },
      );
    default:
      return new UserFacingError(err.message, { cause: err });
  }
}

/** `owner/repo` from an input (defaulting to the workflow's repository). */
export function parseRepository(value: string, inputName = 'repository'): { owner: string; repo: string } {
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/.exec(value.trim());
  if (!m) throw new InputError(inputName, `expected owner/name, got ${quoteValue(value.trim())}`);
  return { owner: m[1] as string, repo: m[2] as string };
}

/** Link to the running workflow run, for issue bodies and deployment log_url. */
export function runUrl(): string {
  const server = process.env['GITHUB_SERVER_URL'] || 'https://github.com';
  const repo = process.env['GITHUB_REPOSITORY'];
  const runId = process.env['GITHUB_RUN_ID'];
  if (!repo || !runId) return '';
  const attempt = process.env['GITHUB_RUN_ATTEMPT'];
  return `${server}/${repo}/actions/runs/${runId}${attempt && attempt !== '1' ? `/attempts/${attempt}` : ''}`;
}
