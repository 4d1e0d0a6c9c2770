/// <reference types="@vitest/browser/providers/playwright" />
import { existsSync } from 'node:fs';
import { REQUIRE_ALL_BACKENDS_VARIABLE } from '@rectify/conformance';
import { defineConfig } from 'vitest/config';
import { CHROMIUM, CHROMIUM_ARGS, CHROMIUM_WEBGPU_CANVAS_ARGS } from './test/chromium.js';

/** A project of `suite/` files in a headless Chromium started with `args`. */
function suiteProject(name: string, include: string[], args: readonly string[], groupOrder: number) {
  return {
    name,
    include,
    // One group after the other: the projects' browsers share the one software GPU.
    sequence: { groupOrder },
    setupFiles: ['suite/setup.ts'],
    browser: {
      enabled: existsSync(CHROMIUM),
      provider: 'playwright',
      headless: true,
      screenshotFailures: false,
      instances: [{ browser: 'chromium', launch: { executablePath: CHROMIUM, args: [...args] } }],
    },
  };
}

/**
 * The whole conformance suite (`describeBackendConformance`) inside headless Chromium:
 * vitest's browser mode runs the test files of `suite/` in a page, where `webgpu` uses
 * `navigator.gpu`. `@rectify/conformance` picks its browser build of the goldens there
 * (the `browser` condition of `#bundled-goldens`).
 *
 * Two projects, each its own Chromium: the `webgpu` files with {@link CHROMIUM_ARGS}, the
 * `tfjs-webgpu` ones with {@link CHROMIUM_WEBGPU_CANVAS_ARGS} (see there).
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
    // One software GPU shared by every test: files one after another.
    fileParallelism: false,
    projects: [
      { extends: true, test: suiteProject('chromium', ['suite/webgpu*.test.ts'], CHROMIUM_ARGS, 0) },
      // tfjs-webgpu's dataSync() reads through a WebGPU canvas: GPU compositing, and a
      // browser of its own (after canvas readbacks, a torn-down page loses the next
      // page's devices on SwiftShader).
      { extends: true, test: suiteProject('chromium (WebGPU canvas)', ['suite/tfjs-webgpu*.test.ts'], CHROMIUM_WEBGPU_CANVAS_ARGS, 1) },
    ],
  },
});
