// Issue-based manual approval: the fallback when GitHub Environments with required reviewers are unavailable
// (private repositories below GitHub Enterprise). Opens an issue, polls its comments for an approving or denying
// comment from an allowed approver, and closes the issue with the outcome.
import { InputError, UserFacingError, errorMessage } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { AbortedError, sleep } from '../core/retry.js';
import type { GitHubRest, IssueComment } from './rest.js';

export interface Approvers {
  users: string[];
  teams: Array<{ org: string; slug: string }>;
}

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const TEAM_SLUG = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** `alice`, `@alice`, `my-org/release-managers`, `@my-org/release-managers` → users and teams. */
export function parseApprovers(entries: string[], inputName = 'approvers'): Approvers {
  const users: string[] = [];
  const teams: Approvers['teams'] = [];
  for (const raw of entries) {
    const entry = raw.trim().replace(/^@/, '');
    if (!entry) continue;
    const slash = entry.indexOf('/');
    if (slash === -1) {
      if (!LOGIN.test(entry))
        throw new InputError(
          inputName,
          `'${raw.trim()}' is not a GitHub user name (expected a login like octocat or a team like my-org/my-team)`,
        );
      if (!users.some((u) => u.toLowerCase() === entry.toLowerCase())) users.push(entry);
    } else {
      const org = entry.slice(0, slash);
      const slug = entry.slice(slash + 1);
      if (!LOGIN.test(org) || !TEAM_SLUG.test(slug)) {
        throw new InputError(
          inputName,
          `'${raw.trim()}' is not a team reference (expected org/team-slug like my-org/release-managers)`,
        );
      }
      if (!teams.some((t) => t.org.toLowerCase() === org.toLowerCase() && t.slug.toLowerCase() === slug.toLowerCase()))
        teams.push({ org, slug });
    }
  }
  if (users.length === 0 && teams.length === 0)
    throw new InputError(inputName, 'must name at least one user or team (comma- or newline-separated)');
  return { users, teams };
}

export const DEFAULT_APPROVE_WORDS = ['approve', 'approved', 'lgtm', 'yes', '/approve'];
export const DEFAULT_DENY_WORDS = ['deny', 'denied', 'no', 'reject', 'rejected', '/deny'];

export type Vote = 'approve' | 'deny';

/**
 * The decision a comment expresses. Only the first non-empty line counts and it must be exactly one of the words
 * (case-insensitive, trailing `.`/`!` ignored): "no problem, approve" must never read as a denial or an approval.
 */
export function parseVote(body: string, words: { approve: string[]; deny: string[] }): Vote | null {
  const firstLine = body
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '');
  if (!firstLine) return null;
  const text = firstLine
    .toLowerCase()
    .replace(/[.!]+$/, '')
    .trim();
  if (words.deny.some((w) => w.toLowerCase() === text)) return 'deny';
  if (words.approve.some((w) => w.toLowerCase() === text)) return 'approve';
  return null;
}

export interface ApprovalPolicy {
  approvers: Approvers;
  minimumApprovals: number;
  allowSelfApproval: boolean;
  /** The user whose push/dispatch started the run (GITHUB_TRIGGERING_ACTOR / GITHUB_ACTOR). */
  initiator?: string;
  words: { approve: string[]; deny: string[] };
}

export type Decision = 'approved' | 'denied' | 'timed-out' | 'cancelled' | 'closed';

export interface ApprovalResult {
  decision: Decision;
  approvedBy: string[];
  deniedBy: string[];
  issueNumber: number;
  issueUrl: string;
  ignored: Array<{ login: string; vote: Vote; reason: string }>;
  waitedMs: number;
}

export interface RequestApprovalOptions {
  rest: GitHubRest;
  owner: string;
  repo: string;
  title: string;
  /** Markdown shown above the instructions (what is being approved: environment, commit, migration plan). */
  context: string;
  labels: string[];
  policy: ApprovalPolicy;
  timeoutMs: number;
  pollIntervalMs: number;
  signal?: AbortSignal;
  log?: (msg: string) => void;
  /** Called once the issue exists (so the entry point can publish its number before waiting). */
  onIssue?: (issue: { number: number; url: string }) => void;
  now?: () => number;
}

const MAX_ASSIGNEES = 10; // GitHub's limit per issue
const MAX_BODY = 60_000; // GitHub rejects issue bodies over 65,536 characters

