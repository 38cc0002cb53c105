// `npm run demo` end to end: scripts/demo.ts as a child process (Node 24, TypeScript run directly) against this test
// run's real PostgreSQL + pgvector and Redis, the Railway emulator and the bundled actions.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeBinary, projectRoot } from './harness/index.js';
import { requireServices } from './helpers/db.js';

const DB_PASSWORD = `demo-test-pw-${process.pid}-${Date.now().toString(36)}`;

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemo(args: string[], env: Record<string, string | undefined>): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      nodeBinary(),
      [
        '--experimental-transform-types',
        '--disable-warning=ExperimentalWarning',
        '--import',
        './scripts/ts-loader.mjs',
        'scripts/demo.ts',
        ...args,
      ],
      {
        cwd: projectRoot,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The timeline line of step `nn`: number, action, title, duration, verdict. */
function stepLine(stdout: string, nn: string, action: string): string {
  const escaped = action.replace(/[.]/g, '\\.');
  const m = new RegExp(`^${nn}  ${escaped} +.+ +\\d+\\.\\ds  (ok|FAILED)$`, 'm').exec(stdout);
  return m?.[0] ?? '';
}

/** A loopback port nothing listens on: connections are refused at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Both full runs start together (one healthy, one whose Redis is unreachable) so the file takes one demo's time.
let out: string;
let run: DemoRun;
let brokenOut: string;
let broken: DemoRun;

beforeAll(async () => {
  const { databaseUrl, redisUrl } = requireServices();
  out = await mkdtemp(path.join(tmpdir(), 'rail-demo-test-'));
  brokenOut = await mkdtemp(path.join(tmpdir(), 'rail-demo-test-'));
  const env = {
    DATABASE_URL: databaseUrl,
    RAIL_TEMPLATE_DB: process.env.RAIL_TEMPLATE_DB,
    RAIL_DEMO_DB_PASSWORD: DB_PASSWORD,
  };
  [run, broken] = await Promise.all([
    runDemo(['--out', out], { ...env, REDIS_URL: redisUrl }),
    runDemo(['--out', brokenOut], { ...env, REDIS_URL: `redis://127.0.0.1:${await closedPort()}` }),
  ]);
}, 300_000);

afterAll(async () => {
  for (const dir of [out, brokenOut]) if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm run demo (scripts/demo.ts)', () => {
  it('exits 0 with every expectation held', () => {
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/^Total \d+\.\ds; 21 steps; (\d+)\/\1 expectations held\.$/m);
    expect(run.stdout).toContain('DEMO PASSED — every expectation held.');
    expect(run.stdout).not.toContain('FAILED');
  });

  it('prints the timeline in workflow order, with the key outputs of each step', () => {
    const steps: Array<[string, string, RegExp]> = [
      ['01', 'migrate-gate', /decision=auto-apply requires-approval=false risk=\w+ pending=2 plan-hash=[0-9a-f]{12}…/],
      ['02', 'migrate', /applied 2: 001_documents\.sql \(\d+ ms\), 002_documents_embedding_index\.sql \(\d+ ms\)/],
      ['03', 'migrate-gate', /HELD: requires-approval=true/],
      ['04', 'migrate', /refused: .+/],
      ['05', 'health-check', /healthy=true after \d+ attempts; nearest to \[1,0,0\]: cat, dog; Redis counter 1/],
      ['06', 'railway-deploy', /deployment-id=\S+ status=SUCCESS commit=1a1a1a1/],
      ['07', 'health-check', /healthy=true after \d+ attempts/],
      ['08', 'railway-deploy', /status=SUCCESS \(Railway thinks it is fine\) rollback target=\S+/],
      ['09', 'health-check', /healthy=false after \d+ attempts: .*503/],
      ['10', 'rollback', /rolled-back-to=\S+ via rollback → new deployment \S+; healthy=true/],
      ['11', 'health-check', /answers with release 1's commit 1a1a1a1/],
      ['12', '.', /result=rolled-back .* → production \S+/],
      ['13', 'health-check', /answers with commit 1a1a1a1/],
      // Two services, the worker listed first: each verified by its own rule.
      ['14', '.', /result=deployed worker=verified-by-status api=verified → production \S+, \S+/],
      // The worker crashes after going live: both rolled back, each restored service verified by its own rule.
      [
        '15',
        '.',
        /result=rolled-back worker=rolled-back \(restored, verified by railway-status\) api=rolled-back \(restored, verified by http\) → production \S+, \S+/,
      ],
      // Staging, then production: the promotion guard refuses production until staging verified the commit.
      ['16', 'promotion-guard', /refused: no deployment of 6f6f6f6 in staging recorded by rail-actions deploy\.yml/],
      ['17', '.', /result=deployed in staging \(\S+\); GitHub deployment \d+ → success/],
      ['18', 'promotion-guard', /verified=true: deployment \d+ of 6f6f6f6 in staging: success at \S+/],
      ['19', '.', /result=deployed → production \S+ \(commit 6f6f6f6\), staging still \S+/],
      // The destructive migration, approved: backed up first, then undone from the backup with equal checksums.
      [
        '20',
        'migrate',
        /applied 003_drop_documents_created_at\.sql; backup b\d{8}t\d{6}_[0-9a-f]{4} \(\d+ bytes\) of 3 rows/,
      ],
      [
        '21',
        'restore',
        /restored 3 row\(s\) of documents\.created_at; before 3 rows, md5 ([0-9a-f]{12})…, after 3 rows, md5 \1…/,
      ],
    ];
    let position = -1;
    for (const [nn, action, detail] of steps) {
      const line = stepLine(run.stdout, nn, action);
      expect(line, `step ${nn} ${action} in:\n${run.stdout}`).toMatch(/ ok$/);
      const at = run.stdout.indexOf(line);
      expect(at).toBeGreaterThan(position);
      position = at;
      expect(run.stdout).toMatch(detail);
    }
    // The destructive plan is shown, not just its verdict.
    expect(run.stdout).toMatch(/finding: \S+ at 003_drop_documents_created_at\.sql:\d+ — /);
    // Which program plays the app behind the emulated deployments is said out loud.
    expect(run.stdout).toContain('Railway deployments run test/railway-emulator/app.mjs');
  });

  it('writes every job summary to the summaries folder', async () => {
    const files = (await readdir(path.join(out, 'summaries'))).sort();
    expect(files).toEqual([
      '01-migrate-gate.md',
      '02-migrate.md',
      '03-migrate-gate.md',
      '04-migrate.md',
      '05-health-check.md',
      '06-railway-deploy.md',
      '07-health-check.md',
      '08-railway-deploy.md',
      '09-health-check.md',
      '10-rollback.md',
      '11-health-check.md',
      '12-release.md',
      '13-health-check.md',
      '14-release.md',
      '15-release.md',
      '16-promotion-guard.md',
      '17-release.md',
      '17a-github-deployment.md',
      '17c-github-deployment.md',
      '18-promotion-guard.md',
      '19-release.md',
      '20-migrate.md',
      '21-restore.md',
    ]);
    const read = (f: string) => readFile(path.join(out, 'summaries', f), 'utf8');
    expect(await read('01-migrate-gate.md')).toContain('Safe to apply unattended');
    expect(await read('03-migrate-gate.md')).toContain('Approval required');
    expect(await read('03-migrate-gate.md')).toContain('003_drop_documents_created_at.sql');
    expect(await read('10-rollback.md')).toMatch(/Railway rollback/);
    expect(await read('12-release.md')).toMatch(/Railway release/);
    expect(await read('14-release.md')).toMatch(/\| worker \|.*\*\*verified-by-status\*\*/);
    const rolledBack = await read('15-release.md');
    expect(rolledBack).toMatch(
      /\*\*worker\*\* — \*\*rolled-back\*\*: .*Railway reported CRASHED during the 4\.0s verification window/,
    );
    expect(rolledBack).toMatch(
      /\*\*worker\*\* — .*, verified by Railway status: Railway reported SUCCESS with no instance crashed or restarting/,
    );
    expect(rolledBack).toMatch(
      /\*\*api\*\* — \*\*rolled-back\*\*: new deployment \S+ was verified, rolled back with the release; .*, verified by HTTP: healthy/,
    );
    expect(run.stdout).toContain(`in ${path.join(out, 'summaries')}`);
    expect(await read('16-promotion-guard.md')).toContain('⛔ Not verified');
    expect(await read('18-promotion-guard.md')).toContain('✅ Verified');
    const migrated = await read('20-migrate.md');
    expect(migrated).toMatch(/<h3>Backup <code>(b\d{8}t\d{6}_[0-9a-f]{4})<\/code><\/h3>/);
    expect(migrated).toMatch(/column public\.documents\.created_at, dropped/);
    expect(migrated).toMatch(
      /rail-actions restore --database-url &quot;\$DATABASE_URL&quot; --backup-id b\d{8}t\d{6}_[0-9a-f]{4}/,
    );
    expect(await read('21-restore.md')).toMatch(/Restore: ✅ Restored backup b\d{8}t\d{6}_[0-9a-f]{4}/);
  });

  it('never prints the database password or writes it to a summary', async () => {
    expect(run.stdout + run.stderr).not.toContain(DB_PASSWORD);
    for (const f of await readdir(path.join(out, 'summaries'))) {
      expect(await readFile(path.join(out, 'summaries', f), 'utf8'), f).not.toContain(DB_PASSWORD);
    }
    expect(run.stdout).toMatch(/PostgreSQL {2}postgresql:\/\/rail_demo_\w+:\*\*\*@/);
  });

  it('drops its database and role, and keeps the workspace under --out for inspection', async () => {
    const { databaseUrl } = requireServices();
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const name = /rail_demo_\w+/.exec(run.stdout)?.[0] ?? '';
      expect(name).not.toBe('');
      const r = await client.query(
        'SELECT 1 FROM pg_database WHERE datname = $1 UNION ALL SELECT 1 FROM pg_roles WHERE rolname = $1',
        [name],
      );
      expect(r.rowCount).toBe(0);
    } finally {
      await client.end();
    }
    expect(existsSync(path.join(out, 'workspace', 'migrations', '003_drop_documents_created_at.sql'))).toBe(true);
  });
});

