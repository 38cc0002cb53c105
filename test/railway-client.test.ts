// The Railway client core against the emulator: token kinds, error handling, retries, name resolution,
// the deployment waiter (subscription and polling), rollback-target discovery, rollback/redeploy and /up upload.
import { mkdtemp, mkdir, writeFile, symlink, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/core/errors.js';
import {
  RailwayApiError,
  RailwayClient,
  createUploadTarball,
  listDeployments,
  listUploadFiles,
  getServiceInstance,
  pickRollbackTarget,
  triggerDeployment,
  resolveTarget,
  rollbackTo,
  waitForDeployment,
  type DeploymentSummary,
} from '../src/railway/index.js';
import { startEmulatedProject, useEmulatedProject } from './helpers/emulator.js';
import type { RailwayEmulator } from './railway-emulator/index.js';

const railway = useEmulatedProject({
  otherEnvironments: ['staging'],
  services: [
    { name: 'api', source: { repo: 'acme/shop' }, app: false },
    { name: 'worker', source: { repo: 'acme/shop' }, app: false },
  ],
});

let emu: RailwayEmulator;
let projectId: string;
let prodId: string;
let stagingId: string;
let apiId: string;
let workerId: string;
let token: string;

beforeAll(() => {
  ({ emu, projectId, environmentId: prodId, token } = railway);
  stagingId = railway.environments.staging ?? '';
  apiId = railway.services.api ?? '';
  workerId = railway.services.worker ?? '';
});

const connect = (extra: Partial<Parameters<typeof RailwayClient.connect>[0]> = {}) =>
  RailwayClient.connect({
    token,
    apiUrl: emu.url,
    deadline: Date.now() + 60_000,
    backoff: { initialDelayMs: 50, maxDelayMs: 500, factor: 2 },
    ...extra,
  });

const scope = () => ({ projectId, environmentId: prodId, serviceId: apiId });

async function deployOnce(client: RailwayClient, serviceId = apiId): Promise<string> {
  const data = await client.request<{ serviceInstanceDeployV2: string }>(
    'mutation D($environmentId: String!, $serviceId: String!) { serviceInstanceDeployV2(environmentId: $environmentId, serviceId: $serviceId) }',
    { environmentId: prodId, serviceId },
  );
  return data.serviceInstanceDeployV2;
}

describe('token kind detection', () => {
  it('detects a project token and its scope, sent as Project-Access-Token', async () => {
    const client = await connect();
    expect(client.tokenKind).toBe('project');
    expect(client.projectScope).toMatchObject({
      projectId,
      environmentId: prodId,
      projectName: 'shop',
      environmentName: 'production',
    });
    const probe = emu.requests.filter((r) => r.operationName === 'ProjectTokenInfo').at(-1);
    expect(probe?.headers['project-access-token']).toBe(token);
    expect(probe?.headers.authorization).toBeUndefined();
  });

  it('detects an account token (Bearer) after the project-token probe is refused', async () => {
    const accountToken = emu.accountToken();
    const client = await connect({ token: accountToken });
    expect(client.tokenKind).toBe('account');
    expect(client.projectTokenRefusal).toMatch(/Project Token not found/);
    const last = emu.requests.at(-1);
    expect(last?.headers.authorization).toBe(`Bearer ${accountToken}`);
    expect(last?.headers['project-access-token']).toBeUndefined();
  });

  it('explains the classic mistake: an account token without project/environment', async () => {
    const client = await connect({ token: emu.accountToken() });
    const err = await resolveTarget(client, { services: ['api'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe('railway-token');
    expect((err as Error).message).toMatch(/not a project token/);
    expect((err as Error).message).toMatch(/Project → Settings → Tokens/);
  });

  it('an account token with project and environment names resolves', async () => {
    const client = await connect({ token: emu.accountToken() });
    const target = await resolveTarget(client, { project: 'shop', environment: 'staging', services: ['worker'] });
    expect(target.environment.id).toBe(stagingId);
    expect(target.services[0]?.id).toBe(workerId);
  });

  it('rejects a token Railway does not know, naming the input and never echoing the token', async () => {
    const bogus = 'bogus-token-value-1234567890';
    const err = await connect({ token: bogus }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^Input 'railway-token'/);
    expect((err as Error).message).not.toContain(bogus);
  });

  it('rejects empty and whitespace tokens before any request', async () => {
    const before = emu.requests.length;
    await expect(connect({ token: '' })).rejects.toThrow(/Input 'railway-token': is required/);
    await expect(connect({ token: 'abc def' })).rejects.toThrow(/whitespace/);
    expect(emu.requests.length).toBe(before);
  });

  it('an unreachable api-url fails after the connect budget, pointing at the input', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const err = await connect({ apiUrl: `http://127.0.0.1:${port}/graphql/v2`, connectTimeoutMs: 1500 }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(
      /cannot reach Railway at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\).*check the 'api-url' input/,
    );
  });

  it('rejects an invalid api-url naming the input', async () => {
    await expect(connect({ apiUrl: 'not a url' })).rejects.toThrow(/Input 'api-url'/);
    await expect(connect({ apiUrl: 'ftp://example.com/graphql' })).rejects.toThrow(/Input 'api-url'.*protocol/);
  });
});

describe('errors and retries', () => {
  it('treats HTTP 200 with errors[] as an error', async () => {
    const client = await connect();
    const err = await client.request('query Q { deployment(id: "does-not-exist") { id } }').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RailwayApiError);
    expect((err as RailwayApiError).httpStatus).toBe(200);
    expect((err as Error).message).toMatch(/Railway refused Q/);
  });

  it('retries a 5xx burst and succeeds', async () => {
    const client = await connect();
    const logs: string[] = [];
    const c2 = await connect({ log: (m) => logs.push(m) });
    emu.faults.failNext(3, 503);
    const before = c2.requestCount;
    const data = await c2.request<{ project: { name: string } }>(
      'query P($id: String!) { project(id: $id) { name } }',
      { id: projectId },
    );
    expect(data.project.name).toBe('shop');
    expect(c2.requestCount - before).toBe(4);
    expect(logs.filter((l) => /HTTP 503/.test(l))).toHaveLength(3);
    expect(client.tokenKind).toBe('project');
  });

  it('honours Retry-After on 429', async () => {
    const logs: string[] = [];
    const client = await connect({ log: (m) => logs.push(m) });
    emu.faults.rateLimitNext(1, 2);
    await client.request('query P($id: String!) { project(id: $id) { name } }', { id: projectId });
    // The backoff alone would wait ≤ 100 ms here; the retry was scheduled after the server's Retry-After instead.
    expect(logs.join('\n')).toMatch(/HTTP 429, Retry-After 2s\)\); retry 1 in 2\.0s/);
    expect(client.rateLimit.limit).toBeGreaterThan(0);
  });

  it('gives up at the deadline instead of retrying forever', async () => {
    const client = await connect({ deadline: Date.now() + 1500 });
    emu.faults.failNext(30, 502);
    await expect(
      client.request('query P($id: String!) { project(id: $id) { name } }', { id: projectId }),
    ).rejects.toThrow(/HTTP 502/);
    // Drain the injected failures left over so later tests start clean.
    const drain = await connect({
      deadline: undefined,
      maxAttempts: 100,
      backoff: { initialDelayMs: 1, maxDelayMs: 2, factor: 1 },
    });
    await drain.request('query P($id: String!) { project(id: $id) { name } }', { id: projectId });
  });

  it('a hung request is retried after the per-request timeout', async () => {
    const client = await connect({ requestTimeoutMs: 500 });
    emu.faults.hangNext(1);
    const data = await client.request<{ project: { name: string } }>(
      'query P($id: String!) { project(id: $id) { name } }',
      { id: projectId },
    );
    expect(data.project.name).toBe('shop');
  });
});

