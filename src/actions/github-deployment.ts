// actions/github-deployment: create a GitHub deployment and move its status (see src/github/deployments.ts).
import * as core from '@actions/core';
import { InputError } from '../core/errors.js';
import { recordDeployment, DEPLOYMENT_STATES } from '../github/deployments.js';
import type { DeploymentState } from '../github/rest.js';
import { quoteValue } from '../core/redact.js';
import { booleanInput, choiceInput, stringInput, tokenInput, urlInput } from './lib/inputs.js';
import { githubRest, parseRepository, runUrl } from './lib/github.js';
import { runAction } from './lib/runtime.js';

// environment_url is shown on the repository's Environments page and deployment views to everyone who can read the
// repository, and log_url likewise: a URL with credentials is refused, never sent (stripping them silently would
// record a URL that does not work, and hide that a secret sat in the workflow file).
const PUBLIC_URL = 'GitHub shows it to everyone who can read the repository';

export async function main(): Promise<void> {
  const token = tokenInput('token', { required: true });
  const { owner, repo } = parseRepository(
    stringInput('repository', { fallback: process.env['GITHUB_REPOSITORY'] ?? '' }),
  );
  if (!core.getInput('status').trim())
    throw new InputError('status', `is required: one of ${DEPLOYMENT_STATES.join(', ')}`);
  const state = choiceInput<DeploymentState>('status', DEPLOYMENT_STATES, 'in_progress');
  const rawId = stringInput('deployment-id').trim();
  if (rawId && !/^\d{1,15}$/.test(rawId))
    throw new InputError('deployment-id', `expected the numeric id of a GitHub deployment, got ${quoteValue(rawId)}`);
  const environmentUrl = urlInput('environment-url', { credentials: 'refuse', why: PUBLIC_URL });
  const logUrl = urlInput('log-url', { credentials: 'refuse', why: PUBLIC_URL }) || runUrl();
  const production = stringInput('production-environment').trim();
  if (production && production !== 'true' && production !== 'false') {
    throw new InputError(
      'production-environment',
      `expected true, false or empty (GitHub decides from the name), got ${quoteValue(production)}`,
    );
  }
  const description = stringInput('description', { multiline: true });
  const environment = stringInput('environment');
  const ref = stringInput('ref', { fallback: process.env['GITHUB_SHA'] ?? '' });
  const autoInactive = booleanInput('auto-inactive', true);
  const rest = githubRest(token, { log: (m) => core.info(m) });
  const result = await recordDeployment({
    rest,
    owner,
    repo,
    state,
    ...(rawId ? { deploymentId: Number(rawId) } : {}),
    environment,
    ref,
    ...(environmentUrl ? { environmentUrl } : {}),
    ...(logUrl ? { logUrl } : {}),
    ...(description ? { description } : {}),
    ...(production ? { productionEnvironment: production === 'true' } : {}),
    autoInactive,
  });
  if (state === 'success' && !environmentUrl)
    core.warning('Status success without environment-url: the Environments page will show no link.');
  core.setOutput('deployment-id', String(result.deploymentId));
  core.setOutput('status', state);
  core.info(
    `${result.created ? 'Created' : 'Updated'} GitHub deployment ${result.deploymentId}: ${state}${environmentUrl ? ` (${environmentUrl})` : ''}`,
  );
}

export async function run(): Promise<void> {
  await runAction(main);
}

await run();
