// The Railway emulator, exercised with plain fetch and a plain graphql-ws client (never the project's own client),
// so the emulator's behaviour is pinned down independently of the code it tests.
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

interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  body: { data?: T | null; errors?: Array<{ message: string }> };
  headers: Headers;
}

function authHeaders(auth: Auth): Record<string, string> {
  if (!auth) return {};
  return 'project' in auth ? { 'Project-Access-Token': auth.project } : { Authorization: `Bearer ${auth.bearer}` };
}

async function gql<T = Record<string, unknown>>(
  emu: RailwayEmulator,
  auth: Auth,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GqlResponse<T>> {
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

const DEPLOY =
  'mutation Deploy($environmentId: String!, $serviceId: String!, $commitSha: String) { serviceInstanceDeployV2(environmentId: $environmentId, serviceId: $serviceId, commitSha: $commitSha) }';
const GET_DEPLOYMENT =
  'query D($id: String!) { deployment(id: $id) { id status canRollback canRedeploy deploymentStopped createdAt statusUpdatedAt meta url staticUrl serviceId environmentId instances { id status } } }';

interface Seed {
  emu: RailwayEmulator;
  projectId: string;
  envId: string;
  stagingId: string;
  api: string;
  worker: string;
  projectToken: string;
  accountToken: string;
}

async function seed(opts: Parameters<typeof startRailwayEmulator>[0] = {}): Promise<Seed> {
  const emu = await startRailwayEmulator({ buildMs: 150, deployMs: 50, tickMs: 25, ...opts });
  const project = emu.addProject({ name: 'shop' });
  const env = emu.addEnvironment(project.id, { name: 'production' });
  const staging = emu.addEnvironment(project.id, { name: 'staging' });
  const api = emu.addService(project.id, { name: 'api', source: { repo: 'acme/shop' } });
  const worker = emu.addService(project.id, { name: 'worker', source: { repo: 'acme/shop' }, app: false });
  return {
    emu,
    projectId: project.id,
    envId: env.id,
    stagingId: staging.id,
    api: api.id,
    worker: worker.id,
    projectToken: emu.projectToken(project.id, env.id),
    accountToken: emu.accountToken(),
  };
}

async function deploy(s: Seed, serviceId = s.api, commitSha?: string): Promise<string> {
  const r = await gql<{ serviceInstanceDeployV2: string }>(s.emu, { project: s.projectToken }, DEPLOY, {
    environmentId: s.envId,
    serviceId,
    commitSha,
  });
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
    const r = await gql<{
      projectToken: {
        projectId: string;
        environmentId: string;
        project: { name: string };
        environment: { name: string };
      };
    }>(
      s.emu,
      { project: s.projectToken },
      'query { projectToken { projectId environmentId project { id name } environment { id name } } }',
    );
    expect(r.status).toBe(200);
    expect(r.body.data?.projectToken).toMatchObject({
      projectId: s.projectId,
      environmentId: s.envId,
      project: { name: 'shop' },
      environment: { name: 'production' },
    });
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
    const other = await gql(
      s.emu,
      { project: s.projectToken },
      'query S($e: String!, $s: String!) { serviceInstance(environmentId: $e, serviceId: $s) { id } }',
      { e: s.stagingId, s: s.api },
    );
    expect(other.body.errors?.[0]?.message).toBe('Not Authorized');
    const own = await gql(
      s.emu,
      { project: s.projectToken },
      'query S($e: String!, $s: String!) { serviceInstance(environmentId: $e, serviceId: $s) { id serviceName } }',
      { e: s.envId, s: s.api },
    );
    expect(own.body.errors).toBeUndefined();
    const deployOther = await gql(s.emu, { project: s.projectToken }, DEPLOY, {
      environmentId: s.stagingId,
      serviceId: s.api,
    });
    expect(deployOther.body.errors?.[0]?.message).toBe('Not Authorized');
    expect(s.emu.deploymentsOf(s.api).filter((d) => d.environmentId === s.stagingId)).toHaveLength(0);
  });

  it('an account token reaches every environment', async () => {
    const r = await gql(
      s.emu,
      { bearer: s.accountToken },
      'query S($e: String!, $s: String!) { serviceInstance(environmentId: $e, serviceId: $s) { id } }',
      { e: s.stagingId, s: s.api },
    );
    expect(r.body.errors).toBeUndefined();
  });

  it('project lists environments and services as connections (edges { node })', async () => {
    const r = await gql<{
      project: {
        environments: { edges: Array<{ node: { name: string } }> };
        services: { edges: Array<{ node: { name: string } }> };
      };
    }>(
      s.emu,
      { bearer: s.accountToken },
      'query P($id: String!) { project(id: $id) { id name environments { edges { node { id name } } } services { edges { node { id name } } } } }',
      { id: s.projectId },
    );
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
    const rollbackWithSelection = await gql(
      s.emu,
      { project: s.projectToken },
      'mutation { deploymentRollback(id: "x") { id } }',
    );
    expect(rollbackWithSelection.status).toBe(200);
    expect(rollbackWithSelection.body.errors?.map((e) => e.message).join('\n')).toMatch(
      /must not have a selection since type "Boolean!"/,
    );
    const successfulOnly = await gql(
      s.emu,
      { project: s.projectToken },
      'query { deployments(input: { status: { successfulOnly: true } }) { edges { node { id } } } }',
    );
    expect(successfulOnly.body.errors?.map((e) => e.message).join('\n')).toMatch(/successfulOnly/);
    const unknownField = await gql(
      s.emu,
      { project: s.projectToken },
      'query { deployment(id: "x") { id cancelledAt } }',
    );
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
    const first = await gql<{ deployment: { status: string; meta: { commitHash: string } } }>(
      s.emu,
      { project: s.projectToken },
      GET_DEPLOYMENT,
      { id },
    );
    expect(['INITIALIZING', 'QUEUED', 'BUILDING']).toContain(first.body.data?.deployment.status);
    expect(first.body.data?.deployment.meta.commitHash).toBe(sha);
    const done = await s.emu.waitForStatus(id, 'SUCCESS');
    expect(done.history.map((h) => h.status)).toEqual(['INITIALIZING', 'QUEUED', 'BUILDING', 'DEPLOYING', 'SUCCESS']);
    const r = await gql<{
      deployment: {
        status: string;
        canRollback: boolean;
        instances: Array<{ status: string }>;
        staticUrl: string;
        url: string;
        statusUpdatedAt: string;
      };
    }>(s.emu, { project: s.projectToken }, GET_DEPLOYMENT, { id });
    expect(r.body.data?.deployment).toMatchObject({
      status: 'SUCCESS',
      canRollback: true,
      instances: [{ status: 'RUNNING' }],
    });
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
    const r = await gql(s.emu, { project: s.projectToken }, DEPLOY, {
      environmentId: s.envId,
      serviceId: s.api,
      commitSha: 'not-a-sha',
    });
    expect(r.body.errors?.[0]?.message).toMatch(/Commit not found/);
    expect(s.emu.deploymentsOf(s.api)).toHaveLength(0);
  });
});

