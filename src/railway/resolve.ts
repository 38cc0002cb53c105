// Turns project/environment/service inputs (ids or exact names) into ids, before anything is mutated.
import { InputError } from '../core/errors.js';
import { CLASSIC_MISTAKE, type RailwayClient } from './client.js';
import { RailwayApiError } from './errors.js';
import { LIST_PROJECTS, PROJECT_TOPOLOGY } from './operations.js';

export interface NamedId {
  id: string;
  name: string;
}

export interface RailwayTarget {
  project: NamedId;
  environment: NamedId;
  services: NamedId[];
}

interface Topology {
  project: {
    id: string;
    name: string;
    environments: { edges: Array<{ node: NamedId }> };
    services: { edges: Array<{ node: NamedId }> };
  };
}

function listNames(items: NamedId[]): string {
  if (items.length === 0) return '(none visible to this token)';
  return items.map((i) => `'${i.name}' (${i.id})`).join(', ');
}

/** Exact id or exact (case-sensitive) name, like the CLI's --service; the error lists what exists. */
export function pickByIdOrName(items: NamedId[], wanted: string, input: string, what: string): NamedId {
  const byId = items.find((i) => i.id === wanted);
  if (byId) return byId;
  const byName = items.filter((i) => i.name === wanted);
  if (byName.length === 1) return byName[0] as NamedId;
  if (byName.length > 1)
    throw new InputError(input, `${what} name '${wanted}' is ambiguous (${listNames(byName)}); use the id`);
  const folded = items.filter((i) => i.name.toLowerCase() === wanted.toLowerCase());
  const hint = folded.length ? ` (names are case-sensitive: did you mean '${folded[0]?.name}'?)` : '';
  throw new InputError(input, `no ${what} '${wanted}'${hint}. Available: ${listNames(items)}`);
}

export interface ResolveInputs {
  /** Project id or name; optional with a project token (taken from the token). */
  project?: string;
  /** Environment id or name; optional with a project token. */
  environment?: string;
  /** Service ids or names (at least one). */
  services: string[];
}

