// Prepares the process for libpg-query's WebAssembly parser. Must be imported before anything that imports
// libpg-query (which compiles its .wasm as soon as it is loaded).
//
// 1. libpg-query's Emscripten glue (the CommonJS build, which ncc bundles) finds libpg-query.wasm through `__dirname`,
//    which does not exist inside an ES-module bundle: parsing would fail with "ReferenceError: __dirname is not
//    defined". The build copies the .wasm next to each bundle that needs it, so point the glue at the bundle's own
//    directory. From source (tests, CLI via tsx) nothing changes: Node loads the CommonJS build with its own
//    __dirname, and no .wasm sits next to this file.
// 2. Baseline (Liftoff) code only. By default V8 re-compiles the hot parts of the 1.7 MB module with its optimising
//    compiler on background threads; in a short-lived process (the gate, the CLI) that compilation competes with the
//    parse for the CPU and process exit waits for it. Measured on 10,000 statements (bench/analyze.bench.ts, 2 cores):
//    ~1.0 s → ~0.3 s from process start to exit, while the optimised code would parse only ~20 % faster once ready.
//    The flags are read when a WebAssembly module is compiled, so they apply to libpg-query alone (no other wasm is
//    loaded by these processes); JavaScript is optimised as usual.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

const here = path.dirname(fileURLToPath(import.meta.url));
const g = globalThis as { __dirname?: unknown };
if (g.__dirname === undefined && existsSync(path.join(here, 'libpg-query.wasm'))) g.__dirname = here;

v8.setFlagsFromString('--no-wasm-tier-up');
v8.setFlagsFromString('--no-wasm-dynamic-tiering');
