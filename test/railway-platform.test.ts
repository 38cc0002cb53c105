// The Railway client against behaviours of the real platform the emulator models, each cited where the emulator
// implements it (test/railway-emulator): GitHub autodeploy, watch-path skips, account/workspace tokens, canRollback
// of the active deployment, `railway up` archive rules, image sources per environment. Assertions read the
// emulator's actual state.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/core/errors.js';
import {
  RailwayClient,
  checkSourceFits,
  createUploadTarball,
  findDeploymentOfCommit,
  getAutoDeployStatus,
  getServiceInstance,
  listDeployments,
  listUploadFiles,
  listVisibleProjects,
  pickRollbackTarget,
  planCommitDeploy,
  planUploadRoot,
  resolveTarget,
  rollbackTo,
  serviceUrlOf,
  triggerDeployment,
  waitForDeployment,
  type ServiceScope,
} from '../src/railway/index.js';
import {
  CLIENT_PHASES,
  startEmulatedProject,
  useEmulatedProject,
  type EmulatedProjectOptions,
} from './helpers/emulator.js';
import type { AddServiceOptions, EmulatorOptions, RailwayEmulator } from './railway-emulator/index.js';

const emulators: RailwayEmulator[] = [];
const clients: RailwayClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

/** A fresh emulator per test (faults and settings must not leak), closed after it. */
async function fresh(opts: EmulatedProjectOptions = {}) {
  const p = await startEmulatedProject({ ...CLIENT_PHASES, ...opts });
  emulators.push(p.emu);
  return p;
}

async function connect(emu: RailwayEmulator, token: string): Promise<RailwayClient> {
  const c = await RailwayClient.connect({
    token,
    apiUrl: emu.url,
    deadline: Date.now() + 30_000,
    backoff: { initialDelayMs: 50, maxDelayMs: 300, factor: 2 },
  });
  clients.push(c);
  return c;
}

async function seed(
  opts: EmulatorOptions = {},
  service: AddServiceOptions = { name: 'api', source: { repo: 'acme/shop' } },
) {
  const {
    emu,
    projectId,
    environmentId: envId,
    services,
    token,
  } = await fresh({ ...opts, services: [{ app: false, ...service }] });
  const serviceId = services[service.name] ?? '';
  const client = await connect(emu, token);
  const scope: ServiceScope = { projectId, environmentId: envId, serviceId };
  return { emu, projectId, envId, serviceId, client, scope };
}

const sha = (c: string) => c.repeat(40);
const deploymentsOfCommit = (emu: RailwayEmulator, serviceId: string, commit: string) =>
  emu.deploymentsOf(serviceId).filter((d) => d.commitSha === commit);

