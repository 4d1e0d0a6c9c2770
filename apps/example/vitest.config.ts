import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The long-run test measures heap growth: with gc() exposed it measures live memory,
    // not whatever garbage happens to be uncollected.
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
    // An X server for the registry's headless-gl backend where none is set.
    globalSetup: [fileURLToPath(import.meta.resolve('@rectify/conformance/xvfb'))],
  },
});
