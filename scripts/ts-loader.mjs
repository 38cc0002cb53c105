// Lets Node >= 24 run the project's TypeScript directly, e.g. benches and the harness CLI:
//   node_modules/.bin/node --import ./scripts/ts-loader.mjs bench/x.bench.ts
// Node 24 strips types natively; this adds the two things it lacks for this code base:
//  - NodeNext-style relative imports `./foo.js` that really are `./foo.ts` resolve to the .ts file;
//  - JSON imported without `with { type: 'json' }` (done by @actions/workflow-parser) gets that attribute.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    let resolved;
    try {
      resolved = nextResolve(specifier, context);
    } catch (err) {
      const relative = specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('file:');
      if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !relative || !specifier.endsWith('.js')) throw err;
      resolved = nextResolve(`${specifier.slice(0, -3)}.ts`, context);
    }
    if (resolved.url.endsWith('.json') && !context.importAttributes?.type) {
      return { ...resolved, importAttributes: { ...context.importAttributes, type: 'json' } };
    }
    return resolved;
  },
});
