// `npm run demo`: the whole deploy chain on this machine, through the BUNDLED actions (dist/), each run the way the
// GitHub runner runs it (test/harness: a separate Node 24 process, INPUT_* env, GITHUB_OUTPUT/STEP_SUMMARY/STATE
// files, post phases with the saved state), against real PostgreSQL + pgvector and Redis (DATABASE_URL / REDIS_URL,
// started by scripts/test-services.sh) and the Railway emulator (test/railway-emulator) running real app processes.
//
//   node_modules/.bin/node --import ./scripts/ts-loader.mjs scripts/demo.ts [--out <dir>]   (default <root>/.demo)
//
// Prints a timeline, writes every job summary to <out>/summaries/<nn>-<action>.md, and exits 0 only when every
// expectation held (each is checked explicitly and listed when it fails). RAIL_DEMO_DB_PASSWORD sets the demo
// database role's password (random otherwise) so a caller can scan the output for it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { nodeBinary, projectRoot, runAction, type ActionResult, type RunOptions } from '../test/harness/index.js';
import { startRailwayEmulator, type RailwayEmulator } from '../test/railway-emulator/index.js';
import { startGitHubApi } from '../test/fixtures/github-api.js';
import { freePort } from '../test/railway-emulator/apps.js';

// ------------------------------------------------------------------------------------------------ output helpers
const tty = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: string) => (text: string) => (tty ? `\u001b[${code}m${text}\u001b[0m` : text);
const green = paint('32');
const red = paint('31');
const dim = paint('2');
const bold = paint('1');