export async function resolveTarget(client: RailwayClient, inputs: ResolveInputs): Promise<RailwayTarget> {
  if (inputs.services.length === 0)
    throw new InputError('service', 'is required: give one or more service names or ids (one per line)');
  const duplicates = inputs.services.filter((s, i) => inputs.services.indexOf(s) !== i);
  if (duplicates.length) throw new InputError('service', `lists '${duplicates[0]}' more than once`);

  let projectId: string;
  const scope = client.projectScope;
  if (client.tokenKind === 'project' && scope) {
    const wanted = inputs.project?.trim();
    if (wanted && wanted !== scope.projectId && wanted !== scope.projectName) {
      throw new InputError(
        'project',
        `'${wanted}' does not match the project token's project '${scope.projectName}' (${scope.projectId}); a project token only works for its own project — leave 'project' empty or use that project's token`,
      );
    }
    projectId = scope.projectId;
  } else {
    const wanted = inputs.project?.trim();
    if (!wanted) {
      throw new InputError(
        'railway-token',
        `was refused as a project token (Railway said: ${client.projectTokenRefusal ?? 'not a project token'}) but works as an account/workspace token, and no 'project' input was given. ${CLASSIC_MISTAKE}`,
      );
    }
    if (!inputs.environment?.trim()) {
      throw new InputError(
        'environment',
        "is required with an account/workspace token (a project token implies it); give the environment's name or id",
      );
    }
    projectId = await findProjectId(client, wanted);
  }

  const topo = await client.request<Topology>(PROJECT_TOPOLOGY, { id: projectId }, 'ProjectTopology');
  const environments = topo.project.environments.edges.map((e) => e.node);
  const services = topo.project.services.edges.map((e) => e.node);

  let environment: NamedId;
  if (scope && client.tokenKind === 'project') {
    const tokenEnv = environments.find((e) => e.id === scope.environmentId) ?? {
      id: scope.environmentId,
      name: scope.environmentName,
    };
    const wanted = inputs.environment?.trim();
    if (wanted && wanted !== tokenEnv.id && wanted !== tokenEnv.name) {
      // Resolve first so an unknown name gets the "available" list, then explain the token scope.
      pickByIdOrName(environments, wanted, 'environment', 'environment');
      throw new InputError(
        'environment',
        `'${wanted}' is not the environment this project token is scoped to ('${tokenEnv.name}'); project tokens work for one environment only — use that environment's token`,
      );
    }
    environment = tokenEnv;
  } else {
    environment = pickByIdOrName(environments, (inputs.environment ?? '').trim(), 'environment', 'environment');
  }

  const resolved = inputs.services.map((s) => pickByIdOrName(services, s.trim(), 'service', 'service'));
  const ids = resolved.map((s) => s.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new InputError('service', `names the same service twice (${dup}) by name and id`);
  return { project: { id: topo.project.id, name: topo.project.name }, environment, services: resolved };
}

/** A project an account/workspace token can see, with where it lives (for messages). */
export interface VisibleProject extends NamedId {
  /** The workspace's name, or undefined for a personal project. */
  workspace?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Railway refused to show it (not found / not authorized): not a fault to retry. */
function refused(err: unknown): boolean {
  return err instanceof RailwayApiError && !err.retryable && err.httpStatus < 500;
}

/**
 * A project given to an account/workspace token: by id through `project(id)`, which reads one project for every token
 * kind that may see it; by name through the projects the token can enumerate (listVisibleProjects).
 */
async function findProjectId(client: RailwayClient, wanted: string): Promise<string> {
  if (UUID.test(wanted)) {
    try {
      const topo = await client.request<Topology>(PROJECT_TOPOLOGY, { id: wanted }, 'ProjectTopology');
      return topo.project.id;
    } catch (err) {
      if (!refused(err)) throw err;
      // Not visible by id: maybe a project NAMED like an id; the name lookup below lists what the token sees.
    }
  }
  const projects = await listVisibleProjects(client);
  const byName = projects.filter((p) => p.name === wanted);
  if (byName.length > 1) {
    throw new InputError(
      'project',
      `name '${wanted}' is ambiguous: ${byName.map((p) => `'${p.name}' (${p.id}, ${p.workspace ? `workspace ${p.workspace}` : 'personal'})`).join(', ')}; use the id`,
    );
  }
  return pickByIdOrName(projects, wanted, 'project', 'project').id;
}

/**
 * Every project an account or workspace token can see: `projects` without workspaceId lists the personal projects
 * only (docs integrations/api/manage-projects.md) — a workspace token has none and may be refused (docs
 * integrations/api.md) — so each of the token's workspaces (`apiToken { workspaces }`) is listed too, paginated.
 */
export async function listVisibleProjects(client: RailwayClient): Promise<VisibleProject[]> {
  const out = new Map<string, VisibleProject>();
  const listAll = async (workspaceId: string | null, workspace?: string): Promise<void> => {
    let after: string | undefined;
    for (let page = 0; page < 20; page++) {
      const data = await client.request<{
        projects: { edges: Array<{ node: NamedId }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
      }>(LIST_PROJECTS, { workspaceId, first: 100, after }, 'ListProjects');
      for (const { node } of data.projects.edges)
        if (!out.has(node.id))
          out.set(node.id, workspace ? { id: node.id, name: node.name, workspace } : { id: node.id, name: node.name });
      if (!data.projects.pageInfo.hasNextPage || !data.projects.pageInfo.endCursor) return;
      after = data.projects.pageInfo.endCursor;
    }
  };
  const workspaces = await client.tokenWorkspaces();
  for (const w of workspaces) await listAll(w.id, w.name);
  await listAll(null).catch((err: unknown) => {
    if (!refused(err)) throw err; // a workspace token has no personal projects
  });
  return [...out.values()];
}
