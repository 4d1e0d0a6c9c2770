import { tfjsBackend } from '@rectify/backend-tfjs';
import { useWasmBackend } from '@rectify/backend-tfjs/wasm';
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

/**
 * TensorFlow.js. tfjs has one active backend per process: each `create()` activates its
 * own (`cpu` or `wasm`), so run one tfjs entry at a time.
 */
export const tfjsEntries: readonly BackendEntry[] = [
  {
    name: 'tfjs-cpu',
    description: 'TensorFlow.js cpu backend, fused float64 kernel',
    requiresGpu: false,
    unavailableReason: () => unavailable(useCpuBackend),
    create: async () => {
      await useCpuBackend();
      return tfjsBackend();
    },
  },
  {
    name: 'tfjs-wasm',
    description: 'TensorFlow.js wasm backend (XNNPACK), stock ops in one tf.tidy',
    requiresGpu: false,
    unavailableReason: () => unavailable(() => useWasmBackend()),
    create: async () => {
      await useWasmBackend();
      return tfjsBackend();
    },
  },
];