describe('lifecycle: supersede, remove, cancel', () => {
  it('a newer SUCCESS turns the previous active deployment REMOVING → REMOVED, canRollback kept, its process stopped', async () => {
    const s = await fresh();
    const first = await deploy(s, s.api, '1'.repeat(40));
    await s.emu.waitForStatus(first, 'SUCCESS');
    const firstPid = s.emu.deployment(first)?.appPid;
    expect(firstPid).toBeTypeOf('number');
    const second = await deploy(s, s.api, '2'.repeat(40));
    await s.emu.waitForStatus(second, 'SUCCESS');
    const old = await s.emu.waitForStatus(first, 'REMOVED');
    expect(old.history.map((h) => h.status).slice(-3)).toEqual(['SUCCESS', 'REMOVING', 'REMOVED']);
    expect(old.canRollback).toBe(true);
    expect(old.deploymentStopped).toBe(true);
    expect(old.events.map((e) => e.step)).toContain('DRAIN_INSTANCES');
    await until(() => !pidAlive(firstPid as number), 'old process to stop');
    expect(s.emu.activeDeployment(s.api)?.id).toBe(second);
    const body = (await (await fetch(`${s.emu.serviceUrl(s.api)}/health`)).json()) as { deploymentId: string };
    expect(body.deploymentId).toBe(second);
    // Listing: newest first, the old one visible as REMOVED with canRollback.
    const r = await gql<{
      deployments: { edges: Array<{ node: { id: string; status: string; canRollback: boolean } }> };
    }>(
      s.emu,
      { project: s.projectToken },
      'query L($input: DeploymentListInput!) { deployments(input: $input) { edges { node { id status canRollback } } } }',
      { input: { projectId: s.projectId, environmentId: s.envId, serviceId: s.api } },
    );
    expect(r.body.data?.deployments.edges.map((e) => e.node)).toEqual([
      { id: second, status: 'SUCCESS', canRollback: true },
      { id: first, status: 'REMOVED', canRollback: true },
    ]);
  });

  it('a newer deployment turns an in-progress one REMOVED (superseded); supersede() does it from outside', async () => {
    const s = await fresh({ apps: false });
    s.emu.scriptDeployment(s.api, { buildMs: 60_000 });
    const slow = await deploy(s);
    await s.emu.waitForStatus(slow, 'BUILDING');
    const newer = s.emu.supersede(s.api);
    const removed = await s.emu.waitForStatus(slow, 'REMOVED');
    expect(removed.history.map((h) => h.status)).toEqual(['INITIALIZING', 'QUEUED', 'BUILDING', 'REMOVED']);
    expect(removed.canRollback).toBe(false);
    await s.emu.waitForStatus(newer, 'SUCCESS');
    expect(s.emu.deploymentsOf(s.api).map((d) => d.id)).toEqual([newer, slow]);
  });

  it('deploymentCancel → REMOVED', async () => {
    const s = await fresh({ apps: false });
    s.emu.scriptDeployment(s.api, { buildMs: 60_000 });
    const id = await deploy(s);
    await s.emu.waitForStatus(id, 'BUILDING');
    const r = await gql(s.emu, { project: s.projectToken }, 'mutation C($id: String!) { deploymentCancel(id: $id) }', {
      id,
    });
    expect(r.body).toEqual({ data: { deploymentCancel: true } });
    expect(s.emu.deployment(id)?.status).toBe('REMOVED');
  });
});

