// The scenario matrix of the reusable workflows, run through the model of GitHub's job scheduling (test/gha-model,
// itself tested against GitHub's documented examples in test/gha-model.test.ts): which jobs run, which environment the
// migrate job uses, what reaches the release step, and what the workflow outputs say. The actions themselves are
// stood in for by their documented outputs; their behaviour is tested through their bundles elsewhere.
import { describe, expect, it } from 'vitest';
import {
  formatTrace,
  ranSteps,
  results,
  runRepoWorkflow,
  stepOf,
  type RunTrace,
  type Scenario,
  type StepContext,
  type StepSpec,
} from './gha-model/index.js';

const DEPLOY = '.github/workflows/deploy.yml';
const CI = '.github/workflows/ci.yml';
const RAILWAY_TOKEN = 'railway-project-token-0123456789';
const DATABASE_URL = 'postgres://app:pw-0123456789@db.internal:5432/app';

type Pending = 'none' | 'safe' | 'risky';
type ReleaseResult = 'deployed' | 'failed' | 'rolled-back' | 'rollback-failed' | 'needs-human';

interface Case {
  inputs?: Record<string, unknown>;
  pending?: Pending;
  release?: ReleaseResult;
  /** The approval environment's reviewers decide (approval-mode environment). */
  reviewers?: 'approve' | 'reject';
  /** The issue approval's decision (approval-mode issue). */
  issueApproval?: 'approved' | 'denied';
  /** Extra step behaviour per job path and step. */
  steps?: Scenario['steps'];
  cancel?: Scenario['cancel'];
}

/** migrate-gate: its documented outputs for what is pending (requires-approval per its `approval` input). */
function gateStep(pending: Pending): StepSpec {
  return (ctx: StepContext) => {
    const approval = ctx.with['approval'] ?? 'risky';
    const requires = pending !== 'none' && (approval === 'always' || (approval === 'risky' && pending === 'risky'));
    const decision = pending === 'none' ? 'none' : requires ? 'requires-approval' : 'auto-apply';
    return {
      outputs: {
        'pending-count': pending === 'none' ? '0' : '1',
        decision,
        risk: pending === 'risky' ? 'high' : 'none',
        'requires-approval': String(requires),
        plan: pending === 'none' ? '' : `{"decision":"${decision}"}`,
        'plan-markdown': pending === 'none' ? '' : '| file | risk |',
        'plan-hash': pending === 'none' ? '' : 'sha256:abc',
      },
    };
  };
}

/** The root action's documented outputs for each result (its exit code fails the step unless deployed). */
function releaseStep(result: ReleaseResult): StepSpec {
  return (ctx) => {
    const services = String(ctx.with['service']).split('\n').filter(Boolean);
    const per = (f: (s: string) => string) => services.map(f).join('\n');
    const production: Record<ReleaseResult, (s: string) => string> = {
      deployed: (s) => `new-${s}`,
      failed: (s) => `old-${s}`,
      'rolled-back': (s) => `restored-${s}`,
      'rollback-failed': (s) => `new-${s}`,
      'needs-human': (s) => `new-${s}`,
    };
    return {
      outcome: result === 'deployed' ? 'success' : 'failure',
      outputs: {
        result,
        healthy: String(result === 'deployed'),
        'rolled-back': String(result === 'rolled-back'),
        'needs-human': String(result === 'rollback-failed' || result === 'needs-human'),
        'deployment-id': result === 'failed' ? '' : per((s) => `new-${s}`),
        'previous-deployment-id': per((s) => `old-${s}`),
        'production-deployment-id': per(production[result]),
        url: per((s) => `https://${s}.up.railway.app`),
        deployments: JSON.stringify(services.map((s) => ({ service: s }))),
      },
    };
  };
}

function scenario(c: Case = {}): Scenario {
  const inputs = { services: 'shop', 'health-url': 'https://shop.up.railway.app/health', ...c.inputs };
  const s: Scenario = {
    inputs,
    secrets: { RAILWAY_TOKEN, DATABASE_URL },
    environments: { 'production-approval': { reviewers: true, decision: c.reviewers ?? 'approve' } },
    steps: {
      gate: { gate: gateStep(c.pending ?? 'none') },
      migrate: { migrate: { outputs: { 'applied-count': '1' } } },
      release: {
        'github-deployment': { outputs: { 'deployment-id': '4242' } },
        release: releaseStep(c.release ?? 'deployed'),
        first: (ctx) => ({ outputs: { url: (ctx.env['URLS'] ?? '').split('\n')[0] ?? '' } }),
      },
      ...(c.issueApproval
        ? {
            approval: {
              approval: {
                outcome: c.issueApproval === 'approved' ? 'success' : 'failure',
                outputs: { decision: c.issueApproval },
              },
            },
          }
        : {}),
    },
  };
  for (const [job, steps] of Object.entries(c.steps ?? {})) s.steps![job] = { ...s.steps![job], ...steps };
  if (c.cancel) s.cancel = c.cancel;
  return s;
}

