// Tests of the GitHub Actions scheduling model (test/gha-model) against documented examples, so the model cannot simply
// agree with our own workflows. Each block cites the example or rule it reproduces.
import { describe, expect, it } from 'vitest';
import {
  ModelError,
  formatTrace,
  mapLoader,
  ranSteps,
  results,
  runYaml,
  stepOf,
  type Scenario,
} from './gha-model/index.js';

const fail = { outcome: 'failure' } as const;

// docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idneeds
// "Example: Requiring successful dependent jobs" and "Example: Not requiring successful dependent jobs".
describe('docs jobs.<job_id>.needs examples', () => {
  const requiring = `
on: push
jobs:
  job1:
    runs-on: ubuntu-latest
    steps: [{ id: work, run: echo 1 }]
  job2:
    needs: job1
    runs-on: ubuntu-latest
    steps: [{ id: work, run: echo 2 }]
  job3:
    needs: [job1, job2]
    runs-on: ubuntu-latest
    steps: [{ id: work, run: echo 3 }]
`;

  it('all succeed: job1, job2, job3 run one after the other', () => {
    const t = runYaml(requiring);
    expect(t.order).toEqual([['job1'], ['job2'], ['job3']]);
    expect(results(t), formatTrace(t)).toEqual({ job1: 'success', job2: 'success', job3: 'success' });
    expect(Object.values(t.jobs).every((j) => j.ran)).toBe(true);
    expect(t.result).toBe('success');
  });

  it('waves: every job whose needs have finished starts in the same wave', () => {
    const t = runYaml(`
on: push
jobs:
  d: { needs: [b, c], runs-on: x, steps: [{ run: x }] }
  b: { needs: a, runs-on: x, steps: [{ run: x }] }
  a: { runs-on: x, steps: [{ run: x }] }
  c: { runs-on: x, steps: [{ run: x }] }
`);
    expect(t.order).toEqual([['a', 'c'], ['b'], ['d']]);
    expect(t.jobs['d']?.wave).toBe(2);
  });

  it('job1 fails: job2 and job3 are skipped ("they are down the dependency chain", github/docs#28762)', () => {
    const t = runYaml(requiring, { steps: { job1: { work: fail } } });
    expect(results(t), formatTrace(t)).toEqual({ job1: 'failure', job2: 'skipped', job3: 'skipped' });
    expect(t.jobs['job2']?.ran).toBe(false);
    expect(t.jobs['job2']?.steps.every((s) => !s.ran)).toBe(true);
    expect(t.result).toBe('failure');
  });

  it('job2 fails: job3 is skipped even though job1 succeeded', () => {
    const t = runYaml(requiring, { steps: { job2: { work: fail } } });
    expect(results(t)).toEqual({ job1: 'success', job2: 'failure', job3: 'skipped' });
  });

  it('"Not requiring successful dependent jobs": job3 with if: ${{ always() }} runs after job1 failed', () => {
    const t = runYaml(requiring.replace('  job3:\n', '  job3:\n    if: ${{ always() }}\n'), {
      steps: { job1: { work: fail } },
    });
    expect(results(t), formatTrace(t)).toEqual({ job1: 'failure', job2: 'skipped', job3: 'success' });
    expect(ranSteps(t, 'job3')).toEqual(['work']);
  });
});

