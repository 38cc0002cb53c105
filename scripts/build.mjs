#!/usr/bin/env node
// Bundles every action entry point src/actions/<name>.ts into <out>/<name>/index.js with ncc.
// Usage: node scripts/build.mjs [--out DIR] [name ...]   (DIR defaults to dist/)
// The check-dist test builds into a temporary DIR and compares it with the committed dist/.
// Bundles are built beside DIR and swapped in only when all of them succeeded, so an interrupted or failed build
// never leaves DIR half-deleted.
import { spawn } from 'node:child_process';
import { copyFile, readFile, readdir, rename, rm, mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let outDir = path.join(root, 'dist');
const only = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out') outDir = path.resolve(args[++i] ?? '');
  else only.push(args[i]);
}

// Bundles that are not actions: the CLI (bin/rail-actions.mjs runs dist/cli/index.js).
const EXTRA_ENTRIES = { cli: 'src/cli/main.ts' };

const entries = (await readdir(path.join(root, 'src/actions')))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => f.slice(0, -3))
  .concat(Object.keys(EXTRA_ENTRIES))
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();

function processAlive(pid) {
  if (!Number.isInteger(pid) || pid === process.pid) return false;
  try {
    return process.kill(pid, 0);
  } catch {
    return false;
  }
}

const stagingPrefix = `.${path.basename(outDir)}-build-`;
const stagingDir = path.join(path.dirname(outDir), `${stagingPrefix}${process.pid}`);
// Staging dirs left by killed builds (their process is gone) are removed; a concurrent build's is kept.
for (const leftover of (await readdir(path.dirname(outDir)).catch(() => [])).filter((f) =>
  f.startsWith(stagingPrefix),
)) {
  const pid = Number(leftover.slice(stagingPrefix.length));
  if (!processAlive(pid)) await rm(path.join(path.dirname(outDir), leftover), { recursive: true, force: true });
}
await mkdir(stagingDir, { recursive: true });

const ncc = path.join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js');
function build(name) {
  return new Promise((resolve, reject) => {
    const target = path.join(stagingDir, name);
    const child = spawn(
      process.execPath,
      [
        ncc,
        'build',
        EXTRA_ENTRIES[name] ?? `src/actions/${name}.ts`,
        '-o',
        target,
        '--license',
        'licenses.txt',
        '--quiet',
      ],
      { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.on('exit', (code) =>
      code === 0
        ? copyRuntimeAssets(target).then(() => resolve(name), reject)
        : reject(new Error(`ncc failed for ${name} (exit ${code})`)),
    );
  });
}

// Files a bundle loads at runtime by name next to itself, which ncc cannot inline: libpg-query's WebAssembly
// parser (its Emscripten glue calls locateFile('libpg-query.wasm') relative to the bundle), and that glue as a file of
// its own for the parser's worker threads (src/migrations/analyze/parallel.ts). `.cjs`: the bundle directory's
// package.json says "type": "module", and the glue is CommonJS.
const RUNTIME_ASSETS = [
  { marker: 'libpg-query.wasm', from: 'node_modules/libpg-query/wasm/libpg-query.wasm' },
  { marker: 'libpg-query.cjs', from: 'node_modules/libpg-query/wasm/libpg-query.js', to: 'libpg-query.cjs' },
];
async function copyRuntimeAssets(target) {
  const bundle = await readFile(path.join(target, 'index.js'), 'utf8');
  for (const asset of RUNTIME_ASSETS) {
    if (bundle.includes(asset.marker))
      await copyFile(path.join(root, asset.from), path.join(target, asset.to ?? path.basename(asset.from)));
  }
}

const queue = [...entries];
const workers = Array.from({ length: Math.max(1, Math.min(availableParallelism(), 4)) }, async () => {
  for (let name = queue.shift(); name; name = queue.shift()) await build(name);
});
try {
  await Promise.all(workers);
  // A full build also drops bundles whose entry point no longer exists.
  if (only.length === 0) await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  for (const name of entries) {
    await rm(path.join(outDir, name), { recursive: true, force: true });
    await rename(path.join(stagingDir, name), path.join(outDir, name));
  }
} finally {
  await rm(stagingDir, { recursive: true, force: true });
}
console.log(
  `built ${entries.length} action bundle(s) into ${path.relative(root, outDir) || '.'}: ${entries.join(', ')}`,
);
