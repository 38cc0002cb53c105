import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/app/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // workflow-parser imports JSON without import attributes; inlining lets vite handle it.
    // graphql-ws is inlined too so its server uses the same `graphql` instance as the emulator's schema.
    server: { deps: { inline: ['@actions/workflow-parser', 'graphql-ws'] } },
    pool: 'forks',
  },
});
