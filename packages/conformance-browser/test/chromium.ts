/**
 * Where this package finds Chromium and how it starts it: one place for the page runner
 * (`test/browser-conformance.test.ts`, playwright-core) and the browser-mode suite
 * (`vitest.suite.config.ts`, vitest's playwright provider).
 */

/** Debian's Chromium (`apt-get install chromium`); no tool here downloads a browser. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless flags that work on a machine without a GPU or a sandbox, plus WebGPU: headless
 * Chromium exposes `navigator.gpu` (on SwiftShader) only with `--enable-unsafe-webgpu`;
 * WebGL2 and WebGL need no flag (ANGLE on SwiftShader), `--disable-gpu` notwithstanding.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];
