/**
 * The backends the page offers: Rectify's tfjs backend on tfjs's best engine here, the
 * gpu.js backend in its best float32 mode, and the plain typed-array backend. (The Node
 * registry, `@rectify/all-backends`, holds Node-only entries such as ONNX Runtime, so the
 * page keeps its own short list.)
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { cpuBackend } from '@rectify/backend-cpu';
import { createGpujsBackend, gpujsBackend } from '@rectify/backend-gpujs';
import { tfjsBackend } from '@rectify/backend-tfjs';
import type { TensorBackend } from '@rectify/core';

// Vite serves the .wasm files under hashed names: tell tfjs where each one went.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
});

/** One choice of the page's backend menu. */
export interface WebBackend {
  readonly id: string;
  readonly label: string;
  create(): Promise<TensorBackend<any>>;
}

/** Rectify's tfjs backend on the first of `engines` that tfjs can start here. */
async function tfjsOn(engines: readonly string[]): Promise<TensorBackend<any>> {
  const failures: string[] = [];
  for (const engine of engines) {
    try {
      if (await tf.setBackend(engine)) {
        await tf.ready();
        return tfjsBackend();
      }
      failures.push(`${engine}: could not start`);
    } catch (error) {
      failures.push(`${engine}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`No tfjs engine started (${failures.join('; ')}).`);
}

/** Every backend of the menu, the default first. */
export const WEB_BACKENDS: readonly WebBackend[] = [
  { id: 'tfjs', label: 'tfjs: webgl, else wasm, else cpu', create: () => tfjsOn(['webgl', 'wasm', 'cpu']) },
  { id: 'tfjs-wasm', label: 'tfjs: wasm', create: () => tfjsOn(['wasm']) },
  { id: 'tfjs-cpu', label: 'tfjs: cpu', create: () => tfjsOn(['cpu']) },
  // Imported when picked: a page without WebGPU never loads it.
  { id: 'webgpu', label: 'Rectify WebGPU: WGSL, one dispatch per step', create: async () => (await import('@rectify/backend-webgpu')).createWebGpuBackend() },
  { id: 'gpujs', label: 'gpu.js: best float32 mode (webgpu, webgl2, webgl, webasm, cpu)', create: () => createGpujsBackend() },
  { id: 'gpujs-cpu', label: 'gpu.js: cpu', create: async () => gpujsBackend({ mode: 'cpu' }) },
  { id: 'cpu', label: 'Rectify cpu: Float32Array', create: async () => cpuBackend() },
];
