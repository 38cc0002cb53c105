// examples/caller/staging-production.yml - staging, then production in the same run - through the model of GitHub's
// job scheduling (test/gha-model): which jobs of each stage run or are skipped when staging fails, is cancelled, or
// production's approval is refused; that CI runs once; that each stage reads its own database, deploys with its own
// token and waits for its own reviewers; and that production's gate runs the promotion guard before anything else.
// The actions are stood in for by their documented outputs (as in test/workflow-scenarios.test.ts); the guard itself
// runs for real in test/promotion.test.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  formatTrace,
  ranSteps,
  repoRoot,
  results,
  runRepoWorkflow,
  stepOf,
  type ModelOptions,
  type RunTrace,
  type Scenario,
  type StepContext,
  type StepSpec,
} from './gha-model/index.js';

const CALLER = 'examples/caller/staging-production.yml';
const SECRETS = {
  STAGING_RAILWAY_TOKEN: 'railway-staging-token-0123456789',
  STAGING_DATABASE_URL: 'postgres://app:staging-pw-0123@staging-db.internal:5432/app',
  PRODUCTION_RAILWAY_TOKEN: 'railway-production-token-0123456789',
  PRODUCTION_DATABASE_URL: 'postgres://app:production-pw-0123@production-db.internal:5432/app',
};

type Pending = 'none' | 'safe' | 'risky';
type ReleaseResult = 'deployed' | 'failed' | 'rolled-back' | 'needs-human';
type Stage = 'staging' | 'production';

interface Case {
  pending?: Partial<Record<Stage, Pending>>;
  release?: Partial<Record<Stage, ReleaseResult>>;
  /** Decisions of the approval environments' reviewers. */
  reviewers?: { 'staging-approval'?: 'approve' | 'reject'; 'production-approval'?: 'approve' | 'reject' };
  /** The promotion guard in production's gate: verified (default) or not. */
  guard?: 'verified' | 'refused';
  steps?: Scenario['steps'];
  cancel?: Scenario['cancel'];
  options?: ModelOptions;
}

/** migrate-gate's documented outputs for what is pending in the database it was given. */
function gateStep(pending: Pending): StepSpec {
  return (ctx: StepContext) => {
    const requires = pending === 'risky' || (pending === 'safe' && ctx.with['approval'] === 'always');
    const decision = pending === 'none' ? 'none' : requires ? 'requires-approval' : 'auto-apply';
    // The plan hash names the database it was computed against: a plan of one stage is never another stage's.
    const hash =
      pending === 'none' ? '' : `sha256:${ctx.with['database-url']?.includes('staging') ? 'staging' : 'production'}`;
    return {
      outputs: {
        'pending-count': pending === 'none' ? '0' : '1',
        decision,
        risk: pending === 'risky' ? 'high' : 'none',
        'requires-approval': String(requires),
        plan: pending === 'none' ? '' : `{"decision":"${decision}"}`,
        'plan-markdown': pending === 'none' ? '' : '| file | risk |',
        'plan-hash': hash,
      },
    };
  };
}

/** The release action's documented outputs per result (its exit code fails the step unless deployed). */
function releaseStep(result: ReleaseResult): StepSpec {
  return (ctx) => ({
    outcome: result === 'deployed' ? 'success' : 'failure',
    outputs: {
      result,
      healthy: String(result === 'deployed'),
      'rolled-back': String(result === 'rolled-back'),
      'needs-human': String(result === 'needs-human'),
      url: `https://${String(ctx.with['service'])}.up.railway.app`,
      'production-deployment-id': result === 'deployed' ? 'new' : 'old',
    },
  });
}

/** promotion-guard's documented outputs: verified with the deployment that proved it, or a failed step with the reason. */
function guardStep(verdict: 'verified' | 'refused'): StepSpec {
  return verdict === 'verified'
    ? {
        outputs: {
          verified: 'true',
          'deployment-id': '4242',
          reason: 'deployment 4242 of abc1234 in staging: success',
        },
      }
    : {
        outcome: 'failure',
        outputs: {
          verified: 'false',
          reason: 'deployment 4242 of abc1234 in staging does not prove it: latest status failure',
        },
      };
}