describe('rollback and redeploy', () => {
  it('deploymentRollback returns true and starts a NEW deployment from the target image without a build', async () => {
    const s = await fresh();
    s.emu.scriptDeployment(s.api, { app: { version: 'good' } });
    const good = await deploy(s, s.api, 'a1'.repeat(20));
    await s.emu.waitForStatus(good, 'SUCCESS');
    s.emu.scriptDeployment(s.api, { app: { healthy: false, version: 'bad' } });
    const bad = await deploy(s, s.api, 'b2'.repeat(20));
    await s.emu.waitForStatus(bad, 'SUCCESS');
    expect((await fetch(`${s.emu.serviceUrl(s.api)}/health`)).status).toBe(503);
    await s.emu.waitForStatus(good, 'REMOVED');

    const r = await gql(
      s.emu,
      { project: s.projectToken },
      'mutation R($id: String!) { deploymentRollback(id: $id) }',
      { id: good },
    );
    expect(r.body).toEqual({ data: { deploymentRollback: true } });
    const rollback = s.emu.deploymentsOf(s.api)[0];
    expect(rollback?.id).not.toBe(good);
    expect(rollback?.kind).toBe('rollback');
    expect(rollback?.image).toBe(s.emu.deployment(good)?.image);
    expect(rollback?.meta.commitHash).toBe('a1'.repeat(20));
    const done = await s.emu.waitForStatus(rollback?.id as string, 'SUCCESS');
    expect(done.history.map((h) => h.status)).not.toContain('BUILDING');
    expect(done.events.map((e) => e.step)).not.toContain('BUILD_IMAGE');
    const health = await fetch(`${s.emu.serviceUrl(s.api)}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ deploymentId: rollback?.id, commit: 'a1'.repeat(20) });
    await s.emu.waitForStatus(bad, 'REMOVED');
  });

  it('rollback to a deployment whose image expired (canRollback=false) is an error; deploymentRedeploy rebuilds', async () => {
    const s = await fresh({ apps: false });
    const a = await deploy(s);
    await s.emu.waitForStatus(a, 'SUCCESS');
    const b = await deploy(s);
    await s.emu.waitForStatus(b, 'SUCCESS');
    await s.emu.waitForStatus(a, 'REMOVED');
    s.emu.expireImages(s.api);
    expect(s.emu.deployment(a)?.canRollback).toBe(false);
    expect(s.emu.deployment(b)?.canRollback).toBe(true);
    const count = s.emu.deploymentsOf(s.api).length;
    const r = await gql(
      s.emu,
      { project: s.projectToken },
      'mutation R($id: String!) { deploymentRollback(id: $id) }',
      { id: a },
    );
    expect(r.body.errors?.[0]?.message).toMatch(/cannot be rolled back/);
    expect(s.emu.deploymentsOf(s.api)).toHaveLength(count);

    const re = await gql<{ deploymentRedeploy: { id: string; status: string } }>(
      s.emu,
      { project: s.projectToken },
      'mutation RD($id: String!) { deploymentRedeploy(id: $id) { id status createdAt } }',
      { id: a },
    );
    expect(re.body.errors).toBeUndefined();
    const id = re.body.data?.deploymentRedeploy.id as string;
    expect(re.body.data?.deploymentRedeploy.status).toBe('INITIALIZING');
    const done = await s.emu.waitForStatus(id, 'SUCCESS');
    expect(done.history.map((h) => h.status)).toContain('BUILDING');
    expect(done.commitSha).toBe(s.emu.deployment(a)?.commitSha);
  });

  it('serviceInstanceRedeploy and serviceInstanceDeploy return Boolean and create deployments', async () => {
    const s = await fresh({ apps: false });
    const vars = { environmentId: s.envId, serviceId: s.worker };
    const d1 = await gql(
      s.emu,
      { project: s.projectToken },
      'mutation D($environmentId: String!, $serviceId: String!) { serviceInstanceDeploy(environmentId: $environmentId, serviceId: $serviceId, latestCommit: true) }',
      vars,
    );
    expect(d1.body).toEqual({ data: { serviceInstanceDeploy: true } });
    const d2 = await gql(
      s.emu,
      { project: s.projectToken },
      'mutation D($environmentId: String!, $serviceId: String!) { serviceInstanceRedeploy(environmentId: $environmentId, serviceId: $serviceId) }',
      vars,
    );
    expect(d2.body).toEqual({ data: { serviceInstanceRedeploy: true } });
    const list = s.emu.deploymentsOf(s.worker);
    expect(list.map((d) => d.kind)).toEqual(['redeploy', 'deploy']);
    expect(list[1]?.status).toBe('REMOVED'); // superseded while in progress
  });
});

describe('failures, logs and events', () => {
  it('FAILED build: failure lines in buildLogs, BUILD_IMAGE event with payload.error, previous stays active', async () => {
    const s = await fresh();
    const good = await deploy(s);
    await s.emu.waitForStatus(good, 'SUCCESS');
    s.emu.scriptDeployment(s.api, { outcome: 'FAILED' });
    const bad = await deploy(s);
    await s.emu.waitForStatus(bad, 'FAILED');
    expect(s.emu.activeDeployment(s.api)?.id).toBe(good);
    const logs = await gql<{ buildLogs: Array<{ message: string; timestamp: string; severity: string }> }>(
      s.emu,
      { project: s.projectToken },
      'query B($deploymentId: String!, $limit: Int) { buildLogs(deploymentId: $deploymentId, limit: $limit) { timestamp message severity attributes { key value } } }',
      { deploymentId: bad, limit: 3 },
    );
    const lines = logs.body.data?.buildLogs ?? [];
    expect(lines).toHaveLength(4); // Railway returns limit+1
    expect(lines.at(-1)?.message).toMatch(/^Build Failed/);
    expect(lines.at(-1)?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const events = await gql<{
      deploymentEvents: { edges: Array<{ node: { step: string; payload: { error: string | null } | null } }> };
    }>(
      s.emu,
      { project: s.projectToken },
      'query E($id: String!) { deploymentEvents(id: $id, first: 50) { edges { node { id step createdAt completedAt payload { error durationMs } } } pageInfo { hasNextPage } } }',
      { id: bad },
    );
    const build = events.body.data?.deploymentEvents.edges.find((e) => e.node.step === 'BUILD_IMAGE');
    expect(build?.node.payload?.error).toMatch(/Build Failed/);
    const r = await gql<{ deployment: { status: string; canRollback: boolean; deploymentStopped: boolean } }>(
      s.emu,
      { project: s.projectToken },
      GET_DEPLOYMENT,
      { id: bad },
    );
    expect(r.body.data?.deployment).toMatchObject({ status: 'FAILED', canRollback: false, deploymentStopped: true });
  });

  it('FAILED at HEALTHCHECK: HEALTHCHECK event with payload.error, process stopped, old one keeps serving', async () => {
    const s = await fresh();
    const good = await deploy(s);
    await s.emu.waitForStatus(good, 'SUCCESS');
    s.emu.scriptDeployment(s.api, { outcome: 'FAILED', failAt: 'HEALTHCHECK' });
    const bad = await deploy(s);
    const failed = await s.emu.waitForStatus(bad, 'FAILED');
    expect(failed.history.map((h) => h.status)).toContain('DEPLOYING');
    const hc = failed.events.find((e) => e.step === 'HEALTHCHECK');
    expect(hc?.payload?.error).toMatch(/Healthcheck failed/);
    expect(failed.buildLogs.map((l) => l.message)).toContain('Healthcheck failed!');
    expect(
      ((await (await fetch(`${s.emu.serviceUrl(s.api)}/health`)).json()) as { deploymentId: string }).deploymentId,
    ).toBe(good);
    await until(() => s.emu.runningApps().length === 1, 'failed deployment process to stop');
  });

  it('a service healthcheckPath gates SUCCESS on a 200 from the real process', async () => {
    const s = await fresh({ healthcheckTimeoutMs: 1500 });
    const svc = s.emu.addService(s.projectId, {
      name: 'web',
      source: { repo: 'acme/web' },
      healthcheckPath: '/health',
      app: { healthy: false },
    });
    const id = await deploy(s, svc.id);
    const failed = await s.emu.waitForStatus(id, ['FAILED', 'SUCCESS']);
    expect(failed.status).toBe('FAILED');
    expect(failed.buildLogs.some((l) => /Attempt #1 failed with status 503/.test(l.message))).toBe(true);
    s.emu.scriptDeployment(svc.id, { app: { healthy: true } });
    const ok = await deploy(s, svc.id);
    await s.emu.waitForStatus(ok, 'SUCCESS');
  });

  it('CRASHED: the process exits 1 at start; its output is in deploymentLogs', async () => {
    const s = await fresh();
    s.emu.scriptDeployment(s.api, { outcome: 'CRASHED' });
    const id = await deploy(s);
    await s.emu.waitForStatus(id, 'CRASHED');
    const logs = await gql<{ deploymentLogs: Array<{ message: string; severity: string }> }>(
      s.emu,
      { project: s.projectToken },
      'query L($deploymentId: String!) { deploymentLogs(deploymentId: $deploymentId) { message severity } }',
      { deploymentId: id },
    );
    const text = logs.body.data?.deploymentLogs.map((l) => l.message).join('\n') ?? '';
    expect(text).toMatch(/Cannot find module/);
    expect(text).toMatch(/Process exited with code 1/);
    expect(s.emu.deployment(id)?.instances[0]?.status).toBe('CRASHED');
    expect((await fetch(`${s.emu.serviceUrl(s.api)}/health`)).status).toBe(502);
  });

  it('crashAfterSuccessMs: SUCCESS, then CRASHED later; the service URL then answers 502', async () => {
    const s = await fresh();
    s.emu.scriptDeployment(s.api, { crashAfterSuccessMs: 3000 });
    const id = await deploy(s);
    await s.emu.waitForStatus(id, 'SUCCESS');
    expect((await fetch(`${s.emu.serviceUrl(s.api)}/health`)).status).toBe(200);
    const crashed = await s.emu.waitForStatus(id, 'CRASHED');
    expect(crashed.history.map((h) => h.status).slice(-2)).toEqual(['SUCCESS', 'CRASHED']);
    expect(crashed.canRollback).toBe(true);
    expect((await fetch(`${s.emu.serviceUrl(s.api)}/health`)).status).toBe(502);
  });

  it('NEEDS_APPROVAL waits for deploymentApprove; WAITING waits for resolveWaiting; SKIPPED ends by itself', async () => {
    const s = await fresh({ apps: false });
    s.emu.scriptDeployment(s.api, { outcome: 'NEEDS_APPROVAL' });
    const gated = await deploy(s);
    await s.emu.waitForStatus(gated, 'NEEDS_APPROVAL');
    const approve = await gql(
      s.emu,
      { project: s.projectToken },
      'mutation A($id: String!) { deploymentApprove(id: $id) }',
      { id: gated },
    );
    expect(approve.body).toEqual({ data: { deploymentApprove: true } });
    await s.emu.waitForStatus(gated, 'SUCCESS');

    s.emu.scriptDeployment(s.worker, { outcome: 'WAITING' });
    const waiting = await deploy(s, s.worker);
    await s.emu.waitForStatus(waiting, 'WAITING');
    s.emu.resolveWaiting(waiting, false);
    await s.emu.waitForStatus(waiting, 'SKIPPED');

    s.emu.scriptDeployment(s.worker, { outcome: 'SKIPPED' });
    const skipped = await deploy(s, s.worker);
    const done = await s.emu.waitForStatus(skipped, 'SKIPPED');
    expect(done.history.map((h) => h.status)).toEqual(['INITIALIZING', 'WAITING', 'SKIPPED']);
  });
});

describe('queries', () => {
  it('deployments: cursor pagination both ways, pageInfo, and status in/notIn filters', async () => {
    const s = await fresh({ apps: false, buildMs: 0, deployMs: 0, tickMs: 5 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = await deploy(s, s.worker);
      await s.emu.waitForStatus(id, 'SUCCESS');
      ids.unshift(id);
    }
    type Page = {
      deployments: {
        edges: Array<{ cursor: string; node: { id: string; status: string } }>;
        pageInfo: {
          hasNextPage: boolean;
          hasPreviousPage: boolean;
          endCursor: string | null;
          startCursor: string | null;
        };
      };
    };
    const LIST =
      'query L($input: DeploymentListInput!, $first: Int, $after: String, $last: Int, $before: String) { deployments(input: $input, first: $first, after: $after, last: $last, before: $before) { edges { cursor node { id status } } pageInfo { hasNextPage hasPreviousPage endCursor startCursor } } }';
    const input = { projectId: s.projectId, environmentId: s.envId, serviceId: s.worker };
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const r: GqlResponse<Page> = await gql<Page>(s.emu, { project: s.projectToken }, LIST, {
        input,
        first: 2,
        after,
      });
      const conn = r.body.data?.deployments;
      seen.push(...(conn?.edges.map((e) => e.node.id) ?? []));
      if (!conn?.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual(ids);
    const back = await gql<Page>(s.emu, { project: s.projectToken }, LIST, {
      input,
      last: 2,
      before: (await gql<Page>(s.emu, { project: s.projectToken }, LIST, { input, first: 3 })).body.data?.deployments
        .pageInfo.endCursor,
    });
    expect(back.body.data?.deployments.edges.map((e) => e.node.id)).toEqual(ids.slice(0, 2));
    expect(back.body.data?.deployments.pageInfo.hasPreviousPage).toBe(false);
    const success = await gql<Page>(s.emu, { project: s.projectToken }, LIST, {
      input: { ...input, status: { in: ['SUCCESS'] } },
    });
    expect(success.body.data?.deployments.edges.map((e) => e.node.id)).toEqual([ids[0]]);
    const notRemoved = await gql<Page>(s.emu, { project: s.projectToken }, LIST, {
      input: { ...input, status: { notIn: ['REMOVED', 'REMOVING'] } },
    });
    expect(notRemoved.body.data?.deployments.edges.map((e) => e.node.id)).toEqual([ids[0]]);
  });

  it('serviceInstance (latestDeployment, activeDeployments, source, domains) and domains', async () => {
    const s = await fresh({ apps: false });
    const id = await deploy(s);
    await s.emu.waitForStatus(id, 'SUCCESS');
    const r = await gql<{
      serviceInstance: {
        serviceName: string;
        source: { repo: string };
        latestDeployment: { id: string };
        activeDeployments: Array<{ id: string }>;
        domains: { serviceDomains: Array<{ domain: string }> };
      };
    }>(
      s.emu,
      { project: s.projectToken },
      'query S($e: String!, $s: String!) { serviceInstance(environmentId: $e, serviceId: $s) { id serviceName healthcheckPath restartPolicyType source { repo image } latestDeployment { id status } activeDeployments { id status } domains { serviceDomains { domain } customDomains { domain } } } }',
      { e: s.envId, s: s.api },
    );
    expect(r.body.errors).toBeUndefined();
    const si = r.body.data?.serviceInstance;
    expect(si).toMatchObject({
      serviceName: 'api',
      source: { repo: 'acme/shop' },
      latestDeployment: { id },
      activeDeployments: [{ id }],
    });
    expect(si?.domains.serviceDomains[0]?.domain).toMatch(/\.up\.railway\.app$/);
    const d = await gql<{
      domains: { serviceDomains: Array<{ domain: string; serviceId: string }>; customDomains: unknown[] };
    }>(
      s.emu,
      { project: s.projectToken },
      'query D($environmentId: String!, $projectId: String!, $serviceId: String!) { domains(environmentId: $environmentId, projectId: $projectId, serviceId: $serviceId) { serviceDomains { id domain serviceId } customDomains { id domain } } }',
      { environmentId: s.envId, projectId: s.projectId, serviceId: s.api },
    );
    expect(d.body.data?.domains).toEqual({
      serviceDomains: [
        { id: expect.any(String) as string, domain: si?.domains.serviceDomains[0]?.domain, serviceId: s.api },
      ],
      customDomains: [],
    });
  });

  it('variableCollectionUpsert stores variables, redeploys unless skipDeploys, and a rollback restores the old variables', async () => {
    const s = await fresh({ apps: false });
    const first = await deploy(s, s.worker);
    await s.emu.waitForStatus(first, 'SUCCESS');
    const UPSERT = 'mutation V($input: VariableCollectionUpsertInput!) { variableCollectionUpsert(input: $input) }';
    const base = { projectId: s.projectId, environmentId: s.envId, serviceId: s.worker };
    const quiet = await gql(s.emu, { project: s.projectToken }, UPSERT, {
      input: { ...base, variables: { APP_GIT_SHA: 'abc' }, skipDeploys: true },
    });
    expect(quiet.body).toEqual({ data: { variableCollectionUpsert: true } });
    expect(s.emu.deploymentsOf(s.worker)).toHaveLength(1);
    expect(s.emu.variables(s.worker)).toEqual({ APP_GIT_SHA: 'abc' });
    await gql(s.emu, { project: s.projectToken }, UPSERT, { input: { ...base, variables: { FEATURE: 'on' } } });
    const redeploy = s.emu.deploymentsOf(s.worker)[0];
    expect(redeploy?.kind).toBe('variables');
    expect(redeploy?.variables).toEqual({ APP_GIT_SHA: 'abc', FEATURE: 'on' });
    await s.emu.waitForStatus(redeploy?.id as string, 'SUCCESS');
    await gql(s.emu, { project: s.projectToken }, 'mutation R($id: String!) { deploymentRollback(id: $id) }', {
      id: first,
    });
    expect(s.emu.deploymentsOf(s.worker)[0]?.variables).toEqual({});
  });

  it('a subscription operation over HTTP is refused', async () => {
    const s = await fresh({ apps: false });
    const r = await gql(
      s.emu,
      { project: s.projectToken },
      'subscription S($id: String!) { deployment(id: $id) { status } }',
      { id: 'x' },
    );
    expect(r.body.errors?.[0]?.message).toMatch(/WebSocket/);
  });
});

describe('faults and rate limits', () => {
  it('X-RateLimit-* headers on every response; rateLimitNext → 429 + Retry-After', async () => {
    const s = await fresh({ apps: false });
    const a = await gql(s.emu, { project: s.projectToken }, 'query { projectToken { id } }');
    const b = await gql(s.emu, { project: s.projectToken }, 'query { projectToken { id } }');
    expect(a.headers.get('x-ratelimit-limit')).toBe('1000');
    expect(Number(a.headers.get('x-ratelimit-remaining')) - Number(b.headers.get('x-ratelimit-remaining'))).toBe(1);
    expect(Number(a.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    s.emu.faults.rateLimitNext(1, 7);
    const limited = await fetch(s.emu.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Project-Access-Token': s.projectToken },
      body: JSON.stringify({ query: '{ projectToken { id } }' }),
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    await limited.text();
    expect((await gql(s.emu, { project: s.projectToken }, 'query { projectToken { id } }')).status).toBe(200);
    expect(s.emu.requests.map((r) => r.httpStatus)).toEqual([200, 200, 429, 200]);
  });

  it('an exhausted hourly budget answers 429 with Retry-After until the window resets', async () => {
    const s = await fresh({ apps: false, rateLimitPerHour: 2 });
    await gql(s.emu, { project: s.projectToken }, 'query { projectToken { id } }');
    await gql(s.emu, { project: s.projectToken }, 'query { projectToken { id } }');
    const res = await fetch(s.emu.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ projectToken { id } }' }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    await res.text();
  });

  it('failNext → 5xx with a non-JSON body; hangNext → no answer until the client gives up', async () => {
    const s = await fresh({ apps: false });
    s.emu.faults.failNext(2, 502);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(s.emu.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"{ projectToken { id } }"}',
      });
      expect(res.status).toBe(502);
      expect(res.headers.get('x-ratelimit-limit')).toBe('1000');
      const text = await res.text();
      expect(() => JSON.parse(text) as unknown).toThrow();
    }
    s.emu.faults.hangNext(1);
    await expect(
      fetch(s.emu.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"{ projectToken { id } }"}',
        signal: AbortSignal.timeout(300),
      }),
    ).rejects.toThrow();
    expect((await gql(s.emu, { project: s.projectToken }, 'query { projectToken { id } }')).status).toBe(200);
    expect(s.emu.requests.map((r) => r.httpStatus)).toEqual([502, 502, 0, 200]);
  });
});

/** A graphql-ws client; auth either on the upgrade request headers (like the CLI) or in connection_init. */
function wsClient(
  s: Seed,
  auth: { headers?: Record<string, string>; params?: Record<string, string> },
  onClosed?: (code: number) => void,
): Client {
  const headers = auth.headers ?? {};
  class HeaderSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  return createClient({
    url: s.emu.url.replace(/^http/, 'ws'),
    webSocketImpl: HeaderSocket,
    connectionParams: auth.params,
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => onClosed?.((event as { code: number }).code) },
  });
}

function subscribeStatuses(
  client: Client,
  id: string,
): { statuses: string[]; errors: unknown[]; done: Promise<void>; dispose: () => void } {
  const statuses: string[] = [];
  const errors: unknown[] = [];
  let dispose: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    dispose = client.subscribe<{ deployment: { id: string; status: string } }>(
      {
        query: 'subscription Deployment($id: String!) { deployment(id: $id) { id status deploymentStopped } }',
        variables: { id },
      },
      {
        next: (v) => {
          const status = v.data?.deployment.status;
          if (status && statuses.at(-1) !== status) statuses.push(status);
          if (v.errors) errors.push(...v.errors);
        },
        error: (e) => {
          errors.push(e);
          resolve();
        },
        complete: resolve,
      },
    );
  });
  return { statuses, errors, done, dispose };
}

describe('WebSocket subscriptions (graphql-transport-ws)', () => {
  it('the deployment subscription pushes every status change (auth from upgrade headers)', async () => {
    const s = await fresh();
    const client = wsClient(s, { headers: { 'project-access-token': s.projectToken } });
    try {
      const id = await deploy(s);
      const sub = subscribeStatuses(client, id);
      await until(() => sub.statuses.at(-1) === 'SUCCESS', 'SUCCESS over the subscription');
      expect(sub.errors).toEqual([]);
      const history = s.emu.deployment(id)?.history.map((h) => h.status) ?? [];
      // The first message is the current state; from there every transition arrives.
      expect(history.slice(history.indexOf(sub.statuses[0] as never))).toEqual(sub.statuses);
      expect(
        s.emu.requests.some(
          (r) =>
            r.transport === 'ws' &&
            r.operationName === 'Deployment' &&
            r.headers['project-access-token'] === s.projectToken,
        ),
      ).toBe(true);
      sub.dispose();
    } finally {
      await client.dispose();
    }
  });

  it('auth from the connection_init payload; a bad token yields an error, not data', async () => {
    const s = await fresh({ apps: false });
    const id = await deploy(s, s.worker);
    const good = wsClient(s, { params: { Authorization: `Bearer ${s.accountToken}` } });
    const bad = wsClient(s, { params: { 'Project-Access-Token': s.accountToken } });
    try {
      const ok = subscribeStatuses(good, id);
      await until(() => ok.statuses.at(-1) === 'SUCCESS', 'SUCCESS via account token');
      ok.dispose();
      const refused = subscribeStatuses(bad, id);
      await refused.done;
      expect(JSON.stringify(refused.errors)).toMatch(/Project Token not found/);
      expect(refused.statuses).toEqual([]);
    } finally {
      await good.dispose();
      await bad.dispose();
    }
  });

  it('dropSockets closes connections abnormally; disableWebSocket refuses upgrades', async () => {
    const s = await fresh({ apps: false });
    s.emu.scriptDeployment(s.worker, { buildMs: 60_000 });
    const id = await deploy(s, s.worker);
    let closeCode = 0;
    const client = wsClient(
      s,
      { headers: { Authorization: `Bearer ${s.accountToken}` } },
      (code) => (closeCode = code),
    );
    try {
      const sub = subscribeStatuses(client, id);
      await until(() => sub.statuses.length > 0 && s.emu.openSockets() === 1, 'an open subscription');
      s.emu.faults.dropSockets();
      await sub.done;
      expect(closeCode).toBe(1006);
      expect(sub.errors.length).toBeGreaterThan(0);
    } finally {
      await client.dispose();
    }
    s.emu.faults.disableWebSocket(true);
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(s.emu.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      ws.on('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`));
      ws.on('open', () => resolve('open'));
      ws.on('error', () => resolve('error'));
    });
    expect(refused).toBe('HTTP 503');
    s.emu.faults.disableWebSocket(false);
  });

  it('buildLogs subscription streams build lines as they are written', async () => {
    const s = await fresh({ apps: false, buildMs: 300 });
    const id = await deploy(s, s.worker);
    const client = wsClient(s, { headers: { 'project-access-token': s.projectToken } });
    const messages: string[] = [];
    try {
      const dispose = client.subscribe<{ buildLogs: Array<{ message: string }> }>(
        {
          query:
            'subscription BuildLogs($deploymentId: String!, $filter: String, $limit: Int) { buildLogs(deploymentId: $deploymentId, filter: $filter, limit: $limit) { timestamp message attributes { key value } } }',
          variables: { deploymentId: id },
        },
        {
          next: (v) => messages.push(...(v.data?.buildLogs.map((l) => l.message) ?? [])),
          error: () => undefined,
          complete: () => undefined,
        },
      );
      await until(() => messages.some((m) => m.startsWith('Build time')), 'the end of the build over the subscription');
      expect(messages).toEqual(
        s.emu
          .deployment(id)
          ?.buildLogs.map((l) => l.message)
          .slice(0, messages.length),
      );
      dispose();
    } finally {
      await client.dispose();
    }
  });
});

