// The fault table: the bundled root action (deploy → verify → roll back) run through the harness against the Railway
// emulator while Railway misbehaves the way it really can. Every scenario compares what the action REPORTS (result,
// production-deployment-id per service, needs-human) with what the emulator ACTUALLY runs at that moment (the active
// deployment, how many deployments and requests exist) — not with what the code meant to do. The table is printed at
// the end (scenario → final state reported → emulator state → pass); its markdown goes into the README.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction, startAction, type ActionResult } from './harness/index.js';
import { useEmulatedProject, type SeededProject } from './helpers/emulator.js';
import type { RailwayEmulator } from './railway-emulator/index.js';

const railway = useEmulatedProject({ project: 'faults' });
let emu: RailwayEmulator;
let token: string;
let counter = 0;

beforeAll(() => {
  ({ emu, token } = railway);
});

interface Row {
  scenario: string;
  /** The same scenario, a later moment (the post step after the main step). */
  continued?: boolean;
  reported: string;
  actual: string;
  pass: boolean;
}
const rows: Row[] = [];

afterAll(() => {
  const md = [
    `| # | Scenario | Final state reported by the action | Emulator's actual state | Pass |`,
    '|---|---|---|---|---|',
    ...rows.map((r, i) => `| ${i + 1} | ${r.scenario} | ${r.reported} | ${r.actual} | ${r.pass ? '✅' : '❌'} |`),
  ].join('\n');
  const scenarios = rows.filter((r) => !r.continued).length;
  console.log(
    `\nFault table (${scenarios} scenarios in ${rows.length} rows, ${rows.filter((r) => r.pass).length} rows pass):\n\n${md}\n`,
  );
});

interface Svc {
  id: string;
  name: string;
  good: string;
  url: string;
}

/** A fresh service with a known-good v1 serving. Autodeploy off unless asked: this pipeline is the only deployer. */
async function service(opts: { domain?: boolean; autoDeploy?: boolean; prefix?: string } = {}): Promise<Svc> {
  const name = `${opts.prefix ?? 'svc'}${++counter}`;
  const { id, deploymentId: good } = await railway.goodService(
    {
      name,
      source: { repo: 'acme/faults' },
      app: { version: 'v1' },
      domain: opts.domain ?? true,
      autoDeploy: opts.autoDeploy ?? false,
    },
    { app: { version: 'v1' } },
  );
  return { id, name, good, url: emu.serviceUrl(id) };
}

const inputs = (svc: Svc, extra: Record<string, string> = {}): Record<string, string> => ({
  'railway-token': token,
  'api-url': emu.url,
  service: svc.name,
  timeout: '2m',
  'health-url': `${svc.url}/health`,
  'consecutive-successes': '2',
  'health-interval': '200ms',
  'health-timeout': '5s',
  'verify-window': '1s',
  ...extra,
});

const short = (id: string | undefined): string => (id ? id.slice(0, 8) : '—');
const sent = (op: string, since: number): number =>
  emu.requests.filter((r) => r.at >= since && r.operationName === op).length;
const createdSince = (serviceId: string, since: number) =>
  emu.deploymentsOf(serviceId).filter((d) => Date.parse(d.createdAt) >= since);
const entries = (r: ActionResult): Array<Record<string, unknown>> =>
  JSON.parse(r.outputs.deployments ?? '[]') as Array<Record<string, unknown>>;

/**
 * Compares the action's report with the emulator NOW: production-deployment-id per service must be the active
 * deployment, the result one of `results`, and every extra fact true. Records the row first (so a failing scenario is
 * still in the table), then asserts.
 */
function compare(
  scenario: string,
  outputs: Record<string, string>,
  services: Svc[],
  results: string[],
  facts: Array<[string, boolean]>,
  note = '',
  continued = false,
): void {
  const reportedIds = (outputs['production-deployment-id'] ?? '').split('\n');
  const actualIds = services.map((s) => emu.activeDeployment(s.id)?.id ?? '');
  const idsMatch = services.every((_, i) => (reportedIds[i] ?? '') === actualIds[i]);
  // A post step has no outputs a workflow can read: it is judged by what it says Railway runs (results = []).
  const resultOk = results.length === 0 ? outputs.result === undefined : results.includes(outputs.result ?? '');
  const label = (ids: string[]) =>
    services
      .map((s, i) => `${services.length > 1 ? `${s.name.replace(/\d+$/, '')}=` : ''}\`${short(ids[i])}\``)
      .join(', ');
  const head = outputs.result === undefined ? 'post step' : `**${outputs.result}**`;
  const reported = `${head}${outputs['needs-human'] === 'true' ? ' (needs-human)' : ''}; production ${label(reportedIds)}${note ? `; ${note}` : ''}`;
  const actual = `active ${label(actualIds)}; ${facts.map(([f, ok]) => `${f}${ok ? '' : ' ✗'}`).join('; ')}`;
  rows.push({
    scenario,
    reported,
    actual,
    pass: idsMatch && resultOk && facts.every(([, ok]) => ok),
    ...(continued ? { continued } : {}),
  });
  expect(
    reportedIds.slice(0, services.length),
    `${scenario}: production-deployment-id vs the emulator's active deployment`,
  ).toEqual(actualIds);
  expect(
    resultOk,
    `${scenario}: result ${outputs.result ?? '(none)'} is one of ${results.join(', ') || '(none: a post step)'}`,
  ).toBe(true);
  for (const [fact, ok] of facts) expect(ok, `${scenario}: ${fact}`).toBe(true);
}

