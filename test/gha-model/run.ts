// The scheduler and runner of the model: jobs in waves, job/step conditions with GitHub's status-function semantics,
// environments and reviewers, reusable workflows, and cancellation. Sources are cited where a rule is decided.
import { data } from '@actions/expressions';
import { parse as parseYaml } from 'yaml';
import { truthy } from '@actions/expressions/result';
import {
  CONTEXTS,
  ModelError,
  condition,
  evaluateText,
  evaluateValue,
  type EvalScope,
  type Status,
} from './expressions.js';
import type {
  CallTrace,
  EnvironmentTrace,
  JobResult,
  JobTrace,
  ModelOptions,
  RunResult,
  RunTrace,
  Scenario,
  StepBehaviour,
  StepContext,
  StepOutcome,
  StepTrace,
  WorkflowLoader,
} from './types.js';

type Dict = Record<string, unknown>;

interface RawStep {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: unknown;
  with?: Dict;
  env?: Dict;
  'continue-on-error'?: unknown;
}
interface RawJob {
  name?: string;
  needs?: string | string[];
  if?: unknown;
  uses?: string;
  with?: Dict;
  secrets?: Dict | string;
  environment?: unknown;
  outputs?: Record<string, unknown>;
  steps?: RawStep[];
  env?: Dict;
  strategy?: unknown;
  'continue-on-error'?: unknown;
}
interface RawInput {
  type?: string;
  required?: boolean;
  default?: unknown;
}
interface WorkflowCall {
  inputs?: Record<string, RawInput | null>;
  secrets?: Record<string, { required?: boolean } | null>;
  outputs?: Record<string, { value?: unknown } | null>;
}
interface RawWorkflow {
  on?: unknown;
  env?: Dict;
  jobs?: Record<string, RawJob>;
}

/** When a job runs relative to the cancellation (see CancelSpec). */
type Phase =
  | { kind: 'before' } // finished before any cancellation (or there is none)
  | { kind: 'after' } // its condition is evaluated after the run was cancelled
  | { kind: 'running' } // started before, still running when the cancel came
  | { kind: 'target'; rest: string[] }; // the job (or the caller of the job) named by cancel.during

const BEFORE: Phase = { kind: 'before' };
type RunStatus = 'success' | 'failure' | 'cancelled';

interface Run {
  scenario: Scenario;
  options: Required<ModelOptions>;
  loader: WorkflowLoader;
  github: Dict;
  vars: Record<string, string>;
  runner: Record<string, string>;
  jobs: Record<string, JobTrace>;
  cancelHappened: boolean;
}

interface JobRecord {
  trace: JobTrace;
  /** Results that count for descendants' job-level status functions (the job, plus called jobs when flattened). */
  ancestryResults: JobResult[];
}

interface WorkflowInvocation {
  doc: RawWorkflow;
  prefix: string; // '' or 'caller/'
  inputs: Dict;
  secrets: Record<string, string>;
  phase: Phase;
  /** Ancestor results inherited from the calling job (flattened ancestry). */
  inherited: JobResult[];
}

interface WorkflowOutcome {
  order: string[][];
  records: Map<string, JobRecord>;
  outputs: Record<string, string>;
}

const DEFAULT_GITHUB: Dict = {
  event_name: 'push',
  event: {},
  ref: 'refs/heads/main',
  ref_name: 'main',
  ref_type: 'branch',
  sha: '0123456789abcdef0123456789abcdef01234567',
  repository: 'org/app',
  repository_owner: 'org',
  actor: 'octocat',
  workflow: 'Deploy',
  run_id: '1',
  run_number: '1',
  run_attempt: '1',
  server_url: 'https://github.com',
  api_url: 'https://api.github.com',
  graphql_url: 'https://api.github.com/graphql',
  token: 'ghs_model-fake-github-token',
};

const DEFAULT_RUNNER: Record<string, string> = {
  os: 'Linux',
  arch: 'X64',
  name: 'GitHub Actions 1',
  environment: 'github-hosted',
  temp: '/home/runner/work/_temp',
  tool_cache: '/opt/hostedtoolcache',
};

const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

function needsOf(job: RawJob): string[] {
  if (job.needs === undefined) return [];
  return Array.isArray(job.needs) ? job.needs.map(String) : [String(job.needs)];
}

function stepKey(step: RawStep, index: number): string {
  return step.id ?? step.name ?? `#${index}`;
}

