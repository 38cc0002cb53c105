// The health-check core's public surface (used by the health-check action, the root action, rollback and the CLI).
export { checkHealth, validateHealthOptions, defaultMaxInterval, percentile, versionMatches, HISTORY_LIMIT } from './check.js';
export type { HealthAttempt, HealthCheckOptions, HealthResult, AttemptKind } from './check.js';
export { describeStatuses, parseExpectJson, parseExpectStatus, parseHeaders, secretHeaderValues, secretUrlParts } from './parse.js';
export type { JsonCondition } from './parse.js';
