// Public types of the GitHub Actions scheduling model: what a scenario configures and what a run trace reports.

export type JobResult = 'success' | 'failure' | 'cancelled' | 'skipped';
export type StepOutcome = 'success' | 'failure' | 'cancelled' | 'skipped';
export type RunResult = 'success' | 'failure' | 'cancelled';

/** What a step does when it runs (a step without an entry succeeds with no outputs). */
export interface StepBehaviour {
  outcome?: 'success' | 'failure';
  /** Written to $GITHUB_OUTPUT. */
  outputs?: Record<string, string>;
  /** Written to $GITHUB_ENV: visible to later steps of the same job. */
  env?: Record<string, string>;
}

/** What a scenario step function sees: evaluated inputs plus the contexts of the step. */
export interface StepContext {
  /** Job path, e.g. `deploy` or `ci/build`. */
  job: string;
  /** Step id (or name, or `#<index>` when it has neither). */
  step: string;
  /** The step's evaluated `with:`. */
  with: Record<string, string>;
  /** Workflow + job + $GITHUB_ENV + step env, evaluated. */
  env: Record<string, string>;
  inputs: Record<string, unknown>;
  needs: Record<string, { result: JobResult; outputs: Record<string, string> }>;
  steps: Record<string, { outcome: StepOutcome; conclusion: StepOutcome; outputs: Record<string, string> }>;
  github: Record<string, unknown>;
  secrets: Record<string, string>;
  vars: Record<string, string>;
}

export type StepSpec = StepBehaviour | ((ctx: StepContext) => StepBehaviour);

export interface EnvironmentSpec {
  /** Required reviewers are configured (docs "Reviewing deployments"): the job waits for a decision before it starts. */
  reviewers?: boolean;
  /** The reviewers' decision (default 'approve'). A rejection fails the job without running it. */
  decision?: 'approve' | 'reject';
}

export interface CancelSpec {
  /** Job path that is running when the run is cancelled, e.g. `deploy` or `ci/test`. */
  during: string;
  /** Step id (or name) running at that moment; default: the job's first step that runs. */
  step?: string;
  /**
   * Jobs of the same wave (at any nesting level) that had already finished when the cancel came. All others of that
   * wave are taken to be running and are cancelled at their first step that runs, unless their `if:` holds with
   * cancelled() true.
   */
  finished?: string[];
}

export interface ModelOptions {
  /**
   * How a job that calls a reusable workflow takes part in the job-level status functions.
   * - 'flattened' (default): the called workflow's jobs are part of the run's job graph. Jobs downstream of the
   *   calling job count the called jobs as ancestors (a skipped called job makes success() false for them), and the
   *   called workflow's jobs inherit the calling job's ancestors. Reported in community discussion #189172
   *   ("Reusable workflows with skipped internal jobs cause dependents to be auto-skipped") and actions/runner#2205
   *   (comment of 2025-01-15: jobs skipped "when using reusable workflows containing multiple jobs").
   * - 'opaque': the calling job is one node; only its result counts.
   */
  reusableAncestry?: 'flattened' | 'opaque';
  /**
   * Steps of a job whose `if:` kept it running through a cancellation (e.g. `if: always()`).
   * - 'run-normally' (default): the server sends the runner no cancellation, so steps see cancelled() false
   *   (actions/runner src/Runner.Worker/StepsRunner.cs re-evaluates step conditions only when the job's
   *   cancellation token fires).
   * - 'see-cancel': steps are re-evaluated with cancelled() true, a literal reading of docs "Workflow cancellation
   *   reference" step 3 ("For jobs that continue to run, the server re-evaluates if conditions for the unfinished
   *   steps").
   */
  keptJobSteps?: 'run-normally' | 'see-cancel';
  /** Repository name whose `owner/<name>/<path>@ref` job-level `uses:` resolve to this repository (default 'rail-actions'). */
  selfRepository?: string;
}

export interface Scenario {
  /** Merged over a default github context (event_name push, ref refs/heads/main, a fake token …). */
  github?: Record<string, unknown>;
  /** Inputs of the top-level workflow when it is a `workflow_call` workflow (defaults and types applied). */
  inputs?: Record<string, unknown>;
  /** Secrets of the top-level run (GITHUB_TOKEN is added from github.token). */
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  runner?: Record<string, string>;
  /** Step behaviour per job path, per step id (or step name). */
  steps?: Record<string, Record<string, StepSpec>>;
  /** Environment protection, by environment name. */
  environments?: Record<string, EnvironmentSpec>;
  cancel?: CancelSpec;
  options?: ModelOptions;
}

export interface StepTrace {
  /** id, else name, else `#<index>`. */
  key: string;
  id?: string;
  name?: string;
  uses?: string;
  /** The effective condition (with the implicit `success() &&`). */
  if: string;
  ran: boolean;
  outcome: StepOutcome;
  conclusion: StepOutcome;
  /** Evaluated `with:` (only for steps that ran). */
  with: Record<string, string>;
  /** Evaluated step-level `env:` (only for steps that ran). */
  env: Record<string, string>;
  /** Evaluated `run:` script (only for steps that ran). */
  run?: string;
  outputs: Record<string, string>;
  /** The run was cancelled while this step ran. */
  cancelledHere?: boolean;
}

export interface EnvironmentTrace {
  /** Evaluated name; '' is an environment called '' (GitHub does not treat it as "no environment"). */
  name: string;
  url?: string;
  /** `deployment: false` in the mapping; reviewers and wait timers still apply (docs "Using environments without deployments"). */
  deployment: boolean;
  waitedForApproval: boolean;
  decision?: 'approve' | 'reject';
}

export interface CallTrace {
  uses: string;
  /** Repository path of the called workflow. */
  path: string;
  inputs: Record<string, unknown>;
  /** Names of the secrets the called workflow received. */
  secrets: string[];
  order: string[][];
  /** Workflow outputs as evaluated (including empty ones). */
  outputs: Record<string, string>;
}

export interface JobTrace {
  path: string;
  id: string;
  name?: string;
  needs: string[];
  wave: number;
  /** Effective condition (with the implicit `success() &&`). */
  if: string;
  result: JobResult;
  /** The job started (steps ran, or the called workflow was run). */
  ran: boolean;
  environment?: EnvironmentTrace;
  steps: StepTrace[];
  /** What `needs.<id>.outputs` holds: empty values and values containing a secret are dropped, as the runner does. */
  outputs: Record<string, string>;
  /** How a cancellation hit this job: 'cancelled' (it was stopped), 'kept' (its if held with cancelled() true). */
  cancellation?: 'cancelled' | 'kept';
  call?: CallTrace;
  warnings: string[];
}

export interface RunTrace {
  result: RunResult;
  cancelled: boolean;
  /** Top-level waves of job ids (nested waves are in `jobs[<caller>].call.order`). */
  order: string[][];
  /** Every job by path: `deploy`, `ci`, `ci/build` … */
  jobs: Record<string, JobTrace>;
  /** `on.workflow_call.outputs` of the top-level workflow, as evaluated (including empty ones). */
  outputs: Record<string, string>;
}

/** Loads a workflow file of this repository by its path (e.g. `.github/workflows/ci.yml`), parsed. */
export type WorkflowLoader = (path: string, uses: string) => unknown;