// actions/runner#2205 (open): "Jobs skipped when NEEDS job ran successfully"; docs jobs.<job_id>.needs: "a failure or
// skip applies to all jobs in the dependency chain from the point of failure or skip onwards".
describe('runner#2205: a skipped or failed ancestor anywhere up the chain skips default jobs', () => {
  const chain = (cIf: string | undefined, dIf?: string) => `
on: push
jobs:
  A:
    runs-on: ubuntu-latest
    steps: [{ id: a, run: echo a }]
  B:
    needs: A
    if: false
    runs-on: ubuntu-latest
    steps: [{ id: b, run: echo b }]
  C:
    needs: B
${cIf !== undefined ? `    if: ${cIf}\n` : ''}    runs-on: ubuntu-latest
    steps: [{ id: c, run: echo c }]
  D:
    needs: C
${dIf !== undefined ? `    if: ${dIf}\n` : ''}    runs-on: ubuntu-latest
    steps: [{ id: d, run: echo d }]
`;

  it('C without if after skipped B is skipped', () => {
    const t = runYaml(chain(undefined));
    expect(results(t), formatTrace(t)).toEqual({ A: 'success', B: 'skipped', C: 'skipped', D: 'skipped' });
    expect(t.jobs['C']?.if).toBe('success()');
  });

  it('C with if: always() runs; D without if after a SUCCESSFUL C is still skipped (B is a transitive ancestor)', () => {
    const t = runYaml(chain('always()'));
    expect(results(t), formatTrace(t)).toEqual({ A: 'success', B: 'skipped', C: 'success', D: 'skipped' });
  });

  it("C with if: ${{ !cancelled() && needs.B.result == 'skipped' }} runs; D with an explicit guard runs too", () => {
    const guard = "${{ !cancelled() && needs.C.result == 'success' }}";
    const t = runYaml(chain("${{ !cancelled() && needs.B.result == 'skipped' }}", guard));
    expect(results(t), formatTrace(t)).toEqual({ A: 'success', B: 'skipped', C: 'success', D: 'success' });
    // …while an if WITHOUT a status function gets the implicit success() and is skipped.
    const implicit = runYaml(
      chain("${{ !cancelled() && needs.B.result == 'skipped' }}", "needs.C.result == 'success'"),
    );
    expect(implicit.jobs['D']?.if).toBe("success() && (needs.C.result == 'success')");
    expect(implicit.jobs['D']?.result).toBe('skipped');
  });

  const failing = (cIf?: string) => `
on: push
jobs:
  A:
    runs-on: ubuntu-latest
    steps: [{ id: a, run: exit 1 }]
  B:
    needs: A
    if: always()
    runs-on: ubuntu-latest
    steps: [{ id: b, run: echo b }]
  C:
    needs: B
${cIf !== undefined ? `    if: ${cIf}\n` : ''}    runs-on: ubuntu-latest
    steps: [{ id: c, run: echo c }]
`;

  it('A fails, B (always) succeeds: C without if is skipped — the failure applies to the whole chain', () => {
    const t = runYaml(failing(), { steps: { A: { a: fail } } });
    expect(results(t), formatTrace(t)).toEqual({ A: 'failure', B: 'success', C: 'skipped' });
  });

  it('failure() at job level is true when any ancestor failed, not only a direct need (docs "failure")', () => {
    const t = runYaml(failing('failure()'), { steps: { A: { a: fail } } });
    expect(results(t)).toEqual({ A: 'failure', B: 'success', C: 'success' });
    const ok = runYaml(failing('failure()'));
    expect(results(ok)).toEqual({ A: 'success', B: 'success', C: 'skipped' });
  });

  it("ci.yml's guard `!cancelled() && !contains(needs.*.result, 'failure')` runs with a skipped need, not with a failed one", () => {
    const w = `
on: push
jobs:
  lint: { if: false, runs-on: x, steps: [{ id: s, run: x }] }
  test: { runs-on: x, steps: [{ id: s, run: x }] }
  build:
    needs: [lint, test]
    if: \${{ !cancelled() && !contains(needs.*.result, 'failure') && !contains(needs.*.result, 'cancelled') }}
    runs-on: x
    steps: [{ id: s, run: x }]
`;
    expect(results(runYaml(w)).build).toBe('success');
    expect(results(runYaml(w, { steps: { test: { s: fail } } })).build).toBe('skipped');
  });
});

// docs "Contexts reference › needs context": it "contains outputs from all jobs that are defined as a direct dependency
// of the current job".
describe('needs holds the direct needs only', () => {
  const w = `
on: push
jobs:
  A: { runs-on: x, outputs: { v: '\${{ steps.s.outputs.v }}' }, steps: [{ id: s, run: x }] }
  B: { needs: A, runs-on: x, steps: [{ id: s, run: x }] }
  C:
    needs: B
    if: needs.A.result == 'success'
    runs-on: x
    steps: [{ id: s, run: x }]
  E:
    needs: B
    runs-on: x
    steps:
      - id: s
        with:
          a: \${{ needs.A.result }}
          a-out: \${{ needs.A.outputs.v }}
          b: \${{ needs.B.result }}
          all: \${{ join(needs.*.result, ',') }}
          a-is-null: \${{ needs.A == null }}
`;

  it('needs.A inside a job that needs only B is null', () => {
    const t = runYaml(w, { steps: { A: { s: { outputs: { v: 'from-A' } } } } });
    expect(results(t), formatTrace(t)).toEqual({ A: 'success', B: 'success', C: 'skipped', E: 'success' });
    expect(stepOf(t, 'E', 's').with).toEqual({ a: '', 'a-out': '', b: 'success', all: 'success', 'a-is-null': 'true' });
  });
});

