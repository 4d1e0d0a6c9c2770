// The check's own knowledge of the READMEs and the packages: what a snippet's placeholders
// are (kept here, not in the README text), where a snippet can run, which entry points are
// meant for browsers.

/** How the check treats one README snippet. */
export interface SnippetConfig {
  /**
   * TypeScript placed before the snippet: `declare` lines for placeholders (`initialW`,
   * `data`, …), or real definitions when the snippet is to run. Imports allowed.
   */
  prelude?: string;
  /**
   * Why the snippet is compiled and bundled but not run in Node (it needs a GPU, a browser
   * or a test runner; or its prelude only declares). Absent: it runs, before and after
   * bundling.
   */
  noRun?: string;
  /**
   * Why the snippet is not bundled for the browser although every module it imports has a
   * browser entry. Absent: decided by its imports (see {@link BROWSER_SPECIFIERS}).
   */
  noBrowser?: string;
}

/**
 * The module specifiers a browser page may import: core, backend-cpu (its `browser`
 * condition: `cpuBackend` and `wasmCpuBackend`), backend-webgpu, backend-tfjs (`/wasm` by
 * its `browser` condition, without Node's module lookup), and the tfjs packages those
 * take. A snippet importing only these is bundled for the browser too; the entries are what `pnpm sizes` measures for the browser.
 */
export const BROWSER_SPECIFIERS: ReadonlySet<string> = new Set([
  '@rectify/core',
  '@rectify/core/browser',
  '@rectify/backend-cpu',
  '@rectify/backend-webgpu',
  '@rectify/backend-tfjs',
  '@rectify/backend-tfjs/webgpu',
  '@rectify/backend-tfjs/wasm',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-webgpu',
]);

/**
 * Packages a Node bundle keeps external, as a user bundling for Node must: those with
 * native addons (`.node` files: esbuild cannot inline a shared library), and
 * onnxruntime-web, which loads its `.wasm` from its own package folder.
 */
export const NATIVE_PACKAGES: readonly string[] = ['onnxruntime-node', 'onnxruntime-web', 'webgpu', 'gl'];

const DAWN = 'needs a WebGPU adapter (Dawn on a Vulkan driver): the backend conformance suites run this path';

/**
 * Entry points that load only inside a vitest run (vitest refuses to be imported
 * elsewhere): left out of the `import()` / `require()` probe.
 */
export const VITEST_ONLY_ENTRIES: ReadonlySet<string> = new Set(['@rectify/conformance/vitest']);

/** Per snippet, by {@link Snippet.key}: every key must name a snippet of the READMEs. */
export const SNIPPETS: Readonly<Record<string, SnippetConfig>> = {
  'README.md § Use it': {
    prelude: [
      'const initialW = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i));',
      'const data = [0.5, -0.25, 1];',
      // The trees come back with the keys passed in: { w, b } of Float32Arrays on cpu-wasm.
      'type Weights = { readonly w: Float32Array; readonly b: Float32Array };',
      'function writeGradients(grads: Weights, params: Weights, batch: number): void {',
      '  grads.w.fill(batch * params.w.length);',
      '  grads.b.fill(batch);',
      '}',
    ].join('\n'),
  },
  'README.md § Checkpoints': {
    prelude: [
      "import { RAdam } from '@rectify/core';",
      "import { cpuBackend } from '@rectify/backend-cpu';",
      'const opt = new RAdam(cpuBackend(), { lr: 1e-2 });',
      'opt.registerTrainableWeights({ w: new Float32Array([1, 2, 3]) });',
      'opt.step({ w: new Float32Array([0.5, -0.5, 1]) });',
      'const epoch = 3;',
    ].join('\n'),
  },
  'packages/core/README.md § @rectify/core': {
    prelude: 'const gKernel = new Float32Array(64).fill(0.1);\nconst gBias = new Float32Array(8).fill(-0.1);',
  },
  'packages/backend-cpu/README.md § @rectify/backend-cpu': {
    prelude: 'const gradient = new Float32Array(1024).fill(0.25);',
  },
  'packages/backend-cpu/README.md § Fast float32: `wasmCpuBackend` (WebAssembly SIMD, worker threads; Node and browsers)': {
    prelude: 'const initialWeights = new Float32Array(1024).fill(1);',
  },
  'packages/conformance/README.md § In your backend\'s tests': {
    prelude: "import type { TensorBackend } from '@rectify/core';\ndeclare function createMyBackend(): TensorBackend<Float32Array>;",
    noRun: 'a vitest test file: it runs under vitest, not as a program',
  },
  'packages/backend-tfjs/README.md § Train a tfjs-layers model': {
    prelude: "import * as tfPrelude from '@tensorflow/tfjs';\nconst xs = tfPrelude.randomNormal([32, 4], 0, 1, 'float32', 1);\nconst ys = xs.sum(1, true);",
  },
  'packages/backend-tfjs/README.md § Serialization': {
    prelude: "import type * as tfTypes from '@tensorflow/tfjs';\ndeclare const model: tfTypes.LayersModel;\ndeclare const xs: tfTypes.Tensor;\ndeclare const ys: tfTypes.Tensor;",
    noRun: '`indexeddb://` is a browser scheme',
  },
  'packages/backend-tfjs/README.md § Backends': {},
  'packages/backend-tfjs/README.md § Backends #2': { noRun: DAWN },
  'packages/backend-tfjs/README.md § Sync or async (core backend)': {
    prelude: "import * as tfPrelude from '@tensorflow/tfjs';\nconst w = tfPrelude.variable(tfPrelude.zeros([4]));\nconst grad = tfPrelude.ones([4]);",
  },
  'packages/backend-webgpu/README.md § @rectify/backend-webgpu': {
    prelude: 'declare const initialWeights: Float32Array;\ndeclare const gradient: Float32Array;',
    noRun: `${DAWN}; its prelude only declares`,
  },
  'packages/backend-webgpu/README.md § @rectify/backend-webgpu #2': { noRun: DAWN },
  'packages/backend-onnx/README.md § @rectify/backend-onnx': {
    prelude: 'const gradient = new Float32Array(1_000_000).fill(0.5);',
  },
  'packages/backend-onnx/README.md § The portable step graph: `exportRAdamStep(options, path)` / `buildRAdamStepModel(options)`': {},
  'packages/backend-onnx-web/README.md § @rectify/backend-onnx-web': {
    prelude: 'const gradient = new Float32Array(1_000_000).fill(0.5);',
  },
  'packages/backend-gpujs/README.md § @rectify/backend-gpujs': {
    prelude: 'const initialWeights = new Float32Array(256 * 128).fill(1);\nconst gradient = new Float32Array(256 * 128).fill(0.5);',
  },
  'packages/backend-gpujs/README.md § Modes': { noRun: DAWN },
};
