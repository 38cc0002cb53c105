// Secrets that used to survive the runner's masking, line breaks that could start workflow commands, GitHub refusals
// that read as "Unexpected error", outputs left empty by a failure, and a migrate plan that failed open: the cores
// (unit) and the bundled actions (test/harness, as the runner runs them) with nothing real reachable.
import { createServer, type Server } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InputError, UserFacingError } from '../src/core/errors.js';
import { parseDatabaseUrl } from '../src/core/database-url.js';
import {
  escapeLineBreaks,
  quoteValue,
  redactSecrets,
  redactUrl,
  registerSecrets,
  secretParts,
} from '../src/core/redact.js';
import { GitHubApiError } from '../src/github/rest.js';
import { explainGitHubError, permissionFor } from '../src/actions/lib/github.js';
import { tokenProblem } from '../src/actions/lib/inputs.js';
import { parseMigratePlan, riskyMigrations } from '../src/release/migrate-guard.js';
import { runAction, type ActionResult } from './harness/index.js';
import { startGitHubApi, type GitHubApiFake } from './fixtures/github-api.js';

describe('secretParts / redactSecrets: found by pattern, before (and without) parsing', () => {
  it.each([
    ['a URL password', 'http://user:pw-Secret1@host/health', ['pw-Secret1'], 'http://user:***@host/health'],
    [
      'a token standing alone as the userinfo',
      'https://ghp_tok3nValue@github.com/x',
      ['ghp_tok3nValue'],
      'https://***@github.com/x',
    ],
    [
      'an unencoded @ in the password',
      'postgres://u:p@ss-word@db:5432/app',
      ['p@ss-word'],
      'postgres://u:***@db:5432/app',
    ],
    [
      'an unencoded / in the password (no parser reads it)',
      'postgres://app:pa/ss-Word@db/prod',
      ['pa/ss-Word'],
      'postgres://app:***@db/prod',
    ],
    [
      'a URL that does not parse (bad port)',
      'http://user:pw-BadPort@127.0.0.1:bad/health',
      ['pw-BadPort'],
      'http://user:***@127.0.0.1:bad/health',
    ],
    [
      'query passwords (libpq reads password and sslpassword there)',
      'postgres://db/app?sslmode=require&password=qs%40Secret&sslpassword=kPass9',
      ['qs%40Secret', 'qs@Secret', 'kPass9'],
      'postgres://db/app?sslmode=require&password=***&sslpassword=***',
    ],
    [
      'a credential-named query parameter',
      'https://h/health?access_token=tok-123456',
      ['tok-123456'],
      'https://h/health?access_token=***',
    ],
    [
      'a conninfo string',
      'host=db port=5432 password=kv-Secret dbname=app',
      ['kv-Secret'],
      'host=db port=5432 password=*** dbname=app',
    ],
    [
      "a quoted conninfo value with an escaped '",
      "host=db password='it\\'s secret' user=app",
      ["'it\\'s secret'", "it's secret"],
      'host=db password=*** user=app',
    ],
    [
      'every line of a health-url list',
      'api=http://u:pw-Api1@h/x\nweb=https://ghp_0123456789abcdefWeb@w/y',
      ['pw-Api1', 'ghp_0123456789abcdefWeb'],
      'api=http://u:***@h/x\nweb=https://***@w/y',
    ],
  ])('%s', (_what, text, parts, redacted) => {
    expect(secretParts(text)).toEqual(expect.arrayContaining(parts));
    expect(redactSecrets(text)).toBe(redacted);
    for (const p of parts) expect(redactSecrets(text)).not.toContain(p);
  });

  it.each([
    ['expect-json conditions', 'auth.status=ok\ntoken.valid=true'],
    ["health-url's service names", 'auth=https://auth.up.railway.app/health'],
    ['a URL without credentials', 'https://api.example.com/health?check=db'],
    ['plain text', 'not a url at all'],
    // Masking a short user name would make the runner blank every occurrence of it in the log.
    ['a user name without a password', 'postgres://app@db:5432/prod'],
  ])('leaves %s alone (nothing there is a credential)', (_what, text) => {
    expect(secretParts(text)).toEqual([]);
    expect(redactSecrets(text)).toBe(text);
  });

  it('redactUrl is redactSecrets: the migrate actions\' "Target …" line no longer shows a query password', () => {
    expect(redactUrl('postgres://app@db/prod?password=qsPass-77')).toBe('postgres://app@db/prod?password=***');
    expect(redactUrl('postgresql://app:s%3Acret@db.internal:5432/prod')).toBe(
      'postgresql://app:***@db.internal:5432/prod',
    );
  });
});

