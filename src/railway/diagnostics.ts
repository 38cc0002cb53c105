// What went wrong with a failed deployment: the tail of its build and deploy logs and its events
// (step + payload.error, e.g. HEALTHCHECK attempts) — for the job summary (deploymentEvents and buildLogs/deploymentLogs in railwayapp/cli src/gql/schema.json).
import { errorMessage } from '../core/errors.js';
import type { RailwayClient } from './client.js';
import { BUILD_LOGS, DEPLOYMENT_EVENTS, DEPLOYMENT_LOGS } from './operations.js';

export interface LogLine {
  timestamp: string;
  message: string;
  severity: string | null;
}

export interface DeploymentEventInfo {
  step: string;
  createdAt: string;
  completedAt: string | null;
  error?: string;
  detail?: string;
  attempt?: number;
  maxAttempts?: number;
  durationMs?: number;
}

export interface FailureDiagnostics {
  deploymentId: string;
  buildLogs: LogLine[];
  deployLogs: LogLine[];
  events: DeploymentEventInfo[];
  /** Parts that could not be fetched (the failure is still reported). */
  problems: string[];
}

function tail(lines: LogLine[], limit: number): LogLine[] {
  // Railway returns limit+1 lines (CLI note); sort by timestamp and keep the last `limit`.
  return [...lines].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0)).slice(-limit);
}

export async function collectFailureDiagnostics(
  client: RailwayClient,
  deploymentId: string,
  opts: { lines?: number } = {},
): Promise<FailureDiagnostics> {
  const limit = opts.lines ?? 40;
  const problems: string[] = [];
  const attempt = async <T>(what: string, fn: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      problems.push(`${what}: ${client.scrub(errorMessage(err))}`);
      return fallback;
    }
  };
  const [build, deploy, events] = await Promise.all([
    attempt(
      'build logs',
      async () =>
        (await client.request<{ buildLogs: LogLine[] }>(BUILD_LOGS, { deploymentId, limit }, 'BuildLogs')).buildLogs,
      [],
    ),
    attempt(
      'deploy logs',
      async () =>
        (
          await client.request<{ deploymentLogs: LogLine[] }>(
            DEPLOYMENT_LOGS,
            { deploymentId, limit },
            'DeploymentLogs',
          )
        ).deploymentLogs,
      [],
    ),
    attempt(
      'deployment events',
      async () => {
        const data = await client.request<{
          deploymentEvents: {
            edges: Array<{
              node: {
                step: string;
                createdAt: string;
                completedAt: string | null;
                payload: Record<string, unknown> | null;
              };
            }>;
          };
        }>(DEPLOYMENT_EVENTS, { id: deploymentId, first: 50 }, 'DeploymentEvents');
        return data.deploymentEvents.edges.map(({ node }): DeploymentEventInfo => {
          const p = node.payload ?? {};
          const info: DeploymentEventInfo = {
            step: node.step,
            createdAt: node.createdAt,
            completedAt: node.completedAt,
          };
          if (typeof p.error === 'string' && p.error) info.error = client.scrub(p.error);
          if (typeof p.detail === 'string' && p.detail) info.detail = client.scrub(p.detail);
          else if (typeof p.reason === 'string' && p.reason) info.detail = client.scrub(p.reason);
          if (typeof p.attempt === 'number') info.attempt = p.attempt;
          if (typeof p.maxAttempts === 'number') info.maxAttempts = p.maxAttempts;
          if (typeof p.durationMs === 'number') info.durationMs = p.durationMs;
          return info;
        });
      },
      [],
    ),
  ]);
  const clean = (l: LogLine): LogLine => ({ ...l, message: client.scrub(l.message) });
  return {
    deploymentId,
    buildLogs: tail(build, limit).map(clean),
    deployLogs: tail(deploy, limit).map(clean),
    events,
    problems,
  };
}