// docs "Passing information between jobs" (jobs.<job_id>.outputs example), plus the runner's rules for job outputs
// (actions/runner src/Runner.Worker/JobExtension.cs: empty outputs and outputs containing a secret are skipped).
describe('docs "Defining outputs for jobs" example', () => {
  const docsExample = `
on: push
jobs:
  job1:
    runs-on: ubuntu-latest
    # Map a step output to a job output
    outputs:
      output1: \${{ steps.step1.outputs.test }}
      output2: \${{ steps.step2.outputs.test }}
    steps:
      - id: step1
        run: echo "test=hello" >> "$GITHUB_OUTPUT"
      - id: step2
        run: echo "test=world" >> "$GITHUB_OUTPUT"
  job2:
    runs-on: ubuntu-latest
    needs: job1
    steps:
      - env:
          OUTPUT1: \${{needs.job1.outputs.output1}}
          OUTPUT2: \${{needs.job1.outputs.output2}}
        run: echo "$OUTPUT1 $OUTPUT2"
`;
  const hello: Scenario = {
    steps: { job1: { step1: { outputs: { test: 'hello' } }, step2: { outputs: { test: 'world' } } } },
  };

  it('job2 receives hello and world through needs.job1.outputs', () => {
    const t = runYaml(docsExample, hello);
    expect(t.jobs['job1']?.outputs).toEqual({ output1: 'hello', output2: 'world' });
    expect(stepOf(t, 'job2', '#0').env).toEqual({ OUTPUT1: 'hello', OUTPUT2: 'world' });
    expect(stepOf(t, 'job2', '#0').run).toBe('echo "$OUTPUT1 $OUTPUT2"');
  });

  it('an output from a skipped step is empty and dropped; one containing a secret is dropped with a warning', () => {
    const w = docsExample.replace('      - id: step2\n', '      - id: step2\n        if: false\n');
    const t = runYaml(w, { ...hello, secrets: { TOKEN: 'hello' } });
    expect(t.jobs['job1']?.outputs).toEqual({});
    expect(t.jobs['job1']?.warnings).toEqual(["Skip output 'output1' since it may contain secret."]);
    expect(stepOf(t, 'job2', '#0').env).toEqual({ OUTPUT1: '', OUTPUT2: '' });
  });

  it('a skipped job has no outputs; a failed job keeps the outputs of the steps that ran', () => {
    const withAlways = docsExample.replace('    needs: job1\n', '    needs: job1\n    if: always()\n');
    const skipped = runYaml(withAlways.replace('  job1:\n', '  job1:\n    if: false\n'), hello);
    expect(skipped.jobs['job1']).toMatchObject({ result: 'skipped', outputs: {} });
    expect(stepOf(skipped, 'job2', '#0').env).toEqual({ OUTPUT1: '', OUTPUT2: '' });

    const failed = runYaml(withAlways, { steps: { job1: { step1: { outputs: { test: 'hello' } }, step2: fail } } });
    expect(failed.jobs['job1']).toMatchObject({ result: 'failure', outputs: { output1: 'hello' } });
    expect(stepOf(failed, 'job2', '#0').env).toEqual({ OUTPUT1: 'hello', OUTPUT2: '' });
  });
});

// docs "Evaluate expressions › Status check functions" (success, always, cancelled, failure, "failure with
// conditions") and "Contexts reference › steps context" (outcome vs conclusion with continue-on-error).
describe('step-level status functions', () => {
  const job = (steps: string) => `
on: push
jobs:
  job:
    runs-on: ubuntu-latest
    steps:
${steps}`;

  it('default success(): a step after a failing step is skipped; if: failure() / always() / !cancelled() run', () => {
    const t = runYaml(
      job(`
      - id: demo
        run: exit 1
      - id: next
        run: echo next
      - id: explicit-success
        if: \${{ success() }}
        run: echo s
      - name: The job has failed
        if: \${{ failure() }}
        run: echo failed
      - id: failure-with-conditions
        if: \${{ failure() && steps.demo.conclusion == 'failure' }}
        run: echo f
      - id: always
        if: \${{ always() }}
        run: echo always
      - id: not-cancelled
        if: \${{ !cancelled() }}
        run: echo nc
      - id: cancelled
        if: \${{ cancelled() }}
        run: echo c
`),
      { steps: { job: { demo: fail } } },
    );
    expect(ranSteps(t, 'job')).toEqual([
      'demo',
      'The job has failed',
      'failure-with-conditions',
      'always',
      'not-cancelled',
    ]);
    expect(stepOf(t, 'job', 'next')).toMatchObject({ ran: false, outcome: 'skipped', if: 'success()' });
    expect(t.jobs['job']?.result).toBe('failure');
  });

  it('all succeed: failure() steps are skipped, success() and default steps run', () => {
    const t = runYaml(
      job(`
      - id: a
        run: echo a
      - id: on-failure
        if: failure()
        run: echo f
      - id: b
        if: success()
        run: echo b
`),
    );
    expect(ranSteps(t, 'job')).toEqual(['a', 'b']);
    expect(t.jobs['job']?.result).toBe('success');
  });

  it('continue-on-error: outcome failure, conclusion success; later default steps run; the job succeeds', () => {
    const t = runYaml(
      job(`
      - id: flaky
        continue-on-error: true
        run: exit 1
      - id: after
        run: echo after
      - id: inspect
        if: steps.flaky.outcome == 'failure' && steps.flaky.conclusion == 'success'
        run: echo saw it
`),
      { steps: { job: { flaky: fail } } },
    );
    expect(stepOf(t, 'job', 'flaky')).toMatchObject({ outcome: 'failure', conclusion: 'success' });
    expect(ranSteps(t, 'job')).toEqual(['flaky', 'after', 'inspect']);
    expect(t.jobs['job']?.result).toBe('success');
  });

  it("a status function inside a string literal does not count: if: ${{ 'failure()' != '' }} still gets success()", () => {
    // Same tree walk as @actions/workflow-parser (if-condition.js walkTreeToFindStatusFunctionCalls).
    const t = runYaml(
      job(`
      - id: a
        run: exit 1
      - id: literal
        if: \${{ 'failure()' != '' }}
        run: echo x
`),
      { steps: { job: { a: fail } } },
    );
    expect(stepOf(t, 'job', 'literal')).toMatchObject({ ran: false, if: "success() && ('failure()' != '')" });
  });

  it('steps outputs, $GITHUB_ENV and step env reach later steps; a step function sees the evaluated context', () => {
    // docs "Workflow commands › Setting an environment variable": later steps of the job see it.
    const t = runYaml(
      `
on: push
env: { LEVEL: workflow }
jobs:
  job:
    runs-on: x
    env: { JOB: 'job-\${{ github.ref_name }}' }
    steps:
      - id: gen
        env: { IDS: "a\\nb" }
        run: echo
      - id: use
        with:
          first: \${{ steps.gen.outputs.first }}
          mixed: '\${{ env.LEVEL }}/\${{ env.JOB }}/\${{ env.FROM_ENV_FILE }}'
`,
      {
        steps: {
          job: {
            gen: (ctx) => ({
              outputs: { first: ctx.env['IDS']?.split('\n')[0] ?? '' },
              env: { FROM_ENV_FILE: ctx.env['JOB'] ?? '' },
            }),
          },
        },
      },
    );
    expect(stepOf(t, 'job', 'use').with).toEqual({ first: 'a', mixed: 'workflow/job-main/job-main' });
  });
});