/** `on.workflow_call` of a workflow, or undefined when it cannot be called. */
function workflowCallOf(doc: RawWorkflow): WorkflowCall | undefined {
  const on = doc.on;
  if (on === 'workflow_call') return {};
  if (Array.isArray(on)) return on.includes('workflow_call') ? {} : undefined;
  if (isDict(on) && 'workflow_call' in on) return isDict(on['workflow_call']) ? on['workflow_call'] : {};
  return undefined;
}

function asWorkflow(input: unknown, what: string): RawWorkflow {
  // A loader may hand back the YAML text itself.
  const doc = typeof input === 'string' ? (parseYaml(input) as unknown) : input;
  if (!isDict(doc) || !isDict(doc['jobs'])) throw new ModelError(`${what} is not a workflow (no jobs:)`);
  return doc;
}

/** Waves: a job starts in the wave after the last of its needs (all jobs whose needs are finished start together). */
function waves(jobs: Record<string, RawJob>, where: string): string[][] {
  const wave = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = wave.get(id);
    if (known !== undefined) return known;
    const job = jobs[id];
    if (job === undefined) throw new ModelError(`${where}: needs names an unknown job '${id}'`);
    if (visiting.has(id)) throw new ModelError(`${where}: needs cycle through '${id}'`);
    visiting.add(id);
    const w = Math.max(-1, ...needsOf(job).map(visit)) + 1;
    visiting.delete(id);
    wave.set(id, w);
    return w;
  };
  const order: string[][] = [];
  for (const id of Object.keys(jobs)) {
    const w = visit(id);
    (order[w] ??= []).push(id);
  }
  return order.map((ids) => ids.sort((a, b) => Object.keys(jobs).indexOf(a) - Object.keys(jobs).indexOf(b)));
}

/** All ancestors of a job through needs, transitively. */
function ancestors(jobs: Record<string, RawJob>, id: string): Set<string> {
  const out = new Set<string>();
  const walk = (j: string) => {
    for (const n of needsOf(jobs[j] as RawJob)) {
      if (!out.has(n)) {
        out.add(n);
        walk(n);
      }
    }
  };
  walk(id);
  return out;
}

function resolveUses(uses: string, selfRepository: string, where: string): string {
  if (uses.startsWith('$/')) {
    if (uses.includes('@')) throw new ModelError(`${where}: '$/' references take no @ref (${uses})`);
    return uses.slice(2);
  }
  if (uses.startsWith('./')) return uses.slice(2);
  const m = /^([^/]+)\/([^/]+)\/(.+)@(.+)$/.exec(uses);
  if (m && m[2] === selfRepository) return m[3] as string;
  throw new ModelError(
    `${where}: cannot resolve uses: ${uses} (only $/…, ./… and <owner>/${selfRepository}/…@ref are modelled)`,
  );
}

/** Step-context view of the steps so far. */
type StepsContext = Record<string, { outcome: StepOutcome; conclusion: StepOutcome; outputs: Record<string, string> }>;

function jobStatus(results: JobResult[], cancelled: boolean): Status {
  // Job level (docs "Evaluate expressions › Status check functions"; jobs.<job_id>.needs: "if a run contains a series of
  // jobs that need each other, a failure or skip applies to all jobs in the dependency chain from the point of failure
  // or skip onwards"; actions/runner#2205; github/docs#28762): success() needs EVERY transitive ancestor to have
  // succeeded and the run not to be cancelled; failure() is true when any ancestor failed.
  return {
    success: !cancelled && results.every((r) => r === 'success'),
    failure: results.includes('failure'),
    cancelled,
  };
}

function stepStatus(status: RunStatus): Status {
  // Step level = the job's current status (actions/runner src/Runner.Worker/Expressions/SuccessFunction.cs,
  // FailureFunction.cs, CancelledFunction.cs compare JobContext.Status): once cancelled, failure() is false even if an
  // earlier step failed, because the cancellation overwrites the status (StepsRunner.cs).
  return { success: status === 'success', failure: status === 'failure', cancelled: status === 'cancelled' };
}

/** Coerces a value passed to a reusable workflow input to its declared type. */
function coerceInput(value: data.ExpressionData, type: string, where: string): unknown {
  switch (type) {
    case 'string':
      // Booleans and numbers are cast to string (actions/runner#1483: "boolean can be cast to string").
      if (value.kind === data.Kind.Array || value.kind === data.Kind.Dictionary)
        throw new ModelError(`${where}: an object/array for a string input`);
      return value.coerceString();
    case 'boolean':
      // A string ('true') is NOT cast to boolean: GitHub fails the run (actions/runner#1483, "string cannot be cast to
      // boolean and results in internal error").
      if (value.kind !== data.Kind.Boolean)
        throw new ModelError(`${where}: Unexpected type of value '${value.coerceString()}', expected type: Boolean`);
      return value.value;
    case 'number':
      if (value.kind !== data.Kind.Number)
        throw new ModelError(`${where}: Unexpected type of value '${value.coerceString()}', expected type: Number`);
      return value.number();
    default:
      throw new ModelError(`${where}: unsupported workflow_call input type '${type}' (string, boolean or number)`);
  }
}