const printed: string[] = [];
function say(line = ''): void {
  printed.push(line);
  process.stdout.write(`${line}\n`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

// ------------------------------------------------------------------------------------------------ expectations
interface Check {
  step: string;
  label: string;
  ok: boolean;
  detail: string;
}
const checks: Check[] = [];

interface StepRecord {
  nn: string;
  action: string;
  title: string;
  ms: number;
  checks: Check[];
  notes: string[];
}
const timeline: StepRecord[] = [];

/** One step of the timeline: runs `body`, which records expectations through `expect` and key facts through `note`. */
async function step(
  action: string,
  title: string,
  body: (ctx: {
    expect: (label: string, ok: boolean, detail?: string) => boolean;
    note: (line: string) => void;
    nn: string;
  }) => Promise<void>,
): Promise<void> {
  const nn = String(timeline.length + 1).padStart(2, '0');
  const record: StepRecord = { nn, action, title, ms: 0, checks: [], notes: [] };
  timeline.push(record);
  const started = Date.now();
  const expect = (label: string, ok: boolean, detail = ''): boolean => {
    const c = { step: `${nn} ${action}`, label, ok, detail };
    record.checks.push(c);
    checks.push(c);
    return ok;
  };
  try {
    await body({ expect, note: (line) => record.notes.push(line), nn });
  } catch (err) {
    expect('the step ran to the end', false, scrub(err instanceof Error ? err.message : String(err)));
  }
  record.ms = Date.now() - started;
  const failed = record.checks.filter((c) => !c.ok);
  const verdict = failed.length ? red('FAILED') : green('ok');
  say(`${nn}  ${action.padEnd(15)} ${title.padEnd(58)} ${seconds(record.ms).padStart(6)}  ${verdict}`);
  for (const line of record.notes) say(`      ${dim('·')} ${line}`);
  for (const c of failed) say(`      ${red('✘')} ${c.label}${c.detail ? ` — ${c.detail}` : ''}`);
}

// ------------------------------------------------------------------------------------------------ secrets
const secrets: string[] = [];
function scrub(text: string): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

// ------------------------------------------------------------------------------------------------ running actions
const summariesWritten: string[] = [];
let summariesDir = '';

interface Ran {
  main: ActionResult;
  post?: ActionResult;
}

/**
 * Runs one bundled action like the runner: the main phase, then the post phase (when action.yml has one) with the
 * state main saved. Saves the job summary, and checks that no secret leaked into anything the runner would capture.
 */
async function run(
  nn: string,
  expect: (label: string, ok: boolean, detail?: string) => boolean,
  opts: RunOptions & { hasPost?: boolean; writesNoSummary?: boolean },
): Promise<Ran> {
  const main = await runAction({ timeoutMs: 150_000, ...opts });
  let post: ActionResult | undefined;
  if (opts.hasPost) {
    post = await runAction({ ...opts, phase: 'post', state: main.state, timeoutMs: 60_000 });
    expect('post step exits 0', post.exitCode === 0, `exit ${String(post.exitCode)}: ${lastError(post)}`);
  }
  expect('not killed by the time limit', !main.timedOut);
  const name = opts.action === '.' ? 'release' : opts.action;
  const file = path.join(summariesDir, `${nn}-${name}.md`);
  const summary = [main.summary, post?.summary ?? ''].filter((s) => s.trim() !== '').join('\n\n');
  // github-deployment only records on GitHub; every other action reports in the job summary.
  if (!opts.writesNoSummary) expect('wrote a job summary', summary.trim() !== '');
  await writeFile(file, summary.trim() === '' ? `_(${name} wrote no job summary)_\n` : summary);
  summariesWritten.push(file);
  // A secret passed in must be registered with ::add-mask:: (so the runner hides it), not merely absent by luck.
  const passed = secrets.filter((s) => s && Object.values(opts.inputs ?? {}).some((v) => v.includes(s)));
  for (const s of passed) expect('masks the secret it was given (::add-mask::)', main.masked.includes(s));
  for (const result of [main, post]) {
    if (!result) continue;
    const leaked = secrets.filter((s) => s && result.allText.includes(s));
    expect(
      'no secret in logs, outputs, state or summary',
      leaked.length === 0,
      `${leaked.length} secret(s) found in the captured output`,
    );
  }
  return { main, post };
}

/** The last error annotation or stderr line: why a step failed, for the timeline. */
function lastError(r: ActionResult): string {
  const annotation = [...r.annotations].reverse().find((a) => a.level === 'error');
  const text = annotation?.message ?? r.stderr.trim().split('\n').pop() ?? '';
  const clean = scrub(text);
  return clean.length > 240 ? `${clean.slice(0, 240)}…` : clean;
}

function exitedWith(
  expect: (label: string, ok: boolean, detail?: string) => boolean,
  r: ActionResult,
  code: number,
): boolean {
  return expect(
    `exits ${code}`,
    r.exitCode === code,
    `exit ${String(r.exitCode)}${r.exitCode === 0 ? '' : `: ${lastError(r)}`}`,
  );
}

function outputIs(
  expect: (label: string, ok: boolean, detail?: string) => boolean,
  r: ActionResult,
  name: string,
  want: string,
): boolean {
  const got = r.outputs[name];
  return expect(`output ${name} = ${want}`, got === want, `got ${got === undefined ? 'nothing' : JSON.stringify(got)}`);
}

// ------------------------------------------------------------------------------------------------ infrastructure

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

interface DemoDatabase {
  url: string;
  display: string;
  pgvector: string;
  drop(): Promise<void>;
}

/**
 * A fresh database for the demo, owned by a fresh role WITH a password (so the demo proves the actions mask it),
 * pgvector installed by the admin connection. Falls back to the given credentials when roles cannot be created.
 */
async function createDemoDatabase(adminUrl: string, password: string): Promise<DemoDatabase> {
  const name = `rail_demo_${process.pid}_${randomBytes(3).toString('hex')}`;
  const template = process.env.RAIL_TEMPLATE_DB;
  let role: string | undefined;
  await withClient(adminUrl, async (c) => {
    try {
      await c.query(`CREATE ROLE ${name} LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
      role = name;
    } catch (err) {
      say(
        dim(
          `(could not create a demo role, using the given credentials: ${scrub(err instanceof Error ? err.message : String(err))})`,
        ),
      );
    }
    const owner = role ? ` OWNER ${role}` : '';
    try {
      await c.query(`CREATE DATABASE ${name}${owner}${template ? ` TEMPLATE "${template.replace(/"/g, '""')}"` : ''}`);
    } catch (err) {
      // A missing template (DATABASE_URL given without scripts/test-services.sh): a plain database will do.
      if (!template) throw err;
      await c.query(`CREATE DATABASE ${name}${owner}`);
    }
  });
  const adminDbUrl = new URL(adminUrl);
  adminDbUrl.pathname = `/${name}`;
  const pgvector = await withClient(adminDbUrl.toString(), async (c) => {
    await c.query('CREATE EXTENSION IF NOT EXISTS vector');
    const r = await c.query<{ extversion: string }>("SELECT extversion FROM pg_extension WHERE extname = 'vector'");
    return r.rows[0]?.extversion ?? '?';
  });
  const demoUrl = new URL(adminDbUrl);
  if (role) {
    demoUrl.username = role;
    demoUrl.password = password;
  }
  const display = new URL(demoUrl);
  if (display.password) display.password = '***';
  return {
    url: demoUrl.toString(),
    display: display.toString(),
    pgvector,
    drop: () =>
      withClient(adminUrl, async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        if (role) await c.query(`DROP ROLE IF EXISTS ${role}`);
      }),
  };
}

/** The example app (examples/app/src/server.ts) on Node 24, straight from TypeScript like the benches run. */
interface ExampleApp {
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

async function startExampleApp(env: Record<string, string>): Promise<ExampleApp> {
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(
    nodeBinary(),
    // Parameter properties in app.ts need transform-types (strip-only mode refuses them).
    [
      '--experimental-transform-types',
      '--no-warnings',
      '--import',
      './scripts/ts-loader.mjs',
      'examples/app/src/server.ts',
    ],
    {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  for (const stream of [child.stdout, child.stderr])
    stream?.setEncoding('utf8').on('data', (c: string) => (output += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.once('exit', () => child.kill('SIGKILL'));
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function requestJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

// ------------------------------------------------------------------------------------------------ the demo
const SHA = {
  release1: '1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a',
  release2: '2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b',
  release3: '3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c',
  release4: '4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d',
  release5: '5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e',
  release6: '6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f',
};

/** md5 over every row of documents (the columns the destructive migration touches), in id order. */
async function documentsChecksum(url: string): Promise<string> {
  return withClient(url, async (c) => {
    const r = await c.query<{ sum: string | null; n: number }>(
      "SELECT md5(string_agg(x::text, '|' ORDER BY x.id)) AS sum, count(*)::int AS n FROM (SELECT id, content, embedding, created_at FROM documents) x",
    );
    return `${r.rows[0]?.n ?? 0} rows, md5 ${(r.rows[0]?.sum ?? 'none').slice(0, 12)}…`;
  });
}

interface DeploymentEntry {
  service?: string;
  verdict?: string;
  reason?: string;
  verifiedBy?: string | null;
  rollbackVerifiedBy?: string | null;
  rollbackHealthy?: boolean | null;
  productionDeploymentId?: string | null;
}

function deploymentEntries(r: ActionResult): DeploymentEntry[] {
  try {
    const parsed: unknown = JSON.parse(r.outputs.deployments ?? '[]');
    return Array.isArray(parsed) ? (parsed as DeploymentEntry[]) : [];
  } catch {
    return [];
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    say(
      'usage: npm run demo   (or: node_modules/.bin/node --import ./scripts/ts-loader.mjs scripts/demo.ts [--out <dir>])',
    );
    return 0;
  }
  const adminUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  if (!adminUrl || !redisUrl) {
    process.stderr.write(
      'DATABASE_URL and REDIS_URL must be set: run `npm run demo` (scripts/test-services.sh starts both)\n',
    );
    return 2;
  }
  const outDir = path.resolve(values.out ?? path.join(projectRoot, '.demo'));
  summariesDir = path.join(outDir, 'summaries');
  const workspace = path.join(outDir, 'workspace');
  await rm(summariesDir, { recursive: true, force: true });
  await rm(workspace, { recursive: true, force: true });
  await mkdir(summariesDir, { recursive: true });
  await mkdir(path.join(workspace, 'migrations'), { recursive: true });

  const dbPassword = process.env.RAIL_DEMO_DB_PASSWORD || `demo-pw-${randomBytes(12).toString('hex')}`;
  secrets.push(dbPassword);
  const adminPassword = new URL(adminUrl).password;
  if (adminPassword) secrets.push(decodeURIComponent(adminPassword));

  const started = Date.now();
  const cleanups: Array<() => Promise<void>> = [];
  const cleanUp = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(
        `\ndemo interrupted (${signal}): stopping the apps and the emulator, dropping the demo database\n`,
      );
      void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }

  try {
    say(
      bold(
        'rail-actions demo — the deploy chain through the bundled actions (dist/), run as the GitHub runner runs them',
      ),
    );
    const db = await createDemoDatabase(adminUrl, dbPassword);
    cleanups.push(() => db.drop());
    const emu: RailwayEmulator = await startRailwayEmulator({ buildMs: 600, deployMs: 200, tickMs: 50 });
    cleanups.push(() => emu.close());
    const project = emu.addProject({ name: 'demo-shop' });
    const production = emu.addEnvironment(project.id, { name: 'production' });
    const api = emu.addService(project.id, { name: 'api', source: { repo: 'octo-org/octo-app' }, autoDeploy: false });
    // A background worker of the same app: no public domain, so nothing to health-check over HTTP.
    const worker = emu.addService(project.id, {
      name: 'worker',
      source: { repo: 'octo-org/octo-app' },
      domain: false,
      autoDeploy: false,
    });
    const railwayToken = emu.projectToken(project.id, production.id);
    secrets.push(railwayToken);
    const healthUrl = `${emu.serviceUrl(api.id)}/health`;
    const railway = { 'railway-token': railwayToken, 'api-url': emu.url, service: 'api', timeout: '2m' };
    /** After a rollback: `deploymentId` answers healthy with release 1's commit. */
    const verifyRelease1Serves = async (
      nn: string,
      expect: (label: string, ok: boolean, detail?: string) => boolean,
      deploymentId: string,
    ): Promise<ActionResult> => {
      const { main: r } = await run(nn, expect, {
        action: 'health-check',
        inputs: {
          url: healthUrl,
          'expect-version': deploymentId,
          'expect-json': `status=ok\ncommit=${SHA.release1}`,
          interval: '300ms',
          timeout: '30s',
        },
      });
      exitedWith(expect, r, 0);
      outputIs(expect, r, 'healthy', 'true');
      return r;
    };
    const migrationInputs = { 'database-url': db.url, 'migrations-tool': 'sql', 'migrations-dir': 'migrations' };

    say(`  PostgreSQL  ${db.display} (pgvector ${db.pgvector}; a fresh database and role with a password)`);
    say(`  Redis       ${redisUrl.replace(/(\/\/[^:/@]*):[^@/]*@/, '$1:***@')}`);
    say(
      `  Railway     emulator ${emu.url} — project demo-shop, environment production, services api and worker (no domain; project token)`,
    );
    say(
      '  Apps        Railway deployments run test/railway-emulator/app.mjs (the only program the emulator can launch;',
    );
    say(
      '              /health echoes RAILWAY_DEPLOYMENT_ID and the commit); the example app examples/app runs beside it',
    );
    say('              on the migrated database and Redis');
    const shown = path.relative(process.cwd(), summariesDir);
    say(`  Summaries   ${shown && !shown.startsWith('..') ? shown : summariesDir}/`);
    say();
    say(dim(`${'#'.padEnd(4)}${'action'.padEnd(16)}${'step'.padEnd(58)} ${'time'.padStart(6)}  result`));

    // 1. The gate on a SAFE release: a new table and a concurrently built index on it.
    for (const file of await readdir(path.join(projectRoot, 'examples/app/migrations'))) {
      if (file.endsWith('.sql'))
        await copyFile(
          path.join(projectRoot, 'examples/app/migrations', file),
          path.join(workspace, 'migrations', file),
        );
    }
    let safePlanHash = '';
    let destructivePlanHash = '';
    await step('migrate-gate', 'gate: new table + CREATE INDEX CONCURRENTLY (safe)', async ({ expect, note, nn }) => {
      const { main: r } = await run(nn, expect, { action: 'migrate-gate', inputs: migrationInputs, cwd: workspace });
      exitedWith(expect, r, 0);
      outputIs(expect, r, 'requires-approval', 'false');
      outputIs(expect, r, 'decision', 'auto-apply');
      outputIs(expect, r, 'pending-count', '2');
      safePlanHash = r.outputs['plan-hash'] ?? '';
      expect('plan-hash is a sha256', /^[0-9a-f]{64}$/.test(safePlanHash), safePlanHash);
      note(
        `decision=${r.outputs.decision ?? '?'} requires-approval=${r.outputs['requires-approval'] ?? '?'} risk=${r.outputs.risk ?? '?'} pending=${r.outputs['pending-count'] ?? '?'} plan-hash=${safePlanHash.slice(0, 12)}…`,
      );
    });

    await step('migrate', 'migrate: applies the approved plan unattended', async ({ expect, note, nn }) => {
      // Never migrate without the gate's hash: that is the point of the gate.
      if (!expect('the gate produced a plan-hash to apply', safePlanHash !== '')) return;
      const { main: r } = await run(nn, expect, {
        action: 'migrate',
        inputs: { ...migrationInputs, 'plan-hash': safePlanHash },
        cwd: workspace,
      });
      exitedWith(expect, r, 0);
      outputIs(expect, r, 'applied-count', '2');
      const index = await withClient(db.url, (c) =>
        c.query<{ valid: boolean }>(
          "SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'documents_embedding_hnsw'",
        ),
      );
      expect(
        'table documents and a VALID hnsw index exist',
        index.rows[0]?.valid === true,
        `index rows: ${JSON.stringify(index.rows)}`,
      );
      const applied = (JSON.parse(r.outputs.applied ?? '[]') as Array<{ file: string; ms: number | null }>).map(
        (a) => `${path.basename(a.file)} (${a.ms ?? '?'} ms)`,
      );
      note(`applied ${r.outputs['applied-count'] ?? '?'}: ${applied.join(', ')}`);
    });

    // 2. A DESTRUCTIVE migration: the gate holds it for a human, and nothing applies it.
    await writeFile(
      path.join(workspace, 'migrations', '003_drop_documents_created_at.sql'),
      '-- Release 2 no longer reads created_at.\nALTER TABLE documents DROP COLUMN created_at;\n',
    );
    await step('migrate-gate', 'gate: DROP COLUMN pending (destructive)', async ({ expect, note, nn }) => {
      const { main: r } = await run(nn, expect, { action: 'migrate-gate', inputs: migrationInputs, cwd: workspace });
      exitedWith(expect, r, 0);
      outputIs(expect, r, 'requires-approval', 'true');
      outputIs(expect, r, 'decision', 'requires-approval');
      outputIs(expect, r, 'risk', 'destructive');
      outputIs(expect, r, 'pending-count', '1');
      destructivePlanHash = r.outputs['plan-hash'] ?? '';
      let plan: {
        reasons?: string[];
        findings?: Array<{ rule: string; file: string; line: number; message: string }>;
      } = {};
      try {
        plan = JSON.parse(r.outputs.plan ?? '{}') as typeof plan;
      } catch {
        expect('plan output is JSON', false);
      }
      expect(
        'the plan names the DROP COLUMN finding',
        (plan.findings ?? []).some((f) => f.file.endsWith('003_drop_documents_created_at.sql')),
        JSON.stringify(plan.findings ?? []),
      );
      for (const reason of plan.reasons ?? []) note(`reason: ${reason}`);
      for (const f of plan.findings ?? [])
        note(`finding: ${f.rule} at ${path.basename(f.file)}:${f.line} — ${f.message}`);
      note(
        'HELD: requires-approval=true, so the workflow stops at the approval gate; the demo plays the reviewer and does not approve',
      );
    });

    await step('migrate', 'migrate with the earlier approval: refused', async ({ expect, note, nn }) => {
      // Someone re-uses the first approval for the new pending set: the plan-hash no longer matches.
      if (!expect('the first gate produced a plan-hash', safePlanHash !== '')) return;
      const { main: r } = await run(nn, expect, {
        action: 'migrate',
        inputs: { ...migrationInputs, 'plan-hash': safePlanHash },
        cwd: workspace,
      });
      exitedWith(expect, r, 1);
      const column = await withClient(db.url, (c) =>
        c.query(
          "SELECT 1 FROM information_schema.columns WHERE table_name = 'documents' AND column_name = 'created_at'",
        ),
      );
      expect('column documents.created_at still exists (nothing applied)', column.rowCount === 1);
      note(`refused: ${lastError(r)}`);
    });

    // The example app itself on the migrated schema: pgvector table, Redis counter, /health proved by the action.
    await step('health-check', 'example app on the migrated database + Redis', async ({ expect, note, nn }) => {
      const app = await startExampleApp({
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        APP_VERSION: SHA.release1,
        RAILWAY_DEPLOYMENT_ID: 'local-example',
      });
      cleanups.push(() => app.stop());
      try {
        const { main: r } = await run(nn, expect, {
          action: 'health-check',
          inputs: {
            url: `${app.url}/health`,
            'expect-version': SHA.release1,
            'expect-json': 'status=ok\nchecks.db=ok\nchecks.redis=ok',
            interval: '200ms',
            timeout: '20s',
            'consecutive-successes': '2',
          },
        });
        exitedWith(expect, r, 0);
        outputIs(expect, r, 'healthy', 'true');
        const vectors: Array<[string, number[]]> = [
          ['cat', [1, 0, 0]],
          ['dog', [0.9, 0.1, 0]],
          ['car', [0, 0, 1]],
        ];
        for (const [content, embedding] of vectors) {
          const created = await requestJson(`${app.url}/documents`, {
            method: 'POST',
            body: JSON.stringify({ content, embedding }),
          });
          expect(`POST /documents ${content} → 201`, created.status === 201, `got ${created.status}`);
        }
        const similar = await requestJson(
          `${app.url}/documents/similar?embedding=${encodeURIComponent('[1,0,0]')}&limit=2`,
        );
        const nearest = Array.isArray(similar.body)
          ? (similar.body as Array<{ content: string }>).map((d) => d.content)
          : [];
        expect(
          'nearest documents to [1,0,0] are cat, dog (pgvector)',
          nearest.join(',') === 'cat,dog',
          JSON.stringify(similar.body),
        );
        const counterName = `demo_${process.pid}`;
        const counter = await requestJson(`${app.url}/counters/${counterName}`, { method: 'POST' });
        expect(
          'POST /counters → 1 (Redis)',
          (counter.body as { value?: number }).value === 1,
          JSON.stringify(counter.body),
        );
        note(
          `healthy=${r.outputs.healthy ?? '?'} after ${r.outputs.attempts ?? '?'} attempts; nearest to [1,0,0]: ${nearest.join(', ') || '?'}; ` +
            `Redis counter ${String((counter.body as { value?: number }).value ?? '?')}`,
        );
      } finally {
        await app.stop();
        expect('example app printed no secret', !secrets.some((s) => s && app.output().includes(s)));
      }
    });

    // 3. Release 1: deploy, then prove the NEW deployment answers.
    let release1 = '';
    await step('railway-deploy', 'deploy release 1', async ({ expect, note, nn }) => {
      const { main: r } = await run(nn, expect, {
        action: 'railway-deploy',
        inputs: { ...railway, 'commit-sha': SHA.release1 },
        env: { GITHUB_SHA: SHA.release1 },
        hasPost: true,
      });
      exitedWith(expect, r, 0);
      outputIs(expect, r, 'status', 'SUCCESS');
      release1 = r.outputs['deployment-id'] ?? '';
      expect(
        'Railway serves the new deployment',
        release1 !== '' && emu.activeDeployment(api.id)?.id === release1,
        `active ${emu.activeDeployment(api.id)?.id ?? 'none'}`,
      );
      note(`deployment-id=${release1} status=${r.outputs.status ?? '?'} commit=${SHA.release1.slice(0, 7)}`);
    });

    await step(
      'health-check',
      'verify release 1 (expect-version = its deployment id)',
      async ({ expect, note, nn }) => {
        if (!expect('release 1 has a deployment id', release1 !== '')) return;
        const { main: r } = await run(nn, expect, {
          action: 'health-check',
          inputs: {
            url: healthUrl,
            'expect-version': release1,
            'expect-json': 'status=ok',
            interval: '300ms',
            timeout: '30s',
          },
        });
        exitedWith(expect, r, 0);
        outputIs(expect, r, 'healthy', 'true');
        note(
          `healthy=${r.outputs.healthy ?? '?'} after ${r.outputs.attempts ?? '?'} attempts, ${r.outputs['time-to-healthy-ms'] ?? '?'} ms; p95 ${r.outputs['p95-latency-ms'] ?? '?'} ms`,
        );
      },
    );

    // 4. A BAD release 2: Railway reports SUCCESS (no Railway healthcheck configured), but /health answers 503.
    emu.scriptDeployment(api.id, { app: { healthy: false } });
    let release2 = '';
    let release2Deployments = '';
    await step('railway-deploy', 'deploy release 2 (bad: /health answers 503)', async ({ expect, note, nn }) => {
      const { main: r } = await run(nn, expect, {
        action: 'railway-deploy',
        inputs: { ...railway, 'commit-sha': SHA.release2 },
        env: { GITHUB_SHA: SHA.release2 },
        hasPost: true,
      });
      exitedWith(expect, r, 0);
      outputIs(expect, r, 'status', 'SUCCESS');
      outputIs(expect, r, 'previous-deployment-id', release1);
      release2 = r.outputs['deployment-id'] ?? '';
      release2Deployments = r.outputs.deployments ?? '';
      const recorded = (JSON.parse(release2Deployments || '[]') as Array<{ rollbackTargetId?: string }>)[0];
      expect('rollback target recorded = release 1', recorded?.rollbackTargetId === release1, JSON.stringify(recorded));
      note(
        `deployment-id=${release2} status=${r.outputs.status ?? '?'} (Railway thinks it is fine) rollback target=${recorded?.rollbackTargetId ?? '?'}`,
      );
    });

    await step('health-check', 'verify release 2 → not healthy', async ({ expect, note, nn }) => {
      if (!expect('release 2 has a deployment id', release2 !== '')) return;
      const { main: r } = await run(nn, expect, {
        action: 'health-check',
        inputs: { url: healthUrl, 'expect-version': release2, interval: '300ms', 'max-interval': '1s', timeout: '6s' },
      });
      exitedWith(expect, r, 1);
      outputIs(expect, r, 'healthy', 'false');
      outputIs(expect, r, 'last-status', '503');
      note(
        `healthy=${r.outputs.healthy ?? '?'} after ${r.outputs.attempts ?? '?'} attempts: ${scrub(r.outputs.reason ?? '')}`,
      );
    });

    let rollbackDeployment = '';
    await step('rollback', 'roll back to release 1 (recorded target), verified', async ({ expect, note, nn }) => {
      if (!expect("railway-deploy's deployments output of release 2 is there", release2Deployments !== '')) return;
      const { main: r } = await run(nn, expect, {
        action: 'rollback',
        inputs: {
          ...railway,
          deployments: release2Deployments,
          'health-url': healthUrl,
          'consecutive-successes': '2',
          'health-interval': '300ms',
          'health-timeout': '30s',
          'verify-window': '2s',
        },
      });
      exitedWith(expect, r, 0);
      outputIs(expect, r, 'rolled-back-to', release1);
      outputIs(expect, r, 'previous-deployment-id', release2);
      outputIs(expect, r, 'healthy', 'true');
      rollbackDeployment = r.outputs['deployment-id'] ?? '';
      expect(
        'Railway serves the rollback deployment',
        rollbackDeployment !== '' && emu.activeDeployment(api.id)?.id === rollbackDeployment,
      );
      note(
        `rolled-back-to=${r.outputs['rolled-back-to'] ?? '?'} via ${r.outputs.method ?? '?'} → new deployment ${rollbackDeployment}; healthy=${r.outputs.healthy ?? '?'}`,
      );
    });

    await step(
      'health-check',
      'verify release 1 serves again (its commit, rollback id)',
      async ({ expect, note, nn }) => {
        if (!expect('the rollback created a deployment', rollbackDeployment !== '')) return;
        const r = await verifyRelease1Serves(nn, expect, rollbackDeployment);
        note(
          `healthy=${r.outputs.healthy ?? '?'}: deployment ${rollbackDeployment} answers with release 1's commit ${SHA.release1.slice(0, 7)}`,
        );
      },
    );

    // 5. The root action does deploy → verify → roll back in one step: release 3 crashes after going live.
    emu.scriptDeployment(api.id, { crashAfterSuccessMs: 1500 });
    await step('.', 'release 3 in one step: crashes after SUCCESS → rolled back', async ({ expect, note, nn }) => {
      const before = emu.activeDeployment(api.id)?.id ?? '';
      const { main: r } = await run(nn, expect, {
        action: '.',
        inputs: {
          ...railway,
          'commit-sha': SHA.release3,
          'health-url': healthUrl,
          'consecutive-successes': '2',
          'health-interval': '300ms',
          'health-timeout': '20s',
          'verify-window': '4s',
        },
        env: { GITHUB_SHA: SHA.release3 },
        hasPost: true,
      });
      exitedWith(expect, r, 1);
      outputIs(expect, r, 'result', 'rolled-back');
      outputIs(expect, r, 'rolled-back', 'true');
      outputIs(expect, r, 'previous-deployment-id', before);
      const now = r.outputs['production-deployment-id'] ?? '';
      const restored = emu.deployment(now);
      expect(
        "production runs a rollback of the previous deployment (release 1's commit)",
        now !== '' &&
          emu.activeDeployment(api.id)?.id === now &&
          restored?.kind === 'rollback' &&
          restored.commitSha === SHA.release1,
        JSON.stringify({
          now,
          active: emu.activeDeployment(api.id)?.id,
          kind: restored?.kind,
          commit: restored?.commitSha,
        }),
      );
      note(
        `result=${r.outputs.result ?? '?'} new=${r.outputs['deployment-id'] ?? '?'} status=${r.outputs.status ?? '?'} → production ${now}`,
      );
    });

    await step('health-check', 'verify after the one-step rollback', async ({ expect, note, nn }) => {
      const now = emu.activeDeployment(api.id)?.id ?? '';
      if (!expect('a deployment is active', now !== '')) return;
      const r = await verifyRelease1Serves(nn, expect, now);
      note(`healthy=${r.outputs.healthy ?? '?'}: ${now} answers with commit ${SHA.release1.slice(0, 7)}`);
    });
    // 6. Two services as one release through the root action: api (HTTP health) + worker (no domain: Railway's
    //    status must stay SUCCESS for the window). The worker is listed first on purpose.
    const twoServices = {
      ...railway,
      service: 'worker\napi',
      'consecutive-successes': '2',
      'health-interval': '300ms',
      'health-timeout': '20s',
    };
    /** Per service in `service` order: what the emulator runs now. */
    const runningNow = () => [worker.id, api.id].map((id) => emu.activeDeployment(id)?.id ?? '').join('\n');
    let release4: Record<string, string> = {};
    await step('.', 'release 4: api by HTTP, worker by Railway status', async ({ expect, note, nn }) => {
      const { main: r } = await run(nn, expect, {
        action: '.',
        inputs: { ...twoServices, 'commit-sha': SHA.release4, 'health-url': `api=${healthUrl}`, 'verify-window': '2s' },
        env: { GITHUB_SHA: SHA.release4 },
        hasPost: true,
      });
      exitedWith(expect, r, 0);
      outputIs(expect, r, 'result', 'deployed');
      outputIs(expect, r, 'healthy', 'true');
      const now = r.outputs['production-deployment-id'] ?? '';
      expect(
        'production-deployment-id = what Railway runs for worker, api',
        now !== '' && now === runningNow(),
        JSON.stringify({ now, running: runningNow() }),
      );
      const entries = deploymentEntries(r);
      const byName = (n: string) => entries.find((e) => e.service === n);
      expect(
        'api verdict = verified (HTTP)',
        byName('api')?.verdict === 'verified' && byName('api')?.verifiedBy === 'http',
        JSON.stringify(byName('api')),
      );
      expect(
        'worker verdict = verified-by-status',
        byName('worker')?.verdict === 'verified-by-status' && byName('worker')?.verifiedBy === 'railway-status',
        JSON.stringify(byName('worker')),
      );
      release4 = { worker: emu.activeDeployment(worker.id)?.id ?? '', api: emu.activeDeployment(api.id)?.id ?? '' };
      note(
        `result=${r.outputs.result ?? '?'} ${entries.map((e) => `${e.service ?? '?'}=${e.verdict ?? '?'}`).join(' ')} → production ${now.split('\n').join(', ')}`,
      );
    });

    // 7. Release 5: the worker goes live, then crashes inside the window → both services rolled back to release 4,
    //    each restored service verified by its own rule.
    emu.scriptDeployment(worker.id, { crashAfterSuccessMs: 1500 });
    await step('.', 'release 5: worker crashes → both rolled back, verified', async ({ expect, note, nn }) => {
      if (!expect('release 4 went live for both services', release4.worker !== '' && release4.api !== '')) return;
      const { main: r } = await run(nn, expect, {
        action: '.',
        inputs: {
          ...twoServices,
          'commit-sha': SHA.release5,
          'health-url': `api=${healthUrl}\nworker=none`,
          'verify-window': '4s',
        },
        env: { GITHUB_SHA: SHA.release5 },
        hasPost: true,
      });
      exitedWith(expect, r, 1);
      outputIs(expect, r, 'result', 'rolled-back');
      outputIs(expect, r, 'rolled-back', 'true');
      outputIs(expect, r, 'status', 'CRASHED');
      outputIs(expect, r, 'previous-deployment-id', `${release4.worker}\n${release4.api}`);
      const now = r.outputs['production-deployment-id'] ?? '';
      expect(
        'production-deployment-id = what Railway runs for worker, api',
        now !== '' && now === runningNow(),
        JSON.stringify({ now, running: runningNow() }),
      );
      for (const [name, id, was] of [
        ['worker', worker.id, release4.worker],
        ['api', api.id, release4.api],
      ] as const) {
        const active = emu.activeDeployment(id);
        expect(
          `${name} runs a rollback of release 4 (commit ${SHA.release4.slice(0, 7)})`,
          active?.kind === 'rollback' && active.sourceDeploymentId === was && active.commitSha === SHA.release4,
          JSON.stringify({
            id: active?.id,
            kind: active?.kind,
            source: active?.sourceDeploymentId,
            commit: active?.commitSha,
          }),
        );
      }
      const entries = deploymentEntries(r);
      const byName = (n: string) => entries.find((e) => e.service === n);
      expect(
        'worker: rolled-back, its crash named, restored version verified by Railway status',
        byName('worker')?.verdict === 'rolled-back' &&
          /CRASHED/.test(byName('worker')?.reason ?? '') &&
          byName('worker')?.rollbackVerifiedBy === 'railway-status' &&
          byName('worker')?.rollbackHealthy === true,
        JSON.stringify(byName('worker')),
      );
      expect(
        'api: rolled-back with the release, restored version verified over HTTP',
        byName('api')?.verdict === 'rolled-back' &&
          byName('api')?.rollbackVerifiedBy === 'http' &&
          byName('api')?.rollbackHealthy === true,
        JSON.stringify(byName('api')),
      );
      const health = await requestJson(healthUrl);
      const body = health.body as { deploymentId?: string; commit?: string };
      expect(
        'api /health answers from the restored deployment with release 4',
        body.deploymentId === emu.activeDeployment(api.id)?.id && body.commit === SHA.release4,
        JSON.stringify(health.body),
      );
      note(
        `result=${r.outputs.result ?? '?'} ${entries.map((e) => `${e.service ?? '?'}=${e.verdict ?? '?'} (restored, verified by ${e.rollbackVerifiedBy ?? '—'})`).join(' ')} → production ${now.split('\n').join(', ')}`,
      );
    });

    // 8. Staging, then production: deploy.yml's release job records a GitHub deployment per environment; the
    //    promotion guard lets production go only once staging verified this very commit (GitHub REST fake).
    const staging = emu.addEnvironment(project.id, { name: 'staging' });
    const stagingToken = emu.projectToken(project.id, staging.id);
    secrets.push(stagingToken);
    const githubToken = `ghs_demo${randomBytes(12).toString('hex')}`;
    secrets.push(githubToken);
    const github = await startGitHubApi({ token: githubToken, owner: 'octo-org', repo: 'octo-app' });
    cleanups.push(() => github.close());
    const githubEnv = { GITHUB_API_URL: github.url, GITHUB_REPOSITORY: 'octo-org/octo-app', GITHUB_SHA: SHA.release6 };
    const stagingHealth = `${emu.serviceUrl(api.id, staging.id)}/health`;
    const guard = { token: githubToken, environment: 'staging', sha: SHA.release6 };
    await step('promotion-guard', 'production before staging verified it: refused', async ({ expect, note, nn }) => {
      const { main: r } = await run(nn, expect, { action: 'promotion-guard', inputs: guard, env: githubEnv });
      exitedWith(expect, r, 1);
      outputIs(expect, r, 'verified', 'false');
      note(`refused: ${scrub(r.outputs.reason ?? lastError(r))}`);
    });

    let stagingDeployment = '';
    await step('.', 'release 6 to staging, recorded as a GitHub deployment', async ({ expect, note, nn }) => {
      // Before and after the release, as deploy.yml's release job does (own summary files: 17a-…, 17c-…).
      const record = (suffix: string, inputs: Record<string, string>) =>
        run(`${nn}${suffix}`, expect, {
          action: 'github-deployment',
          inputs: { token: githubToken, ...inputs },
          env: githubEnv,
          writesNoSummary: true,
        });
      const { main: started } = await record('a', {
        status: 'in_progress',
        environment: 'staging',
        description: `Deploying ${SHA.release6} to Railway`,
      });
      exitedWith(expect, started, 0);
      const { main: r } = await run(nn, expect, {
        action: '.',
        inputs: {
          ...railway,
          'railway-token': stagingToken,
          'commit-sha': SHA.release6,
          'health-url': stagingHealth,
          'consecutive-successes': '2',
          'health-interval': '300ms',
          'health-timeout': '20s',
          'verify-window': '1s',
        },
        env: { GITHUB_SHA: SHA.release6 },
        hasPost: true,
      });
      exitedWith(expect, r, 0);
      outputIs(expect, r, 'result', 'deployed');
      const { main: done } = await record('c', {
        status: r.outputs.result === 'deployed' ? 'success' : 'failure',
        'deployment-id': started.outputs['deployment-id'] ?? '',
        'environment-url': new URL(stagingHealth).origin,
        description: `Release ${r.outputs.result ?? 'cancelled'} - the run summary names what production runs`,
      });
      exitedWith(expect, done, 0);
      stagingDeployment = started.outputs['deployment-id'] ?? '';
      const active = emu.activeDeployment(api.id, staging.id);
      expect(
        'staging runs release 6',
        active?.commitSha === SHA.release6,
        JSON.stringify({ id: active?.id, commit: active?.commitSha }),
      );
      note(
        `result=${r.outputs.result ?? '?'} in staging (${active?.id ?? '?'}); GitHub deployment ${stagingDeployment} → ${github.deployments.at(-1)?.statuses.at(-1)?.state ?? '?'}`,
      );
    });

    await step(
      'promotion-guard',
      'production after staging verified release 6: allowed',
      async ({ expect, note, nn }) => {
        const { main: r } = await run(nn, expect, { action: 'promotion-guard', inputs: guard, env: githubEnv });
        exitedWith(expect, r, 0);
        outputIs(expect, r, 'verified', 'true');
        outputIs(expect, r, 'deployment-id', stagingDeployment);
        note(`verified=${r.outputs.verified ?? '?'}: ${scrub(r.outputs.reason ?? '')}`);
      },
    );

    await step('.', 'release 6 to production, verified', async ({ expect, note, nn }) => {
      const { main: r } = await run(nn, expect, {
        action: '.',
        inputs: {
          ...railway,
          'commit-sha': SHA.release6,
          'health-url': healthUrl,
          'consecutive-successes': '2',
          'health-interval': '300ms',
          'health-timeout': '20s',
          'verify-window': '1s',
        },
        env: { GITHUB_SHA: SHA.release6 },
        hasPost: true,
      });
      exitedWith(expect, r, 0);
      outputIs(expect, r, 'result', 'deployed');
      const active = emu.activeDeployment(api.id);
      expect(
        'production runs release 6',
        active?.commitSha === SHA.release6,
        JSON.stringify({ id: active?.id, commit: active?.commitSha }),
      );
      note(
        `result=${r.outputs.result ?? '?'} → production ${r.outputs['production-deployment-id'] ?? '?'} (commit ${SHA.release6.slice(0, 7)}), staging still ${emu.activeDeployment(api.id, staging.id)?.id ?? '?'}`,
      );
    });

    // 9. The destructive migration held at step 3, now approved: migrate backs up what it destroys first (inside its
    //    transaction, in the demo database's own rail_actions_backup schema), and the restore action undoes it.
    let documentsBefore = '';
    let backupId = '';
    await step('migrate', 'approved DROP COLUMN applied, its data backed up first', async ({ expect, note, nn }) => {
      if (!expect('the destructive gate produced a plan-hash', destructivePlanHash !== '')) return;
      documentsBefore = await documentsChecksum(db.url);
      const { main: r } = await run(nn, expect, {
        action: 'migrate',
        inputs: { ...migrationInputs, 'plan-hash': destructivePlanHash },
        cwd: workspace,
      });
      exitedWith(expect, r, 0);
      outputIs(expect, r, 'applied-count', '1');
      backupId = r.outputs['backup-id'] ?? '';
      expect('backup-id output names the backup', /^b\d{8}t\d{6}_[0-9a-f]{4}$/.test(backupId), backupId);
      const column = await withClient(db.url, (c) =>
        c.query(
          "SELECT 1 FROM information_schema.columns WHERE table_name = 'documents' AND column_name = 'created_at'",
        ),
      );
      expect('documents.created_at is dropped', column.rowCount === 0);
      note(
        `applied 003_drop_documents_created_at.sql; backup ${backupId} (${r.outputs['backup-size'] ?? '?'} bytes) of ${documentsBefore.split(',')[0] ?? '?'}`,
      );
    });

    await step('restore', 'restore action undoes the DROP COLUMN from the backup', async ({ expect, note, nn }) => {
      if (!expect('migrate reported a backup-id', backupId !== '')) return;
      const { main: r } = await run(nn, expect, {
        action: 'restore',
        inputs: { 'database-url': db.url, 'backup-id': backupId },
      });
      exitedWith(expect, r, 0);
      outputIs(expect, r, 'result', 'restored');
      const after = await documentsChecksum(db.url);
      expect(
        'documents (id, content, embedding, created_at) are exactly as before the migration',
        after === documentsBefore,
        `${documentsBefore} before, ${after} after`,
      );
      note(
        `restored ${r.outputs.rows ?? '?'} row(s) of documents.created_at; before ${documentsBefore}, after ${after}`,
      );
    });
  } finally {
    await cleanUp();
  }

  // Nothing this script printed may contain a secret either.
  const selfLeak = secrets.some((s) => s && printed.join('\n').includes(s));
  checks.push({ step: 'demo', label: 'the demo output contains no secret', ok: !selfLeak, detail: '' });

  const failed = checks.filter((c) => !c.ok);
  say();
  say(`Job summaries: ${summariesWritten.map((f) => path.basename(f)).join(', ')}`);
  say(`              in ${summariesDir}`);
  say(
    `Total ${seconds(Date.now() - started)}; ${timeline.length} steps; ${checks.length - failed.length}/${checks.length} expectations held.`,
  );
  if (failed.length) {
    say(red(bold('DEMO FAILED — these expectations did not hold:')));
    for (const c of failed) say(`  ${red('✘')} [${c.step}] ${c.label}${c.detail ? ` — ${c.detail}` : ''}`);
    return 1;
  }
  say(green(bold('DEMO PASSED — every expectation held.')));
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Setup failures (no database, no emulator) are reported in one line; the timeline covers everything after.
    process.stderr.write(`demo crashed: ${scrub(err instanceof Error ? err.message : String(err))}\n`);
    process.exitCode = 1;
  },
);
