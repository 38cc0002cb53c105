// Builds the GitHubRest the src/github cores use from @actions/github (GITHUB_API_URL, proxy settings, user agent).
import * as github from '@actions/github';
import { InputError } from '../../core/errors.js';
import { createGitHubRest, type GitHubRest, type GitHubRestOptions } from '../../github/rest.js';

export function githubRest(token: string, opts: GitHubRestOptions = {}): GitHubRest {
  const octokit = github.getOctokit(token);
  return createGitHubRest(octokit.request, opts);
}

/** `owner/repo` from an input (defaulting to the workflow's repository). */
export function parseRepository(value: string, inputName = 'repository'): { owner: string; repo: string } {
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/.exec(value.trim());
  if (!m) throw new InputError(inputName, `expected owner/name, got '${value.trim()}'`);
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
