import { configDefaults, defineConfig } from 'vitest/config';
import { LEVELS, LISTED_FILES, TEST_FILES } from './test/levels.js';

export default defineConfig({
  plugins: [
    {
      // Inlined dependencies ship sourcemaps pointing at sources they do not publish; vite warns once per file
      // (70+ lines per run) about something that is not ours. Drop exactly that warning, keep all others.
      name: 'quiet-missing-dependency-sources',
      configResolved(config) {
        const warnOnce = config.logger.warnOnce.bind(config.logger);
        config.logger.warnOnce = (msg, options) => {
          if (!msg.includes('points to missing source files')) warnOnce(msg, options);
        };
      },
    },
  ],
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // workflow-parser imports JSON without import attributes; inlining lets vite handle it.
    // graphql-ws is inlined too so its server uses the same `graphql` instance as the emulator's schema.
    server: { deps: { inline: ['@actions/workflow-parser', 'graphql-ws'] } },
    pool: 'forks',
    // One project per test level (test/levels.ts): `vitest run --project unit`; without --project, all of them.
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: TEST_FILES, exclude: [...configDefaults.exclude, ...LISTED_FILES] },
      },
      ...Object.entries(LEVELS).map(([name, files]) => ({
        extends: true as const,
        test: { name, include: [...files] },
      })),
    ],
  },
});
