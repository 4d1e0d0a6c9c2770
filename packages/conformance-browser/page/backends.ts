/**
 * The backends the conformance page can replay the goldens on: every one a browser can run
 * (from their browser entries, as bundlers pick them; `cpu-wasm` on Web Workers and on one
 * thread). One entry each, in the registry's shape (`BackendEntry` of
 * `@rectify/all-backends`, whose Node list holds Node-only backends).
 *
 * To add a backend, add one line to {@link PAGE_BACKENDS} (as `webgpu` is) and the package
 * to this package's dependencies. The Node test reads the names from
 * here, so the new backend gets its own tests, one per golden case, with no other change.
 * Every import of a backend is dynamic, so that this list loads in Node (for the names)
 * and a page pulls in only the backend it replays.
 */
import type { BackendEntry } from '@rectify/all-backends';
import type { WasmCpuBackendOptions } from '@rectify/backend-cpu';
import type { TensorBackend } from '@rectify/core';
import type { PageCheck } from './cpu-wasm-checks.js';

/** The WebGPU entry point, as far as these checks need it (no WebGPU type package). */
interface NavigatorGpu {
  readonly gpu?: { requestAdapter(): Promise<{ readonly info?: { vendor: string; architecture: string; description: string } } | null> };
}

/**
 * Why this page has no WebGPU adapter, or `undefined` when it has one (Chromium needs
 * `--enable-unsafe-webgpu` for it headless; its adapter is then SwiftShader's).
 */
export async function webGpuMissing(): Promise<string | undefined> {
  const gpu = (navigator as NavigatorGpu).gpu;
  if (gpu === undefined) return 'navigator.gpu is missing (Chromium: --enable-unsafe-webgpu)';
  const adapter = await gpu.requestAdapter().catch(() => null);
  return adapter === null ? 'navigator.gpu has no adapter' : undefined;
}

/**
 * An entry of the page's registry: a {@link BackendEntry}, plus what the page must be
 * served with and what the backend must report there.
 */
export interface PageBackendEntry extends BackendEntry {
  /**
   * Open the page cross-origin isolated: the test server (Vite, `page/vite.config.ts`)
   * then sends `Cross-Origin-Opener-Policy: same-origin` and
   * `Cross-Origin-Embedder-Policy: require-corp`, for a URL whose query has `isolated`.
   */
  readonly crossOriginIsolated?: boolean;
  /** The `threading` every backend made must report (`cpu-wasm`: workers, or single and why). */
  readonly threading?: string;
  /** The page's own checks of this backend, beyond the goldens and the common checks (loaded when run). */
  readonly checks?: () => Promise<readonly PageCheck[]>;
}

/** Why this page has no `kind` context, or `undefined` when it can make one. */
function glMissing(kind: 'webgl2' | 'webgl'): () => Promise<string | undefined> {
  return async () => (document.createElement('canvas').getContext(kind) === null ? `no ${kind} context in this page` : undefined);
}

/**
 * Makes tfjs' wasm backend the active one through `@rectify/backend-tfjs/wasm` (its
 * `browser` build), with the binaries' URLs from Vite: under the dev server tfjs' script
 * is a pre-bundled copy, and its default ("next to the script") finds no `.wasm` there.
 */
async function useTfjsWasm(): Promise<void> {
  const [{ useWasmBackend }, plain, simd, threaded] = await Promise.all([
    import('@rectify/backend-tfjs/wasm'),
    import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url'),
    import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url'),
    import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url'),
  ]);
  await useWasmBackend({
    wasmPaths: {
      'tfjs-backend-wasm.wasm': plain.default,
      'tfjs-backend-wasm-simd.wasm': simd.default,
      'tfjs-backend-wasm-threaded-simd.wasm': threaded.default,
    },
  });
}

/** Rectify's tfjs backend on tfjs' `engine`, made the active one first. */
async function tfjsOn(engine: 'cpu' | 'wasm' | 'webgl' | 'webgpu'): Promise<TensorBackend<any>> {
  const tf = await import('@tensorflow/tfjs');
  if (engine === 'wasm') {
    await useTfjsWasm();
  } else if (engine === 'webgpu') {
    await (await import('@rectify/backend-tfjs/webgpu')).useWebGpuBackend();
  } else {
    if (!(await tf.setBackend(engine))) throw new Error(`tf.setBackend("${engine}") failed`);
    await tf.ready();
  }
  return (await import('@rectify/backend-tfjs')).tfjsBackend();
}

