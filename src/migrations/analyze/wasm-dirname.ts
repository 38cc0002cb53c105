// libpg-query's Emscripten glue (the CommonJS build, which ncc bundles) finds libpg-query.wasm through `__dirname`,
// which does not exist inside an ES-module bundle: parsing would fail with "ReferenceError: __dirname is not defined".
// The build copies the .wasm next to each bundle that needs it, so point the glue at the bundle's own directory.
// Must be imported before anything that imports libpg-query. From source (tests, CLI via tsx) nothing changes:
// Node loads the CommonJS build with its own __dirname, and no .wasm sits next to this file.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const g = globalThis as { __dirname?: unknown };
if (g.__dirname === undefined && existsSync(path.join(here, 'libpg-query.wasm'))) g.__dirname = here;
