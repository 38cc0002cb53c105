// The Railway emulator, exercised with plain fetch and a plain graphql-ws client (never the project's own client),
// so the emulator's behaviour is pinned down independently of the code it tests.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import * as tar from 'tar';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startRailwayEmulator, type RailwayEmulator } from './railway-emulator/index.js';
import { railwaySchemaAvailable, validateAgainstRailwaySchema } from './railway-emulator/schema-check.js';

type Auth = { project: string } | { bearer: string } | null;

interface GqlResponse<T = Record<string, unknown>> { status: number; body: { data?: T | null; errors?: Array<{ message: string }> }; headers: Headers }

function authHeaders(auth: Auth): Record<string, string> {
  if (!auth) return {};
  return 'project' in auth ? { 'Project-Access-Token': auth.project } : { Authorization: `Bearer ${auth.bearer}` };
}

async function gql<T = Record<string, unknown>>(emu: RailwayEmulator, auth: Auth, query: string, variables?: Record<string, unknown>): Promise<GqlResponse<T>> {
  const res = await fetch(emu.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders(auth) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as GqlResponse<T>['body'], headers: res.headers };
}

/** Polls until fn returns a truthy value (no fixed sleeps in assertions). */
async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const DEPLOY = 'mutation Deploy($environmentId: String!, $serviceId: String!, $commitSha: String) { serviceInstanceDeployV2(environmentId: $environmentId, serviceId: $serviceId, commitSha: $commitSha) }';
const GET_DEPLOYMENT = 'query D($id: String!) { deployment(id: $id) { id status canRollback canRedeploy deploymentStopped createdAt statusUpdatedAt meta url staticUrl serviceId environmentId instances { id status } } }';

interface Seed { emu: RailwayEmulator; projectId: string; envId: string; stagingId: string; api: string; worker: string; projectToken: string; accountToken: string }

async function seed(opts: Parameters<typeof startRailwayEmulator>[0] = {}): Promise<Seed> {
  const emu = await startRailwayEmulator({ buildMs: 150, deployMs: 50, tickMs: 25, ...opts });
  const project = emu.addProject({ name: 'shop' });
  const env = emu.addEnvironment(project.id, { name: 'production' });
  const staging = emu.addEnvironment(project.id, { name: 'staging' });
  const api = emu.addService(project.id, { name: 'api', source: { repo: 'acme/shop' } });
  const worker = emu.addService(project.id, { name: 'worker', source: { repo: 'acme/shop' }, app: false });
  return {
    emu, projectId: project.id, envId: env.id, stagingId: staging.id, api: api.id, worker: worker.id,
    projectToken: emu.projectToken(project.id, env.id), accountToken: emu.accountToken(),
  };
}

async function deploy(s: Seed, serviceId = s.api, commitSha?: string): Promise<string> {
  const r = await gql<{ serviceInstanceDeployV2: string }>(s.emu, { project: s.projectToken }, DEPLOY, { environmentId: s.envId, serviceId, commitSha });
  expect(r.body.errors).toBeUndefined();
  const id = r.body.data?.serviceInstanceDeployV2;
  if (!id) throw new Error('no deployment id');
  return id;
}

const emulators: RailwayEmulator[] = [];
async function fresh(opts?: Parameters<typeof startRailwayEmulator>[0]): Promise<Seed> {
  const s = await seed(opts);
  emulators.push(s.emu);
  return s;
}
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

