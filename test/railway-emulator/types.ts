// Shared types of the Railway emulator. The public ones are re-exported from index.ts.

export type DeploymentStatus =
  | 'BUILDING'
  | 'CRASHED'
  | 'DEPLOYING'
  | 'FAILED'
  | 'INITIALIZING'
  | 'NEEDS_APPROVAL'
  | 'QUEUED'
  | 'REMOVED'
  | 'REMOVING'
  | 'SKIPPED'
  | 'SLEEPING'
  | 'SUCCESS'
  | 'WAITING';

export type DeploymentInstanceStatus =
  | 'CRASHED'
  | 'CREATED'
  | 'EXITED'
  | 'INITIALIZING'
  | 'REMOVED'
  | 'REMOVING'
  | 'RESTARTING'
  | 'RUNNING'
  | 'SKIPPED'
  | 'STOPPED';

export type DeploymentEventStep =
  | 'BUILD_IMAGE'
  | 'CONFIGURE_NETWORK'
  | 'CREATE_CONTAINER'
  | 'DRAIN_INSTANCES'
  | 'HEALTHCHECK'
  | 'MIGRATE_VOLUMES'
  | 'PRE_DEPLOY_COMMAND'
  | 'PUBLISH_IMAGE'
  | 'SNAPSHOT_CODE'
  | 'WAIT_FOR_DEPENDENCIES';

/** Statuses from which a deployment still moves on by itself (or waits for approval / CI). */
export const IN_PROGRESS_STATUSES: ReadonlySet<DeploymentStatus> = new Set<DeploymentStatus>([
  'INITIALIZING',
  'QUEUED',
  'WAITING',
  'NEEDS_APPROVAL',
  'BUILDING',
  'DEPLOYING',
]);

/** How the app process of a deployment behaves (passed to test/railway-emulator/app.mjs as APP_* variables). */
export interface AppBehaviour {
  /** false → /health answers `healthStatus` (default 503) with {status:'error'}. Default true. */
  healthy?: boolean;
  /** Status code /health answers with (default 200 when healthy, 503 when not). */
  healthStatus?: number;
  /** Every Nth /health request fails with 503 (a flapping endpoint). */
  flapEvery?: number;
  /** The process waits this long before it starts listening (slow boot). */
  startDelayMs?: number;
  /** APP_VERSION, echoed as `commit` by /health when the deploy has no RAILWAY_GIT_COMMIT_SHA. */
  version?: string;
  /** The process exits with code 1 right after start (→ deployment CRASHED). */
  crashOnStart?: boolean;
}

export type ScriptedOutcome = 'SUCCESS' | 'FAILED' | 'CRASHED' | 'NEEDS_APPROVAL' | 'WAITING' | 'SKIPPED';

export interface ScriptedDeployment {
  outcome?: ScriptedOutcome;
  buildMs?: number;
  /** The process dies this long after SUCCESS (→ CRASHED once the restart policy gives up, docs
   *  deployments/reference.md, deployments/restart-policy.md): e.g. a crash after a verification window ended. */
  crashAfterSuccessMs?: number;
  /** Serverless (App Sleeping): the deployment goes SLEEPING this long after SUCCESS, and the next request to the
   *  service URL wakes it and gets the edge's 502 (docs deployments/serverless.md: sleeps after 10 min without
   *  outbound traffic; "the first request may 502" while it starts) — a cold start, compressed. */
  sleepAfterSuccessMs?: number;
  app?: AppBehaviour;
  /** Where a FAILED outcome fails: the image build (default) or Railway's healthcheck after the container started. */
  failAt?: 'BUILD' | 'HEALTHCHECK';
  /** After this deployment is SUCCESS, the service URL keeps reaching the PREVIOUS deployment for this long (the old
   *  version still answers; the previous one stays SUCCESS meanwhile, then goes REMOVING → REMOVED). */
  staleRoutingMs?: number;
  /** Why an outcome SKIPPED is skipped: a failed 'Wait for CI' check (default: WAITING first, docs
   *  deployments/github-autodeploys.md) or watch paths no changed file matched (build log "No changed files matched
   *  patterns", which `railway up --ci` treats as success: railwayapp/cli src/commands/up.rs, PR #584). */
  skipReason?: 'wait-for-ci' | 'watch-paths';
}

export interface EmulatedLog {
  timestamp: string;
  message: string;
  severity: 'info' | 'error';
  attributes: Array<{ key: string; value: string }>;
}

export interface EmulatedEvent {
  id: string;
  step: DeploymentEventStep;
  createdAt: string;
  completedAt: string | null;
  payload: {
    attempt?: number;
    maxAttempts?: number;
    error?: string;
    reason?: string;
    detail?: string;
    durationMs?: number;
    skipped?: boolean;
  } | null;
}

/** 'github' = Railway's own deployment of a pushed commit (GitHub autodeploy, docs deployments/github-autodeploys.md). */
export type DeploymentKind = 'deploy' | 'redeploy' | 'rollback' | 'upload' | 'variables' | 'external' | 'github';

export interface EmulatedDeployment {
  id: string;
  projectId: string;
  environmentId: string;
  serviceId: string;
  status: DeploymentStatus;
  /** Every status the deployment went through, with epoch ms. */
  history: Array<{ status: DeploymentStatus; at: number }>;
  createdAt: string;
  updatedAt: string;
  statusUpdatedAt: string;
  canRollback: boolean;
  canRedeploy: boolean;
  deploymentStopped: boolean;
  kind: DeploymentKind;
  /** The deployment this one rolled back to / redeployed (for kind rollback/redeploy). */
  sourceDeploymentId: string | null;
  /** Docker image this deployment runs (rollback reuses the target's). */
  image: string;
  commitSha: string | null;
  meta: Record<string, unknown>;
  snapshotId: string;
  url: string | null;
  staticUrl: string | null;
  instances: Array<{ id: string; status: DeploymentInstanceStatus }>;
  events: EmulatedEvent[];
  buildLogs: EmulatedLog[];
  deployLogs: EmulatedLog[];
  /** Service variables as they were when the deployment was created (rollback restores the target's). */
  variables: Record<string, string>;
  app: AppBehaviour;
  script: Required<Pick<ScriptedDeployment, 'outcome'>> & ScriptedDeployment;
  /** Loopback port of the running app process, while it runs. */
  appPort: number | null;
  appPid: number | null;
  /** Epoch ms from which reads see it (registration lag after creation; railwayapp/cli up.rs waits 500 ms, PR #743). */
  visibleAt: number;
  /** Files of the /up archive (uploads only), checked against the service's Root Directory. */
  uploadedFiles?: string[];
}

export interface RequestRecord {
  operationName: string | null;
  query: string;
  variables: unknown;
  headers: Record<string, string>;
  transport: 'http' | 'ws';
  /** HTTP status answered (0 = never answered: hangNext; 101 for WebSocket operations). */
  httpStatus: number;
  at: number;
}

export interface UploadRecord {
  projectId: string;
  environmentId: string;
  serviceId: string;
  /** Regular files in the tarball, paths without the leading "./". */
  files: string[];
  /** Size of the gzip body in bytes. */
  bytes: number;
  deploymentId: string;
}