// docs "Workflow cancellation reference": 1. "the server re-evaluates if conditions for all currently running jobs. If
// the condition evaluates to true, the job will not get canceled"; 3. runners re-evaluate the unfinished steps' ifs.
// docs "Status check functions": always() "returns true, even when canceled"; cancelled() "Returns true if the workflow
// was canceled".
describe('cancellation', () => {
  const w = `
on: push
jobs:
  build:
    runs-on: x
    outputs: { a: '\${{ steps.a.outputs.v }}' }
    steps:
      - { id: a, run: echo a }
      - { id: b, run: sleep 100 }
      - { id: c, if: always(), run: echo c }
      - { id: d, if: cancelled(), run: echo d }
      - { id: e, if: failure(), run: echo e }
      - { id: f, run: echo f }
  watch:
    if: always()
    runs-on: x
    steps: [{ id: w, run: echo w }, { id: w2, run: echo w2 }]
  side:
    runs-on: x
    steps: [{ id: s, run: echo s }, { id: s2, if: always(), run: echo s2 }]
  next: { needs: build, runs-on: x, steps: [{ id: n, run: x }] }
  cleanup: { needs: build, if: always(), runs-on: x, steps: [{ id: n, run: x }] }
  guarded: { needs: build, if: '\${{ !cancelled() }}', runs-on: x, steps: [{ id: n, run: x }] }
  on-cancel: { needs: build, if: cancelled(), runs-on: x, steps: [{ id: n, run: x }] }
`;
  const scenario: Scenario = {
    cancel: { during: 'build', step: 'b' },
    steps: { build: { a: { outputs: { v: '1' } } } },
  };

  it('the running step is cancelled; only always()/cancelled() steps run afterwards; the job and run are cancelled', () => {
    const t = runYaml(w, scenario);
    expect(stepOf(t, 'build', 'a')).toMatchObject({ ran: true, outcome: 'success' });
    expect(stepOf(t, 'build', 'b')).toMatchObject({ outcome: 'cancelled', cancelledHere: true });
    expect(ranSteps(t, 'build')).toEqual(['a', 'b', 'c', 'd']);
    // failure() is false after the cancel (the job status is cancelled, not failure).
    expect(stepOf(t, 'build', 'e').ran).toBe(false);
    expect(t.jobs['build']).toMatchObject({ result: 'cancelled', cancellation: 'cancelled', outputs: { a: '1' } });
    expect(t.result).toBe('cancelled');
    expect(t.cancelled).toBe(true);
  });

  it('later jobs: default and !cancelled() are skipped, always() and cancelled() run (with normal steps)', () => {
    const t = runYaml(w, scenario);
    expect(results(t), formatTrace(t)).toMatchObject({
      next: 'skipped',
      cleanup: 'success',
      guarded: 'skipped',
      'on-cancel': 'success',
    });
    expect(ranSteps(t, 'cleanup')).toEqual(['n']);
  });

  it('jobs running in the same wave: if: always() keeps running untouched, a default job is cancelled', () => {
    const t = runYaml(w, scenario);
    expect(t.jobs['watch']).toMatchObject({ result: 'success', cancellation: 'kept' });
    expect(ranSteps(t, 'watch')).toEqual(['w', 'w2']);
    expect(t.jobs['side']).toMatchObject({ result: 'cancelled', cancellation: 'cancelled' });
    expect(stepOf(t, 'side', 's')).toMatchObject({ outcome: 'cancelled' });
    expect(ranSteps(t, 'side')).toEqual(['s', 's2']);
    // A job that had already finished is not touched.
    const finished = runYaml(w, { ...scenario, cancel: { during: 'build', step: 'b', finished: ['side'] } });
    expect(finished.jobs['side']).toMatchObject({ result: 'success' });
    expect(finished.jobs['side']?.cancellation).toBeUndefined();
  });

  it('a cancelled step whose if holds with cancelled() true keeps running (the runner re-tests it)', () => {
    const t = runYaml(w, {
      cancel: { during: 'build', step: 'c' },
      steps: { build: { c: { outputs: { v: 'done' } } } },
    });
    expect(stepOf(t, 'build', 'c')).toMatchObject({
      ran: true,
      outcome: 'success',
      cancelledHere: true,
      outputs: { v: 'done' },
    });
    expect(ranSteps(t, 'build')).toEqual(['a', 'b', 'c', 'd']);
    expect(stepOf(t, 'build', 'f').ran).toBe(false);
    expect(t.jobs['build']?.result).toBe('cancelled');
  });

  it('the cancelled job itself is kept when its if is always(); option see-cancel re-tests its steps instead', () => {
    const kept = runYaml(w, { cancel: { during: 'watch', step: 'w' } });
    expect(kept.jobs['watch']).toMatchObject({ result: 'success', cancellation: 'kept' });
    expect(ranSteps(kept, 'watch')).toEqual(['w', 'w2']);
    expect(kept.jobs['build']).toMatchObject({ result: 'cancelled', cancellation: 'cancelled' });
    const seeCancel = runYaml(w, { cancel: { during: 'watch' }, options: { keptJobSteps: 'see-cancel' } });
    expect(ranSteps(seeCancel, 'watch')).toEqual([]);
  });

  it('refuses a cancel that can never happen', () => {
    // on-cancel only runs after a cancel, so a cancel during it cannot be the first one.
    expect(() => runYaml(w, { cancel: { during: 'on-cancel' } })).toThrow(/does not run in this scenario/);
    expect(() => runYaml(w, { cancel: { during: 'build', step: 'e' } })).toThrow(/does not run/);
    expect(() => runYaml(w, { cancel: { during: 'nope' } })).toThrow(/no job 'nope'/);
  });
});

