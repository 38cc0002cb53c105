// The promotion guard: its policy (src/release/promotion.ts) on hand-made records, then the bundled action against
// the local GitHub REST server (test/fixtures/github-api.ts), and finally fed by the bundled github-deployment action
// with exactly the inputs deploy.yml's release job gives it in examples/caller/staging-production.yml (taken from the
// scheduling model), so a change of what deploy.yml records cannot silently make every promotion fail.
import { afterEach, describe, expect, it } from 'vitest';
import { decidePromotion, type PromotionInput } from '../src/release/promotion.js';
import type { DeploymentHistoryEntry } from '../src/github/deployment-history.js';
import { runAction } from './harness/index.js';
import { startGitHubApi, type GitHubApiFake, type SeedDeployment } from './fixtures/github-api.js';
import { runRepoWorkflow, stepOf, type Scenario } from './gha-model/index.js';

const SHA = '8f3e1c2b9d4a5e6f708192a3b4c5d6e7f8091a2b'; // the harness' GITHUB_SHA
const OTHER = '0123456789abcdef0123456789abcdef01234567';
const RUN = 'https://github.com/octo-org/octo-app/actions/runs/777';
const ours = (sha = SHA) => `Deploying ${sha} to Railway`;
const DEPLOYED = 'Release deployed - the run summary names what production runs';

// ---------- policy ----------

let nextId = 100;
function entry(o: {
  sha?: string;
  description?: string | null;
  at?: string;
  id?: number;
  statuses?: Array<[state: string, description?: string, at?: string]>;
}): DeploymentHistoryEntry {
  const id = o.id ?? nextId++;
  const at = o.at ?? '2025-06-01T10:00:00Z';
  return {
    deployment: {
      id,
      sha: o.sha ?? SHA,
      ref: o.sha ?? SHA,
      environment: 'staging',
      description: o.description === undefined ? ours(o.sha) : o.description,
      createdAt: at,
      creator: 'github-actions[bot]',
      url: `https://api.github.example/repos/octo-org/octo-app/deployments/${id}`,
    },
    statuses: (o.statuses ?? []).map(([state, description, when], i) => ({
      id: id * 100 + i,
      state,
      description: description ?? null,
      environmentUrl: state === 'success' ? 'https://shop-staging.up.railway.app' : null,
      logUrl: RUN,
      createdAt: when ?? at,
      creator: 'github-actions[bot]',
    })),
  };
}
const decide = (history: DeploymentHistoryEntry[], over: Partial<PromotionInput> = {}) =>
  decidePromotion({ sha: SHA, environment: 'staging', history, ...over });
const verifiedEntry = (o: Parameters<typeof entry>[0] = {}) =>
  entry({
    statuses: [
      ['in_progress', ours()],
      ['success', DEPLOYED, '2025-06-01T10:05:00Z'],
    ],
    ...o,
  });

