export * from './rest.js';
export * from './approval.js';
export * from './deployments.js';
export * from './deployment-history.js';