/** A post step's report in compare()'s terms: what it says runs (it has no outputs), and whether it asks for a human. */
function postOutputs(post: ActionResult, svc: Svc): Record<string, string> {
  return {
    'production-deployment-id': new RegExp(`production-deployment-id: ${svc.name}=(\\S*)`).exec(post.stdout)?.[1] ?? '',
    'needs-human': /NEEDS A HUMAN/.test(post.stdout) ? 'true' : 'false',
  };
}

describe('fault table: what the root action reports is what Railway runs', () => {
  it('a status read answered HTTP 200 with errors[] is ridden out', async () => {
    const svc = await service();
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { app: { version: 'v2' } });
    emu.faults.failOperation('GetDeployment', { graphqlError: 'Internal server error: upstream request timeout' });
    // Polling only, so the waiter's status reads are HTTP requests the fault can hit.
    const r = await runAction({ action: '.', inputs: inputs(svc, { subscriptions: 'false' }) });
    const created = createdSince(svc.id, t0);
    compare(
      'a status read answered HTTP 200 with `errors[]`',
      r.outputs,
      [svc],
      ['deployed'],
      [
        [`${created.length} deployment created`, created.length === 1],
        ['the read error was ridden out', /could not read deployment .*still tracking it/.test(r.stdout)],
      ],
    );
    expect(r.exitCode).toBe(0);
  });

  it('a deploy request accepted but never answered is found by reading state, not sent again', async () => {
    const svc = await service();
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { app: { version: 'v2' } });
    emu.faults.loseAnswer('serviceInstanceDeployV2', { as: 'hang' });
    const r = await runAction({ action: '.', inputs: inputs(svc), env: { RAILWAY_HTTP_TIMEOUT: '2' } });
    const created = createdSince(svc.id, t0);
    compare(
      'deploy request accepted, never answered (`loseAnswer` hang, 2 s HTTP timeout)',
      r.outputs,
      [svc],
      ['deployed'],
      [
        [`${created.length} deployment`, created.length === 1],
        [`deploy sent ${sent('DeployServiceInstance', t0)}×`, sent('DeployServiceInstance', t0) === 1],
      ],
    );
    expect(r.stdout).toMatch(/answer was lost[\s\S]*it did take effect/);
  });

  it('Railway unreachable right after an answered deploy request (3 s outage) is waited out', async () => {
    const svc = await service();
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { app: { version: 'v2' } });
    emu.faults.outageAfter('serviceInstanceDeployV2', { durationMs: 3000 });
    const r = await runAction({ action: '.', inputs: inputs(svc) });
    const created = createdSince(svc.id, t0);
    const outage = emu.requests.filter((q) => q.at >= t0 && q.httpStatus === 503).length;
    compare(
      'Railway unreachable right after the deploy request (3 s `outageAfter`)',
      r.outputs,
      [svc],
      ['deployed'],
      [
        [`${created.length} deployment`, created.length === 1],
        [`${outage} request(s) met the outage`, outage > 0],
      ],
    );
  });

  it('the answer lost AND Railway unreachable past the timeout: unconfirmed, never retried, needs-human naming what runs', async () => {
    const svc = await service();
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { app: { version: 'v2' } });
    emu.faults.loseAnswer('serviceInstanceDeployV2');
    emu.faults.outageAfter('serviceInstanceDeployV2', { durationMs: 12_000 });
    const r = await runAction({ action: '.', inputs: inputs(svc, { timeout: '8s' }) });
    const created = createdSince(svc.id, t0);
    const json = entries(r)[0] ?? {};
    compare(
      'deploy answer lost, then Railway unreachable past `timeout` (12 s outage)',
      r.outputs,
      [svc],
      ['needs-human'],
      [
        [`${created.length} deployment (it landed)`, created.length === 1],
        [`deploy sent ${sent('DeployServiceInstance', t0)}× (never retried)`, sent('DeployServiceInstance', t0) === 1],
        [
          'needs-human names what runs',
          r.outputs['needs-human'] === 'true' &&
            String(json.needsHuman).includes(`Railway now runs ${created[0]?.id ?? '?'}`),
        ],
      ],
    );
    expect(json.verdict).toBe('unconfirmed');
    expect(r.exitCode).toBe(1);
  });

  it('the timeout reached while still building: the build is cancelled, the previous version still serves', async () => {
    const svc = await service();
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { buildMs: 60_000 });
    const r = await runAction({ action: '.', inputs: inputs(svc, { timeout: '5s' }) });
    const created = createdSince(svc.id, t0);
    compare(
      '`timeout` reached while still building',
      r.outputs,
      [svc],
      ['failed'],
      [
        [`build ${created[0]?.status ?? '?'} (cancelled)`, created.length === 1 && created[0]?.status === 'REMOVED'],
        ['previous still active', emu.activeDeployment(svc.id)?.id === svc.good],
        ['needs-human false', r.outputs['needs-human'] === 'false'],
      ],
    );
    expect(r.summary).toMatch(/cancelled \(was BUILDING\)/);
  });

  it('SIGTERM during the rollback wait: main reports what runs at its exit, the post step finishes and reports again', async () => {
    const svc = await service();
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { app: { version: 'v2', healthy: false } });
    // The rollback's deployment takes a while to answer, so the job is cancelled while Railway is still on it.
    emu.scriptDeployment(svc.id, { app: { startDelayMs: 6000 } });
    const running = startAction({ action: '.', inputs: inputs(svc, { 'health-timeout': '3s' }) });
    const out = await running.waitForOutput(/rolling back to \S+: new deployment (\S+)/, 60_000);
    const rollbackId = /rolling back to \S+: new deployment (\S+)/.exec(out)?.[1] ?? '';
    running.kill('SIGTERM');
    const main = await running.result;
    const bad = main.outputs['deployment-id'] ?? '';
    const atMainExit = emu.activeDeployment(svc.id)?.id;
    const onItsWay = ['INITIALIZING', 'QUEUED', 'BUILDING', 'DEPLOYING'].includes(
      emu.deployment(rollbackId)?.status ?? '',
    );
    compare(
      'SIGTERM during the rollback wait — main step',
      main.outputs,
      [svc],
      ['cancelled'],
      [
        [`rollback ${short(rollbackId)} still ${emu.deployment(rollbackId)?.status ?? '?'}`, onItsWay],
        ['needs-human names it', main.outputs['needs-human'] === 'true' && main.summary.includes(rollbackId)],
      ],
    );
    expect(atMainExit).toBe(bad);
    const post = await runAction({ action: '.', inputs: inputs(svc), phase: 'post', state: main.state });
    const rollbacks = createdSince(svc.id, t0).filter((d) => d.kind === 'rollback');
    expect(post.exitCode, post.stderr).toBe(0);
    compare(
      '… then its post step',
      postOutputs(post, svc),
      [svc],
      [],
      [
        [`${rollbacks.length} rollback deployment`, rollbacks.length === 1 && rollbacks[0]?.id === rollbackId],
        ['restored version verified', /went live; verified by HTTP/.test(post.stdout)],
        ['no human needed', !/NEEDS A HUMAN/.test(post.stdout)],
      ],
      'waited for the rollback, verified it',
      true,
    );
  });

  it('SIGTERM while the deploy request waits for its answer (it landed): the post step finds the build and cancels it', async () => {
    const svc = await service();
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { buildMs: 60_000, app: { version: 'v2' } });
    // The mutation takes effect, but its answer (the deployment id) never comes back before the job is cancelled.
    emu.faults.loseAnswer('serviceInstanceDeployV2', { as: 'hang' });
    const running = startAction({ action: '.', inputs: inputs(svc) });
    const building = await waitForNew(svc.id, t0);
    await emu.waitForStatus(building, 'BUILDING', 30_000);
    running.kill('SIGTERM');
    const main = await running.result;
    compare(
      'SIGTERM while the deploy request waits for its answer (it landed) — main step',
      main.outputs,
      [svc],
      ['cancelled'],
      [
        [
          `build ${short(building)} still ${emu.deployment(building)?.status ?? '?'} (main cannot know its id)`,
          emu.deployment(building)?.status === 'BUILDING',
        ],
        ['main says the request may have landed', /deploy request was on its way/.test(main.summary + main.stdout)],
      ],
    );
    const post = await runAction({ action: '.', inputs: inputs(svc), phase: 'post', state: main.state });
    const created = createdSince(svc.id, t0);
    expect(post.exitCode, post.stderr).toBe(0);
    compare(
      '… then its post step: finds the deployment by reading Railway, cancels it',
      postOutputs(post, svc),
      [svc],
      [],
      [
        [
          `build ${short(building)} ${created[0]?.status ?? '?'} (cancelled)`,
          created.length === 1 && created[0]?.status === 'REMOVED',
        ],
        [`${sent('DeployServiceInstance', t0)} deploy request`, sent('DeployServiceInstance', t0) === 1],
        ['previous still active', emu.activeDeployment(svc.id)?.id === svc.good],
        ['no human needed', !/NEEDS A HUMAN/.test(post.stdout)],
      ],
      `post step said: ${/cancelled the in-flight deployment \(was \w+\)/.exec(post.stdout)?.[0] ?? 'nothing cancelled'}`,
      true,
    );
    expect(post.stdout).toContain(building);
  });

  it('a 502 on the deploy mutation after it landed: exactly one deployment', async () => {
    const svc = await service();
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { app: { version: 'v2' } });
    emu.faults.loseAnswer('serviceInstanceDeployV2', { as: 'http', httpStatus: 502 });
    const r = await runAction({ action: '.', inputs: inputs(svc) });
    const created = createdSince(svc.id, t0);
    compare(
      'a 502 on the deploy mutation (it had landed)',
      r.outputs,
      [svc],
      ['deployed'],
      [
        [`${created.length} deployment`, created.length === 1],
        [`deploy sent ${sent('DeployServiceInstance', t0)}×`, sent('DeployServiceInstance', t0) === 1],
      ],
    );
  });

  it('a 502 on the deploy mutation before it landed: sent again after reading state, still exactly one deployment', async () => {
    const svc = await service();
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { app: { version: 'v2' } });
    emu.faults.failOperation('serviceInstanceDeployV2', { httpStatus: 502 });
    const r = await runAction({ action: '.', inputs: inputs(svc) });
    const created = createdSince(svc.id, t0);
    compare(
      'a 502 on the deploy mutation (it had not landed)',
      r.outputs,
      [svc],
      ['deployed'],
      [
        [`${created.length} deployment`, created.length === 1],
        [
          `deploy sent ${sent('DeployServiceInstance', t0)}× (the 2nd after state showed none)`,
          sent('DeployServiceInstance', t0) === 2,
        ],
      ],
    );
  });

  it('an upload answered with 502 after it landed: one upload, one deployment', async () => {
    const svc = await service();
    const workspace = await mkdtemp(path.join(tmpdir(), 'rail-faults-'));
    try {
      await writeFile(path.join(workspace, 'server.js'), 'console.log("v2")');
      const t0 = Date.now();
      emu.faults.loseAnswer('up', { as: 'http', httpStatus: 502 });
      const r = await runAction({ action: '.', inputs: inputs(svc, { source: 'upload', path: '.' }), cwd: workspace });
      const created = createdSince(svc.id, t0);
      const uploads = emu.uploads.filter((u) => u.serviceId === svc.id);
      compare(
        'an upload answered with 502 (it had landed)',
        r.outputs,
        [svc],
        ['deployed'],
        [
          [`${uploads.length} upload`, uploads.length === 1],
          [`${created.length} deployment`, created.length === 1],
        ],
      );
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });

  it('a rollback answered with 502 after it landed: exactly one rollback deployment, verified', async () => {
    const svc = await service();
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { app: { version: 'v2', healthy: false } });
    emu.faults.loseAnswer('deploymentRollback', { as: 'http', httpStatus: 502 });
    const r = await runAction({ action: '.', inputs: inputs(svc, { 'health-timeout': '3s' }) });
    const rollbacks = createdSince(svc.id, t0).filter((d) => d.kind === 'rollback');
    compare(
      'a rollback answered with 502 (it had landed)',
      r.outputs,
      [svc],
      ['rolled-back'],
      [
        [`${rollbacks.length} rollback deployment`, rollbacks.length === 1],
        [`rollback sent ${sent('RollbackDeployment', t0)}×`, sent('RollbackDeployment', t0) === 1],
      ],
    );
  });

  it('a literal expect-version with a rollback: the restored version is not asked for the new literal', async () => {
    const svc = await service();
    emu.scriptDeployment(svc.id, { app: { version: 'v2', healthy: false } });
    const r = await runAction({ action: '.', inputs: inputs(svc, { 'expect-version': 'v2', 'health-timeout': '3s' }) });
    const json = entries(r)[0] ?? {};
    compare(
      'literal `expect-version: v2`, release rolled back',
      r.outputs,
      [svc],
      ['rolled-back'],
      [
        ['restored v1 verified', json.rollbackHealthy === true],
        [
          'summary says the literal was not asked of it',
          /expect-version 'v2' names the release that was rolled back/.test(r.summary),
        ],
      ],
    );
  });

  it('a crash after the verify window: deployed is right for the window, and the summary says which window', async () => {
    const svc = await service();
    emu.scriptDeployment(svc.id, { app: { version: 'v2' }, crashAfterSuccessMs: 8000 });
    const r = await runAction({ action: '.', inputs: inputs(svc) });
    const id = r.outputs['deployment-id'] ?? '';
    const windowStated =
      /watched for verify-window \(1\.0s\)[^.]*; a crash after that window is not part of this verdict/.test(r.summary);
    compare(
      'the new version crashes after the verify window',
      r.outputs,
      [svc],
      ['deployed'],
      [
        ['summary states the 1.0 s window', windowStated],
        [`${short(id)} SUCCESS at exit`, emu.deployment(id)?.status === 'SUCCESS'],
      ],
      'healthy=true for the window',
    );
    await emu.waitForStatus(id, 'CRASHED', 30_000);
    rows[rows.length - 1] = {
      ...(rows[rows.length - 1] as Row),
      actual: `${(rows[rows.length - 1] as Row).actual}; CRASHED later, outside the window`,
    };
  });

  it('a SKIPPED sibling (watch paths): unchanged, not a failure; the healthy sibling is not rolled back', async () => {
    const api = await service({ prefix: 'api' });
    const worker = await service({ domain: false, prefix: 'worker' });
    const t0 = Date.now();
    emu.scriptDeployment(api.id, { app: { version: 'v2' } });
    emu.scriptDeployment(worker.id, { outcome: 'SKIPPED', skipReason: 'watch-paths' });
    const r = await runAction({
      action: '.',
      inputs: {
        ...inputs(api),
        service: `${api.name}\n${worker.name}`,
        'health-url': `${api.name}=${api.url}/health\n${worker.name}=none`,
      },
    });
    const w = entries(r)[1] ?? {};
    compare(
      'a sibling SKIPPED by watch paths',
      r.outputs,
      [api, worker],
      ['deployed'],
      [
        ['worker unchanged', w.verdict === 'unchanged' && emu.activeDeployment(worker.id)?.id === worker.good],
        [`${sent('RollbackDeployment', t0)} rollback`, sent('RollbackDeployment', t0) === 0],
        ['summary gives the reason', /watch paths/.test(r.summary)],
      ],
    );
    expect(r.exitCode).toBe(0);
  });

  it("GitHub autodeploy already deployed the commit: Railway's deployment is adopted, nothing is built twice", async () => {
    const svc = await service({ autoDeploy: true });
    const sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
    const t0 = Date.now();
    const railways = await emu.push(svc.id, sha, { script: { app: { version: 'v2' } } });
    const r = await runAction({ action: '.', inputs: inputs(svc, { 'commit-sha': sha }) });
    const created = createdSince(svc.id, t0);
    compare(
      'GitHub autodeploy already deployed the commit',
      r.outputs,
      [svc],
      ['deployed'],
      [
        [`${created.length} deployment (Railway's)`, created.length === 1 && created[0]?.id === railways],
        [`deploy sent ${sent('DeployServiceInstance', t0)}×`, sent('DeployServiceInstance', t0) === 0],
        ['adopted', entries(r)[0]?.startedBy === 'railway' && /adopted Railway's own deployment/.test(r.summary)],
      ],
    );
  });

  it('a sleeping service: its SLEEPING deployment counts as serving and is what a bad release is rolled back to', async () => {
    const svc = await service();
    emu.sleepService(svc.id);
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { app: { version: 'v2', healthy: false } });
    const r = await runAction({ action: '.', inputs: inputs(svc, { 'health-timeout': '3s' }) });
    const json = entries(r)[0] ?? {};
    const rollbacks = createdSince(svc.id, t0).filter((d) => d.kind === 'rollback');
    compare(
      'a sleeping service (App Sleeping) with a bad release',
      r.outputs,
      [svc],
      ['rolled-back'],
      [
        ['previous = the sleeping one', json.previousDeploymentId === svc.good && json.rollbackTargetId === svc.good],
        [`${rollbacks.length} rollback of it`, rollbacks.length === 1 && rollbacks[0]?.sourceDeploymentId === svc.good],
      ],
    );
  });

  it('timeout reached while DEPLOYING (Railway cannot cancel it): needs-human naming what runs and what is on its way', async () => {
    const svc = await service();
    const t0 = Date.now();
    // The container is slow to open its port: the deployment sits in DEPLOYING past `timeout`.
    emu.scriptDeployment(svc.id, { app: { version: 'v2', startDelayMs: 25_000 } });
    const r = await runAction({ action: '.', inputs: inputs(svc, { timeout: '5s' }) });
    const created = createdSince(svc.id, t0);
    const json = entries(r)[0] ?? {};
    const pending = created[0];
    compare(
      '`timeout` reached while DEPLOYING (not cancellable)',
      r.outputs,
      [svc],
      ['needs-human'],
      [
        [
          `${short(pending?.id)} still ${pending?.status ?? '?'}, not cancelled`,
          created.length === 1 && pending?.status === 'DEPLOYING' && sent('CancelDeployment', t0) === 0,
        ],
        ['previous still active', emu.activeDeployment(svc.id)?.id === svc.good],
        [
          'needs-human names both',
          r.outputs['needs-human'] === 'true' &&
            String(json.needsHuman).includes(svc.good) &&
            String(json.needsHuman).includes(pending?.id ?? '?'),
        ],
      ],
    );
    expect(r.exitCode).toBe(1);
  });

  it('a serverless service asleep right after going live: the first health request wakes it (502), the release is verified', async () => {
    const svc = await service();
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { app: { version: 'v2' }, sleepAfterSuccessMs: 0 });
    const r = await runAction({ action: '.', inputs: inputs(svc, { 'expect-version': 'v2' }) });
    const created = createdSince(svc.id, t0);
    const d = created[0];
    const slept = d?.history.some((h) => h.status === 'SLEEPING') ?? false;
    compare(
      'a serverless service asleep when verified (cold start, first request 502)',
      r.outputs,
      [svc],
      ['deployed'],
      [
        [`${short(d?.id)} slept, then woke`, slept && d?.status === 'SUCCESS'],
        ['a health request met the 502', /health #\d+ not ok 502/.test(r.stdout)],
        [`${sent('RollbackDeployment', t0)} rollback`, sent('RollbackDeployment', t0) === 0],
      ],
    );
    expect(r.exitCode).toBe(0);
  });
});

