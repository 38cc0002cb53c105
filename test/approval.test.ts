// Runs the bundled approval action (dist/approval) like the runner does, against a local GitHub REST server.
import { afterEach, describe, expect, it } from 'vitest';
import { runAction, startAction, type ActionResult } from './harness/index.js';
import { startGitHubApi, type FakeIssue, type GitHubApiFake } from './fixtures/github-api.js';
import { parseApprovers, parseVote, DEFAULT_APPROVE_WORDS, DEFAULT_DENY_WORDS } from '../src/github/approval.js';

const TOKEN = 'ghs_approvalTestToken0123456789abcdef';
const words = { approve: DEFAULT_APPROVE_WORDS, deny: DEFAULT_DENY_WORDS };

let api: GitHubApiFake | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function fakeGitHub(): Promise<GitHubApiFake> {
  api = await startGitHubApi({ token: TOKEN, owner: 'octo-org', repo: 'octo-app' });
  for (const [login, permission] of [
    ['alice', 'write'],
    ['bob', 'admin'],
    ['octocat', 'write'],
    ['mallory', 'read'],
  ] as const) {
    api.collaborators.set(login, permission);
  }
  api.teams.set('octo-org/release', { members: new Set(['carol']), pending: new Set(['dave']) });
  return api;
}

function inputs(extra: Record<string, string>): Record<string, string> {
  return { token: TOKEN, 'poll-interval': '1s', timeout: '2m', environment: 'production', ...extra };
}

const env = (gh: GitHubApiFake, extra: Record<string, string> = {}) => ({ GITHUB_API_URL: gh.url, ...extra });

function expectNoToken(r: ActionResult) {
  expect(r.allText).not.toContain(TOKEN);
}

function closingComment(issue: FakeIssue): string {
  return issue.comments
    .filter((c) => c.type === 'Bot')
    .map((c) => c.body)
    .join('\n');
}

describe('vote parsing (unit)', () => {
  it.each([
    ['approve', 'approve'],
    ['Approved!', 'approve'],
    ['LGTM', 'approve'],
    ['  yes.\nship it', 'approve'],
    ['deny', 'deny'],
    ['Denied.', 'deny'],
    ['no', 'deny'],
    ['/deny', 'deny'],
    ['no problem, approve', null],
    ['I approve of the idea but', null],
    ['', null],
    ['approve this later?', null],
  ])('%j → %s', (body, vote) => {
    expect(parseVote(body, words)).toBe(vote);
  });

  it('parses users and teams and rejects junk naming the input', () => {
    expect(parseApprovers(['@alice', 'bob', 'Alice', 'octo-org/release'])).toEqual({
      users: ['alice', 'bob'],
      teams: [{ org: 'octo-org', slug: 'release' }],
    });
    expect(() => parseApprovers(['not a user!'])).toThrow(/Input 'approvers'/);
    expect(() => parseApprovers([' ', ''])).toThrow(/at least one user or team/);
  });
});

