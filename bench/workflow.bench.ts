// Jobs in sequence before the release in the one-line deploy (deploy.yml), counted from a run of GitHub's scheduling
// model (test/gha-model): every job on the longest needs-chain that ends before the release job, a called workflow
// (ci.yml) counted by its own depth. Each job in sequence costs a runner start (queueing, checkout, setup) on the way
// to production. Prints `BENCH <name> <value> <unit>`; asserts nothing.
//
// Figures:
//   deploy.jobs_before_release.default         nothing risky pending (the everyday path)
//   deploy.jobs_before_release.issue_approval  risky migrations with approval-mode issue (an approval job runs)
//   deploy.jobs_before_release.env_approval    risky migrations with environment reviewers (migrate waits, no extra job)
//   deploy.jobs_before_release.previous        the same count for deploy.yml before the release job existed (git)
import { execFileSync } from 'node:child_process';
import { parse } from 'yaml';

const { formatTrace, runRepoWorkflow, runWorkflow } = await import('../test/gha-model/index.js');
type RunTrace = ReturnType<typeof runRepoWorkflow>;

function bench(name: string, value: number, unit: string): void {
  console.log(`BENCH ${name} ${value} ${unit}`);
}

/** Longest chain of jobs that RAN before `target` (a calling job weighs the depth of what it called). */
function jobsBefore(t: RunTrace, target: string): number {
  const memo = new Map<string, number>();
  const depth = (id: string): number => {
    const cached = memo.get(id);
    if (cached !== undefined) return cached;
    const job = t.jobs[id];
    if (!job) return 0;
    const weight = !job.ran
      ? 0
      : job.call
        ? job.call.order.filter((wave) => wave.some((j) => t.jobs[j]?.ran)).length
        : 1;
    const d = weight + Math.max(0, ...job.needs.map(depth));
    memo.set(id, d);
    return d;
  };
  return Math.max(0, ...(t.jobs[target]?.needs ?? []).map(depth));
}

const gate = (pending: 'none' | 'risky'): Record<string, Record<string, { outputs: Record<string, string> }>> => ({
  gate: {
    gate: {
      outputs:
        pending === 'none'
          ? { 'pending-count': '0', 'requires-approval': 'false' }
          : { 'pending-count': '1', 'requires-approval': 'true', plan: '{}', 'plan-hash': 'h' },
    },
  },
});
const base = {
  inputs: { services: 'web' },
  secrets: { RAILWAY_TOKEN: 'railway-token-0123456789', DATABASE_URL: 'postgres://u:pw0123456789@db/app' },
  environments: { 'production-approval': { reviewers: true } },
};

bench(
  'deploy.jobs_before_release.default',
  jobsBefore(runRepoWorkflow('.github/workflows/deploy.yml', { ...base, steps: gate('none') }), 'release'),
  'jobs',
);
const issue = runRepoWorkflow('.github/workflows/deploy.yml', {
  ...base,
  inputs: { ...base.inputs, 'approval-mode': 'issue', approvers: 'a' },
  steps: gate('risky'),
});
if (!issue.jobs['approval']?.ran) throw new Error(`the approval job did not run:\n${formatTrace(issue)}`);
bench('deploy.jobs_before_release.issue_approval', jobsBefore(issue, 'release'), 'jobs');
bench(
  'deploy.jobs_before_release.env_approval',
  jobsBefore(runRepoWorkflow('.github/workflows/deploy.yml', { ...base, steps: gate('risky') }), 'release'),
  'jobs',
);

// The previous design (deploy → verify → rollback jobs, build after the checks), from git history when available.
try {
  const rev = '7b2627a';
  const show = (file: string) =>
    parse(
      execFileSync('git', ['show', `${rev}:${file}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
    ) as unknown;
  const old = runWorkflow(
    show('.github/workflows/deploy.yml'),
    { ...base, inputs: { ...base.inputs, 'health-url': 'https://web/health' }, steps: gate('none') },
    (p: string) => show(p),
  );
  // That workflow's deploy job was skipped on GitHub (the bug fixed beside this figure); its chain as designed:
  bench(
    'deploy.jobs_before_release.previous',
    jobsBefore(old, 'deploy'),
    `jobs (its deploy job: ${old.jobs['deploy']?.result ?? '?'} under GitHub's rules)`,
  );
} catch {
  console.log('previous deploy.yml not in this checkout’s history: figure skipped');
}
