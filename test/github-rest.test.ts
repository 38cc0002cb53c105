// The GitHub REST client the cores use, built on @actions/github's real octokit, against the local REST server:
// pagination (GitHub's maximum page size is 100, which is what the client asks for), 404 answers that mean "no", retries of transient failures only, and rate limits.
import { afterEach, describe, expect, it } from 'vitest';
import { getOctokit } from '@actions/github';
import { createGitHubRest, GitHubApiError } from '../src/github/rest.js';
import { startGitHubApi, type GitHubApiFake } from './fixtures/github-api.js';

const TOKEN = 'ghs_restClientToken0123456789';
let api: GitHubApiFake | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function client() {
  api = await startGitHubApi({ token: TOKEN, owner: 'octo-org', repo: 'octo-app' });
  const logs: string[] = [];
  const rest = createGitHubRest(getOctokit(TOKEN, { baseUrl: api.url }).request, { log: (m) => logs.push(m) });
  return { gh: api, rest, logs };
}

describe('GitHub REST client', () => {
  it('reads every page of issue comments', async () => {
    const { gh, rest } = await client();
    const issue = await rest.createIssue({
      owner: 'octo-org',
      repo: 'octo-app',
      title: 't',
      body: 'b',
      assignees: [],
      labels: [],
    });
    for (let i = 0; i < 205; i++) gh.addComment(issue.number, `user${i}`, `comment ${i}`);
    const comments = await rest.listIssueComments({ owner: 'octo-org', repo: 'octo-app', issueNumber: issue.number });
    expect(comments).toHaveLength(205);
    expect(comments[204]).toMatchObject({ login: 'user204', body: 'comment 204', userType: 'User' });
    const pages = gh.requests.filter((q) => q.path.endsWith('/comments')).map((q) => q.query.get('page'));
    expect(pages).toEqual(['1', '2', '3']);
  });

  it('answers "no" for 404s where absence is an answer', async () => {
    const { gh, rest } = await client();
    gh.collaborators.set('alice', 'write');
    gh.teams.set('octo-org/release', { members: new Set(['carol']), pending: new Set(['dave']) });
    expect(await rest.getCollaboratorPermission({ owner: 'octo-org', repo: 'octo-app', username: 'alice' })).toBe(
      'write',
    );
    expect(await rest.getCollaboratorPermission({ owner: 'octo-org', repo: 'octo-app', username: 'zed' })).toBeNull();
    expect(await rest.teamExists({ org: 'octo-org', teamSlug: 'release' })).toBe(true);
    expect(await rest.teamExists({ org: 'octo-org', teamSlug: 'nope' })).toBe(false);
    expect(await rest.isTeamMember({ org: 'octo-org', teamSlug: 'release', username: 'carol' })).toBe(true);
    expect(await rest.isTeamMember({ org: 'octo-org', teamSlug: 'release', username: 'dave' })).toBe(false);
    expect(await rest.isTeamMember({ org: 'octo-org', teamSlug: 'release', username: 'zed' })).toBe(false);
  });

  it('retries 5xx and 429 (waiting at least Retry-After) and then succeeds', async () => {
    const { gh, rest, logs } = await client();
    const issue = await rest.createIssue({
      owner: 'octo-org',
      repo: 'octo-app',
      title: 't',
      body: '',
      assignees: [],
      labels: [],
    });
    gh.failNext(1, 503);
    await rest.createIssueComment({
      owner: 'octo-org',
      repo: 'octo-app',
      issueNumber: issue.number,
      body: 'after a 503',
    });
    gh.failNext(1, 429);
    await rest.createIssueComment({
      owner: 'octo-org',
      repo: 'octo-app',
      issueNumber: issue.number,
      body: 'after a rate limit',
    });
    expect(gh.issues[0]?.comments.map((c) => c.body)).toEqual(['after a 503', 'after a rate limit']);
    expect(logs.join('\n')).toMatch(/HTTP 503.*retry 1 in \d+ms/);
    const waited = /HTTP 429.*retry 1 in (\d+)ms/.exec(logs.join('\n'));
    expect(Number(waited?.[1])).toBeGreaterThanOrEqual(1000); // the server said Retry-After: 1
  });

  it('does not retry answers about the request itself (401, 404, 422)', async () => {
    const { gh } = await client();
    const wrong = createGitHubRest(getOctokit('ghs_wrong', { baseUrl: gh.url }).request);
    await expect(
      wrong.createIssue({ owner: 'octo-org', repo: 'octo-app', title: 't', body: '', assignees: [], labels: [] }),
    ).rejects.toThrow(/HTTP 401\): Bad credentials/);
    expect(gh.requests).toHaveLength(1);
    const rest = createGitHubRest(getOctokit(TOKEN, { baseUrl: gh.url }).request);
    const err = await rest
      .createDeploymentStatus({ owner: 'octo-org', repo: 'octo-app', deploymentId: 999, state: 'success' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubApiError);
    expect((err as GitHubApiError).status).toBe(404);
    expect(gh.requests).toHaveLength(2);
  });
});