const run = (c: Case = {}) => runRepoWorkflow(DEPLOY, scenario(c));
const top = (t: RunTrace) => Object.fromEntries(Object.entries(results(t)).filter(([k]) => !k.includes('/')));
const recordedStatus = (t: RunTrace) => {
  const step = stepOf(t, 'release', 'Record the outcome on the GitHub deployment');
  return step.ran ? step.with['status'] : undefined;
};
const FAIL = { outcome: 'failure' } as const;

describe('deploy.yml scenario matrix (GitHub scheduling model)', () => {
  it('nothing pending: the chain runs to a verified release; migrate names the unprotected environment and applies nothing', () => {
    const t = run();
    expect(top(t), formatTrace(t)).toEqual({
      ci: 'success',
      gate: 'success',
      approval: 'skipped',
      migrate: 'success',
      release: 'success',
    });
    expect(t.jobs['migrate']?.environment).toMatchObject({
      name: 'migrations',
      deployment: false,
      waitedForApproval: false,
    });
    expect(ranSteps(t, 'migrate')).toEqual([]);
    expect(t.outputs).toMatchObject({
      result: 'deployed',
      healthy: 'true',
      'rolled-back': 'false',
      'needs-human': 'false',
      'migrations-applied': '0',
      'approval-required': 'false',
      'production-deployment-id': 'new-shop',
    });
    expect(recordedStatus(t)).toBe('success');
    expect(stepOf(t, 'release', 'Record the outcome on the GitHub deployment').with['environment-url']).toBe(
      'https://shop.up.railway.app',
    );
  });

  it('safe migrations pending: applied without waiting, then released', () => {
    const t = run({ pending: 'safe' });
    expect(top(t)).toEqual({
      ci: 'success',
      gate: 'success',
      approval: 'skipped',
      migrate: 'success',
      release: 'success',
    });
    expect(t.jobs['migrate']?.environment?.name).toBe('migrations');
    expect(ranSteps(t, 'migrate')).toEqual(['Check out the app', 'migrate']);
    expect(stepOf(t, 'migrate', 'migrate').with['plan-hash']).toBe('sha256:abc');
    expect(t.outputs).toMatchObject({ result: 'deployed', 'migrations-applied': '1' });
  });

  it('risky with environment reviewers who approve: migrate waits on the approval environment, then released', () => {
    const t = run({ pending: 'risky' });
    expect(top(t)).toEqual({
      ci: 'success',
      gate: 'success',
      approval: 'skipped',
      migrate: 'success',
      release: 'success',
    });
    expect(t.jobs['migrate']?.environment).toMatchObject({
      name: 'production-approval',
      deployment: false,
      waitedForApproval: true,
      decision: 'approve',
    });
    expect(t.outputs).toMatchObject({ result: 'deployed', 'approval-required': 'true', 'migrations-applied': '1' });
    expect(stepOf(t, 'release', 'release').with['migrate-plan']).toBe('{"decision":"requires-approval"}');
  });

  it('risky with environment reviewers who reject: nothing is migrated or deployed', () => {
    const t = run({ pending: 'risky', reviewers: 'reject' });
    expect(top(t)).toEqual({
      ci: 'success',
      gate: 'success',
      approval: 'skipped',
      migrate: 'failure',
      release: 'skipped',
    });
    expect(t.jobs['migrate']?.ran).toBe(false);
    expect(t.outputs).toMatchObject({
      result: 'not-deployed',
      'migrations-applied': '0',
      'production-deployment-id': '',
    });
  });

  it('risky with issue approval granted: the approval job runs, migrate names the unprotected environment', () => {
    const t = run({
      pending: 'risky',
      inputs: { 'approval-mode': 'issue', approvers: 'alice' },
      issueApproval: 'approved',
    });
    expect(top(t)).toEqual({
      ci: 'success',
      gate: 'success',
      approval: 'success',
      migrate: 'success',
      release: 'success',
    });
    expect(stepOf(t, 'approval', 'approval').with).toMatchObject({
      plan: '| file | risk |',
      environment: 'production',
    });
    expect(t.jobs['migrate']?.environment).toMatchObject({ name: 'migrations', waitedForApproval: false });
    expect(t.outputs['result']).toBe('deployed');
  });

  it('risky with issue approval refused: nothing after the approval runs', () => {
    const t = run({
      pending: 'risky',
      inputs: { 'approval-mode': 'issue', approvers: 'alice' },
      issueApproval: 'denied',
    });
    expect(top(t)).toEqual({
      ci: 'success',
      gate: 'success',
      approval: 'failure',
      migrate: 'skipped',
      release: 'skipped',
    });
    expect(t.outputs).toMatchObject({ result: 'not-deployed', 'migrations-applied': '0' });
  });

  it('approval: always asks for every pending migration, even a safe one', () => {
    const t = run({ pending: 'safe', inputs: { approval: 'always' } });
    expect(t.jobs['migrate']?.environment).toMatchObject({ name: 'production-approval', waitedForApproval: true });
    expect(t.outputs['result']).toBe('deployed');
  });

  it('run-ci: false: ci is skipped and the chain still deploys (the skipped ancestor is guarded explicitly)', () => {
    const t = run({ inputs: { 'run-ci': false } });
    expect(top(t), formatTrace(t)).toEqual({
      ci: 'skipped',
      gate: 'success',
      approval: 'skipped',
      migrate: 'success',
      release: 'success',
    });
    expect(t.outputs['result']).toBe('deployed');
  });

  it('a CI job switched off (lint-command empty) does not stop the deploy', () => {
    const t = run({ inputs: { 'lint-command': '' } });
    expect(results(t)['ci/lint']).toBe('skipped');
    expect(top(t)).toEqual({
      ci: 'success',
      gate: 'success',
      approval: 'skipped',
      migrate: 'success',
      release: 'success',
    });
  });

  it('migrate: false: the gate only preflights, migrate runs no step, the release goes out', () => {
    const t = run({ inputs: { migrate: false } });
    expect(top(t)).toEqual({
      ci: 'success',
      gate: 'success',
      approval: 'skipped',
      migrate: 'success',
      release: 'success',
    });
    expect(ranSteps(t, 'gate')).toEqual(['preflight', 'railway-preflight']);
    expect(ranSteps(t, 'migrate')).toEqual([]);
    expect(t.outputs).toMatchObject({ result: 'deployed', 'approval-required': 'false', 'migrations-applied': '0' });
  });

  it('verify: false reaches the release step; health inputs are passed through unchanged', () => {
    const t = run({ inputs: { verify: false, 'health-expect-deployment': false } });
    expect(stepOf(t, 'release', 'release').with).toMatchObject({
      verify: 'false',
      'expect-version': 'none',
      'health-url': 'https://shop.up.railway.app/health',
    });
    const dflt = run();
    const released = stepOf(dflt, 'release', 'release').with;
    expect(released).toMatchObject({ verify: 'true', 'expect-version': 'deployment-id', 'verify-window': '30s' });
    expect(released['commit-sha']).toMatch(/^[0-9a-f]{40}$/);
  });

  it.each([
    ['ci/lint', 'Lint'],
    ['ci/typecheck', 'Typecheck'],
    ['ci/test', 'Test'],
    ['ci/build', 'Build'],
  ])('%s fails: CI fails and nothing is migrated or deployed', (job, step) => {
    const t = run({ pending: 'safe', steps: { [job]: { [step]: FAIL } } });
    expect(top(t), formatTrace(t)).toEqual({
      ci: 'failure',
      gate: 'success',
      approval: 'skipped',
      migrate: 'skipped',
      release: 'skipped',
    });
    expect(t.outputs).toMatchObject({ result: 'not-deployed', 'migrations-applied': '0' });
  });

  it('the preflight fails: nothing runs after the gate', () => {
    const t = run({ steps: { gate: { preflight: FAIL } } });
    expect(top(t)).toEqual({
      ci: 'success',
      gate: 'failure',
      approval: 'skipped',
      migrate: 'skipped',
      release: 'skipped',
    });
    expect(ranSteps(t, 'gate')).toEqual(['preflight']);
    expect(t.outputs['result']).toBe('not-deployed');
  });

  it('the migrations fail: the release is skipped', () => {
    const t = run({ pending: 'safe', steps: { migrate: { migrate: FAIL } } });
    expect(top(t)).toEqual({
      ci: 'success',
      gate: 'success',
      approval: 'skipped',
      migrate: 'failure',
      release: 'skipped',
    });
    expect(t.outputs).toMatchObject({ result: 'not-deployed', 'production-deployment-id': '' });
  });

  it('the GitHub deployment bookkeeping fails: the release goes out anyway (continue-on-error)', () => {
    const t = run({ steps: { release: { 'github-deployment': FAIL } } });
    expect(top(t)['release']).toBe('success');
    expect(t.outputs['result']).toBe('deployed');
    expect(recordedStatus(t)).toBeUndefined(); // no deployment record to update
  });

  it.each([
    ['failed', 'failure', 'old-shop', 'false'],
    ['rolled-back', 'failure', 'restored-shop', 'false'],
    ['rollback-failed', 'error', 'new-shop', 'true'],
    ['needs-human', 'error', 'new-shop', 'true'],
  ] as const)(
    'Railway release %s: the outputs name what production runs; the GitHub deployment is marked %s',
    (result, status, production, needsHuman) => {
      const t = run({ release: result });
      expect(top(t)['release']).toBe('failure');
      expect(t.result).toBe('failure');
      expect(t.outputs).toMatchObject({
        result,
        'production-deployment-id': production,
        healthy: 'false',
        'needs-human': needsHuman,
        'rolled-back': String(result === 'rolled-back'),
      });
      expect(recordedStatus(t)).toBe(status);
      expect(stepOf(t, 'release', 'Record the outcome on the GitHub deployment').with['environment-url']).toBe('');
    },
  );

  it('the release job fails without a result (e.g. the upload checkout fails): the output says a person must look', () => {
    const t = run({ inputs: { source: 'upload' }, steps: { release: { 'Check out the app (upload source)': FAIL } } });
    expect(top(t)['release']).toBe('failure');
    expect(stepOf(t, 'release', 'release').ran).toBe(false);
    expect(t.outputs['result']).toBe('needs-human');
    expect(recordedStatus(t)).toBe('error');
  });

  it('two services (api with a URL, a worker without): one release step receives both and the per-service lines', () => {
    const t = run({
      inputs: { services: 'api\nworker', 'health-url': 'api=https://api.up.railway.app/health\nworker=none' },
    });
    expect(stepOf(t, 'release', 'release').with).toMatchObject({
      service: 'api\nworker',
      'health-url': 'api=https://api.up.railway.app/health\nworker=none',
    });
    expect(t.outputs['production-deployment-id']).toBe('new-api\nnew-worker');
    expect(stepOf(t, 'release', 'Record the outcome on the GitHub deployment').with['environment-url']).toBe(
      'https://api.up.railway.app',
    );
  });

  describe('cancelled during each job', () => {
    it.each([
      ['ci/test', undefined],
      ['gate', 'gate'],
      ['migrate', 'migrate'],
    ])('during %s: nothing after it runs, the output says not-deployed', (during, step) => {
      const t = run({ pending: 'safe', cancel: { during, ...(step ? { step } : {}) } });
      expect(t.result).toBe('cancelled');
      expect(top(t)['release'], formatTrace(t)).toBe('skipped');
      expect(t.jobs['release']?.ran).toBe(false);
      expect(t.outputs['result']).toBe('not-deployed');
    });

    it('during the issue approval: migrate and release are skipped', () => {
      const t = run({
        pending: 'risky',
        inputs: { 'approval-mode': 'issue', approvers: 'alice' },
        cancel: { during: 'approval' },
      });
      expect(top(t)).toMatchObject({ approval: 'cancelled', migrate: 'skipped', release: 'skipped' });
      expect(t.outputs['result']).toBe('not-deployed');
    });

    it('during the release step: the outcome is still recorded (error), and the output says cancelled, not not-deployed', () => {
      const t = run({ cancel: { during: 'release', step: 'release' } });
      expect(top(t)['release']).toBe('cancelled');
      expect(recordedStatus(t)).toBe('error');
      expect(stepOf(t, 'release', 'Record the outcome on the GitHub deployment').with['description']).toContain(
        'cancelled',
      );
      expect(t.outputs).toMatchObject({ result: 'cancelled', healthy: 'false' });
    });
  });
});

