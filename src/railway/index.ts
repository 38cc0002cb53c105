// The Railway client's public surface (actions, the CLI and tests import from here).
export { RailwayClient, DEFAULT_API_URL, CLASSIC_MISTAKE, parseApiUrl } from './client.js';
export type { RailwayClientOptions, TokenKind, ProjectTokenScope, RateLimitState, UploadResponse } from './client.js';
export { RailwayApiError, RailwayNetworkError } from './errors.js';
export { resolveTarget, pickByIdOrName } from './resolve.js';
export type { NamedId, RailwayTarget, ResolveInputs } from './resolve.js';
export {
  listDeployments,
  getDeployment,
  getServiceInstance,
  serviceUrlOf,
  pickRollbackTarget,
  pickActive,
  findNewDeployment,
  newestFirst,
  IN_PROGRESS_STATUSES,
  SUCCESS_STATUSES,
} from './deployments.js';
export type { DeploymentStatus, DeploymentSummary, DeploymentDetail, ServiceInstanceState, ServiceScope } from './deployments.js';
export { waitForDeployment, watchDeployment } from './waiter.js';
export type { WaitOptions, WaitResult, WaitOutcome, StatusChange } from './waiter.js';
export { triggerDeployment, checkSourceFits, sourceForService } from './deploy.js';
export type { DeploySource } from './deploy.js';
export { rollbackTo } from './rollback.js';
export type { RollbackResult, RollbackMethod, RollbackOptions } from './rollback.js';
export { createUploadTarball, listUploadFiles } from './upload.js';
export { collectFailureDiagnostics } from './diagnostics.js';
export type { FailureDiagnostics, LogLine, DeploymentEventInfo } from './diagnostics.js';
export * as operations from './operations.js';
