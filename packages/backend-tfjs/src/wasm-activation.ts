import * as tf from '@tensorflow/tfjs';
import type { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/**
 * Options of `useWasmBackend`.
 *
 * @example
 * ```ts
 * await useWasmBackend({ wasmPaths: 'https://cdn.jsdelivr.net/npm/@tensorflow/tfjs-backend-wasm@4.22.0/dist/' });
 * ```
 */
export interface UseWasmBackendOptions {
  /**
   * Where the `.wasm` binaries are: a folder (ending in `/`) or a map of file names to
   * URLs, as `setWasmPaths` takes. Default in Node: the `dist/` folder of the installed
   * `@tensorflow/tfjs-backend-wasm`; in a browser: tfjs' own default (next to its script).
   */
  readonly wasmPaths?: Parameters<typeof setWasmPaths>[0];
}

/**
 * Registers tfjs' wasm backend, points it at `paths` (when given) and makes it the active
 * tfjs backend: what both entries of `./wasm` (Node, browser) share; they differ only in
 * the default binaries' folder.
 */
export async function activateWasmBackend(paths: UseWasmBackendOptions['wasmPaths']): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // Must happen before the backend initialises; later calls are ignored by tfjs.
  if (paths !== undefined) wasm.setWasmPaths(paths);
  if (!(await tf.setBackend('wasm'))) throw new Error('The tfjs wasm backend could not be initialised.');
  await tf.ready();
}
