// Static checks of every workflow and action.yml with GitHub's own parser (@actions/workflow-parser), plus the
// wiring rules GitHub only reports at run time: local action inputs, output references, pinning, permissions,
// version coherence, the deploy chain's order, and the shell scripts embedded in the workflows (run for real).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { NoOperationTraceWriter, convertWorkflowTemplate, parseWorkflow } from '@actions/workflow-parser';
import { ErrorPolicy } from '@actions/workflow-parser/model/convert';
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index';
import type { FileProvider } from '@actions/workflow-parser/workflows/file-provider';
import { projectRoot } from './harness/index.js';
import { startGitHubApi, type GitHubApiFake } from './fixtures/github-api.js';

// ---------- loading ----------

type Dict = Record<string, unknown>;
interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Dict;
  env?: Dict;
  if?: string | boolean;
}
interface Job {
  uses?: string;
  needs?: string | string[];
  if?: string | boolean;
  permissions?: Dict | string;
  outputs?: Record<string, string>;
  steps?: Step[];
  environment?: unknown;
  with?: Dict;
  secrets?: Dict | string;
  services?: Dict;
  env?: Dict;
  'runs-on'?: unknown;
}
interface WorkflowCall {
  inputs?: Record<string, Dict>;
  secrets?: Record<string, Dict | null>;
  outputs?: Record<string, { value: string }>;
}
interface Workflow {
  on: Dict;
  jobs: Record<string, Job>;
  permissions?: Dict | string;
  concurrency?: Dict;
}
interface ActionMeta {
  file: string;
  inputs: Array<{ id: string; required: boolean; hasDefault: boolean }>;
  outputs: string[];
  using: string;
  steps: Step[];
}

const rel = (f: string) => path.relative(projectRoot, f);
const listYml = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => path.join(dir, f))
    : [];
const workflowFiles = [
  ...listYml(path.join(projectRoot, '.github/workflows')),
  ...listYml(path.join(projectRoot, 'examples/caller')),
];
const reusableFiles = workflowFiles.filter(
  (f) => f.includes('.github/workflows') && readWorkflow(f).on['workflow_call'] !== undefined,
);
const actionFiles = [
  ...(existsSync(path.join(projectRoot, 'action.yml')) ? [path.join(projectRoot, 'action.yml')] : []),
  ...readdirSync(path.join(projectRoot, 'actions'))
    .sort()
    .map((d) => path.join(projectRoot, 'actions', d, 'action.yml'))
    .filter((f) => existsSync(f)),
];

function readWorkflow(file: string): Workflow {
  const w = parseYaml(readFileSync(file, 'utf8')) as Workflow;
  return { ...w, jobs: w.jobs ?? {} };
}
function workflowCall(w: Workflow): WorkflowCall {
  return w.on['workflow_call'] ?? {};
}
const needsOf = (job: Job): string[] =>
  job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];

