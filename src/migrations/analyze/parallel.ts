// Parses many migration files on several threads. The main thread and N worker threads take files from one shared
// counter (Atomics), so a slow worker start costs nothing: the main thread keeps parsing meanwhile. Workers return
// libpg-query's JSON text, not objects: JSON.parse on the main thread is ~3× cheaper than structured-clone
// deserialisation of the same tree (measured on the 10,000-statement bench corpus), so the trees come out exactly as a
// serial parse builds them. A file that fails to parse, and any worker failure, is left to the serial path (undefined),
// which owns the error handling.
//
// Each worker loads libpg-query's own Emscripten glue (the module index.cjs wraps) from a file: in a bundle it is the
// libpg-query.cjs the build copies next to libpg-query.wasm (scripts/build.mjs), from source the package's file. Without
// it (or on small machines and inputs, see PARALLEL_MIN_BYTES) parsing stays on this thread.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parse } from 'libpg-query';

// When workers pay. A worker thread needs ~60-80 ms to boot and load the parser (measured on the project's 2-core
// machine), while the main thread parses ~3.5 MB/s meanwhile, and the main thread still JSON.parses every tree. On 2
// CPUs one worker brought no gain up to 40,000 statements (2.8 MB) in bench/analyze.bench.ts (analyze.crossover.*):
// main thread, worker and V8's GC threads share the two cores. So: only from 4 CPUs (GitHub's ubuntu-latest has 4),
// and only for inputs large enough to outlast a worker's start.
/** Total SQL below which parsing stays on one thread. */
export const PARALLEL_MIN_BYTES = 1024 * 1024;
/** Fewer CPUs than this: parse on one thread. */
const MIN_CPUS = 4;
/** Worker threads at most, besides the main thread. */
const MAX_WORKERS = 3;

export type ParseTree = { stmts?: unknown[] };

/** libpg-query's Emscripten glue as a file a worker can require, or undefined. */
export function parserGlue(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const bundled = path.join(here, 'libpg-query.cjs');
  if (existsSync(bundled) && existsSync(path.join(here, 'libpg-query.wasm'))) return bundled;
  try {
    const glue = createRequire(import.meta.url).resolve('libpg-query/wasm/libpg-query.js');
    return existsSync(glue) ? glue : undefined;
  } catch {
    return undefined;
  }
}

// The worker (CommonJS, evaluated from this string so a bundle needs no second entry file). It mirrors libpg-query's
// parse() (wasm/index.cjs: _wasm_parse_query_raw, PgQueryParseResult { tree, stderr, error } as three i32) but stops
// before JSON.parse, and finds the end of the C string with a native indexOf instead of a byte loop.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { glue, sqls, counter } = workerData;
const next = new Int32Array(counter);
const decoder = new TextDecoder();
function parseJson(m, sql) {
  if (sql.trim() === '') return null;
  const len = m.lengthBytesUTF8(sql) + 1;
  const ptr = m._malloc(len);
  let res = 0;
  try {
    m.stringToUTF8(sql, ptr, len);
    res = m._wasm_parse_query_raw(ptr);
    if (!res) return null;
    const tree = m.getValue(res, 'i32');
    const error = m.getValue(res + 8, 'i32');
    if (error || !tree) return null;
    const heap = m.HEAPU8;
    return decoder.decode(heap.subarray(tree, heap.indexOf(0, tree)));
  } finally {
    m._free(ptr);
    if (res) m._wasm_free_parse_result(res);
  }
}
require(glue)().then((m) => {
  for (let i = Atomics.add(next, 0, 1); i < sqls.length; i = Atomics.add(next, 0, 1)) {
    let json = null;
    try { json = parseJson(m, sqls[i]); } catch { json = null; }
    parentPort.postMessage([i, json]);
  }
}, () => {});
`;

/** Worker threads worth starting for this input: 0 = parse on this thread. */
export function parallelWorkers(sqls: readonly string[], cpus = availableParallelism()): number {
  if (sqls.length < 2 || cpus < MIN_CPUS) return 0;
  let bytes = 0;
  for (const s of sqls) bytes += s.length;
  if (bytes < PARALLEL_MIN_BYTES) return 0;
  return Math.min(cpus - 1, MAX_WORKERS, sqls.length - 1);
}

/**
 * Parse trees of every file, index for index; undefined entries (syntax errors, empty files, worker failures) are for
 * the caller's serial path. `workers` overrides the automatic choice (tests compare 0 with more); `mainThreadParses:
 * false` leaves every file to the workers (tests, so a fast main thread cannot take them all).
 */
export async function parseAll(
  sqls: readonly string[],
  workers = parallelWorkers(sqls),
  { mainThreadParses = true }: { mainThreadParses?: boolean } = {},
): Promise<Array<ParseTree | undefined>> {
  const out = new Array<ParseTree | undefined>(sqls.length).fill(undefined);
  const glue = workers > 0 ? parserGlue() : undefined;
  if (!glue) {
    for (const [i, sql] of sqls.entries()) out[i] = await parseHere(sql);
    return out;
  }
  const counter = new SharedArrayBuffer(4);
  const next = new Int32Array(counter);
  let answered = 0; // worker answers received (a tree, or null for "parse it serially")
  let expected = -1; // files the workers claimed, known once this thread has run out of files
  let failed = false;
  let finished = false;
  let wake: (() => void) | undefined;
  const settle = () => {
    if (failed || (expected >= 0 && answered >= expected)) wake?.();
  };
  const threads: Worker[] = [];
  for (let w = 0; w < workers; w++) {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { glue, sqls, counter } });
    worker.unref();
    worker.on('message', ([i, json]: [number, string | null]) => {
      if (json !== null) out[i] = JSON.parse(json) as ParseTree;
      answered++;
      settle();
    });
    // A worker that dies may have claimed a file without answering: stop waiting and parse what is missing here.
    const fail = () => {
      if (finished) return;
      failed = true;
      settle();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (code !== 0) fail();
    });
    threads.push(worker);
  }
  const mine = new Set<number>();
  for (let i = mainThreadParses ? Atomics.add(next, 0, 1) : sqls.length; i < sqls.length; i = Atomics.add(next, 0, 1)) {
    mine.add(i);
    out[i] = await parseHere(sqls[i] ?? '');
  }
  // Every index was claimed exactly once: the ones not parsed here belong to a worker.
  expected = sqls.length - mine.size;
  if (answered < expected && !failed) await new Promise<void>((resolve) => (wake = resolve));
  finished = true;
  for (const t of threads) void t.terminate();
  if (failed) {
    for (const [i, sql] of sqls.entries()) if (out[i] === undefined && !mine.has(i)) out[i] = await parseHere(sql);
  }
  return out;
}

async function parseHere(sql: string): Promise<ParseTree | undefined> {
  if (sql.trim() === '') return undefined;
  try {
    return await parse(sql);
  } catch {
    return undefined;
  }
}
