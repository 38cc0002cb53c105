// The release process: .github/workflows/release.yml through the model of GitHub's job scheduling (which jobs and
// steps run, with what env), its steps run for real where they are local (the version check, the dist/ comparison,
// the publish step against the fake GitHub API of test/fixtures/github-api.ts), scripts/release.mjs against recorded
// request sequences (idempotency, the major tag never moving backwards, errors before any change), and the files the
// process relies on (CHANGELOG.md, package.json's version, .github/dependabot.yml, CONTRIBUTING.md).
// `npm run release:dry-run` runs this file.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startGitHubApi, type GitHubApiFake } from './fixtures/github-api.js';
import {
  formatTrace,
  ranSteps,
  results,
  runRepoWorkflow,
  stepOf,
  type RunTrace,
  type Scenario,
} from './gha-model/index.js';
import { projectRoot } from './harness/index.js';

const RELEASE_YML = '.github/workflows/release.yml';
const TOKEN = 'ghs_release-test-token-0123456789';
const OWNER = 'acme';
const REPO = 'rail-actions';
const API = `/repos/${OWNER}/${REPO}`;
/** Distinct 40-hex commit shas: c(1) = 0001…0001. */
const c = (n: number) => String(n).padStart(4, '0').repeat(10);

type Dict = Record<string, unknown>;
interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
}

// ---------------------------------------------------------------------------------------------------- helpers

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function fakeGitHub(): Promise<GitHubApiFake> {
  const gh = await startGitHubApi({ token: TOKEN, owner: OWNER, repo: REPO });
  cleanups.push(() => gh.close());
  return gh;
}

/** Runs a command with exactly `env` (plus PATH/HOME): nothing leaks in from the environment the tests run in. */
function exec(cmd: string, args: string[], cwd: string, env: Record<string, string>): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: os.tmpdir(), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const changelog = (...versions: string[]) =>
  [
    '# Changelog',
    '',
    '## [Unreleased]',
    '',
    '### Added',
    '',
    '- Something still to come.',
    '',
    ...versions.flatMap((v) => [`## [${v}] - 2026-12-01`, '', '### Fixed', '', `- The fix of ${v}.`, '']),
    `[Unreleased]: https://github.com/${OWNER}/${REPO}/compare/v${versions[0] ?? '0.0.0'}...HEAD`,
    '',
  ].join('\n');
const notesOf = (v: string) => `### Fixed\n\n- The fix of ${v}.`;

/** A checkout of a release commit: package.json, CHANGELOG.md and scripts/release.mjs. */
async function checkout(opts: { version?: string; changelog?: string } = {}): Promise<string> {
  const dir = await tempDir('rail-release-');
  await mkdir(path.join(dir, 'scripts'));
  await copyFile(path.join(projectRoot, 'scripts/release.mjs'), path.join(dir, 'scripts/release.mjs'));
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'rail-actions', version: opts.version ?? '1.2.0' }),
  );
  await writeFile(path.join(dir, 'CHANGELOG.md'), opts.changelog ?? changelog('1.2.0', '1.1.0', '1.0.0'));
  return dir;
}

/** What the runner sets for a step (docs "Variables reference › Default environment variables"), from a github context. */
function runnerEnv(github: Dict, gh: GitHubApiFake): Record<string, string> {
  return {
    GITHUB_REPOSITORY: String(github['repository']),
    GITHUB_SHA: String(github['sha']),
    GITHUB_REF: String(github['ref']),
    GITHUB_REF_NAME: String(github['ref_name']),
    GITHUB_REF_TYPE: String(github['ref_type']),
    GITHUB_EVENT_NAME: String(github['event_name']),
    GITHUB_API_URL: gh.url,
  };
}

/** scripts/release.mjs publish as the workflow runs it on a tag push of `tag` at `sha`. */
function publish(
  gh: GitHubApiFake,
  dir: string,
  opts: { tag?: string; sha: string; env?: Record<string, string>; args?: string[] },
): Promise<Proc> {
  const tag = opts.tag ?? 'v1.2.0';
  return exec(process.execPath, ['scripts/release.mjs', 'publish', ...(opts.args ?? [])], dir, {
    ...runnerEnv(
      {
        repository: `${OWNER}/${REPO}`,
        sha: opts.sha,
        ref: `refs/tags/${tag}`,
        ref_name: tag,
        ref_type: 'tag',
        event_name: 'push',
      },
      gh,
    ),
    GITHUB_TOKEN: TOKEN,
    ...opts.env,
  });
}

/** The requests the fake saw: [method, path?query] for reads, [method, path, body] for changes. */
const seen = (gh: GitHubApiFake) =>
  gh.requests.map((r) => {
    const where = `${r.path}${[...r.query].length ? `?${r.query.toString()}` : ''}`;
    return r.method === 'GET' ? [r.method, where] : [r.method, where, r.body];
  });
