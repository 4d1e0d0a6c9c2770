/**
 * `@rectify/backend-tfjs/wasm`: switches tfjs to its wasm backend, in Node or a browser.
 * A separate entry point, so the main one never imports `@tensorflow/tfjs-backend-wasm`
 * (install it yourself when you use this).
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs';
import type { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/**
 * Options of {@link useWasmBackend}.
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

/** The folder of `@tensorflow/tfjs-backend-wasm`'s binaries when running in Node, else `undefined`. */
async function nodeWasmFolder(): Promise<string | undefined> {
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string') return undefined;
  const { createRequire } = await import('node:module');
  const { dirname } = await import('node:path');
  // The package's main file sits in dist/, next to the .wasm files; a folder path with a
  // trailing slash is what setWasmPaths wants in Node (no file:// URL).
  return `${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))}/`;
}

/**
 * Registers tfjs' wasm backend, points it at its binaries, and makes it the active tfjs
 * backend. Call it before creating an optimizer or a backend (they bind to the backend
 * active at creation).
 *
 * @throws Error when the wasm backend cannot start (missing package or binaries).
 * @example
 * ```ts
 * import { useWasmBackend } from '@rectify/backend-tfjs/wasm';
 * await useWasmBackend();
 * const optimizer = new RAdamOptimizer({ lr: 1e-3 }); // runs on wasm
 * ```
 */
export async function useWasmBackend(options: UseWasmBackendOptions = {}): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const paths = options.wasmPaths ?? (await nodeWasmFolder());
  // Must happen before the backend initialises; later calls are ignored by tfjs.
  if (paths !== undefined) wasm.setWasmPaths(paths);
  if (!(await tf.setBackend('wasm'))) throw new Error('The tfjs wasm backend could not be initialised.');
  await tf.ready();
}