describe('npm run demo: failures', () => {
  it('exits 1 and names the expectation that did not hold, while the other steps still run', () => {
    expect(broken.code, broken.stdout + broken.stderr).toBe(1);
    // The example app cannot reach Redis: its health check (and the Redis counter) fail, nothing else does.
    expect(stepLine(broken.stdout, '05', 'health-check')).toMatch(/ FAILED$/);
    for (const [nn, action] of [
      ['01', 'migrate-gate'],
      ['06', 'railway-deploy'],
      ['10', 'rollback'],
      ['13', 'health-check'],
    ]) {
      expect(stepLine(broken.stdout, nn ?? '', action ?? ''), `${nn} ${action}`).toMatch(/ ok$/);
    }
    expect(broken.stdout).toContain('DEMO FAILED — these expectations did not hold:');
    expect(broken.stdout).toMatch(/^ {2}✘ \[05 health-check\] output healthy = true — got "false"$/m);
    expect(broken.stdout).not.toMatch(/^ {2}✘ \[(0[1-46-9]|[12]\d)/m);
    expect(broken.stdout).toMatch(/^Total \d+\.\ds; 21 steps; \d+\/\d+ expectations held\.$/m);
    expect(broken.stdout + broken.stderr).not.toContain(DB_PASSWORD);
  });

  it('exits non-zero with one clear message when PostgreSQL cannot be reached', async () => {
    const port = await closedPort();
    const out = await mkdtemp(path.join(tmpdir(), 'rail-demo-test-'));
    try {
      const r = await runDemo(['--out', out], {
        DATABASE_URL: `postgresql://postgres:${DB_PASSWORD}@127.0.0.1:${port}/postgres`,
        REDIS_URL: 'redis://127.0.0.1:1',
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/demo crashed: .*ECONNREFUSED/);
      expect(r.stdout + r.stderr).not.toContain(DB_PASSWORD);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 60_000);

  it('says how to start the services when DATABASE_URL / REDIS_URL are missing', async () => {
    const r = await runDemo([], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DATABASE_URL and REDIS_URL must be set: run `npm run demo`');
  }, 60_000);
});