function readAction(file: string): ActionMeta {
  const content = readFileSync(file, 'utf8');
  const parsed = parseAction({ name: rel(file), content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (errors.length || !parsed.value) throw new Error(`${rel(file)}: ${errors.join('; ')}`);
  const meta = convertActionTemplate(parsed.context, parsed.value);
  const raw = parseYaml(content) as { runs: { using: string; steps?: Step[] } };
  return {
    file,
    inputs: (meta.inputs ?? []).map((i) => ({
      id: i.id,
      required: i.required === true,
      hasDefault: i.default !== undefined,
    })),
    outputs: (meta.outputs ?? []).map((o) => o.id),
    using: raw.runs.using,
    steps: raw.runs.steps ?? [],
  };
}

/** `$/x`, `./x` → the local directory of the action; undefined for anything else. */
function localActionDir(uses: string): string | undefined {
  if (uses.startsWith('$/')) return path.join(projectRoot, uses.slice(2));
  if (uses.startsWith('./')) return path.join(projectRoot, uses.slice(2));
  return undefined;
}

// Reusable workflows referenced as `$/…`, `./…` or `<owner>/rail-actions/…@ref` come from this checkout.
const fileProvider: FileProvider = {
  getFileContent(ref) {
    if ('repository' in ref && ref.repository !== 'rail-actions')
      return Promise.reject(new Error(`not a rail-actions workflow: ${ref.repository}`));
    const file = path.join(projectRoot, ref.path);
    return Promise.resolve({ name: ref.path, content: readFileSync(file, 'utf8') });
  },
};

async function validateWorkflow(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const template = await convertWorkflowTemplate(parsed.context, parsed.value!, fileProvider, {
    errorPolicy: ErrorPolicy.TryConversion,
    fetchReusableWorkflowDepth: 1,
  });
  return [
    ...new Set([
      ...parsed.context.errors.getErrors().map((e) => e.message),
      ...(template.errors ?? []).map((e) => e.Message),
    ]),
  ];
}

// ---------- expression scanning ----------

interface ExprSite {
  expr: string;
  where: string;
}
/** Every expression in a value tree: `${{ … }}` segments, and whole `if:` values (implicit expressions). */
function expressionsIn(value: unknown, where: string, key = ''): ExprSite[] {
  if (typeof value === 'string') {
    const out: ExprSite[] = [];
    for (const m of value.matchAll(/\$\{\{([\s\S]*?)\}\}/g)) out.push({ expr: (m[1] ?? '').trim(), where });
    if (key === 'if' && out.length === 0) out.push({ expr: value, where });
    return out;
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => expressionsIn(v, `${where}[${i}]`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => expressionsIn(v, `${where}.${k}`, k));
  return [];
}
const refs = (expr: string, re: RegExp) => [...expr.matchAll(re)].map((m) => m.slice(1));
const NEEDS_OUT = /\bneeds\.([\w-]+)\.outputs\.([\w-]+)/g;
const STEPS_OUT = /\bsteps\.([\w-]+)\.outputs\.([\w-]+)/g;
const STEPS_ANY = /\bsteps\.([\w-]+)\./g;
const JOBS_OUT = /\bjobs\.([\w-]+)\.outputs\.([\w-]+)/g;
const INPUTS = /\binputs\.([\w-]+)/g;
const SECRETS = /\bsecrets\.([\w-]+)/g;

/** Outputs a step declares: local action outputs, or what its run script writes to GITHUB_OUTPUT; null = unknown (third-party). */
function stepOutputs(step: Step): string[] | null {
  // `name=value` lines, or the `put name value` helper of actions/setup (heredoc-delimited, for multi-line values).
  if (step.run !== undefined)
    return [...refs(step.run, /(?:^|["'\s])([\w-]+)=/gm), ...refs(step.run, /^\s*put ([\w-]+) /gm)].map(
      ([k]) => k as string,
    );
  const dir = step.uses ? localActionDir(step.uses) : undefined;
  if (dir) return readAction(path.join(dir, 'action.yml')).outputs;
  return null;
}

/** Outputs a job exposes to `needs.<job>.outputs`: its outputs map, or the called workflow's workflow_call outputs. */
function jobOutputs(job: Job): string[] {
  if (job.uses) {
    const dir =
      job.uses.startsWith('$/') || job.uses.startsWith('./') ? path.join(projectRoot, job.uses.slice(2)) : undefined;
    const file = dir ?? path.join(projectRoot, job.uses.replace(/^[^/]+\/rail-actions\//, '').replace(/@.*$/, ''));
    return Object.keys(workflowCall(readWorkflow(file)).outputs ?? {});
  }
  return Object.keys(job.outputs ?? {});
}

interface Problem {
  file: string;
  where: string;
  message: string;
}

/** The reference checks for one workflow file: returns every problem found (empty = fine). */
function checkWorkflowReferences(file: string, w: Workflow): Problem[] {
  const problems: Problem[] = [];
  const p = (where: string, message: string) => problems.push({ file: rel(file), where, message });
  const call = workflowCall(w);
  const isReusable = w.on['workflow_call'] !== undefined;
  const declaredInputs = new Set(Object.keys(call.inputs ?? {}));
  const declaredSecrets = new Set([...Object.keys(call.secrets ?? {}), 'GITHUB_TOKEN']);

  for (const [name, o] of Object.entries(call.outputs ?? {})) {
    for (const { expr } of expressionsIn(o.value, `outputs.${name}`)) {
      for (const [job, out] of refs(expr, JOBS_OUT)) {
        const j = w.jobs[job as string];
        if (!j) p(`outputs.${name}`, `jobs.${job} does not exist`);
        else if (!jobOutputs(j).includes(out as string)) p(`outputs.${name}`, `job ${job} has no output ${out}`);
      }
    }
  }

  for (const [jobId, job] of Object.entries(w.jobs)) {
    const needs = needsOf(job);
    for (const n of needs) if (!w.jobs[n]) p(`jobs.${jobId}.needs`, `needs unknown job ${n}`);
    const steps = job.steps ?? [];
    const ids = steps.map((s) => s.id).filter((x): x is string => !!x);
    for (const { expr, where } of expressionsIn(job, `jobs.${jobId}`)) {
      for (const [dep, out] of refs(expr, NEEDS_OUT)) {
        if (!needs.includes(dep as string)) p(where, `needs.${dep} used but ${jobId} does not need ${dep}`);
        else if (!jobOutputs(w.jobs[dep as string] as Job).includes(out as string))
          p(where, `job ${dep} has no output ${out}`);
      }
      for (const [id] of refs(expr, STEPS_ANY))
        if (!ids.includes(id as string)) p(where, `steps.${id}: no step with that id in job ${jobId}`);
      for (const [id, out] of refs(expr, STEPS_OUT)) {
        const step = steps.find((s) => s.id === id);
        const outs = step ? stepOutputs(step) : null;
        if (step && outs && !outs.includes(out as string))
          p(where, `step ${id} (${step.uses ?? 'run'}) has no output ${out}`);
      }
      if (isReusable) {
        for (const [i] of refs(expr, INPUTS))
          if (!declaredInputs.has(i as string)) p(where, `inputs.${i} is not a declared input`);
        for (const [s] of refs(expr, SECRETS))
          if (!declaredSecrets.has(s as string)) p(where, `secrets.${s} is not a declared secret`);
      }
    }
    // a step may only read outputs of steps before it
    steps.forEach((step, index) => {
      for (const { expr, where } of expressionsIn(step, `jobs.${jobId}.steps[${index}]`)) {
        for (const [id] of refs(expr, STEPS_ANY)) {
          const at = steps.findIndex((s) => s.id === id);
          if (at >= index) p(where, `steps.${id} is not an earlier step`);
        }
      }
    });
    problems.push(...checkSteps(file, `jobs.${jobId}`, steps));
  }
  return problems;
}

/** Step-level rules shared by workflows and composite actions. */
function checkSteps(file: string, where: string, steps: Step[], composite = false): Problem[] {
  const problems: Problem[] = [];
  const p = (w: string, message: string) => problems.push({ file: rel(file), where: w, message });
  steps.forEach((step, i) => {
    const at = `${where}.steps[${i}]${step.name ? ` (${step.name})` : ''}`;
    if (step.run !== undefined) {
      if (step.run.includes('${{')) p(at, 'expression inside run: (pass it through env:)');
      if (composite && !step.shell) p(at, 'composite run step without shell:');
    }
    if (step.uses) {
      const dir = localActionDir(step.uses);
      if (dir) {
        const file2 = path.join(dir, 'action.yml');
        if (!existsSync(file2)) {
          p(at, `${step.uses}: no action.yml at ${rel(file2)}`);
          return;
        }
        const meta = readAction(file2);
        const declared = new Map(meta.inputs.map((x) => [x.id.toLowerCase(), x]));
        for (const key of Object.keys(step.with ?? {}))
          if (!declared.has(key.toLowerCase())) p(at, `${step.uses} has no input '${key}'`);
        for (const input of meta.inputs) {
          if (
            input.required &&
            !input.hasDefault &&
            !Object.keys(step.with ?? {}).some((k) => k.toLowerCase() === input.id.toLowerCase())
          ) {
            p(at, `${step.uses} requires input '${input.id}'`);
          }
        }
      }
    }
  });
  return problems;
}

/** Pinning and version-coherence rules on the raw text (comments matter: the version comment sits next to the sha). */
function checkUsesLines(file: string, text: string, reusable: boolean): Problem[] {
  const problems: Problem[] = [];
  text.split('\n').forEach((line, n) => {
    const m = /^\s*(?:-\s*)?uses:\s*['"]?([^\s'"#]+)['"]?\s*(#.*)?$/.exec(line);
    if (!m) return;
    const uses = m[1] as string;
    const comment = m[2] ?? '';
    const where = `line ${n + 1}`;
    const p = (message: string) => problems.push({ file: rel(file), where, message: `${uses}: ${message}` });
    if (uses.startsWith('$/')) {
      if (!/^\$\/(actions\/[\w-]+|\.github\/workflows\/[\w-]+\.ya?ml)$/.test(uses))
        p('self references must be $/actions/<name> or $/.github/workflows/<file>');
      return;
    }
    if (uses.startsWith('./')) {
      if (reusable)
        p("'./' resolves in the caller's workspace: use $/ so the action comes from this workflow's own commit");
      return;
    }
    if (/(^|\/)rail-actions\//.test(uses)) {
      // Only a caller outside this repository names rail-actions by owner/repo@ref (the README example).
      if (reusable || !file.includes('examples/caller'))
        p('rail-actions must reference itself with $/, never owner/rail-actions@ref');
      return;
    }
    if (uses.startsWith('docker://')) {
      if (!/@sha256:[0-9a-f]{64}$/.test(uses)) p('docker images must be pinned by digest');
      return;
    }
    if (!/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/.test(uses))
      p('third-party actions must be pinned to a full 40-hex commit sha');
    else if (!/^#\s*v\d+(\.\d+){0,2}\b/.test(comment)) p('pinned sha needs a version comment like "# v6.0.1"');
  });
  return problems;
}

const formatProblems = (ps: Problem[]) => ps.map((x) => `${x.file} ${x.where}: ${x.message}`).join('\n');

// ---------- tests ----------

describe('GitHub parser validation', () => {
  it('finds the workflows and actions to check', () => {
    expect(workflowFiles.map(rel)).toEqual(
      expect.arrayContaining([
        '.github/workflows/ci.yml',
        '.github/workflows/deploy.yml',
        '.github/workflows/test.yml',
        'examples/caller/deploy.yml',
      ]),
    );
    expect(actionFiles.map(rel)).toEqual(
      expect.arrayContaining([
        'actions/setup/action.yml',
        'actions/approval/action.yml',
        'actions/github-deployment/action.yml',
      ]),
    );
  });

  it.each(workflowFiles.map((f) => [rel(f), f]))(
    '%s parses and validates (called workflows too)',
    async (_name, file) => {
      expect(await validateWorkflow(rel(file), await readFile(file, 'utf8'))).toEqual([]);
    },
  );

  it.each(actionFiles.map((f) => [rel(f), f]))('%s parses and validates', (_name, file) => {
    expect(() => readAction(file)).not.toThrow();
  });

  it('the parser really reports errors (a broken workflow is not silently accepted)', async () => {
    const errors = await validateWorkflow(
      'bad.yml',
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout: 5\n    steps:\n      - run: echo ${{ inputs.x && }}\n',
    );
    expect(errors.join('\n')).toMatch(/Unexpected value 'timeout'/);
    expect(errors.join('\n')).toMatch(/Unexpected end of expression/);
  });
});

describe('references and hygiene', () => {
  it.each(workflowFiles.map((f) => [rel(f), f]))(
    '%s: uses/needs/steps/inputs/secrets references resolve, no ${{ }} in run:',
    (_name, file) => {
      expect(formatProblems(checkWorkflowReferences(file, readWorkflow(file)))).toBe('');
    },
  );

  it.each(actionFiles.map((f) => [rel(f), f]))(
    '%s: composite steps have shell:, no ${{ }} in run:, references resolve',
    (_name, file) => {
      const meta = readAction(file);
      const problems = checkSteps(file, 'runs', meta.steps, true);
      const ids = meta.steps.map((s) => s.id).filter(Boolean);
      const inputIds = new Set(meta.inputs.map((i) => i.id));
      for (const { expr, where } of expressionsIn(parseYaml(readFileSync(file, 'utf8')), 'action')) {
        for (const [id, out] of refs(expr, STEPS_OUT)) {
          const step = meta.steps.find((s) => s.id === id);
          const outs = step ? stepOutputs(step) : null;
          if (!ids.includes(id)) problems.push({ file: rel(file), where, message: `no step with id ${id}` });
          else if (outs && !outs.includes(out as string))
            problems.push({ file: rel(file), where, message: `step ${id} has no output ${out}` });
        }
        for (const [i] of refs(expr, INPUTS))
          if (!inputIds.has(i as string))
            problems.push({ file: rel(file), where, message: `inputs.${i} is not declared` });
      }
      expect(formatProblems(problems)).toBe('');
    },
  );

  it.each([...workflowFiles, ...actionFiles].map((f) => [rel(f), f]))(
    '%s: third-party actions pinned to a full sha with a version comment',
    (_name, file) => {
      const reusable = reusableFiles.includes(file) || actionFiles.includes(file);
      expect(formatProblems(checkUsesLines(file, readFileSync(file, 'utf8'), reusable))).toBe('');
    },
  );

  it.each(workflowFiles.map((f) => [rel(f), f]))(
    '%s: top-level permissions and every job has permissions:',
    (_name, file) => {
      const w = readWorkflow(file);
      expect(w.permissions, 'top-level permissions').toBeDefined();
      for (const [id, job] of Object.entries(w.jobs)) expect(job.permissions, `job ${id} permissions`).toBeDefined();
      for (const [id, job] of Object.entries(w.jobs))
        expect(JSON.stringify(job.permissions), `job ${id}`).not.toMatch(/write-all|id-token/);
    },
  );

  it('the checks catch what they claim to catch', () => {
    const bad: Workflow = {
      on: {
        workflow_call: { inputs: { env: { type: 'string' } }, outputs: { x: { value: '${{ jobs.a.outputs.nope }}' } } },
      },
      jobs: {
        a: {
          permissions: {},
          outputs: { y: '${{ steps.s.outputs.z }}' },
          steps: [
            { id: 's', run: 'echo "z1=1" >> "$GITHUB_OUTPUT"' },
            { run: 'echo ${{ inputs.env }}' },
            { uses: '$/actions/approval', with: { approver: 'x' } },
            { uses: '$/actions/nope' },
          ],
        },
        b: {
          needs: ['a'],
          permissions: {},
          steps: [
            {
              run: 'true',
              env: { A: '${{ needs.c.outputs.q }}', B: '${{ inputs.enviroment }}', C: '${{ secrets.RAILWAY_TOKN }}' },
            },
          ],
        },
      },
    };
    const text = checkWorkflowReferences(path.join(projectRoot, '.github/workflows/bad.yml'), bad)
      .map((x) => x.message)
      .join('\n');
    for (const expected of [
      'job a has no output nope',
      'step s (run) has no output z',
      'expression inside run:',
      "has no input 'approver'",
      "requires input 'approvers'",
      'no action.yml',
      'does not need c',
      'inputs.enviroment is not a declared input',
      'secrets.RAILWAY_TOKN',
    ])
      expect(text).toContain(expected);
    const pins = checkUsesLines(
      path.join(projectRoot, '.github/workflows/bad.yml'),
      [
        '      - uses: actions/checkout@v6',
        '      - uses: actions/checkout@8e8c483db84b4bee98b60c0593521ed34d9990e8',
        '      - uses: ./actions/migrate',
        '      - uses: acme/rail-actions/actions/migrate@main',
      ].join('\n'),
      true,
    )
      .map((x) => x.message)
      .join('\n');
    expect(pins).toMatch(/checkout@v6: third-party actions must be pinned/);
    expect(pins).toMatch(/needs a version comment/);
    expect(pins).toMatch(/'\.\/' resolves in the caller's workspace/);
    expect(pins).toMatch(/never owner\/rail-actions@ref/);
  });
});

describe('version coherence ($/ self references)', () => {
  const rollingFiles = [...reusableFiles, ...actionFiles];

  it.each(rollingFiles.map((f) => [rel(f), f]))(
    '%s: every rail-actions action/workflow it runs is referenced with $/',
    (_name, file) => {
      const text = readFileSync(file, 'utf8');
      const uses = [...text.matchAll(/^\s*(?:-\s*)?uses:\s*['"]?([^\s'"#]+)/gm)].map((m) => m[1] as string);
      for (const u of uses) {
        expect(u.startsWith('./'), `${u}`).toBe(false);
        expect(/(^|\/)rail-actions\//.test(u), `${u}`).toBe(false);
        if (u.includes('actions/') && !/^[\w.-]+\/[\w.-]+.*@[0-9a-f]{40}$/.test(u))
          expect(u).toMatch(/^\$\/(actions\/[\w-]+|\.github\/workflows\/[\w-]+\.yml)$/);
      }
    },
  );

  it('deploy.yml runs its own actions and ci.yml through $/ (nothing else)', () => {
    const text = readFileSync(path.join(projectRoot, '.github/workflows/deploy.yml'), 'utf8');
    const own = [...text.matchAll(/uses:\s*(\$\/\S+)/g)].map((m) => m[1]);
    expect(new Set(own)).toEqual(
      new Set([
        '$/.github/workflows/ci.yml',
        '$/actions/promotion-guard',
        '$/actions/migrate-gate',
        '$/actions/approval',
        '$/actions/setup',
        '$/actions/migrate',
        '$/actions/github-deployment',
        '$/actions/release',
      ]),
    );
  });

  it('no symbolic links are tracked ($/ resolution fails on dangling symlinks, actions/runner#4626)', () => {
    let listing: string;
    try {
      listing = execFileSync('git', ['ls-files', '-s'], {
        cwd: projectRoot,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch {
      console.warn('git not available: symlink check skipped');
      return;
    }
    expect(listing.split('\n').filter((l) => l.startsWith('120000 '))).toEqual([]);
  });
});

// ---------- deploy.yml ----------

const deployFile = path.join(projectRoot, '.github/workflows/deploy.yml');
const ciFile = path.join(projectRoot, '.github/workflows/ci.yml');
const deploy = readWorkflow(deployFile);
const ci = readWorkflow(ciFile);

const unwrap = (v: unknown) => String(v).replace(/^\$\{\{\s*([\s\S]*?)\s*\}\}$/, '$1');

/** Longest chain of running jobs that ends before `target`, where a reusable-workflow job counts its own depth. */
function jobsBefore(w: Workflow, target: string, skip: Set<string>, weight: (job: string) => number): number {
  const memo = new Map<string, number>();
  const depthIncluding = (id: string): number => {
    if (memo.has(id)) return memo.get(id)!;
    const before = Math.max(
      0,
      ...needsOf(w.jobs[id] as Job)
        .filter((n) => !skip.has(n))
        .map(depthIncluding),
    );
    const d = before + (skip.has(id) ? 0 : weight(id));
    memo.set(id, d);
    return d;
  };
  return Math.max(
    0,
    ...needsOf(w.jobs[target] as Job)
      .filter((n) => !skip.has(n))
      .map(depthIncluding),
  );
}
/** Depth of a whole workflow: its longest chain of jobs. */
const workflowDepth = (w: Workflow) =>
  Math.max(...Object.keys(w.jobs).map((id) => jobsBefore(w, id, new Set(), () => 1) + 1));

// Which jobs run in which case, with GitHub's real scheduling rules, is tested in test/workflow-scenarios.test.ts.
describe('deploy.yml: chain, concurrency, permissions, wiring', () => {
  it('job order: ci ‖ gate → approval → migrate → release (deploy, verify, roll back in one job)', () => {
    const graph = Object.fromEntries(Object.entries(deploy.jobs).map(([id, j]) => [id, needsOf(j)]));
    expect(graph).toEqual({
      ci: [],
      gate: [],
      approval: ['ci', 'gate'],
      migrate: ['ci', 'gate', 'approval'],
      release: ['gate', 'migrate'],
    });
    expect(deploy.jobs['ci']?.uses).toBe('$/.github/workflows/ci.yml');
  });

  it('without approval 2 jobs run in sequence before the release job (ci.yml counted by its own depth: the build runs beside the checks)', () => {
    const ciDepth = workflowDepth(ci);
    expect(ciDepth).toBe(1);
    const before = jobsBefore(deploy, 'release', new Set(['approval']), (id) => (id === 'ci' ? ciDepth : 1));
    expect(before).toBe(2);
  });

  it('the migrate job names the approval environment only when the gate asks, never creates a deployment record', () => {
    const env = deploy.jobs['migrate']?.environment as { name: string; deployment: boolean };
    expect(env.deployment).toBe(false);
    expect(unwrap(env.name)).toBe(
      "needs.gate.outputs.approval-required == 'true' && inputs.approval-mode == 'environment' && inputs.approval-environment || inputs.migrate-environment",
    );
  });

  it('every job below a job that can be skipped states its condition with !cancelled() and needs.<job>.result', () => {
    for (const id of ['approval', 'migrate', 'release']) {
      const cond = unwrap(deploy.jobs[id]?.if);
      expect(cond, id).toMatch(/^!cancelled\(\) && /);
      for (const need of needsOf(deploy.jobs[id] as Job).filter((n) => n !== 'gate' || id !== 'release')) {
        expect(cond, `${id} guards ${need}`).toMatch(new RegExp(`needs\\.${need}\\.result`));
      }
    }
  });

  it('deploys of one environment queue instead of overlapping', () => {
    expect(deploy.concurrency).toMatchObject({ 'cancel-in-progress': false, queue: 'max' });
    expect(String(deploy.concurrency?.['group'])).toContain('inputs.github-environment');
  });

  it('least privilege: permissions: {} at the top, and only what each job needs', () => {
    expect(deploy.permissions).toEqual({});
    const perms = Object.fromEntries(Object.entries(deploy.jobs).map(([id, j]) => [id, j.permissions]));
    expect(perms).toEqual({
      ci: { contents: 'read' },
      gate: { contents: 'read', actions: 'read', deployments: 'read' },
      approval: { issues: 'write' },
      migrate: { contents: 'read' },
      release: { contents: 'read', deployments: 'write' },
    });
  });

  it('steps run in order and pass outputs along', () => {
    const usesOf = (job: string) => (deploy.jobs[job]?.steps ?? []).map((s) => s.uses?.replace(/@.*/, '') ?? 'run');
    expect(usesOf('gate')).toEqual([
      'run',
      '$/actions/release',
      '$/actions/promotion-guard',
      'actions/checkout',
      '$/actions/migrate-gate',
    ]);
    expect(usesOf('migrate')).toEqual(['actions/checkout', '$/actions/setup', '$/actions/migrate']);
    expect(usesOf('release')).toEqual([
      '$/actions/github-deployment',
      'actions/checkout',
      '$/actions/release',
      'run',
      '$/actions/github-deployment',
    ]);

    const step = (job: string, uses: string, n = 0) =>
      (deploy.jobs[job]?.steps ?? []).filter((s) => s.uses === uses)[n] as Step;
    expect(step('gate', '$/actions/release').with?.['check-only']).toBe('true');
    expect(step('migrate', '$/actions/migrate').with?.['plan-hash']).toBe('${{ needs.gate.outputs.plan-hash }}');
    expect(step('approval', '$/actions/approval').with).toMatchObject({
      plan: '${{ needs.gate.outputs.plan-markdown }}',
      environment: '${{ inputs.github-environment }}',
    });
    expect(step('release', '$/actions/github-deployment', 0).with).toMatchObject({
      status: 'in_progress',
      environment: '${{ inputs.github-environment }}',
    });
    expect(step('release', '$/actions/release').with).toMatchObject({
      'railway-token': '${{ secrets.RAILWAY_TOKEN }}',
      service: '${{ inputs.services }}',
      'health-url': '${{ inputs.health-url }}',
      'migrate-plan': '${{ needs.gate.outputs.plan }}',
      'verify-window': '${{ inputs.verify-window }}',
    });
    expect(deploy.jobs['gate']?.outputs?.['plan-hash']).toBe('${{ steps.gate.outputs.plan-hash }}');

    const outputs = workflowCall(deploy).outputs ?? {};
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        'result',
        'production-deployment-id',
        'deployment-id',
        'previous-deployment-id',
        'url',
        'deployments',
        'rolled-back',
        'healthy',
        'needs-human',
        'github-deployment-id',
      ]),
    );
    expect(outputs['production-deployment-id']?.value).toBe('${{ jobs.release.outputs.production-deployment-id }}');
  });

  it('secrets: RAILWAY_TOKEN required; secrets only reach the steps that need them', () => {
    const call = workflowCall(deploy);
    expect(call.secrets?.['RAILWAY_TOKEN']).toMatchObject({ required: true });
    expect(Object.keys(call.secrets ?? {})).toEqual(['RAILWAY_TOKEN', 'DATABASE_URL', 'APPROVAL_TOKEN']);
    const users: string[] = [];
    for (const [jobId, job] of Object.entries(deploy.jobs)) {
      (job.steps ?? []).forEach((s) => {
        if (JSON.stringify(s).includes('secrets.')) users.push(`${jobId}:${s.uses ?? s.id ?? 'run'}`);
      });
    }
    expect(users.sort()).toEqual(
      [
        'approval:$/actions/approval',
        'gate:$/actions/migrate-gate',
        'gate:preflight',
        'gate:$/actions/release',
        'migrate:$/actions/migrate',
        'release:$/actions/release',
      ].sort(),
    );
    // the preflight script only tests secrets for emptiness
    const script = deploy.jobs['gate']?.steps?.[0]?.run ?? '';
    for (const name of ['RAILWAY_TOKEN', 'DATABASE_URL']) {
      const uses = [...script.matchAll(new RegExp(`[^\\n]*\\$\\{?${name}\\b[^\\n]*`, 'g'))].map((m) => m[0]);
      expect(uses.length).toBeGreaterThan(0);
      for (const line of uses) expect(line).toMatch(new RegExp(`\\[ -z "\\$${name}" \\]`));
    }
  });
});

// ---------- preflight script, run for real ----------

/** bash with stdin closed (a socket-pair stdin makes bash source ~/.bashrc, as if started by rshd). */
function runBash(
  script: string,
  env: Record<string, string>,
  cwd?: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const hasTools = ['bash', 'curl', 'jq'].every((t) => spawnSync('which', [t]).status === 0);
if (!hasTools) console.warn('bash, curl or jq missing: preflight script tests skipped');

describe.skipIf(!hasTools)('deploy.yml preflight (fails early with a clear message)', () => {
  const TOKEN = 'ghs_preflightToken0123456789';
  const RAILWAY = 'railway-project-token-abcdef123456';
  const DB = 'postgres://app:s3cret-pw@db.internal:5432/app';
  const preflight = deploy.jobs['gate']?.steps?.[0] as Step;
  let gh: GitHubApiFake;
  beforeAll(async () => {
    gh = await startGitHubApi({ token: TOKEN, owner: 'octo-org', repo: 'octo-app' });
    gh.environments.set('production-approval', { name: 'production-approval', requiredReviewers: ['alice'] });
    gh.environments.set('open env', { name: 'open env', requiredReviewers: [] });
    gh.environments.set('production-approval-2', { name: 'production-approval-2', requiredReviewers: ['bob'] });
  });
  afterAll(async () => gh.close());

  it('is wired to the inputs and secrets it checks', () => {
    expect(preflight.env).toEqual({
      RAILWAY_TOKEN: '${{ secrets.RAILWAY_TOKEN }}',
      DATABASE_URL: '${{ secrets.DATABASE_URL }}',
      MIGRATE: '${{ inputs.migrate }}',
      SERVICES: '${{ inputs.services }}',
      HEALTH_URL: '${{ inputs.health-url }}',
      SOURCE: '${{ inputs.source }}',
      APPROVAL: '${{ inputs.approval }}',
      APPROVAL_MODE: '${{ inputs.approval-mode }}',
      APPROVAL_ENVIRONMENT: '${{ inputs.approval-environment }}',
      APPROVERS: '${{ inputs.approvers }}',
      MIGRATE_ENVIRONMENT: '${{ inputs.migrate-environment }}',
      GH_TOKEN: '${{ github.token }}',
    });
  });

  async function run(overrides: Record<string, string>) {
    const env = {
      PATH: process.env['PATH'] ?? '',
      GITHUB_API_URL: gh.url,
      GITHUB_REPOSITORY: 'octo-org/octo-app',
      GH_TOKEN: TOKEN,
      RAILWAY_TOKEN: RAILWAY,
      DATABASE_URL: DB,
      MIGRATE: 'true',
      SERVICES: 'shop',
      HEALTH_URL: 'https://shop.up.railway.app/health',
      SOURCE: 'commit',
      APPROVAL: 'risky',
      APPROVAL_MODE: 'environment',
      APPROVAL_ENVIRONMENT: 'production-approval',
      APPROVERS: '',
      MIGRATE_ENVIRONMENT: 'migrations',
      ...overrides,
    };
    // Asynchronous: the fake GitHub API answering curl lives in this process.
    const r = await runBash(preflight.run ?? '', env);
    const out = `${r.stdout}${r.stderr}`;
    expect(out).not.toContain(RAILWAY);
    expect(out).not.toContain(DB);
    expect(out).not.toContain(TOKEN);
    return { status: r.status, out, errors: out.split('\n').filter((l) => l.startsWith('::error')) };
  }

  it('passes with everything in place', async () => {
    const r = await run({});
    expect(r.out).toContain("Approval environment 'production-approval' exists with required reviewers");
    expect(r.status, r.out).toBe(0);
  });

  it.each([
    [{ RAILWAY_TOKEN: '' }, /RAILWAY_TOKEN is empty::The secret RAILWAY_TOKEN is empty or not passed/],
    [{ DATABASE_URL: '' }, /DATABASE_URL is empty::.*migrate is true/],
    [{ SERVICES: ' \n' }, /services is empty::Name the Railway service/],
    [
      { HEALTH_URL: 'shop.up.railway.app/health' },
      /health-url must hold absolute http\(s\) URLs \(or service=none\), got 'shop.up.railway.app\/health'/,
    ],
    [
      { SERVICES: 'api\nworker', HEALTH_URL: 'https://api.up.railway.app/health' },
      /Several services are deployed, so health-url must say which URL belongs to which/,
    ],
    [
      { SERVICES: 'api\nworker', HEALTH_URL: 'api=https://api.up.railway.app/health\nwrker=none' },
      /health-url names 'wrker', which is not in services \(api worker\)/,
    ],
    [{ SERVICES: 'api\nworker', HEALTH_URL: 'api=ftp://api.example\nworker=none' }, /got 'ftp:\/\/api.example'/],
    [
      { APPROVAL_ENVIRONMENT: 'prod-approvals' },
      /The approval environment 'prod-approvals' does not exist in octo-org\/octo-app/,
    ],
    [{ APPROVAL_ENVIRONMENT: 'open env' }, /'open env' exists but has no required reviewers/],
    [{ APPROVAL_MODE: 'issue' }, /approval-mode is issue but approvers is empty/],
    [{ APPROVAL_MODE: 'slack' }, /approval-mode must be environment or issue/],
    [{ APPROVAL: 'sometimes' }, /approval must be risky, always or never/],
    [{ GH_TOKEN: 'wrong-token' }, /Reading environment 'production-approval' failed with HTTP 401/],
    [{ MIGRATE_ENVIRONMENT: '' }, /migrate-environment must name an environment without protection rules/],
    [{ MIGRATE_ENVIRONMENT: 'production-approval' }, /different from approval-environment/],
  ])('%j → one clear error, exit 1', async (overrides, message) => {
    const r = await run(overrides);
    expect(r.status).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(message);
  });

  it('warns when migrate-environment has protection rules (every deploy would wait)', async () => {
    const r = await run({ MIGRATE_ENVIRONMENT: 'production-approval-2' });
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(
      /::warning title=rail-actions deploy - migrate-environment is protected::The environment 'production-approval-2' has reviewers/,
    );
  });

  it('needs no DATABASE_URL or approval environment when migrate is off, and no health-url (domain or Railway status)', async () => {
    const r = await run({ DATABASE_URL: '', HEALTH_URL: '', MIGRATE: 'false', APPROVAL_ENVIRONMENT: 'missing' });
    expect(r.status, r.out).toBe(0);
  });

  it('accepts one service=URL or service=none line per service', async () => {
    const r = await run({
      SERVICES: ' api\nworker \n',
      HEALTH_URL: 'api=https://api.up.railway.app/health\n worker=none\n',
    });
    expect(r.status, r.out).toBe(0);
  });

  it('quotes bad values without credentials and without letting them start a workflow command', async () => {
    const r = await run({ HEALTH_URL: 'gopher://user:pw@host/x', SOURCE: 'git\n::warning::injected' });
    expect(r.status).toBe(1);
    expect(r.out).not.toContain('user:pw');
    expect(r.out).toContain("got 'gopher://***@host/x'");
    expect(r.out.split('\n').filter((l) => l.startsWith('::warning::injected'))).toEqual([]);
  });

  it('reports every problem at once', async () => {
    const r = await run({
      RAILWAY_TOKEN: '',
      DATABASE_URL: '',
      HEALTH_URL: 'not-a-url',
      APPROVAL_ENVIRONMENT: 'missing',
    });
    expect(r.status).toBe(1);
    expect(r.errors).toHaveLength(4);
    expect(r.out).toContain('Preflight found 4 problem(s); nothing was changed.');
  });
});

// ---------- ci.yml ----------

describe('ci.yml', () => {
  it('lint, typecheck, tests and the build in parallel (one job deep); an empty command skips its job', () => {
    expect(Object.fromEntries(Object.entries(ci.jobs).map(([id, j]) => [id, needsOf(j)]))).toEqual({
      lint: [],
      typecheck: [],
      test: [],
      build: [],
    });
    for (const job of ['lint', 'typecheck', 'test', 'build'])
      expect(ci.jobs[job]?.if).toBe(`\${{ !cancelled() && inputs.${job}-command != '' }}`);
  });

  it('tests run against pgvector and Redis service containers with health checks; images are inputs', () => {
    const test = ci.jobs['test'] as Job;
    const services = test.services as Record<string, { image: string; options: string; ports: string[] }>;
    expect(services['postgres']?.image).toBe('${{ inputs.postgres-image }}');
    expect(services['redis']?.image).toBe('${{ inputs.redis-image }}');
    expect(services['postgres']?.options).toMatch(/--health-cmd "pg_isready/);
    expect(services['redis']?.options).toMatch(/--health-cmd "redis-cli ping"/);
    expect(workflowCall(ci).inputs?.['postgres-image']?.['default']).toBe('pgvector/pgvector:pg16');
    expect(workflowCall(ci).inputs?.['redis-image']?.['default']).toBe('redis:7-alpine');
    expect(String(test.env?.['DATABASE_URL'])).toMatch(/^postgresql:\/\/.*@localhost:5432\//);
    expect(test.env?.['REDIS_URL']).toBe('redis://localhost:6379');
    const names = (test.steps ?? []).map((s) => s.name);
    expect(names.indexOf('Enable pgvector in the test database')).toBeLessThan(
      names.indexOf('Apply migrations to the test database'),
    );
    expect(names.indexOf('Apply migrations to the test database')).toBeLessThan(names.indexOf('Test'));
    expect((test.steps ?? []).find((s) => s.uses === '$/actions/migrate')?.with?.['database-url']).toBe(
      '${{ env.DATABASE_URL }}',
    );
  });

  it('exposes the build artifact name as an output', () => {
    expect(workflowCall(ci).outputs?.['artifact-name']?.value).toBe('${{ jobs.build.outputs.artifact-name }}');
    expect((ci.jobs['build']?.steps ?? []).at(-1)?.uses).toMatch(/^actions\/upload-artifact@[0-9a-f]{40}$/);
  });
});

// ---------- the README's example caller ----------

describe('examples/caller/deploy.yml (the README example)', () => {
  const callerFile = path.join(projectRoot, 'examples/caller/deploy.yml');
  const caller = readWorkflow(callerFile);

  it('validates against the reusable workflows’ declared inputs and secrets', async () => {
    expect(await validateWorkflow('deploy.yml', readFileSync(callerFile, 'utf8'))).toEqual([]);
  });

  it('a typo in an input or a missing required secret is reported', async () => {
    const broken = readFileSync(callerFile, 'utf8')
      .replace('      github-environment: production', '      github-enviroment: production')
      .replace(/^\s+RAILWAY_TOKEN: .*$/m, '');
    const errors = (await validateWorkflow('deploy.yml', broken)).join('\n');
    expect(errors).toMatch(/Invalid input, github-enviroment is not defined in the referenced workflow/);
    expect(errors).toMatch(/Secret RAILWAY_TOKEN is required, but not provided while calling/);
  });

  it('grants each calling job every permission the called jobs request (GitHub refuses the run otherwise)', () => {
    const rank = { none: 0, read: 1, write: 2 } as Record<string, number>;
    const requested = (file: string): Record<string, string> => {
      const w = readWorkflow(file);
      const all: Record<string, string> = {};
      for (const job of Object.values(w.jobs)) {
        const perms = job.uses
          ? requested(path.join(projectRoot, job.uses.slice(2)))
          : ((job.permissions ?? {}) as Record<string, string>);
        for (const [k, v] of Object.entries(perms)) if ((rank[v] ?? 0) > (rank[all[k] ?? 'none'] ?? 0)) all[k] = v;
      }
      return all;
    };
    for (const [id, job] of Object.entries(caller.jobs)) {
      const target = path.join(projectRoot, (job.uses ?? '').replace(/^[^/]+\/rail-actions\//, '').replace(/@.*$/, ''));
      const granted = (job.permissions ?? {}) as Record<string, string>;
      for (const [scope, level] of Object.entries(requested(target))) {
        expect(rank[granted[scope] ?? 'none'], `${id}: ${scope}: ${level}`).toBeGreaterThanOrEqual(rank[level] ?? 0);
      }
    }
  });

  it('deploys the example app: its migrations dir exists there and it has no lint script (lint-command off)', () => {
    const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'examples/app/package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const w = caller.jobs['deploy']?.with ?? {};
    expect(existsSync(path.join(projectRoot, 'examples/app', String(w['migrations-dir'])))).toBe(true);
    expect(w['lint-command']).toBe('');
    for (const script of ['typecheck', 'test', 'build']) expect(pkg.scripts[script]).toBeDefined();
  });
});
