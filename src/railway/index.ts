// The Railway client's public surface (actions, the CLI and tests import from here).
export { RailwayClient, DEFAULT_API_URL, DEFAULT_REQUEST_TIMEOUT_MS, CLASSIC_MISTAKE, parseApiUrl } from './client.js';
export type {
  RailwayClientOptions,
  TokenKind,
  TokenWorkspace,
  ProjectTokenScope,
  RateLimitState,
  UploadResponse,
} from './client.js';
export { RailwayApiError, RailwayNetworkError, RailwayUnconfirmedError, mayHaveLanded } from './errors.js';
export { applyOnce } from './effects.js';
export type { EffectSpec, EffectResult } from './effects.js';
export { resolveTarget, pickByIdOrName, listVisibleProjects } from './resolve.js';
export type { NamedId, RailwayTarget, ResolveInputs, VisibleProject } from './resolve.js';
export {
  listDeployments,
  getDeployment,
  getServiceInstance,
  readServiceState,
  getAutoDeployStatus,
  findDeploymentOfCommit,
  serviceUrlOf,
  pickRollbackTarget,
  pickActive,
  findNewDeployment,
  newDeploymentIn,
  newestFirst,
  commitOf,
  sameCommit,
  IN_PROGRESS_STATUSES,
  SUCCESS_STATUSES,
  CANCELLABLE_STATUSES,
} from './deployments.js';
export type {
  AutoDeployStatus,
  DeploymentStatus,
  DeploymentSummary,
  DeploymentDetail,
  ServiceInstanceState,
  ServiceScope,
} from './deployments.js';
export { waitForDeployment, watchDeployment, verdictOf } from './waiter.js';
export type { WaitOptions, WaitResult, WaitOutcome, WaitVerdict, StatusChange } from './waiter.js';
export { triggerDeployment, checkSourceFits, sourceForService, planCommitDeploy, cancelDeployment } from './deploy.js';
export type {
  DeploySource,
  StartedDeployment,
  TriggerOptions,
  CommitPlan,
  CommitPlanOptions,
  CancelResult,
} from './deploy.js';
export { rollbackTo } from './rollback.js';
export type { RollbackResult, RollbackMethod, RollbackOptions } from './rollback.js';
export {
  createUploadTarball,
  listUploadFiles,
  planUploadRoot,
  archiveFitsRootDirectory,
  normaliseRootDirectory,
} from './upload.js';
export type { UploadOptions } from './upload.js';
export { collectFailureDiagnostics } from './diagnostics.js';
export type { FailureDiagnostics, LogLine, DeploymentEventInfo } from './diagnostics.js';
export * as operations from './operations.js';