describe('auth', () => {
  let s: Seed;
  beforeAll(async () => {
    s = await seed({ apps: false });
  });
  afterAll(async () => s.emu.close());

  it('projectToken answers for a project token sent as Project-Access-Token', async () => {
    const r = await gql<{ projectToken: { projectId: string; environmentId: string; project: { name: string }; environment: { name: string } } }>(
      s.emu, { project: s.projectToken }, 'query { projectToken { projectId environmentId project { id name } environment { id name } } }');
    expect(r.status).toBe(200);
    expect(r.body.data?.projectToken).toMatchObject({ projectId: s.projectId, environmentId: s.envId, project: { name: 'shop' }, environment: { name: 'production' } });
  });

  it('an account token sent as Project-Access-Token → HTTP 200 with "Project Token not found"', async () => {
    const r = await gql(s.emu, { project: s.accountToken }, 'query { projectToken { projectId } }');
    expect(r.status).toBe(200);
    expect(r.body.data).toBeNull();
    expect(r.body.errors?.[0]?.message).toContain('Project Token not found');
  });

  it('projectToken with a Bearer account token is an error; `me` works with it', async () => {
    const r = await gql(s.emu, { bearer: s.accountToken }, 'query { projectToken { projectId } }');
    expect(r.status).toBe(200);
    expect(r.body.errors?.[0]?.message).toMatch(/Project Token not found/);
    const me = await gql<{ me: { email: string } }>(s.emu, { bearer: s.accountToken }, 'query { me { id email } }');
    expect(me.body.data?.me.email).toBe('user@example.com');
  });

  it('missing or unknown token → 200 + "Not Authorized"', async () => {
    for (const auth of [null, { bearer: 'nope' }]) {
      const r = await gql(s.emu, auth, 'query P($id: String!) { project(id: $id) { id } }', { id: s.projectId });
      expect(r.status).toBe(200);
      expect(r.body.errors?.[0]?.message).toBe('Not Authorized');
    }
  });

  it('a project token is scoped to its environment', async () => {
    const other = await gql(s.emu, { project: s.projectToken }, 'query S($e: String!, $s: String!) { serviceInstance(environmentId: $e, serviceId: $s) { id } }', { e: s.stagingId, s: s.api });
    expect(other.body.errors?.[0]?.message).toBe('Not Authorized');
    const own = await gql(s.emu, { project: s.projectToken }, 'query S($e: String!, $s: String!) { serviceInstance(environmentId: $e, serviceId: $s) { id serviceName } }', { e: s.envId, s: s.api });
    expect(own.body.errors).toBeUndefined();
    const deployOther = await gql(s.emu, { project: s.projectToken }, DEPLOY, { environmentId: s.stagingId, serviceId: s.api });
    expect(deployOther.body.errors?.[0]?.message).toBe('Not Authorized');
    expect(s.emu.deploymentsOf(s.api).filter((d) => d.environmentId === s.stagingId)).toHaveLength(0);
  });

  it('an account token reaches every environment', async () => {
    const r = await gql(s.emu, { bearer: s.accountToken }, 'query S($e: String!, $s: String!) { serviceInstance(environmentId: $e, serviceId: $s) { id } }', { e: s.stagingId, s: s.api });
    expect(r.body.errors).toBeUndefined();
  });

  it('project lists environments and services as connections (edges { node })', async () => {
    const r = await gql<{ project: { environments: { edges: Array<{ node: { name: string } }> }; services: { edges: Array<{ node: { name: string } }> } } }>(
      s.emu, { bearer: s.accountToken },
      'query P($id: String!) { project(id: $id) { id name environments { edges { node { id name } } } services { edges { node { id name } } } } }', { id: s.projectId });
    expect(r.body.data?.project.environments.edges.map((e) => e.node.name)).toEqual(['production', 'staging']);
    expect(r.body.data?.project.services.edges.map((e) => e.node.name)).toEqual(['api', 'worker']);
  });
});

