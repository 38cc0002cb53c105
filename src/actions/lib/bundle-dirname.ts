// Import this FIRST in an entry point whose bundle contains libpg-query. Its Emscripten glue (a CommonJS module
// inside our ESM bundle) locates libpg-query.wasm via the CommonJS global `__dirname`, which does not exist in ES
// modules; a free `__dirname` falls back to globalThis, so point it at the bundle's directory, where
// scripts/build.mjs copies the .wasm file.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const g = globalThis as { __dirname?: string };
g.__dirname ??= path.dirname(fileURLToPath(import.meta.url));
