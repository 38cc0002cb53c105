#!/usr/bin/env node
// Keeps `npm ci` working when the registry mirror lacks other platforms' binaries.
//
// Packages like squawk-cli and dbmate ship their binary as per-platform optionalDependencies
// (@dbmate/darwin-arm64, @dbmate/linux-x64, …). When the registry in use does not have the other platforms' packages,
// `npm install` silently leaves them out of package-lock.json — and `npm ci` then refuses the lock as out of sync
// ("Missing: @dbmate/darwin-arm64@ from lock file"). This adds the missing entries (version, optional, os/cpu read
// from the package name) exactly where npm would have put them. npm ci skips them on other platforms, so nothing is
// fetched for them; on the platform they are for, npm fetches them from the registry as usual.
//
//   node scripts/fix-lockfile.mjs           add missing entries (run after `npm install <pkg>`)
//   node scripts/fix-lockfile.mjs --check   only report; exit 1 when entries are missing (test/lockfile.test.ts)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lockPath = path.join(root, 'package-lock.json');
const check = process.argv.includes('--check');

const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const packages = lock.packages ?? {};

/** npm's lookup: <dependent>/node_modules/<dep>, then each ancestor's node_modules, then the root's. */
function isResolvable(dependentKey, dep) {
  let dir = dependentKey;
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${dep}` : `node_modules/${dep}`;
    if (packages[candidate]) return true;
    if (!dir) return false;
    const idx = dir.lastIndexOf('/node_modules/');
    dir = idx >= 0 ? dir.slice(0, idx) : '';
  }
}

const OS = ['darwin', 'linux', 'win32', 'freebsd', 'openbsd', 'netbsd', 'sunos', 'aix', 'android'];
const CPU = ['x64', 'arm64', 'arm', 'ia32', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el'];
function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  return { os: parts.find((p) => OS.includes(p)), cpu: parts.find((p) => CPU.includes(p)) };
}

const missing = [];
for (const [key, meta] of Object.entries(packages)) {
  for (const [dep, spec] of Object.entries(meta.optionalDependencies ?? {})) {
    if (isResolvable(key, dep)) continue;
    const version = /^\d+\.\d+\.\d+(-[\w.]+)?$/.test(spec) ? spec : undefined;
    missing.push({ key, dep, spec, version, dev: meta.dev === true });
  }
}

if (missing.length === 0) {
  console.log('package-lock.json: every optional dependency is recorded');
  process.exit(0);
}
for (const m of missing)
  console.log(`${check ? 'missing' : 'adding'}: ${m.dep}@${m.spec} (optional dependency of ${m.key || 'the root'})`);
if (check) {
  console.error('npm ci will refuse this lock. Fix: node scripts/fix-lockfile.mjs');
  process.exit(1);
}

for (const m of missing) {
  if (!m.version) {
    console.error(`cannot add ${m.dep}: its spec '${m.spec}' is not an exact version`);
    process.exitCode = 1;
    continue;
  }
  const { os, cpu } = platformOf(m.dep);
  // Same place npm hoists to: next to the dependent when it is nested, else the root.
  const parent = m.key.includes('/node_modules/') ? m.key.slice(0, m.key.lastIndexOf('/node_modules/')) : '';
  const key = parent ? `${parent}/node_modules/${m.dep}` : `node_modules/${m.dep}`;
  packages[key] = {
    version: m.version,
    ...(cpu ? { cpu: [cpu] } : {}),
    ...(m.dev ? { dev: true } : {}),
    optional: true,
    ...(os ? { os: [os] } : {}),
  };
}
// npm writes the packages map sorted with localeCompare('en'); keep that so later npm runs produce no churn.
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => a.localeCompare(b, 'en')));
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${missing.length} entr${missing.length === 1 ? 'y' : 'ies'}`);
