import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../src/wasm.js';

/** Activates a tfjs backend for a test file (each test file runs in its own worker). */
export async function useTfjsBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') {
    await useWasmBackend();
    return;
  }
  if (!(await tf.setBackend(name))) throw new Error(`Could not activate the tfjs ${name} backend.`);
  await tf.ready();
}