describe('quoting values into messages: masked, one line, bounded', () => {
  it('escapes line breaks like the runner escapes command data, so a value cannot start a workflow command', () => {
    expect(quoteValue('v1\n::warning::x')).toBe("'v1%0A::warning::x'");
    expect(quoteValue('a\r::notice::b 50%')).toBe("'a%0D::notice::b 50%25'");
    expect(quoteValue('50% off')).toBe("'50% off'"); // no line break: shown as written
    expect(escapeLineBreaks('x\r\ny')).toBe('x%0D%0Ay');
  });

  it('masks secret parts and cuts a long value, saying how long it was', () => {
    expect(quoteValue('http://u:pw-Quote1@h/x')).toBe("'http://u:***@h/x'");
    const long = quoteValue('x'.repeat(5000));
    expect(long).toMatch(/^'x{120}…' \(5000 characters\)$/);
  });

  it('InputError: registered secrets are scrubbed and line breaks escaped whatever the parser quoted', () => {
    registerSecrets(['reg1stered-Secret-Value']);
    const err = new InputError('x', "got 'reg1stered-Secret-Value\n::warning::boom'");
    expect(err.message).toBe("Input 'x': got '***%0A::warning::boom'");
    expect(new InputError('y', 'z'.repeat(5000)).message.length).toBeLessThan(1100);
  });

  it('tokenProblem says what is wrong with a token without showing it', () => {
    expect(tokenProblem('ghs_abcDEF123')).toBeUndefined();
    expect(tokenProblem('ghs_abc\nx')).toMatch(/^contains a line break at character 8 of 9/);
    expect(tokenProblem('tök')).toMatch(/non-ASCII character \(U\+00F6\) at character 2/);
    expect(tokenProblem('Bearer x')).toMatch(/whitespace/);
    expect(tokenProblem('tök')).not.toContain('tök');
  });
});

