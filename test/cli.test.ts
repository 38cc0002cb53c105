// The built CLI (bin/rail-actions.mjs → dist/cli/index.js) run as a child process: help, exit codes, usage errors
// naming the flag, colours only when asked for, verify against real servers, and deploy/rollback/status against the
// Railway emulator with real app processes.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { projectRoot } from './harness/index.js';
import { closeServers, serveScript, type Script } from './helpers/http.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { useEmulatedProject } from './helpers/emulator.js';
import type { RailwayEmulator } from './railway-emulator/index.js';

const BIN = path.join(projectRoot, 'bin/rail-actions.mjs');
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface CliRun {
  result: Promise<CliResult>;
  kill(sig: NodeJS.Signals): void;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** Environment starts clean (PATH/HOME only) so the developer's RAILWAY_TOKEN or NO_COLOR cannot leak in. */
function startCli(args: string[], env: Record<string, string> = {}, cwd = projectRoot): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers: Array<() => void> = [];
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    watchers.forEach((w) => w());
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    watchers.forEach((w) => w());
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const result = new Promise<CliResult>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    result,
    kill: (sig) => child.kill(sig),
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`timed out waiting for ${pattern} in:\n${stdout}\n${stderr}`)),
          timeoutMs,
        );
        const check = () => {
          if (pattern.test(stdout + stderr)) {
            clearTimeout(t);
            resolve();
          }
        };
        watchers.push(check);
        check();
      }),
  };
}

const cli = (args: string[], env: Record<string, string> = {}, cwd?: string) => startCli(args, env, cwd).result;

afterEach(closeServers);

const serve = async (script: Script) => (await serveScript(script, { defaultBody: {} })).url;

const fast = ['--interval', '30ms', '--max-interval', '100ms'];