/** Applies `on.workflow_call.inputs` (unknown/required checks, defaults, types) to the values given. */
function applyInputs(call: WorkflowCall, given: Map<string, data.ExpressionData>, github: Dict, where: string): Dict {
  const declared = call.inputs ?? {};
  const lower = new Map(Object.keys(declared).map((k) => [k.toLowerCase(), k]));
  for (const name of given.keys()) {
    // @actions/workflow-parser model/converter/job/inputs.js: "Invalid input, X is not defined in the referenced workflow."
    if (!lower.has(name.toLowerCase()))
      throw new ModelError(`${where}: Invalid input, ${name} is not defined in the referenced workflow.`);
  }
  const out: Dict = {};
  for (const [name, specOrNull] of Object.entries(declared)) {
    const spec = specOrNull ?? {};
    const type = spec.type ?? 'string';
    const passed = [...given.entries()].find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
    if (passed !== undefined) {
      out[name] = coerceInput(passed, type, `${where}: input ${name}`);
    } else if (spec.required === true) {
      throw new ModelError(`${where}: Input ${name} is required, but not provided while calling.`);
    } else if (spec.default !== undefined) {
      const d = evaluateValue(spec.default, {
        contexts: ['github'],
        values: { github },
        where: `${where}: default of ${name}`,
      });
      out[name] = coerceInput(d, type, `${where}: default of ${name}`);
    } else {
      // No value and no default: the input is the type's empty value.
      out[name] = type === 'boolean' ? false : type === 'number' ? 0 : '';
    }
  }
  return out;
}

function secretValues(secrets: Record<string, string>): string[] {
  return Object.values(secrets).filter((v) => v.length > 0);
}

function containsSecret(value: string, secrets: Record<string, string>): boolean {
  return secretValues(secrets).some((s) => value.includes(s));
}

class Simulator {
  constructor(private readonly run: Run) {}

  workflow(inv: WorkflowInvocation): WorkflowOutcome {
    const jobs = inv.doc.jobs ?? {};
    const where = inv.prefix === '' ? 'workflow' : `called by ${inv.prefix.slice(0, -1)}`;
    const order = waves(jobs, where);
    const records = new Map<string, JobRecord>();
    const workflowEnv = this.evalEnv(inv.doc.env, {
      contexts: CONTEXTS.workflowEnv,
      values: { github: this.run.github, secrets: inv.secrets, inputs: inv.inputs, vars: this.run.vars },
      where: `${where} env`,
    });

    const target = inv.phase.kind === 'target' ? inv.phase.rest[0] : undefined;
    if (target !== undefined && !(target in jobs))
      throw new ModelError(`cancel.during: no job '${target}' in ${where}`);
    const targetWave = target === undefined ? -1 : order.findIndex((w) => w.includes(target));

    order.forEach((ids, w) => {
      for (const id of ids) {
        const path = inv.prefix + id;
        let phase: Phase;
        switch (inv.phase.kind) {
          case 'before':
          case 'after':
            phase = inv.phase;
            break;
          case 'running':
            phase = w === 0 ? { kind: 'running' } : { kind: 'after' };
            break;
          case 'target':
            if (w < targetWave) phase = BEFORE;
            else if (w > targetWave) phase = { kind: 'after' };
            else if (id === target) phase = { kind: 'target', rest: inv.phase.rest.slice(1) };
            else phase = { kind: 'running' };
            break;
        }
        // cancel.finished: a job of the running wave that had already finished when the cancel came.
        if (phase.kind === 'running' && (this.run.scenario.cancel?.finished ?? []).includes(path)) phase = BEFORE;
        records.set(id, this.job(inv, jobs, id, w, phase, records, workflowEnv));
      }
    });

    // Workflow outputs from jobs.<id>.outputs / jobs.<id>.result (docs "Reuse workflows › Using outputs from a reusable workflow").
    const outputs: Record<string, string> = {};
    const call = workflowCallOf(inv.doc);
    const jobsContext = Object.fromEntries(
      [...records].map(([id, r]) => [id, { result: r.trace.result, outputs: r.trace.outputs }]),
    );
    for (const [name, spec] of Object.entries(call?.outputs ?? {})) {
      outputs[name] = evaluateText(spec?.value ?? '', {
        contexts: CONTEXTS.workflowCallOutputs,
        values: { github: this.run.github, jobs: jobsContext, vars: this.run.vars, inputs: inv.inputs },
        where: `${where}: on.workflow_call.outputs.${name}`,
      });
    }
    return { order: order.map((ids) => ids.map((id) => inv.prefix + id)), records, outputs };
  }