describe('ci.yml scenario matrix', () => {
  const ciRun = (s: Scenario = {}) => runRepoWorkflow(CI, s);

  it('every check and the build run in one wave; all succeed', () => {
    const t = ciRun();
    expect(t.order).toEqual([['lint', 'typecheck', 'test', 'build']]);
    expect(results(t)).toEqual({ lint: 'success', typecheck: 'success', test: 'success', build: 'success' });
    expect(t.result).toBe('success');
  });

  it('an empty command skips its job and the workflow still succeeds', () => {
    const t = ciRun({ inputs: { 'lint-command': '', 'build-command': '' } });
    expect(results(t)).toEqual({ lint: 'skipped', typecheck: 'success', test: 'success', build: 'skipped' });
    expect(t.result).toBe('success');
    expect(t.outputs['artifact-name']).toBe('');
  });

  it('a failing test fails the workflow; the migrations are applied to the service database before the tests', () => {
    const t = ciRun({ steps: { test: { Test: FAIL } } });
    expect(t.result).toBe('failure');
    expect(ranSteps(t, 'test')).toEqual(expect.arrayContaining(['Apply migrations to the test database', 'Test']));
    expect(stepOf(t, 'test', 'Apply migrations to the test database').with['database-url']).toMatch(
      /^postgresql:\/\/postgres:postgres@localhost:5432\//,
    );
  });

  it('apply-migrations: false skips only the migration step', () => {
    const t = ciRun({ inputs: { 'apply-migrations': false } });
    expect(stepOf(t, 'test', 'Apply migrations to the test database').ran).toBe(false);
    expect(stepOf(t, 'test', 'Test').ran).toBe(true);
  });
});