async function tarball(files: Record<string, string>): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-up-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), content);
    }
    const chunks: Buffer[] = [];
    const stream = tar.c({ gzip: true, cwd: dir, portable: true }, ['.']);
    for await (const chunk of stream) chunks.push(chunk);
    return Buffer.concat(chunks);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('/up tarball upload', () => {
  async function up(
    s: Seed,
    body: Buffer | string,
    opts: { token?: Record<string, string>; contentType?: string; serviceId?: string; env?: string } = {},
  ): Promise<Response> {
    const url = `${s.emu.origin}/project/${s.projectId}/environment/${opts.env ?? s.envId}/up?serviceId=${opts.serviceId ?? s.api}`;
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': opts.contentType ?? 'application/gzip',
        ...(opts.token ?? { 'project-access-token': s.projectToken }),
      },
      body,
    });
  }

  it('accepts a gzip tarball, records its files and creates a deployment (no git commit in the app env)', async () => {
    const s = await fresh();
    s.emu.scriptDeployment(s.api, { app: { version: 'upload-1' } });
    const res = await up(
      s,
      await tarball({ 'package.json': '{}', 'src/index.ts': 'export {}', '.railwayignore': 'tmp' }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit')).toBe('1000');
    const body = (await res.json()) as { deploymentId: string; url: string; logsUrl: string; deploymentDomain: string };
    expect(Object.keys(body).sort()).toEqual(['deploymentDomain', 'deploymentId', 'logsUrl', 'url']);
    expect(body.deploymentDomain).toMatch(/\.up\.railway\.app$/);
    expect(s.emu.uploads).toHaveLength(1);
    expect(s.emu.uploads[0]?.files.sort()).toEqual(['.railwayignore', 'package.json', 'src/index.ts']);
    expect(s.emu.uploads[0]).toMatchObject({ serviceId: s.api, deploymentId: body.deploymentId });
    await s.emu.waitForStatus(body.deploymentId, 'SUCCESS');
    const health = (await (await fetch(`${s.emu.serviceUrl(s.api)}/health`)).json()) as {
      deploymentId: string;
      commit: string;
    };
    expect(health).toMatchObject({ deploymentId: body.deploymentId, commit: 'upload-1' });
  });

  it('bad input → 400 JSON {message}; too large → 413; bad auth → errors; failNextUpload → 5xx', async () => {
    const s = await fresh({ apps: false, uploadLimitBytes: 2048 });
    const tgz = await tarball({ 'a.txt': 'a' });
    const wrongType = await up(s, tgz, { contentType: 'application/octet-stream' });
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { message: string }).message).toMatch(/application\/gzip/);
    const garbage = await up(s, 'definitely not gzip');
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { message: string }).message).toMatch(/gzip/);
    const truncated = await up(s, tgz.subarray(0, 20));
    expect(truncated.status).toBe(400);
    expect(await truncated.json()).toHaveProperty('message');
    const big = await up(s, Buffer.concat([tgz, Buffer.alloc(4096)]));
    expect(big.status).toBe(413);
    await big.text();
    const accountAsProject = await up(s, tgz, { token: { 'project-access-token': s.accountToken } });
    expect(accountAsProject.status).toBe(401);
    expect(((await accountAsProject.json()) as { message: string }).message).toMatch(/Project Token not found/);
    const otherEnv = await up(s, tgz, { env: s.stagingId });
    expect(otherEnv.status).toBe(403);
    await otherEnv.text();
    s.emu.faults.failNextUpload(1, 503);
    const failed = await up(s, tgz);
    expect(failed.status).toBe(503);
    await failed.text();
    expect(s.emu.uploads).toHaveLength(0);
    expect(s.emu.deploymentsOf(s.api)).toHaveLength(0);
    const ok = await up(s, tgz, { token: { authorization: `Bearer ${s.accountToken}` } });
    expect(ok.status).toBe(200);
    await ok.text();
  });
});