describe('rate-limit budget (X-RateLimit-Remaining)', () => {
  it('stops at an exhausted budget whose reset lies past the deadline, saying so, instead of hammering', async () => {
    const small = await startEmulatedProject({ project: 'tiny', rateLimitPerHour: 3, apps: false });
    try {
      const client = await RailwayClient.connect({
        token: small.token,
        apiUrl: small.emu.url,
        deadline: Date.now() + 20_000,
      });
      expect(client.rateLimit).toMatchObject({ limit: 3, remaining: 2 });
      await client.request('query P($id: String!) { project(id: $id) { name } }', { id: small.projectId });
      await client.request('query P($id: String!) { project(id: $id) { name } }', { id: small.projectId });
      expect(client.rateLimit.remaining).toBe(0);
      const sent = client.requestCount;
      await expect(
        client.request('query P($id: String!) { project(id: $id) { name } }', { id: small.projectId }),
      ).rejects.toThrow(/rate limit is exhausted until .* after this step's deadline/);
      expect(client.requestCount).toBe(sent); // nothing sent while the budget is known to be spent
    } finally {
      await small.emu.close();
    }
  });
});

describe('resolving names', () => {
  it('resolves by name and by id', async () => {
    const client = await connect();
    const t = await resolveTarget(client, { services: ['api', workerId] });
    expect(t.project.id).toBe(projectId);
    expect(t.environment.name).toBe('production');
    expect(t.services.map((s) => s.name)).toEqual(['api', 'worker']);
  });

  it('lists the available services for an unknown name', async () => {
    const client = await connect();
    const err = await resolveTarget(client, { services: ['apii'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^Input 'service': no service 'apii'.*'api'.*'worker'/);
  });

  it('hints at case for a near miss', async () => {
    const client = await connect();
    await expect(resolveTarget(client, { services: ['API'] })).rejects.toThrow(/case-sensitive.*'api'/);
  });

  it('lists environments for an unknown one and refuses an environment outside the token scope', async () => {
    const client = await connect();
    await expect(resolveTarget(client, { environment: 'prod', services: ['api'] })).rejects.toThrow(
      /Input 'environment': no environment 'prod'.*'production'.*'staging'/,
    );
    await expect(resolveTarget(client, { environment: 'staging', services: ['api'] })).rejects.toThrow(
      /scoped to \('production'\)|scoped to/,
    );
  });
});

describe('rollback target rule', () => {
  const d = (id: string, status: string, t: number, canRollback = true): DeploymentSummary => ({
    id,
    status,
    createdAt: new Date(1_700_000_000_000 + t * 1000).toISOString(),
    canRollback,
    canRedeploy: true,
    url: null,
    staticUrl: null,
  });

  it('takes the newest canRollback deployment, including REMOVED ones, skipping failed/in-progress', () => {
    const list = [
      d('a', 'REMOVED', 1),
      d('b', 'REMOVED', 2),
      d('c', 'FAILED', 3),
      d('e', 'BUILDING', 5),
      d('f', 'REMOVED', 4, false),
    ];
    expect(pickRollbackTarget(list)?.id).toBe('b');
    expect(pickRollbackTarget([...list, d('g', 'SUCCESS', 6)])?.id).toBe('g');
    expect(pickRollbackTarget([...list, d('g', 'SUCCESS', 6)], { exclude: ['g'] })?.id).toBe('b');
    expect(pickRollbackTarget([d('x', 'REMOVED', 1, false)])).toBeUndefined();
  });

  it('takes the serving deployment even when it reports canRollback: false (not known for the active one)', () => {
    // Skipping it would restore something OLDER than what served; rollbackTo re-reads canRollback and redeploys.
    const list = [d('old', 'REMOVED', 1), d('live', 'SUCCESS', 2, false)];
    expect(pickRollbackTarget(list)?.id).toBe('live');
    expect(pickRollbackTarget([d('old', 'REMOVED', 1), d('asleep', 'SLEEPING', 2, false)])?.id).toBe('asleep');
  });

  it('can skip targets of the same commit as the release being undone', () => {
    const withCommit = (id: string, t: number, commitHash: string) => ({
      ...d(id, 'REMOVED', t),
      meta: { commitHash },
    });
    const bad = { ...d('bad', 'SUCCESS', 9), meta: { commitHash: 'c2' } };
    const list = [withCommit('a', 1, 'c1'), withCommit('b', 2, 'c2'), bad];
    expect(pickRollbackTarget(list, { exclude: ['bad'] })?.id).toBe('b');
    expect(pickRollbackTarget(list, { exclude: ['bad'], notSameCommitAs: bad })?.id).toBe('a');
  });

  it('never picks a deployment of the release commit (excludeCommit), abbreviated or not', () => {
    const withCommit = (id: string, t: number, commitHash: string, status = 'REMOVED') => ({
      ...d(id, status, t),
      meta: { commitHash },
    });
    const sha = 'abcdef0123456789abcdef0123456789abcdef01';
    // Railway's own autodeploy of the release commit already serves: the target is what ran before it.
    const list = [withCommit('prev', 1, '1111111aaaa'), withCommit('auto', 2, sha, 'SUCCESS')];
    expect(pickRollbackTarget(list)?.id).toBe('auto');
    expect(pickRollbackTarget(list, { excludeCommit: sha })?.id).toBe('prev');
    expect(pickRollbackTarget(list, { excludeCommit: sha.slice(0, 7) })?.id).toBe('prev');
    expect(pickRollbackTarget([withCommit('only', 1, sha)], { excludeCommit: sha.toUpperCase() })).toBeUndefined();
  });
});

describe('waiting for a deployment', () => {
  it('follows a deployment to SUCCESS over the subscription', async () => {
    const client = await connect();
    const id = await deployOnce(client);
    const logs: string[] = [];
    const result = await waitForDeployment(client, id, {
      deadline: Date.now() + 30_000,
      scope: scope(),
      log: (m) => logs.push(m),
    });
    expect(result.outcome).toBe('success');
    expect(logs.join('\n')).not.toMatch(/polling|asking once/);
    expect(result.transport).toBe('websocket');
    expect(result.history.map((h) => h.status)).toContain('SUCCESS');
    expect(emu.requests.some((r) => r.transport === 'ws' && r.operationName === 'DeploymentStatus')).toBe(true);
    await client.close();
  });

  it('falls back to polling when WebSockets are refused, and still finishes', async () => {
    const client = await connect();
    emu.faults.disableWebSocket(true);
    try {
      const id = await deployOnce(client);
      const logs: string[] = [];
      const result = await waitForDeployment(client, id, {
        deadline: Date.now() + 30_000,
        scope: scope(),
        log: (m) => logs.push(m),
        pollInitialMs: 100,
      });
      expect(result.outcome).toBe('success');
      expect(result.transport).toBe('polling');
      expect(logs.join('\n')).toMatch(/falling back to polling/);
    } finally {
      emu.faults.disableWebSocket(false);
      await client.close();
    }
  });

  it('falls back to polling when the socket drops mid-wait', async () => {
    const client = await connect();
    emu.scriptDeployment(apiId, { buildMs: 2000 });
    const id = await deployOnce(client);
    const waiting = waitForDeployment(client, id, {
      deadline: Date.now() + 30_000,
      scope: scope(),
      pollInitialMs: 100,
    });
    await emu.waitForStatus(id, 'BUILDING', 10_000);
    // The waiter subscribes after its registration pause: drop the socket only once it is subscribed.
    for (
      let i = 0;
      i < 200 && !emu.requests.some((r) => r.transport === 'ws' && (r.variables as { id?: string } | null)?.id === id);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 25));
    }
    emu.faults.dropSockets();
    const result = await waiting;
    expect(result.outcome).toBe('success');
    expect(result.transport).toBe('websocket+polling');
    await client.close();
  });

  it('reports FAILED as a failure', async () => {
    const client = await connect();
    emu.scriptDeployment(apiId, { outcome: 'FAILED' });
    const id = await deployOnce(client);
    const result = await waitForDeployment(client, id, { deadline: Date.now() + 30_000, scope: scope() });
    expect(result).toMatchObject({ outcome: 'failed', ok: false, status: 'FAILED' });
    await client.close();
  });

  it('says superseded when someone else deploys mid-wait', async () => {
    const client = await connect();
    emu.scriptDeployment(apiId, { buildMs: 3000 });
    const id = await deployOnce(client);
    const waiting = waitForDeployment(client, id, { deadline: Date.now() + 30_000, scope: scope() });
    await emu.waitForStatus(id, 'BUILDING', 10_000);
    const newer = emu.supersede(apiId);
    const result = await waiting;
    expect(result.outcome).toBe('superseded');
    expect(result.supersededBy).toBe(newer);
    expect(result.message).toMatch(/no rollback/);
    await emu.waitForStatus(newer, 'SUCCESS', 20_000);
    await client.close();
  });

  it('reports a long WAITING as such (Wait for CI)', async () => {
    const client = await connect();
    emu.scriptDeployment(apiId, { outcome: 'WAITING' });
    const id = await deployOnce(client);
    const result = await waitForDeployment(client, id, {
      deadline: Date.now() + 30_000,
      scope: scope(),
      waitingTimeoutMs: 800,
    });
    expect(result.outcome).toBe('waiting');
    expect(result.message).toMatch(/Wait for CI/);
    emu.resolveWaiting(id, false);
    await client.close();
  });

  it('reports NEEDS_APPROVAL as such', async () => {
    const client = await connect();
    emu.scriptDeployment(apiId, { outcome: 'NEEDS_APPROVAL' });
    const id = await deployOnce(client);
    const result = await waitForDeployment(client, id, {
      deadline: Date.now() + 30_000,
      scope: scope(),
      waitingTimeoutMs: 800,
    });
    expect(result.outcome).toBe('needs-approval');
    await client.close();
  });

  it('stops with a defined state when cancelled or out of time', async () => {
    const client = await connect();
    emu.scriptDeployment(apiId, { buildMs: 5000 });
    const id = await deployOnce(client);
    const timedOut = await waitForDeployment(client, id, { deadline: Date.now() + 700, scope: scope() });
    expect(timedOut.outcome).toBe('timeout');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const cancelled = await waitForDeployment(client, id, {
      deadline: Date.now() + 30_000,
      signal: controller.signal,
      scope: scope(),
    });
    expect(cancelled.outcome).toBe('cancelled');
    await client.close();
  });
});

describe('rollback', () => {
  it('rolls back to a retained deployment and finds the new deployment by listing', async () => {
    const client = await connect();
    const good = await deployOnce(client, workerId);
    await emu.waitForStatus(good, 'SUCCESS', 20_000);
    const bad = await deployOnce(client, workerId);
    await emu.waitForStatus(bad, 'SUCCESS', 20_000);
    const ws = { projectId, environmentId: prodId, serviceId: workerId };
    const list = await listDeployments(client, ws);
    expect(pickRollbackTarget(list, { exclude: [bad] })?.id).toBe(good);
    const r = await rollbackTo(client, ws, good, { deadline: Date.now() + 30_000 });
    expect(r).toMatchObject({ ok: true, method: 'rollback', targetId: good });
    expect(emu.deployment(r.deploymentId ?? '')?.kind).toBe('rollback');
    expect(emu.activeDeployment(workerId)?.id).toBe(r.deploymentId);
    await client.close();
  });

  it('falls back to redeploy when the image is no longer retained', async () => {
    const client = await connect();
    const good = await deployOnce(client, workerId);
    await emu.waitForStatus(good, 'SUCCESS', 20_000);
    const bad = await deployOnce(client, workerId);
    await emu.waitForStatus(bad, 'SUCCESS', 20_000);
    emu.expireImages(workerId);
    const logs: string[] = [];
    const r = await rollbackTo(client, { projectId, environmentId: prodId, serviceId: workerId }, good, {
      deadline: Date.now() + 30_000,
      log: (m) => logs.push(m),
    });
    expect(r).toMatchObject({ ok: true, method: 'redeploy' });
    expect(r.fallbackReason).toMatch(/canRollback: false now/);
    expect(r.exact).toBe(false);
    expect(emu.requests.some((q) => q.operationName === 'RedeployDeployment')).toBe(true);
    await client.close();
  });

  it('refuses a target of another service', async () => {
    const client = await connect();
    const other = emu.deploymentsOf(apiId)[0]?.id ?? '';
    await expect(
      rollbackTo(client, { projectId, environmentId: prodId, serviceId: workerId }, other, {
        deadline: Date.now() + 10_000,
      }),
    ).rejects.toThrow(/Input 'deployment-id'.*another service/);
  });
});

describe('upload tarball', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rail-upload-'));
    const files: Record<string, string> = {
      'package.json': '{}',
      'src/index.js': 'console.log(1)',
      '.gitignore': 'dist/\n*.log\n',
      '.railwayignore': 'secrets.txt\n',
      'dist/out.js': 'x',
      'debug.log': 'x',
      'secrets.txt': 'x',
      '.env.example': 'A=1',
      '.git/HEAD': 'ref',
      'node_modules/x/index.js': 'x',
      'packages/a/node_modules/y.js': 'x',
      'packages/a/.gitignore': 'local-only.txt\n',
      'packages/a/local-only.txt': 'x',
      'packages/a/keep.txt': 'x',
    };
    for (const [rel, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), content);
    }
    await symlink(path.join(dir, 'src'), path.join(dir, 'src-link'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('honours .gitignore, .railwayignore (nested too), drops .git and node_modules, keeps dotfiles', async () => {
    const files = await listUploadFiles(dir);
    expect(files).toEqual([
      '.env.example',
      '.gitignore',
      '.railwayignore',
      'package.json',
      'packages/a/.gitignore',
      'packages/a/keep.txt',
      'src-link/index.js',
      'src/index.js',
    ]);
  });

  it('uploads to /up and the emulator sees exactly those files', async () => {
    const client = await connect();
    const { body } = await createUploadTarball(dir);
    const res = await client.uploadTarball(scope(), body);
    const upload = emu.uploads.find((u) => u.deploymentId === res.deploymentId);
    expect(upload?.files.sort()).toEqual(await listUploadFiles(dir));
    const result = await waitForDeployment(client, res.deploymentId, { deadline: Date.now() + 30_000, scope: scope() });
    expect(result.outcome).toBe('success');
    await client.close();
  });

  it('a 503 on upload is not repeated blindly: the client throws, triggerDeployment checks state, then sends once more', async () => {
    const client = await connect();
    const { body, files } = await createUploadTarball(dir);
    emu.faults.failNextUpload(1, 503);
    const uploadsBefore = emu.uploads.length;
    await expect(client.uploadTarball(scope(), body)).rejects.toThrow(/HTTP 503/);
    expect(emu.uploads.length).toBe(uploadsBefore);

    emu.faults.failNextUpload(1, 503);
    const instance = await getServiceInstance(client, scope());
    const before = emu.deploymentsOf(apiId).length;
    const started = await triggerDeployment(
      client,
      scope(),
      instance,
      { kind: 'upload', dir, tarball: body, files },
      { settleMs: 300 },
    );
    // The 503 came before anything was created (emulator: failNextUpload), so a second send was right — and only one.
    expect(started).toMatchObject({ sends: 2, reconciled: false });
    expect(emu.deploymentsOf(apiId).length).toBe(before + 1);
    expect(emu.deploymentsOf(apiId)[0]?.id).toBe(started.deploymentId);
    // The app's URL comes from deploymentDomain, never the dashboard link in `url`.
    expect(started.url).toMatch(/^https:\/\/api-production-.*\.up\.railway\.app$/);
    expect(started.dashboardUrl).toMatch(/^https:\/\/railway\.com\/project\//);
    await emu.waitForStatus(started.deploymentId, ['SUCCESS', 'REMOVED'], 20_000);
  });

  it('refuses a missing or empty directory naming the path input', async () => {
    await expect(listUploadFiles(path.join(dir, 'nope'))).rejects.toThrow(/Input 'path'/);
    const empty = await mkdtemp(path.join(tmpdir(), 'rail-empty-'));
    await expect(createUploadTarball(empty)).rejects.toThrow(/Input 'path'.*no files/);
    await rm(empty, { recursive: true });
  });
});