describe('parseDatabaseUrl', () => {
  it('returns every secret part, query passwords included, for masking and scrubbing', () => {
    const { secrets } = parseDatabaseUrl(
      'postgres://app@db:5432/prod?password=qsPw-1&sslpassword=sslPw-2',
      'database-url',
    );
    expect(secrets).toEqual(expect.arrayContaining(['qsPw-1', 'sslPw-2']));
  });

  it.each([
    ['a conninfo string', 'host=db password=kvPw-3 dbname=app', /key=value connection string 'host=db password=\*\*\*/],
    ['a URL that does not parse', 'postgres://app:badPw-4@db:port/app', /got 'postgres:\/\/app:\*\*\*@db:port\/app'/],
    [
      'a line break',
      'postgres://app:nlPw-5@db/app\n::notice::x',
      /must be one line, got 'postgres:\/\/app:\*\*\*@db\/app%0A::notice::x'/,
    ],
  ])('refuses %s naming the input, quoting it masked', (_what, value, message) => {
    let err: unknown;
    try {
      parseDatabaseUrl(value, 'database-url');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^Input 'database-url': /);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toMatch(/Pw-\d/);
  });
});

describe('migrate-plan fails closed', () => {
  it.each([
    ['null', /got null/],
    ['[]', /got an array/],
    ['"x"', /got a string/],
    ['42', /got a number/],
    ['{}', /none of the fields that say what the migrations risk.*: it is empty/],
    ['{"decision":"requires-approval"}', /none of the fields .*; it has decision/],
    ['{"risk":"catastrophic"}', /its risk is "catastrophic"/],
    ['{"files":"all"}', /its files is not a list of objects/],
    ['{"statements":[1,2]}', /its statements is not a list of objects/],
    ['{"schema":"other/plan@2","risk":"safe"}', /its schema is "other\/plan@2"/],
    ['{"risk":"safe","pendingCount":-1}', /pendingCount is not a whole number/],
    ['{not json', /not valid JSON/],
  ])('%s is not a plan: an error naming the input, never "no risky migrations"', (text, message) => {
    expect(() => parseMigratePlan(text)).toThrow(InputError);
    expect(() => parseMigratePlan(text)).toThrow(/^Input 'migrate-plan': expected the JSON plan/);
    expect(() => parseMigratePlan(text)).toThrow(message);
  });

  it('accepts real plan shapes (full, truncated, statements only) and still finds their risks', () => {
    expect(parseMigratePlan('')).toBeUndefined();
    const full = {
      schema: 'rail-actions/migration-plan@1',
      decision: 'requires-approval',
      risk: 'destructive',
      pendingCount: 1,
      files: [{ file: 'm/1.sql', risk: 'destructive' }],
      statements: [{ file: 'm/1.sql', line: 2, sql: 'DROP TABLE t', risk: 'destructive' }],
    };
    expect(riskyMigrations(parseMigratePlan(JSON.stringify(full)))).toContainEqual(
      expect.objectContaining({ risk: 'destructive', where: 'm/1.sql:2' }),
    );
    expect(riskyMigrations(parseMigratePlan(JSON.stringify({ risk: 'breaking', truncated: true, files: [] })))).toEqual(
      [expect.objectContaining({ risk: 'breaking', where: 'plan' })],
    );
    expect(
      riskyMigrations(
        parseMigratePlan(
          '{"files":[{"relPath":"db/3.sql","statements":[{"line":1,"risk":"breaking","sql":"ALTER"}]}]}',
        ),
      ),
    ).toHaveLength(1);
    expect(riskyMigrations(parseMigratePlan('{"risk":"safe","files":[]}'))).toEqual([]);
  });
});

describe('GitHub refusals name the token input and the permission', () => {
  const err = (status: number | undefined, route: string, extra: { retryAfterMs?: number; accepted?: string } = {}) =>
    new GitHubApiError(
      `GitHub API ${route} failed${status ? ` (HTTP ${status})` : ''}: Nope`,
      status,
      extra.retryAfterMs,
      { route, ...(extra.accepted ? { acceptedPermissions: extra.accepted } : {}) },
    );

  it('maps each route to the permissions: entry the job needs', () => {
    expect(permissionFor('POST /repos/{owner}/{repo}/deployments')).toBe('deployments: write');
    expect(permissionFor('GET /repos/{owner}/{repo}/deployments')).toBe('deployments: read');
    expect(permissionFor('POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses')).toBe('deployments: write');
    expect(permissionFor('POST /repos/{owner}/{repo}/issues')).toBe('issues: write');
    expect(permissionFor('GET /repos/{owner}/{repo}/issues/{issue_number}/comments')).toBe('issues: write');
    expect(permissionFor('GET /repos/{owner}/{repo}/actions/runs/{run_id}')).toBe('actions: read');
    expect(permissionFor('GET /orgs/{org}/teams/{team_slug}')).toMatch(/^organization members: read/);
  });

  it.each([
    [401, 'POST /repos/{owner}/{repo}/issues', {}, /HTTP 401.* — the 'token' input holds no valid token/],
    [
      403,
      'POST /repos/{owner}/{repo}/issues',
      {},
      /HTTP 403.* — the 'token' token lacks a permission: give the job `permissions: issues: write`/,
    ],
    [
      403,
      'POST /repos/{owner}/{repo}/deployments',
      { accepted: 'deployments=write' },
      /lacks a permission \(GitHub accepts: deployments=write\): give the job `permissions: deployments: write`/,
    ],
    [
      404,
      'POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
      {},
      /HTTP 404.* — it does not exist, or the 'token' token cannot see it: .*`permissions: deployments: write`/,
    ],
    [
      403,
      'GET /repos/{owner}/{repo}/issues/{issue_number}',
      { retryAfterMs: 1000 },
      /rate limit, still exhausted after the retries/,
    ],
    [undefined, 'POST /repos/{owner}/{repo}/issues', {}, /could not be reached/],
    [422, 'POST /repos/{owner}/{repo}/issues', {}, /^GitHub API POST .* \(HTTP 422\): Nope$/],
  ])('HTTP %s on %s', (status, route, extra, message) => {
    const out = explainGitHubError(err(status, route, extra), 'token');
    expect(out).toBeInstanceOf(UserFacingError);
    expect((out as Error).message).toMatch(message);
    expect((out as Error).cause).toBeInstanceOf(GitHubApiError); // kept for callers with a more specific explanation
  });
});

// ---------- the bundled actions ----------

/** A loopback listener that counts connections and answers nothing: proof that nothing was sent anywhere. */
async function listener(): Promise<{
  url: string;
  port: number;
  connections: () => number;
  close: () => Promise<void>;
}> {
  let n = 0;
  const server: Server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connections: () => n,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
const errorsOf = (r: ActionResult) => r.annotations.filter((a) => a.level === 'error').map((a) => a.message);
const listeners: Array<{ close: () => Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});
async function closedNetwork() {
  const l = await listener();
  listeners.push(l);
  return l;
}

describe('health-check (bundled)', () => {
  it('a malformed URL with credentials: masked in the error, nothing sent, the failure outputs set', async () => {
    const net = await closedNetwork();
    const r = await runAction({
      action: 'health-check',
      inputs: { url: `http://deployer:hc-Secret-91@127.0.0.1:${net.port}:bad/health?token=hc-QueryTok-92` },
    });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)).toEqual([
      expect.stringMatching(
        /^Input 'url': expected an absolute URL .*got 'http:\/\/deployer:\*\*\*@127\.0\.0\.1:\d+:bad\/health\?token=\*\*\*'$/,
      ),
    ]);
    expect(r.allText).not.toContain('hc-Secret-91');
    expect(r.allText).not.toContain('hc-QueryTok-92');
    expect(r.masked).toEqual(expect.arrayContaining(['hc-Secret-91', 'hc-QueryTok-92']));
    expect(r.outputs).toMatchObject({ healthy: 'false', attempts: '0' });
    expect(r.outputs['reason']).toMatch(/^Input 'url'/);
    expect(net.connections()).toBe(0);
  });

  it('expect-version with a line break is refused on one line; a valid one is logged quoted', async () => {
    const net = await closedNetwork();
    const r = await runAction({
      action: 'health-check',
      inputs: { url: `${net.url}/health`, 'expect-version': 'v1\n::warning::hc-injected' },
    });
    expect(errorsOf(r)).toEqual(["Input 'expect-version': must be a single line, got 'v1%0A::warning::hc-injected'"]);
    expect(r.annotations.filter((a) => a.level === 'warning')).toEqual([]);
    expect(net.connections()).toBe(0);
  });

  it.each([
    [{ timeout: '7h' }, /^Input 'timeout': must be at most 6h 00m, got '7h'$/],
    [{ 'request-timeout': '6m' }, /^Input 'request-timeout': must be at most 5m 00s, got '6m'$/],
    [{ 'max-latency': '20s' }, /^Input 'max-latency': must not be longer than request-timeout \(10\.0s\), got '20s'$/],
    [{ interval: '10m' }, /^Input 'interval': must not be longer than timeout \(5m 00s\), got '10m'$/],
    [{ 'consecutive-successes': '1000' }, /^Input 'consecutive-successes': must be at most 100, got 1000$/],
    [
      { headers: 'X-Name: 値' },
      /^Input 'headers': header 'X-Name' has a character an HTTP header cannot carry \(U\+5024\)/,
    ],
  ])('bounds: %j', async (inputs, message) => {
    const net = await closedNetwork();
    const r = await runAction({ action: 'health-check', inputs: { url: `${net.url}/health`, ...inputs } });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)).toEqual([expect.stringMatching(message)]);
    expect(net.connections()).toBe(0);
  });
});

