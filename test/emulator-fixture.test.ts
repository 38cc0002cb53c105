// The shared emulator fixture (test/helpers/emulator.ts) does what the files that use it rely on: the token reaches
// its project and environment through the GraphQL API, other environments exist beside it, and a "good service"
// really serves its deployment (the stand-in app answers /health with that deployment's id).
import { describe, expect, it } from 'vitest';
import { startEmulatedProject, useEmulatedProject } from './helpers/emulator.js';

async function graphql(
  url: string,
  token: string,
  query: string,
  kind: 'project' | 'bearer' = 'project',
): Promise<{ data?: Record<string, unknown>; errors?: unknown[] }> {
  const auth = kind === 'project' ? { 'project-access-token': token } : { authorization: `Bearer ${token}` };
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

describe('useEmulatedProject', () => {
  const railway = useEmulatedProject({ project: 'fixture', otherEnvironments: ['staging'] });

  it('gives a project token for the named project and environment', async () => {
    const r = await graphql(railway.emu.url, railway.token, '{ projectToken { projectId environmentId } }');
    expect(r.errors).toBeUndefined();
    expect(r.data?.projectToken).toEqual({ projectId: railway.projectId, environmentId: railway.environmentId });
    expect(Object.keys(railway.environments).sort()).toEqual(['production', 'staging']);
    expect(railway.environments.staging).not.toBe(railway.environmentId);
  });

  it('goodService: SUCCESS, and the service URL answers with that deployment', async () => {
    const api = await railway.goodService({ app: { version: 'v1' } });
    expect(api.name).toBe('api1');
    expect(railway.emu.deployment(api.deploymentId)?.status).toBe('SUCCESS');
    const health = (await (await fetch(`${api.url}/health`)).json()) as { deploymentId?: string; version?: string };
    expect(health.deploymentId).toBe(api.deploymentId);
    const second = await railway.goodService({ app: false, domain: false });
    expect([second.name, second.url]).toEqual(['api2', '']);
  });
});

describe('services and addProject', () => {
  const railway = useEmulatedProject({
    apps: false,
    services: [{ name: 'api', source: { repo: 'acme/shop' }, app: false }],
  });

  it('adds the listed services as given, with no deployment, and names their ids', () => {
    const id = railway.services.api ?? '';
    expect(railway.emu.deploymentsOf(id)).toEqual([]);
    expect(Object.keys(railway.services)).toEqual(['api']);
  });

  it('addProject: another project in the same emulator, its token scoped to it, not to the first', async () => {
    const workspace = railway.emu.addWorkspace({ name: 'acme' });
    const other = railway.addProject({
      project: 'other',
      workspaceId: workspace.id,
      services: [{ name: 'web', app: false }],
    });
    expect(other.projectId).not.toBe(railway.projectId);
    const r = await graphql(railway.emu.url, other.token, '{ projectToken { projectId environmentId } }');
    expect(r.data?.projectToken).toEqual({ projectId: other.projectId, environmentId: other.environmentId });
    const seen = await graphql(
      railway.emu.url,
      railway.emu.workspaceToken(workspace.id),
      `{ project(id: "${other.projectId}") { name workspaceId services { edges { node { id name } } } } }`,
      'bearer',
    );
    expect(seen.errors).toBeUndefined();
    expect(seen.data?.project).toEqual({
      name: 'other',
      workspaceId: workspace.id,
      services: { edges: [{ node: { id: other.services.web, name: 'web' } }] },
    });
  });
});

describe('startEmulatedProject', () => {
  it('is closed by its caller, and refuses requests afterwards', async () => {
    const p = await startEmulatedProject({ apps: false });
    const r = await graphql(p.emu.url, p.token, '{ projectToken { projectId } }');
    expect(r.data?.projectToken).toEqual({ projectId: p.projectId });
    await p.emu.close();
    await expect(fetch(p.emu.url, { method: 'POST', body: '{}' })).rejects.toThrow();
  });

  it('workspace: the project is created in a new workspace, which its workspace token sees', async () => {
    const p = await startEmulatedProject({ apps: false, workspace: 'acme' });
    try {
      expect(p.workspaceId).toEqual(expect.any(String));
      const r = await graphql(
        p.emu.url,
        p.emu.workspaceToken(p.workspaceId ?? ''),
        `{ project(id: "${p.projectId}") { name workspaceId } }`,
        'bearer',
      );
      expect(r.data?.project).toEqual({ name: 'shop', workspaceId: p.workspaceId });
    } finally {
      await p.emu.close();
    }
    const personal = await startEmulatedProject({ apps: false });
    await personal.emu.close();
    expect(personal.workspaceId).toBeUndefined();
  });

  it('emulator options reach the emulator over the fast phases (buildMs, activeCanRollback)', async () => {
    const p = await startEmulatedProject({ apps: false, buildMs: 700, activeCanRollback: false });
    try {
      const api = await p.goodService({ app: false, domain: false });
      const build = p.emu.deployment(api.deploymentId)?.buildLogs.map((l) => l.message);
      expect(build).toContain('Build time: 0.70 seconds');
      const r = await graphql(p.emu.url, p.token, `{ deployment(id: "${api.deploymentId}") { canRollback } }`);
      expect(r.data?.deployment).toEqual({ canRollback: false });
    } finally {
      await p.emu.close();
    }
  });
});
