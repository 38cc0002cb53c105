// The bundled railway-deploy action, run through the harness against the Railway emulator.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GITHUB_ENV, runAction, startAction, type ActionResult } from './harness/index.js';
import { useEmulatedProject } from './helpers/emulator.js';
import type { RailwayEmulator } from './railway-emulator/index.js';

let emu: RailwayEmulator;
let projectId: string;
let apiId: string;
let workerId: string;
let token: string;

const railway = useEmulatedProject({
  buildMs: 400,
  otherEnvironments: ['staging'],
  // GitHub autodeploy off: this pipeline is the only deployer (the autodeploy tests below add their own service).
  services: [
    { name: 'api', source: { repo: 'acme/shop' }, autoDeploy: false },
    { name: 'worker', source: { repo: 'acme/shop' }, app: false, domain: false, autoDeploy: false },
  ],
});

beforeAll(async () => {
  ({ emu, projectId, token } = railway);
  apiId = railway.services.api ?? '';
  workerId = railway.services.worker ?? '';
  // A first good deployment of each service, so there is something to roll back to.
  for (const id of [apiId, workerId]) emu.supersede(id);
  await Promise.all(
    [apiId, workerId].map((id) => emu.waitForStatus(emu.deploymentsOf(id)[0]?.id ?? '', 'SUCCESS', 30_000)),
  );
});

const base = () => ({ 'railway-token': token, 'api-url': emu.url, service: 'api', timeout: '2m' });

function mutationCount(): number {
  return emu.requests.filter((r) => /^\s*mutation\b/.test(r.query)).length;
}

/** Every captured byte is free of the token. */
function expectNoToken(result: ActionResult, secret = token): void {
  expect(result.allText).not.toContain(secret);
}

describe('railway-deploy: happy paths', () => {
  it('deploys the workflow commit and reports outputs, summary and timeline', async () => {
    const before = emu.activeDeployment(apiId)?.id;
    const result = await runAction({ action: 'railway-deploy', inputs: base() });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    const id = result.outputs['deployment-id'] ?? '';
    expect(emu.deployment(id)).toMatchObject({ status: 'SUCCESS', commitSha: DEFAULT_GITHUB_ENV.GITHUB_SHA });
    expect(result.outputs['previous-deployment-id']).toBe(before);
    expect(result.outputs.status).toBe('SUCCESS');
    expect(result.outputs.url).toMatch(/^https:\/\/api-production-.*\.up\.railway\.app$/);
    const json = JSON.parse(result.outputs.deployments ?? '[]') as Array<Record<string, unknown>>;
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({
      service: 'api',
      serviceId: apiId,
      deploymentId: id,
      previousDeploymentId: before,
      rollbackTargetId: before,
      outcome: 'success',
    });
    expect(result.summary).toMatch(/\| Service \| Before \| Deployed \| Now serving/);
    expect(result.summary).toContain('```mermaid');
    expect(result.summary).toMatch(/gantt[\s\S]*section api[\s\S]*build/);
    const deployCall = emu.requests.find(
      (r) => r.operationName === 'DeployServiceInstance' && (r.variables as { serviceId?: string }).serviceId === apiId,
    );
    expect(deployCall?.headers['project-access-token']).toBe(token);
    expect(result.masked).toContain(token);
    expectNoToken(result);
  });

  it('deploys several services in parallel as one release', async () => {
    const result = await runAction({ action: 'railway-deploy', inputs: { ...base(), service: 'api\nworker' } });
    expect(result.exitCode, result.stderr).toBe(0);
    const ids = (result.outputs['deployment-id'] ?? '').split('\n');
    expect(ids).toHaveLength(2);
    const [a, w] = ids.map((id) => emu.deployment(id ?? ''));
    expect(a?.serviceId).toBe(apiId);
    expect(w?.serviceId).toBe(workerId);
    // Parallel: the second deploy was requested before the first finished.
    const firstDone = a?.history.find((h) => h.status === 'SUCCESS')?.at ?? 0;
    expect(Date.parse(w?.createdAt ?? '')).toBeLessThan(firstDone);
    expect(JSON.parse(result.outputs.deployments ?? '[]')).toHaveLength(2);
    expectNoToken(result);
  });

  it('uploads a directory honouring .gitignore/.railwayignore and dropping .git and node_modules', async () => {
    const workspace = await mkdtemp(path.join(tmpdir(), 'rail-up-'));
    try {
      const files: Record<string, string> = {
        'package.json': '{"name":"app"}',
        'server.js': 'console.log(1)',
        '.gitignore': 'dist/\n',
        '.railwayignore': 'fixtures/\n',
        'dist/bundle.js': 'x',
        'fixtures/big.bin': 'x',
        '.git/config': 'x',
        'node_modules/dep/index.js': 'x',
      };
      for (const [rel, content] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(workspace, 'app', rel)), { recursive: true });
        await writeFile(path.join(workspace, 'app', rel), content);
      }
      // `path` is relative to the workspace, like in a workflow after checkout.
      const result = await runAction({
        action: 'railway-deploy',
        inputs: { ...base(), source: 'upload', path: 'app' },
        cwd: workspace,
      });
      expect(result.exitCode, result.stderr).toBe(0);
      const upload = emu.uploads.find((u) => u.deploymentId === result.outputs['deployment-id']);
      expect(upload?.files.sort()).toEqual(['.gitignore', '.railwayignore', 'package.json', 'server.js']);
      expect(result.outputs.status).toBe('SUCCESS');
      expect(result.stdout).toMatch(/Upload: 4 file\(s\)/);
      expectNoToken(result);
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });
});