/** Checks every approver against the API before anything is created, so a typo fails the step and no issue is left behind. */
export async function validateApprovers(
  rest: GitHubRest,
  owner: string,
  repo: string,
  policy: ApprovalPolicy,
): Promise<void> {
  const { users, teams } = policy.approvers;
  for (const user of users) {
    const permission = await rest.getCollaboratorPermission({ owner, repo, username: user });
    if (permission === null || permission === 'none') {
      throw new UserFacingError(
        `Input 'approvers': '${user}' is not a collaborator of ${owner}/${repo} (no such user, or no access), so they could never approve.`,
      );
    }
  }
  for (const team of teams) {
    if (!(await rest.teamExists({ org: team.org, teamSlug: team.slug }))) {
      throw new UserFacingError(
        `Input 'approvers': team '${team.org}/${team.slug}' was not found or is not visible to the token. ` +
          `Reading team membership needs a token with organization "Members: read" (a GitHub App or fine-grained token; the default GITHUB_TOKEN cannot).`,
      );
    }
  }
  const eligibleUsers = users.filter((u) => policy.allowSelfApproval || !sameLogin(u, policy.initiator));
  if (teams.length === 0 && eligibleUsers.length < policy.minimumApprovals) {
    const selfNote =
      eligibleUsers.length < users.length
        ? ` (${policy.initiator} started this run and allow-self-approval is false)`
        : '';
    throw new InputError(
      'minimum-approvals',
      `needs ${policy.minimumApprovals} approvals but only ${eligibleUsers.length} listed approver(s) can approve${selfNote}`,
    );
  }
}

function sameLogin(a: string | undefined, b: string | undefined): boolean {
  return !!a && !!b && a.toLowerCase() === b.toLowerCase();
}

/** Decides whether a commenter may vote; team lookups are cached for the whole wait. */
export class ApproverCheck {
  private readonly cache = new Map<string, boolean>();
  constructor(
    private readonly rest: GitHubRest,
    private readonly policy: ApprovalPolicy,
  ) {}

  async reasonToIgnore(comment: IssueComment): Promise<string | null> {
    if (comment.userType === 'Bot') return 'comment by a bot';
    if (!this.policy.allowSelfApproval && sameLogin(comment.login, this.policy.initiator))
      return 'started this run and allow-self-approval is false';
    return (await this.isApprover(comment.login)) ? null : 'not in approvers';
  }

  private async isApprover(login: string): Promise<boolean> {
    const key = login.toLowerCase();
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    let allowed = this.policy.approvers.users.some((u) => u.toLowerCase() === key);
    for (const team of this.policy.approvers.teams) {
      if (allowed) break;
      allowed = await this.rest.isTeamMember({ org: team.org, teamSlug: team.slug, username: login });
    }
    this.cache.set(key, allowed);
    return allowed;
  }
}

export function approvalIssueBody(opts: {
  context: string;
  policy: ApprovalPolicy;
  timeoutMs: number;
  deadline: Date;
}): string {
  const { policy } = opts;
  const who = [
    ...policy.approvers.users.map((u) => `@${u}`),
    ...policy.approvers.teams.map((t) => `@${t.org}/${t.slug}`),
  ].join(', ');
  const instructions = [
    `### How to respond`,
    `${who}: reply with a comment whose first line is exactly one of`,
    `- to approve: ${policy.words.approve.map((w) => `\`${w}\``).join(', ')}`,
    `- to deny: ${policy.words.deny.map((w) => `\`${w}\``).join(', ')}`,
    '',
    `Needs **${policy.minimumApprovals}** approval(s); one denial stops the deploy.` +
      (policy.allowSelfApproval
        ? ''
        : ` The person who started the run (${policy.initiator ?? 'unknown'}) cannot approve.`),
    `This request expires after ${formatDuration(opts.timeoutMs)} (at ${opts.deadline.toISOString()}); closing the issue denies it.`,
  ].join('\n');
  let context = opts.context.trim();
  const room = MAX_BODY - instructions.length - 200;
  if (context.length > room)
    context = `${context.slice(0, room)}\n\n… (truncated: the full text is in the workflow run's summary)`;
  // Instructions first: a truncated plan may leave a code block or <details> open, which would swallow them.
  return `${instructions}\n\n---\n\n${context}\n`;
}

