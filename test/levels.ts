// Which level each test file belongs to (vitest.config.ts makes one vitest project per level; `npm run test:<level>`
// runs one, `npm test` all). Files stay where they are; a file belongs to the heaviest thing it exercises:
//   integration  real PostgreSQL 15 + pgvector, Redis, the Railway emulator or real app processes, driven in-process
//   bundles      the committed dist/ bundles, run as the runner runs them (test/harness) or as the CLI binary
//   repo         the repository itself: dist/ against a fresh build, generated docs, workflows, lockfile, pins, releases
//   unit         everything else: pure code, no services (the default for a file listed nowhere;
//                test/test-levels.test.ts fails when such a file reaches for a service)

/** Every test file vitest runs (the union of the levels). */
export const TEST_FILES = ['test/**/*.test.ts', 'examples/app/test/**/*.test.ts'];

export const LEVELS = {
  integration: [
    'examples/app/test/app.test.ts',
    'test/backup.test.ts',
    'test/emulator-fixture.test.ts',
    'test/example-app.test.ts',
    'test/health.test.ts',
    'test/migrate-gate-corpus.test.ts',
    'test/migrate-pending.test.ts',
    'test/migrate-runner.test.ts',
    'test/railway-client.test.ts',
    'test/railway-emulator.test.ts',
    'test/railway-faults.test.ts',
    'test/railway-platform.test.ts',
    'test/services.test.ts',
    'test/test-services.test.ts',
  ],
  bundles: [
    'test/approval.test.ts',
    'test/cli.test.ts',
    'test/demo.test.ts',
    'test/github-deployment.test.ts',
    'test/harness.test.ts',
    'test/health-check-action.test.ts',
    'test/inputs-fuzz.test.ts',
    'test/migrate-action.test.ts',
    'test/migrate-crash.test.ts',
    'test/migrate-gate.test.ts',
    'test/parity.test.ts',
    'test/parity-migrate.test.ts',
    'test/promotion.test.ts',
    'test/railway-deploy.test.ts',
    'test/release-faults.test.ts',
    'test/release.test.ts',
    'test/rollback.test.ts',
    'test/secrets.test.ts',
  ],
  repo: [
    'test/check-dist.test.ts',
    'test/docs.test.ts',
    'test/lockfile.test.ts',
    'test/promotion-scenarios.test.ts',
    'test/railway-operations.test.ts',
    'test/railway-schema.test.ts',
    'test/release-process.test.ts',
    'test/setup-action.test.ts',
    'test/test-levels.test.ts',
    'test/workflow-scenarios.test.ts',
    'test/workflows.test.ts',
  ],
} as const;

export type Level = keyof typeof LEVELS | 'unit';

/** The files of the levels other than unit (unit is what is left). */
export const LISTED_FILES: readonly string[] = Object.values(LEVELS).flat();