describe('railway-deploy: account token', () => {
  it('works with project and environment given by name, sending Authorization: Bearer', async () => {
    const account = emu.accountToken();
    const result = await runAction({
      action: 'railway-deploy',
      inputs: { ...base(), 'railway-token': account, project: 'shop', environment: 'production', service: 'worker' },
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    const id = result.outputs['deployment-id'] ?? '';
    expect(emu.deployment(id)?.serviceId).toBe(workerId);
    const call = emu.requests.find(
      (r) => r.operationName === 'DeployServiceInstance' && r.headers.authorization === `Bearer ${account}`,
    );
    expect(call?.headers['project-access-token']).toBeUndefined();
    expect(result.stdout).toMatch(/account\/workspace token/);
    expect(result.allText).not.toContain(account);
  });
});

describe('railway-deploy: image source', () => {
  it('switches an image-sourced service to the given image, then deploys it', async () => {
    const webId = emu.addService(projectId, { name: 'web', source: { image: 'ghcr.io/acme/web:1.0' }, app: false }).id;
    const result = await runAction({
      action: 'railway-deploy',
      inputs: { ...base(), service: 'web', source: 'image', image: 'ghcr.io/acme/web:1.1' },
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    const id = result.outputs['deployment-id'] ?? '';
    expect(emu.deployment(id)).toMatchObject({ serviceId: webId, status: 'SUCCESS', image: 'ghcr.io/acme/web:1.1' });
    const update = emu.requests.find((r) => r.operationName === 'SetServiceImage');
    expect(update?.variables).toMatchObject({ serviceId: webId, image: 'ghcr.io/acme/web:1.1' });
  });

  it('refuses source: commit for an image-sourced service before sending anything', async () => {
    const before = mutationCount();
    const result = await runAction({
      action: 'railway-deploy',
      inputs: { ...base(), service: 'web', source: 'commit' },
    });
    expect(result.exitCode).toBe(1);
    expect(result.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /Input 'source'.*image source \(ghcr\.io\/acme\/web:1\.1\).*use source: image/,
    );
    expect(mutationCount()).toBe(before);
  });
});

describe('railway-deploy: monorepo upload', () => {
  it('uploads each service its own directory (service=dir lines), in parallel', async () => {
    const workspace = await mkdtemp(path.join(tmpdir(), 'rail-mono-'));
    try {
      for (const [rel, content] of Object.entries({
        'apps/api/server.js': 'api',
        'apps/worker/worker.js': 'worker',
        'apps/worker/.railwayignore': 'tmp/\n',
        'apps/worker/tmp/x': 'x',
      })) {
        await mkdir(path.dirname(path.join(workspace, rel)), { recursive: true });
        await writeFile(path.join(workspace, rel), content);
      }
      const result = await runAction({
        action: 'railway-deploy',
        inputs: { ...base(), service: 'api\nworker', source: 'upload', path: 'api=apps/api\nworker=apps/worker' },
        cwd: workspace,
      });
      expect(result.exitCode, result.stderr + result.stdout).toBe(0);
      const [apiDeployment, workerDeployment] = (result.outputs['deployment-id'] ?? '').split('\n');
      expect(emu.uploads.find((u) => u.deploymentId === apiDeployment)?.files).toEqual(['server.js']);
      expect(emu.uploads.find((u) => u.deploymentId === workerDeployment)?.files.sort()).toEqual([
        '.railwayignore',
        'worker.js',
      ]);
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });
});

describe('railway-deploy: failures are reported', () => {
  it('FAILED build → exit 1, status FAILED, log tail and events in the summary', async () => {
    emu.scriptDeployment(apiId, { outcome: 'FAILED' });
    const before = emu.activeDeployment(apiId)?.id;
    const result = await runAction({ action: 'railway-deploy', inputs: base() });
    expect(result.exitCode).toBe(1);
    expect(result.outputs.status).toBe('FAILED');
    expect(
      result.annotations
        .filter((a) => a.level === 'error')
        .map((a) => a.message)
        .join('\n'),
    ).toMatch(/api: deployment .* FAILED/);
    expect(result.summary).toMatch(/why deployment .* failed/);
    expect(result.summary).toMatch(/Build logs/);
    expect(result.summary).toMatch(/BUILD_IMAGE/);
    if (process.env.PRINT_SUMMARY) console.log(result.summary);
    expect(emu.activeDeployment(apiId)?.id).toBe(before);
    expectNoToken(result);
  });

  it('superseded mid-wait → says so, status SUPERSEDED, the newer deployment is untouched', async () => {
    emu.scriptDeployment(apiId, { buildMs: 4000 });
    const running = startAction({ action: 'railway-deploy', inputs: base() });
    await running.waitForOutput(/BUILDING/, 30_000);
    const newer = emu.supersede(apiId);
    const result = await running.result;
    expect(result.exitCode).toBe(1);
    expect(result.outputs.status).toBe('SUPERSEDED');
    expect(result.stdout + result.stderr).toMatch(new RegExp(`superseded by a newer deployment ${newer}`));
    expect(result.annotations.some((a) => a.level === 'warning' && /no rollback/.test(a.message))).toBe(true);
    await emu.waitForStatus(newer, 'SUCCESS', 30_000);
    expect(
      emu.requests.some((r) => r.operationName === 'RollbackDeployment' || r.operationName === 'CancelDeployment'),
    ).toBe(false);
  });

  it('rides out a 5xx burst and a 429 with Retry-After', async () => {
    emu.faults.failNext(3, 502);
    emu.faults.rateLimitNext(1, 1);
    const result = await runAction({ action: 'railway-deploy', inputs: base() });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/HTTP 502/);
    expect(result.stdout).toMatch(/429/);
  });

  it('finishes by polling when the WebSocket drops mid-wait', async () => {
    emu.scriptDeployment(apiId, { buildMs: 2500 });
    const running = startAction({ action: 'railway-deploy', inputs: base() });
    await running.waitForOutput(/BUILDING/, 30_000);
    emu.faults.dropSockets();
    const result = await running.result;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/falling back to polling/);
    expect(result.outputs.status).toBe('SUCCESS');
  });

  it('reports a long WAITING (Wait for CI) instead of hanging', async () => {
    emu.scriptDeployment(apiId, { outcome: 'WAITING' });
    const result = await runAction({ action: 'railway-deploy', inputs: { ...base(), 'waiting-timeout': '1s' } });
    expect(result.exitCode).toBe(1);
    expect(result.outputs.status).toBe('WAITING');
    expect(result.stderr + result.stdout).toMatch(/Wait for CI/);
    const id = result.outputs['deployment-id'] ?? '';
    emu.resolveWaiting(id, false);
  });

  it('SIGTERM mid-wait: main stops promptly, post cancels the in-flight deployment', async () => {
    emu.scriptDeployment(apiId, { buildMs: 20_000 });
    const before = emu.activeDeployment(apiId)?.id;
    const running = startAction({ action: 'railway-deploy', inputs: base() });
    await running.waitForOutput(/BUILDING/, 30_000);
    running.kill('SIGTERM');
    const main = await running.result;
    expect(main.exitCode).toBe(1);
    expect(main.outputs.status).toBe('CANCELLED');
    expect(main.state['railway-phase']).toBe('deploying');
    const id = main.outputs['deployment-id'] ?? '';
    expect(emu.deployment(id)?.status).toBe('BUILDING');
    const post = await runAction({ action: 'railway-deploy', inputs: base(), phase: 'post', state: main.state });
    expect(post.exitCode, post.stderr).toBe(0);
    expect(post.stdout).toMatch(/cancelled the in-flight deployment/);
    expect(post.summary).toMatch(/cleanup after an interrupted deploy/);
    await emu.waitForStatus(id, ['REMOVED'], 10_000);
    expect(emu.activeDeployment(apiId)?.id).toBe(before);
    expectNoToken(main);
    expectNoToken(post);
  });
});

describe('railway-deploy: commits Railway deploys by itself (GitHub autodeploy)', () => {
  const sha = (c: string) => c.repeat(40);

  it("adopt (default): Railway's own deployment of the commit is followed, nothing is sent, the summary says so", async () => {
    const id = emu.addService(projectId, { name: 'web-adopt', source: { repo: 'acme/shop' }, autoDeploy: true }).id;
    const railways = await emu.push(id, sha('a'));
    const before = mutationCount();
    const result = await runAction({
      action: 'railway-deploy',
      inputs: { ...base(), service: 'web-adopt', 'commit-sha': sha('a') },
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(result.outputs['deployment-id']).toBe(railways);
    expect(emu.deploymentsOf(id).map((d) => d.id)).toEqual([railways]);
    expect(mutationCount()).toBe(before);
    expect((JSON.parse(result.outputs.deployments ?? '[]') as Array<Record<string, unknown>>)[0]).toMatchObject({
      startedBy: 'railway',
      deploymentId: railways,
    });
    expect(result.summary).toMatch(/adopted Railway's own deployment/);
    expect(result.outputs['production-deployment-id']).toBe(emu.activeDeployment(id)?.id);
  });

  it("adopt: Railway's deployment that appears while waiting (a late webhook) is adopted", async () => {
    const id = emu.addService(projectId, { name: 'web-late', source: { repo: 'acme/shop' }, autoDeploy: true }).id;
    const pushed = emu.push(id, sha('b'), { delayMs: 1500 });
    const result = await runAction({
      action: 'railway-deploy',
      inputs: { ...base(), service: 'web-late', 'commit-sha': sha('b'), 'autodeploy-wait': '20s' },
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(result.outputs['deployment-id']).toBe(await pushed);
    expect(emu.deploymentsOf(id)).toHaveLength(1);
  });

  it("Railway's autodeploy of the same commit arriving after ours supersedes it: that deployment is followed, not reported as someone else's", async () => {
    const id = emu.addService(projectId, { name: 'web-race', source: { repo: 'acme/shop' }, autoDeploy: true }).id;
    emu.scriptDeployment(id, { buildMs: 3000 });
    const running = startAction({
      action: 'railway-deploy',
      inputs: { ...base(), service: 'web-race', 'commit-sha': sha('f'), 'autodeploy-wait': '0s' },
    });
    await running.waitForOutput(/deployment (\S+) started/, 30_000);
    const railways = await emu.push(id, sha('f'));
    const result = await running.result;
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(result.outputs['deployment-id']).toBe(railways);
    expect(result.outputs['production-deployment-id']).toBe(emu.activeDeployment(id)?.id);
    expect(result.stdout).toMatch(/was replaced by Railway's own deployment .* of the same commit/);
    expect(emu.deploymentsOf(id)).toHaveLength(2); // built twice: what autodeploy-wait 0s allows, and why adopt waits by default
  });

  it('refuse: autodeploy on and no deployment of the commit → not deployed, with instructions, no mutation', async () => {
    emu.addService(projectId, { name: 'web-refuse', source: { repo: 'acme/shop' }, autoDeploy: true });
    const before = mutationCount();
    const result = await runAction({
      action: 'railway-deploy',
      inputs: {
        ...base(),
        service: 'web-refuse',
        'commit-sha': sha('c'),
        autodeploy: 'refuse',
        'autodeploy-wait': '1s',
      },
    });
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toMatchObject({ status: 'REFUSED', result: 'failed', 'needs-human': 'false' });
    expect(result.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /GitHub autodeploy is on.*turn autodeploy off/,
    );
    expect(mutationCount()).toBe(before);
  });

  it('adopt with autodeploy off: deploys at once (no wait), and says why', async () => {
    const started = Date.now();
    const result = await runAction({ action: 'railway-deploy', inputs: { ...base(), 'commit-sha': sha('d') } });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(emu.deployment(result.outputs['deployment-id'] ?? '')).toMatchObject({
      commitSha: sha('d'),
      kind: 'deploy',
    });
    expect(result.summary).toMatch(/GitHub autodeploy is off for this service/);
  });

  it('an empty commit-sha falls back to GITHUB_SHA: a commit is always sent', async () => {
    const result = await runAction({
      action: 'railway-deploy',
      inputs: { ...base(), 'commit-sha': '' },
      env: { GITHUB_SHA: sha('e') },
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    const call = emu.requests.filter((r) => r.operationName === 'DeployServiceInstance').at(-1);
    expect(call?.variables).toMatchObject({ commitSha: sha('e') });
    expect(result.stdout).toMatch(/commit-sha is empty: deploying the workflow's commit e{40} \(GITHUB_SHA\)/);
  });
});

describe('railway-deploy: a timeout and a Root Directory', () => {
  it('the timeout reached while building: the build is cancelled (it cannot go live unverified later)', async () => {
    emu.scriptDeployment(apiId, { buildMs: 60_000 });
    const before = emu.activeDeployment(apiId)?.id;
    const result = await runAction({ action: 'railway-deploy', inputs: { ...base(), timeout: '4s' } });
    expect(result.exitCode).toBe(1);
    const id = result.outputs['deployment-id'] ?? '';
    expect(result.outputs).toMatchObject({ status: 'TIMEOUT', result: 'failed', 'needs-human': 'false' });
    expect(emu.deployment(id)?.status).toBe('REMOVED');
    expect(result.outputs['production-deployment-id']).toBe(before);
    expect(emu.activeDeployment(apiId)?.id).toBe(before);
    expect(result.summary).toMatch(/cancelled \(was BUILDING\)/);
    expect(result.state['railway-phase']).toBe('done');
  });

  it('an upload of the Root Directory itself is re-archived with its prefix, so Railway finds it there', async () => {
    const id = emu.addService(projectId, {
      name: 'mono-api',
      source: { repo: 'acme/shop' },
      rootDirectory: 'apps/api',
      autoDeploy: false,
    }).id;
    const workspace = await mkdtemp(path.join(tmpdir(), 'rail-root-'));
    try {
      await mkdir(path.join(workspace, 'apps/api'), { recursive: true });
      await writeFile(path.join(workspace, 'apps/api/server.js'), 'api');
      await writeFile(path.join(workspace, 'apps/api/package.json'), '{}');
      const result = await runAction({
        action: 'railway-deploy',
        inputs: { ...base(), service: 'mono-api', source: 'upload', path: 'apps/api' },
        cwd: workspace,
      });
      expect(result.exitCode, result.stderr + result.stdout).toBe(0);
      const upload = emu.uploads.find((u) => u.deploymentId === result.outputs['deployment-id']);
      expect(upload?.files.sort()).toEqual(['apps/api/package.json', 'apps/api/server.js']);
      expect(emu.deployment(result.outputs['deployment-id'] ?? '')?.serviceId).toBe(id);
      expect(result.stdout).toMatch(/Root Directory '\/apps\/api' — upload re-archived/);
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });
});

describe('railway-deploy: check-only (read-only preflight)', () => {
  it('confirms token, project, environment and services, reports autodeploy/canRollback/domains, and sends no mutation', async () => {
    const before = emu.requests.length;
    const result = await runAction({
      action: 'railway-deploy',
      inputs: { ...base(), service: 'api\nworker', 'check-only': 'true' },
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(result.outputs.result).toBe('checked');
    expect(emu.requests.slice(before).filter((r) => /^\s*mutation\b/.test(r.query))).toEqual([]);
    const report = JSON.parse(result.outputs.checks ?? '{}') as {
      tokenKind: string;
      ok: boolean;
      checks: Array<{ subject: string; check: string; verdict: string; detail: string }>;
      services: Array<Record<string, unknown>>;
    };
    expect(report).toMatchObject({ tokenKind: 'project', ok: true });
    const verdictOf = (subject: string, check: RegExp) =>
      report.checks.find((c) => c.subject === subject && check.test(c.check))?.verdict;
    expect(verdictOf('project', /reaches the project/)).toBe('confirmed');
    expect(verdictOf('environment', /reaches the environment/)).toBe('confirmed');
    expect(verdictOf('api', /exists/)).toBe('confirmed');
    expect(verdictOf('api', /GitHub autodeploy/)).toBe('confirmed');
    expect(verdictOf('api', /serving deployment can be rolled back/)).toBe('confirmed');
    expect(verdictOf('token', /may deploy, roll back and cancel/)).toBe('unknown');
    expect(report.services.find((f) => (f.service as { name: string }).name === 'worker')).toMatchObject({
      domains: [],
      autodeploy: { enabled: false },
    });
    expect(result.summary).toMatch(/No mutation was sent/);
    expectNoToken(result);
  });

  it('an unknown service is refuted (the others still checked), exit 1, no mutation', async () => {
    const before = mutationCount();
    const result = await runAction({
      action: 'railway-deploy',
      inputs: { ...base(), service: 'api\napii', 'check-only': 'true' },
    });
    expect(result.exitCode).toBe(1);
    expect(result.outputs.result).toBe('check-failed');
    const report = JSON.parse(result.outputs.checks ?? '{}') as { checks: Array<{ subject: string; verdict: string }> };
    expect(report.checks.find((c) => c.subject === 'apii')?.verdict).toBe('refuted');
    expect(report.checks.find((c) => c.subject === 'api')?.verdict).toBe('confirmed');
    expect(result.annotations.find((a) => a.level === 'error')?.message).toMatch(
      /Preflight refuted 1 check\(s\): apii/,
    );
    expect(mutationCount()).toBe(before);
  });
});

describe('railway-deploy: bad input → one clear error, exit 1, no mutation', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['missing token', { 'railway-token': '' }, /Input 'railway-token': is required/],
    ['whitespace-only token', { 'railway-token': '   ' }, /Input 'railway-token'/],
    ['unknown service', { service: 'apii' }, /Input 'service': no service 'apii'.*Available: 'api'.*'worker'/],
    [
      'unknown environment',
      { environment: 'prod' },
      /Input 'environment': no environment 'prod'.*'production'.*'staging'/,
    ],
    ['invalid api-url', { 'api-url': 'backboard railway' }, /Input 'api-url'/],
    ['timeout: banana', { timeout: 'banana' }, /Input 'timeout'.*banana/],
    ['negative waiting-timeout', { 'waiting-timeout': '-5s' }, /Input 'waiting-timeout'.*negative/],
    ['bad source', { source: 'git' }, /Input 'source': expected one of commit, upload, image/],
    ['bad commit-sha', { 'commit-sha': 'main' }, /Input 'commit-sha'/],
    ['upload of a missing directory', { source: 'upload', path: '/nonexistent/dir' }, /Input 'path'.*does not exist/],
    ['image source for a repo service', { source: 'image' }, /Input 'source'.*deploys from the repository/],
  ];
  it.each(cases)('%s', async (_name, inputs, message) => {
    const before = mutationCount();
    const result = await runAction({ action: 'railway-deploy', inputs: { ...base(), ...inputs } });
    expect(result.exitCode).toBe(1);
    const errors = result.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(message);
    expect(result.stderr + result.stdout).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
    expect(mutationCount()).toBe(before);
    expectNoToken(result);
  });

  it('an account token given as the project token: explains the classic mistake', async () => {
    const account = emu.accountToken();
    const before = mutationCount();
    const result = await runAction({ action: 'railway-deploy', inputs: { ...base(), 'railway-token': account } });
    expect(result.exitCode).toBe(1);
    const errors = result.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/Input 'railway-token'.*Project Token not found.*not a project token/);
    expect(mutationCount()).toBe(before);
    expectNoToken(result, account);
  });

  it('an unknown token: names the input, never echoes it', async () => {
    const bogus = 'rw_bogus_0123456789abcdef';
    const result = await runAction({ action: 'railway-deploy', inputs: { ...base(), 'railway-token': bogus } });
    expect(result.exitCode).toBe(1);
    expect(result.annotations.find((a) => a.level === 'error')?.message).toMatch(/Input 'railway-token'/);
    expectNoToken(result, bogus);
  });
});

// Real-platform behaviours the library tests cover (railway-platform.test.ts), here through the bundle as the runner
// runs it: its own emulator, where every fresh deployment is unreadable for a while (the registration race).
describe('railway-deploy: Railway as it really behaves, through the bundle', () => {
  // "the backend may not have fully registered the deployment yet" (railwayapp/cli src/commands/up.rs, PR #743).
  // And the ACTIVE deployment reports canRollback: false (no public source says what it reports): the rollback
  // target recorded while it serves must still be used.
  const realRailway = useEmulatedProject({ registrationLagMs: 1500, activeCanRollback: false, workspace: 'acme' });
  let real: RailwayEmulator;
  let realProject: string;
  let realToken: string;
  let workspaceToken: string;
  beforeAll(() => {
    ({ emu: real, projectId: realProject, token: realToken } = realRailway);
    workspaceToken = real.workspaceToken(realRailway.workspaceId ?? '');
  });
  const realBase = (service: string) => ({ 'railway-token': realToken, 'api-url': real.url, service, timeout: '2m' });

  it('a fresh deployment unreadable for 1.5 s (registration race) is tracked to SUCCESS, sent once', async () => {
    const id = real.addService(realProject, {
      name: 'race',
      source: { repo: 'acme/shop' },
      app: false,
      autoDeploy: false,
    }).id;
    const t0 = Date.now();
    const result = await runAction({
      action: 'railway-deploy',
      inputs: { ...realBase('race'), subscriptions: 'false' },
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(result.outputs.status).toBe('SUCCESS');
    expect(real.deploymentsOf(id).filter((d) => Date.parse(d.createdAt) >= t0)).toHaveLength(1);
    expect(real.requests.filter((r) => r.at >= t0 && r.operationName === 'DeployServiceInstance')).toHaveLength(1);
    expect(result.stdout).toMatch(/could not read deployment .*still tracking it/);
  });

  it('the root action: the target recorded while it served (canRollback: false then) is rolled back to exactly', async () => {
    const id = real.addService(realProject, {
      name: 'rb-api',
      source: { repo: 'acme/shop' },
      app: { version: 'v1' },
      autoDeploy: false,
    }).id;
    const good = real.supersede(id, { app: { version: 'v1' } });
    await real.waitForStatus(good, 'SUCCESS', 30_000);
    await new Promise((r) => setTimeout(r, 1600)); // past this emulator's registration lag: v1 is listed
    real.scriptDeployment(id, { app: { version: 'v2', healthy: false } });
    const t0 = Date.now();
    const url = real.serviceUrl(id);
    const result = await runAction({
      action: '.',
      inputs: {
        ...realBase('rb-api'),
        'health-url': `${url}/health`,
        'health-interval': '200ms',
        'health-timeout': '3s',
        'consecutive-successes': '2',
        'verify-window': '1s',
      },
    });
    expect(result.outputs.result, result.stdout).toBe('rolled-back');
    const entry = (JSON.parse(result.outputs.deployments ?? '[]') as Array<Record<string, unknown>>)[0] ?? {};
    expect(entry.rollbackTargetId).toBe(good);
    const rollback = real.activeDeployment(id);
    expect(rollback?.kind).toBe('rollback');
    expect(rollback?.sourceDeploymentId).toBe(good);
    expect(result.outputs['production-deployment-id']).toBe(rollback?.id);
    expect(real.requests.filter((r) => r.at >= t0 && r.operationName === 'RollbackDeployment')).toHaveLength(1);
    expect(real.requests.filter((r) => r.at >= t0 && r.operationName === 'RedeployDeployment')).toHaveLength(0);
  });

  it('a workspace token (Bearer, no personal projects) resolves the workspace project by name and deploys', async () => {
    const id = real.addService(realProject, {
      name: 'ws-api',
      source: { repo: 'acme/shop' },
      app: false,
      autoDeploy: false,
    }).id;
    const result = await runAction({
      action: 'railway-deploy',
      inputs: { ...realBase('ws-api'), 'railway-token': workspaceToken, project: 'shop', environment: 'production' },
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(real.deployment(result.outputs['deployment-id'] ?? '')?.serviceId).toBe(id);
    // Resolved with project(id)/workspace projects, never `me` (workspace tokens cannot read it, docs integrations/api.md).
    const ops = real.requests
      .filter((r) => r.headers.authorization === `Bearer ${workspaceToken}`)
      .map((r) => r.operationName);
    expect(ops).toContain('TokenWorkspaces');
    expect(ops).not.toContain('Me');
    expect(result.allText).not.toContain(workspaceToken);
  });

  it('an upload like `railway up`: parent ignore files apply, and `url` is the app (verified domain), never the dashboard link', async () => {
    const id = real.addService(realProject, {
      name: 'up-api',
      source: { repo: 'acme/shop' },
      app: false,
      autoDeploy: false,
      customDomain: { domain: 'api.example.test', verified: false },
    }).id;
    const workspace = await mkdtemp(path.join(tmpdir(), 'rail-real-up-'));
    try {
      const files: Record<string, string> = {
        '.git/HEAD': 'ref: refs/heads/main',
        '.gitignore': '*.log\n',
        'app/server.js': 'x',
        'app/debug.log': 'x',
        'app/package.json': '{}',
      };
      for (const [rel, content] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(workspace, rel)), { recursive: true });
        await writeFile(path.join(workspace, rel), content);
      }
      const result = await runAction({
        action: 'railway-deploy',
        inputs: { ...realBase('up-api'), source: 'upload', path: 'app' },
        cwd: workspace,
      });
      expect(result.exitCode, result.stderr + result.stdout).toBe(0);
      const upload = real.uploads.find((u) => u.deploymentId === result.outputs['deployment-id']);
      // The repository root's .gitignore (a PARENT of the uploaded directory) applies, as in the CLI's walker.
      expect(upload?.files.sort()).toEqual(['package.json', 'server.js']);
      // The custom domain is not verified yet: the Railway domain is the app's address; the /up `url` is a dashboard.
      const url = result.outputs.url ?? '';
      expect(url).toMatch(/^https:\/\/up-api-production-[0-9a-f]{4}\.up\.railway\.app$/);
      expect(url).not.toContain('api.example.test');
      expect(real.deployment(result.outputs['deployment-id'] ?? '')?.serviceId).toBe(id);
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });
});