describe('approval action', () => {
  it('approves on an approving comment from a listed approver, closes the issue, never prints the token', async () => {
    const gh = await fakeGitHub();
    gh.onIssueCreated = (issue) => gh.addComment(issue.number, 'alice', 'Approved.');
    const r = await runAction({
      action: 'approval',
      inputs: inputs({ approvers: 'alice, bob', plan: '## Plan\n- add column' }),
      env: env(gh),
    });
    expect(r.stderr + r.stdout, r.stdout).toContain('Approved by alice');
    expect(r.exitCode).toBe(0);
    expect(r.outputs).toMatchObject({
      decision: 'approved',
      'approved-by': 'alice',
      'denied-by': '',
      'issue-number': '1',
    });
    const issue = gh.issues[0] as FakeIssue;
    expect(issue.assignees).toEqual(['alice', 'bob']);
    expect(issue.body).toContain('## Plan');
    expect(issue.body).toContain('octo-org/octo-app/actions/runs/1000001');
    expect(issue.state).toBe('closed');
    expect(issue.stateReason).toBe('completed');
    expect(closingComment(issue)).toMatch(/Approved by @alice/);
    expect(r.summary).toContain('approved');
    expect(r.masked).toContain(TOKEN);
    expectNoToken(r);
    // every request was authenticated with the token
    expect(
      gh.requests.every((q) => q.authorization === `token ${TOKEN}` || q.authorization === `Bearer ${TOKEN}`),
    ).toBe(true);
  });

  it('denies on a denying comment and fails the step with who denied', async () => {
    const gh = await fakeGitHub();
    gh.onIssueCreated = (issue) => gh.addComment(issue.number, 'bob', 'deny');
    const r = await runAction({ action: 'approval', inputs: inputs({ approvers: 'alice,bob' }), env: env(gh) });
    expect(r.exitCode).toBe(1);
    expect(r.outputs).toMatchObject({ decision: 'denied', 'denied-by': 'bob', 'approved-by': '' });
    expect(
      r.annotations
        .filter((a) => a.level === 'error')
        .map((a) => a.message)
        .join('\n'),
    ).toMatch(/denied by @bob/);
    expect(gh.issues[0]?.state).toBe('closed');
    expect(gh.issues[0]?.stateReason).toBe('not_planned');
    expectNoToken(r);
  });

  it('times out when nobody decides, closes the issue and fails', async () => {
    const gh = await fakeGitHub();
    const r = await runAction({
      action: 'approval',
      inputs: inputs({ approvers: 'alice', timeout: '3s' }),
      env: env(gh),
    });
    expect(r.exitCode).toBe(1);
    expect(r.outputs['decision']).toBe('timed-out');
    expect(r.stdout).toMatch(/No approval within 3\.0s \(0 approval\(s\) received\)/);
    expect(gh.issues[0]?.state).toBe('closed');
    expect(closingComment(gh.issues[0] as FakeIssue)).toMatch(/No decision within/);
  });

  it('waits for minimum-approvals distinct approvers and times out with too few', async () => {
    const gh = await fakeGitHub();
    gh.onIssueCreated = (issue) => {
      gh.addComment(issue.number, 'alice', 'approve');
      gh.addComment(issue.number, 'alice', 'LGTM'); // the same person twice is still one approval
    };
    const r = await runAction({
      action: 'approval',
      inputs: inputs({ approvers: 'alice,bob', 'minimum-approvals': '2', timeout: '4s' }),
      env: env(gh),
    });
    expect(r.exitCode).toBe(1);
    expect(r.outputs).toMatchObject({ decision: 'timed-out', 'approved-by': 'alice' });
    expect(r.stdout).toMatch(/1 approval\(s\) received/);
  });

  it('reaches minimum-approvals with a user and a team member', async () => {
    const gh = await fakeGitHub();
    gh.onIssueCreated = (issue) => {
      gh.addComment(issue.number, 'alice', 'approve');
      setTimeout(() => gh.addComment(issue.number, 'carol', 'yes'), 1500);
    };
    const r = await runAction({
      action: 'approval',
      inputs: inputs({ approvers: 'alice\n@octo-org/release', 'minimum-approvals': '2' }),
      env: env(gh),
    });
    expect(r.exitCode).toBe(0);
    expect(r.outputs['approved-by']).toBe('alice,carol');
    expect(gh.requests.some((q) => q.path === '/orgs/octo-org/teams/release/memberships/carol')).toBe(true);
  });

  it('ignores approvals from non-approvers, bots, pending team members and (when disallowed) the initiator', async () => {
    const gh = await fakeGitHub();
    gh.onIssueCreated = (issue) => {
      gh.addComment(issue.number, 'mallory', 'approve');
      gh.addComment(issue.number, 'dependabot[bot]', 'approve', 'Bot');
      gh.addComment(issue.number, 'dave', 'approve'); // invited to the team, not yet a member
      gh.addComment(issue.number, 'octocat', 'approve'); // started the run
      gh.addComment(issue.number, 'mallory', 'deny'); // a non-approver cannot deny either
      setTimeout(() => gh.addComment(issue.number, 'alice', 'approve'), 1500);
    };
    const r = await runAction({
      action: 'approval',
      inputs: inputs({ approvers: 'alice,octocat,octo-org/release', 'allow-self-approval': 'false' }),
      env: env(gh, { GITHUB_TRIGGERING_ACTOR: 'octocat' }),
    });
    expect(r.exitCode).toBe(0);
    expect(r.outputs).toMatchObject({ decision: 'approved', 'approved-by': 'alice' });
    expect(r.stdout).toContain("Ignored 'approve' from @mallory: not in approvers");
    expect(r.stdout).toContain("Ignored 'approve' from @dependabot[bot]: comment by a bot");
    expect(r.stdout).toContain("Ignored 'approve' from @dave: not in approvers");
    expect(r.stdout).toContain("Ignored 'approve' from @octocat: started this run");
    expect(r.stdout).toContain("Ignored 'deny' from @mallory");
    expect(gh.issues[0]?.assignees).toEqual(['alice']); // the initiator is not asked
  });

  it('fits a huge migration plan into the issue size limit, saying it was truncated', async () => {
    const gh = await fakeGitHub();
    gh.onIssueCreated = (issue) => gh.addComment(issue.number, 'alice', 'approve');
    const r = await runAction({
      action: 'approval',
      inputs: inputs({ approvers: 'alice', plan: `## Plan\n${'ALTER TABLE t ADD COLUMN c int;\n'.repeat(4000)}` }),
      env: env(gh),
    });
    expect(r.exitCode, r.stdout).toBe(0);
    const body = gh.issues[0]?.body ?? '';
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toContain('(truncated: the full text is in the workflow run');
    expect(body.startsWith('### How to respond')).toBe(true); // a truncated plan cannot swallow the instructions
  });

  it('reads an edited comment again ("looks fine?" edited to "approve")', async () => {
    const gh = await fakeGitHub();
    gh.onIssueCreated = (issue) => {
      const c = gh.addComment(issue.number, 'alice', 'looks fine?');
      // edit only after the first poll has read the original text
      void gh
        .waitFor(
          () => gh.requests.filter((q) => q.path.endsWith('/comments') && q.method === 'GET').length >= 2,
          'a second poll',
        )
        .then(() => gh.editComment(c.id, 'approve'));
    };
    const r = await runAction({ action: 'approval', inputs: inputs({ approvers: 'alice' }), env: env(gh) });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.outputs['approved-by']).toBe('alice');
  });

  it('keeps polling through transient GitHub errors', async () => {
    const gh = await fakeGitHub();
    gh.onIssueCreated = (issue) => {
      gh.failNext(2, 502);
      setTimeout(() => gh.addComment(issue.number, 'bob', 'approve'), 500);
    };
    const r = await runAction({ action: 'approval', inputs: inputs({ approvers: 'bob' }), env: env(gh) });
    expect(r.exitCode).toBe(0);
    expect(r.outputs['decision']).toBe('approved');
    expect(r.stdout).toMatch(/HTTP 502.*retry 1/);
  });

  it('treats closing the issue as a denial', async () => {
    const gh = await fakeGitHub();
    gh.onIssueCreated = (issue) => gh.closeIssueAs(issue.number, 'bob');
    const r = await runAction({ action: 'approval', inputs: inputs({ approvers: 'alice' }), env: env(gh) });
    expect(r.exitCode).toBe(1);
    expect(r.outputs['decision']).toBe('closed');
    expect(r.stdout).toMatch(/closed by @bob/);
  });

  it('closes the issue as void when the run is cancelled while waiting', async () => {
    const gh = await fakeGitHub();
    const running = startAction({ action: 'approval', inputs: inputs({ approvers: 'alice' }), env: env(gh) });
    await gh.waitForIssue();
    await running.waitForOutput(/Waiting for approval/);
    running.kill('SIGTERM');
    const r = await running.result;
    expect(r.exitCode).toBe(1);
    expect(r.outputs['decision']).toBe('cancelled');
    expect(gh.issues[0]?.state).toBe('closed');
    expect(closingComment(gh.issues[0] as FakeIssue)).toMatch(/cancelled/);
  });

  describe('bad input fails before any issue is created', () => {
    it.each([
      [{ approvers: 'not a user!' }, /Input 'approvers': 'not a user!' is not a GitHub user name/],
      [{ approvers: '' }, /Input 'approvers'/],
      [{ approvers: 'zed' }, /'zed' is not a collaborator of octo-org\/octo-app/],
      [
        { approvers: 'octo-org/secret-team' },
        /team 'octo-org\/secret-team' was not found or is not visible to the token/,
      ],
      [
        { approvers: 'alice', 'minimum-approvals': '2' },
        /Input 'minimum-approvals': needs 2 approvals but only 1 listed approver/,
      ],
      [
        { approvers: 'alice,octocat', 'minimum-approvals': '2', 'allow-self-approval': 'false' },
        /octocat started this run/,
      ],
      [{ approvers: 'alice', timeout: 'soon' }, /Input 'timeout'/],
      [{ approvers: 'alice', 'poll-interval': '100ms' }, /Input 'poll-interval': must be at least 1s/],
      [{ approvers: 'alice', 'minimum-approvals': '0' }, /Input 'minimum-approvals': must be at least 1/],
      [{ approvers: 'alice', 'plan-file': '/nonexistent/plan.md' }, /Input 'plan-file': cannot read/],
    ])('%j', async (extra, message) => {
      const gh = await fakeGitHub();
      const r = await runAction({ action: 'approval', inputs: inputs(extra), env: env(gh) });
      expect(r.exitCode).toBe(1);
      const errors = r.annotations.filter((a) => a.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toMatch(message);
      expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
      expect(gh.issues).toHaveLength(0);
      expect(gh.requests.filter((q) => q.method !== 'GET')).toHaveLength(0);
      expectNoToken(r);
    });

    it('a wrong token fails with the API message and does not print the token', async () => {
      const gh = await fakeGitHub();
      const r = await runAction({
        action: 'approval',
        inputs: inputs({ approvers: 'alice', token: 'ghs_wrongTokenValue987654321' }),
        env: env(gh),
      });
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(/HTTP 401.*Bad credentials/);
      expect(r.allText).not.toContain('ghs_wrongTokenValue987654321');
    });
  });
});