describe("GitHub autodeploy: adopt Railway's own deployment of the commit instead of deploying it twice", () => {
  it('reads the autodeploy status (on by default for a repo service, off when disabled, never for an image service)', async () => {
    const s = await seed();
    expect(await getAutoDeployStatus(s.client, s.scope)).toEqual({ enabled: true, canEnable: false, reason: null });
    s.emu.setAutoDeploy(s.serviceId, false);
    expect((await getAutoDeployStatus(s.client, s.scope)).enabled).toBe(false);
    const img = s.emu.addService(s.projectId, { name: 'img', source: { image: 'nginx:1' }, app: false });
    expect(await getAutoDeployStatus(s.client, { ...s.scope, serviceId: img.id })).toMatchObject({
      enabled: false,
      canEnable: false,
    });
  });

  it('a push Railway deploys by itself (webhook 600 ms later) is adopted: one deployment of the commit, live', async () => {
    const s = await seed();
    const pushed = s.emu.push(s.serviceId, sha('a'), { delayMs: 600 });
    const plan = await planCommitDeploy(s.client, s.scope, 'api', sha('a'), { whenAutodeploy: 'refuse', waitMs: 5000 });
    expect(plan.action).toBe('adopt');
    if (plan.action !== 'adopt') throw new Error('unreachable');
    expect(plan.deployment.id).toBe(await pushed);
    expect(plan.autodeploy?.enabled).toBe(true);
    const result = await waitForDeployment(s.client, plan.deployment.id, {
      deadline: Date.now() + 20_000,
      scope: s.scope,
    });
    expect(result.outcome).toBe('success');
    expect(deploymentsOfCommit(s.emu, s.serviceId, sha('a'))).toHaveLength(1);
    expect(s.emu.activeDeployment(s.serviceId)?.kind).toBe('github');
    expect(s.emu.requests.some((r) => r.operationName === 'DeployServiceInstance')).toBe(false);
  });

  it('autodeploy on but no deployment of the commit appears: refuse with instructions, or deploy when asked to', async () => {
    const s = await seed();
    await s.emu.push(s.serviceId, sha('b'), { branch: 'feature' }); // not the trigger branch: Railway does nothing
    const refused = await planCommitDeploy(s.client, s.scope, 'api', sha('b'), {
      whenAutodeploy: 'refuse',
      waitMs: 300,
    });
    expect(refused.action).toBe('refuse');
    expect(refused.action === 'refuse' && refused.message).toMatch(
      /deploys every push by itself.*build it twice.*turn autodeploy off/,
    );
    expect(
      (await planCommitDeploy(s.client, s.scope, 'api', sha('b'), { whenAutodeploy: 'adopt', waitMs: 300 })).action,
    ).toBe('deploy');
    s.emu.setAutoDeploy(s.serviceId, false);
    const t0 = Date.now();
    expect(
      (await planCommitDeploy(s.client, s.scope, 'api', sha('b'), { whenAutodeploy: 'refuse', waitMs: 10_000 })).action,
    ).toBe('deploy');
    expect(Date.now() - t0).toBeLessThan(3000); // autodeploy off: nothing to wait for
  });

  it("the hazard it prevents: deploying the commit too makes Railway's later autodeploy supersede ours", async () => {
    const s = await seed();
    s.emu.scriptDeployment(s.serviceId, { buildMs: 2000 });
    const instance = await getServiceInstance(s.client, s.scope);
    const ours = await triggerDeployment(s.client, s.scope, instance, { kind: 'commit', commitSha: sha('c') });
    const waiting = waitForDeployment(s.client, ours.deploymentId, { deadline: Date.now() + 20_000, scope: s.scope });
    const railways = await s.emu.push(s.serviceId, sha('c'), { delayMs: 300 });
    const result = await waiting;
    expect(result).toMatchObject({ outcome: 'superseded', supersededBy: railways, verdict: 'undecided' });
    expect(deploymentsOfCommit(s.emu, s.serviceId, sha('c'))).toHaveLength(2); // built twice
    // Railway's deployment of the commit is found among recent ones (ours excluded) and is the one that goes live.
    expect(
      (await findDeploymentOfCommit(s.client, s.scope, sha('c').slice(0, 7), { exclude: [ours.deploymentId] }))?.id,
    ).toBe(railways);
    await s.emu.waitForStatus(railways ?? '', 'SUCCESS');
  });

  it('a rollback target is never a deployment of the release commit, even when Railway already runs it', async () => {
    const s = await seed();
    const before = await s.emu.push(s.serviceId, sha('d'));
    await s.emu.waitForStatus(before ?? '', 'SUCCESS');
    const release = await s.emu.push(s.serviceId, sha('e')); // autodeploy got there first
    await s.emu.waitForStatus(release ?? '', 'SUCCESS');
    const list = await listDeployments(s.client, s.scope);
    expect(pickRollbackTarget(list)?.id).toBe(release);
    expect(pickRollbackTarget(list, { excludeCommit: sha('e') })?.id).toBe(before);
  });

  it('a commit deploy without commitSha is refused before anything is sent (V2 would redeploy the old commit)', async () => {
    const s = await seed();
    s.emu.setAutoDeploy(s.serviceId, false);
    const instance = await getServiceInstance(s.client, s.scope);
    const sentBefore = s.emu.requests.length;
    const err = await triggerDeployment(s.client, s.scope, instance, { kind: 'commit' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe('commit-sha');
    expect(() => checkSourceFits('api', instance, { kind: 'commit' })).toThrow(
      /Input 'commit-sha'.*not the one just pushed/,
    );
    expect(s.emu.requests.length).toBe(sentBefore);
  });
});

describe('SKIPPED is its own outcome: nothing deployed, production unchanged — not a failure', () => {
  it('watch paths matched no changed file → outcome skipped, verdict unchanged, reason watch-paths; the live one stays', async () => {
    const s = await seed({}, { name: 'api', source: { repo: 'acme/mono' }, watchPatterns: ['/apps/api/**'] });
    const live = await s.emu.push(s.serviceId, sha('1'), { changedFiles: ['apps/api/index.ts'] });
    await s.emu.waitForStatus(live ?? '', 'SUCCESS');
    const skipped = await s.emu.push(s.serviceId, sha('2'), { changedFiles: ['docs/guide.md'] });
    const result = await waitForDeployment(s.client, skipped ?? '', { deadline: Date.now() + 20_000, scope: s.scope });
    expect(result).toMatchObject({
      outcome: 'skipped',
      ok: false,
      verdict: 'unchanged',
      skipReason: 'watch-paths',
      status: 'SKIPPED',
    });
    expect(result.message).toMatch(/No changed files matched patterns.*unchanged/);
    expect(s.emu.activeDeployment(s.serviceId)?.id).toBe(live);
  });

  it('a scripted skip and a failed Wait-for-CI are both "unchanged"; only the first is attributed to watch paths', async () => {
    const s = await seed();
    s.emu.setAutoDeploy(s.serviceId, false);
    const instance = await getServiceInstance(s.client, s.scope);
    s.emu.scriptDeployment(s.serviceId, { outcome: 'SKIPPED', skipReason: 'watch-paths' });
    const a = await triggerDeployment(s.client, s.scope, instance, { kind: 'commit', commitSha: sha('3') });
    expect(
      await waitForDeployment(s.client, a.deploymentId, { deadline: Date.now() + 20_000, scope: s.scope }),
    ).toMatchObject({ verdict: 'unchanged', skipReason: 'watch-paths' });
    s.emu.scriptDeployment(s.serviceId, { outcome: 'SKIPPED' });
    const b = await triggerDeployment(s.client, s.scope, instance, { kind: 'commit', commitSha: sha('4') });
    const rb = await waitForDeployment(s.client, b.deploymentId, { deadline: Date.now() + 20_000, scope: s.scope });
    expect(rb).toMatchObject({ outcome: 'skipped', verdict: 'unchanged', skipReason: 'wait-for-ci-or-unknown' });
    expect(rb.message).toMatch(/Wait for CI/);
  });
});

describe('account and workspace tokens', () => {
  const api: AddServiceOptions = { name: 'api', source: { repo: 'acme/x' }, app: false };
  // The fixture's project is the personal one (no workspace); the others are added to the same emulator.
  const railway = useEmulatedProject({ apps: false, project: 'side-project', services: [api] });
  let emu: RailwayEmulator;
  let ids: Record<string, string>;
  beforeAll(() => {
    emu = railway.emu;
    const acme = emu.addWorkspace({ name: 'acme' });
    const labs = emu.addWorkspace({ name: 'labs' });
    const foreign = emu.addWorkspace({ name: 'someone-else', member: false });
    const team = railway.addProject({ project: 'storefront', workspaceId: acme.id, services: [api] });
    const dupA = railway.addProject({ project: 'twin', workspaceId: acme.id, services: [api] });
    railway.addProject({ project: 'twin', workspaceId: labs.id, services: [api] });
    const hidden = railway.addProject({ project: 'hidden', workspaceId: foreign.id, services: [api] });
    ids = {
      acme: acme.id,
      personal: railway.projectId,
      team: team.projectId,
      dupA: dupA.projectId,
      hidden: hidden.projectId,
      acmeToken: emu.workspaceToken(acme.id),
      account: emu.accountToken(),
    };
  });
  const bearer = (token: string) => RailwayClient.connect({ token, apiUrl: emu.url, deadline: Date.now() + 20_000 });

  it('a workspace token is detected with apiToken (not `me`, not personal projects) and knows its one workspace', async () => {
    const client = await bearer(ids.acmeToken ?? '');
    expect(client.tokenKind).toBe('account');
    expect(await client.tokenWorkspaces()).toEqual([{ id: ids.acme, name: 'acme' }]);
    const probes = emu.requests
      .filter((r) => r.headers.authorization === `Bearer ${ids.acmeToken}`)
      .map((r) => r.operationName);
    expect(probes).toEqual(['TokenWorkspaces']);
  });

  it('a workspace token resolves its projects by name and refuses personal ones, listing what it sees', async () => {
    const client = await bearer(ids.acmeToken ?? '');
    const t = await resolveTarget(client, { project: 'storefront', environment: 'production', services: ['api'] });
    expect(t.project.id).toBe(ids.team);
    await expect(
      resolveTarget(client, { project: 'side-project', environment: 'production', services: ['api'] }),
    ).rejects.toThrow(/Input 'project': no project 'side-project'.*'storefront'/);
    expect((await listVisibleProjects(client)).map((p) => p.name).sort()).toEqual(['storefront', 'twin']);
  });

  it("an account token sees personal projects (projects without workspaceId) and every member workspace's", async () => {
    const client = await bearer(ids.account ?? '');
    const visible = await listVisibleProjects(client);
    expect(visible.map((p) => `${p.workspace ?? 'personal'}/${p.name}`).sort()).toEqual([
      'acme/storefront',
      'acme/twin',
      'labs/twin',
      'personal/side-project',
    ]);
    expect(
      (await resolveTarget(client, { project: 'side-project', environment: 'production', services: ['api'] })).project
        .id,
    ).toBe(ids.personal);
    await expect(
      resolveTarget(client, { project: 'twin', environment: 'production', services: ['api'] }),
    ).rejects.toThrow(/'twin' is ambiguous.*workspace acme.*workspace labs.*use the id/);
  });

  it('a project given by id is read with project(id) — no enumeration — and an invisible id is refused by name lookup', async () => {
    const client = await bearer(ids.account ?? '');
    const from = emu.requests.length;
    const t = await resolveTarget(client, { project: ids.dupA ?? '', environment: 'production', services: ['api'] });
    expect(t.project.id).toBe(ids.dupA);
    expect(emu.requests.slice(from).map((r) => r.operationName)).toEqual(['ProjectTopology', 'ProjectTopology']);
    await expect(
      resolveTarget(client, { project: ids.hidden ?? '', environment: 'production', services: ['api'] }),
    ).rejects.toThrow(/Input 'project': no project/);
  });
});

describe('rollback re-reads canRollback: the active deployment may not report it', () => {
  it('target recorded while active (canRollback false then) → after the bad release it is rolled back, exactly', async () => {
    const s = await seed({ activeCanRollback: false });
    s.emu.setAutoDeploy(s.serviceId, false);
    const instance = await getServiceInstance(s.client, s.scope);
    const good = (await triggerDeployment(s.client, s.scope, instance, { kind: 'commit', commitSha: sha('5') }))
      .deploymentId;
    await s.emu.waitForStatus(good, 'SUCCESS');
    const before = await listDeployments(s.client, s.scope);
    expect(before.find((d) => d.id === good)?.canRollback).toBe(false);
    const target = pickRollbackTarget(before, { excludeCommit: sha('6') });
    expect(target?.id).toBe(good); // recorded although it reported canRollback: false
    const bad = (await triggerDeployment(s.client, s.scope, instance, { kind: 'commit', commitSha: sha('6') }))
      .deploymentId;
    await s.emu.waitForStatus(bad, 'SUCCESS');
    await s.emu.waitForStatus(good, 'REMOVED');
    const r = await rollbackTo(s.client, s.scope, good, { deadline: Date.now() + 20_000 });
    expect(r).toMatchObject({ ok: true, method: 'rollback', exact: true });
    expect(s.emu.activeDeployment(s.serviceId)).toMatchObject({
      id: r.deploymentId,
      kind: 'rollback',
      sourceDeploymentId: good,
    });
  });

  it('an image service whose image expired is redeployed — and told that a mutable tag is not a rollback', async () => {
    const s = await seed({}, { name: 'img', source: { image: 'ghcr.io/acme/img:latest' } });
    const instance = await getServiceInstance(s.client, s.scope);
    const good = (await triggerDeployment(s.client, s.scope, instance, { kind: 'image' })).deploymentId;
    await s.emu.waitForStatus(good, 'SUCCESS');
    const bad = (
      await triggerDeployment(s.client, s.scope, instance, { kind: 'image', image: 'ghcr.io/acme/img:broken' })
    ).deploymentId;
    await s.emu.waitForStatus(bad, 'SUCCESS');
    s.emu.expireImages(s.serviceId);
    const r = await rollbackTo(s.client, s.scope, good, { deadline: Date.now() + 20_000 });
    expect(r).toMatchObject({ ok: true, method: 'redeploy', exact: false });
    expect(r.warning).toMatch(/pulls the image tag ghcr\.io\/acme\/img:latest again.*NOT a rollback/);
    expect(s.emu.activeDeployment(s.serviceId)).toMatchObject({ kind: 'redeploy', image: 'ghcr.io/acme/img:latest' });
  });
});

describe('image deploys always name the environment', () => {
  it('switching the image in production leaves staging on its image', async () => {
    const {
      emu,
      projectId,
      environmentId: prod,
      environments,
      services,
    } = await fresh({
      otherEnvironments: ['staging'],
      services: [{ name: 'img', source: { image: 'ghcr.io/acme/img:v1' }, app: false }],
    });
    const staging = environments.staging ?? '';
    const img = services.img ?? '';
    const client = await connect(emu, emu.accountToken());
    const scope = { projectId, environmentId: prod, serviceId: img };
    const instance = await getServiceInstance(client, scope);
    const started = await triggerDeployment(client, scope, instance, { kind: 'image', image: 'ghcr.io/acme/img:v2' });
    expect(emu.deployment(started.deploymentId)?.image).toBe('ghcr.io/acme/img:v2');
    const update = emu.requests.find((r) => r.operationName === 'SetServiceImage');
    expect(update?.variables).toMatchObject({ environmentId: prod });
    expect((await getServiceInstance(client, { ...scope, environmentId: staging })).source?.image).toBe(
      'ghcr.io/acme/img:v1',
    );
  });
});

describe('uploads like `railway up`', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await mkdtemp(path.join(tmpdir(), 'rail-up-'));
    const files: Record<string, string> = {
      '.git/HEAD': 'ref: refs/heads/main',
      '.git/info/exclude': 'excluded-by-git.txt\n',
      '.gitignore': '*.log\nsecret.env\n',
      '.ignore': 'scratch/\n',
      'apps/api/package.json': '{}',
      'apps/api/index.js': '1',
      'apps/api/debug.log': 'x',
      'apps/api/keep.log': 'x',
      'apps/api/.railwayignore': '!keep.log\n',
      'apps/api/secret.env': 'x',
      'apps/api/excluded-by-git.txt': 'x',
      'apps/api/scratch/tmp.txt': 'x',
      'apps/api/.ignore': 'local/\n',
      'apps/api/local/x.txt': 'x',
      'apps/api/node_modules/x/index.js': 'x',
      'apps/web/index.html': '<p>',
    };
    for (const [rel, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(repo, rel)), { recursive: true });
      await writeFile(path.join(repo, rel), content);
    }
  });
  afterAll(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it('ignore files of PARENT directories apply (.gitignore up to the repo root, .ignore, .git/info/exclude); .railwayignore overrides', async () => {
    const files = await listUploadFiles(path.join(repo, 'apps/api'));
    expect(files).toEqual(['.ignore', '.railwayignore', 'index.js', 'keep.log', 'package.json']);
    // --no-gitignore drops the git rules only (.ignore and .railwayignore still apply).
    expect(await listUploadFiles(path.join(repo, 'apps/api'), { noGitignore: true })).toEqual([
      '.ignore',
      '.railwayignore',
      'debug.log',
      'excluded-by-git.txt',
      'index.js',
      'keep.log',
      'package.json',
      'secret.env',
    ]);
  });

  it('.gitignore applies only inside a git repository and not above its root; .ignore applies anywhere', async () => {
    const outer = await mkdtemp(path.join(tmpdir(), 'rail-outer-'));
    try {
      await writeFile(path.join(outer, '.gitignore'), 'app.log\n');
      await mkdir(path.join(outer, 'plain'), { recursive: true });
      await writeFile(path.join(outer, 'plain', 'app.log'), 'x');
      await writeFile(path.join(outer, 'plain', '.ignore'), 'tmp.txt\n');
      await writeFile(path.join(outer, 'plain', 'tmp.txt'), 'x');
      expect(await listUploadFiles(path.join(outer, 'plain'))).toEqual(['.ignore', 'app.log']);
      await mkdir(path.join(outer, 'plain', '.git'));
      expect(await listUploadFiles(path.join(outer, 'plain'))).toEqual(['.ignore', 'app.log']); // the .gitignore is above the repo root
      await writeFile(path.join(outer, 'plain', '.gitignore'), '*.log\n');
      expect(await listUploadFiles(path.join(outer, 'plain'))).toEqual(['.gitignore', '.ignore']);
    } finally {
      await rm(outer, { recursive: true, force: true });
    }
  });

  it('Root Directory: the archive keeps the apps/api prefix (planUploadRoot) and builds; a path-as-root archive is refused first', async () => {
    const s = await seed({}, { name: 'api', rootDirectory: '/apps/api' });
    const instance = await getServiceInstance(s.client, s.scope);
    expect(instance.rootDirectory).toBe('/apps/api');
    const dir = path.join(repo, 'apps/api');
    const flat = await createUploadTarball(dir);
    expect(() =>
      checkSourceFits('api', instance, { kind: 'upload', dir, tarball: flat.body, files: flat.files }),
    ).toThrow(/Input 'path'.*Root Directory '\/apps\/api'.*no files under 'apps\/api\/'/);
    const { archiveRoot } = planUploadRoot(dir, instance.rootDirectory, 'api');
    expect(archiveRoot).toBe(repo);
    expect(planUploadRoot(repo, instance.rootDirectory, 'api').archiveRoot).toBe(repo);
    expect(() => planUploadRoot(path.join(repo, 'apps/web'), instance.rootDirectory, 'api')).toThrow(
      /neither is that directory nor contains it/,
    );
    expect(planUploadRoot(dir, null, 'api').archiveRoot).toBe(dir);
    const prefixed = await createUploadTarball(dir, { archiveRoot });
    expect(prefixed.files).toEqual([
      'apps/api/.ignore',
      'apps/api/.railwayignore',
      'apps/api/index.js',
      'apps/api/keep.log',
      'apps/api/package.json',
    ]);
    const source = { kind: 'upload' as const, dir, tarball: prefixed.body, files: prefixed.files };
    checkSourceFits('api', instance, source);
    const started = await triggerDeployment(s.client, s.scope, instance, source);
    expect(
      (await waitForDeployment(s.client, started.deploymentId, { deadline: Date.now() + 20_000, scope: s.scope }))
        .outcome,
    ).toBe('success');
    // What the emulator did with a flat archive (had it been sent): Railway fails to find the Root Directory.
    const wrong = await triggerDeployment(s.client, s.scope, instance, {
      kind: 'upload',
      dir,
      tarball: flat.body,
      files: flat.files,
    });
    expect(
      await waitForDeployment(s.client, wrong.deploymentId, { deadline: Date.now() + 20_000, scope: s.scope }),
    ).toMatchObject({ outcome: 'failed' });
  });

  it('the service URL is a verified custom domain, else the Railway domain — never an unverified one', async () => {
    const s = await seed(
      {},
      { name: 'web', source: { repo: 'acme/web' }, customDomain: { domain: 'www.example.com' } },
    );
    const railwayDomain = serviceUrlOf(await getServiceInstance(s.client, s.scope));
    expect(railwayDomain).toMatch(/^https:\/\/web-production-.*\.up\.railway\.app$/);
    s.emu.verifyCustomDomain(s.serviceId);
    expect(serviceUrlOf(await getServiceInstance(s.client, s.scope))).toBe('https://www.example.com');
  });
});
