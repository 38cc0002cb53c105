// `npm ci` (CI's first step) refuses a lock that misses any optional platform package, which happens silently when
// `npm install` runs against a registry mirror without the other platforms' binaries (see scripts/fix-lockfile.mjs).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { projectRoot } from './harness/index.js';

const run = promisify(execFile);

it('package-lock.json records every optional dependency, so npm ci accepts it', async () => {
  const result = await run(process.execPath, [path.join(projectRoot, 'scripts/fix-lockfile.mjs'), '--check'], {
    cwd: projectRoot,
  }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({
      code: err.code ?? 1,
      out: `${err.stdout ?? ''}${err.stderr ?? ''}`,
    }),
  );
  expect(result.code, result.out).toBe(0);
});
