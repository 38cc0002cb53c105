// Migration analysis speed on a generated 10,000-statement corpus, side by side with squawk-cli (npm) on the same
// files in the same run. Prints `BENCH <name> <value> <unit>` lines; asserts nothing.
//
// Two layouts of the same 10,000 statements: 100 files × 100 statements (a long migration history) and one file.
// Figures:
//   analyze.inprocess.*   our analyzeFiles() inside this process (cold = first call, includes the WASM parser start;
//                         warm = median of 3 later calls), files already in memory;
//   analyze.process.*     a fresh Node process that reads the files and analyses them (spawn → exit), median of 3,
//                         from the TypeScript sources (type stripping included);
//   analyze.bundle.*      the same worker bundled into one ES module (what a shipped action or CLI loads), spawn →
//                         exit, median of 5 — the like-for-like comparison with squawk, a native binary run the same
//                         way (bundled with rolldown, vite's bundler, when it is installed). Cold: nothing is cached
//                         between runs (no compile cache). bundle.process chooses parser threads as shipped
//                         (analyze/parallel.ts), bundle.serial.process parses on the main thread only;
//   node.startup          `node -e 0`, spawn → exit: the floor of any Node process, for comparison with squawk's run;
//   parser.*.parse_only   the bundle's libpg-query alone: load, read the files, parse each once, exit (no analysis) —
//                         the floor of this design on one thread, and its ratio to squawk's whole run;
//   analyze.crossover.*   bundle, 100 files of growing size, serial vs worker threads (what PARALLEL_MIN_BYTES and the
//                         CPU minimum in analyze/parallel.ts rest on);
//   squawk.process.*      `squawk --reporter json --assume-in-transaction <files>` (spawn → exit), median of 3;
//   analyze.process.read_and_analyse  the same worker's own time from reading the files to the result (no start-up);
//   *.squawk_over_ours*   squawk time / our time (> 1: ours is faster);
//   corpus.*              decisions on the labelled gate corpus (test/fixtures/gate-corpus, labels verified on a real
//                         server by test/migrate-gate-corpus.test.ts): our gate with the live catalog (needs
//                         DATABASE_URL), our gate offline, and squawk-cli used as a gate — agreement with the labels,
//                         and how many changes that need approval each would have applied unattended.
// The worker mode (`--worker <dir>`) is how the process figures are taken.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os, { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { FileInput } from '../src/migrations/analyze.js';
import { CORPUS, SCHEMA } from '../test/fixtures/gate-corpus/corpus.js';
import { agreement, gateVerdict, SQUAWK_HYGIENE_RULES } from '../test/fixtures/gate-corpus/judge.js';
import { createTestDatabase } from '../test/helpers/db.js';

const { analyzeFiles } = await import('../src/migrations/analyze.js');

const STATEMENTS = 10_000;
const FILES = 100;
const RUNS = 3;

async function readCorpus(dir: string): Promise<FileInput[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(names.map(async (n) => ({ file: n, sql: await readFile(path.join(dir, n), 'utf8') })));
}

if (process.argv[2] === '--worker') {
  const started = performance.now();
  const files = await analyzeFiles(await readCorpus(process.argv[3] ?? '.'));
  const findings = files.reduce((n, f) => n + f.statements.reduce((m, s) => m + s.findings.length, 0), 0);
  const statements = files.reduce((n, f) => n + f.statements.length, 0);
  process.stdout.write(JSON.stringify({ ms: performance.now() - started, findings, statements }));
  process.exit(0);
}