describe('fault table: image services', () => {
  let prodEnv: string;
  let stagingEnv: string;
  let images: SeededProject;
  beforeAll(() => {
    images = railway.addProject({ project: 'images', otherEnvironments: ['staging'] });
    prodEnv = images.environmentId;
    stagingEnv = images.environments.staging ?? '';
  });

  async function imageService(image: string): Promise<Svc> {
    const {
      id,
      name,
      deploymentId: good,
      url,
    } = await images.goodService({ name: `img${++counter}`, source: { image }, app: {} });
    return { id, name, good, url };
  }

  it('a bad image release is rolled back AND the image setting is put back, in this environment only', async () => {
    const svc = await imageService('ghcr.io/acme/web:1.0');
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { app: { healthy: false } });
    const r = await runAction({
      action: '.',
      inputs: {
        ...inputs(svc, { source: 'image', image: 'ghcr.io/acme/web:1.1', 'health-timeout': '3s' }),
        'railway-token': images.token,
      },
    });
    const updates = emu.requests.filter((q) => q.at >= t0 && q.operationName === 'SetServiceImage');
    const rollbacks = createdSince(svc.id, t0).filter((d) => d.kind === 'rollback');
    compare(
      'image release (`:1.0` → `:1.1`) unhealthy: rolled back, image setting restored',
      r.outputs,
      [svc],
      ['rolled-back'],
      [
        [
          `rollback runs ${rollbacks[0]?.image ?? '?'}`,
          rollbacks.length === 1 && rollbacks[0]?.image === 'ghcr.io/acme/web:1.0',
        ],
        [
          `production setting ${emu.imageSetting(svc.id, prodEnv) ?? '?'}`,
          emu.imageSetting(svc.id, prodEnv) === 'ghcr.io/acme/web:1.0',
        ],
        [
          `staging setting ${emu.imageSetting(svc.id, stagingEnv) ?? '?'} (untouched)`,
          emu.imageSetting(svc.id, stagingEnv) === 'ghcr.io/acme/web:1.0',
        ],
        [
          `${updates.length} image updates, all scoped to production`,
          updates.length === 2 &&
            updates.every((q) => (q.variables as { environmentId?: string }).environmentId === prodEnv),
        ],
      ],
    );
    expect(r.summary).toMatch(/image setting set back from ghcr\.io\/acme\/web:1\.1 to ghcr\.io\/acme\/web:1\.0/);
  });

  /** The facts every failed image release shares: the image setting back to `:1.0` in production, staging untouched. */
  function settingFacts(svc: Svc, t0: number, updates: number): Array<[string, boolean]> {
    const sets = emu.requests.filter((q) => q.at >= t0 && q.operationName === 'SetServiceImage');
    return [
      [
        `production setting ${emu.imageSetting(svc.id, prodEnv) ?? '?'}`,
        emu.imageSetting(svc.id, prodEnv) === 'ghcr.io/acme/web:1.0',
      ],
      [
        `staging setting ${emu.imageSetting(svc.id, stagingEnv) ?? '?'} (untouched)`,
        emu.imageSetting(svc.id, stagingEnv) === 'ghcr.io/acme/web:1.0',
      ],
      [
        `${sets.length} image updates (set, restore), all scoped to production`,
        sets.length === updates &&
          sets.every((q) => (q.variables as { environmentId?: string }).environmentId === prodEnv),
      ],
      ['previous still active', emu.activeDeployment(svc.id)?.id === svc.good],
      [`${sent('RollbackDeployment', t0)} rollback`, sent('RollbackDeployment', t0) === 0],
    ];
  }

  const imageInputs = (svc: Svc, extra: Record<string, string> = {}): Record<string, string> => ({
    ...inputs(svc, { source: 'image', image: 'ghcr.io/acme/web:1.1', ...extra }),
    'railway-token': images.token,
  });

  it('an image release whose build fails: nothing went live, and the image setting is put back (this environment only)', async () => {
    const svc = await imageService('ghcr.io/acme/web:1.0');
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { outcome: 'FAILED' });
    const r = await runAction({ action: '.', inputs: imageInputs(svc) });
    const created = createdSince(svc.id, t0);
    compare(
      'image release (`:1.0` → `:1.1`) whose build FAILED: image setting restored',
      r.outputs,
      [svc],
      ['failed'],
      [
        [
          `${short(created[0]?.id)} ${created[0]?.status ?? '?'}`,
          created.length === 1 && created[0]?.status === 'FAILED',
        ],
        ...settingFacts(svc, t0, 2),
        ['needs-human false', r.outputs['needs-human'] === 'false'],
      ],
    );
    expect(r.summary).toMatch(/image setting restored to ghcr\.io\/acme\/web:1\.0/);
    expect(r.exitCode).toBe(1);
  });

  it('the restore of the image setting answered 502 after it landed: read back, not sent again', async () => {
    const svc = await imageService('ghcr.io/acme/web:1.0');
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { outcome: 'FAILED' });
    // The release's own update is answered; the restore (the second one) lands and its answer is lost.
    emu.faults.loseAnswer('serviceInstanceUpdate', { as: 'http', httpStatus: 502, skip: 1 });
    const r = await runAction({ action: '.', inputs: imageInputs(svc) });
    compare(
      'image release whose build FAILED, the restore answered 502 (it had landed)',
      r.outputs,
      [svc],
      ['failed'],
      [
        ...settingFacts(svc, t0, 2),
        ['reconciled by reading the setting', /back to ghcr\.io\/acme\/web:1\.0: it did take effect/.test(r.stdout)],
        ['needs-human false', r.outputs['needs-human'] === 'false'],
      ],
    );
    expect(r.summary).toMatch(/image setting restored to ghcr\.io\/acme\/web:1\.0/);
  });

  it('the restore of the image setting refused: needs-human naming the setting to fix by hand', async () => {
    const svc = await imageService('ghcr.io/acme/web:1.0');
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { outcome: 'FAILED' });
    emu.faults.failOperation('serviceInstanceUpdate', { graphqlError: 'Problem processing request', skip: 1 });
    const r = await runAction({ action: '.', inputs: imageInputs(svc) });
    const json = entries(r)[0] ?? {};
    const sets = emu.requests.filter((q) => q.at >= t0 && q.operationName === 'SetServiceImage');
    compare(
      'image release whose build FAILED, the restore refused (`errors[]`)',
      r.outputs,
      [svc],
      ['needs-human'],
      [
        [
          `production setting ${emu.imageSetting(svc.id, prodEnv) ?? '?'} (still the new one)`,
          emu.imageSetting(svc.id, prodEnv) === 'ghcr.io/acme/web:1.1',
        ],
        [`${sets.length} image updates (refused, not repeated)`, sets.length === 2],
        ['previous still active', emu.activeDeployment(svc.id)?.id === svc.good],
        [
          'needs-human names the setting',
          r.outputs['needs-human'] === 'true' &&
            /set Source Image back to ghcr\.io\/acme\/web:1\.0 by hand/.test(String(json.needsHuman)),
        ],
      ],
    );
    expect(r.exitCode).toBe(1);
  });

  it('an image release cancelled at its timeout while building: the build is cancelled and the image setting put back', async () => {
    const svc = await imageService('ghcr.io/acme/web:1.0');
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { buildMs: 60_000 });
    const r = await runAction({ action: '.', inputs: imageInputs(svc, { timeout: '5s' }) });
    const created = createdSince(svc.id, t0);
    compare(
      'image release cancelled at `timeout` while building: image setting restored',
      r.outputs,
      [svc],
      ['failed'],
      [
        [`build ${created[0]?.status ?? '?'} (cancelled)`, created.length === 1 && created[0]?.status === 'REMOVED'],
        ...settingFacts(svc, t0, 2),
        ['needs-human false', r.outputs['needs-human'] === 'false'],
      ],
    );
    expect(r.summary).toMatch(/cancelled \(was BUILDING\)/);
    expect(r.summary).toMatch(/image setting restored to ghcr\.io\/acme\/web:1\.0/);
  });

  it('SIGTERM while an image build runs: the post step cancels the build and puts the image setting back', async () => {
    const svc = await imageService('ghcr.io/acme/web:1.0');
    const t0 = Date.now();
    emu.scriptDeployment(svc.id, { buildMs: 60_000 });
    const running = startAction({ action: '.', inputs: imageInputs(svc) });
    const building = await waitForNew(svc.id, t0);
    await emu.waitForStatus(building, 'BUILDING', 30_000);
    // The job is cancelled while the new image builds: the main step does not restore the setting (opts.cancelled).
    running.kill('SIGTERM');
    const main = await running.result;
    const post = await runAction({
      action: '.',
      inputs: imageInputs(svc),
      phase: 'post',
      state: main.state,
    });
    const created = createdSince(svc.id, t0);
    expect(post.exitCode, post.stderr).toBe(0);
    compare(
      'SIGTERM while an image build runs (`:1.0` → `:1.1`), then the post step: image setting restored',
      postOutputs(post, svc),
      [svc],
      [],
      [
        [`build ${created[0]?.status ?? '?'} (cancelled)`, created.length === 1 && created[0]?.status === 'REMOVED'],
        ...settingFacts(svc, t0, 2),
        ['no human needed', !/NEEDS A HUMAN/.test(post.stdout)],
      ],
      `post step said: ${/image setting (?:NOT )?restored to \S+/.exec(post.stdout)?.[0] ?? 'no image setting restored'}`,
    );
    expect(post.stdout).toMatch(/image setting restored to ghcr\.io\/acme\/web:1\.0/);
  });

  it('SIGTERM after the image setting changed, while the deploy request is stuck (it never landed): the post step puts the setting back', async () => {
    const svc = await imageService('ghcr.io/acme/web:1.0');
    const t0 = Date.now();
    // serviceInstanceUpdate lands; serviceInstanceDeployV2 hangs before it reaches Railway (no deployment).
    emu.faults.failOperation('serviceInstanceDeployV2', { as: 'hang' });
    const running = startAction({ action: '.', inputs: imageInputs(svc) });
    const until = Date.now() + 30_000;
    while (sent('DeployServiceInstance', t0) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const settingAtCancel = emu.imageSetting(svc.id, prodEnv);
    running.kill('SIGTERM');
    const main = await running.result;
    const post = await runAction({ action: '.', inputs: imageInputs(svc), phase: 'post', state: main.state });
    expect(post.exitCode, post.stderr).toBe(0);
    compare(
      'SIGTERM after the image setting changed (`:1.0` → `:1.1`), deploy request stuck before Railway; post step: setting restored',
      postOutputs(post, svc),
      [svc],
      [],
      [
        [`setting at cancel ${settingAtCancel ?? '?'}`, settingAtCancel === 'ghcr.io/acme/web:1.1'],
        [`${createdSince(svc.id, t0).length} deployments created`, createdSince(svc.id, t0).length === 0],
        ...settingFacts(svc, t0, 2),
        ['no human needed', !/NEEDS A HUMAN/.test(post.stdout)],
      ],
      `post step said: ${/image setting (?:NOT )?restored to \S+/.exec(post.stdout)?.[0] ?? 'no image setting restored'}`,
    );
    expect(post.stdout).toMatch(/no deployment started \(the deploy request was sent/);
    expect(post.stdout).toMatch(/image setting restored to ghcr\.io\/acme\/web:1\.0/);
  });

  it('the old image expired and the tag is mutable: a redeploy would pull the bad image again, so it is refused (needs-human)', async () => {
    const svc = await imageService('ghcr.io/acme/web:latest');
    const t0 = Date.now();
    // The registry's `latest` now names a broken image; the release redeploys the tag.
    emu.scriptDeployment(svc.id, { app: { version: 'v2', healthy: false } });
    const running = startAction({
      action: '.',
      inputs: { ...inputs(svc, { source: 'image', 'health-timeout': '3s' }), 'railway-token': images.token },
    });
    // Image retention ran out for the previous deployment while the new one was being verified (canRollback: false).
    const bad = await waitForNew(svc.id, t0);
    await emu.waitForStatus(bad, 'SUCCESS', 30_000);
    emu.expireImages(svc.id);
    const r = await running.result;
    const json = entries(r)[0] ?? {};
    compare(
      'old image expired, mutable tag `:latest`: redeploy refused',
      r.outputs,
      [svc],
      ['rollback-failed'],
      [
        [
          `${sent('RedeployDeployment', t0)} redeploy, ${sent('RollbackDeployment', t0)} rollback sent`,
          sent('RedeployDeployment', t0) === 0 && sent('RollbackDeployment', t0) === 0,
        ],
        ['bad release still active', emu.activeDeployment(svc.id)?.id === bad],
        [
          'needs-human says why',
          r.outputs['needs-human'] === 'true' && /mutable tag redeploy is not a rollback/.test(String(json.needsHuman)),
        ],
      ],
    );
    expect(r.exitCode).toBe(1);
  });
});

/** The first deployment of the service created since `since` (polls the emulator). */
async function waitForNew(serviceId: string, since: number, timeoutMs = 30_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const d = createdSince(serviceId, since)[0];
    if (d) return d.id;
    if (Date.now() > until) throw new Error(`no new deployment of ${serviceId}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
