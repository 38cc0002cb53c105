// Tests of the action harness itself, against a dependency-free fixture action (test/fixtures/actions/probe) whose
// main/post write the runner's file commands and workflow commands by hand.
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_GITHUB_ENV,
  inputEnvName,
  nodeBinary,
  parseKeyValueFile,
  parseWorkflowCommand,
  projectRoot,
  runAction,
  startAction,
  type ActionResult,
} from './harness/index.js';
import { evaluateExpression, readActionMetadata } from './harness/action-metadata.js';

const probe = path.join(projectRoot, 'test/fixtures/actions/probe');

/** Running (a zombie awaiting a reaper counts as dead: some container inits never reap re-parented children). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /s.test(stat);
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

describe('harness: file command and workflow command parsers', () => {
  it('parses key=value and heredoc forms like the runner', () => {
    const parsed = parseKeyValueFile(
      'a=1\n\nb=x=y\nc<<EOF\nl1\n\nl3\nEOF\nd<<X=Y\nv\nX=Y\ne=<<not-heredoc\n',
      'GITHUB_OUTPUT',
    );
    expect(parsed).toEqual({ a: '1', b: 'x=y', c: 'l1\n\nl3', d: 'v', e: '<<not-heredoc' });
  });

  it('rejects an unterminated heredoc and a line with neither form', () => {
    expect(() => parseKeyValueFile('x<<EOF\nvalue\n', 'GITHUB_OUTPUT')).toThrow(/matching delimiter not found 'EOF'/);
    expect(() => parseKeyValueFile('just text\n', 'GITHUB_ENV')).toThrow(/GITHUB_ENV: invalid format 'just text'/);
  });

  it('parses workflow commands with escaped properties and data', () => {
    expect(parseWorkflowCommand('::error file=a.ts,line=3,title=x%2Cy%3Az::two%0Alines 100%25')).toEqual({
      command: 'error',
      properties: { file: 'a.ts', line: '3', title: 'x,y:z' },
      data: 'two\nlines 100%',
    });
    expect(parseWorkflowCommand('  ::add-mask::s3cr3t')).toEqual({
      command: 'add-mask',
      properties: {},
      data: 's3cr3t',
    });
    expect(parseWorkflowCommand('plain :: text')).toBeUndefined();
    expect(parseWorkflowCommand('::no-terminator')).toBeUndefined();
  });

  it("reads action.yml the same with GitHub's parser and with the plain-YAML fallback", async () => {
    const file = path.join(probe, 'action.yml');
    const official = await readActionMetadata(file);
    expect(official.main).toBe(path.join(probe, 'main.mjs'));
    expect(official.post).toBe(path.join(probe, 'post.mjs'));
    expect(official.inputs.find((i) => i.id === 'label')).toEqual({
      id: 'label',
      required: false,
      default: "format('run-{0}-{1}', github.run_id, github.repository)",
      defaultIsExpression: true,
    });
    expect(await readActionMetadata(file, { parser: 'yaml' })).toEqual(official);
  });

  it('evaluates expression defaults; unknown properties are empty like on the runner', () => {
    const ctx = { github: { sha: 'abc', event: { pull_request: { number: 7 } } } };
    expect(evaluateExpression('github.sha', ctx)).toBe('abc');
    expect(evaluateExpression('github.event.pull_request.number', ctx)).toBe('7');
    expect(evaluateExpression('github.nope', ctx)).toBe('');
    expect(evaluateExpression("format('{0}-x', github.sha)", ctx)).toBe('abc-x');
  });

  it("rejects an invalid action.yml with GitHub's parser messages", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'harness-badyml-'));
    try {
      await writeFile(path.join(dir, 'action.yml'), 'name: x\nruns:\n  using: node99\n  mian: a.js\n');
      await expect(readActionMetadata(path.join(dir, 'action.yml'))).rejects.toThrow(
        /not a valid action\.yml[\s\S]*(node99|mian)/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('mangles input names like the runner: spaces to _, upper-case, dashes kept', () => {
    expect(inputEnvName('dry-run')).toBe('INPUT_DRY-RUN');
    expect(inputEnvName('My input')).toBe('INPUT_MY_INPUT');
  });
});

describe('harness: running an action', () => {
  let basic: ActionResult;
  const leakedKeys = ['INPUT_LEAKED_FROM_TEST', 'GITHUB_LEAKED_FROM_TEST', 'RAIL_LEAK_CHECK'];

  beforeAll(async () => {
    for (const k of leakedKeys) process.env[k] = 'leak';
    try {
      basic = await runAction({
        action: probe,
        inputs: { secret: 'hunter2-secret', 'exit-code': '0' },
        env: { GITHUB_RUN_ID: '777', EXTRA_FROM_TEST: 'yes' },
        event: { action: 'opened' },
      });
    } finally {
      for (const k of leakedKeys) delete process.env[k];
    }
  });

  it('runs the bundle with Node >= 24', () => {
    expect(basic.exitCode).toBe(0);
    const major = Number(/^v(\d+)/.exec(basic.outputs['node-version'] ?? '')?.[1]);
    expect(major).toBeGreaterThanOrEqual(24);
    expect(basic.nodeBinary).toBe(nodeBinary());
  });

  it('parses single-line, "=" containing and multi-line outputs', () => {
    expect(basic.outputs.simple).toBe('plain value');
    expect(basic.outputs['with-equals']).toBe('a=b=c');
    expect(basic.outputs.multi).toBe('line one\nline two\n\nline four');
  });

  it('applies action.yml defaults, evaluating expression defaults against the github context', () => {
    const inputs = JSON.parse(basic.outputs['inputs-json']!) as Record<string, string>;
    expect(inputs).toMatchObject({
      INPUT_MODE: 'basic',
      INPUT_GREETING: 'hello world',
      'INPUT_DRY-RUN': 'false',
      'INPUT_EXIT-CODE': '0',
      INPUT_SECRET: 'hunter2-secret',
      INPUT_SHA: DEFAULT_GITHUB_ENV.GITHUB_SHA,
      INPUT_LABEL: `run-777-${DEFAULT_GITHUB_ENV.GITHUB_REPOSITORY}`,
      INPUT_TOKEN: '',
      'INPUT_EVENT-ACTION': 'opened',
    });
  });

  it('starts from a clean env: only PATH/HOME plus what the runner sets', () => {
    const keys = basic.outputs['env-keys']!.split(',');
    for (const k of leakedKeys) expect(keys).not.toContain(k);
    expect(keys).not.toContain('NODE_OPTIONS');
    expect(keys).not.toContain('VITEST');
    expect(keys).toContain('EXTRA_FROM_TEST');
    const allowed = new Set(['PATH', 'HOME', 'EXTRA_FROM_TEST', ...Object.keys(DEFAULT_GITHUB_ENV)]);
    const unexpected = keys.filter((k) => !allowed.has(k) && !/^(INPUT_|GITHUB_|RUNNER_)/.test(k) && k !== 'CI');
    expect(unexpected).toEqual([]);
    for (const k of [
      'GITHUB_OUTPUT',
      'GITHUB_ENV',
      'GITHUB_STATE',
      'GITHUB_STEP_SUMMARY',
      'GITHUB_PATH',
      'GITHUB_EVENT_PATH',
      'RUNNER_TEMP',
      'GITHUB_WORKSPACE',
    ]) {
      expect(keys).toContain(k);
    }
  });

  it('runs in GITHUB_WORKSPACE (a fresh temp dir by default)', () => {
    expect(basic.outputs.cwd).toMatch(/rail-harness-.*[/\\]workspace$/);
  });

  it('captures state (file and legacy ::save-state), exported env, PATH additions and the summary', () => {
    expect(basic.state).toEqual({ 'phase-marker': 'main-ran', 'multi-state': 'first\nsecond', legacy: 'legacy-value' });
    expect(basic.exportedEnv).toEqual({ EXPORTED_VAR: 'exported' });
    expect(basic.addedPaths).toEqual(['/opt/probe/bin']);
    expect(basic.summary).toContain('## Probe summary');
    expect(basic.summary).toContain('| 1 | 2 |');
  });

  it('collects masks and annotations, and keeps commands out of the log lines', () => {
    expect(basic.masked).toEqual(['hunter2-secret']);
    expect(basic.annotations).toEqual([
      { level: 'debug', message: 'a debug message', properties: {} },
      { level: 'notice', message: 'a notice', properties: { title: 'Heads up' } },
      { level: 'warning', message: 'a warning\non two lines', properties: { file: 'src/a.ts', line: '3', col: '7' } },
      {
        level: 'error',
        message: 'an error',
        properties: { file: 'src/b.ts', line: '10', endLine: '12', title: 'Bad, really: bad' },
      },
    ]);
    expect(basic.groups).toEqual(['Probe group']);
    expect(basic.logLines).toEqual(['plain log line', 'inside the group', '::error::not a command while stopped']);
    expect(basic.stderr).toBe('to stderr\n');
    expect(basic.stdout).toContain('::add-mask::hunter2-secret');
  });

  it('allText holds everything captured except the add-mask registration itself', () => {
    expect(basic.allText).toContain('plain log line');
    expect(basic.allText).toContain('to stderr');
    expect(basic.allText).toContain('## Probe summary');
    expect(basic.allText).toContain('EXPORTED_VAR=exported');
    expect(basic.allText).toContain('line four');
    // The fixture passes the secret only as an input and to add-mask; INPUT_* values are not captured text.
    expect(basic.allText.includes('hunter2-secret')).toBe(basic.outputs['inputs-json']!.includes('hunter2-secret'));
  });

  it('reports the exit code of a failing step', async () => {
    const r = await runAction({ action: probe, inputs: { 'exit-code': '3' } });
    expect(r.exitCode).toBe(3);
    expect(r.signal).toBeNull();
    expect(r.timedOut).toBe(false);
  });

  it('reports an uncaught exception as exit code 1 with the stack on stderr', async () => {
    const r = await runAction({ action: probe, inputs: { mode: 'crash' } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('probe crashed');
  });

  it('fails loudly on a malformed GITHUB_OUTPUT, as the runner fails the step', async () => {
    await expect(runAction({ action: probe, inputs: { mode: 'bad-output' } })).rejects.toThrow(
      /GITHUB_OUTPUT: matching delimiter not found 'NEVER_CLOSED'/,
    );
  });

  it('warns like the runner about inputs action.yml does not declare, and still passes them', async () => {
    const r = await runAction({ action: probe, inputs: { 'no-such-input': 'x' } });
    expect(r.annotations).toContainEqual(
      expect.objectContaining({
        level: 'warning',
        message: expect.stringContaining("Unexpected input(s) 'no-such-input'") as unknown,
      }),
    );
    expect(JSON.parse(r.outputs['inputs-json']!)).toMatchObject({ 'INPUT_NO-SUCH-INPUT': 'x' });
  });

  it('runs the post phase with STATE_* from the main phase and the same inputs', async () => {
    const post = await runAction({ action: probe, phase: 'post', state: basic.state, inputs: { mode: 'basic' } });
    expect(post.exitCode).toBe(0);
    expect(JSON.parse(post.outputs['post-state']!)).toEqual({
      'STATE_phase-marker': 'main-ran',
      'STATE_multi-state': 'first\nsecond',
      STATE_legacy: 'legacy-value',
    });
    expect(post.outputs['post-mode']).toBe('basic');
    expect(post.summary).toBe('post ran\n');
  });

  it('a post phase without the main state fails (the fixture checks it, proving state is really passed)', async () => {
    const post = await runAction({ action: probe, phase: 'post' });
    expect(post.exitCode).toBe(1);
    expect(post.annotations).toContainEqual({
      level: 'error',
      message: 'post ran without the main phase state',
      properties: {},
    });
  });

  it('uses a given cwd as GITHUB_WORKSPACE and leaves it in place', async () => {
    const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'harness-cwd-')));
    try {
      const r = await runAction({ action: probe, cwd: dir });
      expect(r.outputs.cwd).toBe(dir);
      expect(existsSync(dir)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a missing action with a clear error', async () => {
    await expect(runAction({ action: 'no-such-action-here' })).rejects.toThrow(
      /No action\.yml for action 'no-such-action-here'/,
    );
  });
});

describe('harness: cancellation and timeouts', () => {
  it('startAction: waitForOutput, then SIGTERM mid-run reaches the action (like a cancelled job)', async () => {
    const running = startAction({ action: probe, inputs: { mode: 'wait' } });
    const seen = await running.waitForOutput(/waiting for cancellation/);
    expect(seen).toContain('waiting for cancellation');
    expect(running.pid).toBeGreaterThan(0);
    running.kill('SIGTERM');
    const r = await running.result;
    expect(r.exitCode).toBe(42);
    expect(r.outputs.cancelled).toBe('true');
    expect(r.annotations).toContainEqual({ level: 'warning', message: 'cancelled by SIGTERM', properties: {} });
  });

  it('a signal without a handler is reported as the signal', async () => {
    const running = startAction({ action: probe, inputs: { mode: 'hang' } });
    await running.waitForOutput(/hanging/);
    running.kill('SIGTERM');
    const r = await running.result;
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe('SIGTERM');
  });

  it('waitForOutput rejects when the action exits without printing the pattern', async () => {
    const running = startAction({ action: probe, inputs: { 'exit-code': '0' } });
    await expect(running.waitForOutput(/never printed/)).rejects.toThrow(/the action exited before its output matched/);
    await running.result;
  });

  it('kills a hung action after timeoutMs and says so', async () => {
    const r = await runAction({ action: probe, inputs: { mode: 'hang' }, timeoutMs: 1500 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
  });

  it('an action whose test process is SIGKILLed (no exit hook runs) does not live on as an orphan', async () => {
    // A separate Node process starts a hanging action, reports its pid, then dies abruptly like a killed vitest worker.
    const script = `
      const { startAction } = await import(${JSON.stringify(pathToFileURL(path.join(projectRoot, 'test/harness/index.ts')).href)});
      const running = startAction({ action: ${JSON.stringify(probe)}, inputs: { mode: 'hang' } });
      await running.waitForOutput(/hanging/);
      console.log('ACTION_PID ' + running.pid);
      process.kill(process.pid, 'SIGKILL');`;
    // Its harness temp dir cannot be cleaned by the killed process: keep it in a dir this test removes.
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'harness-orphan-'));
    try {
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(
          nodeBinary(),
          ['--import', path.join(projectRoot, 'scripts/ts-loader.mjs'), '--input-type=module', '-e', script],
          {
            cwd: projectRoot,
            env: { ...process.env, TMPDIR: tmp },
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        let text = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => (text += c));
        child.on('error', reject);
        child.on('close', () => resolve(text));
      });
      const pid = Number(/ACTION_PID (\d+)/.exec(out)?.[1]);
      expect(pid).toBeGreaterThan(0);
      for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((res) => setTimeout(res, 50));
      expect(isAlive(pid)).toBe(false);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('returns when the action exits even if a grandchild holds its stdout, and kills the leftover', async () => {
    const r = await runAction({ action: probe, inputs: { mode: 'spawn-orphan' } });
    expect(r.exitCode).toBe(0);
    const orphan = Number(r.outputs['orphan-pid']);
    expect(orphan).toBeGreaterThan(0);
    // Killed with SIGKILL; poll briefly for the kernel to reap it.
    for (let i = 0; i < 100 && isAlive(orphan); i++) await new Promise((res) => setTimeout(res, 50));
    expect(isAlive(orphan)).toBe(false);
  });
});

describe('harness CLI (plain Node 24 + scripts/ts-loader.mjs, outside vitest)', () => {
  it("runs main then post, prints outputs and exits with the step's code", async () => {
    const cli = path.join(projectRoot, 'test/harness/cli.ts');
    const loader = path.join(projectRoot, 'scripts/ts-loader.mjs');
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn(
        nodeBinary(),
        ['--import', loader, cli, probe, '--input', 'exit-code=3', '--env', 'GITHUB_RUN_ID=99'],
        {
          cwd: projectRoot,
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stdout: out }));
    });
    expect(stdout).toContain('--- main: outputs');
    expect(stdout).toContain(`"INPUT_LABEL":"run-99-${DEFAULT_GITHUB_ENV.GITHUB_REPOSITORY}"`);
    expect(stdout).toContain('post phase ran');
    expect(stdout).toMatch(/--- main: exit code 3/);
    expect(code).toBe(3);
  });
});