  private evalEnv(env: Dict | undefined, scope: EvalScope): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(env ?? {}))
      out[k] = evaluateText(v, { ...scope, where: `${scope.where}.${k}` });
    return out;
  }

  private job(
    inv: WorkflowInvocation,
    jobs: Record<string, RawJob>,
    id: string,
    wave: number,
    phase: Phase,
    records: Map<string, JobRecord>,
    workflowEnv: Record<string, string>,
  ): JobRecord {
    const job = jobs[id] as RawJob;
    const path = inv.prefix + id;
    const where = `job ${path}`;
    if (job.strategy !== undefined) throw new ModelError(`${where}: strategy/matrix is not modelled`);
    if (job['continue-on-error'] !== undefined)
      throw new ModelError(`${where}: job-level continue-on-error is not modelled`);

    const direct = needsOf(job);
    // needs holds the DIRECT needs only (docs "Contexts reference › needs context").
    const needs = Object.fromEntries(
      direct.map((n) => {
        const r = records.get(n) as JobRecord;
        return [n, { result: r.trace.result, outputs: r.trace.outputs }];
      }),
    );
    const ancestorResults = [
      ...inv.inherited,
      ...[...ancestors(jobs, id)].flatMap((a) => (records.get(a) as JobRecord).ancestryResults),
    ];
    const base = { github: this.run.github, needs, vars: this.run.vars, inputs: inv.inputs, strategy: {}, matrix: {} };

    const cond = condition(job.if, CONTEXTS.jobIf, `${where} if`);
    const trace: JobTrace = {
      path,
      id,
      ...(job.name !== undefined ? { name: job.name } : {}),
      needs: direct,
      wave,
      if: cond.effective,
      result: 'skipped',
      ran: false,
      steps: [],
      outputs: {},
      warnings: [],
    };
    this.run.jobs[path] = trace;
    const record: JobRecord = { trace, ancestryResults: ['skipped'] };
    const ifScope: EvalScope = { contexts: CONTEXTS.jobIf, values: base, where: `${where} if` };
    const runs = (cancelled: boolean) => cond.evaluate(ifScope, jobStatus(ancestorResults, cancelled));

    // A job skipped by its if never runs: result skipped, no outputs (docs jobs.<job_id>.if).
    const startsAfterCancel = phase.kind === 'after';
    if (!runs(startsAfterCancel)) {
      if (phase.kind === 'target')
        throw new ModelError(
          `cancel.during '${this.run.scenario.cancel?.during}': job ${path} does not run in this scenario, so the cancel never happens`,
        );
      return record;
    }

    if (job.uses !== undefined) return this.callerJob(inv, job, trace, record, phase, base, ancestorResults);

    // The cancellation hits a running job unless its if holds with cancelled() true (docs "Workflow cancellation
    // reference" step 1: "the server re-evaluates if conditions for all currently running jobs. If the condition
    // evaluates to true, the job will not get canceled").
    let cancelAt: string | undefined; // step key, or '' = the first step that runs
    let seeCancel = false;
    if (phase.kind === 'running' || (phase.kind === 'target' && phase.rest.length === 0)) {
      this.run.cancelHappened = true;
      if (runs(true)) {
        trace.cancellation = 'kept';
        seeCancel = this.run.options.keptJobSteps === 'see-cancel';
      } else {
        trace.cancellation = 'cancelled';
        cancelAt = phase.kind === 'target' ? (this.run.scenario.cancel?.step ?? '') : '';
      }
    } else if (phase.kind === 'target') {
      throw new ModelError(`cancel.during: job ${path} does not call a reusable workflow`);
    }

    // Environment: name evaluated before the job starts; reviewers hold it before it starts (docs "Reviewing
    // deployments"); a rejection fails the job without running it.
    const environment = this.environment(job.environment, base, where);
    if (environment) {
      trace.environment = environment.trace;
      if (environment.trace.decision === 'reject') {
        trace.result = 'failure';
        record.ancestryResults = ['failure'];
        return record;
      }
    }

    const secrets = inv.secrets;
    const jobEnv = {
      ...workflowEnv,
      ...this.evalEnv(job.env, { contexts: CONTEXTS.jobEnv, values: { ...base, secrets }, where: `${where} env` }),
    };
    const { result, steps } = this.steps(
      path,
      job.steps ?? [],
      { ...base, secrets, runner: this.run.runner },
      jobEnv,
      cancelAt,
      seeCancel,
      trace,
    );
    trace.ran = true;
    trace.result = result;
    record.ancestryResults = [result];

    // Job outputs: evaluated after the steps, for every job that ran; empty values and values containing a secret are
    // dropped (actions/runner src/Runner.Worker/JobExtension.cs: "Skip output '…' since it's empty" / "… may contain secret").
    const outScope: EvalScope = {
      contexts: CONTEXTS.jobOutputs,
      values: { ...base, secrets, steps, env: jobEnv, job: { status: result }, runner: this.run.runner },
      where: `${where} outputs`,
    };
    for (const [name, value] of Object.entries(job.outputs ?? {})) {
      const text = evaluateText(value, { ...outScope, where: `${where} outputs.${name}` });
      if (text === '') continue;
      if (containsSecret(text, secrets)) {
        trace.warnings.push(`Skip output '${name}' since it may contain secret.`);
        continue;
      }
      trace.outputs[name] = text;
    }
    // environment.url is evaluated at the end of the job, with the steps context (JobExtension.cs).
    if (environment?.url !== undefined) {
      const url = evaluateText(environment.url, {
        ...outScope,
        contexts: CONTEXTS.environmentUrl,
        where: `${where} environment.url`,
      });
      if (containsSecret(url, secrets))
        trace.warnings.push(
          `Skip setting environment url as environment '${environment.trace.name}' may contain secret.`,
        );
      else environment.trace.url = url;
    }
    return record;
  }

  private environment(raw: unknown, base: Dict, where: string): { trace: EnvironmentTrace; url?: unknown } | undefined {
    if (raw === undefined || raw === null) return undefined;
    const scope: EvalScope = { contexts: CONTEXTS.environment, values: base, where: `${where} environment` };
    let nameRaw: unknown = raw;
    let url: unknown;
    let deployment = true;
    if (isDict(raw)) {
      nameRaw = raw['name'];
      url = raw['url'];
      if (raw['deployment'] !== undefined)
        deployment = truthy(evaluateValue(raw['deployment'], { ...scope, where: `${where} environment.deployment` }));
    }
    // An empty name is an environment called '' — recorded, never dropped (deploy.yml cites radius-project/radius#11189).
    const name = evaluateText(nameRaw ?? '', { ...scope, where: `${where} environment.name` });
    const spec = this.run.scenario.environments?.[name];
    // Reviewers apply with deployment: false too (docs "Using environments without deployments").
    const waited = spec?.reviewers === true;
    const trace: EnvironmentTrace = { name, deployment, waitedForApproval: waited };
    if (waited) trace.decision = spec?.decision ?? 'approve';
    return { trace, ...(url !== undefined ? { url } : {}) };
  }

  private steps(
    path: string,
    rawSteps: RawStep[],
    base: Dict,
    jobEnv: Record<string, string>,
    cancelAt: string | undefined,
    seeCancel: boolean,
    trace: JobTrace,
  ): { result: JobResult; steps: StepsContext } {
    const specs = this.run.scenario.steps?.[path] ?? {};
    const steps: StepsContext = {};
    const written: Record<string, string> = {}; // $GITHUB_ENV
    // The job's status as the step-level status functions see it.
    let status: RunStatus = seeCancel ? 'cancelled' : 'success';
    let anyFailed = false;
    let cancelled = false;
    let pending = cancelAt;
    if (
      pending !== undefined &&
      pending !== '' &&
      !rawSteps.some((s, i) => stepKey(s, i) === pending || s.name === pending)
    ) {
      throw new ModelError(`cancel.step: job ${path} has no step '${pending}'`);
    }

    rawSteps.forEach((step, index) => {
      const key = stepKey(step, index);
      const where = `job ${path} step ${key}`;
      const st: StepTrace = {
        key,
        ...(step.id !== undefined ? { id: step.id } : {}),
        ...(step.name !== undefined ? { name: step.name } : {}),
        ...(step.uses !== undefined ? { uses: step.uses } : {}),
        if: '',
        ran: false,
        outcome: 'skipped',
        conclusion: 'skipped',
        with: {},
        env: {},
        outputs: {},
      };
      trace.steps.push(st);
      const envBefore = { ...jobEnv, ...written };
      const scopeFor = (env: Record<string, string>): EvalScope => ({
        contexts: CONTEXTS.step,
        values: { ...base, steps, env, job: { status } },
        where,
      });
      // The runner evaluates step env before the condition and merges it into the env context (StepsRunner.cs).
      const stepEnv = this.evalEnv(step.env, { ...scopeFor(envBefore), where: `${where} env` });
      const env = { ...envBefore, ...stepEnv };
      const cond = condition(step.if, CONTEXTS.step, `${where} if`);
      st.if = cond.effective;
      let willRun = cond.evaluate(scopeFor(env), stepStatus(status));

      if (pending !== undefined && (pending === '' || pending === key || pending === step.name)) {
        if (!willRun && pending !== '') {
          throw new ModelError(`cancel.step '${pending}': that step of job ${path} does not run in this scenario`);
        }
        if (willRun) {
          // This step runs when the cancel comes: the job's status becomes cancelled (overwriting a failure) and the
          // runner re-tests the step's condition; false → the step is cancelled (StepsRunner.cs, jobCancelRegister).
          pending = undefined;
          cancelled = true;
          status = 'cancelled';
          st.cancelledHere = true;
          willRun = cond.evaluate(scopeFor(env), stepStatus(status));
          if (!willRun) {
            st.ran = true;
            st.outcome = st.conclusion = 'cancelled';
            st.with = this.evalWith(step, scopeFor(env));
            st.env = stepEnv;
            if (step.id !== undefined) steps[step.id] = { outcome: 'cancelled', conclusion: 'cancelled', outputs: {} };
            return;
          }
        }
      }
      if (!willRun) {
        if (step.id !== undefined) steps[step.id] = { outcome: 'skipped', conclusion: 'skipped', outputs: {} };
        return;
      }

      const scope = scopeFor(env);
      st.ran = true;
      st.with = this.evalWith(step, scope);
      st.env = stepEnv;
      if (step.run !== undefined) st.run = evaluateText(step.run, { ...scope, where: `${where} run` });
      const spec =
        (step.id !== undefined ? specs[step.id] : undefined) ??
        (step.name !== undefined ? specs[step.name] : undefined) ??
        specs[key];
      const behaviour: StepBehaviour =
        typeof spec === 'function' ? spec(this.stepContext(path, key, st.with, env, base, steps)) : (spec ?? {});
      const outcome: StepOutcome = behaviour.outcome ?? 'success';
      // continue-on-error: outcome failure, conclusion success (docs "Contexts reference › steps context").
      const continueOnError =
        step['continue-on-error'] !== undefined &&
        truthy(evaluateValue(step['continue-on-error'], { ...scope, where: `${where} continue-on-error` }));
      const conclusion: StepOutcome = outcome === 'failure' && continueOnError ? 'success' : outcome;
      st.outcome = outcome;
      st.conclusion = conclusion;
      st.outputs = { ...(behaviour.outputs ?? {}) };
      Object.assign(written, behaviour.env ?? {});
      if (step.id !== undefined) steps[step.id] = { outcome, conclusion, outputs: st.outputs };
      if (conclusion === 'failure') {
        anyFailed = true;
        // TaskResultUtil.MergeTaskResults: a cancelled job stays cancelled.
        if (status === 'success') status = 'failure';
      }
    });

    // Cancelled while none of its steps was running (no step would run): still cancelled.
    if (pending !== undefined) cancelled = true;
    const result: JobResult = cancelled ? 'cancelled' : anyFailed ? 'failure' : 'success';
    return { result, steps };
  }

  private evalWith(step: RawStep, scope: EvalScope): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(step.with ?? {}))
      out[k] = evaluateText(v, { ...scope, where: `${scope.where} with.${k}` });
    return out;
  }

  private stepContext(
    job: string,
    step: string,
    withValues: Record<string, string>,
    env: Record<string, string>,
    base: Dict,
    steps: StepsContext,
  ): StepContext {
    const clone = <T>(v: T): T => structuredClone(v);
    return {
      job,
      step,
      with: clone(withValues),
      env: clone(env),
      inputs: clone(base['inputs'] as Dict),
      needs: clone(base['needs'] as StepContext['needs']),
      steps: clone(steps),
      github: clone(this.run.github),
      secrets: clone(base['secrets'] as Record<string, string>),
      vars: clone(this.run.vars),
    };
  }

  private callerJob(
    inv: WorkflowInvocation,
    job: RawJob,
    trace: JobTrace,
    record: JobRecord,
    phase: Phase,
    base: Dict,
    ancestorResults: JobResult[],
  ): JobRecord {
    const where = `job ${trace.path}`;
    for (const key of ['steps', 'environment', 'runs-on', 'env', 'outputs'] as const) {
      // docs "Reuse workflows › Supported keywords for jobs that call a reusable workflow"
      if ((job as Dict)[key] !== undefined)
        throw new ModelError(`${where}: '${key}' is not allowed on a job that calls a reusable workflow`);
    }
    const uses = String(job.uses);
    const filePath = resolveUses(uses, this.run.options.selfRepository, where);
    const callee = asWorkflow(this.run.loader(filePath, uses), `${where}: ${uses}`);
    const call = workflowCallOf(callee);
    if (call === undefined) throw new ModelError(`${where}: ${uses} has no on.workflow_call`);

    const given = new Map<string, data.ExpressionData>();
    for (const [k, v] of Object.entries(job.with ?? {})) {
      given.set(k, evaluateValue(v, { contexts: CONTEXTS.callWith, values: base, where: `${where} with.${k}` }));
    }
    const inputs = applyInputs(call, given, this.run.github, where);
    const secrets = this.calleeSecrets(job, call, inv.secrets, base, where);

    const calleePhase: Phase = phase.kind === 'target' ? { kind: 'target', rest: phase.rest } : phase;
    if (phase.kind === 'target' && phase.rest.length === 0)
      throw new ModelError(
        `cancel.during '${trace.path}' calls a workflow: name one of its jobs, e.g. '${trace.path}/<job>'`,
      );
    const outcome = this.workflow({
      doc: callee,
      prefix: `${trace.path}/`,
      inputs,
      secrets,
      phase: calleePhase,
      inherited: this.run.options.reusableAncestry === 'flattened' ? ancestorResults : [],
    });

    const results = [...outcome.records.values()].map((r) => r.trace.result);
    // ASSUMPTION (no GitHub source found that states it): the calling job fails when a called job failed, is cancelled
    // when one was cancelled, and otherwise succeeds — skipped called jobs do not fail it, as skipped jobs do not fail
    // a run. Community discussion #189172 describes such a caller as not failed while its dependents are skipped,
    // which is what reusableAncestry 'flattened' models on top of this.
    trace.result = results.includes('failure') ? 'failure' : results.includes('cancelled') ? 'cancelled' : 'success';
    trace.ran = true;
    for (const [k, v] of Object.entries(outcome.outputs)) if (v !== '') trace.outputs[k] = v;
    const callTrace: CallTrace = {
      uses,
      path: filePath,
      inputs,
      secrets: Object.keys(secrets).sort(),
      order: outcome.order,
      outputs: outcome.outputs,
    };
    trace.call = callTrace;
    record.ancestryResults =
      this.run.options.reusableAncestry === 'flattened'
        ? [trace.result, ...[...outcome.records.values()].flatMap((r) => r.ancestryResults)]
        : [trace.result];
    return record;
  }

  private calleeSecrets(
    job: RawJob,
    call: WorkflowCall,
    callerSecrets: Record<string, string>,
    base: Dict,
    where: string,
  ): Record<string, string> {
    const declared = call.secrets ?? {};
    const lower = new Map(Object.keys(declared).map((k) => [k.toLowerCase(), k]));
    let out: Record<string, string> = {};
    if (job.secrets === 'inherit') {
      // `secrets: inherit` passes all of the caller's secrets (docs "Reuse workflows › Passing inputs and secrets").
      out = { ...callerSecrets };
    } else if (isDict(job.secrets)) {
      for (const [k, v] of Object.entries(job.secrets)) {
        if (!lower.has(k.toLowerCase()))
          throw new ModelError(`${where}: Invalid secret, ${k} is not defined in the referenced workflow.`);
        out[k] = evaluateText(v, {
          contexts: CONTEXTS.callSecrets,
          values: { ...base, secrets: callerSecrets },
          where: `${where} secrets.${k}`,
        });
      }
    } else if (job.secrets !== undefined) {
      throw new ModelError(`${where}: secrets must be a mapping or 'inherit'`);
    }
    for (const [name, spec] of Object.entries(declared)) {
      if (spec?.required === true && !Object.keys(out).some((k) => k.toLowerCase() === name.toLowerCase())) {
        throw new ModelError(`${where}: Secret ${name} is required, but not provided while calling.`);
      }
    }
    // GITHUB_TOKEN is always available to the called workflow.
    out['GITHUB_TOKEN'] = callerSecrets['GITHUB_TOKEN'] ?? '';
    return out;
  }
}

