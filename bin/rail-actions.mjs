#!/usr/bin/env node
// rail-actions CLI: runs the bundled build (dist/cli/index.js, produced by `npm run build`), so `npx rail-actions`
// needs no TypeScript toolchain.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write(
    "error: dist/cli/index.js is missing; run 'npm run build' (or 'node scripts/build.mjs cli') first.\n",
  );
  process.exit(1);
}
await import(bundle.href);