const changes = (gh: GitHubApiFake) => seen(gh).filter(([m]) => m !== 'GET');
const say = (p: Proc) => `exit ${p.code}\n--- stdout\n${p.stdout}\n--- stderr\n${p.stderr}`;

/** v1.0.0 at c(1), v1.1.0 at c(2) - both released, v1 at c(2) - and the pushed tag v1.2.0 at c(3). */
function historyUpTo120(gh: GitHubApiFake): void {
  gh.addCommits([c(1), c(2), c(3)]);
  gh.setRef('refs/heads/main', c(3));
  for (const [tag, sha] of [
    ['v1.0.0', c(1)],
    ['v1.1.0', c(2)],
    ['v1.2.0', c(3)],
  ] as const)
    gh.setRef(`refs/tags/${tag}`, sha);
  gh.setRef('refs/tags/v1', c(2));
  for (const [tag, sha] of [
    ['v1.0.0', c(1)],
    ['v1.1.0', c(2)],
  ] as const) {
    gh.releases.push({
      id: gh.releases.length + 1,
      tagName: tag,
      targetCommitish: sha,
      name: tag,
      body: notesOf(tag.slice(1)),
      draft: false,
      immutable: true,
      makeLatest: undefined,
      publishedAt: '2026-11-30T00:00:00Z',
    });
  }
}
const body120 = `${notesOf('1.2.0')}\n\n---\nCommit: ${c(3)}`;

// ---------------------------------------------------------------------------------------------------- the workflow

const workflow = parseYaml(readFileSync(path.join(projectRoot, RELEASE_YML), 'utf8')) as {
  on: { push: { tags: string[]; branches?: unknown }; workflow_dispatch: { inputs: Record<string, Dict> } };
  permissions: unknown;
  jobs: Record<
    string,
    {
      permissions: unknown;
      needs?: unknown;
      if?: string;
      concurrency?: Dict;
      services?: Dict;
      env?: Dict;
      steps: Array<Dict & { uses?: string; run?: string; with?: Dict; env?: Dict }>;
    }
  >;
};
const testYml = parseYaml(
  readFileSync(path.join(projectRoot, '.github/workflows/test.yml'), 'utf8'),
) as typeof workflow;

function tagPush(version = '1.2.0', sha = c(3)): Scenario {
  return {
    github: {
      event_name: 'push',
      ref: `refs/tags/v${version}`,
      ref_name: `v${version}`,
      ref_type: 'tag',
      sha,
      repository: `${OWNER}/${REPO}`,
      repository_owner: OWNER,
      workflow: 'release',
      token: TOKEN,
    },
  };
}
function dispatch(inputs: { version: string; 'move-major-tag': boolean }, sha = c(3)): Scenario {
  // GitHub fills in the defaults of workflow_dispatch inputs before the run; the model takes them as given.
  return {
    github: {
      event_name: 'workflow_dispatch',
      ref: 'refs/heads/main',
      ref_name: 'main',
      ref_type: 'branch',
      sha,
      repository: `${OWNER}/${REPO}`,
      repository_owner: OWNER,
      workflow: 'release',
      token: TOKEN,
    },
    inputs,
  };
}

/** Runs one step of a modelled run for real: its evaluated run: script and env, plus the runner's default env. */
function runStep(
  t: RunTrace,
  scenario: Scenario,
  job: string,
  key: string,
  cwd: string,
  gh: GitHubApiFake,
  extra: Record<string, string> = {},
): Promise<Proc> {
  const step = stepOf(t, job, key);
  expect(step.ran, `${job}/${key} ran\n${formatTrace(t)}`).toBe(true);
  // GitHub's default shell for run: on Linux (docs "jobs.<job_id>.steps[*].shell": bash --noprofile --norc -eo pipefail {0}).
  return exec('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run ?? ''], cwd, {
    ...runnerEnv(scenario.github ?? {}, gh),
    ...extra,
    ...step.env,
  });
}