/** Every job path and its step keys, following reusable workflows (to reject scenario keys that match nothing). */
function collectPaths(
  doc: RawWorkflow,
  prefix: string,
  loader: WorkflowLoader,
  selfRepository: string,
  out: Map<string, RawStep[]>,
  depth = 0,
): void {
  if (depth > 10) throw new ModelError('reusable workflows nested more than 10 levels');
  for (const [id, job] of Object.entries(doc.jobs ?? {})) {
    const path = prefix + id;
    out.set(path, job.steps ?? []);
    if (job.uses !== undefined) {
      const file = resolveUses(job.uses, selfRepository, `job ${path}`);
      collectPaths(asWorkflow(loader(file, job.uses), job.uses), `${path}/`, loader, selfRepository, out, depth + 1);
    }
  }
}

function validateScenario(scenario: Scenario, paths: Map<string, RawStep[]>): void {
  const known = [...paths.keys()].join(', ');
  for (const [jobPath, steps] of Object.entries(scenario.steps ?? {})) {
    const raw = paths.get(jobPath);
    if (raw === undefined) throw new ModelError(`scenario.steps: no job '${jobPath}' (jobs: ${known})`);
    for (const key of Object.keys(steps)) {
      const matches = raw.filter(
        (s, i) => s.id === key || (s.id === undefined && s.name === key) || stepKey(s, i) === key,
      );
      if (matches.length === 0)
        throw new ModelError(`scenario.steps['${jobPath}']: no step '${key}' (steps: ${raw.map(stepKey).join(', ')})`);
      if (matches.length > 1)
        throw new ModelError(`scenario.steps['${jobPath}']: '${key}' names ${matches.length} steps; use an id`);
    }
  }
  const cancel = scenario.cancel;
  if (cancel) {
    if (!paths.has(cancel.during)) throw new ModelError(`cancel.during: no job '${cancel.during}' (jobs: ${known})`);
    for (const f of cancel.finished ?? []) if (!paths.has(f)) throw new ModelError(`cancel.finished: no job '${f}'`);
  }
}