// docs "Reuse workflows": passing inputs and secrets, "Using outputs from a reusable workflow" (the example below is
// that page's, with octo-org/example-repo resolved to this repository by options.selfRepository).
describe('called (reusable) workflows', () => {
  const calledWorkflow = `
name: Reusable workflow
on:
  workflow_call:
    # Map the workflow outputs to job outputs
    outputs:
      firstword:
        description: "The first output string"
        value: \${{ jobs.example_job.outputs.output1 }}
      secondword:
        description: "The second output string"
        value: \${{ jobs.example_job.outputs.output2 }}
jobs:
  example_job:
    name: Generate output
    runs-on: ubuntu-latest
    # Map the job outputs to step outputs
    outputs:
      output1: \${{ steps.step1.outputs.firstword }}
      output2: \${{ steps.step2.outputs.secondword }}
    steps:
      - id: step1
        run: echo "firstword=hello" >> $GITHUB_OUTPUT
      - id: step2
        run: echo "secondword=world" >> $GITHUB_OUTPUT
`;
  const caller = `
name: Call a reusable workflow and use its outputs
on:
  workflow_dispatch:
jobs:
  job1:
    uses: octo-org/example-repo/.github/workflows/called-workflow.yml@v1
  job2:
    runs-on: ubuntu-latest
    needs: job1
    steps:
      - run: echo \${{ needs.job1.outputs.firstword }} \${{ needs.job1.outputs.secondword }}
`;
  const loader = mapLoader({ '.github/workflows/called-workflow.yml': calledWorkflow });
  const words: Scenario = {
    options: { selfRepository: 'example-repo' },
    steps: {
      'job1/example_job': { step1: { outputs: { firstword: 'hello' } }, step2: { outputs: { secondword: 'world' } } },
    },
  };

  it('docs example: outputs flow step → job → workflow → caller needs', () => {
    const t = runYaml(caller, words, loader);
    expect(results(t), formatTrace(t)).toEqual({ job1: 'success', 'job1/example_job': 'success', job2: 'success' });
    expect(t.jobs['job1']?.outputs).toEqual({ firstword: 'hello', secondword: 'world' });
    expect(t.jobs['job1']?.call).toMatchObject({
      path: '.github/workflows/called-workflow.yml',
      order: [['job1/example_job']],
    });
    expect(stepOf(t, 'job2', '#0').run).toBe('echo hello world');
    // Run on its own, the called workflow returns the same outputs.
    expect(
      runYaml(calledWorkflow, { steps: { example_job: words.steps?.['job1/example_job'] ?? {} } }).outputs,
    ).toEqual({ firstword: 'hello', secondword: 'world' });
  });

  it('a failing called job fails the calling job; its dependents are skipped, failure() dependents run', () => {
    const w =
      caller +
      `
  report:
    needs: job1
    if: failure()
    runs-on: x
    steps: [{ id: r, run: x }]
`;
    const t = runYaml(w, { ...words, steps: { 'job1/example_job': { step2: fail } } }, loader);
    expect(results(t), formatTrace(t)).toEqual({
      job1: 'failure',
      'job1/example_job': 'failure',
      job2: 'skipped',
      report: 'success',
    });
    expect(t.result).toBe('failure');
  });

  const typed = `
on:
  workflow_call:
    inputs:
      config-path: { required: true, type: string }
      verify: { type: boolean, default: true }
      attempts: { type: number, default: 3 }
      label: { type: string, default: main }
    secrets:
      personal_access_token: { required: true }
      optional_token: { required: false }
    outputs:
      seen: { value: '\${{ jobs.show.outputs.seen }}' }
jobs:
  show:
    runs-on: x
    outputs: { seen: '\${{ steps.s.outputs.seen }}' }
    steps:
      - id: s
        with:
          verify: \${{ inputs.verify }}
          verify-type: \${{ inputs.verify == true }}
          attempts: \${{ inputs.attempts }}
          many: \${{ inputs.attempts > 2 }}
          label: \${{ inputs.label }}
          pat: \${{ secrets.personal_access_token }}
          optional: \${{ secrets.optional_token }}
  verify:
    if: inputs.verify
    runs-on: x
    steps: [{ id: v, run: x }]
`;
  const callTyped = (withBlock: string, secrets = 'secrets:\n      personal_access_token: ${{ secrets.PAT }}') => `
on: push
jobs:
  call:
    uses: $/.github/workflows/typed.yml
    with:
${withBlock}
    ${secrets}
`;
  const typedLoader = mapLoader({ '.github/workflows/typed.yml': typed });
  const secrets = { PAT: 'pat-value', OTHER: 'other-value' };

  it('input defaults and types: booleans stay booleans, numbers become numbers, defaults fill the rest', () => {
    const t = runYaml(callTyped('      config-path: .github/labeler.yml'), { secrets }, typedLoader);
    expect(t.jobs['call']?.call?.inputs).toEqual({
      'config-path': '.github/labeler.yml',
      verify: true,
      attempts: 3,
      label: 'main',
    });
    expect(stepOf(t, 'call/show', 's').with).toEqual({
      verify: 'true',
      'verify-type': 'true',
      attempts: '3',
      many: 'true',
      label: 'main',
      pat: 'pat-value',
      optional: '',
    });
    expect(results(t)['call/verify']).toBe('success');
    expect(t.jobs['call']?.call?.secrets).toEqual(['GITHUB_TOKEN', 'personal_access_token']);
  });

  it('a YAML false or a boolean expression reaches a boolean input as false (and skips the job gated on it)', () => {
    const literal = runYaml(
      callTyped('      config-path: x\n      verify: false\n      attempts: 5'),
      { secrets },
      typedLoader,
    );
    expect(literal.jobs['call']?.call?.inputs).toMatchObject({ verify: false, attempts: 5 });
    expect(results(literal)['call/verify']).toBe('skipped');
    const expr = runYaml(
      callTyped("      config-path: x\n      verify: ${{ github.event_name == 'pull_request' }}"),
      { secrets },
      typedLoader,
    );
    expect(expr.jobs['call']?.call?.inputs).toMatchObject({ verify: false });
    // A string is not cast to boolean (actions/runner#1483), but a boolean is cast to a string input.
    expect(() => runYaml(callTyped("      config-path: x\n      verify: 'false'"), { secrets }, typedLoader)).toThrow(
      /expected type: Boolean/,
    );
    const cast = runYaml(callTyped('      config-path: x\n      label: ${{ true }}'), { secrets }, typedLoader);
    expect(cast.jobs['call']?.call?.inputs).toMatchObject({ label: 'true' });
  });

  it('required, unknown and undeclared inputs/secrets are errors; secrets: inherit passes everything', () => {
    expect(() => runYaml(callTyped('      label: x'), { secrets }, typedLoader)).toThrow(
      /Input config-path is required/,
    );
    expect(() => runYaml(callTyped('      config-path: x\n      nope: 1'), { secrets }, typedLoader)).toThrow(
      /Invalid input, nope/,
    );
    expect(() => runYaml(callTyped('      config-path: x', 'secrets: { OTHER: x }'), { secrets }, typedLoader)).toThrow(
      /Invalid secret, OTHER/,
    );
    expect(() => runYaml(callTyped('      config-path: x', 'secrets: {}'), { secrets }, typedLoader)).toThrow(
      /Secret personal_access_token is required/,
    );
    const inherit = runYaml(
      callTyped('      config-path: x', 'secrets: inherit'),
      { secrets: { ...secrets, personal_access_token: 'p' } },
      typedLoader,
    );
    expect(inherit.jobs['call']?.call?.secrets).toEqual(['GITHUB_TOKEN', 'OTHER', 'PAT', 'personal_access_token']);
  });

  it('skipped called jobs do not fail the caller; flattened ancestry still skips default dependents (community #189172)', () => {
    const w = `
on: push
jobs:
  call:
    uses: $/.github/workflows/typed.yml
    with: { config-path: x, verify: false }
    secrets: inherit
  after:
    needs: call
    runs-on: x
    steps: [{ id: s, run: x }]
`;
    const s: Scenario = { secrets: { personal_access_token: 'p' } };
    const flattened = runYaml(w, s, typedLoader);
    expect(results(flattened), formatTrace(flattened)).toEqual({
      call: 'success',
      'call/show': 'success',
      'call/verify': 'skipped',
      after: 'skipped',
    });
    const opaque = runYaml(w, { ...s, options: { reusableAncestry: 'opaque' } }, typedLoader);
    expect(results(opaque).after).toBe('success');
  });

  it('flattened ancestry: a caller that runs with always() after a failure passes the failure to its called jobs', () => {
    // actions/runner#2205 (comment of 2025-01-15): jobs inside a reusable workflow stay skipped "even though I used every
    // mix of previously mentioned fixes" on the calling job.
    const w = `
on: push
jobs:
  first: { runs-on: x, steps: [{ id: s, run: exit 1 }] }
  call:
    needs: first
    if: always()
    uses: $/.github/workflows/typed.yml
    with: { config-path: x }
    secrets: inherit
`;
    const s: Scenario = { secrets: { personal_access_token: 'p' }, steps: { first: { s: fail } } };
    const flattened = runYaml(w, s, typedLoader);
    expect(results(flattened), formatTrace(flattened)).toEqual({
      first: 'failure',
      call: 'success',
      'call/show': 'skipped',
      'call/verify': 'skipped',
    });
    const opaque = runYaml(w, { ...s, options: { reusableAncestry: 'opaque' } }, typedLoader);
    expect(results(opaque)).toMatchObject({ 'call/show': 'success', 'call/verify': 'success' });
  });

  it('resolves $/, ./ and <owner>/rail-actions/…@ref to the same repository file; other repositories are refused', () => {
    const seen: string[] = [];
    const recording = (file: string, uses: string) => {
      seen.push(`${uses} -> ${file}`);
      return typed;
    };
    const w = (uses: string) => callTyped('      config-path: x').replace('$/.github/workflows/typed.yml', uses);
    for (const uses of [
      '$/.github/workflows/typed.yml',
      './.github/workflows/typed.yml',
      'org/rail-actions/.github/workflows/typed.yml@v1',
    ]) {
      runYaml(w(uses), { secrets }, recording);
    }
    expect(new Set(seen.map((s) => s.split(' -> ')[1]))).toEqual(new Set(['.github/workflows/typed.yml']));
    expect(() => runYaml(w('other/repo/.github/workflows/typed.yml@v1'), { secrets }, recording)).toThrow(
      /cannot resolve/,
    );
  });
});