describe('app processes and the service URL', () => {
  it('serviceUrl answers 502 before anything is deployed', async () => {
    const s = await fresh();
    const res = await fetch(`${s.emu.serviceUrl(s.api)}/health`);
    expect(res.status).toBe(502);
    expect(s.emu.serviceUrl(s.api)).toBe(s.emu.serviceUrl(s.api));
  });

  it('AppBehaviour: unhealthy status, flapping, slow start, live changes', async () => {
    const s = await fresh();
    s.emu.scriptDeployment(s.api, { app: { flapEvery: 3, startDelayMs: 300, version: 'v7' } });
    const id = await deploy(s);
    const d = await s.emu.waitForStatus(id, 'SUCCESS');
    // DEPLOYING lasted at least the boot delay: SUCCESS only once the process answered.
    const deploying = d.history.find((h) => h.status === 'DEPLOYING')?.at ?? 0;
    expect((d.history.at(-1)?.at ?? 0) - deploying).toBeGreaterThanOrEqual(250);
    const url = `${s.emu.serviceUrl(s.api)}/health`;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetch(url)).status);
    expect(statuses).toEqual([200, 200, 503, 200, 200, 503]);
    s.emu.setAppBehaviour(id, { healthy: false, healthStatus: 500, flapEvery: 0 });
    await until(async () => (await fetch(url)).status === 500, 'the live change');
    const body = (await (await fetch(url)).json()) as { status: string; commit: string };
    expect(body).toMatchObject({ status: 'error', commit: s.emu.deployment(id)?.commitSha });
  });

  it('a process that never opens its port fails the deployment after startTimeoutMs and is stopped', async () => {
    const s = await fresh({ startTimeoutMs: 500 });
    s.emu.scriptDeployment(s.api, { app: { startDelayMs: 60_000 } });
    const id = await deploy(s);
    const d = await s.emu.waitForStatus(id, ['FAILED', 'SUCCESS']);
    expect(d.status).toBe('FAILED');
    expect(d.events.find((e) => e.step === 'CREATE_CONTAINER')?.payload?.error).toMatch(/never opened its port/);
    await until(() => s.emu.runningApps().length === 0, 'the process to be stopped');
  });

  it('app.mjs exits when its control pipe closes, so a killed test runner leaves no orphans', async () => {
    // A parent that starts the app like the emulator does, then dies by SIGKILL without cleanup.
    const appPath = path.resolve('test/railway-emulator/app.mjs');
    const parentCode = `const { spawn } = require('node:child_process');
const child = spawn(process.execPath, [${JSON.stringify(appPath)}], { env: { PATH: process.env.PATH, PORT: '0', APP_CONTROL_STDIN: '1' }, stdio: ['pipe', 'inherit', 'inherit'] });
console.log('CHILD ' + child.pid);
setInterval(() => {}, 1000);`;
    const { spawn } = await import('node:child_process');
    const parent = spawn(process.execPath, ['-e', parentCode], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const childPid = Number(
      await until(() => /listening on/.test(out) && /CHILD (\d+)/.exec(out)?.[1], 'the app to listen'),
    );
    expect(pidAlive(childPid)).toBe(true);
    parent.kill('SIGKILL');
    await until(() => !pidAlive(childPid), 'the orphaned app to exit', 10_000);
  });

  it('close() stops every app process and servers', async () => {
    const s = await seed();
    const a = await deploy(s);
    await s.emu.waitForStatus(a, 'SUCCESS');
    s.emu.scriptDeployment(s.api, { buildMs: 0, app: { startDelayMs: 60_000 } });
    const b = await deploy(s);
    await s.emu.waitForStatus(b, 'DEPLOYING');
    await until(() => s.emu.runningApps().length === 2, 'both processes');
    const pids = s.emu.runningApps().map((x) => x.pid);
    const proxy = s.emu.serviceUrl(s.api);
    await s.emu.close();
    expect(pids.filter(pidAlive)).toEqual([]);
    await expect(fetch(s.emu.url, { method: 'POST', body: '{}' })).rejects.toThrow();
    await expect(fetch(proxy)).rejects.toThrow();
  });
});

