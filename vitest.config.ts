import { defineConfig } from 'vitest/config';

/**
 * Five tiers. `unit`: tests beside the code, in process, on the embedded adapters. `integration`: the
 * contract suite (embedded and real adapters side by side) and the races, against real MariaDB, Redis
 * and Kafka that the global setup brings up (or takes from DATABASE_URL, REDIS_URL, KAFKA_BROKERS).
 * `fault`: two server processes under load while their own MariaDB, Redis and Kafka are killed.
 * `browser`: the pages in a real Chromium.
 * `deploy`: images, Knative manifests, Terraform and workflows validated offline with real tools.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'shared/**/*.test.ts',
            'functions/**/*.test.ts',
            'triggers/**/*.test.ts',
            'scripts/**/*.test.ts',
            'bench/**/*.test.ts',
            'rehearse/**/*.test.ts',
          ],
          testTimeout: 15_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/contract/**/*.test.ts', 'tests/integration/**/*.test.ts'],
          globalSetup: ['tests/setup/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Suites share the real servers; running files one at a time keeps a 2-core machine honest.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'fault',
          // Its own MariaDB, Redis and Kafka, killed and restarted under load (tests/fault/); run alone,
          // like the integration files, so the machine's other suites do not skew its timings.
          include: ['tests/fault/**/*.test.ts'],
          testTimeout: 10_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'browser',
          // The pages in Debian's Chromium (playwright-core, headless) against `npm start` in embedded mode.
          include: ['tests/browser/**/*.test.ts'],
          globalSetup: ['tests/setup/browser-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'deploy',
          // Deployment assets checked with real tools (kustomize, CRD schemas, checkov, actionlint, esbuild
          // bundles); the tools are installed into .tools/ on first use.
          include: ['tests/deploy/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