function scenario(c: Case = {}): Scenario {
  const stage = (name: Stage): NonNullable<Scenario['steps']> => ({
    [`${name}/gate`]: {
      gate: gateStep(c.pending?.[name] ?? 'none'),
      ...(name === 'production' ? { promotion: guardStep(c.guard ?? 'verified') } : {}),
    },
    [`${name}/migrate`]: { migrate: { outputs: { 'applied-count': '1' } } },
    [`${name}/release`]: {
      'github-deployment': { outputs: { 'deployment-id': name === 'staging' ? '4242' : '4343' } },
      release: releaseStep(c.release?.[name] ?? 'deployed'),
      first: (ctx) => ({ outputs: { url: (ctx.env['URLS'] ?? '').split('\n')[0] ?? '' } }),
    },
  });
  const steps: NonNullable<Scenario['steps']> = { ...stage('staging'), ...stage('production') };
  for (const [job, spec] of Object.entries(c.steps ?? {})) steps[job] = { ...steps[job], ...spec };
  return {
    secrets: SECRETS,
    environments: {
      'staging-approval': { reviewers: true, decision: c.reviewers?.['staging-approval'] ?? 'approve' },
      'production-approval': { reviewers: true, decision: c.reviewers?.['production-approval'] ?? 'approve' },
    },
    steps,
    ...(c.cancel ? { cancel: c.cancel } : {}),
    ...(c.options ? { options: c.options } : {}),
  };
}

const stageJobs = (t: RunTrace, s: Stage) =>
  Object.fromEntries(
    Object.entries(results(t)).filter(([k]) => k === s || (k.startsWith(`${s}/`) && k.split('/').length === 2)),
  );
const FAIL = { outcome: 'failure' } as const;
const STAGING_DEPLOYED = {
  staging: 'success',
  'staging/ci': 'success',
  'staging/gate': 'success',
  'staging/approval': 'skipped',
  'staging/migrate': 'success',
  'staging/release': 'success',
};