describe.skipIf(!railwaySchemaAvailable())(
  "every operation sent in these tests is valid against Railway's real schema",
  () => {
    it('validateAgainstRailwaySchema(emulator.requests[].query) is clean for well-formed operations', async () => {
      const s = await fresh();
      const id = await deploy(s);
      await s.emu.waitForStatus(id, 'SUCCESS');
      await gql(s.emu, { project: s.projectToken }, GET_DEPLOYMENT, { id });
      await gql(s.emu, { project: s.projectToken }, 'mutation R($id: String!) { deploymentRollback(id: $id) }', { id });
      const client = wsClient(s, { headers: { 'project-access-token': s.projectToken } });
      const sub = subscribeStatuses(client, id);
      await until(() => sub.statuses.length > 0, 'a subscription message');
      await client.dispose();
      expect(s.emu.requests.length).toBe(4);
      for (const r of s.emu.requests) expect(validateAgainstRailwaySchema(r.query), r.query).toEqual([]);
      // …and the emulator rejects what Railway rejects, citing Railway's schema too.
      expect(validateAgainstRailwaySchema('mutation { deploymentRollback(id: "x") { id } }')).not.toEqual([]);
    });
  },
);

describe('more Railway shapes', () => {
  it('image services: meta.image, no build, /health reports the app version', async () => {
    const s = await fresh();
    const img = s.emu.addService(s.projectId, {
      name: 'img',
      source: { image: 'ghcr.io/acme/img:1.2.3' },
      app: { version: '1.2.3' },
    });
    const id = await deploy(s, img.id);
    const d = await s.emu.waitForStatus(id, 'SUCCESS');
    expect(d.meta.image).toBe('ghcr.io/acme/img:1.2.3');
    expect(d.meta.commitHash).toBeUndefined();
    expect(d.history.map((h) => h.status)).not.toContain('BUILDING');
    const body = (await (await fetch(`${s.emu.serviceUrl(img.id)}/health`)).json()) as {
      commit: string;
      deploymentId: string;
    };
    expect(body).toMatchObject({ commit: '1.2.3', deploymentId: id });
  });

  it('serviceInstanceUpdate points an image service at a new tag (no deploy by itself); rollback restores the old image', async () => {
    const s = await fresh();
    const img = s.emu.addService(s.projectId, { name: 'img', source: { image: 'ghcr.io/acme/img:v1' } });
    const v1 = await deploy(s, img.id);
    await s.emu.waitForStatus(v1, 'SUCCESS');
    const upd = await gql(
      s.emu,
      { project: s.projectToken },
      'mutation U($environmentId: String!, $serviceId: String!, $image: String!) { serviceInstanceUpdate(environmentId: $environmentId, serviceId: $serviceId, input: { source: { image: $image } }) }',
      { environmentId: s.envId, serviceId: img.id, image: 'ghcr.io/acme/img:v2' },
    );
    expect(upd.body).toEqual({ data: { serviceInstanceUpdate: true } });
    expect(s.emu.deploymentsOf(img.id)).toHaveLength(1);
    const v2 = await deploy(s, img.id);
    const d2 = await s.emu.waitForStatus(v2, 'SUCCESS');
    expect(d2.meta.image).toBe('ghcr.io/acme/img:v2');
    const url = `${s.emu.serviceUrl(img.id)}/health`;
    expect(await (await fetch(url)).json()).toMatchObject({
      deploymentId: v2,
      commit: 'v2',
      image: 'ghcr.io/acme/img:v2',
    });
    await s.emu.waitForStatus(v1, 'REMOVED');
    await gql(s.emu, { project: s.projectToken }, 'mutation R($id: String!) { deploymentRollback(id: $id) }', {
      id: v1,
    });
    const back = s.emu.deploymentsOf(img.id)[0];
    await s.emu.waitForStatus(back?.id as string, 'SUCCESS');
    expect(back?.meta.image).toBe('ghcr.io/acme/img:v1');
    expect(await (await fetch(url)).json()).toMatchObject({ deploymentId: back?.id, commit: 'v1' });
  });

  it('a fresh domain answers 404 first (serviceUrlAnswerNext); a sleeping service wakes with one 502', async () => {
    const s = await fresh();
    const id = await deploy(s);
    await s.emu.waitForStatus(id, 'SUCCESS');
    const url = `${s.emu.serviceUrl(s.api)}/health`;
    s.emu.faults.serviceUrlAnswerNext(s.api, 2);
    expect([(await fetch(url)).status, (await fetch(url)).status, (await fetch(url)).status]).toEqual([404, 404, 200]);
    s.emu.sleepService(s.api);
    const r = await gql<{ deployment: { status: string } }>(s.emu, { project: s.projectToken }, GET_DEPLOYMENT, { id });
    expect(r.body.data?.deployment.status).toBe('SLEEPING');
    expect((await fetch(url)).status).toBe(502);
    expect(s.emu.deployment(id)?.status).toBe('SUCCESS');
    expect((await fetch(url)).status).toBe(200);
  });

  it('staleRoutingMs: after the new deployment is SUCCESS the old version still answers for a while', async () => {
    const s = await fresh();
    const old = await deploy(s);
    await s.emu.waitForStatus(old, 'SUCCESS');
    s.emu.scriptDeployment(s.api, { staleRoutingMs: 4000 });
    const fresh2 = await deploy(s);
    await s.emu.waitForStatus(fresh2, 'SUCCESS');
    const url = `${s.emu.serviceUrl(s.api)}/health`;
    const first = (await (await fetch(url)).json()) as { deploymentId: string };
    expect(first.deploymentId).toBe(old);
    expect(s.emu.activeDeployment(s.api)?.id).toBe(fresh2);
    await s.emu.waitForStatus(old, 'REMOVED');
    const later = (await (await fetch(url)).json()) as { deploymentId: string };
    expect(later.deploymentId).toBe(fresh2);
  });

  it('WebSocket operations are validated too: an unknown field is an error', async () => {
    const s = await fresh({ apps: false });
    const client = wsClient(s, { headers: { 'project-access-token': s.projectToken } });
    try {
      const errors = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: 'subscription { deployment(id: "x") { id cancelled } }' },
          { next: () => undefined, error: resolve, complete: () => resolve(null) },
        );
      });
      expect(JSON.stringify(errors)).toMatch(/Cannot query field \\"cancelled\\"/);
    } finally {
      await client.dispose();
    }
  });
});

// ---------- behaviours of the real platform (sources cited in the emulator), pinned down with plain fetch ----------