describe('decidePromotion', () => {
  it('a deployment deploy.yml recorded for this commit, latest status success: verified, naming the deployment, time and run', () => {
    const v = decide([verifiedEntry({ id: 123 })]);
    expect(v).toMatchObject({
      verified: true,
      decidedBy: { id: 123, environmentUrl: 'https://shop-staging.up.railway.app', logUrl: RUN, state: 'success' },
    });
    expect(v.reason).toBe(`deployment 123 of 8f3e1c2 in staging: success at 2025-06-01T10:05:00Z by run ${RUN}`);
  });

  it('nothing recorded: not verified, and says what to do', () => {
    const v = decide([]);
    expect(v).toMatchObject({ verified: false, considered: [] });
    expect(v.decidedBy).toBeUndefined();
    expect(v.reason).toBe(
      'no deployment of 8f3e1c2 in staging recorded by rail-actions deploy.yml: deploy this commit to staging first (deploy.yml with github-environment: staging)',
    );
  });

  it('deployments by other tools never count, even with a success', () => {
    const v = decide([
      entry({ description: 'Railway deployment', statuses: [['success', 'Deployed']] }),
      entry({ description: null, statuses: [['success']] }),
    ]);
    expect(v.verified).toBe(false);
    expect(v.reason).toMatch(
      /^no deployment of 8f3e1c2 in staging recorded by rail-actions deploy.yml \(2 deployment\(s\) by other tools ignored\)/,
    );
    expect(v.considered.map((c) => c.note)).toEqual([
      'not recorded by rail-actions deploy.yml: ignored',
      'not recorded by rail-actions deploy.yml: ignored',
    ]);
  });

  it('another commit never counts: neither a record of it the server returned, nor a description naming another commit', () => {
    expect(decide([verifiedEntry({ sha: OTHER })]).reason).toMatch(/^no deployment of 8f3e1c2 in staging/);
    expect(decide([verifiedEntry({ description: ours(OTHER) })]).verified).toBe(false);
  });

  it.each([
    [
      [
        ['in_progress', ours()],
        ['failure', 'Release rolled-back - the run summary names what production runs'],
      ],
      'latest status failure (release rolled-back): the release did not verify and staging was left on or restored to the previous version',
    ],
    [
      [
        ['in_progress', ours()],
        ['failure', 'Release failed - the run summary names what production runs'],
      ],
      'latest status failure (release failed)',
    ],
    [
      [
        ['in_progress', ours()],
        ['error', 'Release needs-human - the run summary names what production runs'],
      ],
      'latest status error (release needs-human): the release needs a person',
    ],
    [
      [
        ['in_progress', ours()],
        ['error', 'Release cancelled - the run summary names what production runs'],
      ],
      'latest status error (release cancelled)',
    ],
    [
      [['in_progress', ours()], ['success', DEPLOYED], ['inactive']],
      'superseded: latest status inactive - a later deployment to staging replaced it, so staging no longer runs this commit',
    ],
    [[['in_progress', ours()]], 'still in_progress: its release has not finished'],
    [[], 'it has no status (its run stopped before the release started)'],
    [
      [
        ['in_progress', ours()],
        ['success', 'Looks good'],
      ],
      "its latest status success was not set by deploy.yml's release (description 'Looks good')",
    ],
  ] as Array<[Array<[string, string?]>, string]>)('latest statuses %j: not verified - %s', (statuses, reason) => {
    const v = decide([
      entry({
        id: 555,
        statuses: statuses.map(([s, d], i) => [s, d, `2025-06-01T10:0${i}:00Z`] as [string, string?, string?]),
      }),
    ]);
    expect(v.verified).toBe(false);
    expect(v.decidedBy?.id).toBe(555);
    expect(v.reason).toContain('deployment 555 of 8f3e1c2 in staging does not prove it: ');
    expect(v.reason).toContain(reason);
  });

  it('the newest attempt decides: an older success does not rescue a newer failure, and a newer success is enough', () => {
    const older = verifiedEntry({ id: 10, at: '2025-06-01T09:00:00Z' });
    const failed = entry({
      id: 11,
      at: '2025-06-01T11:00:00Z',
      statuses: [
        ['in_progress', ours()],
        ['failure', 'Release rolled-back - …'],
      ],
    });
    const v = decide([older, failed]);
    expect(v.verified).toBe(false);
    expect(v.reason).toMatch(
      /^deployment 11 of 8f3e1c2 in staging does not prove it: latest status failure \(release rolled-back\).*; the earlier deployment 10 succeeded, but the newest attempt decides$/,
    );
    expect(v.considered.map((c) => [c.id, c.note])).toEqual([
      [11, 'newest: decides'],
      [10, 'older: the newest attempt decides'],
    ]);
    const fixed = decide([
      entry({ id: 12, at: '2025-06-01T08:00:00Z', statuses: [['failure', 'Release failed - …']] }),
      entry({
        id: 13,
        at: '2025-06-01T12:00:00Z',
        statuses: [
          ['in_progress', ours()],
          ['success', DEPLOYED, '2025-06-01T12:05:00Z'],
        ],
      }),
    ]);
    expect(fixed).toMatchObject({ verified: true, decidedBy: { id: 13 } });
  });

  it('order comes from the timestamps, ties broken by id, whatever order the API listed them in', () => {
    // GitHub timestamps have one-second resolution: two records in the same second are ordered by their increasing ids.
    const sameSecond = [
      verifiedEntry({ id: 20 }),
      entry({ id: 21, statuses: [['failure', 'Release failed - …', '2025-06-01T10:05:00Z']] }),
    ];
    expect(decide(sameSecond).decidedBy?.id).toBe(21);
    expect(decide([...sameSecond].reverse()).decidedBy?.id).toBe(21);
    // Statuses listed oldest first still yield the latest one.
    const e = entry({
      id: 22,
      statuses: [
        ['success', DEPLOYED, '2025-06-01T10:01:00Z'],
        ['inactive', undefined, '2025-06-01T10:09:00Z'],
      ],
    });
    expect(decide([e]).reason).toContain('superseded');
    e.statuses.reverse();
    expect(decide([e]).reason).toContain('superseded');
  });
});

