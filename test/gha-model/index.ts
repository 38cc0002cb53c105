// A model of how GitHub Actions schedules and runs a workflow, for tests that must know which jobs and steps run in a
// scenario (success, failure, skip, approval, rejection, cancellation) without a runner.
//
//   const trace = runRepoWorkflow('.github/workflows/deploy.yml', { inputs: {...}, steps: { gate: { gate: { outputs: {...} } } } });
//   expect(results(trace), formatTrace(trace)).toMatchObject({ deploy: 'success', rollback: 'skipped' });
//
// Rules the model follows (each cited where it is implemented, in run.ts / expressions.ts):
// - Jobs run in waves: a job starts once all its needs finished. Its if (bare or ${{ }}) gets an implicit
//   `success() &&` without a status function; a missing if is success(). At job level success() means every
//   TRANSITIVE ancestor succeeded and the run is not cancelled; failure() means some ancestor failed; cancelled() means
//   the run was cancelled. `needs` holds the direct needs only.
// - Steps: the same with the job's status (success/failure/cancelled); continue-on-error gives outcome failure,
//   conclusion success. Job outputs are evaluated after the steps; empty ones and ones containing a secret are dropped.
// - Environments: name evaluated before the job; reviewers make it wait (and a rejection fails it unrun), also with
//   deployment: false; url evaluated after the steps.
// - Reusable workflows: loaded by path, `with:` typed by the callee's inputs, secrets mapping or inherit, jobs run as
//   `<caller>/<job>`, outputs from on.workflow_call.outputs; the calling job fails if a called job failed, is cancelled
//   if one was cancelled, else succeeds.
// - Cancellation (scenario.cancel): running jobs whose if is false with cancelled() true are cancelled at the running
//   step; later jobs run only when their if holds with cancelled() true. Jobs skipped after a cancel are reported as
//   'skipped' (GitHub's UI may show them as cancelled); the run's result is 'cancelled'.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ModelError } from './expressions.js';
import { runWorkflow } from './run.js';
import type { JobResult, RunTrace, Scenario, StepTrace, WorkflowLoader } from './types.js';

export { ModelError, condition, evaluateText, evaluateValue, splitTemplate, CONTEXTS } from './expressions.js';
export { formatTrace } from './format.js';
export { runWorkflow } from './run.js';
export type * from './types.js';

/** The repository root (this file is test/gha-model/index.ts). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Reads and parses a workflow file of a repository (default: this one). */
export function loadWorkflowFile(file: string, root = repoRoot): unknown {
  const full = path.resolve(root, file);
  if (!full.startsWith(root + path.sep)) throw new ModelError(`${file} is outside ${root}`);
  return parseYaml(readFileSync(full, 'utf8')) as unknown;
}

/** Loader for reusable workflows that reads them from a repository checkout (default: this one). */
export function repoLoader(root = repoRoot): WorkflowLoader {
  return (file) => loadWorkflowFile(file, root);
}

/** Loader over an in-memory map of path → YAML text or parsed workflow (for tests). */
export function mapLoader(files: Record<string, unknown>): WorkflowLoader {
  return (file, uses) => {
    const doc = files[file];
    if (doc === undefined) throw new ModelError(`no workflow ${file} (uses: ${uses})`);
    return typeof doc === 'string' ? (parseYaml(doc) as unknown) : doc;
  };
}

/** Runs a workflow file of this repository, its reusable workflows loaded from the same checkout. */
export function runRepoWorkflow(file: string, scenario: Scenario = {}, root = repoRoot): RunTrace {
  return runWorkflow(loadWorkflowFile(file, root), scenario, repoLoader(root));
}

/** Runs a workflow given as YAML text. */
export function runYaml(yaml: string, scenario: Scenario = {}, loader?: WorkflowLoader): RunTrace {
  return runWorkflow(parseYaml(yaml) as unknown, scenario, loader);
}

/** job path → result, for compact assertions. */
export function results(trace: RunTrace): Record<string, JobResult> {
  return Object.fromEntries(Object.values(trace.jobs).map((j) => [j.path, j.result]));
}

/** The trace of one step of a job, by id, name or `#<index>`; throws when there is none. */
export function stepOf(trace: RunTrace, jobPath: string, key: string): StepTrace {
  const job = trace.jobs[jobPath];
  if (!job) throw new ModelError(`no job ${jobPath} in the trace (jobs: ${Object.keys(trace.jobs).join(', ')})`);
  const step = job.steps.find((s) => s.key === key || s.id === key || s.name === key);
  if (!step)
    throw new ModelError(`job ${jobPath} has no step ${key} (steps: ${job.steps.map((s) => s.key).join(', ')})`);
  return step;
}

/** Keys of the steps of a job that ran, in order. */
export function ranSteps(trace: RunTrace, jobPath: string): string[] {
  const job = trace.jobs[jobPath];
  if (!job) throw new ModelError(`no job ${jobPath} in the trace`);
  return job.steps.filter((s) => s.ran).map((s) => s.key);
}
