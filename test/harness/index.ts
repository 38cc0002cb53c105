// Runs a bundled action the way GitHub's runner does, so tests exercise exactly what users run:
// a separate Node ≥ 24 process (action.yml says `using: node24`), INPUT_* variables with action.yml defaults applied,
// fresh GITHUB_OUTPUT/ENV/STATE/STEP_SUMMARY/PATH/EVENT_PATH files, workflow commands parsed from the log, and a
// `post:` phase that receives the state the main phase saved.
//
// Input defaults that are expressions (`default: ${{ github.sha }}`) are evaluated like the runner does, against:
//   github.*  — from the step's env: sha, repository, repository_owner, ref, ref_name, ref_type, run_id, run_number,
//               run_attempt, event_name, actor, workflow, job, action, server_url, api_url, graphql_url, workspace,
//               event_path, head_ref, base_ref, and `event` (the `event` option). github.token is env GITHUB_TOKEN
//               when the test passes one, otherwise '' (there is no job token here).
//   runner.*  — os, arch, name, temp, tool_cache, environment, debug.   env.* — the `env` option.
//   job/steps/strategy/matrix/inputs/vars — empty, so references to them evaluate to ''.
// The process env starts empty except PATH and HOME (the test process's INPUT_*, GITHUB_*, NODE_OPTIONS never leak).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, realpathSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateExpression, readActionMetadata, resolveActionFile, type ActionMetadata } from './action-metadata.js';
import { parseKeyValueFile, parseWorkflowCommand, type WorkflowCommand } from './commands.js';

export { parseKeyValueFile, parseWorkflowCommand } from './commands.js';
export type { WorkflowCommand } from './commands.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunOptions {
  action: string; // 'health-check' → actions/health-check/action.yml; '.' → root action.yml; or a directory path
  inputs?: Record<string, string>; // keyed by input id as in action.yml; action.yml defaults are applied for the rest
  env?: Record<string, string>; // extra env (GITHUB_SHA etc.); PATH/HOME kept, everything else starts clean
  event?: unknown; // JSON written to GITHUB_EVENT_PATH (default {})
  phase?: 'main' | 'post'; // post: runs action.yml `runs.post` with STATE_* from `state`
  state?: Record<string, string>; // STATE_<name> values for the post phase (usually main.state)
  timeoutMs?: number; // kill with SIGKILL after this (default 120s); result.timedOut=true
  cwd?: string; // GITHUB_WORKSPACE and process cwd (default: a fresh temp dir)
  echo?: boolean; // also copy the action's stdout/stderr to this process's, live (the CLI uses it; tests should not)
}

export type AnnotationLevel = 'error' | 'warning' | 'notice' | 'debug';

export interface ActionResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  outputs: Record<string, string>; // parsed from GITHUB_OUTPUT (k=v and k<<delim forms), plus legacy ::set-output
  summary: string; // GITHUB_STEP_SUMMARY contents
  state: Record<string, string>; // what the step saved via GITHUB_STATE (and legacy ::save-state)
  exportedEnv: Record<string, string>; // what the step wrote to GITHUB_ENV
  masked: string[]; // values registered with ::add-mask::
  stdout: string;
  stderr: string;
  logLines: string[]; // stdout lines that are not workflow commands
  annotations: Array<{ level: AnnotationLevel; message: string; properties: Record<string, string> }>;
  /**
   * Everything captured — stdout, stderr, outputs, summary, state, env and path files — for secret scans.
   * `::add-mask::<value>` lines are left out: registering a secret is the one place it may legitimately appear.
   */
  allText: string;
  // Extras beyond the shared contract:
  addedPaths: string[]; // lines written to GITHUB_PATH
  groups: string[]; // titles of ::group:: blocks, in order
  commands: WorkflowCommand[]; // every workflow command seen (stdout and stderr), in order
  nodeBinary: string; // the Node executable that ran the action
  durationMs: number;
}

