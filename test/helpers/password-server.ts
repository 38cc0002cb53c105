// A throwaway PostgreSQL that really checks passwords, for the wrong-password tests of the database actions.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../railway-emulator/apps.js';

export { freePort };

/**
 * A throwaway PostgreSQL with scram-sha-256 authentication (the shared test server trusts everyone, so it cannot
 * reject a password). Needs initdb/pg_ctl; as root it runs them as the `postgres` user. Returns undefined (the test
 * is skipped with the reason printed) when that is not possible here.
 */
export async function startPasswordServer(): Promise<
  { port: number; password: string; stop(): Promise<void> } | undefined
> {
  const bin = ['/usr/lib/postgresql/15/bin', '/usr/local/bin', '/usr/bin'].find(
    (d) => existsSync(path.join(d, 'initdb')) && existsSync(path.join(d, 'pg_ctl')),
  );
  if (!bin) {
    console.warn('skipping the wrong-password test: initdb/pg_ctl not found');
    return undefined;
  }
  const isRoot = process.getuid?.() === 0;
  const asPg = (cmd: string, args: string[]) =>
    (isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]) as [string, string[]];
  const base = await mkdtemp(path.join(os.tmpdir(), 'gate-pgpw-'));
  const password = `Right-${randomBytes(6).toString('hex')}`;
  const port = await freePort();
  try {
    await writeFile(path.join(base, 'pw'), password);
    if (isRoot) {
      execFileSync('chown', ['-R', 'postgres:postgres', base]);
      await chmod(base, 0o700);
    }
    const [c1, a1] = asPg(path.join(bin, 'initdb'), [
      '-D',
      path.join(base, 'data'),
      '-U',
      'postgres',
      '--auth=scram-sha-256',
      `--pwfile=${path.join(base, 'pw')}`,
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    execFileSync(c1, a1, { cwd: '/', stdio: 'ignore' });
    const [c2, a2] = asPg(path.join(bin, 'pg_ctl'), [
      '-D',
      path.join(base, 'data'),
      '-l',
      path.join(base, 'log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${base} -c fsync=off`,
      'start',
    ]);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(c2, a2, { cwd: '/', stdio: 'ignore' });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_ctl start exited ${code}`))));
      child.on('error', reject);
    });
  } catch (err) {
    console.warn(`skipping the wrong-password test: could not start a password-checking PostgreSQL (${String(err)})`);
    await rm(base, { recursive: true, force: true });
    return undefined;
  }
  return {
    port,
    password,
    async stop() {
      const [c, a] = asPg(path.join(bin, 'pg_ctl'), ['-D', path.join(base, 'data'), '-m', 'immediate', '-w', 'stop']);
      try {
        execFileSync(c, a, { cwd: '/', stdio: 'ignore' });
      } finally {
        await rm(base, { recursive: true, force: true });
      }
    },
  };
}
