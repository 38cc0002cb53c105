// actions/approval: issue-based manual approval (see src/github/approval.ts).
import { readFile } from 'node:fs/promises';
import * as core from '@actions/core';
import { InputError, UserFacingError } from '../core/errors.js';
import { SELF_HOSTED_JOB_MAX_MS, formatDuration } from '../core/duration.js';
import { quoteValue } from '../core/redact.js';
import {
  DEFAULT_APPROVE_WORDS,
  DEFAULT_DENY_WORDS,
  parseApprovers,
  requestApproval,
  type ApprovalPolicy,
  type ApprovalResult,
} from '../github/approval.js';
import {
  booleanInput,
  durationInput,
  integerInput,
  listInput,
  notLongerThan,
  stringInput,
  tokenInput,
} from './lib/inputs.js';
import { githubRest, parseRepository, runUrl } from './lib/github.js';
import { cancellationSignal, runAction } from './lib/runtime.js';

export async function main(): Promise<void> {
  const token = tokenInput('token', { required: true });
  const { owner, repo } = parseRepository(
    stringInput('repository', { fallback: process.env['GITHUB_REPOSITORY'] ?? '' }) || '',
  );
  const approvers = parseApprovers(listInput('approvers'));
  const minimumApprovals = integerInput('minimum-approvals', 1, { min: 1, max: 50 });
  // The wait ends with the job: 6 h on GitHub-hosted runners, 5 days on self-hosted ones (GitHub docs "Usage limits").
  const timeoutMs = durationInput('timeout', '1h', { max: SELF_HOSTED_JOB_MAX_MS });
  // At least 1 s: every poll costs GitHub API requests (1,000 an hour per repository for GITHUB_TOKEN, docs "Rate
  // limits for the REST API"); at most 1 h, and never longer than the wait itself.
  const pollIntervalMs = durationInput('poll-interval', '15s', { max: 3_600_000 });
  if (pollIntervalMs < 1000)
    throw new InputError(
      'poll-interval',
      `must be at least 1s (GitHub rate limits), got ${quoteValue(core.getInput('poll-interval'))}`,
    );
  notLongerThan('poll-interval', pollIntervalMs, 'timeout', timeoutMs);
  const allowSelfApproval = booleanInput('allow-self-approval', true);
  const environment = stringInput('environment');
  const planFile = stringInput('plan-file');
  let plan = stringInput('plan', { multiline: true });
  const title = stringInput('title');
  const labels = listInput('labels');
  const approveWords = listInput('approve-words');
  const denyWords = listInput('deny-words');
  if (planFile) {
    if (plan) throw new InputError('plan-file', 'give either plan or plan-file, not both');
    try {
      plan = await readFile(planFile, 'utf8');
    } catch (err) {
      throw new InputError(
        'plan-file',
        `cannot read ${quoteValue(planFile)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
  }
  const initiator = process.env['GITHUB_TRIGGERING_ACTOR'] || process.env['GITHUB_ACTOR'] || undefined;
  const policy: ApprovalPolicy = {
    approvers,
    minimumApprovals,
    allowSelfApproval,
    ...(initiator ? { initiator } : {}),
    words: {
      approve: [...DEFAULT_APPROVE_WORDS, ...approveWords],
      deny: [...DEFAULT_DENY_WORDS, ...denyWords],
    },
  };
  const sha = (process.env['GITHUB_SHA'] ?? '').slice(0, 7);
  const target = environment ? ` to ${environment}` : '';
  const issueTitle = title || `Approval needed: deploy ${sha || 'this commit'}${target}`;
  const run = runUrl();
  const context = [
    `**${initiator ?? 'Someone'}** wants to deploy \`${process.env['GITHUB_SHA'] ?? 'unknown commit'}\`${environment ? ` to **${environment}**` : ''}.`,
    run ? `Workflow run: ${run}` : '',
    plan ? `\n<details open><summary>Migration plan</summary>\n\n${plan.trim()}\n\n</details>` : '',
  ]
    .filter(Boolean)
    .join('\n');

  const signal = cancellationSignal();
  const rest = githubRest(token, { signal, log: (m) => core.info(m) });
  const result = await requestApproval({
    rest,
    owner,
    repo,
    title: issueTitle,
    context,
    policy,
    timeoutMs,
    pollIntervalMs,
    signal,
    labels,
    log: (m) => core.info(m),
    onIssue: (issue) => {
      core.setOutput('issue-number', String(issue.number));
      core.setOutput('issue-url', issue.url);
      core.notice(`Waiting for approval in ${issue.url}`, { title: 'Approval requested' });
    },
  });
  core.setOutput('decision', result.decision);
  core.setOutput('approved-by', result.approvedBy.join(','));
  core.setOutput('denied-by', result.deniedBy.join(','));
  await writeSummary(result, minimumApprovals);
  if (result.decision !== 'approved') throw new UserFacingError(failureMessage(result, timeoutMs));
  core.info(`Approved by ${result.approvedBy.join(', ')} after ${formatDuration(result.waitedMs)}`);
}

function failureMessage(r: ApprovalResult, timeoutMs: number): string {
  switch (r.decision) {
    case 'denied':
      return `Deploy denied by @${r.deniedBy[0] ?? '?'} in ${r.issueUrl}`;
    case 'timed-out':
      return `No approval within ${formatDuration(timeoutMs)} (${r.approvedBy.length} approval(s) received) in ${r.issueUrl}`;
    case 'closed':
      return `The approval issue ${r.issueUrl} was closed without enough approvals`;
    case 'cancelled':
      return 'Cancelled while waiting for approval';
    default:
      return `Not approved (${r.decision})`;
  }
}

async function writeSummary(r: ApprovalResult, minimum: number): Promise<void> {
  try {
    await core.summary
      .addHeading('Approval', 3)
      .addTable([
        [{ data: 'Decision', header: true }, { data: r.decision }],
        [{ data: 'Approved by', header: true }, { data: r.approvedBy.map((u) => `@${u}`).join(', ') || '—' }],
        [{ data: 'Denied by', header: true }, { data: r.deniedBy.map((u) => `@${u}`).join(', ') || '—' }],
        [{ data: 'Required approvals', header: true }, { data: String(minimum) }],
        [{ data: 'Waited', header: true }, { data: formatDuration(r.waitedMs) }],
        [{ data: 'Issue', header: true }, { data: `<a href="${r.issueUrl}">#${r.issueNumber}</a>` }],
        [
          { data: 'Ignored comments', header: true },
          { data: r.ignored.map((i) => `@${i.login} (${i.vote}: ${i.reason})`).join('<br>') || '—' },
        ],
      ])
      .write();
  } catch (err) {
    core.warning(`Could not write the job summary: ${String(err)}`);
  }
}

export async function run(): Promise<void> {
  await runAction(main, {
    // No decision was reached (bad input, GitHub refused): 'error', so `decision == 'approved'` never holds by accident
    // and a continue-on-error workflow can tell it from a denial.
    failureOutputs: { decision: 'error' },
  });
}

await run();
