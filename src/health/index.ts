// The health-check core's public surface (used by the health-check action, the root action, rollback and the CLI).
export {
  checkHealth,
  validateHealthOptions,
  defaultMaxInterval,
  percentile,
  versionMatches,
  HISTORY_LIMIT,
} from './check.js';
export type { HealthAttempt, HealthCheckOptions, HealthResult, AttemptKind } from './check.js';
export { describeFailingChecks, failingChecks } from './checks.js';
export type { DescribeOptions, FailingCheck } from './checks.js';
export { FAST_FIRST_DELAY_MS, FAST_MAX_DELAY_MS, PollSchedule, QUICK_PHASE_MS } from './schedule.js';
export type { PollScheduleOptions } from './schedule.js';
export {
  describeStatuses,
  parseExpectJson,
  parseExpectStatus,
  parseHeaders,
  secretHeaderValues,
  secretUrlParts,
} from './parse.js';
export type { JsonCondition } from './parse.js';