/** A gpu.js backend in an explicit `mode` (never a fallback: the mode is what is tested). */
async function gpujsIn(mode: 'webgpu' | 'webgl2' | 'webgl'): Promise<TensorBackend<any>> {
  const { createGpujsBackend } = await import('@rectify/backend-gpujs');
  return createGpujsBackend({ mode });
}

function entry(
  name: string,
  description: string,
  unavailableReason: () => Promise<string | undefined>,
  create: () => Promise<TensorBackend<any>>,
): PageBackendEntry {
  return { name, description, requiresGpu: true, unavailableReason, create };
}

/** An entry that needs no GPU and no particular page headers. */
function cpuEntry(name: string, description: string, create: () => Promise<TensorBackend<any>>): PageBackendEntry {
  return { name, description, requiresGpu: false, unavailableReason: async () => undefined, create };
}

/**
 * `cpu-wasm` from the package's browser entry, on a page that is cross-origin isolated
 * (Web Workers over a shared memory) or not (one thread over a plain memory). Both ask
 * for 2 threads: the isolated one gets them whatever the machine's core count, the other
 * must fall back to 1. The isolated one cuts every job into 4-element chunks with no
 * parallel threshold, so that the workers take part even in the tiny golden cases.
 */
function cpuWasm(isolated: boolean): PageBackendEntry {
  const options: WasmCpuBackendOptions = isolated ? { threads: 2, chunkElements: 4, parallelThreshold: 0 } : { threads: 2 };
  return {
    name: isolated ? 'cpu-wasm-isolated' : 'cpu-wasm',
    description: isolated
      ? 'WebAssembly SIMD kernel on Web Workers (cross-origin isolated page)'
      : 'WebAssembly SIMD kernel on one thread (page not cross-origin isolated)',
    requiresGpu: false,
    crossOriginIsolated: isolated,
    threading: isolated ? 'workers' : 'single: not cross-origin isolated',
    unavailableReason: async () =>
      globalThis.crossOriginIsolated === isolated
        ? undefined
        : `the page is ${isolated ? 'not ' : ''}cross-origin isolated (the test server sends COOP/COEP when the query has "isolated")`,
    create: async () => (await import('@rectify/backend-cpu')).wasmCpuBackend(options),
    checks: async () => (await import('./cpu-wasm-checks.js')).cpuWasmChecks({ threads: options.threads! }),
  };
}

/** Every backend the page offers, by the name the query string (`?backend=`) takes. */
export const PAGE_BACKENDS: readonly PageBackendEntry[] = [
  cpuEntry('cpu', 'TypeScript over Float32Array (the browser entry of @rectify/backend-cpu)', async () => (await import('@rectify/backend-cpu')).cpuBackend()),
  cpuEntry('cpu64', 'TypeScript over Float64Array (the browser entry of @rectify/backend-cpu)', async () => (await import('@rectify/backend-cpu')).cpuBackend({ dtype: 'float64' })),
  cpuWasm(true),
  cpuWasm(false),
  cpuEntry('onnx-web', 'ONNX Runtime Web, wasm execution provider (the step as an ONNX graph)', async () => (await import('@rectify/backend-onnx-web')).onnxWebBackend()),
  entry('webgpu', 'Rectify WGSL kernels, one dispatch per step (WebGPU)', webGpuMissing, async () => (await import('@rectify/backend-webgpu')).createWebGpuBackend()),
  entry('gpujs-webgpu', 'gpu.js WGSL compute shaders (WebGPU)', webGpuMissing, () => gpujsIn('webgpu')),
  entry('gpujs-webgl2', 'gpu.js GLSL fragment shaders (WebGL2)', glMissing('webgl2'), () => gpujsIn('webgl2')),
  entry('gpujs-webgl', 'gpu.js GLSL fragment shaders (WebGL)', glMissing('webgl'), () => gpujsIn('webgl')),
  entry('tfjs-webgl', 'TensorFlow.js webgl backend, asynchronous reads', glMissing('webgl'), () => tfjsOn('webgl')),
  entry('tfjs-webgpu', 'TensorFlow.js webgpu backend, asynchronous reads', webGpuMissing, () => tfjsOn('webgpu')),
  cpuEntry('tfjs-wasm', "TensorFlow.js wasm backend (the browser build of @rectify/backend-tfjs/wasm), Rectify's fused kernel", () => tfjsOn('wasm')),
  cpuEntry('tfjs-cpu', 'TensorFlow.js cpu backend, synchronous', () => tfjsOn('cpu')),
];