export async function requestApproval(opts: RequestApprovalOptions): Promise<ApprovalResult> {
  const { rest, owner, repo, policy } = opts;
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => undefined);
  await validateApprovers(rest, owner, repo, policy);

  const started = now();
  const deadline = started + opts.timeoutMs;
  const issue = await rest.createIssue({
    owner,
    repo,
    title: opts.title,
    labels: opts.labels,
    body: approvalIssueBody({ context: opts.context, policy, timeoutMs: opts.timeoutMs, deadline: new Date(deadline) }),
    // Teams cannot be assigned; they are @-mentioned in the body instead.
    assignees: policy.approvers.users
      .filter((u) => policy.allowSelfApproval || !sameLogin(u, policy.initiator))
      .slice(0, MAX_ASSIGNEES),
  });
  log(`Opened approval issue #${issue.number}: ${issue.url}`);
  opts.onIssue?.(issue);

  const check = new ApproverCheck(rest, policy);
  // Comment id → the body last read: an edited comment ("looks fine?" → "approve") is read again.
  const seen = new Map<number, string>();
  const approvedBy: string[] = [];
  const deniedBy: string[] = [];
  const ignored: ApprovalResult['ignored'] = [];
  let decision: Decision | undefined;

  try {
    while (decision === undefined) {
      const comments = (await rest.listIssueComments({ owner, repo, issueNumber: issue.number })).sort(
        (a, b) => a.id - b.id,
      );
      for (const comment of comments) {
        if (seen.get(comment.id) === comment.body) continue;
        seen.set(comment.id, comment.body);
        const vote = parseVote(comment.body, policy.words);
        if (!vote) continue;
        const reason = await check.reasonToIgnore(comment);
        if (reason) {
          ignored.push({ login: comment.login, vote, reason });
          log(`Ignored '${vote}' from @${comment.login}: ${reason}`);
          continue;
        }
        if (vote === 'deny') {
          deniedBy.push(comment.login);
          decision = 'denied';
          log(`@${comment.login} denied`);
          break;
        }
        if (!approvedBy.some((u) => sameLogin(u, comment.login))) {
          approvedBy.push(comment.login);
          log(`@${comment.login} approved (${approvedBy.length}/${policy.minimumApprovals})`);
        }
        if (approvedBy.length >= policy.minimumApprovals) {
          decision = 'approved';
          break;
        }
      }
      if (decision) break;
      const state = await rest.getIssueState({ owner, repo, issueNumber: issue.number });
      if (state.state === 'closed') {
        decision = 'closed';
        log(
          `The issue was closed${state.closedBy ? ` by @${state.closedBy}` : ''} without enough approvals: treated as a denial`,
        );
        break;
      }
      const left = deadline - now();
      if (left <= 0) {
        decision = 'timed-out';
        break;
      }
      await sleep(Math.min(opts.pollIntervalMs, left), opts.signal);
    }
  } catch (err) {
    if (!(err instanceof AbortedError) && !opts.signal?.aborted) {
      await finish(
        opts,
        issue.number,
        `The approval step failed while waiting: ${errorMessage(err)}. This request is void.`,
        'not_planned',
        log,
      );
      throw err;
    }
    decision = 'cancelled';
  }

  const outcome: Record<Decision, string> = {
    approved: `✅ Approved by ${approvedBy.map((u) => `@${u}`).join(', ')}. The deploy continues.`,
    denied: `⛔ Denied by @${deniedBy[0] ?? '?'}. The deploy stops.`,
    'timed-out': `⌛ No decision within ${formatDuration(opts.timeoutMs)}. The deploy stops; re-run the workflow to ask again.`,
    cancelled: '🚫 The workflow run was cancelled. This request is void.',
    closed: '⛔ The issue was closed without enough approvals. The deploy stops.',
  };
  if (decision !== 'closed')
    await finish(opts, issue.number, outcome[decision], decision === 'approved' ? 'completed' : 'not_planned', log);
  else await comment(opts, issue.number, outcome.closed, log);

  return {
    decision,
    approvedBy,
    deniedBy,
    issueNumber: issue.number,
    issueUrl: issue.url,
    ignored,
    waitedMs: now() - started,
  };
}

// The outcome is already decided when these run: a failure to comment or close is reported, never allowed to flip it.
async function comment(
  opts: RequestApprovalOptions,
  issueNumber: number,
  body: string,
  log: (m: string) => void,
): Promise<void> {
  try {
    await opts.rest.createIssueComment({ owner: opts.owner, repo: opts.repo, issueNumber, body });
  } catch (err) {
    log(`Could not comment on issue #${issueNumber}: ${errorMessage(err)}`);
  }
}

async function finish(
  opts: RequestApprovalOptions,
  issueNumber: number,
  body: string,
  reason: 'completed' | 'not_planned',
  log: (m: string) => void,
) {
  await comment(opts, issueNumber, body, log);
  try {
    await opts.rest.closeIssue({ owner: opts.owner, repo: opts.repo, issueNumber, reason });
  } catch (err) {
    log(`Could not close issue #${issueNumber}: ${errorMessage(err)}`);
  }
}
