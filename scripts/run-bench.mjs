#!/usr/bin/env node
// Runs every bench/*.bench.ts and bench/*.bench.mjs in sequence (one process each, so they do not disturb each
// other's timings) and ends with a combined table.
//
// Convention for benches: print one line per figure,
//     BENCH <name> <value> <unit>        e.g.  BENCH health.verdict.p50 312 ms
// <name> and <value> contain no spaces; <unit> is the rest of the line. Everything else a bench prints is shown as is.
// A bench asserts nothing about speed; it fails only when it cannot measure (non-zero exit).
//
// TypeScript benches run on Node >= 24 (native type stripping) with scripts/ts-loader.mjs, which maps the NodeNext
// `./x.js` imports to `./x.ts` files. Services: `npm run bench` wraps this in scripts/test-services.sh, so benches
// get DATABASE_URL / REDIS_URL like tests do.
// Usage: node scripts/run-bench.mjs [substring...]   (only benches whose file name contains one of the substrings)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const filters = process.argv.slice(2);
const timeoutMs = Number(process.env.BENCH_TIMEOUT_MS || 15 * 60_000);

function node24() {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  const local = path.join(root, 'node_modules/.bin/node');
  if (!existsSync(local)) throw new Error(`Node >= 24 needed for TypeScript benches; run npm ci (installs ${local})`);
  const major = Number(execFileSync(local, ['--version'], { encoding: 'utf8' }).trim().slice(1).split('.')[0]);
  if (major < 24) throw new Error(`${local} is Node ${major}; Node >= 24 is needed`);
  return realpathSync(local);
}

const benchDir = path.join(root, 'bench');
const files = (existsSync(benchDir) ? readdirSync(benchDir) : [])
  .filter((f) => /\.bench\.(ts|mjs)$/.test(f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`run-bench: no bench/*.bench.ts|mjs${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
  process.exit(1);
}

const node = node24();
const loader = path.join(root, 'scripts/ts-loader.mjs');
const results = []; // { file, name, value, unit }
const failures = [];
let current;
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    current?.kill(sig);
    process.exit(130);
  });

for (const file of files) {
  console.log(`\n=== ${file}`);
  const started = performance.now();
  const { code, signal, timedOut } = await new Promise((resolve) => {
    // Type transforms, not only stripping: the benches import modules (emulator, harness) that use TypeScript-only syntax.
    const child = spawn(
      node,
      [
        '--experimental-transform-types',
        '--disable-warning=ExperimentalWarning',
        '--import',
        loader,
        path.join(benchDir, file),
      ],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    current = child;
    let partial = '';
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      process.stdout.write(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) collect(file, line);
    });
    child.on('close', (c, s) => {
      clearTimeout(timer);
      if (partial) collect(file, partial);
      resolve({ code: c, signal: s, timedOut: killed });
    });
  });
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  if (code === 0) console.log(`=== ${file}: done in ${secs}s`);
  else {
    const why = timedOut
      ? `timed out after ${timeoutMs / 1000}s`
      : signal
        ? `killed by ${signal}`
        : `exit code ${code}`;
    failures.push(`${file}: ${why}`);
    console.log(`=== ${file}: FAILED (${why}) after ${secs}s`);
  }
}

function collect(file, line) {
  const m = /^BENCH\s+(\S+)\s+(\S+)\s+(.*?)\s*$/.exec(line.replace(/\r$/, ''));
  if (m) results.push({ file, name: m[1], value: m[2], unit: m[3] });
}

if (results.length > 0) {
  const rows = [
    ['bench', 'name', 'value', 'unit'],
    ...results.map((r) => [r.file.replace(/\.bench\.(ts|mjs)$/, ''), r.name, r.value, r.unit]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const fmt = (r) =>
    r
      .map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  console.log(`\n${fmt(rows[0])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows.slice(1)) console.log(fmt(r));
}
console.log(`\n${files.length} bench file(s), ${results.length} figure(s), ${failures.length} failed`);
for (const f of failures) console.error(`run-bench: ${f}`);
process.exitCode = failures.length > 0 ? 1 : 0;
