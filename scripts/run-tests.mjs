#!/usr/bin/env node
// Runs the whole vitest suite (live progress on the terminal + a JSON report in .test-results/vitest.json) and ends
// with ONE summary line that CI reads:  `N passed, N failed` (`, N skipped` appended when any were skipped).
// Usage: node scripts/run-tests.mjs [vitest args / file filters...]
// Exit code: non-zero when any test failed, a test file failed to load, vitest reported errors or crashed, or when
// no test ran at all (an empty run is never a green run).
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const reportFile = path.join(root, '.test-results', 'vitest.json');
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');

await mkdir(path.dirname(reportFile), { recursive: true });
await rm(reportFile, { force: true }); // a crash must not be summarised from a previous run's report

const child = spawn(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
const { code, signal } = await new Promise((resolve) => child.on('close', (c, s) => resolve({ code: c, signal: s })));

const problems = [];
let passed = 0;
let failed = 0;
let skipped = 0;
let report;
try {
  report = JSON.parse(await readFile(reportFile, 'utf8'));
} catch (err) {
  problems.push(`no readable vitest JSON report at ${path.relative(root, reportFile)} (${err.code ?? err.message})`);
}

if (report) {
  for (const file of report.testResults ?? []) {
    const tests = file.assertionResults ?? [];
    let fileFailed = 0;
    for (const t of tests) {
      if (t.status === 'passed') passed++;
      else if (t.status === 'failed') fileFailed++;
      else skipped++; // skipped, pending, todo
    }
    // A file that failed without a failing test (import error, failing beforeAll/afterAll hook) still counts once.
    if (file.status === 'failed' && fileFailed === 0) {
      fileFailed = 1;
      const where = path.relative(root, file.name ?? '?');
      problems.push(
        `${where} failed outside any test: ${(file.message ?? '').split('\n')[0] || 'see the output above'}`,
      );
    }
    failed += fileFailed;
  }
}
const ranTests = passed + failed > 0;
if (signal) problems.push(`vitest was killed by ${signal}`);
if (report && !ranTests) problems.push('no tests ran (no test file matched, or every test was skipped)');
else if ((report?.success === false || code !== 0) && failed === 0) {
  // Errors outside any test (unhandled rejections, errors thrown after a test ended) fail the run: count them once.
  failed = 1;
  problems.push(`vitest reported errors outside the tests (exit code ${code ?? signal}); see the output above`);
}

for (const p of problems) console.error(`run-tests: ${p}`);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || problems.length > 0 ? 1 : 0;