// GitHub's own rule for jobs inside a called workflow that is downstream of skipped jobs is not documented; the model's
// two readings are both run, and the chain must behave the same under each (see test/gha-model/types.ts ModelOptions).
describe.each(['flattened', 'opaque'] as const)(
  'staging → production in one run (reusable ancestry: %s)',
  (ancestry) => {
    const run = (c: Case = {}) => runRepoWorkflow(CALLER, scenario({ ...c, options: { reusableAncestry: ancestry } }));

    it('staging verified: production runs its own gate, migrate and release; CI ran once, in staging', () => {
      const t = run({ pending: { staging: 'safe', production: 'safe' } });
      expect(stageJobs(t, 'staging'), formatTrace(t)).toEqual(STAGING_DEPLOYED);
      expect(stageJobs(t, 'production')).toEqual({
        production: 'success',
        'production/ci': 'skipped',
        'production/gate': 'success',
        'production/approval': 'skipped',
        'production/migrate': 'success',
        'production/release': 'success',
      });
      const ciRan = Object.values(t.jobs)
        .filter((j) => j.ran && /\/ci\/[^/]+$/.test(j.path))
        .map((j) => j.path.split('/')[0]);
      expect(new Set(ciRan)).toEqual(new Set(['staging']));
      expect(t.order).toEqual([['staging'], ['production']]);
      expect(t.result).toBe('success');
    });

    it("production's gate runs the promotion guard first (staging's does not), for this commit in staging", () => {
      const t = run();
      expect(ranSteps(t, 'production/gate')).toEqual([
        'preflight',
        'railway-preflight',
        'promotion',
        'Check out the app',
        'gate',
      ]);
      // The commit it asks about is the one staging deployed.
      const guard = stepOf(t, 'production/gate', 'promotion').with;
      expect(guard).toEqual({
        environment: 'staging',
        sha: stepOf(t, 'staging/release', 'release').with['commit-sha'],
      });
      expect(guard['sha']).toMatch(/^[0-9a-f]{40}$/);
      expect(ranSteps(t, 'staging/gate')).toEqual(['preflight', 'railway-preflight', 'Check out the app', 'gate']);
    });

    it('each stage reads its own database, deploys with its own token and URLs, and records its own GitHub environment', () => {
      const t = run({ pending: { staging: 'safe', production: 'safe' } });
      for (const [stage, db, token, url] of [
        [
          'staging',
          SECRETS.STAGING_DATABASE_URL,
          SECRETS.STAGING_RAILWAY_TOKEN,
          'https://shop-staging.up.railway.app/health',
        ],
        [
          'production',
          SECRETS.PRODUCTION_DATABASE_URL,
          SECRETS.PRODUCTION_RAILWAY_TOKEN,
          'https://shop-production.up.railway.app/health',
        ],
      ] as const) {
        expect(stepOf(t, `${stage}/gate`, 'gate').with['database-url']).toBe(db);
        expect(stepOf(t, `${stage}/migrate`, 'migrate').with).toMatchObject({
          'database-url': db,
          'plan-hash': `sha256:${stage}`,
        });
        expect(stepOf(t, `${stage}/release`, 'release').with).toMatchObject({
          'railway-token': token,
          'health-url': url,
        });
        expect(stepOf(t, `${stage}/release`, 'github-deployment').with['environment']).toBe(stage);
        expect(t.jobs[stage]?.call?.secrets).toEqual(['DATABASE_URL', 'GITHUB_TOKEN', 'RAILWAY_TOKEN']);
      }
      // deploy.yml's concurrency group is per github-environment: the stages queue separately.
      expect(t.jobs['staging']?.call?.inputs['github-environment']).toBe('staging');
      expect(t.jobs['production']?.call?.inputs['github-environment']).toBe('production');
    });

    it("risky migrations in both: staging's reviewers approving does not approve production - each stage waits for its own", () => {
      const t = run({ pending: { staging: 'risky', production: 'risky' } });
      expect(t.jobs['staging/migrate']?.environment).toMatchObject({
        name: 'staging-approval',
        waitedForApproval: true,
        decision: 'approve',
      });
      expect(t.jobs['production/migrate']?.environment).toMatchObject({
        name: 'production-approval',
        waitedForApproval: true,
        decision: 'approve',
      });
      expect(stepOf(t, 'production/release', 'release').with['migrate-plan']).toBe('{"decision":"requires-approval"}');
    });

    it("production's approval refused: production migrates and deploys nothing; staging stays deployed", () => {
      const t = run({
        pending: { staging: 'risky', production: 'risky' },
        reviewers: { 'production-approval': 'reject' },
      });
      expect(stageJobs(t, 'staging'), formatTrace(t)).toEqual(STAGING_DEPLOYED);
      expect(stageJobs(t, 'production')).toEqual({
        production: 'failure',
        'production/ci': 'skipped',
        'production/gate': 'success',
        'production/approval': 'skipped',
        'production/migrate': 'failure',
        'production/release': 'skipped',
      });
      expect(t.jobs['production/migrate']).toMatchObject({
        ran: false,
        environment: { name: 'production-approval', decision: 'reject' },
      });
      expect(t.jobs['staging']?.outputs['result']).toBe('deployed');
      expect(t.jobs['production']?.call?.outputs).toMatchObject({ result: 'not-deployed', 'migrations-applied': '0' });
      expect(t.result).toBe('failure');
    });

    it.each(['failed', 'rolled-back', 'needs-human'] as const)(
      'staging release %s: production is skipped entirely',
      (result) => {
        const t = run({ release: { staging: result } });
        expect(stageJobs(t, 'staging'), formatTrace(t)).toMatchObject({
          staging: 'failure',
          'staging/release': 'failure',
        });
        expect(results(t)['production']).toBe('skipped');
        expect(Object.values(t.jobs).filter((j) => j.path.startsWith('production/') && j.ran)).toEqual([]);
        expect(t.result).toBe('failure');
      },
    );

    it.each([
      ['the staging preflight fails', { 'staging/gate': { preflight: FAIL } }],
      ['the staging migrations fail', { 'staging/migrate': { migrate: FAIL } }],
      ['a staging CI job fails', { 'staging/ci/test': { Test: FAIL } }],
    ])('%s: production is skipped', (_name, steps) => {
      const t = run({ pending: { staging: 'safe' }, steps });
      expect(results(t)['staging'], formatTrace(t)).toBe('failure');
      expect(results(t)['staging/release']).toBe('skipped');
      expect(results(t)['production']).toBe('skipped');
    });

    it("staging's reviewers reject its risky migrations: staging is not deployed and production is skipped", () => {
      const t = run({ pending: { staging: 'risky' }, reviewers: { 'staging-approval': 'reject' } });
      expect(stageJobs(t, 'staging')).toMatchObject({ 'staging/migrate': 'failure', 'staging/release': 'skipped' });
      expect(t.jobs['staging']?.call?.outputs['result']).toBe('not-deployed');
      expect(results(t)['production']).toBe('skipped');
    });

    it.each([
      ['staging/ci/test', undefined],
      ['staging/migrate', 'migrate'],
      ['staging/release', 'release'],
    ])('cancelled during %s: production is skipped and the run is cancelled', (during, step) => {
      const t = run({ pending: { staging: 'safe' }, cancel: { during, ...(step ? { step } : {}) } });
      expect(t.result).toBe('cancelled');
      expect(results(t)['production'], formatTrace(t)).toBe('skipped');
      expect(Object.values(t.jobs).filter((j) => j.path.startsWith('production/') && j.ran)).toEqual([]);
    });

    it("the promotion guard refuses (e.g. a re-run after staging's record turned to failure): production's database is not even read", () => {
      const t = run({ pending: { production: 'safe' }, guard: 'refused' });
      expect(stageJobs(t, 'production'), formatTrace(t)).toEqual({
        production: 'failure',
        'production/ci': 'skipped',
        'production/gate': 'failure',
        'production/approval': 'skipped',
        'production/migrate': 'skipped',
        'production/release': 'skipped',
      });
      expect(ranSteps(t, 'production/gate')).toEqual(['preflight', 'railway-preflight', 'promotion']);
      expect(t.jobs['production']?.call?.outputs['result']).toBe('not-deployed');
    });

    it("production's release fails: production is rolled back, staging stays deployed", () => {
      const t = run({ release: { production: 'rolled-back' } });
      expect(results(t)).toMatchObject({
        staging: 'success',
        'staging/release': 'success',
        production: 'failure',
        'production/release': 'failure',
      });
      expect(t.jobs['production']?.call?.outputs['result']).toBe('rolled-back');
      expect(t.jobs['staging']?.outputs['result']).toBe('deployed');
    });
  },
);

