// actions/promotion-guard: refuses to go on unless this commit has a verified deployment, recorded by deploy.yml, in
// the named environment (see src/release/promotion.ts for what counts, src/github/deployment-history.ts for the read).
import * as core from '@actions/core';
import { InputError, UserFacingError } from '../core/errors.js';
import { headerRow } from '../core/text.js';
import { explainDeploymentReadError, readDeploymentHistory } from '../github/deployment-history.js';
import { decidePromotion, type PromotionVerdict } from '../release/promotion.js';
import { secretInput, stringInput } from './lib/inputs.js';
import { githubRest, parseRepository } from './lib/github.js';
import { runAction } from './lib/runtime.js';

export async function main(): Promise<void> {
  const token = secretInput('token', { required: true });
  const { owner, repo } = parseRepository(
    stringInput('repository', { fallback: process.env['GITHUB_REPOSITORY'] ?? '' }),
  );
  const environment = stringInput('environment').trim();
  if (!environment)
    throw new InputError(
      'environment',
      'is required: the GitHub environment this commit must have been verified in (e.g. staging)',
    );
  const sha = stringInput('sha', { fallback: process.env['GITHUB_SHA'] ?? '' })
    .trim()
    .toLowerCase();
  // The list's `sha` filter matches the full SHA recorded at creation; a branch name or short SHA would match nothing.
  if (!/^[0-9a-f]{40}$/.test(sha)) throw new InputError('sha', `expected a full 40-character commit SHA, got '${sha}'`);

  const rest = githubRest(token, { log: (m) => core.info(m) });
  let verdict: PromotionVerdict;
  try {
    verdict = decidePromotion({
      sha,
      environment,
      history: await readDeploymentHistory({ rest, owner, repo, sha, environment }),
    });
  } catch (err) {
    throw explainDeploymentReadError(err, { owner, repo, tokenInput: 'token' });
  }

  // Outputs first, so a step with continue-on-error can still read why.
  core.setOutput('verified', String(verdict.verified));
  core.setOutput('reason', verdict.reason);
  core.setOutput('deployment-id', verdict.verified ? String(verdict.decidedBy?.id ?? '') : '');
  core.setOutput('deployment-url', verdict.verified ? (verdict.decidedBy?.url ?? '') : '');
  core.setOutput('environment-url', verdict.verified ? (verdict.decidedBy?.environmentUrl ?? '') : '');
  core.setOutput('log-url', verdict.verified ? (verdict.decidedBy?.logUrl ?? '') : '');
  await writeSummary(verdict, sha, environment);
  if (!verdict.verified) throw new UserFacingError(`Not promoting ${sha.slice(0, 7)}: ${verdict.reason}`);
  core.notice(verdict.reason, { title: `Verified in ${environment}` });
}

async function writeSummary(v: PromotionVerdict, sha: string, environment: string): Promise<void> {
  try {
    await core.summary
      .addHeading(`Promotion guard: ${sha.slice(0, 7)} in ${environment}`, 3)
      .addRaw(`${v.verified ? '✅ Verified' : '⛔ Not verified'}: ${v.reason}`, true)
      .addTable([
        headerRow('Deployment', 'Latest status', 'At', 'Note'),
        ...v.considered.map((c) => [String(c.id), c.state, c.at, c.note]),
      ])
      .write();
  } catch (err) {
    core.warning(`Could not write the job summary: ${String(err)}`);
  }
}

export async function run(): Promise<void> {
  await runAction(main);
}

await run();