// ---------- the bundled action against the GitHub REST API ----------

const TOKEN = 'ghs_promotionGuardToken0123456789abc';
let api: GitHubApiFake | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});
async function fakeGitHub() {
  api = await startGitHubApi({ token: TOKEN, owner: 'octo-org', repo: 'octo-app' });
  return api;
}
const guard = (gh: GitHubApiFake, inputs: Record<string, string> = {}, env: Record<string, string> = {}) =>
  runAction({
    action: 'promotion-guard',
    inputs: { token: TOKEN, environment: 'staging', ...inputs },
    env: { GITHUB_API_URL: gh.url, ...env },
  });
const errors = (r: Awaited<ReturnType<typeof guard>>) =>
  r.annotations.filter((a) => a.level === 'error').map((a) => a.message);
const seedVerified = (gh: GitHubApiFake, over: Partial<SeedDeployment> = {}) =>
  gh.addDeployment({
    sha: SHA,
    environment: 'staging',
    description: ours(over.sha ?? SHA),
    createdAt: '2025-06-01T10:00:00Z',
    statuses: [
      { state: 'in_progress', description: ours(over.sha ?? SHA), logUrl: RUN, createdAt: '2025-06-01T10:00:00Z' },
      {
        state: 'success',
        description: DEPLOYED,
        environmentUrl: 'https://shop-staging.up.railway.app',
        logUrl: RUN,
        createdAt: '2025-06-01T10:04:00Z',
      },
    ],
    ...over,
  });

