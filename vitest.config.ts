import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 60_000,
    // Each worker would otherwise start its own BLAS threads on our 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
