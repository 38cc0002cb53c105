// The core rule under faults: a mutation whose effect may have landed is never repeated blindly — the client reads
// Railway's state first. Every test compares what the client returns with the emulator's ACTUAL state (how many
// deployments exist, which one is active, how many mutations were sent), not with what the code meant to do.
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  RailwayClient,
  RailwayUnconfirmedError,
  cancelDeployment,
  createUploadTarball,
  getServiceInstance,
  rollbackTo,
  triggerDeployment,
  waitForDeployment,
} from '../src/railway/index.js';
import { CLIENT_PHASES, startEmulatedProject } from './helpers/emulator.js';
import type { EmulatorOptions, RailwayEmulator } from './railway-emulator/index.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface World {
  emu: RailwayEmulator;
  projectId: string;
  envId: string;
  api: string;
  token: string;
  scope: { projectId: string; environmentId: string; serviceId: string };
  connect: (extra?: Partial<Parameters<typeof RailwayClient.connect>[0]>) => Promise<RailwayClient>;
}

const emulators: RailwayEmulator[] = [];
const clients: RailwayClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

async function world(opts: EmulatorOptions = {}): Promise<World> {
  const {
    emu,
    projectId,
    environmentId: envId,
    services,
    token,
  } = await startEmulatedProject({
    ...CLIENT_PHASES,
    ...opts,
    services: [{ name: 'api', source: { repo: 'acme/shop' }, autoDeploy: false }],
  });
  emulators.push(emu);
  const api = services.api ?? '';
  const connect = async (extra: Partial<Parameters<typeof RailwayClient.connect>[0]> = {}) => {
    const c = await RailwayClient.connect({
      token,
      apiUrl: emu.url,
      deadline: Date.now() + 30_000,
      backoff: { initialDelayMs: 50, maxDelayMs: 300, factor: 2 },
      ...extra,
    });
    clients.push(c);
    return c;
  };
  return { emu, projectId, envId, api, token, scope: { projectId, environmentId: envId, serviceId: api }, connect };
}

const SHA = '0123456789abcdef0123456789abcdef01234567';
const sent = (emu: RailwayEmulator, operationName: string) =>
  emu.requests.filter((r) => r.operationName === operationName).length;

async function liveDeployment(w: World, client: RailwayClient, sha: string): Promise<string> {
  const instance = await getServiceInstance(client, w.scope);
  const { deploymentId } = await triggerDeployment(client, w.scope, instance, { kind: 'commit', commitSha: sha });
  await w.emu.waitForStatus(deploymentId, 'SUCCESS', 20_000);
  return deploymentId;
}