// A realistic mix (Prisma/Drizzle-style DDL, concurrent indexes, backfills, renames, pgvector, non-ASCII comments).
const TEMPLATES: Array<(i: number) => string> = [
  (i) =>
    `CREATE TABLE "t_${i}" (\n  "id" BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  "name" TEXT NOT NULL,\n  "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP\n);`,
  (i) => `ALTER TABLE users ADD COLUMN c_${i} text;`,
  (i) => `CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_${i} ON users (c_${i});`,
  (i) => `CREATE INDEX idx_b_${i} ON orders (col_${i});`,
  (i) => `ALTER TABLE orders ADD CONSTRAINT fk_${i} FOREIGN KEY (u_${i}) REFERENCES users (id) NOT VALID;`,
  (i) => `ALTER TABLE orders VALIDATE CONSTRAINT fk_${i};`,
  (i) => `UPDATE users SET c_${i} = 'x' WHERE id < 100;`,
  (i) => `ALTER TABLE users ALTER COLUMN c_${i} SET NOT NULL;`,
  (i) => `ALTER TABLE users RENAME COLUMN c_${i} TO d_${i};`,
  (i) => `-- Größe ✓ 日本語 ${i}\nCOMMENT ON COLUMN users.d_${i} IS 'Größe ✓ ${i}';`,
  (i) => `ALTER TABLE users ADD COLUMN v_${i} varchar(20) DEFAULT 'x';`,
  (i) => `DROP INDEX IF EXISTS idx_old_${i};`,
  (i) => `CREATE TABLE ev_${i} (id int, payload json, at timestamp);`,
  (i) => `ALTER TABLE users ALTER COLUMN d_${i} TYPE varchar(100);`,
  (i) => `INSERT INTO settings (k, v) VALUES ('k${i}', 'v');`,
  (i) => `ALTER TABLE users DROP COLUMN IF EXISTS old_${i};`,
  (i) => `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS uq_${i} ON users (email_${i});`,
  (i) => `ALTER TABLE users ADD COLUMN uid_${i} uuid DEFAULT gen_random_uuid();`,
  (i) => `CREATE INDEX CONCURRENTLY IF NOT EXISTS emb_${i} ON documents USING hnsw (embedding vector_cosine_ops);`,
  (i) => `ALTER TABLE orders ADD CONSTRAINT chk_${i} CHECK (total_${i} >= 0);`,
];

async function writeCorpus(dir: string, files: number, statements = STATEMENTS): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const perFile = statements / files;
  const paths: string[] = [];
  for (let f = 0; f < files; f++) {
    const lines: string[] = [];
    for (let s = 0; s < perFile; s++) {
      const i = f * perFile + s;
      lines.push((TEMPLATES[i % TEMPLATES.length] ?? TEMPLATES[0]!)(i));
    }
    const p = path.join(dir, `${String(f + 1).padStart(4, '0')}_migration.sql`);
    await writeFile(p, `${lines.join('\n')}\n`);
    paths.push(p);
  }
  return paths;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ ms: number; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        ms: performance.now() - started,
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/** The squawk binary from squawk-cli's platform package, or why it cannot be used here. */
function squawkBinary(): { path: string } | { reason: string } {
  const require = createRequire(import.meta.url);
  try {
    require.resolve('squawk-cli/package.json');
  } catch {
    return { reason: 'squawk-cli is not installed (npm install -D squawk-cli)' };
  }
  const pkg = `@squawk-cli/${process.platform}-${process.arch}`;
  try {
    const bin = require.resolve(`${pkg}/bin/squawk${process.platform === 'win32' ? '.exe' : ''}`);
    return existsSync(bin) ? { path: bin } : { reason: `${pkg} has no binary` };
  } catch {
    return {
      reason: `squawk-cli ships no binary for ${process.platform}-${process.arch} (optional dependency ${pkg} not installed)`,
    };
  }
}

/**
 * The worker (this file's `--worker` mode) bundled into one ES module next to libpg-query.wasm, as the action build
 * lays bundles out. rolldown comes with vite (vitest); without it there is no bundle figure.
 */
