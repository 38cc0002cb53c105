// check-dist: the committed dist/ must be exactly what `npm run build` produces from the committed sources, because
// dist/ is what users' workflows run. Also checks every action.yml points at a bundle that exists and uses node24.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readActionMetadata } from './harness/action-metadata.js';
import { projectRoot } from './harness/index.js';

const run = promisify(execFile);
const distDir = path.join(projectRoot, 'dist');

async function listFiles(dir: string, base = dir): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full, base)));
    else out.push(path.relative(base, full).split(path.sep).join('/'));
  }
  return out.sort();
}

interface DistDiff {
  differ: string[];
  missing: string[]; // built but not committed
  extra: string[]; // committed but not produced by the build (stale bundles)
}

async function compareDirs(expectedDir: string, actualDir: string): Promise<DistDiff> {
  const expected = await listFiles(expectedDir);
  const actual = new Set(await listFiles(actualDir));
  const diff: DistDiff = { differ: [], missing: [], extra: [] };
  for (const f of expected) {
    if (!actual.has(f)) diff.missing.push(f);
    else if (!(await readFile(path.join(expectedDir, f))).equals(await readFile(path.join(actualDir, f))))
      diff.differ.push(f);
    actual.delete(f);
  }
  diff.extra = [...actual].sort();
  return diff;
}

function describeDiff(diff: DistDiff): string {
  const lines: string[] = [];
  for (const f of diff.differ) lines.push(`  differs:     dist/${f}`);
  for (const f of diff.missing) lines.push(`  not in dist: dist/${f}`);
  for (const f of diff.extra) lines.push(`  stale:       dist/${f} (no source produces it)`);
  return `dist/ is out of date with the sources. Fix: run \`npm run build\` and commit dist/.\n${lines.join('\n')}`;
}

describe('check-dist', () => {
  let buildDir: string;

  beforeAll(async () => {
    buildDir = await mkdtemp(path.join(os.tmpdir(), 'rail-check-dist-'));
    await run(process.execPath, [path.join(projectRoot, 'scripts/build.mjs'), '--out', buildDir], {
      cwd: projectRoot,
      maxBuffer: 16 * 1024 * 1024,
    });
  }, 600_000);

  afterAll(async () => {
    if (buildDir) await rm(buildDir, { recursive: true, force: true });
  });

  it('the build produced a bundle for every entry point in src/actions/', async () => {
    const entries = (await readdir(path.join(projectRoot, 'src/actions')))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .map((f) => f.slice(0, -3));
    expect(entries.length).toBeGreaterThan(0);
    for (const name of entries) {
      expect(existsSync(path.join(buildDir, name, 'index.js')), `${name}/index.js`).toBe(true);
      // ncc emits ESM; the bundle needs its package.json {"type":"module"} next to it to run.
      expect(JSON.parse(await readFile(path.join(buildDir, name, 'package.json'), 'utf8'))).toMatchObject({
        type: 'module',
      });
    }
  });

  it('committed dist/ equals a fresh build, file for file', async () => {
    const diff = await compareDirs(buildDir, distDir);
    const clean = diff.differ.length + diff.missing.length + diff.extra.length === 0;
    if (!clean) console.error(describeDiff(diff));
    expect(clean, describeDiff(diff)).toBe(true);
  });

  it('the comparison notices a changed byte, a missing file and a stale file', async () => {
    const copy = await mkdtemp(path.join(os.tmpdir(), 'rail-check-dist-copy-'));
    try {
      await run('cp', ['-R', `${buildDir}/.`, copy]);
      const files = await listFiles(copy);
      const bundle = files.find((f) => f.endsWith('/index.js'))!;
      await writeFile(path.join(copy, bundle), (await readFile(path.join(copy, bundle), 'utf8')) + '\n// edited\n');
      const removed = files.find((f) => f.endsWith('/package.json'))!;
      await rm(path.join(copy, removed));
      await writeFile(path.join(copy, 'stale.js'), '');
      expect(await compareDirs(buildDir, copy)).toEqual({ differ: [bundle], missing: [removed], extra: ['stale.js'] });
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});

describe('action.yml files', () => {
  const actionsDir = path.join(projectRoot, 'actions');
  // Listed synchronously so each action gets its own named test.
  const files = existsSync(actionsDir)
    ? readdirSync(actionsDir)
        .sort()
        .map((d) => path.join(actionsDir, d, 'action.yml'))
    : [];
  const rootAction = path.join(projectRoot, 'action.yml');

  it('there is at least one action', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files.map((f) => [path.relative(projectRoot, f), f]))(
    '%s: node24, main/post point at committed dist bundles',
    async (_rel, file) => {
      await checkActionYml(file);
    },
  );

  it.skipIf(!existsSync(rootAction))(
    'action.yml (root): node24, main/post point at committed dist bundles',
    async () => {
      await checkActionYml(rootAction);
    },
  );
});

async function checkActionYml(file: string): Promise<void> {
  expect(existsSync(file), `${file} exists`).toBe(true);
  // Composite actions (actions/setup) have no bundle; test/workflows.test.ts validates them and their steps.
  if (/^\s+using:\s*['"]?composite\b/m.test(readFileSync(file, 'utf8'))) return;
  const meta = await readActionMetadata(file); // validated by GitHub's action.yml schema
  expect(meta.using, `${file} runs.using`).toBe('node24');
  for (const entry of [meta.main, meta.post].filter((e): e is string => e !== undefined)) {
    expect(entry.startsWith(distDir + path.sep), `${file}: ${entry} should be inside dist/`).toBe(true);
    expect(existsSync(entry), `${file}: ${path.relative(projectRoot, entry)} does not exist (npm run build)`).toBe(
      true,
    );
  }
}
