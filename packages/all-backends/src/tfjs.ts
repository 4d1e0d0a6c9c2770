import { tfjsBackend } from '@rectify/backend-tfjs';
import { useWasmBackend } from '@rectify/backend-tfjs/wasm';
import { useWebGpuBackend } from '@rectify/backend-tfjs/webgpu';
import { loadNodeWebGpu } from '@rectify/conformance/node-webgpu';
import * as tf from '@tensorflow/tfjs';
import type { BackendEntry } from './backend-entry.js';

async function unavailable(activate: () => Promise<void>): Promise<string | undefined> {
  try {
    await activate();
    return undefined;
  } catch (error) {
    return `tfjs backend cannot start here: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function useCpuBackend(): Promise<void> {
  if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") failed');
  await tf.ready();
}

/** tfjs' WebGPU backend on Dawn's WebGPU (SwiftShader where the machine has no GPU). */
async function useNodeWebGpu(): Promise<void> {
  const webgpu = await loadNodeWebGpu();
  if (webgpu.unavailable !== undefined) throw new Error(webgpu.unavailable);
  await useWebGpuBackend({ gpu: webgpu.gpu });
}

/**
 * tfjs' WebGL backend needs a browser's WebGL; this registry runs in Node, where tfjs has
 * no webgl backend at all (packages/conformance-browser runs it in headless Chromium).
 */
const WEBGL_IN_NODE =
  'browser only: tfjs-webgl needs WebGL, which Node lacks (its conformance runs in headless Chromium: packages/conformance-browser)';

/**
 * TensorFlow.js. tfjs has one active backend per process: each `create()` activates its
 * own (`cpu`, `wasm` or `webgpu`), so run one tfjs entry at a time.
 */
export const tfjsEntries: readonly BackendEntry[] = [
  tfjsEntry('tfjs-cpu', 'TensorFlow.js cpu backend, fused float64 kernel', false, useCpuBackend),
  tfjsEntry('tfjs-wasm', 'TensorFlow.js wasm backend (XNNPACK), stock ops in one tf.tidy', false, () => useWasmBackend()),
  {
    name: 'tfjs-webgl',
    description: 'TensorFlow.js webgl backend (browsers), stock ops, asynchronous reads',
    requiresGpu: true,
    browserOnly: true,
    unavailableReason: async () => WEBGL_IN_NODE,
    create: () => Promise.reject(new Error(WEBGL_IN_NODE)),
  },
  tfjsEntry('tfjs-webgpu', "TensorFlow.js webgpu backend (Dawn in Node), Rectify's WGSL kernel: one dispatch per step", true, useNodeWebGpu),
];

/** Rectify's tfjs backend on the tfjs engine that `activate` makes the active one. */
function tfjsEntry(name: string, description: string, requiresGpu: boolean, activate: () => Promise<void>): BackendEntry {
  return {
    name,
    description,
    requiresGpu,
    unavailableReason: () => unavailable(activate),
    create: async () => {
      await activate();
      return tfjsBackend();
    },
  };
}
