// Runs the bundled github-deployment action against a local GitHub REST server.
import { afterEach, describe, expect, it } from 'vitest';
import { runAction } from './harness/index.js';
import { startGitHubApi, type GitHubApiFake } from './fixtures/github-api.js';

const TOKEN = 'ghs_deploymentTestToken0123456789abc';
const SHA = '8f3e1c2b9d4a5e6f708192a3b4c5d6e7f8091a2b';
let api: GitHubApiFake | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function fakeGitHub() {
  api = await startGitHubApi({ token: TOKEN, owner: 'octo-org', repo: 'octo-app' });
  return api;
}
const run = (gh: GitHubApiFake, inputs: Record<string, string>) =>
  runAction({
    action: 'github-deployment',
    inputs: { token: TOKEN, ...inputs },
    env: { GITHUB_API_URL: gh.url, GITHUB_SHA: SHA },
  });

describe('github-deployment action', () => {
  it('walks a deployment through in_progress → success with the environment URL → inactive after rollback', async () => {
    const gh = await fakeGitHub();
    const start = await run(gh, {
      status: 'in_progress',
      environment: 'production',
      description: 'Deploying to Railway',
    });
    expect(start.exitCode, start.stdout).toBe(0);
    const id = start.outputs['deployment-id'] ?? '';
    expect(id).toMatch(/^\d+$/);
    expect(gh.deployments).toHaveLength(1);
    const d = gh.deployments[0];
    expect(d).toMatchObject({ ref: SHA, environment: 'production', description: 'Deploying to Railway' });
    expect(d?.statuses[0]).toMatchObject({
      state: 'in_progress',
      logUrl: 'https://github.com/octo-org/octo-app/actions/runs/1000001',
    });
    const post = gh.requests.find((q) => q.method === 'POST' && q.path.endsWith('/deployments'));
    expect(post?.body).toMatchObject({ auto_merge: false, required_contexts: [] });

    const ok = await run(gh, {
      status: 'success',
      'deployment-id': id,
      'environment-url': 'https://shop.up.railway.app',
    });
    expect(ok.exitCode).toBe(0);
    expect(d?.statuses[1]).toMatchObject({
      state: 'success',
      environmentUrl: 'https://shop.up.railway.app/',
      autoInactive: true,
    });

    const rolledBack = await run(gh, {
      status: 'inactive',
      'deployment-id': id,
      description: `Rolled back: production runs the previous deployment again. ${'x'.repeat(200)}`,
    });
    expect(rolledBack.exitCode, rolledBack.stdout).toBe(0);
    expect(d?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success', 'inactive']);
    expect(d?.statuses[2]?.description?.length).toBe(140);
    expect(gh.deployments).toHaveLength(1);
    for (const r of [start, ok, rolledBack]) expect(r.allText).not.toContain(TOKEN);
  });

  it('records failure on an existing deployment and warns when success has no URL', async () => {
    const gh = await fakeGitHub();
    const start = await run(gh, { status: 'in_progress', environment: 'staging', 'production-environment': 'false' });
    const id = start.outputs['deployment-id'] ?? '';
    expect(gh.deployments[0]?.productionEnvironment).toBe(false);
    const failed = await run(gh, { status: 'failure', 'deployment-id': id, description: 'Health check failed' });
    expect(failed.exitCode).toBe(0);
    expect(gh.deployments[0]?.statuses.map((s) => s.state)).toEqual(['in_progress', 'failure']);
    const noUrl = await run(gh, { status: 'success', 'deployment-id': id });
    expect(noUrl.exitCode).toBe(0);
    expect(noUrl.annotations.some((a) => a.level === 'warning' && /without environment-url/.test(a.message))).toBe(
      true,
    );
  });

  it('fails clearly when the deployment does not exist', async () => {
    const gh = await fakeGitHub();
    const r = await run(gh, { status: 'success', 'deployment-id': '424242', 'environment-url': 'https://x.example' });
    expect(r.exitCode).toBe(1);
    expect(r.annotations.find((a) => a.level === 'error')?.message).toMatch(/HTTP 404/);
  });

  it.each([
    [{ status: 'done', environment: 'production' }, /Input 'status': expected one of queued, in_progress/],
    [{ status: '', environment: 'production' }, /Input 'status': is required/],
    [
      { status: 'success', 'environment-url': 'https://x.example' },
      /Input 'deployment-id': is required to set status 'success'/,
    ],
    [{ status: 'inactive', 'deployment-id': 'abc' }, /Input 'deployment-id': expected the numeric id/],
    [{ status: 'in_progress' }, /Input 'environment': is required when creating a deployment/],
    [
      { status: 'success', 'deployment-id': '12', 'environment-url': 'not a url' },
      /Input 'environment-url': expected an absolute URL/,
    ],
    [
      { status: 'in_progress', environment: 'production', 'production-environment': 'yes' },
      /Input 'production-environment'/,
    ],
  ])('bad input %j fails before any API call', async (inputs, message) => {
    const gh = await fakeGitHub();
    const r = await run(gh, inputs);
    expect(r.exitCode).toBe(1);
    expect(r.annotations.filter((a) => a.level === 'error').map((a) => a.message)).toEqual([
      expect.stringMatching(message),
    ]);
    expect(gh.requests).toHaveLength(0);
  });
});
