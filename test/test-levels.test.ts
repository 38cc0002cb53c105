// Every test file is in exactly one level (test/levels.ts → one vitest project each, vitest.config.ts), the levels
// name only files that exist, and a file left in `unit` (the default) does not reach for a service: a unit run
// (`npm run test:unit`, no PostgreSQL, Redis or emulator) must not depend on one.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from './harness/index.js';
import { LEVELS, LISTED_FILES, type Level } from './levels.js';

const rel = (file: string) => path.relative(projectRoot, file).split(path.sep).join('/');

function testFilesOnDisk(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(projectRoot, dir), { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(p);
      } else if (e.name.endsWith('.test.ts')) out.push(p);
    }
  };
  walk('test');
  walk('examples/app/test');
  return out.sort();
}

/** What vitest itself resolves from vitest.config.ts: each file with the project (level) it runs in. */
async function vitestProjects(): Promise<Array<{ file: string; projectName: Level }>> {
  const vitest = path.join(projectRoot, 'node_modules', 'vitest', 'vitest.mjs');
  const { stdout } = await promisify(execFile)(process.execPath, [vitest, 'list', '--filesOnly', '--json'], {
    cwd: projectRoot,
    maxBuffer: 10 << 20,
  });
  return (JSON.parse(stdout) as Array<{ file: string; projectName: Level }>).map((e) => ({ ...e, file: rel(e.file) }));
}

// A unit file must not import what starts or needs a service, nor run a bundle.
const SERVICE_USE: Array<[RegExp, string]> = [
  [/from '\.\/helpers\/(db|emulator|password-server)\.js'/, 'a database or emulator helper'],
  [/from '\.\/railway-emulator\/index\.js'/, 'the Railway emulator'],
  [/from '\.\/railway-emulator\/apps\.js'/, 'the emulator app processes'],
  [/\b(runAction|startAction)\b[^;]*from '\.\/harness\/index\.js'/s, 'a bundle through the harness'],
  [/process\.env\.(DATABASE_URL|REDIS_URL)\b/, 'DATABASE_URL / REDIS_URL'],
];

describe('test levels', () => {
  it('name only existing files, each in one level', () => {
    const missing = LISTED_FILES.filter((f) => !existsSync(path.join(projectRoot, f)));
    expect(missing, 'files named in test/levels.ts that do not exist').toEqual([]);
    const twice = LISTED_FILES.filter((f, i) => LISTED_FILES.indexOf(f) !== i);
    expect(twice, 'files in more than one level of test/levels.ts').toEqual([]);
  });

  it('vitest runs every test file in exactly one project, the level test/levels.ts gives it', async () => {
    const listed = await vitestProjects();
    const byFile = new Map<string, string[]>();
    for (const e of listed) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e.projectName]);
    const onDisk = testFilesOnDisk();
    expect(onDisk.length).toBeGreaterThan(30);
    expect(
      onDisk.filter((f) => !byFile.has(f)),
      'test files in no project (they would never run)',
    ).toEqual([]);
    expect(
      [...byFile].filter(([, p]) => p.length !== 1),
      'test files in several projects',
    ).toEqual([]);
    const expected = (f: string): Level =>
      (Object.entries(LEVELS).find(([, files]) => (files as readonly string[]).includes(f))?.[0] as
        Level | undefined) ?? 'unit';
    expect(onDisk.map((f) => `${f}: ${byFile.get(f)?.[0]}`)).toEqual(onDisk.map((f) => `${f}: ${expected(f)}`));
  });

  it('unit files reach for no service and run no bundle', () => {
    const unit = testFilesOnDisk().filter((f) => !LISTED_FILES.includes(f));
    expect(unit).toContain('test/core.test.ts');
    const offenders = unit.flatMap((f) => {
      const text = readFileSync(path.join(projectRoot, f), 'utf8');
      return SERVICE_USE.filter(([re]) => re.test(text)).map(
        ([, what]) => `${f} uses ${what}: list it under its level in test/levels.ts`,
      );
    });
    expect(offenders).toEqual([]);
  });

  it('the service checks recognise what the other levels use', () => {
    // The patterns above are only worth something if they match real files: each must hit at least one listed file.
    const listed = LISTED_FILES.filter((f) => f.startsWith('test/')).map((f) =>
      readFileSync(path.join(projectRoot, f), 'utf8'),
    );
    for (const [re, what] of SERVICE_USE)
      expect(
        listed.some((t) => re.test(t)),
        what,
      ).toBe(true);
  });
});