// docs "Managing environments for deployment" / "Reviewing deployments": jobs that reference an environment with
// required reviewers wait for approval before starting; "If a job is rejected, the workflow will fail".
describe('environments', () => {
  const w = `
on: push
jobs:
  plan:
    runs-on: x
    outputs: { target: '\${{ steps.p.outputs.target }}' }
    steps: [{ id: p, run: x }]
  deploy:
    needs: plan
    runs-on: x
    environment:
      name: \${{ needs.plan.outputs.target }}
      url: \${{ steps.d.outputs.url }}
    steps: [{ id: d, run: x }]
  notify:
    needs: deploy
    runs-on: x
    environment: { name: audit, deployment: false }
    steps: [{ id: n, run: x }]
  after:
    needs: notify
    runs-on: x
    steps: [{ id: a, run: x }]
`;
  const target = (name: string): Scenario['steps'] => ({
    plan: { p: { outputs: { target: name } } },
    deploy: { d: { outputs: { url: 'https://app.example' } } },
  });

  it('the name is an expression evaluated before the job; the url is evaluated from the steps after it', () => {
    const t = runYaml(w, { steps: target('production') });
    expect(t.jobs['deploy']?.environment).toEqual({
      name: 'production',
      url: 'https://app.example',
      deployment: true,
      waitedForApproval: false,
    });
  });

  it("an empty name is recorded as an environment called ''", () => {
    const t = runYaml(w, { steps: { deploy: { d: { outputs: { url: 'u' } } } } });
    expect(t.jobs['deploy']?.environment?.name).toBe('');
    expect(t.jobs['deploy']?.result).toBe('success');
  });

  it('reviewers approve: the job waited and ran; reject: it fails without running, dependents are skipped', () => {
    const approve = runYaml(w, {
      steps: target('production'),
      environments: { production: { reviewers: true, decision: 'approve' } },
    });
    expect(approve.jobs['deploy']).toMatchObject({
      result: 'success',
      ran: true,
      environment: { waitedForApproval: true, decision: 'approve' },
    });

    const reject = runYaml(w, {
      steps: target('production'),
      environments: { production: { reviewers: true, decision: 'reject' } },
    });
    expect(reject.jobs['deploy']).toMatchObject({
      result: 'failure',
      ran: false,
      outputs: {},
      environment: { waitedForApproval: true, decision: 'reject' },
    });
    expect(ranSteps(reject, 'deploy')).toEqual([]);
    expect(results(reject)).toMatchObject({ notify: 'skipped', after: 'skipped' });
    expect(reject.result).toBe('failure');
    // Another environment's reviewers do not hold this job.
    const staging = runYaml(w, {
      steps: target('staging'),
      environments: { production: { reviewers: true, decision: 'reject' } },
    });
    expect(staging.jobs['deploy']).toMatchObject({
      result: 'success',
      environment: { name: 'staging', waitedForApproval: false },
    });
  });

  it('deployment: false is recorded and reviewers still apply (docs "Using environments without deployments")', () => {
    const t = runYaml(w, {
      steps: target('production'),
      environments: { audit: { reviewers: true, decision: 'reject' } },
    });
    expect(t.jobs['notify']).toMatchObject({
      result: 'failure',
      environment: { name: 'audit', deployment: false, waitedForApproval: true },
    });
    expect(t.jobs['after']?.result).toBe('skipped');
  });
});

