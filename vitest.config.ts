import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The files that synthesize the CDK app. They run in their own project, without isolation: one
 * process per worker runs them one after the other, so that the app synthesized from the default
 * context, and the bundles of every synth, serve every file of the process
 * (test/support/synth.ts). None of them mocks modules or changes globals.
 */
const CDK_SYNTH = [
  'test/int/infra/{access,archiveBucket,deployability,failureBucket,monitoring,motoDeploy,nag,retained,stack}.int.test.ts',
];

/**
 * The unit tests, also without isolation: each worker imports the modules once for all of them
 * instead of once a file (most of a unit file's time was its imports). None of them mocks
 * modules or leaves a global changed (fake timers are restored after each test).
 */
const UNIT = ['test/**/*.unit.test.ts'];

/** The integration tests that set environment variables: each in a process of its own. */
const INT_ISOLATED = ['test/int/infra/{handlers,metrics}.int.test.ts'];

export default defineConfig({
  test: {
    // Tiers by file suffix: *.unit.test.ts, *.int.test.ts, *.e2e.test.ts (see package.json).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Much of the test time is waiting (child processes, moto, retries, debounces): two files
    // at once on two cores. Each test starts its own servers on free ports.
    maxWorkers: 2,
    globalSetup: ['test/globalSetup.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'cdk', include: CDK_SYNTH, isolate: false },
      },
      {
        extends: true,
        test: { name: 'unit', include: UNIT, isolate: false },
      },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['test/int/**/*.int.test.ts'],
          exclude: [...configDefaults.exclude, ...CDK_SYNTH, ...INT_ISOLATED],
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'default',
          include: ['test/e2e/**/*.e2e.test.ts', ...INT_ISOLATED],
        },
      },
    ],
  },
});
