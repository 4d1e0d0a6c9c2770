import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // An X server for headless-gl where none is set.
    globalSetup: [fileURLToPath(import.meta.resolve('@rectify/conformance/xvfb'))],
  },
});