describe('staging-production.yml wiring', () => {
  const caller = parseYaml(readFileSync(path.join(repoRoot, CALLER), 'utf8')) as {
    jobs: Record<
      string,
      {
        needs?: string[];
        if?: string;
        permissions?: Record<string, string>;
        with?: Record<string, unknown>;
        secrets?: Record<string, string>;
      }
    >;
  };
  type Workflow = {
    jobs: Record<string, { permissions?: Record<string, string>; uses?: string }>;
    concurrency: { group: string };
  };
  const load = (file: string) => parseYaml(readFileSync(path.join(repoRoot, file), 'utf8')) as Workflow;
  const deploy = load('.github/workflows/deploy.yml');

  it('production requires the commit verified in the environment staging records to, and runs no CI of its own', () => {
    const { staging, production } = caller.jobs;
    expect(production?.needs).toEqual(['staging']);
    expect(production?.with?.['require-verified-in']).toBe(staging?.with?.['github-environment']);
    expect(staging?.with?.['run-ci']).toBe(true);
    expect(production?.with?.['run-ci']).toBe(false);
    expect(staging?.with?.['approval-environment']).not.toBe(production?.with?.['approval-environment']);
    expect(deploy.concurrency.group).toContain('inputs.github-environment');
  });

  it('each calling job grants every permission the called jobs ask for (GitHub refuses the run otherwise)', () => {
    const rank: Record<string, number> = { none: 0, read: 1, write: 2 };
    const asked: Record<string, string> = {};
    for (const job of [...Object.values(deploy.jobs), ...Object.values(load('.github/workflows/ci.yml').jobs)]) {
      for (const [scope, level] of Object.entries(job.permissions ?? {}))
        if ((rank[level] ?? 0) > (rank[asked[scope] ?? 'none'] ?? 0)) asked[scope] = level;
    }
    expect(asked).toMatchObject({ deployments: 'write' }); // the gate's deployments: read is covered by the release's write
    for (const id of ['staging', 'production']) {
      for (const [scope, level] of Object.entries(asked))
        expect(rank[caller.jobs[id]?.permissions?.[scope] ?? 'none'], `${id}: ${scope}`).toBeGreaterThanOrEqual(
          rank[level] ?? 0,
        );
    }
  });
});
