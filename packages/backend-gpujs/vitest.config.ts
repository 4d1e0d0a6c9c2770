import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // An X server for headless-gl where none is set (see the file).
    globalSetup: ['test/setup/xvfb.ts'],
  },
});
