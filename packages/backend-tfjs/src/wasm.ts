/**
 * `@rectify/backend-tfjs/wasm`: switches tfjs to its wasm backend, in Node or a browser.
 * A separate entry point, so the main one never imports `@tensorflow/tfjs-backend-wasm`
 * (install it yourself when you use this). Bundlers targeting browsers take its `browser`
 * build, which has no Node imports (`node:module`, `node:path`) and leaves the binaries'
 * location to tfjs or to `wasmPaths`.
 *
 * @packageDocumentation
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { activateWasmBackend, type UseWasmBackendOptions } from './wasm-activation.js';

export type { UseWasmBackendOptions } from './wasm-activation.js';

/**
 * The folder of `@tensorflow/tfjs-backend-wasm`'s binaries: its main file sits in dist/,
 * next to the .wasm files; a folder path with a trailing slash is what `setWasmPaths`
 * wants in Node (no file:// URL).
 */
function nodeWasmFolder(): string {
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
 * await useWasmBackend(); // Node: the package's dist/ folder; browser: tfjs' default, or { wasmPaths }
 * const optimizer = new RAdamOptimizer({ lr: 1e-3 }); // runs on wasm
 * ```
 */
export async function useWasmBackend(options: UseWasmBackendOptions = {}): Promise<void> {
  await activateWasmBackend(options.wasmPaths ?? nodeWasmFolder());
}