describe('schema validation of incoming operations', () => {
  let s: Seed;
  beforeAll(async () => {
    s = await seed({ apps: false });
  });
  afterAll(async () => s.emu.close());

  it('rejects operations that are not in Railway schema with GraphQL errors (HTTP 200)', async () => {
    const rollbackWithSelection = await gql(s.emu, { project: s.projectToken }, 'mutation { deploymentRollback(id: "x") { id } }');
    expect(rollbackWithSelection.status).toBe(200);
    expect(rollbackWithSelection.body.errors?.map((e) => e.message).join('\n')).toMatch(/must not have a selection since type "Boolean!"/);
    const successfulOnly = await gql(s.emu, { project: s.projectToken }, 'query { deployments(input: { status: { successfulOnly: true } }) { edges { node { id } } } }');
    expect(successfulOnly.body.errors?.map((e) => e.message).join('\n')).toMatch(/successfulOnly/);
    const unknownField = await gql(s.emu, { project: s.projectToken }, 'query { deployment(id: "x") { id cancelledAt } }');
    expect(unknownField.body.errors?.[0]?.message).toMatch(/Cannot query field "cancelledAt"/);
    // Nothing was executed.
    expect(s.emu.deploymentsOf(s.api)).toHaveLength(0);
  });

  it('records every request with operation name, variables, headers and status', async () => {
    const before = s.emu.requests.length;
    await gql(s.emu, { project: s.projectToken }, 'query Who { projectToken { id } }');
    const rec = s.emu.requests[before];
    expect(rec).toMatchObject({ operationName: 'Who', transport: 'http', httpStatus: 200 });
    expect(rec?.headers['project-access-token']).toBe(s.projectToken);
  });
});

describe('deployments over HTTP', () => {
  it('runs INITIALIZING → QUEUED → BUILDING → DEPLOYING → SUCCESS with a real app process and history', async () => {
    const s = await fresh();
    const sha = 'a'.repeat(40);
    const id = await deploy(s, s.api, sha);
    const first = await gql<{ deployment: { status: string; meta: { commitHash: string } } }>(s.emu, { project: s.projectToken }, GET_DEPLOYMENT, { id });
    expect(['INITIALIZING', 'QUEUED', 'BUILDING']).toContain(first.body.data?.deployment.status);
    expect(first.body.data?.deployment.meta.commitHash).toBe(sha);
    const done = await s.emu.waitForStatus(id, 'SUCCESS');
    expect(done.history.map((h) => h.status)).toEqual(['INITIALIZING', 'QUEUED', 'BUILDING', 'DEPLOYING', 'SUCCESS']);
    const r = await gql<{ deployment: { status: string; canRollback: boolean; instances: Array<{ status: string }>; staticUrl: string; url: string; statusUpdatedAt: string } }>(
      s.emu, { project: s.projectToken }, GET_DEPLOYMENT, { id });
    expect(r.body.data?.deployment).toMatchObject({ status: 'SUCCESS', canRollback: true, instances: [{ status: 'RUNNING' }] });
    expect(r.body.data?.deployment.url).toBe(`https://${r.body.data?.deployment.staticUrl}`);
    // The service URL reaches the real process, which proves its identity.
    const health = await fetch(`${s.emu.serviceUrl(s.api)}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', deploymentId: id, commit: sha });
  });

  it('unknown deployment id → error (deployment is non-null)', async () => {
    const s = await fresh({ apps: false });
    const r = await gql(s.emu, { project: s.projectToken }, GET_DEPLOYMENT, { id: 'nope' });
    expect(r.body.errors?.[0]?.message).toBe('Deployment not found');
    expect(r.body.data).toBeNull();
  });

  it('invalid commit sha → "Commit not found" and no deployment', async () => {
    const s = await fresh({ apps: false });
    const r = await gql(s.emu, { project: s.projectToken }, DEPLOY, { environmentId: s.envId, serviceId: s.api, commitSha: 'not-a-sha' });
    expect(r.body.errors?.[0]?.message).toMatch(/Commit not found/);
    expect(s.emu.deploymentsOf(s.api)).toHaveLength(0);
  });
});

describe('teardown', () => {
  it('close() stops every app process', async () => {
    const s = await seed();
    const id = await deploy(s);
    await s.emu.waitForStatus(id, 'SUCCESS');
    const pids = s.emu.runningApps().map((a) => a.pid);
    expect(pids).toHaveLength(1);
    await s.emu.close();
    expect(pids.filter(pidAlive)).toEqual([]);
  });
});

void spawnSync; void fs; void os; void path; void createClient; void tar; void WebSocket; void railwaySchemaAvailable; void validateAgainstRailwaySchema; void until;
export type { Client };
