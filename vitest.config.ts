import { defineConfig } from 'vitest/config';

export default defineConfig({
  // TypeScript in .cts files too (Vite strips types from .ts and .mts only): the CommonJS modules a
  // replayed plan loads (src/cli/plan-replay.cts).
  oxc: { include: /\.[cm]?ts$/ },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