/** GitHub's filter pattern syntax (docs "Workflow syntax › Filter pattern cheat sheet") as a regular expression. */
function filterPattern(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') re += pattern[i + 1] === '*' ? (i++, '.*') : '[^/]*';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i);
      re += pattern.slice(i, end + 1);
      i = end;
    } else if (ch === '+' || ch === '?') re += ch;
    else re += ch.replace(/[.\\^$|(){}]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

describe('release.yml: triggers, permissions, wiring', () => {
  it('runs on vX.Y.Z tags only (not the major tag it moves, not pre-releases) and by hand with a version', () => {
    expect(workflow.on.push.tags).toEqual(['v[0-9]+.[0-9]+.[0-9]+']);
    expect(workflow.on.push.branches).toBeUndefined();
    const match = filterPattern(workflow.on.push.tags[0] as string);
    for (const tag of ['v1.0.0', 'v1.2.3', 'v10.20.30']) expect(match.test(tag), tag).toBe(true);
    for (const tag of ['v1', 'v1.2', 'v1.2.3-rc.1', 'v1.2.3.4', '1.2.3', 'v1x2y3', 'release-v1.2.3'])
      expect(match.test(tag), tag).toBe(false);
    expect(workflow.on.workflow_dispatch.inputs['version']).toMatchObject({ type: 'string', required: true });
    expect(workflow.on.workflow_dispatch.inputs['move-major-tag']).toMatchObject({ type: 'boolean', default: true });
  });

  it('least privilege: nothing at the top, contents: read to verify, contents: write only where the release is published', () => {
    expect(workflow.permissions).toEqual({});
    expect(Object.fromEntries(Object.entries(workflow.jobs).map(([id, j]) => [id, j.permissions]))).toEqual({
      verify: { contents: 'read' },
      publish: { contents: 'write' },
    });
  });

  it('the token reaches only the publish step, through env; the scripts never get it in argv', () => {
    const text = (v: unknown) => JSON.stringify(v);
    expect(text(workflow.jobs['verify'])).not.toMatch(/github\.token|secrets\./);
    const steps = workflow.jobs['publish']!.steps;
    const withToken = steps.filter((s) => /github\.token|secrets\./.test(text(s)));
    expect(withToken.map((s) => s['id'])).toEqual(['publish']);
    expect(withToken[0]?.env?.['GITHUB_TOKEN']).toBe('${{ github.token }}');
    expect(withToken[0]?.run).toBe('node scripts/release.mjs publish');
    expect(workflow.jobs['verify']!.steps.find((s) => s['id'] === 'check')?.run).toBe('node scripts/release.mjs check');
  });

  it('checks out with the actions/checkout pin of test.yml and never keeps credentials in .git', () => {
    const checkoutPin = (w: typeof workflow) =>
      new Set(
        Object.values(w.jobs)
          .flatMap((j) => j.steps)
          .map((s) => s.uses)
          .filter((u) => u?.startsWith('actions/checkout@')),
      );
    expect(checkoutPin(workflow)).toEqual(checkoutPin(testYml));
    const checkouts = Object.values(workflow.jobs)
      .flatMap((j) => j.steps)
      .filter((s) => s.uses?.startsWith('actions/checkout@'));
    expect(checkouts).toHaveLength(2);
    for (const s of checkouts) expect(s.with).toMatchObject({ 'persist-credentials': false });
  });

  it('verify runs what test.yml runs: the same PostgreSQL + Redis services, build into a temp dir, lint, typecheck, npm test', () => {
    const verify = workflow.jobs['verify']!;
    const test = testYml.jobs['test']!;
    expect(verify.services).toEqual(test.services);
    expect(verify.env).toEqual(test.env);
    const run = (id: string) => verify.steps.find((s) => s['id'] === id)?.run;
    const testRun = (job: string, name: string) => testYml.jobs[job]!.steps.find((s) => s['name'] === name)?.run;
    expect(run('build')).toBe(testRun('check-dist', 'Build into a temporary directory'));
    expect(run('lint')).toBe(testRun('static', 'Lint'));
    expect(run('typecheck')).toBe(testRun('static', 'Typecheck'));
    expect(run('test')).toBe(testRun('test', 'Test'));
    expect(verify.steps.find((s) => s['id'] === 'setup')).toMatchObject({
      uses: '$/actions/setup',
      with: { cache: 'false' },
    });
  });

  it('two publishes never overlap: one concurrency group, queued in order, never cancelled', () => {
    expect(workflow.jobs['publish']!.concurrency).toEqual({
      group: 'rail-actions-release',
      'cancel-in-progress': false,
      queue: 'max',
    });
  });
});

describe('release.yml in the job-scheduling model', () => {
  it('tag push, everything passes: verify runs every check in order, then publish runs with the token, the tag and nothing else', () => {
    const t = runRepoWorkflow(RELEASE_YML, tagPush());
    expect(results(t), formatTrace(t)).toEqual({ verify: 'success', publish: 'success' });
    expect(ranSteps(t, 'verify')).toEqual([
      'Check out',
      'check',
      'setup',
      'lint',
      'typecheck',
      'build',
      'dist',
      'test',
    ]);
    expect(ranSteps(t, 'publish')).toEqual(['Check out', 'publish']);
    expect(stepOf(t, 'verify', 'check').env).toEqual({ RELEASE_VERSION: '' });
    expect(stepOf(t, 'publish', 'publish').env).toEqual({
      GITHUB_TOKEN: TOKEN,
      RELEASE_VERSION: '',
      MOVE_MAJOR_TAG: '',
    });
  });

  it.each(['check', 'setup', 'lint', 'typecheck', 'build', 'dist', 'test'])(
    'verify fails at %s: the steps after it and the publish job are skipped',
    (failing) => {
      const t = runRepoWorkflow(RELEASE_YML, {
        ...tagPush(),
        steps: { verify: { [failing]: { outcome: 'failure' } } },
      });
      expect(results(t), formatTrace(t)).toEqual({ verify: 'failure', publish: 'skipped' });
      expect(t.result).toBe('failure');
      const order = ['Check out', 'check', 'setup', 'lint', 'typecheck', 'build', 'dist', 'test'];
      expect(ranSteps(t, 'verify')).toEqual(order.slice(0, order.indexOf(failing) + 1));
      expect(t.jobs['publish']).toMatchObject({ ran: false, result: 'skipped', steps: [] });
    },
  );

  it.each(['check', 'test'])('cancelled while verify runs %s: nothing is published', (step) => {
    const t = runRepoWorkflow(RELEASE_YML, { ...tagPush(), cancel: { during: 'verify', step } });
    expect(t.result).toBe('cancelled');
    expect(results(t), formatTrace(t)).toEqual({ verify: 'cancelled', publish: 'skipped' });
    expect(t.jobs['publish']).toMatchObject({ ran: false, result: 'skipped', steps: [] });
  });

  it('by hand: the version and move-major-tag inputs reach the check and publish steps through env', () => {
    const t = runRepoWorkflow(RELEASE_YML, dispatch({ version: '1.2.0', 'move-major-tag': false }));
    expect(results(t), formatTrace(t)).toEqual({ verify: 'success', publish: 'success' });
    expect(stepOf(t, 'verify', 'check').env).toEqual({ RELEASE_VERSION: '1.2.0' });
    expect(stepOf(t, 'publish', 'publish').env).toEqual({
      GITHUB_TOKEN: TOKEN,
      RELEASE_VERSION: '1.2.0',
      MOVE_MAJOR_TAG: 'false',
    });
  });
});

describe('release.yml steps run for real (GitHub calls answered by the fake API)', () => {
  it('tag push of v1.2.0: check passes, then the publish step publishes the release and moves v1, exactly these requests', async () => {
    const gh = await fakeGitHub();
    historyUpTo120(gh);
    gh.immutableReleases = true;
    const dir = await checkout();
    const scenario = tagPush();
    const t = runRepoWorkflow(RELEASE_YML, scenario);

    const check = await runStep(t, scenario, 'verify', 'check', dir, gh);
    expect(check.code, say(check)).toBe(0);
    expect(gh.requests).toEqual([]); // the check is local

    const summary = path.join(await tempDir('rail-summary-'), 'summary.md');
    const p = await runStep(t, scenario, 'publish', 'publish', dir, gh, { GITHUB_STEP_SUMMARY: summary });
    expect(p.code, say(p)).toBe(0);
    const id = gh.releases.find((r) => r.tagName === 'v1.2.0')?.id;
    expect(seen(gh)).toEqual([
      ['GET', `${API}/releases/tags/v1.2.0`],
      ['GET', `${API}/git/matching-refs/tags/v`],
      ['GET', `${API}/releases?per_page=100&page=1`],
      ['GET', `${API}/compare/${c(2)}...${c(3)}`],
      [
        'POST',
        `${API}/releases`,
        { tag_name: 'v1.2.0', target_commitish: c(3), name: 'v1.2.0', body: body120, draft: true },
      ],
      [
        'PATCH',
        `${API}/releases/${id}`,
        { name: 'v1.2.0', body: body120, draft: false, target_commitish: c(3), make_latest: 'true' },
      ],
      ['PATCH', `${API}/git/refs/tags/v1`, { sha: c(3), force: true }],
    ]);
    for (const r of gh.requests) expect(r.authorization).toBe(`Bearer ${TOKEN}`);
    expect(gh.releases.find((r) => r.tagName === 'v1.2.0')).toMatchObject({
      draft: false,
      immutable: true,
      body: body120,
    });
    expect(gh.refs.get('refs/tags/v1')).toEqual({ sha: c(3), type: 'commit' });
    expect(p.stdout).toContain('Immutable: yes');
    expect(await readFile(summary, 'utf8')).toContain(`Major tag v1 moved from ${c(2)} to ${c(3)}.`);
    expect(p.stdout + p.stderr).not.toContain(TOKEN);
  });

  it('by hand on main with move-major-tag false: the tag is created with the release at the run commit, v1 is left alone', async () => {
    const gh = await fakeGitHub();
    historyUpTo120(gh);
    gh.refs.delete('refs/tags/v1.2.0'); // nobody pushed the tag: publishing creates it
    const dir = await checkout();
    const scenario = dispatch({ version: '1.2.0', 'move-major-tag': false });
    const t = runRepoWorkflow(RELEASE_YML, scenario);
    const p = await runStep(t, scenario, 'publish', 'publish', dir, gh);
    expect(p.code, say(p)).toBe(0);
    expect(changes(gh).map(([m, where]) => `${String(m)} ${String(where)}`)).toEqual([
      `POST ${API}/releases`,
      expect.stringMatching(new RegExp(`^PATCH ${API}/releases/\\d+$`)),
    ]);
    expect(gh.refs.get('refs/tags/v1.2.0')).toEqual({ sha: c(3), type: 'commit' });
    expect(gh.refs.get('refs/tags/v1')?.sha).toBe(c(2));
    expect(p.stdout).toContain('Major tag v1 left where it is (move-major-tag is false).');
    expect(p.stdout).toContain('Immutable: no');
  });

  it('the check step stops a tag whose CHANGELOG section is missing, before the suite', async () => {
    const dir = await checkout({ changelog: changelog('1.1.0', '1.0.0') });
    const gh = await fakeGitHub();
    const scenario = tagPush();
    const p = await runStep(runRepoWorkflow(RELEASE_YML, scenario), scenario, 'verify', 'check', dir, gh);
    expect(p.code).toBe(1);
    expect(p.stderr).toContain('::error title=release::CHANGELOG.md has no section "## [1.2.0] - YYYY-MM-DD"');
  });

  it('the dist/ comparison passes on equal trees and fails with a check-dist error on a changed byte', async () => {
    const dir = await tempDir('rail-dist-');
    const runnerTemp = path.join(dir, 'runner-temp');
    for (const root of [dir, runnerTemp]) {
      await mkdir(path.join(root, 'dist', 'migrate'), { recursive: true });
      await writeFile(path.join(root, 'dist', 'migrate', 'index.js'), 'export {};\n');
    }
    const gh = await fakeGitHub();
    const scenario = tagPush();
    const t = runRepoWorkflow(RELEASE_YML, scenario);
    const same = await runStep(t, scenario, 'verify', 'dist', dir, gh, { RUNNER_TEMP: runnerTemp });
    expect(same.code, say(same)).toBe(0);
    expect(same.stdout).toContain('dist/ matches a fresh build.');
    await writeFile(path.join(runnerTemp, 'dist', 'migrate', 'index.js'), 'export {};\n// rebuilt\n');
    const changed = await runStep(t, scenario, 'verify', 'dist', dir, gh, { RUNNER_TEMP: runnerTemp });
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/^::error title=check-dist::dist\/ differs from a fresh build/m);
  });
});

