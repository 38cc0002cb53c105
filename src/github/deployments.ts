// GitHub Deployments: one deployment per deploy run, whose statuses follow what really happened, so the repository's
// Environments page shows the truth (in_progress → success with the URL, failure, or inactive once rolled back).
import { InputError } from '../core/errors.js';
import type { DeploymentState, GitHubRest } from './rest.js';

export const DEPLOYMENT_STATES: readonly DeploymentState[] = [
  'queued',
  'in_progress',
  'success',
  'failure',
  'error',
  'inactive',
  'pending',
];
/** States that may open a new deployment when no deployment id is given. */
export const CREATING_STATES: readonly DeploymentState[] = ['queued', 'in_progress', 'pending'];

export interface RecordDeploymentOptions {
  rest: GitHubRest;
  owner: string;
  repo: string;
  state: DeploymentState;
  /** Existing deployment to update; when absent a new deployment is created (only for queued/in_progress/pending). */
  deploymentId?: number;
  environment?: string;
  ref?: string;
  environmentUrl?: string;
  logUrl?: string;
  description?: string;
  productionEnvironment?: boolean;
  autoInactive?: boolean;
  payload?: Record<string, unknown>;
}

export interface RecordDeploymentResult {
  deploymentId: number;
  created: boolean;
  deploymentUrl?: string;
  statusId: number;
}

/** Validates before any API call so a bad combination never leaves a half-made deployment behind. */
export function validateRecordOptions(o: Omit<RecordDeploymentOptions, 'rest'>): void {
  if (o.deploymentId === undefined) {
    if (!CREATING_STATES.includes(o.state)) {
      throw new InputError(
        'deployment-id',
        `is required to set status '${o.state}' (create the deployment first with status in_progress and pass its deployment-id output)`,
      );
    }
    if (!o.environment)
      throw new InputError('environment', 'is required when creating a deployment (no deployment-id given)');
    if (!o.ref) throw new InputError('ref', 'is required when creating a deployment (a commit SHA, branch or tag)');
  }
}

export async function recordDeployment(o: RecordDeploymentOptions): Promise<RecordDeploymentResult> {
  validateRecordOptions(o);
  let deploymentId = o.deploymentId;
  let deploymentUrl: string | undefined;
  const created = deploymentId === undefined;
  if (deploymentId === undefined) {
    const d = await o.rest.createDeployment({
      owner: o.owner,
      repo: o.repo,
      ref: o.ref as string,
      environment: o.environment as string,
      ...(o.description ? { description: o.description } : {}),
      ...(o.productionEnvironment !== undefined ? { productionEnvironment: o.productionEnvironment } : {}),
      ...(o.payload ? { payload: o.payload } : {}),
    });
    deploymentId = d.id;
    deploymentUrl = d.url;
  }
  const status = await o.rest.createDeploymentStatus({
    owner: o.owner,
    repo: o.repo,
    deploymentId,
    state: o.state,
    ...(o.environmentUrl ? { environmentUrl: o.environmentUrl } : {}),
    ...(o.logUrl ? { logUrl: o.logUrl } : {}),
    ...(o.description ? { description: o.description } : {}),
    ...(o.autoInactive !== undefined ? { autoInactive: o.autoInactive } : {}),
  });
  return { deploymentId, created, statusId: status.id, ...(deploymentUrl ? { deploymentUrl } : {}) };
}