/**
 * Runs a parsed workflow through the model and returns its trace.
 * @param workflow the workflow as parsed by the `yaml` package
 * @param loader loads reusable workflows named by job-level `uses:` (by repository path)
 */
export function runWorkflow(
  workflow: unknown,
  scenario: Scenario = {},
  loader: WorkflowLoader = () => {
    throw new ModelError('this workflow calls a reusable workflow: pass a loader');
  },
): RunTrace {
  const doc = asWorkflow(workflow, 'the workflow');
  const options: Required<ModelOptions> = {
    reusableAncestry: scenario.options?.reusableAncestry ?? 'flattened',
    keptJobSteps: scenario.options?.keptJobSteps ?? 'run-normally',
    selfRepository: scenario.options?.selfRepository ?? 'rail-actions',
  };
  const paths = new Map<string, RawStep[]>();
  collectPaths(doc, '', loader, options.selfRepository, paths);
  validateScenario(scenario, paths);

  const github = { ...DEFAULT_GITHUB, ...(scenario.github ?? {}) };
  const run: Run = {
    scenario,
    options,
    loader,
    github,
    vars: scenario.vars ?? {},
    runner: { ...DEFAULT_RUNNER, ...(scenario.runner ?? {}) },
    jobs: {},
    cancelHappened: false,
  };
  const secrets: Record<string, string> = {
    ...(scenario.secrets ?? {}),
    GITHUB_TOKEN: typeof github['token'] === 'string' ? github['token'] : '',
  };
  const call = workflowCallOf(doc);
  let inputs: Dict = scenario.inputs ?? {};
  if (call !== undefined) {
    const given = new Map(
      Object.entries(inputs).map(([k, v]) => [
        k,
        JSON.parse(JSON.stringify(v ?? null), data.reviver) as data.ExpressionData,
      ]),
    );
    inputs = applyInputs(call, given, github, 'workflow inputs');
  }

  const phase: Phase = scenario.cancel ? { kind: 'target', rest: scenario.cancel.during.split('/') } : BEFORE;
  const outcome = new Simulator(run).workflow({ doc, prefix: '', inputs, secrets, phase, inherited: [] });
  if (scenario.cancel && !run.cancelHappened)
    throw new ModelError(`cancel.during '${scenario.cancel.during}' never ran`);

  const leafResults = Object.values(run.jobs)
    .filter((j) => j.call === undefined)
    .map((j) => j.result);
  const result: RunResult = run.cancelHappened ? 'cancelled' : leafResults.includes('failure') ? 'failure' : 'success';
  return { result, cancelled: run.cancelHappened, order: outcome.order, jobs: run.jobs, outputs: outcome.outputs };
}
