import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tiers by file suffix: *.unit.test.ts, *.int.test.ts, *.e2e.test.ts (see package.json).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Much of the test time is waiting (child processes, moto, retries, debounces): two files
    // at once on two cores. Each test starts its own servers on free ports.
    maxWorkers: 2,
  },
});
