// The `browser` build of `@rectify/backend-tfjs/wasm` (its types are those of wasm.ts):
// the same function without Node's module lookup, so that bundlers need no polyfills.
import { activateWasmBackend, type UseWasmBackendOptions } from './wasm-activation.js';

export type { UseWasmBackendOptions } from './wasm-activation.js';

/**
 * Registers tfjs' wasm backend, points it at `wasmPaths` (default: tfjs' own, next to its
 * script) and makes it the active tfjs backend.
 *
 * @throws Error when the wasm backend cannot start (binaries not found).
 */
export async function useWasmBackend(options: UseWasmBackendOptions = {}): Promise<void> {
  await activateWasmBackend(options.wasmPaths);
}
