// actions/github-deployment: create a GitHub deployment and move its status (see src/github/deployments.ts).
import * as core from '@actions/core';
import { InputError } from '../core/errors.js';
import { recordDeployment, DEPLOYMENT_STATES } from '../github/deployments.js';
import type { DeploymentState } from '../github/rest.js';
import { booleanInput, choiceInput, secretInput, stringInput, urlInput } from './lib/inputs.js';
import { githubRest, parseRepository, runUrl } from './lib/github.js';
import { runAction } from './lib/runtime.js';

async function main(): Promise<void> {
  const token = secretInput('token', { required: true });
  const { owner, repo } = parseRepository(stringInput('repository', { fallback: process.env['GITHUB_REPOSITORY'] ?? '' }));
  const state = choiceInput<DeploymentState>('status', DEPLOYMENT_STATES, 'in_progress');
  if (!core.getInput('status').trim()) throw new InputError('status', `is required: one of ${DEPLOYMENT_STATES.join(', ')}`);
  const rawId = stringInput('deployment-id').trim();
  if (rawId && !/^\d+$/.test(rawId)) throw new InputError('deployment-id', `expected the numeric id of a GitHub deployment, got '${rawId}'`);
  const environmentUrl = urlInput('environment-url');
  const logUrl = urlInput('log-url') || runUrl();
  const production = stringInput('production-environment').trim();
  if (production && production !== 'true' && production !== 'false') {
    throw new InputError('production-environment', `expected true, false or empty (GitHub decides from the name), got '${production}'`);
  }
  const description = stringInput('description');
  const rest = githubRest(token, { log: (m) => core.info(m) });
  const result = await recordDeployment({
    rest, owner, repo, state,
    ...(rawId ? { deploymentId: Number(rawId) } : {}),
    environment: stringInput('environment'),
    ref: stringInput('ref', { fallback: process.env['GITHUB_SHA'] ?? '' }),
    ...(environmentUrl ? { environmentUrl } : {}),
    ...(logUrl ? { logUrl } : {}),
    ...(description ? { description } : {}),
    ...(production ? { productionEnvironment: production === 'true' } : {}),
    autoInactive: booleanInput('auto-inactive', true),
  });
  if (state === 'success' && !environmentUrl) core.warning('Status success without environment-url: the Environments page will show no link.');
  core.setOutput('deployment-id', String(result.deploymentId));
  core.setOutput('status', state);
  core.info(`${result.created ? 'Created' : 'Updated'} GitHub deployment ${result.deploymentId}: ${state}${environmentUrl ? ` (${environmentUrl})` : ''}`);
}

await runAction(main);