async function bundleWorker(dir: string): Promise<{ analyse: string; parseOnly: string } | { reason: string }> {
  let build: (opts: Record<string, unknown>) => Promise<unknown>;
  try {
    ({ build } = (await import('rolldown')) as unknown as { build: typeof build });
  } catch (err) {
    return { reason: `rolldown is not installed (${(err as Error).message.split('\n')[0]})` };
  }
  const entry = path.join(dir, 'entry.ts');
  await mkdir(dir, { recursive: true });
  await writeFile(
    entry,
    `import { readdir, readFile } from 'node:fs/promises';
import { analyzeFiles } from ${JSON.stringify(fileURLToPath(new URL('../src/migrations/analyze.ts', import.meta.url)))};
const started = performance.now();
const dir = process.argv[2] ?? '.';
const names = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
// Bench only: ANALYZE_PARSE_THREADS forces the number of parser worker threads (0 = serial).
const threads = process.env.ANALYZE_PARSE_THREADS;
const files = await analyzeFiles(await Promise.all(names.map(async (n) => ({ file: n, sql: await readFile(dir + '/' + n, 'utf8') }))), threads === undefined ? {} : { parseThreads: Number(threads) });
const statements = files.reduce((n, f) => n + f.statements.length, 0);
process.stdout.write(JSON.stringify({ ms: performance.now() - started, statements }));
`,
  );
  // The floor of this design: the same process with libpg-query's parse alone (no analysis, no findings). Our gate
  // cannot end sooner than this on one thread, whatever the analysis costs.
  const parseOnly = path.join(dir, 'parse-only.ts');
  await writeFile(
    parseOnly,
    `import ${JSON.stringify(fileURLToPath(new URL('../src/migrations/analyze/wasm-dirname.ts', import.meta.url)))};
import { readdir, readFile } from 'node:fs/promises';
import { parse } from ${JSON.stringify(createRequire(import.meta.url).resolve('libpg-query'))};
const dir = process.argv[2] ?? '.';
const names = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
let statements = 0;
for (const sql of await Promise.all(names.map((n) => readFile(dir + '/' + n, 'utf8')))) statements += ((await parse(sql)).stmts ?? []).length;
process.stdout.write(JSON.stringify({ statements }));
`,
  );
  await build({
    input: { entry, 'parse-only': parseOnly },
    platform: 'node',
    resolve: { extensionAlias: { '.js': ['.ts', '.js'] } },
    output: { dir: path.join(dir, 'out'), format: 'esm' },
    logLevel: 'silent',
  });
  const require = createRequire(import.meta.url);
  // As scripts/build.mjs lays them out: the .wasm, and the Emscripten glue for the parser's worker threads.
  const wasmDir = path.dirname(require.resolve('libpg-query'));
  await writeFile(path.join(dir, 'out', 'libpg-query.wasm'), await readFile(path.join(wasmDir, 'libpg-query.wasm')));
  await writeFile(path.join(dir, 'out', 'libpg-query.cjs'), await readFile(path.join(wasmDir, 'libpg-query.js')));
  return { analyse: path.join(dir, 'out', 'entry.js'), parseOnly: path.join(dir, 'out', 'parse-only.js') };
}

/** squawk-cli's verdicts on the corpus, one file per entry: approval when any non-hygiene rule fires. */
async function squawkCorpusDecisions(bin: string, dir: string): Promise<Map<string, 'auto' | 'approval'>> {
  await mkdir(dir, { recursive: true });
  const files = new Map<string, string>();
  for (const e of CORPUS) {
    const file = path.join(dir, `${e.id}.sql`);
    await writeFile(file, `${e.sql};\n`);
    files.set(file, e.id);
  }
  const res = await run(bin, ['--reporter', 'json', '--exclude', SQUAWK_HYGIENE_RULES.join(','), ...files.keys()]);
  if (res.code !== 0 && res.code !== 1)
    throw new Error(`squawk failed (exit ${res.code}): ${res.stderr.slice(0, 500)}`);
  const flagged = new Set(
    (JSON.parse(res.stdout) as Array<{ file: string }>).map(
      (v) => files.get(path.resolve(v.file)) ?? files.get(v.file),
    ),
  );
  return new Map(CORPUS.map((e) => [e.id, flagged.has(e.id) ? 'approval' : 'auto']));
}

/** Our gate's verdicts with the live catalog: a database with the corpus schema, each entry in a rolled-back transaction. */
async function liveCorpusDecisions(): Promise<Map<string, 'auto' | 'approval'> | { reason: string }> {
  if (!process.env.DATABASE_URL) return { reason: 'DATABASE_URL is not set (run through scripts/test-services.sh)' };
  const db = await createTestDatabase('bench_corpus');
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(SCHEMA);
    const out = new Map<string, 'auto' | 'approval'>();
    for (const e of CORPUS) {
      await client.query('BEGIN');
      try {
        out.set(e.id, (await gateVerdict(e, client)).decision);
      } finally {
        await client.query('ROLLBACK');
      }
    }
    return out;
  } finally {
    await client.end();
    await db.drop();
  }
}

