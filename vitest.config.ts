import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Worker-thread tests spawn real threads; two forks match the 2-core CI machine.
    pool: 'forks',
    maxWorkers: 2,
  },
});