export interface RunningAction {
  /** The action process's pid; -1 until it has been spawned (action.yml is read first). */
  readonly pid: number;
  result: Promise<ActionResult>;
  /** Sends a signal to the action process (the runner sends SIGINT/SIGTERM on cancellation). */
  kill(signal?: NodeJS.Signals): void;
  /** Resolves with stdout+stderr so far once it matches; rejects on timeout or when the action exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

// Deterministic stand-ins for what the runner always sets; a test overrides any of them through `env`.
export const DEFAULT_GITHUB_ENV: Readonly<Record<string, string>> = {
  GITHUB_ACTIONS: 'true',
  CI: 'true',
  GITHUB_REPOSITORY: 'octo-org/octo-app',
  GITHUB_REPOSITORY_OWNER: 'octo-org',
  GITHUB_REPOSITORY_ID: '123456789',
  GITHUB_SHA: '8f3e1c2b9d4a5e6f708192a3b4c5d6e7f8091a2b',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_REF_NAME: 'main',
  GITHUB_REF_TYPE: 'branch',
  GITHUB_RUN_ID: '1000001',
  GITHUB_RUN_NUMBER: '1',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_ACTOR: 'octocat',
  GITHUB_TRIGGERING_ACTOR: 'octocat',
  GITHUB_WORKFLOW: 'deploy',
  GITHUB_JOB: 'deploy',
  GITHUB_ACTION: '__harness',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_API_URL: 'https://api.github.com',
  GITHUB_GRAPHQL_URL: 'https://api.github.com/graphql',
  RUNNER_OS: 'Linux',
  RUNNER_ARCH: 'X64',
  RUNNER_NAME: 'rail-harness',
  RUNNER_ENVIRONMENT: 'github-hosted',
};

const DEFAULT_TIMEOUT_MS = 120_000;

let cachedNode: string | undefined;

function majorOf(version: string): number {
  return Number(/^v?(\d+)/.exec(version.trim())?.[1] ?? 0);
}

/** A Node ≥ 24 executable: this process's own if new enough, else the `node` dev package's (node_modules/.bin/node). */
export function nodeBinary(): string {
  if (cachedNode) return cachedNode;
  if (majorOf(process.versions.node) >= 24) return (cachedNode = process.execPath);
  const local = path.join(projectRoot, 'node_modules', '.bin', 'node');
  if (!existsSync(local)) {
    throw new Error(
      `Bundled actions declare runs.using: node24, but this is Node ${process.versions.node} and ${local} is missing. ` +
        'Run `npm ci` (it installs the `node` dev package) or use Node 24.',
    );
  }
  const version = execFileSync(local, ['--version'], { encoding: 'utf8' });
  if (majorOf(version) < 24) throw new Error(`${local} is Node ${version.trim()}; Node >= 24 is required`);
  return (cachedNode = realpathSync(local));
}

/** The runner's INPUT_ name mangling: spaces → '_', upper-case, dashes kept. */
export function inputEnvName(id: string): string {
  return `INPUT_${id.replace(/ /g, '_').toUpperCase()}`;
}

function githubContext(env: Record<string, string>, event: unknown): Record<string, unknown> {
  const e = (k: string) => env[k] ?? '';
  return {
    sha: e('GITHUB_SHA'),
    repository: e('GITHUB_REPOSITORY'),
    repository_owner: e('GITHUB_REPOSITORY_OWNER'),
    repository_id: e('GITHUB_REPOSITORY_ID'),
    ref: e('GITHUB_REF'),
    ref_name: e('GITHUB_REF_NAME'),
    ref_type: e('GITHUB_REF_TYPE'),
    head_ref: e('GITHUB_HEAD_REF'),
    base_ref: e('GITHUB_BASE_REF'),
    run_id: e('GITHUB_RUN_ID'),
    run_number: e('GITHUB_RUN_NUMBER'),
    run_attempt: e('GITHUB_RUN_ATTEMPT'),
    event_name: e('GITHUB_EVENT_NAME'),
    actor: e('GITHUB_ACTOR'),
    triggering_actor: e('GITHUB_TRIGGERING_ACTOR'),
    workflow: e('GITHUB_WORKFLOW'),
    job: e('GITHUB_JOB'),
    action: e('GITHUB_ACTION'),
    server_url: e('GITHUB_SERVER_URL'),
    api_url: e('GITHUB_API_URL'),
    graphql_url: e('GITHUB_GRAPHQL_URL'),
    workspace: e('GITHUB_WORKSPACE'),
    event_path: e('GITHUB_EVENT_PATH'),
    token: e('GITHUB_TOKEN'),
    event: event ?? {},
  };
}

interface Prepared {
  meta: ActionMetadata;
  entry: string;
  env: Record<string, string>;
  workspace: string;
  tempRoot: string;
  files: { output: string; env: string; state: string; summary: string; path: string; event: string };
  unexpectedInputs: string[];
}

async function prepare(opts: RunOptions): Promise<Prepared> {
  const meta = await readActionMetadata(resolveActionFile(opts.action, projectRoot));
  const phase = opts.phase ?? 'main';
  const entry = phase === 'post' ? meta.post : meta.main;
  if (!entry) throw new Error(`${meta.file} has no runs.post, so there is no post phase to run`);
  if (!existsSync(entry))
    throw new Error(`${meta.file}: runs.${phase} points at ${entry}, which does not exist (run npm run build?)`);

  const tempRoot = await mkdtemp(path.join(os.tmpdir(), 'rail-harness-'));
  installExitHook();
  liveTempRoots.add(tempRoot);
  const workspace = opts.cwd ? path.resolve(opts.cwd) : path.join(tempRoot, 'workspace');
  const runnerTemp = path.join(tempRoot, 'runner-temp');
  const toolCache = path.join(tempRoot, 'tool-cache');
  const commandDir = path.join(tempRoot, 'file-commands');
  await Promise.all([workspace, runnerTemp, toolCache, commandDir].map((d) => mkdir(d, { recursive: true })));
  const files = {
    output: path.join(commandDir, 'set_output'),
    env: path.join(commandDir, 'set_env'),
    state: path.join(commandDir, 'save_state'),
    summary: path.join(commandDir, 'step_summary'),
    path: path.join(commandDir, 'add_path'),
    event: path.join(tempRoot, 'event.json'),
  };
  // The runner creates these empty before the step; @actions/core refuses to write to missing files.
  await Promise.all([files.output, files.env, files.state, files.summary, files.path].map((f) => writeFile(f, '')));
  await writeFile(files.event, JSON.stringify(opts.event ?? {}, null, 2));

  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME']) {
    const v = process.env[key];
    if (v !== undefined) env[key] = v;
  }
  Object.assign(env, DEFAULT_GITHUB_ENV, {
    GITHUB_WORKSPACE: workspace,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_OUTPUT: files.output,
    GITHUB_ENV: files.env,
    GITHUB_STATE: files.state,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_PATH: files.path,
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: toolCache,
  });
  Object.assign(env, opts.env ?? {});
  if (phase === 'post') {
    for (const [name, value] of Object.entries(opts.state ?? {})) env[`STATE_${name}`] = value;
  }