/** One run of the bundled worker (spawn → exit, ms); `threads` forces the parser threads. */
async function runBundle(bundle: string, dir: string, statements: number, threads?: number): Promise<number> {
  const res = await run(
    process.execPath,
    [bundle, dir],
    threads === undefined ? {} : { ANALYZE_PARSE_THREADS: String(threads) },
  );
  if (res.code !== 0) throw new Error(`bundled worker failed (exit ${res.code}): ${res.stderr.slice(0, 500)}`);
  if ((JSON.parse(res.stdout) as { statements: number }).statements !== statements)
    throw new Error('bundled worker analysed a different number of statements');
  return res.ms;
}

const work = await mkdtemp(path.join(os.tmpdir(), 'analyze-bench-'));
const squawk = squawkBinary();
if ('reason' in squawk) console.log(`squawk-cli unavailable, no squawk figures: ${squawk.reason}`);
const bundle = await bundleWorker(path.join(work, 'bundle'));
if ('reason' in bundle) console.log(`no bundle figures: ${bundle.reason}`);

try {
  for (const [label, files] of [
    ['100files', FILES],
    ['1file', 1],
  ] as const) {
    const dir = path.join(work, label);
    const paths = await writeCorpus(dir, files);
    const corpus = await readCorpus(dir);
    const bytes = corpus.reduce((n, f) => n + Buffer.byteLength(f.sql), 0);
    console.log(`corpus ${label}: ${STATEMENTS} statements in ${files} file(s), ${(bytes / 1024).toFixed(0)} KiB`);

    const coldStart = performance.now();
    const first = await analyzeFiles(corpus);
    const cold = performance.now() - coldStart;
    const statements = first.reduce((n, f) => n + f.statements.length, 0);
    const findings = first.reduce((n, f) => n + f.statements.reduce((m, s) => m + s.findings.length, 0), 0);
    if (statements !== STATEMENTS) throw new Error(`expected ${STATEMENTS} statements, analysed ${statements}`);
    const warm: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t = performance.now();
      await analyzeFiles(corpus);
      warm.push(performance.now() - t);
    }
    console.log(`BENCH analyze.${label}.inprocess.cold ${fmt(cold)} ms`);
    console.log(`BENCH analyze.${label}.inprocess.warm ${fmt(median(warm))} ms`);
    console.log(`BENCH analyze.${label}.throughput ${Math.round(STATEMENTS / (median(warm) / 1000))} statements/s`);
    console.log(`BENCH analyze.${label}.findings ${findings} findings`);

    const ours: number[] = [];
    const inside: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const res = await run(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--worker', dir]);
      if (res.code !== 0) throw new Error(`analysis worker failed (exit ${res.code}): ${res.stderr.slice(0, 500)}`);
      ours.push(res.ms);
      inside.push((JSON.parse(res.stdout) as { ms: number }).ms);
    }
    // process = spawn → exit, including Node start-up and type-stripping the TypeScript sources (the bundled action
    // skips the latter); read+analyse = the same process's time from reading the files to the last finding.
    console.log(`BENCH analyze.${label}.process ${fmt(median(ours))} ms`);
    console.log(`BENCH analyze.${label}.process.read_and_analyse ${fmt(median(inside))} ms`);

    let bundled: number | undefined;
    let floor: number | undefined;
    if (!('reason' in bundle)) {
      // Interleaved, so load on the machine hits both alike.
      const times: number[] = [];
      const serial: number[] = [];
      const parseOnly: number[] = [];
      const startup: number[] = [];
      for (let r = 0; r < 5; r++) {
        times.push(await runBundle(bundle.analyse, dir, STATEMENTS));
        serial.push(await runBundle(bundle.analyse, dir, STATEMENTS, 0));
        parseOnly.push(await runBundle(bundle.parseOnly, dir, STATEMENTS));
        startup.push((await run(process.execPath, ['-e', '0'])).ms);
      }
      bundled = median(times);
      floor = median(parseOnly);
      console.log(`BENCH analyze.${label}.bundle.process ${fmt(bundled)} ms`);
      console.log(`BENCH analyze.${label}.bundle.serial.process ${fmt(median(serial))} ms`);
      console.log(`BENCH parser.${label}.parse_only.process ${fmt(floor)} ms (libpg-query load + parse, no analysis)`);
      console.log(`BENCH node.${label}.startup ${fmt(median(startup))} ms (node -e 0)`);
    }

    if ('path' in squawk) {
      const times: number[] = [];
      let violations = -1;
      for (let r = 0; r < RUNS; r++) {
        const res = await run(squawk.path, ['--reporter', 'json', '--assume-in-transaction', ...paths]);
        // squawk exits 1 when it found violations; anything else is a failure to lint.
        if (res.code !== 0 && res.code !== 1)
          throw new Error(`squawk failed (exit ${res.code}): ${res.stderr.slice(0, 500)}`);
        times.push(res.ms);
        try {
          violations = (JSON.parse(res.stdout) as unknown[]).length;
        } catch {
          violations = -1;
        }
      }
      console.log(`BENCH squawk.${label}.process ${fmt(median(times))} ms`);
      if (violations >= 0) console.log(`BENCH squawk.${label}.findings ${violations} findings`);
      console.log(
        `BENCH analyze.${label}.squawk_over_ours ${(median(times) / median(ours)).toFixed(2)} ratio (squawk process / our process; >1 = rail-actions faster)`,
      );
      console.log(
        `BENCH analyze.${label}.squawk_over_ours_analysis ${(median(times) / median(inside)).toFixed(2)} ratio (squawk process / our read+analyse inside a started process)`,
      );
      if (bundled !== undefined) {
        console.log(
          `BENCH analyze.${label}.bundle_over_squawk ${(bundled / median(times)).toFixed(2)} ratio (our bundled process / squawk process, end to end; ≤1 = not slower than squawk)`,
        );
      }
      if (floor !== undefined) {
        console.log(
          `BENCH parser.${label}.parse_only_over_squawk ${(floor / median(times)).toFixed(2)} ratio (libpg-query parse alone / squawk's whole run; the floor of our ratio)`,
        );
      }
    }
    await rm(dir, { recursive: true, force: true });
  }

  // Where worker threads start to pay: 100 files of growing size, serial vs workers forced on (one per other CPU, at
  // most 3), whatever analyze/parallel.ts would choose on this machine.
  if (!('reason' in bundle) && availableParallelism() > 1) {
    const workers = Math.min(availableParallelism() - 1, 3);
    for (const statements of [2500, 10_000, 40_000]) {
      const dir = path.join(work, `crossover-${statements}`);
      await writeCorpus(dir, FILES, statements);
      const kib = (await readCorpus(dir)).reduce((n, f) => n + f.sql.length, 0) / 1024;
      const serial: number[] = [];
      const parallel: number[] = [];
      for (let r = 0; r < 5; r++) {
        serial.push(await runBundle(bundle.analyse, dir, statements, 0));
        parallel.push(await runBundle(bundle.analyse, dir, statements, workers));
      }
      console.log(
        `BENCH analyze.crossover.${statements}stmts.serial ${fmt(median(serial))} ms (${kib.toFixed(0)} KiB in ${FILES} files)`,
      );
      console.log(
        `BENCH analyze.crossover.${statements}stmts.parallel ${fmt(median(parallel))} ms (${workers} worker thread(s) + main)`,
      );
      await rm(dir, { recursive: true, force: true });
    }
  }

  const report = (name: string, decisions: Map<string, 'auto' | 'approval'>) => {
    const a = agreement(CORPUS, decisions);
    console.log(
      `BENCH corpus.${name}.agreement ${a.percent.toFixed(1)} % (${a.agree}/${a.entries} labelled statements)`,
    );
    console.log(
      `BENCH corpus.${name}.missed ${a.missed.length} statements needing approval applied unattended${a.missed.length ? ` (${a.missed.join(', ')})` : ''}`,
    );
    console.log(`BENCH corpus.${name}.overcautious ${a.overcautious.length} safe statements sent to approval`);
  };
  const live = await liveCorpusDecisions();
  if (live instanceof Map) report('gate_live_catalog', live);
  else console.log(`no live-catalog corpus figure: ${live.reason}`);
  const offline = new Map<string, 'auto' | 'approval'>();
  for (const e of CORPUS) offline.set(e.id, (await gateVerdict(e, undefined)).decision);
  report('gate_offline', offline);
  if ('path' in squawk) report('squawk', await squawkCorpusDecisions(squawk.path, path.join(work, 'corpus')));
} finally {
  await rm(work, { recursive: true, force: true });
}