describe('the example callers, as a user runs them', () => {
  it('examples/caller/deploy.yml: a push deploys, a pull request only runs CI', () => {
    const push = runRepoWorkflow('examples/caller/deploy.yml', {
      secrets: { RAILWAY_TOKEN, DATABASE_URL },
      steps: remap(scenario().steps!, 'deploy'),
    });
    expect(results(push)['ci']).toBe('skipped');
    expect(results(push)['deploy']).toBe('success');
    expect(results(push)['deploy/release'], formatTrace(push)).toBe('success');
    const pr = runRepoWorkflow('examples/caller/deploy.yml', { github: { event_name: 'pull_request' } });
    expect(results(pr)['deploy']).toBe('skipped');
    expect(results(pr)['ci']).toBe('success');
  });

  it('examples/caller/two-services.yml: api and worker, app in backend/, pnpm, Prisma', () => {
    const t = runRepoWorkflow('examples/caller/two-services.yml', {
      secrets: { RAILWAY_TOKEN, DATABASE_URL },
      steps: remap(scenario({ pending: 'safe' }).steps!, 'deploy'),
    });
    expect(results(t)['deploy/release'], formatTrace(t)).toBe('success');
    expect(stepOf(t, 'deploy/release', 'release').with).toMatchObject({
      service: 'api\nworker\n',
      'health-url': 'api=https://api-production.up.railway.app/health\nworker=none\n',
      path: 'backend',
      'verify-window': '60s',
    });
    expect(stepOf(t, 'deploy/gate', 'gate').with).toMatchObject({
      'migrations-tool': 'prisma',
      'migrations-dir': 'prisma/migrations',
      'working-directory': 'backend',
    });
    expect(t.jobs['deploy/ci']?.call?.inputs).toMatchObject({
      'working-directory': 'backend',
      'package-manager': 'pnpm',
    });
    expect(t.outputs).toEqual({});
  });

  it('the self-test workflow skips the deploy with a notice when its secrets are absent', () => {
    const t = runRepoWorkflow('.github/workflows/self-test.yml', {
      github: { event_name: 'workflow_dispatch' },
      inputs: { approval: 'risky' },
      steps: { check: { check: { outputs: { ready: 'false' } } } },
    });
    expect(results(t)).toMatchObject({ check: 'success', ci: 'success', deploy: 'skipped', report: 'skipped' });
  });
});

/** Scenario steps of deploy.yml's jobs, keyed for a caller that calls it as `<job>`. */
function remap(steps: NonNullable<Scenario['steps']>, caller: string): NonNullable<Scenario['steps']> {
  return Object.fromEntries(Object.entries(steps).map(([job, spec]) => [`${caller}/${job}`, spec]));
}