describe('scripts/release.mjs publish (fake GitHub API, recorded requests)', () => {
  it('the first release of a repository: draft, publish, create v1', async () => {
    const gh = await fakeGitHub();
    gh.addCommits([c(1)]);
    gh.setRef('refs/tags/v1.0.0', c(1));
    const dir = await checkout({ version: '1.0.0', changelog: changelog('1.0.0') });
    const p = await publish(gh, dir, { tag: 'v1.0.0', sha: c(1) });
    expect(p.code, say(p)).toBe(0);
    const body = `${notesOf('1.0.0')}\n\n---\nCommit: ${c(1)}`;
    expect(seen(gh)).toEqual([
      ['GET', `${API}/releases/tags/v1.0.0`],
      ['GET', `${API}/git/matching-refs/tags/v`],
      ['GET', `${API}/releases?per_page=100&page=1`],
      ['POST', `${API}/releases`, { tag_name: 'v1.0.0', target_commitish: c(1), name: 'v1.0.0', body, draft: true }],
      [
        'PATCH',
        `${API}/releases/${gh.releases[0]?.id}`,
        { name: 'v1.0.0', body, draft: false, target_commitish: c(1), make_latest: 'true' },
      ],
      ['POST', `${API}/git/refs`, { ref: 'refs/tags/v1', sha: c(1) }],
    ]);
    expect(p.stdout).toContain(`Major tag v1 created at ${c(1)}.`);
  });

  it('is idempotent: a second run for the same tag reads, finds everything done, and changes nothing', async () => {
    const gh = await fakeGitHub();
    historyUpTo120(gh);
    const dir = await checkout();
    expect((await publish(gh, dir, { sha: c(3) })).code).toBe(0);
    gh.requests.length = 0;
    const again = await publish(gh, dir, { sha: c(3) });
    expect(again.code, say(again)).toBe(0);
    expect(seen(gh)).toEqual([
      ['GET', `${API}/releases/tags/v1.2.0`],
      ['GET', `${API}/git/matching-refs/tags/v`],
    ]);
    expect(gh.releases.filter((r) => r.tagName === 'v1.2.0')).toHaveLength(1);
    expect(again.stdout).toContain('Release v1.2.0 was already published');
    expect(again.stdout).toContain(`Major tag v1 already points at ${c(3)}.`);
  });

  it('a draft left by an interrupted run is published, not duplicated (found on a later page of the list)', async () => {
    const gh = await fakeGitHub();
    historyUpTo120(gh);
    gh.releases.push({
      id: 500,
      tagName: 'v1.2.0',
      targetCommitish: c(3),
      name: 'v1.2.0',
      body: 'old notes',
      draft: true,
      immutable: false,
      makeLatest: undefined,
      publishedAt: null,
    });
    for (let i = 0; i < 100; i++)
      gh.releases.push({
        id: 600 + i,
        tagName: `nightly-${i}`,
        targetCommitish: c(3),
        name: null,
        body: '',
        draft: false,
        immutable: false,
        makeLatest: undefined,
        publishedAt: '2026-12-01T00:00:00Z',
      });
    const p = await publish(gh, await checkout(), { sha: c(3) });
    expect(p.code, say(p)).toBe(0);
    expect(
      seen(gh)
        .filter(([m]) => m === 'GET')
        .map(([, w]) => w),
    ).toContain(`${API}/releases?per_page=100&page=2`);
    expect(changes(gh)).toEqual([
      [
        'PATCH',
        `${API}/releases/500`,
        { name: 'v1.2.0', body: body120, draft: false, target_commitish: c(3), make_latest: 'true' },
      ],
      ['PATCH', `${API}/git/refs/tags/v1`, { sha: c(3), force: true }],
    ]);
    expect(gh.releases.filter((r) => r.tagName === 'v1.2.0')).toMatchObject([{ id: 500, draft: false, body: body120 }]);
  });

  it('refuses to move v1 backwards (v1.2.0 after v1.3.0) before any change; with move-major-tag false it publishes and leaves v1', async () => {
    const gh = await fakeGitHub();
    historyUpTo120(gh);
    gh.addCommits([c(4)], c(3));
    gh.setRef('refs/tags/v1.3.0', c(4));
    gh.setRef('refs/tags/v1', c(4));
    const dir = await checkout();
    const p = await publish(gh, dir, { sha: c(3) });
    expect(p.code).toBe(1);
    expect(p.stderr).toContain(
      `v1 points at ${c(4)} (v1.3.0), and v1.2.0 (${c(3)}) is behind it: moving v1 there would take away commits users of @v1 already run. Nothing was changed.`,
    );
    expect(p.stderr).toContain('move-major-tag set to false');
    expect(changes(gh)).toEqual([]);
    expect(seen(gh).at(-1)).toEqual(['GET', `${API}/compare/${c(4)}...${c(3)}`]);

    gh.requests.length = 0;
    const older = await publish(gh, dir, { sha: c(3), env: { MOVE_MAJOR_TAG: 'false' } });
    expect(older.code, say(older)).toBe(0);
    expect(changes(gh).map(([m, w]) => `${String(m)} ${String(w)}`)).toEqual([
      `POST ${API}/releases`,
      expect.stringMatching(/\/releases\/\d+$/),
    ]);
    // Not marked latest: v1.3.0 is higher.
    expect(changes(gh)[1]?.[2]).toMatchObject({ make_latest: 'false' });
    expect(gh.refs.get('refs/tags/v1')?.sha).toBe(c(4));
  });

  it('refuses a major move to a commit that is not a descendant (a backport branch) before any change', async () => {
    const gh = await fakeGitHub();
    historyUpTo120(gh);
    gh.setRef('refs/tags/v1', c(3));
    gh.addCommits([c(5)], c(2)); // v1.1.1 on a branch from v1.1.0
    gh.setRef('refs/tags/v1.1.1', c(5));
    const dir = await checkout({ version: '1.1.1', changelog: changelog('1.1.1', '1.1.0') });
    const p = await publish(gh, dir, { tag: 'v1.1.1', sha: c(5) });
    expect(p.code).toBe(1);
    expect(p.stderr).toContain('is not a descendant of it');
    expect(changes(gh)).toEqual([]);
  });

  it('annotated tags are followed to their commits', async () => {
    const gh = await fakeGitHub();
    historyUpTo120(gh);
    gh.setRef('refs/tags/v1.2.0', 'a'.repeat(40), 'tag');
    gh.tagObjects.set('a'.repeat(40), c(3));
    gh.setRef('refs/tags/v1', 'b'.repeat(40), 'tag');
    gh.tagObjects.set('b'.repeat(40), c(2));
    const p = await publish(gh, await checkout(), { sha: c(3) });
    expect(p.code, say(p)).toBe(0);
    expect(
      seen(gh)
        .filter(([m]) => m === 'GET')
        .map(([, w]) => w),
    ).toEqual(
      expect.arrayContaining([
        `${API}/git/tags/${'a'.repeat(40)}`,
        `${API}/git/tags/${'b'.repeat(40)}`,
        `${API}/compare/${c(2)}...${c(3)}`,
      ]),
    );
    expect(gh.refs.get('refs/tags/v1')).toEqual({ sha: c(3), type: 'commit' });
  });

  it('refuses when the tag names another commit than the one verified, before any change', async () => {
    const gh = await fakeGitHub();
    historyUpTo120(gh);
    gh.setRef('refs/tags/v1.2.0', c(2));
    const p = await publish(gh, await checkout(), { sha: c(3) });
    expect(p.code).toBe(1);
    expect(p.stderr).toContain(`Tag v1.2.0 points at ${c(2)}, but this run verified ${c(3)}. Nothing was changed.`);
    expect(changes(gh)).toEqual([]);
  });

  it.each([
    [
      'a missing CHANGELOG section',
      { changelog: changelog('1.1.0') },
      'CHANGELOG.md has no section "## [1.2.0] - YYYY-MM-DD": move the entries of [Unreleased] into it before tagging v1.2.0.',
    ],
    [
      'an undated CHANGELOG section',
      { changelog: changelog('1.2.0').replace('## [1.2.0] - 2026-12-01', '## [1.2.0]') },
      'CHANGELOG.md section [1.2.0] needs its release date',
    ],
    [
      'an empty CHANGELOG section',
      { changelog: changelog('1.2.0').replace(/### Fixed\n\n- The fix of 1\.2\.0\.\n/, '') },
      'CHANGELOG.md section [1.2.0] is empty',
    ],
    [
      'no [Unreleased] section',
      { changelog: changelog('1.2.0').replace('## [Unreleased]', '## Next') },
      'CHANGELOG.md has no "## [Unreleased]" section',
    ],
    [
      'package.json at another version',
      { version: '1.1.0' },
      'package.json says version "1.1.0" but the release is 1.2.0',
    ],
  ])('%s: a clear error and not a single request', async (_what, files, message) => {
    const gh = await fakeGitHub();
    historyUpTo120(gh);
    const p = await publish(gh, await checkout(files), { sha: c(3) });
    expect(p.code).toBe(1);
    expect(p.stderr).toContain(`::error title=release::${message}`);
    expect(gh.requests).toEqual([]);
  });

  it.each([
    ['no token', { GITHUB_TOKEN: '' }, 'GITHUB_TOKEN is not set'],
    [
      'a version input that is not X.Y.Z',
      { RELEASE_VERSION: '1.2.0-rc.1' },
      'The version input "1.2.0-rc.1" is not X.Y.Z',
    ],
    [
      'a version input that contradicts the tag the run is on',
      { RELEASE_VERSION: '1.3.0' },
      'This run is on tag v1.2.0 but the version input says 1.3.0',
    ],
    [
      'a version with a newline (no second workflow command)',
      { RELEASE_VERSION: '1.2.0\n::warning::injected' },
      'is not X.Y.Z',
    ],
  ])('%s: refused before any request', async (_what, env, message) => {
    const gh = await fakeGitHub();
    historyUpTo120(gh);
    const p = await publish(gh, await checkout(), { sha: c(3), env });
    expect(p.code).toBe(1);
    expect(p.stderr).toContain(message);
    expect(p.stderr.split('\n').filter((l) => l.startsWith('::warning'))).toEqual([]);
    expect(gh.requests).toEqual([]);
  });

  it('--dry-run only reads, and prints exactly the changes a real run then sends', async () => {
    const gh = await fakeGitHub();
    historyUpTo120(gh);
    const dir = await checkout();
    const dry = await publish(gh, dir, { sha: c(3), args: ['--dry-run'] });
    expect(dry.code, say(dry)).toBe(0);
    expect(changes(gh)).toEqual([]);
    const planned = dry.stdout
      .split('\n')
      .filter((l) => l.startsWith('would '))
      .map((l) => {
        const [, method, route, body] = /^would (\w+) (\S+) (.*)$/.exec(l) ?? [];
        return [method, route, JSON.parse(body ?? 'null') as unknown];
      });
    expect(planned).toHaveLength(3);
    gh.requests.length = 0;
    expect((await publish(gh, dir, { sha: c(3) })).code).toBe(0);
    const id = String(gh.releases.find((r) => r.tagName === 'v1.2.0')?.id);
    expect(changes(gh)).toEqual(planned.map(([m, route, b]) => [m, String(route).replace(':draft', id), b]));
  });

  it('GitHub refusing the major tag move (403: a token without the workflows permission): release published, a way out named; the re-run after the manual move changes nothing', async () => {
    const gh = await fakeGitHub();
    historyUpTo120(gh);
    gh.refWriteError = {
      status: 403,
      message: 'Resource not accessible by integration',
      acceptedPermissions: 'contents=write; contents=write,workflows=write',
    };
    const dir = await checkout();
    const p = await publish(gh, dir, { sha: c(3) });
    expect(p.code).toBe(1);
    expect(p.stderr).toContain(
      'HTTP 403 Resource not accessible by integration (accepted permissions: contents=write; contents=write,workflows=write)',
    );
    expect(p.stderr).toContain(
      `The release is published; only v1 was not moved. A maintainer can move it: git tag -f v1 ${c(3)} && git push -f origin v1`,
    );
    expect(gh.releases.find((r) => r.tagName === 'v1.2.0')?.draft).toBe(false);

    gh.refWriteError = undefined;
    gh.setRef('refs/tags/v1', c(3)); // the maintainer's push
    gh.requests.length = 0;
    const again = await publish(gh, dir, { sha: c(3) });
    expect(again.code, say(again)).toBe(0);
    expect(changes(gh)).toEqual([]);
  });

  it('an unreachable API is an error with its cause, not a hang or a stack trace only', async () => {
    const gh = await fakeGitHub();
    const url = gh.url;
    await gh.close();
    const p = await exec(process.execPath, ['scripts/release.mjs', 'publish'], await checkout(), {
      GITHUB_TOKEN: TOKEN,
      GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
      GITHUB_SHA: c(3),
      GITHUB_REF_TYPE: 'tag',
      GITHUB_REF_NAME: 'v1.2.0',
      GITHUB_API_URL: url,
    });
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/^::error title=release::fetch failed \(.*ECONNREFUSED.*\)$/m);
  });
});

describe('the repository files the release relies on', () => {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    version: string;
    scripts: Record<string, string>;
  };
  const text = readFileSync(path.join(projectRoot, 'CHANGELOG.md'), 'utf8');
  const headings = [...text.matchAll(/^## \[([^\]]+)\](?: - (\S+))?$/gm)].map((m) => ({
    name: m[1] as string,
    date: m[2],
  }));

  it("CHANGELOG.md: [Unreleased] first, then a dated section for package.json's version, which is the newest release", () => {
    // The invariant (CONTRIBUTING.md "Releasing"): package.json names the newest released version; what is not
    // released yet is under [Unreleased], and the release commit moves it into a section for the new version.
    expect(headings[0]?.name).toBe('Unreleased');
    expect(headings[1]).toEqual({ name: pkg.version, date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) as unknown });
    const versions = headings.slice(1).map((h) => h.name.split('.').map(Number));
    const sorted = [...versions].sort((a, b) => b[0]! - a[0]! || b[1]! - a[1]! || b[2]! - a[2]!);
    expect(versions).toEqual(sorted);
  });

  it("the dry run with this repository's files: check and publish of package.json's version pass against the fake API", async () => {
    const tag = `v${pkg.version}`;
    const env = { GITHUB_REF_TYPE: 'tag', GITHUB_REF_NAME: tag };
    const check = await exec(process.execPath, ['scripts/release.mjs', 'check'], projectRoot, env);
    expect(check.code, say(check)).toBe(0);
    const gh = await fakeGitHub();
    gh.addCommits([c(9)]);
    gh.setRef(`refs/tags/${tag}`, c(9));
    const p = await publish(gh, projectRoot, { tag, sha: c(9) });
    expect(p.code, say(p)).toBe(0);
    const notes = (await exec(process.execPath, ['scripts/release.mjs', 'notes'], projectRoot, env)).stdout.trim();
    expect(notes.length).toBeGreaterThan(100);
    expect(gh.releases[0]?.body).toBe(`${notes}\n\n---\nCommit: ${c(9)}`);
    expect(changes(gh).map(([m, w]) => `${String(m)} ${String(w)}`)).toEqual([
      `POST ${API}/releases`,
      `PATCH ${API}/releases/${gh.releases[0]?.id}`,
      `POST ${API}/git/refs`,
    ]);
  });

  it('dependabot.yml: npm at the root, and github-actions for .github/workflows and every action.yml that pins a third-party action', () => {
    const config = parseYaml(readFileSync(path.join(projectRoot, '.github/dependabot.yml'), 'utf8')) as {
      version: number;
      updates: Array<Dict & { directories?: string[]; directory?: string }>;
    };
    expect(config.version).toBe(2);
    const of = (eco: string) => config.updates.filter((u) => u['package-ecosystem'] === eco);
    expect(of('npm').map((u) => u.directory)).toEqual(['/']);
    expect(of('github-actions')).toHaveLength(1);
    for (const u of config.updates) expect(u['schedule']).toMatchObject({ interval: expect.any(String) as unknown });
    const covered = new Set(of('github-actions')[0]!.directories);
    // Third-party pins: `uses: owner/repo@<40 hex>` (local $/ references are not Dependabot's business).
    const pins = (file: string) =>
      /^\s*(?:-\s*)?uses:\s*['"]?[\w.-]+\/[\w.-]+[^\s'"#]*@[0-9a-f]{40}/m.test(readFileSync(file, 'utf8'));
    const actionDirs = ['.', ...readdirSync(path.join(projectRoot, 'actions')).map((d) => `actions/${d}`)].filter((d) =>
      existsSync(path.join(projectRoot, d, 'action.yml')),
    );
    const needed = actionDirs
      .filter((d) => pins(path.join(projectRoot, d, 'action.yml')))
      .map((d) => (d === '.' ? '/' : `/${d}`));
    expect(needed).toContain('/actions/setup');
    for (const dir of ['/', ...needed])
      expect(covered.has(dir), `github-actions directories must list ${dir}`).toBe(true);
  });

  it('CONTRIBUTING.md names only npm scripts and files that exist, and release:dry-run runs this file', () => {
    const doc = readFileSync(path.join(projectRoot, 'CONTRIBUTING.md'), 'utf8');
    const scripts = [...doc.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1] as string);
    expect(scripts).toContain('release:dry-run');
    for (const s of scripts) expect(Object.keys(pkg.scripts), `npm run ${s}`).toContain(s);
    for (const [, file] of doc.matchAll(/node (scripts\/[\w.-]+)/g))
      expect(existsSync(path.join(projectRoot, file as string)), file).toBe(true);
    expect(pkg.scripts['release:dry-run']).toBe('vitest run test/release-process.test.ts');
  });
});
