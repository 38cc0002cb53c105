// scripts/test-services.sh itself: it keeps the command's exit code, exports working URLs, and always stops its
// servers and removes their temp dirs — also when the run is cancelled with SIGTERM.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { projectRoot } from './harness/index.js';
import { requireServices } from './helpers/db.js';

const script = path.join(projectRoot, 'scripts/test-services.sh');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runScript(
  args: string[],
  env: Record<string, string>,
  onStdout?: (text: string, kill: () => void) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      onStdout?.(stdout, () => child.kill('SIGTERM'));
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME']) if (process.env[k]) env[k] = process.env[k];
  return env;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const canStartOwn =
  process.getuid?.() === 0 &&
  existsSync('/usr/lib/postgresql/15/bin/initdb') &&
  existsSync('/usr/share/postgresql/15/extension/vector.control') &&
  existsSync('/usr/bin/redis-server');
if (!canStartOwn) {
  console.warn(
    '[test-services.test] SKIPPING the own-instance tests: needs root with PostgreSQL 15, pgvector and Redis installed',
  );
}

// Prints what the command saw, so the test can check the URLs and the temp dirs afterwards.
const PROBE = `node -e '
console.log("SEEN " + JSON.stringify({ db: process.env.DATABASE_URL, redis: process.env.REDIS_URL, tpl: process.env.RAIL_TEMPLATE_DB }));
'`;

describe('scripts/test-services.sh', () => {
  it('uses given DATABASE_URL/REDIS_URL, ensures the template database and keeps the exit code', async () => {
    const { databaseUrl, redisUrl } = requireServices();
    const r = await runScript(['sh', '-c', `${PROBE}; exit 7`], {
      ...baseEnv(),
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
    });
    expect(r.code, r.stderr).toBe(7);
    expect(r.stdout).toContain('postgres: using the given DATABASE_URL');
    expect(r.stdout).toContain('redis: using the given REDIS_URL');
    const seen = JSON.parse(/SEEN (.*)/.exec(r.stdout)![1]!) as { db: string; redis: string; tpl: string };
    expect(seen).toEqual({ db: databaseUrl, redis: redisUrl, tpl: 'rail_template' });
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    try {
      const { rows } = await c.query<{ datistemplate: boolean }>(
        'SELECT datistemplate FROM pg_database WHERE datname = $1',
        ['rail_template'],
      );
      expect(rows).toEqual([{ datistemplate: true }]);
    } finally {
      await c.end();
    }
  });

  it('redacts a password in a given DATABASE_URL from its log', async (ctx) => {
    const { databaseUrl, redisUrl } = requireServices();
    const u = new URL(databaseUrl);
    if (u.password !== '') {
      console.warn('[test-services.test] SKIPPING the redaction test: DATABASE_URL has a real password to keep');
      ctx.skip();
    }
    u.password = 'not-the-real-password-123';
    // trust auth ignores the password, so the URL still works
    const r = await runScript(['true'], { ...baseEnv(), DATABASE_URL: u.toString(), REDIS_URL: redisUrl });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('not-the-real-password-123');
    expect(r.stdout).toContain(':***@');
  });

  it.skipIf(!canStartOwn)(
    'starts its own PostgreSQL 15 + Redis, exports them, then stops both and removes the temp dirs',
    async () => {
      const r = await runScript(
        [
          'sh',
          '-c',
          `${PROBE}; ${DIRS}; psql "\${DATABASE_URL%/postgres}/rail_template" -Atc "SELECT 'ext='||extversion FROM pg_extension WHERE extname='vector'"; redis-cli -u "$REDIS_URL" ping; exit 3`,
        ],
        baseEnv(),
      );
      expect(r.code, r.stderr).toBe(3);
      const seen = JSON.parse(/SEEN (.*)/.exec(r.stdout)![1]!) as { db: string; redis: string };
      expect(seen.db).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      expect(seen.redis).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(r.stdout).toMatch(/ext=0\.\d+\.\d+/);
      expect(r.stdout).toContain('PONG');
      expect(r.stdout).toMatch(/timings: packages [\d.]+s, pgvector [\d.]+s, postgres [\d.]+s, redis [\d.]+s/);
      await expectStoppedAndRemoved(r.stdout, seen);
    },
  );

  it.skipIf(!canStartOwn)(
    'SIGTERM during the command stops the command and both servers, and removes the temp dirs',
    async () => {
      let killed = false;
      const r = await runScript(
        ['sh', '-c', `${PROBE}; ${DIRS}; echo "CHILD_PID $$"; exec sleep 300`],
        baseEnv(),
        (text, kill) => {
          if (!killed && text.includes('CHILD_PID')) {
            killed = true;
            kill();
          }
        },
      );
      expect(killed).toBe(true);
      expect(r.code).toBe(143);
      const seen = JSON.parse(/SEEN (.*)/.exec(r.stdout)![1]!) as { db: string; redis: string };
      await expectStoppedAndRemoved(r.stdout, seen);
      expect(pidAlive(Number(/CHILD_PID (\d+)/.exec(r.stdout)![1]))).toBe(false);
    },
  );
});

// Where the servers keep their data, printed by the command: the temp dirs that must be gone afterwards.
const DIRS = `echo "PGDATA_DIR $(psql "$DATABASE_URL" -Atc 'SHOW data_directory')"; echo "REDIS_DIR $(redis-cli -u "$REDIS_URL" config get dir | tail -n1)"`;

async function expectStoppedAndRemoved(stdout: string, seen: { db: string; redis: string }): Promise<void> {
  const pgData = /PGDATA_DIR (\S+)/.exec(stdout)?.[1];
  const redisDir = /REDIS_DIR (\S+)/.exec(stdout)?.[1];
  expect(pgData).toMatch(/^\/tmp\/rail-pg\.\w+\/data$/);
  expect(redisDir).toMatch(/^\/tmp\/rail-redis\.\w+$/);
  expect(existsSync(path.dirname(pgData!))).toBe(false);
  expect(existsSync(redisDir!)).toBe(false);
  await expect(connectOnce(seen.db)).rejects.toThrow(/ECONNREFUSED/);
  await expect(tcpConnect(Number(new URL(seen.redis).port))).rejects.toThrow(/ECONNREFUSED/);
}

async function connectOnce(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  await c.connect();
  await c.end();
}

async function tcpConnect(port: number): Promise<void> {
  const net = await import('node:net');
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.end();
      resolve();
    });
    s.on('error', reject);
  });
}