describe('workspaces and token kinds', () => {
  const PROJECTS =
    'query P($workspaceId: String) { projects(workspaceId: $workspaceId) { edges { node { id name workspaceId } } } }';
  const names = (r: GqlResponse<{ projects: { edges: Array<{ node: { name: string } }> } }>): string[] =>
    (r.body.data?.projects.edges ?? []).map((e) => e.node.name).sort();

  it("projects without workspaceId lists only personal projects; with it, that workspace's; apiToken names the workspaces", async () => {
    const s = await fresh({ apps: false });
    const acme = s.emu.addWorkspace({ name: 'acme' });
    const other = s.emu.addWorkspace({ name: 'not-mine', member: false });
    s.emu.addProject({ name: 'team-app', workspaceId: acme.id });
    s.emu.addProject({ name: 'foreign', workspaceId: other.id });
    const account = { bearer: s.accountToken };
    expect(names(await gql(s.emu, account, PROJECTS))).toEqual(['shop']);
    expect(names(await gql(s.emu, account, PROJECTS, { workspaceId: acme.id }))).toEqual(['team-app']);
    expect((await gql(s.emu, account, PROJECTS, { workspaceId: other.id })).body.errors?.[0]?.message).toBe(
      'Not Authorized',
    );
    const tokens = await gql<{ apiToken: { workspaces: Array<{ name: string }> } }>(
      s.emu,
      account,
      'query { apiToken { workspaces { id name } } }',
    );
    expect(tokens.body.data?.apiToken.workspaces.map((w) => w.name)).toEqual(['acme']);
  });

  it('a workspace token sees its workspace only: no personal projects, no `me`, Not Authorized elsewhere', async () => {
    const s = await fresh({ apps: false });
    const acme = s.emu.addWorkspace({ name: 'acme' });
    const teamApp = s.emu.addProject({ name: 'team-app', workspaceId: acme.id });
    const ws = { bearer: s.emu.workspaceToken(acme.id) };
    expect((await gql(s.emu, ws, PROJECTS)).body.errors?.[0]?.message).toBe('Not Authorized');
    expect(names(await gql(s.emu, ws, PROJECTS, { workspaceId: acme.id }))).toEqual(['team-app']);
    expect((await gql(s.emu, ws, 'query { me { id } }')).body.errors?.[0]?.message).toBe('Not Authorized');
    const tokens = await gql<{ apiToken: { workspaces: Array<{ id: string }> } }>(
      s.emu,
      ws,
      'query { apiToken { workspaces { id name } } }',
    );
    expect(tokens.body.data?.apiToken.workspaces).toEqual([{ id: acme.id, name: 'acme' }]);
    const q = 'query P($id: String!) { project(id: $id) { id name workspaceId } }';
    expect((await gql(s.emu, ws, q, { id: teamApp.id })).body.data).toEqual({
      project: { id: teamApp.id, name: 'team-app', workspaceId: acme.id },
    });
    expect((await gql(s.emu, ws, q, { id: s.projectId })).body.errors?.[0]?.message).toBe('Not Authorized');
    // A project token cannot introspect an API token.
    expect(
      (await gql(s.emu, { project: s.projectToken }, 'query { apiToken { workspaces { id } } }')).body.errors?.[0]
        ?.message,
    ).toBe('Not Authorized');
  });
});

describe('GitHub autodeploy, watch paths and the deployed commit', () => {
  const STATUS =
    'query A($p: String!, $e: String!, $s: String!) { serviceInstanceAutoDeployStatus(projectId: $p, environmentId: $e, serviceId: $s) { enabled canEnable reason } }';

  it("a repo-connected service autodeploys by default; a push starts Railway's own deployment of that commit", async () => {
    const s = await fresh({ apps: false });
    const status = await gql<{ serviceInstanceAutoDeployStatus: { enabled: boolean } }>(
      s.emu,
      { project: s.projectToken },
      STATUS,
      { p: s.projectId, e: s.envId, s: s.worker },
    );
    expect(status.body.data?.serviceInstanceAutoDeployStatus).toEqual({
      enabled: true,
      canEnable: false,
      reason: null,
    });
    const sha = 'a'.repeat(40);
    const id = await s.emu.push(s.worker, sha);
    const d = await s.emu.waitForStatus(id ?? '', 'SUCCESS');
    expect(d).toMatchObject({ kind: 'github', commitSha: sha, meta: { commitHash: sha, branch: 'main' } });
    expect(await s.emu.push(s.worker, 'b'.repeat(40), { branch: 'feature' })).toBeNull();
    s.emu.setAutoDeploy(s.worker, false);
    expect(await s.emu.push(s.worker, 'c'.repeat(40))).toBeNull();
    const off = await gql<{ serviceInstanceAutoDeployStatus: { enabled: boolean } }>(
      s.emu,
      { project: s.projectToken },
      STATUS,
      { p: s.projectId, e: s.envId, s: s.worker },
    );
    expect(off.body.data?.serviceInstanceAutoDeployStatus.enabled).toBe(false);
    const img = s.emu.addService(s.projectId, { name: 'img', source: { image: 'nginx:1' }, app: false });
    const imgStatus = await gql<{ serviceInstanceAutoDeployStatus: unknown }>(
      s.emu,
      { project: s.projectToken },
      STATUS,
      { p: s.projectId, e: s.envId, s: img.id },
    );
    expect(imgStatus.body.data?.serviceInstanceAutoDeployStatus).toMatchObject({ enabled: false, canEnable: false });
  });

  it('serviceInstanceDeployV2 without commitSha deploys the commit the service already runs, not the pushed head', async () => {
    const s = await fresh({ apps: false });
    s.emu.setAutoDeploy(s.worker, false);
    const first = await deploy(s, s.worker, '1'.repeat(40));
    await s.emu.waitForStatus(first, 'SUCCESS');
    await s.emu.push(s.worker, '2'.repeat(40));
    const again = await deploy(s, s.worker);
    expect(s.emu.deployment(again)?.commitSha).toBe('1'.repeat(40));
    const latest = await gql(
      s.emu,
      { project: s.projectToken },
      'mutation L($e: String!, $s: String!) { serviceInstanceDeploy(environmentId: $e, serviceId: $s, latestCommit: true) }',
      { e: s.envId, s: s.worker },
    );
    expect(latest.body.data).toEqual({ serviceInstanceDeploy: true });
    expect(s.emu.deploymentsOf(s.worker)[0]?.commitSha).toBe('2'.repeat(40));
  });

  it('watch paths: a push touching none of them ends SKIPPED with "No changed files matched patterns" and replaces nothing', async () => {
    const s = await fresh({ apps: false });
    const mono = s.emu.addService(s.projectId, {
      name: 'mono',
      source: { repo: 'acme/mono' },
      app: false,
      watchPatterns: ['/apps/api/**'],
    });
    const live = await s.emu.push(mono.id, 'd'.repeat(40), { changedFiles: ['apps/api/src/index.ts'] });
    await s.emu.waitForStatus(live ?? '', 'SUCCESS');
    const skipped = await s.emu.push(mono.id, 'e'.repeat(40), { changedFiles: ['docs/README.md'] });
    await s.emu.waitForStatus(skipped ?? '', 'SKIPPED');
    const logs = await gql<{ buildLogs: Array<{ message: string }> }>(
      s.emu,
      { project: s.projectToken },
      'query B($id: String!) { buildLogs(deploymentId: $id) { message } }',
      { id: skipped },
    );
    expect(logs.body.data?.buildLogs.map((l) => l.message)).toEqual([
      'No changed files matched patterns: /apps/api/**',
    ]);
    expect(s.emu.activeDeployment(mono.id)?.id).toBe(live);
    s.emu.scriptDeployment(mono.id, { outcome: 'SKIPPED', skipReason: 'watch-paths' });
    const scripted = await deploy(s, mono.id, 'f'.repeat(40));
    expect((await s.emu.waitForStatus(scripted, 'SKIPPED')).history.map((h) => h.status)).toEqual([
      'INITIALIZING',
      'SKIPPED',
    ]);
  });
});

