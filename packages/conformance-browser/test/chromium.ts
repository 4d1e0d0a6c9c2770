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

/**
 * {@link CHROMIUM_ARGS} with GPU compositing on SwiftShader instead of `--disable-gpu`, for
 * the browser-mode suite: with `--disable-gpu` (or the GPU blocklist a machine without a
 * GPU hits) Chromium composites in software, and a WebGPU canvas, which tfjs-webgpu's
 * `dataSync()` reads through, then reads back as zeros and loses every WebGPU device of
 * the page. ANGLE and Vulkan on SwiftShader give the canvas a GPU path.
 */
export const CHROMIUM_WEBGPU_CANVAS_ARGS: readonly string[] = [
  ...CHROMIUM_ARGS.filter((arg) => arg !== '--disable-gpu'),
  '--ignore-gpu-blocklist',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
];