describe('deploy: an answer lost after Railway applied it is reconciled, never answered with a second deployment', () => {
  it.each([
    ['an edge 502', { as: 'http' as const }],
    ['a connection reset after the request was sent', { as: 'reset' as const }],
  ])(
    '%s on serviceInstanceDeployV2 → the deployment that landed is returned; exactly one exists',
    async (_what, fault) => {
      const w = await world();
      const client = await w.connect();
      const instance = await getServiceInstance(client, w.scope);
      w.emu.faults.loseAnswer('serviceInstanceDeployV2', fault);
      const logs: string[] = [];
      const started = await triggerDeployment(
        client,
        w.scope,
        instance,
        { kind: 'commit', commitSha: SHA },
        { log: (m) => logs.push(m) },
      );
      const all = w.emu.deploymentsOf(w.api);
      expect(all).toHaveLength(1);
      expect(started).toMatchObject({ deploymentId: all[0]?.id, reconciled: true, sends: 1 });
      expect(sent(w.emu, 'DeployServiceInstance')).toBe(1);
      expect(logs.join('\n')).toMatch(/answer was lost.*reading Railway's state[\s\S]*it did take effect/);
      const result = await waitForDeployment(client, started.deploymentId, {
        deadline: Date.now() + 20_000,
        scope: w.scope,
      });
      expect(result.outcome).toBe('success');
      expect(w.emu.activeDeployment(w.api)?.id).toBe(started.deploymentId);
    },
  );

  it('a mutation that times out (no answer) is looked for, not re-sent; the CLI-like 90 s default is the default', async () => {
    expect(DEFAULT_REQUEST_TIMEOUT_MS).toBe(90_000);
    const w = await world();
    const client = await w.connect({ requestTimeoutMs: 800 });
    const instance = await getServiceInstance(client, w.scope);
    w.emu.faults.loseAnswer('serviceInstanceDeployV2', { as: 'hang' });
    const started = await triggerDeployment(client, w.scope, instance, { kind: 'commit', commitSha: SHA });
    expect(started.reconciled).toBe(true);
    expect(w.emu.deploymentsOf(w.api).map((d) => d.id)).toEqual([started.deploymentId]);
    expect(sent(w.emu, 'DeployServiceInstance')).toBe(1);
  });

  it('a 502 BEFORE anything happened: state shows nothing landed, so it is sent once more — one deployment in the end', async () => {
    const w = await world();
    const client = await w.connect();
    const instance = await getServiceInstance(client, w.scope);
    w.emu.faults.failOperation('serviceInstanceDeployV2', { httpStatus: 502 });
    const started = await triggerDeployment(
      client,
      w.scope,
      instance,
      { kind: 'commit', commitSha: SHA },
      { settleMs: 300 },
    );
    expect(started).toMatchObject({ sends: 2, reconciled: false });
    expect(w.emu.deploymentsOf(w.api).map((d) => d.id)).toEqual([started.deploymentId]);
    expect(sent(w.emu, 'DeployServiceInstance')).toBe(2);
  });

  it('a lost answer followed by an outage: reads fail for a while, then the deployment is found — still one', async () => {
    const w = await world();
    const client = await w.connect();
    const instance = await getServiceInstance(client, w.scope);
    w.emu.faults.loseAnswer('serviceInstanceDeployV2');
    w.emu.faults.outageAfter('serviceInstanceDeployV2', { durationMs: 1500 });
    const started = await triggerDeployment(client, w.scope, instance, { kind: 'commit', commitSha: SHA });
    expect(started.reconciled).toBe(true);
    expect(w.emu.deploymentsOf(w.api).map((d) => d.id)).toEqual([started.deploymentId]);
    expect(w.emu.requests.some((r) => r.httpStatus === 503)).toBe(true);
  });

  it('a lost answer and no readable state until the deadline: "unknown", and still no second mutation', async () => {
    const w = await world();
    const client = await w.connect({ deadline: Date.now() + 2500 });
    const instance = await getServiceInstance(client, w.scope);
    w.emu.faults.loseAnswer('serviceInstanceDeployV2');
    w.emu.faults.outageAfter('serviceInstanceDeployV2', { durationMs: 10_000 });
    const err = await triggerDeployment(client, w.scope, instance, { kind: 'commit', commitSha: SHA }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RailwayUnconfirmedError);
    expect((err as Error).message).toMatch(/whether it took effect is unknown/);
    expect(sent(w.emu, 'DeployServiceInstance')).toBe(1);
    expect(w.emu.deploymentsOf(w.api)).toHaveLength(1); // it DID land: the caller must not claim nothing happened
  });

  it('429 on a mutation never landed: it is retried after Retry-After without any state check', async () => {
    const w = await world();
    const client = await w.connect();
    const instance = await getServiceInstance(client, w.scope);
    const before = w.emu.requests.length;
    w.emu.faults.rateLimitNext(1, 1);
    const started = await triggerDeployment(
      client,
      w.scope,
      instance,
      { kind: 'commit', commitSha: SHA },
      { known: [] },
    );
    expect(started).toMatchObject({ sends: 1, reconciled: false });
    expect(w.emu.requests.slice(before).map((r) => `${r.operationName}:${r.httpStatus}`)).toEqual([
      'DeployServiceInstance:429',
      'DeployServiceInstance:200',
    ]);
    expect(w.emu.deploymentsOf(w.api)).toHaveLength(1);
  });
});

describe('upload: a lost /up answer is reconciled, the tarball is not sent twice', () => {
  it('502 after the upload created the deployment → that deployment; one upload recorded', async () => {
    const w = await world();
    const dir = await mkdtemp(path.join(tmpdir(), 'rail-faults-'));
    try {
      await writeFile(path.join(dir, 'package.json'), '{}');
      const client = await w.connect();
      const { body, files } = await createUploadTarball(dir);
      w.emu.faults.loseAnswer('up');
      const instance = await getServiceInstance(client, w.scope);
      const started = await triggerDeployment(client, w.scope, instance, { kind: 'upload', dir, tarball: body, files });
      expect(w.emu.uploads.map((u) => u.deploymentId)).toEqual([started.deploymentId]);
      expect(started).toMatchObject({ reconciled: true, sends: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('rollback, redeploy and cancel under lost answers', () => {
  it('deploymentRollback answered 502 (ten times armed): one rollback deployment, which is active', async () => {
    const w = await world();
    const client = await w.connect();
    const good = await liveDeployment(w, client, SHA);
    const bad = await liveDeployment(w, client, 'fedcba9876543210fedcba9876543210fedcba98');
    w.emu.faults.loseAnswer('deploymentRollback', { count: 10 });
    const r = await rollbackTo(client, w.scope, good, { deadline: Date.now() + 20_000 });
    expect(r).toMatchObject({ ok: true, method: 'rollback', exact: true, reconciled: true });
    const rollbacks = w.emu.deploymentsOf(w.api).filter((d) => d.kind === 'rollback');
    expect(rollbacks.map((d) => d.id)).toEqual([r.deploymentId]);
    expect(sent(w.emu, 'RollbackDeployment')).toBe(1);
    expect(w.emu.activeDeployment(w.api)?.id).toBe(r.deploymentId);
    expect(w.emu.deployment(bad)?.status).toMatch(/REMOV/);
  });

  it('deploymentRedeploy (image no longer retained) with its answer reset: one redeploy', async () => {
    const w = await world();
    const client = await w.connect();
    const good = await liveDeployment(w, client, SHA);
    await liveDeployment(w, client, 'fedcba9876543210fedcba9876543210fedcba98');
    w.emu.expireImages(w.api);
    w.emu.faults.loseAnswer('deploymentRedeploy', { as: 'reset' });
    const r = await rollbackTo(client, w.scope, good, { deadline: Date.now() + 20_000 });
    expect(r).toMatchObject({ ok: true, method: 'redeploy', exact: false, reconciled: true });
    expect(
      w.emu
        .deploymentsOf(w.api)
        .filter((d) => d.kind === 'redeploy')
        .map((d) => d.id),
    ).toEqual([r.deploymentId]);
    expect(sent(w.emu, 'RedeployDeployment')).toBe(1);
  });

  it('cancel: only initializing/queued/building are cancelled; a lost answer is confirmed by the REMOVED status', async () => {
    const w = await world();
    const client = await w.connect();
    w.emu.scriptDeployment(w.api, { buildMs: 5000 });
    const instance = await getServiceInstance(client, w.scope);
    const { deploymentId } = await triggerDeployment(client, w.scope, instance, { kind: 'commit', commitSha: SHA });
    await w.emu.waitForStatus(deploymentId, 'BUILDING');
    w.emu.faults.loseAnswer('deploymentCancel');
    const r = await cancelDeployment(client, deploymentId);
    expect(r).toMatchObject({ cancelled: true, status: 'BUILDING' });
    expect(w.emu.deployment(deploymentId)?.status).toBe('REMOVED');
    expect(sent(w.emu, 'CancelDeployment')).toBe(1);

    const live = await liveDeployment(w, client, 'fedcba9876543210fedcba9876543210fedcba98');
    const refused = await cancelDeployment(client, live);
    expect(refused).toMatchObject({ cancelled: false, status: 'SUCCESS' });
    expect(refused.reason).toMatch(/documents cancelling only initializing, queued or building/);
    expect(sent(w.emu, 'CancelDeployment')).toBe(1);
    expect(w.emu.activeDeployment(w.api)?.id).toBe(live);
  });
});

describe('registration race and transient read errors while waiting', () => {
  it('a deployment unreadable for 1.5 s after creation is tracked to SUCCESS (polling and subscription)', async () => {
    for (const useSubscription of [false, true]) {
      const w = await world({ registrationLagMs: 1500 });
      const client = await w.connect();
      const instance = await getServiceInstance(client, w.scope);
      const { deploymentId } = await triggerDeployment(client, w.scope, instance, { kind: 'commit', commitSha: SHA });
      const logs: string[] = [];
      const result = await waitForDeployment(client, deploymentId, {
        deadline: Date.now() + 20_000,
        scope: w.scope,
        useSubscription,
        pollInitialMs: 200,
        log: (m) => logs.push(m),
      });
      expect(result.outcome, logs.join('\n')).toBe('success');
      expect(result.readErrors).toBeGreaterThan(0);
      expect(logs.join('\n')).toMatch(/Deployment not found.*still tracking it/);
      expect(w.emu.activeDeployment(w.api)?.id).toBe(deploymentId);
    }
  });

  it('read errors mid-wait (HTTP 200 + errors[], 502s) do not abandon tracking', async () => {
    const w = await world();
    const client = await w.connect({ deadline: Date.now() + 30_000 });
    w.emu.scriptDeployment(w.api, { buildMs: 1500 });
    const instance = await getServiceInstance(client, w.scope);
    const { deploymentId } = await triggerDeployment(client, w.scope, instance, { kind: 'commit', commitSha: SHA });
    w.emu.faults.failOperation('GetDeployment', { count: 3, graphqlError: 'Internal server error' });
    w.emu.faults.failOperation('GetDeployment', { count: 2, httpStatus: 502 });
    const result = await waitForDeployment(client, deploymentId, {
      deadline: Date.now() + 20_000,
      scope: w.scope,
      useSubscription: false,
      pollInitialMs: 100,
      pollMaxMs: 200,
    });
    expect(result).toMatchObject({ outcome: 'success', verdict: 'live' });
    expect(result.readErrors).toBe(3); // the 502s were retried inside the request; the errors[] answers were ridden out
  });

  it('never readable until the deadline → timeout that says why, not a crash', async () => {
    const w = await world({ registrationLagMs: 60_000 });
    const client = await w.connect();
    const instance = await getServiceInstance(client, w.scope);
    const { deploymentId } = await triggerDeployment(client, w.scope, instance, { kind: 'commit', commitSha: SHA });
    const result = await waitForDeployment(client, deploymentId, {
      deadline: Date.now() + 1500,
      scope: w.scope,
      useSubscription: false,
      pollInitialMs: 100,
    });
    expect(result.outcome).toBe('timeout');
    expect(result.message).toMatch(/could not be read: .*Deployment not found/);
  });

  it('an auth refusal while waiting ends it at once (waiting cannot cure a token)', async () => {
    const w = await world();
    const staging = w.emu.addEnvironment(w.projectId, { name: 'staging' });
    const stagingClient = await RailwayClient.connect({
      token: w.emu.projectToken(w.projectId, staging.id),
      apiUrl: w.emu.url,
      deadline: Date.now() + 30_000,
    });
    clients.push(stagingClient);
    const client = await w.connect();
    const instance = await getServiceInstance(client, w.scope);
    const { deploymentId } = await triggerDeployment(client, w.scope, instance, { kind: 'commit', commitSha: SHA });
    const t0 = Date.now();
    await expect(
      waitForDeployment(stagingClient, deploymentId, { deadline: Date.now() + 20_000, useSubscription: false }),
    ).rejects.toThrow(/Not Authorized/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