describe('promotion-guard action', () => {
  it('verified: passes with the deployment that proved it, read with the sha and environment filters', async () => {
    const gh = await fakeGitHub();
    const d = seedVerified(gh);
    const r = await guard(gh);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.outputs).toEqual({
      verified: 'true',
      'deployment-id': String(d.id),
      'deployment-url': `${gh.url}/repos/octo-org/octo-app/deployments/${d.id}`,
      'environment-url': 'https://shop-staging.up.railway.app',
      'log-url': RUN,
      reason: `deployment ${d.id} of 8f3e1c2 in staging: success at 2025-06-01T10:04:00Z by run ${RUN}`,
    });
    expect(r.annotations).toEqual([
      expect.objectContaining({
        level: 'notice',
        message: r.outputs['reason'],
        properties: { title: 'Verified in staging' },
      }),
    ]);
    const list = gh.requests.find((q) => q.path === '/repos/octo-org/octo-app/deployments');
    expect(Object.fromEntries(list?.query ?? [])).toEqual({
      sha: SHA,
      environment: 'staging',
      per_page: '100',
      page: '1',
    });
    expect(gh.requests.map((q) => q.method)).toEqual(['GET', 'GET']);
    expect(r.summary).toContain('✅ Verified');
    expect(r.allText).not.toContain(TOKEN);
  });

  it('no deployment of the commit there: fails with one error saying so, outputs name nothing', async () => {
    const gh = await fakeGitHub();
    const r = await guard(gh);
    expect(r.exitCode).toBe(1);
    expect(errors(r)).toEqual([
      'Not promoting 8f3e1c2: no deployment of 8f3e1c2 in staging recorded by rail-actions deploy.yml: deploy this commit to staging first (deploy.yml with github-environment: staging)',
    ]);
    expect(r.outputs).toMatchObject({ verified: 'false', 'deployment-id': '', 'deployment-url': '' });
    expect(r.summary).toContain('⛔ Not verified');
  });

  it('only another commit in staging, and this commit only in another environment: not verified', async () => {
    const gh = await fakeGitHub();
    seedVerified(gh, { sha: OTHER });
    seedVerified(gh, { environment: 'preview' });
    const r = await guard(gh);
    expect(r.exitCode).toBe(1);
    expect(errors(r)[0]).toMatch(/no deployment of 8f3e1c2 in staging/);
  });

  it('latest status failure (rolled back): fails naming the deployment and the release result', async () => {
    const gh = await fakeGitHub();
    const d = gh.addDeployment({
      sha: SHA,
      environment: 'staging',
      description: ours(),
      statuses: [
        { state: 'in_progress', description: ours() },
        {
          state: 'failure',
          description: 'Release rolled-back - the run summary names what production runs',
          logUrl: RUN,
        },
      ],
    });
    const r = await guard(gh);
    expect(r.exitCode).toBe(1);
    expect(errors(r)).toHaveLength(1);
    expect(errors(r)[0]).toMatch(
      new RegExp(
        `^Not promoting 8f3e1c2: deployment ${d.id} of 8f3e1c2 in staging does not prove it: latest status failure \\(release rolled-back\\)`,
      ),
    );
    expect(r.outputs['verified']).toBe('false');
  });

  it('superseded: a later release to staging marked it inactive (auto_inactive), so staging no longer runs it', async () => {
    const gh = await fakeGitHub();
    const record =
      (sha: string) =>
      async (status: string, more: Record<string, string> = {}) =>
        runAction({
          action: 'github-deployment',
          inputs: { token: TOKEN, status, ...more },
          env: { GITHUB_API_URL: gh.url, GITHUB_SHA: sha },
        });
    for (const sha of [SHA, OTHER]) {
      const start = await record(sha)('in_progress', { environment: 'staging', description: ours(sha) });
      const done = await record(sha)('success', {
        'deployment-id': start.outputs['deployment-id'] ?? '',
        'environment-url': 'https://shop-staging.up.railway.app',
        description: DEPLOYED,
      });
      expect(done.exitCode, done.stdout).toBe(0);
    }
    expect(gh.deployments[0]?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success', 'inactive']);
    const r = await guard(gh);
    expect(r.exitCode).toBe(1);
    expect(errors(r)[0]).toContain('superseded: latest status inactive - a later deployment to staging replaced it');
    expect((await guard(gh, {}, { GITHUB_SHA: OTHER })).outputs['verified']).toBe('true');
  });

  it('reads every page: the record is found behind 120 deployments of the commit by another tool', async () => {
    const gh = await fakeGitHub();
    const d = seedVerified(gh);
    for (let i = 0; i < 120; i++)
      gh.addDeployment({
        sha: SHA,
        environment: 'staging',
        description: 'Railway deployment',
        creator: 'railway-app[bot]',
        statuses: [{ state: 'success' }],
      });
    const r = await guard(gh);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.outputs['deployment-id']).toBe(String(d.id));
    const pages = gh.requests
      .filter((q) => q.path === '/repos/octo-org/octo-app/deployments')
      .map((q) => q.query.get('page'));
    expect(pages).toEqual(['1', '2']);
  });

  it.each([
    [
      'a wrong token (401)',
      (gh: GitHubApiFake) => ({ token: `${TOKEN}x`, gh }),
      /GitHub refused the token while reading the GitHub deployments of octo-org\/octo-app \(HTTP 401\): the 'token' input \(default: the job's GITHUB_TOKEN\) is invalid or expired\. The job needs 'permissions: deployments: read'/,
    ],
    [
      'a token without deployments: read (403)',
      (gh: GitHubApiFake) => {
        gh.deploymentReadError = {
          status: 403,
          message: 'Resource not accessible by integration',
          acceptedPermissions: 'deployments=read',
        };
        return { token: TOKEN, gh };
      },
      /The token may not read deployments \(HTTP 403\) while reading the GitHub deployments of octo-org\/octo-app: the 'token' input .* lacks the permission\. The job needs 'permissions: deployments: read'.*"Deployments" repository permission \(read\)/,
    ],
    [
      'a repository the token cannot see (404)',
      (gh: GitHubApiFake) => ({ token: TOKEN, gh, repository: 'octo-org/other-app' }),
      /Repository octo-org\/other-app was not found with this token \(HTTP 404\).*check the 'repository' input.*deployments: read/,
    ],
  ])('%s: one error naming the token and the permission, no retry', async (_name, setup, message) => {
    const gh = await fakeGitHub();
    seedVerified(gh);
    const { token, repository } = setup(gh) as { token: string; repository?: string };
    const r = await guard(gh, { token, ...(repository ? { repository } : {}) });
    expect(r.exitCode).toBe(1);
    expect(errors(r)).toEqual([expect.stringMatching(message)]);
    expect(gh.requests).toHaveLength(1);
    expect(r.allText).not.toContain(TOKEN);
  });

  it('retries a server error, then decides', async () => {
    const gh = await fakeGitHub();
    seedVerified(gh);
    gh.failNext(1, 502);
    const r = await guard(gh);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.logLines.join('\n')).toMatch(/HTTP 502.*retry 1/);
  });

  it.each([
    [{ sha: 'main' }, "Input 'sha': expected a full 40-character commit SHA, got 'main'"],
    [{ sha: SHA.slice(0, 7) }, "Input 'sha': expected a full 40-character commit SHA, got '8f3e1c2'"],
    [
      { environment: ' ' },
      "Input 'environment': is required: the GitHub environment this commit must have been verified in (e.g. staging)",
    ],
    [{ repository: 'not a repo' }, /^Input 'repository': expected owner\/name/],
  ])('bad input %j fails before any API call', async (inputs, message) => {
    const gh = await fakeGitHub();
    const r = await guard(gh, inputs);
    expect(r.exitCode).toBe(1);
    expect(errors(r)).toEqual([typeof message === 'string' ? message : expect.stringMatching(message)]);
    expect(gh.requests).toHaveLength(0);
  });
});

