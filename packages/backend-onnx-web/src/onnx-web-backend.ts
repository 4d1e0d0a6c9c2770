import type { FloatArray } from '@rectify/core';
import { createOnnxBackend, invalidOption, threadCount, type OnnxBackend, type OrtSessionOptions } from '@rectify/backend-onnx/runtime';
import * as ort from 'onnxruntime-web';

/**
 * Options of {@link onnxWebBackend}.
 *
 * @example
 * ```ts
 * onnxWebBackend({ dtype: 'float64', wasmPaths: '/ort/' });
 * ```
 */
export interface OnnxWebBackendOptions {
  /**
   * Element type of parameters and moments: `'float32'` (default, name `onnx-web`) or
   * `'float64'` (name `onnx-web64`; the wasm execution provider runs ONNX Runtime's CPU
   * kernels, which support double for every op the graphs use).
   */
  readonly dtype?: 'float32' | 'float64';
  /** Elements per `session.run` (default `262144`), as `onnxBackend`'s `chunkSize`. */
  readonly chunkSize?: number;
  /**
   * Sets `ort.env.wasm.numThreads` (global to ONNX Runtime Web; `0`: its default). Takes
   * effect only before the first session of the page or process is created: ONNX Runtime
   * Web starts its WebAssembly once. Unset, ONNX Runtime Web decides: in a browser one
   * thread unless the page is `crossOriginIsolated` (threads need `SharedArrayBuffer`),
   * in Node `min(4, ceil(cores / 2))`.
   */
  readonly numThreads?: number;
  /**
   * Sets `ort.env.wasm.wasmPaths` (global, same caveat as `numThreads`): where ONNX Runtime
   * Web fetches its `.wasm` (a URL prefix, or `{ wasm, mjs }` URLs). Unset, it loads the
   * file next to its own module: in Node from its package folder; in a browser, from where
   * your bundler put `onnxruntime-web`'s files (see the README for Vite).
   */
  readonly wasmPaths?: string | { readonly wasm?: string | URL; readonly mjs?: string | URL };
  /** Extra ONNX Runtime session options (execution providers stay `['wasm']`). */
  readonly sessionOptions?: OrtSessionOptions;
}

/** The ONNX Runtime Web backend: see {@link onnxWebBackend}. */
export type OnnxWebBackend<A extends FloatArray = FloatArray> = OnnxBackend<A, 'onnx-web' | 'onnx-web64'>;

/**
 * A Rectify backend on ONNX Runtime Web (`onnxruntime-web`, wasm execution provider), in
 * browsers, workers and Node. It is `@rectify/backend-onnx`'s backend (same graphs, same
 * all-or-nothing step, same {@link OnnxTensor}s, `wrap` without copying) over the
 * WebAssembly runtime: ONNX Runtime Web copies feeds into WebAssembly memory and returns
 * fresh outputs, which the backend copies back into your arrays, so parameters and moments
 * are still updated in place.
 *
 * Asynchronous (`synchronous: false`): `RAdam.step()` returns a promise; gradients are
 * captured (copied) when it is called.
 *
 * @throws RectifyError `INVALID_OPTION` for a bad `dtype`, `chunkSize`, `numThreads` or
 *   `wasmPaths`; nothing (not even `ort.env`) is changed then.
 * @example
 * ```ts
 * import { RAdam } from '@rectify/core';
 * import { onnxWebBackend } from '@rectify/backend-onnx-web';
 *
 * const backend = onnxWebBackend();
 * const w = backend.wrap(new Float32Array(1024));
 * const opt = new RAdam(backend, { lr: 1e-3 });
 * opt.registerTrainableWeights({ w });
 * await opt.step({ w: backend.wrap(gradient) }); // w's Float32Array is updated in place
 * backend.dispose();
 * ```
 */
export function onnxWebBackend(options: { dtype: 'float64' } & OnnxWebBackendOptions): OnnxWebBackend<Float64Array>;
export function onnxWebBackend(options?: { dtype?: 'float32' } & OnnxWebBackendOptions): OnnxWebBackend<Float32Array>;
export function onnxWebBackend(options?: OnnxWebBackendOptions): OnnxWebBackend;
export function onnxWebBackend(options: OnnxWebBackendOptions = {}): OnnxWebBackend {
  const threads = threadCount('numThreads', options.numThreads, 'ONNX Runtime Web');
  const paths = options.wasmPaths;
  if (paths !== undefined && typeof paths !== 'string' && (typeof paths !== 'object' || paths === null)) {
    throw invalidOption('wasmPaths', `must be a URL prefix or { wasm, mjs }, got ${String(paths)}.`);
  }
  // Validates dtype and chunkSize before ort.env is touched: a bad call changes nothing.
  const backend = createOnnxBackend(ort, {
    dtype: options.dtype,
    chunkSize: options.chunkSize,
    sessionOptions: { ...options.sessionOptions, executionProviders: ['wasm'] },
    names: { float32: 'onnx-web', float64: 'onnx-web64' },
    // ONNX Runtime Web 1.30 hands preallocated CPU outputs back unchanged.
    outputsInPlace: false,
    // Runs of two sessions in flight together fail or never settle on onnxruntime-web 1.30 wasm
    // EP (a step of two kinds, e.g. one tensor rectified and one not): one run at a time.
    concurrentRuns: false,
  });
  if (threads !== undefined) ort.env.wasm.numThreads = threads;
  if (paths !== undefined) ort.env.wasm.wasmPaths = paths as typeof ort.env.wasm.wasmPaths;
  return backend;
}
