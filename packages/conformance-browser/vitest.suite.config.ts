/// <reference types="@vitest/browser/providers/playwright" />
import { existsSync } from 'node:fs';
import { REQUIRE_ALL_BACKENDS_VARIABLE } from '@rectify/conformance';
import { defineConfig } from 'vitest/config';
import { CHROMIUM, CHROMIUM_WEBGPU_CANVAS_ARGS } from './test/chromium.js';

/**
 * The whole conformance suite (`describeBackendConformance`) inside headless Chromium:
 * vitest's browser mode runs the test files of `suite/` in a page, where `webgpu` uses
 * `navigator.gpu`. `@rectify/conformance` picks its browser build of the goldens there
 * (the `browser` condition of `#bundled-goldens`).
 *
 * Without Chromium the files run in Node instead, where each finds no browser and skips
 * with the reason (off CI) or fails (CI, `RECTIFY_REQUIRE_ALL_BACKENDS=1`).
 */
export default defineConfig({
  // The page has no `process`: the suite's environment check reads this variable from a
  // `process.env` the setup file fills from here (the Node process vitest runs in).
  define: {
    __RECTIFY_REQUIRE_ALL_BACKENDS__: JSON.stringify(process.env[REQUIRE_ALL_BACKENDS_VARIABLE] ?? ''),
  },
  optimizeDeps: {
    // Found up front, so the page never reloads mid-run to optimise a late-found one.
    include: ['@rectify/conformance > fast-check'],
  },
  test: {
    include: ['suite/**/*.test.ts'],
    setupFiles: ['suite/setup.ts'],
    // One software GPU shared by every test: files one after another.
    fileParallelism: false,
    browser: {
      enabled: existsSync(CHROMIUM),
      provider: 'playwright',
      headless: true,
      screenshotFailures: false,
      instances: [{ browser: 'chromium', launch: { executablePath: CHROMIUM, args: [...CHROMIUM_WEBGPU_CANVAS_ARGS] } }],
    },
  },
});