// ---------- what deploy.yml records, read back by the guard ----------

describe('deploy.yml records staging, the guard reads it for production (inputs from the scheduling model)', () => {
  /** The staging → production run of examples/caller/staging-production.yml with staging's release ending in `result`. */
  function modelRun(result: 'deployed' | 'rolled-back') {
    const scenario: Scenario = {
      secrets: {
        STAGING_RAILWAY_TOKEN: 'rw-s',
        STAGING_DATABASE_URL: 'postgres://a:b@s/app',
        PRODUCTION_RAILWAY_TOKEN: 'rw-p',
        PRODUCTION_DATABASE_URL: 'postgres://a:b@p/app',
      },
      steps: {
        'staging/release': {
          'github-deployment': { outputs: { 'deployment-id': '4242' } },
          release: {
            outcome: result === 'deployed' ? 'success' : 'failure',
            outputs: { result, url: 'https://shop-staging.up.railway.app' },
          },
          first: (ctx) => ({ outputs: { url: (ctx.env['URLS'] ?? '').split('\n')[0] ?? '' } }),
        },
      },
    };
    return runRepoWorkflow('examples/caller/staging-production.yml', scenario);
  }
  const productionGuardInputs = () => stepOf(modelRun('deployed'), 'production/gate', 'promotion').with;

  /** Runs the bundled github-deployment action with the `with:` deploy.yml's release job evaluated to in the model. */
  async function recordStaging(gh: GitHubApiFake, result: 'deployed' | 'rolled-back') {
    const t = modelRun(result);
    const sha = stepOf(t, 'staging/release', 'release').with['commit-sha'] ?? '';
    const env = { GITHUB_API_URL: gh.url, GITHUB_SHA: sha };
    const start = await runAction({
      action: 'github-deployment',
      inputs: { token: TOKEN, ...stepOf(t, 'staging/release', 'github-deployment').with },
      env,
    });
    expect(start.exitCode, start.stdout).toBe(0);
    const outcome = stepOf(t, 'staging/release', 'Record the outcome on the GitHub deployment').with;
    const done = await runAction({
      action: 'github-deployment',
      inputs: { token: TOKEN, ...outcome, 'deployment-id': start.outputs['deployment-id'] ?? '' },
      env,
    });
    expect(done.exitCode, done.stdout).toBe(0);
    return { sha, id: start.outputs['deployment-id'] ?? '', status: outcome['status'] };
  }

  it("staging deployed and verified: production's guard, with the inputs deploy.yml gives it, finds that deployment", async () => {
    const gh = await fakeGitHub();
    const staged = await recordStaging(gh, 'deployed');
    expect(staged.status).toBe('success');
    const inputs = productionGuardInputs();
    expect(inputs['sha']).toBe(staged.sha);
    const r = await runAction({
      action: 'promotion-guard',
      inputs: { token: TOKEN, ...inputs },
      env: { GITHUB_API_URL: gh.url, GITHUB_SHA: staged.sha },
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.outputs).toMatchObject({
      verified: 'true',
      'deployment-id': staged.id,
      'environment-url': 'https://shop-staging.up.railway.app/',
    });
  });

  it('staging rolled back: a re-run of production alone is refused by the guard, naming the rolled-back release', async () => {
    const gh = await fakeGitHub();
    const staged = await recordStaging(gh, 'rolled-back');
    expect(staged.status).toBe('failure');
    const r = await runAction({
      action: 'promotion-guard',
      inputs: { token: TOKEN, ...productionGuardInputs() },
      env: { GITHUB_API_URL: gh.url, GITHUB_SHA: staged.sha },
    });
    expect(r.exitCode).toBe(1);
    expect(errors(r)[0]).toMatch(
      new RegExp(
        `deployment ${staged.id} of ${staged.sha.slice(0, 7)} in staging does not prove it: latest status failure \\(release rolled-back\\)`,
      ),
    );
  });
});