  const context = {
    github: githubContext(env, opts.event),
    runner: {
      os: env.RUNNER_OS,
      arch: env.RUNNER_ARCH,
      name: env.RUNNER_NAME,
      temp: runnerTemp,
      tool_cache: toolCache,
      environment: env.RUNNER_ENVIRONMENT,
      debug: env.RUNNER_DEBUG ?? '',
    },
    env: { ...(opts.env ?? {}) },
    job: {},
    steps: {},
    strategy: {},
    matrix: {},
    inputs: {},
    vars: {},
  };
  const given = opts.inputs ?? {};
  for (const input of meta.inputs) {
    if (Object.hasOwn(given, input.id) || input.default === undefined) continue;
    env[inputEnvName(input.id)] = input.defaultIsExpression
      ? evaluateExpression(input.default, context)
      : input.default;
  }
  const declared = new Set(meta.inputs.map((i) => i.id.toLowerCase()));
  const unexpectedInputs: string[] = [];
  for (const [id, value] of Object.entries(given)) {
    if (!declared.has(id.toLowerCase())) unexpectedInputs.push(id);
    env[inputEnvName(id)] = value;
  }
  return { meta, entry, env, workspace, tempRoot, files, unexpectedInputs };
}

// Children still running when the test process exits (a timed-out or crashed test) must not outlive it, and their
// temp dirs must not pile up in /tmp.
const liveChildren = new Set<ChildProcess>();
const liveTempRoots = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of liveChildren) killGroup(c, 'SIGKILL');
    for (const dir of liveTempRoots) rmSync(dir, { recursive: true, force: true });
  });
}
function track(child: ChildProcess): void {
  installExitHook();
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal); // the action and anything it spawned
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