// docs "Contexts reference › Context availability": each key allows only some contexts; GitHub rejects the rest.
describe('context availability and scenario checks', () => {
  it('a context that is not available where it is used is an error (secrets in a job if, steps in environment name)', () => {
    expect(() =>
      runYaml('on: push\njobs:\n  a: { if: "secrets.X != \'\'", runs-on: x, steps: [{ run: x }] }\n'),
    ).toThrow(/Unrecognized named-value: 'secrets'/i);
    expect(() =>
      runYaml('on: push\njobs:\n  a: { environment: "${{ steps.x.outputs.y }}", runs-on: x, steps: [{ run: x }] }\n'),
    ).toThrow(ModelError);
    expect(() =>
      runYaml('on: push\njobs:\n  a: { runs-on: x, outputs: { o: "${{ success() }}" }, steps: [{ run: x }] }\n'),
    ).toThrow(ModelError);
  });

  it('scenario keys that match no job or step are errors (a typo must not silently mean "succeeds")', () => {
    const w = 'on: push\njobs:\n  a: { runs-on: x, steps: [{ id: s, run: x }] }\n';
    expect(() => runYaml(w, { steps: { b: {} } })).toThrow(/no job 'b'/);
    expect(() => runYaml(w, { steps: { a: { t: fail } } })).toThrow(/no step 't'/);
  });

  it('formatTrace shows waves, results, steps and outputs', () => {
    const t = runYaml(
      'on: push\njobs:\n  a: { runs-on: x, outputs: { o: "${{ steps.s.outputs.o }}" }, steps: [{ id: s, run: x }] }\n  b: { needs: a, if: false, runs-on: x, steps: [{ id: s, run: x }] }\n',
      { steps: { a: { s: { outputs: { o: 'v' } } } } },
    );
    expect(formatTrace(t)).toBe(
      [
        'run SUCCESS',
        'wave 0: a',
        '  a SUCCESS',
        '    steps: s:success',
        '    outputs: o="v"',
        'wave 1: b',
        '  b SKIPPED  if: success() && (false)',
      ].join('\n'),
    );
  });
});