describe('registration lag, canRollback of the active deployment, domains, Root Directory, per-environment image', () => {
  it('registrationLagMs: a fresh deployment is "not found" and unlisted for a while, then readable', async () => {
    const s = await fresh({ apps: false, registrationLagMs: 400 });
    const id = await deploy(s, s.worker);
    const early = await gql(s.emu, { project: s.projectToken }, GET_DEPLOYMENT, { id });
    expect(early.body.errors?.[0]?.message).toBe('Deployment not found');
    const list = 'query L($input: DeploymentListInput!) { deployments(input: $input) { edges { node { id } } } }';
    const listed = await gql<{ deployments: { edges: unknown[] } }>(s.emu, { project: s.projectToken }, list, {
      input: { serviceId: s.worker },
    });
    expect(listed.body.data?.deployments.edges).toEqual([]);
    await new Promise((r) => setTimeout(r, 450));
    expect((await gql(s.emu, { project: s.projectToken }, GET_DEPLOYMENT, { id })).body.errors).toBeUndefined();
  });

  it('activeCanRollback: false hides canRollback on the active deployment only', async () => {
    const s = await fresh({ apps: false, activeCanRollback: false });
    const a = await deploy(s, s.worker);
    await s.emu.waitForStatus(a, 'SUCCESS');
    const read = async (id: string) =>
      (await gql<{ deployment: { canRollback: boolean } }>(s.emu, { project: s.projectToken }, GET_DEPLOYMENT, { id }))
        .body.data?.deployment.canRollback;
    expect(await read(a)).toBe(false);
    const b = await deploy(s, s.worker);
    await s.emu.waitForStatus(a, 'REMOVED');
    expect([await read(a), await read(b)]).toEqual([true, false]);
  });

  it('a custom domain is listed with status.verified; the /up answer names the dashboard in url and the app in deploymentDomain', async () => {
    const s = await fresh({ apps: false });
    const web = s.emu.addService(s.projectId, {
      name: 'web',
      source: { repo: 'acme/web' },
      app: false,
      customDomain: { domain: 'www.example.com' },
    });
    const q =
      'query S($e: String!, $s: String!) { serviceInstance(environmentId: $e, serviceId: $s) { domains { customDomains { domain status { verified } } } } }';
    const read = async () =>
      (
        await gql<{ serviceInstance: { domains: { customDomains: unknown[] } } }>(
          s.emu,
          { project: s.projectToken },
          q,
          { e: s.envId, s: web.id },
        )
      ).body.data?.serviceInstance.domains.customDomains;
    expect(await read()).toEqual([{ domain: 'www.example.com', status: { verified: false } }]);
    s.emu.verifyCustomDomain(web.id);
    expect(await read()).toEqual([{ domain: 'www.example.com', status: { verified: true } }]);
  });

  it('Root Directory: builds run inside it — an upload without files there FAILS, one with the prefix builds', async () => {
    const s = await fresh({ apps: false });
    const api = s.emu.addService(s.projectId, { name: 'mono-api', app: false, rootDirectory: '/apps/api' });
    const up = async (files: Record<string, string>): Promise<string> => {
      const res = await fetch(`${s.emu.origin}/project/${s.projectId}/environment/${s.envId}/up?serviceId=${api.id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/gzip', 'project-access-token': s.projectToken },
        body: await tarball(files),
      });
      return ((await res.json()) as { deploymentId: string }).deploymentId;
    };
    const flat = await up({ 'package.json': '{}' });
    const failed = await s.emu.waitForStatus(flat, 'FAILED');
    expect(failed.buildLogs.map((l) => l.message)).toContain('Could not find root directory: /apps/api');
    const prefixed = await up({ 'apps/api/package.json': '{}' });
    await s.emu.waitForStatus(prefixed, 'SUCCESS');
  });

  it('serviceInstanceUpdate with environmentId changes that environment only; without it, every environment (project tokens refused)', async () => {
    const s = await fresh({ apps: false });
    const img = s.emu.addService(s.projectId, { name: 'img', source: { image: 'ghcr.io/acme/img:v1' }, app: false });
    const U =
      'mutation U($environmentId: String, $serviceId: String!, $image: String!) { serviceInstanceUpdate(environmentId: $environmentId, serviceId: $serviceId, input: { source: { image: $image } }) }';
    const imageIn = async (env: string) =>
      (
        await gql<{ serviceInstance: { source: { image: string } } }>(
          s.emu,
          { bearer: s.accountToken },
          'query S($e: String!, $s: String!) { serviceInstance(environmentId: $e, serviceId: $s) { source { image } } }',
          { e: env, s: img.id },
        )
      ).body.data?.serviceInstance.source.image;
    await gql(s.emu, { project: s.projectToken }, U, {
      environmentId: s.envId,
      serviceId: img.id,
      image: 'ghcr.io/acme/img:v2',
    });
    expect([await imageIn(s.envId), await imageIn(s.stagingId)]).toEqual([
      'ghcr.io/acme/img:v2',
      'ghcr.io/acme/img:v1',
    ]);
    expect(
      (await gql(s.emu, { project: s.projectToken }, U, { serviceId: img.id, image: 'ghcr.io/acme/img:v3' })).body
        .errors?.[0]?.message,
    ).toBe('Not Authorized');
    await gql(s.emu, { bearer: s.accountToken }, U, { serviceId: img.id, image: 'ghcr.io/acme/img:v3' });
    expect([await imageIn(s.envId), await imageIn(s.stagingId)]).toEqual([
      'ghcr.io/acme/img:v3',
      'ghcr.io/acme/img:v3',
    ]);
  });
});

describe('operation faults: fail without effect, lose the answer after the effect, outage after an operation', () => {
  const DEPLOY_WORKER = (s: Seed) =>
    gql<{ serviceInstanceDeployV2: string }>(s.emu, { project: s.projectToken }, DEPLOY, {
      environmentId: s.envId,
      serviceId: s.worker,
      commitSha: '9'.repeat(40),
    }).catch((e: unknown) => e);

  it('failOperation: 502 (HTML) or HTTP 200 + errors[], and nothing happens; matched by root field or operation name', async () => {
    const s = await fresh({ apps: false });
    s.emu.faults.failOperation('serviceInstanceDeployV2');
    const r = await DEPLOY_WORKER(s);
    expect(r).toBeInstanceOf(SyntaxError); // the HTML body of the edge's 502
    s.emu.faults.failOperation('Deploy', { graphqlError: 'Internal server error' });
    expect(((await DEPLOY_WORKER(s)) as GqlResponse).body.errors?.[0]?.message).toBe('Internal server error');
    expect(s.emu.deploymentsOf(s.worker)).toHaveLength(0);
    expect(s.emu.requests.slice(-2).map((q) => q.httpStatus)).toEqual([502, 200]);
  });

  it("failOperation as 'hang': never answered, and nothing happens (stuck before it reached Railway)", async () => {
    const s = await fresh({ apps: false });
    s.emu.faults.failOperation('serviceInstanceDeployV2', { as: 'hang' });
    await expect(
      fetch(s.emu.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'project-access-token': s.projectToken },
        body: JSON.stringify({
          query: DEPLOY,
          variables: { environmentId: s.envId, serviceId: s.worker, commitSha: '9'.repeat(40) },
        }),
        signal: AbortSignal.timeout(300),
      }),
    ).rejects.toThrow();
    expect(s.emu.deploymentsOf(s.worker)).toHaveLength(0);
    expect(s.emu.requests.at(-1)?.httpStatus).toBe(0);
    expect(((await DEPLOY_WORKER(s)) as GqlResponse).status).toBe(200);
    expect(s.emu.deploymentsOf(s.worker)).toHaveLength(1);
  });

  it('loseAnswer: the mutation takes effect, then the edge answers 502 / resets the connection', async () => {
    const s = await fresh({ apps: false });
    s.emu.faults.loseAnswer('serviceInstanceDeployV2');
    expect(await DEPLOY_WORKER(s)).toBeInstanceOf(SyntaxError);
    expect(s.emu.deploymentsOf(s.worker)).toHaveLength(1);
    s.emu.faults.loseAnswer('serviceInstanceDeployV2', { as: 'reset' });
    expect(await DEPLOY_WORKER(s)).toBeInstanceOf(TypeError); // fetch failed: socket closed
    expect(s.emu.deploymentsOf(s.worker)).toHaveLength(2);
    expect(s.emu.requests.slice(-2).map((q) => q.httpStatus)).toEqual([502, 0]);
  });

  it('outageAfter: once the operation took effect, every request gets 503 for the duration', async () => {
    const s = await fresh({ apps: false });
    s.emu.faults.outageAfter('serviceInstanceDeployV2', { durationMs: 300 });
    const ok = (await DEPLOY_WORKER(s)) as GqlResponse<{ serviceInstanceDeployV2: string }>;
    const id = ok.body.data?.serviceInstanceDeployV2 ?? '';
    const during = await fetch(s.emu.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'project-access-token': s.projectToken },
      body: JSON.stringify({ query: GET_DEPLOYMENT, variables: { id } }),
    });
    expect(during.status).toBe(503);
    await during.text();
    await new Promise((r) => setTimeout(r, 350));
    expect((await gql(s.emu, { project: s.projectToken }, GET_DEPLOYMENT, { id })).status).toBe(200);
  });
});
