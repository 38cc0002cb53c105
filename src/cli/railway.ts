// Railway flags shared by deploy/rollback/status, and connecting with them (same names as the actions' inputs).
import { InputError } from '../core/errors.js';
import { scrubSecrets } from '../core/redact.js';
import { RailwayClient, resolveTarget, type RailwayTarget } from '../railway/index.js';
import { readRailwaySpec, type RailwaySpec } from '../release/spec.js';
import { plainReporter, type RunIo } from '../release/use-cases.js';
import type { OptionSpec, Values } from './args.js';
import { catalogueFlags, cliSource } from './options.js';
import type { CliContext } from './context.js';

/** The connection flags, generated from the catalogue (the same names, defaults and help as the actions' inputs). */
export const RAILWAY_OPTIONS: OptionSpec[] = [
  ...catalogueFlags('cli:status', ['railway-token', 'project', 'environment', 'api-url'], {
    'railway-token': { description: 'Prefer the env variable: flags show up in shell history.', required: true },
  }),
  { name: 'no-websocket', type: 'boolean', description: 'Poll instead of subscribing over WebSocket.' },
];

/** The connection spec from the flags (readRailwaySpec, as the actions read their inputs); the token is checked first. */
export function readCliRailwaySpec(v: Values, services: string[], defaultTimeout: string): RailwaySpec {
  requireToken(v);
  const spec = readRailwaySpec(cliSource(v, { timeout: ['timeout', 'wait-timeout'] }), {
    servicesRequired: false,
    defaultTimeout,
  });
  spec.services = services;
  spec.subscriptions = !v.flag('no-websocket');
  return spec;
}

function requireToken(v: Values): void {
  if (!v.string('railway-token')?.trim()) {
    throw new InputError(
      'railway-token',
      'is required: pass --railway-token or set $RAILWAY_TOKEN (project token) / $RAILWAY_API_TOKEN (account token)',
    );
  }
}

/** Connects with a spec read by readCliRailwaySpec; Railway's log lines go to stderr, dimmed. */
export function connectWith(spec: RailwaySpec, ctx: CliContext, deadline: number): Promise<RailwayClient> {
  return RailwayClient.connect({
    token: spec.token,
    apiUrl: spec.apiUrl,
    signal: ctx.signal,
    deadline,
    webSocket: spec.subscriptions,
    log: (m) => ctx.log(ctx.errColor.dim(m)),
  });
}

/**
 * deploy's and rollback's side of a use case's RunIo: connect with the flags, report dimmed (warnings yellow) on
 * stderr, stop on Ctrl-C. `scrub` hides the health secrets, and once connected the client's too (token, ids);
 * `info` prints a dimmed line (deploy keeps it above its progress line).
 */
export function cliRunIo(
  spec: RailwaySpec,
  ctx: CliContext,
  secrets: string[],
  info: (line: string) => void = (line) => ctx.log(line),
): { io: RunIo; scrub: (text: string) => string } {
  let client: RailwayClient | undefined;
  const scrub = (t: string) => scrubSecrets(client ? client.scrub(t) : t, secrets);
  const io: RunIo = {
    connect: async (deadline) => {
      client = await connectWith(spec, ctx, deadline);
      return client;
    },
    reporter: plainReporter(
      (m) => info(ctx.errColor.dim(scrub(m))),
      (m) => ctx.log(ctx.errColor.yellow(scrub(m))),
    ),
    signal: ctx.signal,
    useSubscription: spec.subscriptions,
  };
  return { io, scrub };
}

export async function connectRailway(
  v: Values,
  ctx: CliContext,
  opts: { deadline?: number } = {},
): Promise<RailwayClient> {
  requireToken(v);
  const token = v.string('railway-token')?.trim() ?? '';
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

/** `--service` values for a command that acts on services (deploy, rollback): at least one. */
export function requiredServices(v: Values): string[] {
  const services = serviceList(v);
  if (services.length === 0) throw new InputError('service', 'is required: give one or more service names or ids');
  return services;
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
  ...(catalogueFlags('cli:status', ['service'])[0] as OptionSpec),
  short: 's',
  description: 'Service name(s) or id(s), one per line; repeat the flag or separate with commas.',
  required: true,
};
