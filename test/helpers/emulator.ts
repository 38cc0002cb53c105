// One shared setup for tests against the Railway emulator (test/railway-emulator): an emulator with a project, its
// production environment and a project token for it — the start every emulator test file repeated — plus a service
// that already serves a verified-good deployment (what a deploy or rollback starts from).
//
//   const railway = useEmulatedProject();                 // beforeAll: start; afterAll: close
//   it('…', async () => { const api = await railway.goodService({ name: 'api' }); … railway.token … });
//
// Or, for a fresh emulator per test (faults that must not leak into the next test): startEmulatedProject(opts),
// closed by the caller.
import { afterAll, beforeAll } from 'vitest';
import {
  startRailwayEmulator,
  type AddServiceOptions,
  type EmulatorOptions,
  type RailwayEmulator,
  type ScriptedDeployment,
} from '../railway-emulator/index.js';

/** Short build and deploy phases: fast tests that still see every status (QUEUED → BUILDING → DEPLOYING → SUCCESS). */
export const FAST_PHASES = { buildMs: 300, deployMs: 100, tickMs: 30 } as const satisfies EmulatorOptions;

/**
 * For tests of the client core (no health checks): shorter phases still, and no stand-in app processes, so a
 * deployment succeeds without one and a fresh emulator per test stays cheap.
 */
export const CLIENT_PHASES = { buildMs: 150, deployMs: 50, tickMs: 25, apps: false } as const satisfies EmulatorOptions;

export interface ProjectOptions {
  /** Project name (default 'shop'). */
  project?: string;
  /** Workspace the project belongs to (default none: a personal project). */
  workspaceId?: string;
  /** Name of the environment the token is for (default 'production'). */
  environment?: string;
  /** More environments to create in the same project (e.g. ['staging']). */
  otherEnvironments?: string[];
  /**
   * Services to add as given (no defaults, no deployment: the test decides what runs); their ids are in `services`
   * by name. For a service already serving a deployment, use goodService.
   */
  services?: AddServiceOptions[];
}

export interface EmulatedProjectOptions extends EmulatorOptions, Omit<ProjectOptions, 'workspaceId'> {
  /** Create a workspace of this name (the token owner a member) and put the project in it; default: a personal project. */
  workspace?: string;
}

export interface GoodService {
  id: string;
  name: string;
  /** The deployment that serves (SUCCESS). */
  deploymentId: string;
  /** The service's public URL on the emulator (empty string when created with `domain: false`). */
  url: string;
}

/** One project in the emulator, with a token for one of its environments. */
export interface SeededProject {
  projectId: string;
  /** The environment the token is for. */
  environmentId: string;
  /** Every environment of the project by name, the token's included. */
  environments: Record<string, string>;
  /** A project token scoped to `environmentId`, as Railway issues them (Project-Access-Token header). */
  token: string;
  /** Ids of the services added with the `services` option, by name. */
  services: Record<string, string>;
  /**
   * Adds a service (repo source, GitHub autodeploy off so the test is the only deployer unless it says otherwise) and
   * waits until its first deployment (scripted by `first`, e.g. `{ app: { version: 'v1' } }`) is SUCCESS in
   * `environmentId`. Names default to api1, api2, … so tests stay independent.
   */
  goodService(s?: Partial<AddServiceOptions>, first?: ScriptedDeployment): Promise<GoodService>;
}

export interface EmulatedProject extends SeededProject {
  emu: RailwayEmulator;
  /** The workspace created by the `workspace` option, if any. */
  workspaceId: string | undefined;
  /** Another project in the same emulator (e.g. in another workspace), seeded the same way. */
  addProject(opts?: ProjectOptions): SeededProject;
}

function seedProject(emu: RailwayEmulator, opts: ProjectOptions): SeededProject {
  const { project = 'shop', workspaceId, environment = 'production', otherEnvironments = [], services = [] } = opts;
  const projectId = emu.addProject({ name: project, ...(workspaceId ? { workspaceId } : {}) }).id;
  const environmentId = emu.addEnvironment(projectId, { name: environment }).id;
  const environments: Record<string, string> = { [environment]: environmentId };
  for (const name of otherEnvironments) environments[name] = emu.addEnvironment(projectId, { name }).id;
  const serviceIds: Record<string, string> = {};
  for (const s of services) serviceIds[s.name] = emu.addService(projectId, s).id;
  const token = emu.projectToken(projectId, environmentId);
  let counter = 0;
  const goodService = async (
    s: Partial<AddServiceOptions> = {},
    first: ScriptedDeployment = {},
  ): Promise<GoodService> => {
    const name = s.name ?? `api${++counter}`;
    const id = emu.addService(projectId, { source: { repo: 'acme/shop' }, autoDeploy: false, ...s, name }).id;
    const deploymentId = emu.supersede(id, { ...first, environmentId });
    await emu.waitForStatus(deploymentId, 'SUCCESS', 30_000);
    return { id, name, deploymentId, url: s.domain === false ? '' : emu.serviceUrl(id, environmentId) };
  };
  return { projectId, environmentId, environments, token, services: serviceIds, goodService };
}

/** Starts an emulator (FAST_PHASES unless overridden) with one project; the caller closes `emu`. */
export async function startEmulatedProject(opts: EmulatedProjectOptions = {}): Promise<EmulatedProject> {
  const { project, workspace, environment, otherEnvironments, services, ...emulatorOptions } = opts;
  const emu = await startRailwayEmulator({ ...FAST_PHASES, ...emulatorOptions });
  const workspaceId = workspace === undefined ? undefined : emu.addWorkspace({ name: workspace }).id;
  const seeded = seedProject(emu, { project, workspaceId, environment, otherEnvironments, services });
  return { emu, workspaceId, ...seeded, addProject: (more = {}) => seedProject(emu, more) };
}

/**
 * startEmulatedProject in the file's (or describe block's) beforeAll, closed in its afterAll. The returned object is
 * filled in by beforeAll: read its fields inside tests and hooks, not at module level.
 */
export function useEmulatedProject(opts: EmulatedProjectOptions = {}): EmulatedProject {
  let started: EmulatedProject | undefined;
  const get = (): EmulatedProject => {
    if (!started)
      throw new Error('useEmulatedProject: read the emulator inside a test or hook (it starts in beforeAll)');
    return started;
  };
  beforeAll(async () => {
    started = await startEmulatedProject(opts);
  });
  afterAll(async () => {
    await started?.emu.close();
  });
  return {
    get emu() {
      return get().emu;
    },
    get workspaceId() {
      return get().workspaceId;
    },
    get projectId() {
      return get().projectId;
    },
    get environmentId() {
      return get().environmentId;
    },
    get environments() {
      return get().environments;
    },
    get token() {
      return get().token;
    },
    get services() {
      return get().services;
    },
    goodService: (s, first) => get().goodService(s, first),
    addProject: (more) => get().addProject(more),
  };
}