describe('GitHub actions (bundled) against the local GitHub API', () => {
  const TOKEN = 'ghs_secretsTestToken0123456789abc';
  let gh: GitHubApiFake | undefined;
  afterEach(async () => {
    await gh?.close();
    gh = undefined;
  });
  const env = (api: GitHubApiFake) => ({ GITHUB_API_URL: api.url });

  it('github-deployment refuses an environment-url with credentials: nothing reaches GitHub, the secret nowhere', async () => {
    gh = await startGitHubApi({ token: TOKEN, owner: 'octo-org', repo: 'octo-app' });
    for (const url of [
      'https://deploy:envPw-Secret-31@shop.example/',
      'https://shop.example/?access_token=envTok-32',
    ]) {
      const r = await runAction({
        action: 'github-deployment',
        inputs: { token: TOKEN, status: 'in_progress', environment: 'production', 'environment-url': url },
        env: env(gh),
      });
      expect(r.exitCode).toBe(1);
      expect(errorsOf(r)).toEqual([
        expect.stringMatching(/^Input 'environment-url': must not contain credentials .*GitHub shows it to everyone/),
      ]);
      expect(r.allText).not.toMatch(/envPw-Secret-31|envTok-32/);
    }
    const log = await runAction({
      action: 'github-deployment',
      inputs: {
        token: TOKEN,
        status: 'in_progress',
        environment: 'production',
        'log-url': 'https://u:logPw-33@ci.example/run',
      },
      env: env(gh),
    });
    expect(errorsOf(log)).toEqual([expect.stringMatching(/^Input 'log-url': must not contain credentials/)]);
    expect(gh.requests).toHaveLength(0);
  });

  it('a wrong token, a missing permission and a missing deployment each name the token input and the permission', async () => {
    gh = await startGitHubApi({ token: TOKEN, owner: 'octo-org', repo: 'octo-app' });
    const bad = await runAction({
      action: 'github-deployment',
      inputs: { token: 'ghs_notTheRightToken987', status: 'in_progress', environment: 'production' },
      env: env(gh),
    });
    expect(errorsOf(bad)).toEqual([
      expect.stringMatching(/HTTP 401.*Bad credentials — the 'token' input holds no valid token/),
    ]);
    gh.failNext(1, 403);
    const forbidden = await runAction({
      action: 'github-deployment',
      inputs: { token: TOKEN, status: 'in_progress', environment: 'production' },
      env: env(gh),
    });
    expect(errorsOf(forbidden)).toEqual([
      expect.stringMatching(
        /HTTP 403.* — the 'token' token lacks a permission: give the job `permissions: deployments: write`/,
      ),
    ]);
    const missing = await runAction({
      action: 'github-deployment',
      inputs: { token: TOKEN, status: 'success', 'deployment-id': '424242' },
      env: env(gh),
    });
    expect(errorsOf(missing)).toEqual([
      expect.stringMatching(/HTTP 404.*cannot see it: .*`permissions: deployments: write`/),
    ]);
    for (const r of [bad, forbidden, missing]) {
      expect(r.allText).not.toContain('Unexpected error');
      expect(r.allText).not.toContain(TOKEN);
    }
  });

  it('approval: a refused issue says issues: write; a bad input leaves decision=error, not empty', async () => {
    gh = await startGitHubApi({ token: TOKEN, owner: 'octo-org', repo: 'octo-app' });
    gh.collaborators.set('alice', 'write');
    const inputs = { token: TOKEN, approvers: 'alice', 'poll-interval': '1s', timeout: '5s' };
    gh.failNext(1, 403);
    const r = await runAction({ action: 'approval', inputs, env: env(gh) });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)).toEqual([expect.stringMatching(/HTTP 403.*`permissions: (issues: write|metadata: read)/)]);
    expect(r.outputs['decision']).toBe('error');
    // 5 days: the longest a job runs, on a self-hosted runner.
    const tooLong = await runAction({ action: 'approval', inputs: { ...inputs, timeout: '121h' }, env: env(gh) });
    expect(errorsOf(tooLong)).toEqual(["Input 'timeout': must be at most 120h 00m, got '121h'"]);
    expect(tooLong.outputs['decision']).toBe('error');
    const pollLonger = await runAction({
      action: 'approval',
      inputs: { ...inputs, 'poll-interval': '10s' },
      env: env(gh),
    });
    expect(errorsOf(pollLonger)).toEqual(["Input 'poll-interval': must not be longer than timeout (5.0s), got '10s'"]);
  });
});

describe('migrate-gate (bundled): a password in the query string is never printed', () => {
  let ws: string;
  beforeAll(async () => {
    ws = await mkdtemp(path.join(os.tmpdir(), 'secrets-gate-'));
    await mkdir(path.join(ws, 'migrations'));
    await writeFile(path.join(ws, 'migrations/001_init.sql'), 'CREATE TABLE t (id int);\n');
  });
  afterAll(async () => rm(ws, { recursive: true, force: true }));

  it('the log, the error, the outputs and the summary show the URL masked; a failure before a plan blocks', async () => {
    const net = await closedNetwork();
    const url = `postgres://app@127.0.0.1:${net.port}/prod?sslmode=disable&password=gateQsPw-41&sslpassword=gateSslPw-42`;
    const r = await runAction({
      action: 'migrate-gate',
      cwd: ws,
      inputs: { 'database-url': url, 'migrations-tool': 'sql', 'migrations-dir': 'migrations' },
    });
    expect(r.exitCode).toBe(1);
    expect(r.allText).not.toMatch(/gateQsPw-41|gateSslPw-42/);
    expect(r.logLines.join('\n')).toMatch(
      /Target postgres:\/\/app@127\.0\.0\.1:\d+\/prod\?sslmode=disable&password=\*\*\*&sslpassword=\*\*\*/,
    );
    expect(r.masked).toEqual(expect.arrayContaining(['gateQsPw-41', 'gateSslPw-42']));
    expect(r.outputs).toMatchObject({ decision: 'blocked', 'requires-approval': 'true' });
    expect(net.connections()).toBeGreaterThan(0); // it did try: the refusal is the database's, not an input error
  });

  it('a missing working-directory is an input error, not "no migrations"', async () => {
    const r = await runAction({
      action: 'migrate-gate',
      cwd: ws,
      inputs: { 'database-url': 'postgres://app:wdPw-43@127.0.0.1:1/prod', 'working-directory': 'servcies/api' },
    });
    expect(errorsOf(r)).toEqual([
      expect.stringMatching(/^Input 'working-directory': 'servcies\/api' is not a directory of the checkout/),
    ]);
    expect(r.outputs['decision']).toBe('blocked');
  });
});

describe('Railway actions (bundled): inputs checked before anything is sent, outputs on every exit', () => {
  const TOKEN = 'railway-secrets-test-token-0123456789';
  const base = (url: string) => ({ 'railway-token': TOKEN, service: 'api', 'api-url': `${url}/graphql/v2` });

  it('a non-ASCII railway-token is refused at once, naming railway-token — not retried for a minute and blamed on api-url', async () => {
    const net = await closedNetwork();
    const started = Date.now();
    const r = await runAction({
      action: 'railway-deploy',
      inputs: { ...base(net.url), 'railway-token': 'rly-tökenValue-51' },
    });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(errorsOf(r)).toEqual([
      expect.stringMatching(
        /^Input 'railway-token': contains a non-ASCII character \(U\+00F6\) at character 6 of 17: a token is sent in an HTTP header/,
      ),
    ]);
    expect(r.allText).not.toContain('tökenValue-51');
    expect(r.outputs).toMatchObject({ status: 'ERROR', deployments: '[]' });
    expect(net.connections()).toBe(0);
  });

  it('api-url with credentials is refused (fetch cannot send them), masked, before any request', async () => {
    const net = await closedNetwork();
    const r = await runAction({
      action: 'rollback',
      inputs: { ...base(net.url), 'api-url': `http://proxy:apiPw-Secret-52@127.0.0.1:${net.port}/graphql/v2` },
    });
    expect(errorsOf(r)).toEqual([
      expect.stringMatching(
        /^Input 'api-url': must not contain credentials .*got 'http:\/\/proxy:\*\*\*@127\.0\.0\.1:\d+\/graphql\/v2'$/,
      ),
    ]);
    expect(r.allText).not.toContain('apiPw-Secret-52');
    expect(r.outputs).toMatchObject({ result: 'rollback-failed', status: 'FAILED', 'needs-human': 'false' });
    expect(net.connections()).toBe(0);
  });

  it.each([
    [{ 'health-timeout': '7h' }, /^Input 'health-timeout': must be at most 6h 00m/],
    [{ 'verify-window': '7h' }, /^Input 'verify-window': must be at most 6h 00m/],
    [{ 'health-path': '//evil.example/health' }, /^Input 'health-path': expected a path starting with a single \//],
    [
      { 'health-url': 'http://u:hPw-Secret-53@127.0.0.1:bad/health' },
      /^Input 'health-url': expected an http\(s\) URL or 'none', got 'http:\/\/u:\*\*\*@127\.0\.0\.1:bad\/health'/,
    ],
    [{ 'migrate-plan': 'null' }, /^Input 'migrate-plan': expected the JSON plan .* got null/],
    [{ timeout: '7h' }, /^Input 'timeout': must be at most 6h 00m/],
  ])('root action, %j: refused before the deploy, result=failed (not empty)', async (inputs, message) => {
    const net = await closedNetwork();
    const r = await runAction({ action: '.', inputs: { ...base(net.url), ...inputs } });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)).toEqual([expect.stringMatching(message)]);
    expect(r.allText).not.toContain('hPw-Secret-53');
    expect(r.outputs).toMatchObject({
      result: 'failed',
      status: 'ERROR',
      healthy: 'false',
      'rolled-back': 'false',
      'needs-human': 'false',
      deployments: '[]',
    });
    expect(net.connections()).toBe(0);
  });

  it('outputs main set itself before failing are kept: a refused rollback stays result=refused', async () => {
    const net = await closedNetwork();
    const plan = JSON.stringify({
      risk: 'destructive',
      statements: [{ file: 'm/9.sql', line: 1, sql: 'DROP TABLE t', risk: 'destructive' }],
    });
    const r = await runAction({ action: 'rollback', inputs: { ...base(net.url), 'migrate-plan': plan } });
    expect(r.exitCode).toBe(1);
    expect(r.outputs).toMatchObject({ result: 'refused', status: 'REFUSED', 'needs-human': 'true' });
    expect(net.connections()).toBe(0);
  });
});