describe('rail-actions CLI: help and usage', () => {
  it('lists the commands and the exit codes', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const name of ['doctor', 'plan', 'migrate', 'deploy', 'verify', 'rollback', 'status'])
      expect(r.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(r.stdout).toContain('Exit codes:');
    expect(r.stdout).toMatch(/2 +usage error/);
  });

  it.each(['doctor', 'plan', 'migrate', 'deploy', 'verify', 'rollback', 'status'])(
    '%s --help documents its flags, env fallbacks and exit codes',
    async (name) => {
      const r = await cli([name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: rail-actions ${name}`);
      expect(r.stdout).toContain('--help');
      expect(r.stdout).toMatch(/env \$RAIL_ACTIONS_/);
      expect(r.stdout).toContain('Exit codes:');
      expect(r.stderr).toBe('');
    },
  );

  it('no command → help on stdout, exit 2', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Usage: rail-actions <command>');
  });

  it('unknown command → exit 2 with the list of commands', async () => {
    const r = await cli(['deplyo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /unknown command 'deplyo' \(commands: doctor, plan, migrate, deploy, verify, rollback, (restore, )?status\)/,
    );
  });

  it('unknown flag and stray arguments → exit 2 naming them', async () => {
    const flag = await cli(['verify', 'http://x', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Unknown option '--bogus'.*rail-actions verify --help/);
    const stray = await cli(['status', 'extra']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/unexpected argument 'extra'/);
  });

  it.each([
    [['verify'], /--url is required \(or set \$RAIL_ACTIONS_URL\)/],
    [['verify', 'not a url'], /--url: expected an absolute URL \(http:\/\/… or https:\/\/…\)/],
    [['verify', 'http://x', '--timeout', 'banana'], /--timeout: expected a duration .* got 'banana'/],
    [['verify', 'http://x', '--interval=-1s'], /--interval: .*must not be negative/],
    [
      ['verify', 'http://x', '--interval', '-1s'],
      /--interval needs a value; a value starting with '-' must be written as --interval=<value>/,
    ],
    [['verify', 'http://x', '--consecutive-successes', '0'], /--consecutive-successes: must be at least 1/],
    [['verify', 'http://x', '--expect-json', 'status'], /--expect-json: expected conditions like status=ok/],
    [['verify', 'http://x', '--expect-status', 'ok'], /--expect-status: expected HTTP status codes/],
    [['verify', 'http://x', '-H', 'Bearer abc'], /--headers: line 1 is not a 'Name: value' header/],
    [['status', '--service', 'api'], /--railway-token: is required/],
    [['plan'], /--database-url: is required: pass --database-url or set \$DATABASE_URL/],
    [
      ['plan', '--database-url', 'mysql://u:pw@h/db'],
      /--database-url: expected a postgres:\/\/ or postgresql:\/\/ URL, got a mysql: URL/,
    ],
    [['plan', '--database-url', 'postgres://u@h/db', '--tool', 'flyway'], /--tool: /],
    [
      ['plan', '--database-url', 'postgres://u@h/db', '--approval', 'sometimes'],
      /--approval: expected one of risky, always, never/,
    ],
    [
      ['migrate', '--database-url', 'postgres://u@h/db', '--plan-hash', 'abc'],
      /--plan-hash: expected the 64-character hex/,
    ],
    [
      ['migrate', '--database-url', 'postgres://u@h/db', '--lock-timeout', 'forever'],
      /--lock-timeout: expected a duration/,
    ],
    [
      ['deploy', '--service', 'api', '--railway-token', 't', '--source', 'ftp'],
      /--source: expected one of commit, upload, image, got 'ftp'/,
    ],
    [['deploy', '--service', 'api', '--railway-token', 't', '--timeout', 'soon'], /--timeout: expected a duration/],
  ])('bad input %j → exit 2 naming the flag, no stack', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names the environment variable when a bad value came from there', async () => {
    const r = await cli(['verify', 'http://x'], { RAIL_ACTIONS_TIMEOUT: 'banana' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\$RAIL_ACTIONS_TIMEOUT \(for --timeout\): expected a duration/);
  });
});

describe('rail-actions verify', () => {
  it('healthy after 502s → exit 0, plain output when not a terminal', async () => {
    const url = await serve((n) => (n <= 2 ? { status: 502 } : { body: { status: 'ok', commit: 'abc1234def' } }));
    const r = await cli(['verify', url, ...fast, '--expect-json', 'status=ok', '--expect-version', 'abc1234']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✔ healthy/);
    expect(r.stdout).toMatch(/ATTEMPTS +TIME TO HEALTHY/);
    expect(r.stderr).toMatch(/✗ #1 502 .*not serving yet: HTTP 502/);
    expect(r.stdout + r.stderr).not.toMatch(ANSI);
  });

  it('colours only when forced, and NO_COLOR wins', async () => {
    const url = await serve(() => ({ body: {} }));
    const forced = await cli(['verify', url, ...fast, '--consecutive-successes', '1'], { FORCE_COLOR: '1' });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(ANSI);
    const noColor = await cli(['verify', url, ...fast, '--consecutive-successes', '1'], {
      FORCE_COLOR: '1',
      NO_COLOR: '1',
    });
    expect(noColor.stdout + noColor.stderr).not.toMatch(ANSI);
    const flag = await cli(['verify', url, ...fast, '--consecutive-successes', '1', '--no-color'], {
      FORCE_COLOR: '1',
    });
    expect(flag.stdout + flag.stderr).not.toMatch(ANSI);
  });

  // A real terminal (util-linux `script` allocates a pseudo-TTY): colours and the live progress line appear.
  it.skipIf(!existsSync('/usr/bin/script'))(
    'on a terminal: colours and a live progress line while waiting',
    async () => {
      const url = await serve((n) => (n <= 4 ? { status: 503 } : { body: {} }));
      const command = [
        process.execPath,
        BIN,
        'verify',
        url,
        '--interval',
        '150ms',
        '--max-interval',
        '150ms',
        '--consecutive-successes',
        '2',
      ]
        .map((a) => `'${a}'`)
        .join(' ');
      const r = await new Promise<CliResult>((resolve) => {
        const child = spawn('script', ['-qec', command, '/dev/null'], {
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'xterm' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
      });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(ANSI);
      const redraw =
        // eslint-disable-next-line no-control-regex -- the TTY redraw sequence is what is being checked
        /\r\u001b\[2K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] verify: waiting for 2 healthy answers in a row — last: not serving yet: HTTP 503 \(\d/;
      expect(r.stdout).toMatch(redraw);
      expect(r.stdout).toContain('✔ healthy');
    },
  );

  it('the old version answering → exit 1 with the reason; --json is machine-readable', async () => {
    const url = await serve(() => ({ body: { status: 'ok', deploymentId: 'dep-old' } }));
    const r = await cli(['verify', url, ...fast, '--expect-version', 'dep-new', '--timeout', '800ms', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { healthy: boolean; reason: string; attempts: number; lastStatus: number };
    expect(out.healthy).toBe(false);
    expect(out.lastStatus).toBe(200);
    expect(out.reason).toMatch(/old version answering: saw deploymentId=dep-old/);
  });

  it('takes settings from RAIL_ACTIONS_* environment variables', async () => {
    const url = await serve(() => ({ body: {} }));
    const r = await cli(['verify', '--json'], {
      RAIL_ACTIONS_URL: url,
      RAIL_ACTIONS_CONSECUTIVE_SUCCESSES: '2',
      RAIL_ACTIONS_INTERVAL: '20ms',
    });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { attempts: number }).attempts).toBe(2);
  });

  it('never prints a header value, even when the server echoes it', async () => {
    const secret = 'tok_5a4b3c2d1e0f99887766';
    const url = await serve((_n, req) => ({
      status: 500,
      body: { key: req.headers['x-api-key'], auth: req.headers.authorization },
    }));
    const r = await cli(['verify', url, ...fast, '--timeout', '500ms', '-H', `Authorization: Bearer ${secret}`], {
      RAIL_ACTIONS_HEADERS: 'X-Api-Key: key-77665544332211\nAccept: application/json',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('***');
    expect(r.stdout + r.stderr).not.toContain(secret);
    expect(r.stdout + r.stderr).not.toContain('key-77665544332211');
  });

  it('SIGTERM mid-wait → reports the state and exits 130', async () => {
    const url = await serve(() => ({ status: 503 }));
    const run = startCli(['verify', url, ...fast]);
    await run.waitFor(/#3 /);
    run.kill('SIGTERM');
    const r = await run.result;
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/cancelled/);
    expect(r.stdout).toMatch(/reason: cancelled \(cancelled by SIGTERM\)/);
  });
});

describe('rail-actions deploy / status / rollback against the Railway emulator', () => {
  let emu: RailwayEmulator;
  let token: string;
  let apiId: string;
  let appDir: string;
  let firstId: string;

  const emulated = useEmulatedProject({ buildMs: 150, deployMs: 80, tickMs: 25, services: [{ name: 'api' }] });

  beforeAll(async () => {
    ({ emu, token } = emulated);
    apiId = emulated.services.api ?? '';
    firstId = emu.supersede(apiId);
    await emu.waitForStatus(firstId, 'SUCCESS', 30_000);
    appDir = await mkdtemp(path.join(os.tmpdir(), 'rail-cli-app-'));
    await writeFile(path.join(appDir, 'index.js'), 'console.log("hi")\n');
    await writeFile(path.join(appDir, 'package.json'), '{"name":"app","scripts":{"start":"node index.js"}}\n');
  });
  afterAll(async () => {
    if (appDir) await rm(appDir, { recursive: true, force: true });
  });

  const railway = () => ['--api-url', emu.url];
  const env = () => ({ RAILWAY_TOKEN: token });

  it('status shows what serves now', async () => {
    const r = await cli(['status', '--service', 'api', ...railway(), '--json'], env());
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      services: Array<{
        service: string;
        activeDeploymentId: string;
        activeStatus: string;
        instances: Array<{ status: string }>;
      }>;
    };
    expect(out.services[0]).toMatchObject({ service: 'api', activeDeploymentId: firstId, activeStatus: 'SUCCESS' });
    expect(out.services[0]?.instances.map((i) => i.status)).toEqual(['RUNNING']);
    const human = await cli(['status', '--service', 'api', ...railway()], env());
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/shop \/ production/);
    expect(human.stdout).toContain(firstId);
    expect(human.stdout).toMatch(/SUCCESS +1 RUNNING/);
    expect(human.stdout + human.stderr).not.toContain(token);
  });

  it('an account token without --project explains the classic mistake; with --project/--environment it works', async () => {
    const account = emu.accountToken();
    const r = await cli(['status', '--service', 'api', ...railway()], { RAILWAY_TOKEN: account });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /\$RAILWAY_TOKEN \(for --railway-token\): was refused as a project token .* no 'project' input was given/,
    );
    expect(r.stderr).not.toContain(account);
    const ok = await cli(
      ['status', '--service', 'api', '--project', 'shop', '--environment', 'production', ...railway(), '--json'],
      { RAILWAY_API_TOKEN: account },
    );
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as { project: { name: string } }).project.name).toBe('shop');
  });

  const mutationsSince = (from: number) => emu.requests.slice(from).filter((q) => /^\s*mutation\b/.test(q.query));

  it('doctor: every check confirmed or unknown, printed with what to do; sends queries only', async () => {
    const before = emu.requests.length;
    const r = await cli(['doctor', '--service', 'api', '--source', 'upload', ...railway()], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/shop \/ production \(read-only: no mutation was sent\)/);
    expect(r.stdout).toMatch(/token +Railway accepts the token +confirmed +a project token/);
    expect(r.stdout).toMatch(/project +the token reaches the project +confirmed/);
    expect(r.stdout).toMatch(/api +a deployment serves now +confirmed/);
    expect(r.stdout).toMatch(/api +GitHub autodeploy +confirmed +not applicable/);
    expect(r.stdout).toMatch(/token +the token may deploy, roll back and cancel +unknown/);
    expect(r.stdout).toMatch(/What to do:/);
    expect(r.stdout).toMatch(/nothing refuted/);
    expect(emu.requests.length).toBeGreaterThan(before);
    expect(mutationsSince(before)).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(token);
  });

  it('doctor: an unknown service and a source the service cannot take are refuted → exit 1, still no mutation', async () => {
    const before = emu.requests.length;
    const r = await cli(
      ['doctor', '--service', 'api', '--service', 'apii', '--source', 'image', ...railway(), '--json'],
      env(),
    );
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      checks: Array<{ subject: string; check: string; verdict: string; todo?: string }>;
    };
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.subject === 'apii')).toMatchObject({ verdict: 'refuted' });
    expect(report.checks.find((c) => c.subject === 'api' && /source: image/.test(c.check))).toMatchObject({
      verdict: 'refuted',
    });
    expect(report.checks.find((c) => c.subject === 'api' && /exists/.test(c.check))).toMatchObject({
      verdict: 'confirmed',
    });
    expect(mutationsSince(before)).toEqual([]);
  });

  it('doctor: a token Railway refuses is a refuted check (exit 1), not a crash', async () => {
    const before = emu.requests.length;
    const r = await cli(['doctor', '--service', 'api', ...railway()], { RAILWAY_TOKEN: 'rw_not_a_token_0123456789' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/token +Railway accepts the token +refuted/);
    expect(r.stdout + r.stderr).not.toContain('rw_not_a_token_0123456789');
    expect(mutationsSince(before)).toEqual([]);
  });

  it('doctor: an account token without --project is refuted at the project, with the classic mistake explained', async () => {
    const account = emu.accountToken();
    const r = await cli(['doctor', '--service', 'api', ...railway(), '--json'], { RAILWAY_API_TOKEN: account });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as {
      tokenKind: string;
      checks: Array<{ subject: string; verdict: string; detail: string }>;
    };
    expect(report.tokenKind).toBe('account');
    expect(report.checks.find((c) => c.subject === 'project')).toMatchObject({ verdict: 'refuted' });
    expect(report.checks.find((c) => c.subject === 'api')).toMatchObject({ verdict: 'unknown' });
    expect(r.stdout).not.toContain(account);
  });

  it('an unknown service → exit 2 listing the available ones, no mutation sent', async () => {
    const before = emu.requests.length;
    const r = await cli(['deploy', '--service', 'apii', '--path', appDir, ...railway()], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--service: no service 'apii'.*Available: 'api'/);
    expect(emu.requests.slice(before).filter((q) => /^\s*mutation/.test(q.query))).toEqual([]);
  });

  it('deploy uploads, waits, verifies the NEW version answers → exit 0', async () => {
    const r = await cli(
      [
        'deploy',
        '--service',
        'api',
        '--path',
        appDir,
        ...railway(),
        '--health-url',
        `${emu.serviceUrl(apiId)}/health`,
        '--verify-window',
        '500ms',
        '--json',
      ],
      env(),
    );
    expect(r.stderr).not.toContain(token);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      services: Array<{ deploymentId: string; previousDeploymentId: string; healthy: boolean; outcome: string }>;
    };
    expect(out.ok).toBe(true);
    const svc = out.services[0];
    expect(svc).toMatchObject({ outcome: 'success', healthy: true, previousDeploymentId: firstId });
    expect(emu.activeDeployment(apiId)?.id).toBe(svc?.deploymentId);
    expect(r.stderr).toMatch(/Upload: 2 file\(s\) from /);
  });

  it('rollback restores the previous deployment and verifies it', async () => {
    const serving = emu.activeDeployment(apiId)?.id as string;
    const r = await cli(
      [
        'rollback',
        '--service',
        'api',
        ...railway(),
        '--health-url',
        `${emu.serviceUrl(apiId)}/health`,
        '--expect-version',
        'deployment-id',
        '--health-interval',
        '30ms',
        '--health-timeout',
        '20s',
        '--verify-window',
        '300ms',
        '--json',
      ],
      env(),
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      previousDeploymentId: string;
      deploymentId: string;
      healthy: boolean;
      method: string;
    };
    expect(out).toMatchObject({ ok: true, previousDeploymentId: serving, healthy: true, method: 'rollback' });
    expect(emu.activeDeployment(apiId)?.id).toBe(out.deploymentId);
    expect(emu.deployment(out.deploymentId)?.kind).toBe('rollback');
    expect(emu.deployment(out.deploymentId)?.sourceDeploymentId).toBe(firstId);
  });

  it('a missing upload directory or a bad commit sha fails before any API call', async () => {
    const before = emu.requests.length;
    const missing = await cli(['deploy', '--service', 'api', '--path', path.join(appDir, 'nope'), ...railway()], env());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--path: directory '.*nope' does not exist/);
    const twoDirs = await cli(['deploy', '--service', 'api', '--path', appDir, '--path', appDir, ...railway()], env());
    expect(twoDirs.code).toBe(2);
    expect(twoDirs.stderr).toMatch(/--path: gives more than one directory without a service name/);
    const sha = await cli(
      ['deploy', '--service', 'api', '--source', 'commit', '--commit-sha', 'main', ...railway()],
      env(),
    );
    expect(sha.code).toBe(2);
    expect(sha.stderr).toMatch(/--commit-sha: expected a git commit sha/);
    expect(emu.requests.slice(before)).toEqual([]);
  });

  it('monorepo: --path service=dir uploads that directory for the service', async () => {
    const apiDir = await mkdtemp(path.join(os.tmpdir(), 'rail-cli-api-'));
    try {
      await writeFile(path.join(apiDir, 'server.js'), 'console.log("api")\n');
      const uploads = emu.uploads.length;
      const r = await cli(['deploy', '--service', 'api', '--path', `api=${apiDir}`, ...railway(), '--json'], env());
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/Upload for api: 1 file\(s\)/);
      expect(emu.uploads.slice(uploads).map((u) => u.files)).toEqual([['server.js']]);
    } finally {
      await rm(apiDir, { recursive: true, force: true });
    }
  });

  it('a bad release is detected and rolled back with --rollback-on-failure → exit 1, old version serves', async () => {
    const good = emu.activeDeployment(apiId)?.id as string;
    emu.scriptDeployment(apiId, { app: { healthy: false } });
    const r = await cli(
      [
        'deploy',
        '--service',
        'api',
        '--path',
        appDir,
        ...railway(),
        '--health-url',
        `${emu.serviceUrl(apiId)}/health`,
        '--verify-timeout',
        '3s',
        '--verify-window',
        '500ms',
        '--rollback-on-failure',
      ],
      env(),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✘ release failed/);
    expect(r.stdout).toMatch(/verification: .*HTTP 503/);
    expect(r.stdout).toMatch(/rollback: /);
    const active = emu.activeDeployment(apiId);
    expect(active?.id).not.toBe(good);
    expect(active?.kind).toBe('rollback');
    expect(r.stdout + r.stderr).not.toContain(token);
  });

  it('rollback refuses to cross a destructive migration of the plan (no mutation sent) unless --force', async () => {
    const planFile = path.join(appDir, 'plan.json');
    await writeFile(
      planFile,
      JSON.stringify({
        decision: 'requires-approval',
        pendingCount: 1,
        risk: 'destructive',
        statements: [
          { file: 'migrations/002.sql', line: 3, risk: 'destructive', sql: 'ALTER TABLE users DROP COLUMN email' },
        ],
      }),
    );
    const before = emu.requests.length;
    const refused = await cli(['rollback', '--service', 'api', ...railway(), '--migrate-plan', planFile], env());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /Refusing to roll back: .*destructive migrations\/002\.sql:3 \(ALTER TABLE users DROP COLUMN email\).*--force/,
    );
    expect(emu.requests.slice(before)).toEqual([]);

    const serving = emu.activeDeployment(apiId)?.id as string;
    const forced = await cli(
      ['rollback', '--service', 'api', ...railway(), '--migrate-plan', planFile, '--force', '--json'],
      env(),
    );
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/--force — rolling back across destructive/);
    expect((JSON.parse(forced.stdout) as { previousDeploymentId: string }).previousDeploymentId).toBe(serving);
  });

  it('rollback validates the health-check flags before anything is sent to Railway', async () => {
    const before = emu.requests.length;
    const r = await cli(
      [
        'rollback',
        '--service',
        'api',
        ...railway(),
        '--health-url',
        'http://127.0.0.1:9/health',
        '--health-interval',
        '10s',
        '--health-timeout',
        '5s',
      ],
      env(),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--health-interval: must not be longer than health-timeout \(5\.0s\), got '10s'/);
    expect(emu.requests.slice(before)).toEqual([]);
  });

  it('an unreadable or invalid --migrate-plan is a usage error', async () => {
    const missing = await cli(
      ['rollback', '--service', 'api', ...railway(), '--migrate-plan', path.join(appDir, 'nope.json')],
      env(),
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--migrate-plan: cannot read .*ENOENT/);
    await writeFile(path.join(appDir, 'bad.json'), '{not json');
    const invalid = await cli(
      ['rollback', '--service', 'api', ...railway(), '--migrate-plan', path.join(appDir, 'bad.json')],
      env(),
    );
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/--migrate-plan: expected the JSON plan/);
  });

  it('SIGTERM while Railway builds → stops waiting, says what continues on Railway, exit 130', async () => {
    emu.scriptDeployment(apiId, { buildMs: 60_000 });
    const run = startCli(['deploy', '--service', 'api', '--path', appDir, ...railway()], env());
    await run.waitFor(/deployment [0-9a-f-]{36} started/);
    run.kill('SIGTERM');
    const r = await run.result;
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/✘ release failed/);
    expect(r.stderr).toMatch(/Stopped waiting; Railway continues with api \([0-9a-f-]{36}\)/);
    const id = /Railway continues with api \(([0-9a-f-]{36})\)/.exec(r.stderr)?.[1] as string;
    expect(['INITIALIZING', 'QUEUED', 'BUILDING']).toContain(emu.deployment(id)?.status); // still in progress on Railway
    // leave the emulator as the following tests expect it: a newer successful deployment supersedes the slow one
    await emu.waitForStatus(emu.supersede(apiId), 'SUCCESS', 30_000);
  });

  it('rollback to the deployment that serves now does nothing (skipped, as the rollback action does), no mutation', async () => {
    const serving = emu.activeDeployment(apiId)?.id as string;
    const before = emu.requests.length;
    const r = await cli(['rollback', '--service', 'api', ...railway(), '--deployment-id', serving, '--json'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      result: 'skipped',
      skipped: `${serving} is already serving; nothing to roll back`,
    });
    expect(mutationsSince(before)).toEqual([]);
    expect(emu.activeDeployment(apiId)?.id).toBe(serving);
  });
});

const PRISMA_FIXTURE = path.join(projectRoot, 'test/fixtures/sql/gate-prisma');

describe('rail-actions plan / migrate against real PostgreSQL', () => {
  let db: TestDatabase;
  let ws: string;
  beforeAll(async () => {
    db = await createTestDatabase('cli_plan');
    ws = await mkdtemp(path.join(os.tmpdir(), 'rail-cli-prisma-'));
    await cp(PRISMA_FIXTURE, ws, { recursive: true });
    // The first migration is applied as `prisma migrate deploy` would record it; two stay pending.
    const first = await readFile(path.join(ws, 'prisma/migrations/20240101000000_init/migration.sql'), 'utf8');
    const { createHash } = await import('node:crypto');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(first);
      await client.query(`CREATE TABLE "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
        "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
        "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES (gen_random_uuid()::text, $1, now(), $2, 1)`,
        [createHash('sha256').update(first).digest('hex'), '20240101000000_init'],
      );
    } finally {
      await client.end();
    }
  });
  afterAll(async () => {
    await db?.drop();
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  it('plan prints the Prisma plan as a readable table and exits 0 when approval is required', async () => {
    const r = await cli(['plan', '--database-url', db.url, '--dir', 'prisma/migrations'], {}, ws);
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /⏸ approval required — 2 pending prisma migration\(s\) in prisma\/migrations, highest risk destructive/,
    );
    expect(r.stdout).toMatch(/^plan-hash [0-9a-f]{64}$/m);
    expect(r.stdout).toMatch(/MIGRATION +RISK +STATEMENTS +NOTES/);
    expect(r.stdout).toMatch(/20240301000000_cleanup\/migration\.sql +destructive/);
    expect(r.stdout).toMatch(
      /prisma\/migrations\/20240301000000_cleanup\/migration\.sql:3:\d+ ban-drop-column \(destructive\)/,
    );
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('plan --json is the gate plan; DATABASE_URL is the fallback', async () => {
    const r = await cli(['plan', '--json'], { DATABASE_URL: db.url }, ws);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { decision: string; pendingCount: number; tool: string; planHash: string };
    expect(plan).toMatchObject({ decision: 'requires-approval', pendingCount: 2, tool: 'prisma' });
  });

  it('an unreachable database fails with exit 1 and the password in its URL never appears', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = http.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as AddressInfo;
        probe.close(() => resolve(p));
      });
    });
    const r = await cli(
      ['plan', '--database-url', `postgresql://postgres:Wr0ng-pa55word-xyz@127.0.0.1:${port}/app`],
      {},
      ws,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: /m);
    expect(r.stderr).toMatch(/postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1/);
    expect(r.stdout + r.stderr).not.toContain('Wr0ng-pa55word-xyz');
  });

  it('an unknown migrations dir names --dir', async () => {
    const r = await cli(['plan', '--database-url', db.url, '--dir', 'nope/migrations'], {}, ws);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --dir: /m);
  });

  it('migrate refuses a plan-hash that is not the pending set, then applies the approved plan', async () => {
    const planned = JSON.parse((await cli(['plan', '--json', '--database-url', db.url], {}, ws)).stdout) as {
      planHash: string;
    };
    const wrong = await cli(['migrate', '--database-url', db.url, '--plan-hash', 'f'.repeat(64)], {}, ws);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/nothing applied/);

    const r = await cli(['migrate', '--database-url', db.url, '--plan-hash', planned.planHash, '--json'], {}, ws);
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; applied: Array<{ id: string }> };
    expect(out.ok).toBe(true);
    expect(out.applied.map((a) => a.id)).toEqual(['20240201000000_profile', '20240301000000_cleanup']);

    const after = await cli(['plan', '--database-url', db.url], {}, ws);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/✔ no pending migrations — 0 pending/);
  });
});
