// Railway flags shared by deploy/rollback/status, and connecting with them (same names as the actions' inputs).
import { InputError } from '../core/errors.js';
import { RailwayClient, resolveTarget, type RailwayTarget } from '../railway/index.js';
import type { OptionSpec, Values } from './args.js';
import type { CliContext } from './context.js';

export const RAILWAY_OPTIONS: OptionSpec[] = [
  {
    name: 'railway-token',
    type: 'string',
    value: 'TOKEN',
    env: ['RAILWAY_TOKEN', 'RAILWAY_API_TOKEN'],
    description: 'Railway project token, or account/workspace token (then --project and --environment are needed). Prefer the env variable: flags show up in shell history.',
    required: true,
  },
  { name: 'project', type: 'string', value: 'NAME|ID', description: 'Project (implied by a project token).' },
  { name: 'environment', type: 'string', value: 'NAME|ID', description: 'Environment (implied by a project token).' },
  { name: 'api-url', type: 'string', value: 'URL', description: "Railway's GraphQL endpoint (default https://backboard.railway.com/graphql/v2)." },
  { name: 'no-websocket', type: 'boolean', description: 'Poll instead of subscribing over WebSocket.' },
];

export async function connectRailway(v: Values, ctx: CliContext, opts: { deadline?: number } = {}): Promise<RailwayClient> {
  const token = v.string('railway-token')?.trim() ?? '';
  if (!token) {
    throw new InputError('railway-token', 'is required: pass --railway-token or set $RAILWAY_TOKEN (project token) / $RAILWAY_API_TOKEN (account token)');
  }
  const apiUrl = v.string('api-url');
  return RailwayClient.connect({
    token,
    ...(apiUrl ? { apiUrl } : {}),
    signal: ctx.signal,
    ...(opts.deadline ? { deadline: opts.deadline } : {}),
    webSocket: !v.flag('no-websocket'),
    log: (m) => ctx.log(ctx.errColor.dim(m)),
  });
}

export async function resolveRailway(client: RailwayClient, v: Values, services: string[]): Promise<RailwayTarget> {
  const project = v.string('project')?.trim();
  const environment = v.string('environment')?.trim();
  return resolveTarget(client, { ...(project ? { project } : {}), ...(environment ? { environment } : {}), services });
}

/** `--service` values: repeated flags and/or newline/comma-separated lists (like the action's input). */
export function serviceList(v: Values): string[] {
  return v
    .list('service')
    .flatMap((s) => s.split(/[\n,]/))
    .map((s) => s.trim())
    .filter(Boolean);
}

export const SERVICE_OPTION: OptionSpec = {
  name: 'service',
  short: 's',
  type: 'string',
  multiple: true,
  value: 'NAME|ID',
  description: 'Service(s); repeat the flag or separate with commas.',
  required: true,
};