// If the test process dies without running its exit hook (a vitest worker killed by a signal), the action would run
// on as an orphan. This preload notices the re-parenting and kills the action's process group. It only adds an
// unref'd timer, invisible to the action.
const ORPHAN_WATCHDOG =
  'data:text/javascript,' +
  encodeURIComponent(
    'const parent = process.ppid; setInterval(() => { if (process.ppid !== parent) { ' +
      "try { process.kill(-process.pid, 'SIGKILL'); } catch { process.kill(process.pid, 'SIGKILL'); } } }, 500).unref();",
  );

async function readOrEmpty(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return '';
  }
}

export function startAction(opts: RunOptions): RunningAction {
  const started = Date.now();
  let child: ChildProcess | undefined;
  let pendingSignal: NodeJS.Signals | undefined;
  let finished = false;
  let startError: string | undefined;
  let combined = '';
  const stdoutChunks: string[] = [];
  const stderrChunks: string[] = [];
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());

  const logLines: string[] = [];
  const annotations: ActionResult['annotations'] = [];
  const masked: string[] = [];
  const groups: string[] = [];
  const commands: WorkflowCommand[] = [];
  const legacyOutputs: Record<string, string> = {};
  const legacyState: Record<string, string> = {};
  const scanText: string[] = []; // stream lines for allText, add-mask lines excluded
  let stopToken: string | undefined;

  function handleLine(line: string, stream: 'stdout' | 'stderr'): void {
    if (stopToken !== undefined) {
      if (line.trim() === `::${stopToken}::`) stopToken = undefined;
      else if (stream === 'stdout') logLines.push(line);
      scanText.push(line);
      return;
    }
    const cmd = parseWorkflowCommand(line);
    if (!cmd) {
      if (stream === 'stdout') logLines.push(line);
      scanText.push(line);
      return;
    }
    commands.push(cmd);
    if (cmd.command !== 'add-mask') scanText.push(line);
    switch (cmd.command) {
      case 'add-mask':
        if (cmd.data.trim() !== '') masked.push(cmd.data);
        break;
      case 'error':
      case 'warning':
      case 'notice':
      case 'debug':
        annotations.push({ level: cmd.command, message: cmd.data, properties: cmd.properties });
        break;
      case 'group':
        groups.push(cmd.data);
        break;
      case 'endgroup':
        break;
      case 'save-state':
        if (cmd.properties.name) legacyState[cmd.properties.name] = cmd.data;
        break;
      case 'set-output':
        if (cmd.properties.name) legacyOutputs[cmd.properties.name] = cmd.data;
        break;
      case 'stop-commands':
        stopToken = cmd.data;
        break;
      case 'echo':
      case 'add-matcher':
      case 'remove-matcher':
        break;
      default:
        // The runner prints unknown commands as ordinary log text.
        if (stream === 'stdout') logLines.push(line);
    }
  }

  function lineSplitter(stream: 'stdout' | 'stderr') {
    let partial = '';
    return {
      push(chunk: string) {
        (stream === 'stdout' ? stdoutChunks : stderrChunks).push(chunk);
        combined += chunk;
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const p of parts) handleLine(p.endsWith('\r') ? p.slice(0, -1) : p, stream);
        notify();
      },
      flush() {
        if (partial !== '') handleLine(partial, stream);
        partial = '';
      },
    };
  }

  const result = (async (): Promise<ActionResult> => {
    const prep = await prepare(opts);
    const node = nodeBinary();
    let timer: NodeJS.Timeout | undefined;
    try {
      const out = lineSplitter('stdout');
      const err = lineSplitter('stderr');
      let timedOut = false;
      const proc = spawn(node, ['--import', ORPHAN_WATCHDOG, prep.entry], {
        cwd: prep.workspace,
        env: prep.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // own process group, so a timeout kills what the action spawned too
      });
      child = proc;
      track(proc);
      proc.stdout.setEncoding('utf8').on('data', (c: string) => {
        out.push(c);
        if (opts.echo) process.stdout.write(c);
      });
      proc.stderr.setEncoding('utf8').on('data', (c: string) => {
        err.push(c);
        if (opts.echo) process.stderr.write(c);
      });
      if (pendingSignal) proc.kill(pendingSignal);
      timer = setTimeout(() => {
        timedOut = true;
        killGroup(proc, 'SIGKILL');
      }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);

      const { exitCode, signal } = await new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>(
        (resolve, reject) => {
          proc.once('error', reject);
          proc.once('exit', (code, sig) => {
            // Like the runner's end-of-job cleanup: leftovers of the action's process group are killed, which also
            // releases the pipes they inherited so 'close' can fire.
            killGroup(proc, 'SIGKILL');
            proc.once('close', () => resolve({ exitCode: code, signal: sig }));
          });
        },
      );
      clearTimeout(timer);
      out.flush();
      err.flush();
      finished = true;
      notify();

      const [outputText, envText, stateText, summary, pathText] = await Promise.all([
        readOrEmpty(prep.files.output),
        readOrEmpty(prep.files.env),
        readOrEmpty(prep.files.state),
        readOrEmpty(prep.files.summary),
        readOrEmpty(prep.files.path),
      ]);
      const outputs = { ...legacyOutputs, ...parseKeyValueFile(outputText, 'GITHUB_OUTPUT') };
      const state = { ...legacyState, ...parseKeyValueFile(stateText, 'GITHUB_STATE') };
      const exportedEnv = parseKeyValueFile(envText, 'GITHUB_ENV');
      const addedPaths = pathText.split(/\r?\n/).filter((l) => l !== '');
      if (prep.unexpectedInputs.length > 0) {
        // Same wording as the runner, which also passes such inputs through.
        annotations.push({
          level: 'warning',
          message: `Unexpected input(s) '${prep.unexpectedInputs.join("', '")}', valid inputs are ['${prep.meta.inputs.map((i) => i.id).join("', '")}']`,
          properties: { source: 'runner' },
        });
      }
      return {
        exitCode,
        signal,
        timedOut,
        outputs,
        summary,
        state,
        exportedEnv,
        masked,
        stdout: stdoutChunks.join(''),
        stderr: stderrChunks.join(''),
        logLines,
        annotations,
        allText: [...scanText, outputText, envText, stateText, summary, pathText].join('\n'),
        addedPaths,
        groups,
        commands,
        nodeBinary: node,
        durationMs: Date.now() - started,
      };
    } finally {
      clearTimeout(timer);
      finished = true;
      notify();
      // A caller-provided cwd lives outside tempRoot and is left alone.
      await rm(prep.tempRoot, { recursive: true, force: true });
      liveTempRoots.delete(prep.tempRoot);
    }
  })();
  // Failures to start are reported through `result`; keep them from also surfacing as unhandled here.
  result.catch((err: unknown) => {
    startError = err instanceof Error ? err.message : String(err);
    finished = true;
    notify();
  });

  return {
    get pid() {
      return child?.pid ?? -1;
    },
    result,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child) child.kill(signal);
      else pendingSignal = signal;
    },
    waitForOutput(pattern: RegExp, timeoutMs = 60_000) {
      return new Promise<string>((resolve, reject) => {
        const check = () => {
          pattern.lastIndex = 0;
          if (pattern.test(combined)) {
            cleanup();
            resolve(combined);
          } else if (finished) {
            cleanup();
            const why = startError ? `the action failed to run (${startError})` : 'the action exited';
            reject(new Error(`${why} before its output matched ${String(pattern)}; output was:\n${combined}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${String(pattern)}; output so far:\n${combined}`),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

export async function runAction(opts: RunOptions): Promise<ActionResult> {
  return startAction(opts).result;
}
