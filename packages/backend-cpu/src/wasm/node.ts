import { nodeHost } from './node-host.js';
import type { WasmCpuBackendOptions } from './options.js';
import { createWasmCpuBackend, type WasmCpuBackend } from './wasm-backend.js';

/**
 * A {@link WasmCpuBackend} for Node.js: the WebAssembly SIMD kernel on the calling thread
 * and `threads - 1` `worker_threads` over a shared memory (default: the available
 * parallelism, at most 8). Synchronous: the calling thread waits for the workers with
 * `Atomics.wait`. Call `dispose()` when done: it stops the workers.
 *
 * @throws RectifyError `INVALID_OPTION` naming the option that is out of range.
 *
 * @example
 * ```ts
 * const backend = await wasmCpuBackend({ threads: 2 });
 * const opt = new RAdam(backend, { lr: 1e-3 });
 * const { params, grads } = opt.registerResidentWeights({ w: initialWeights });
 * // each step: the model reads params.w and fills grads.w in place, then
 * opt.step(grads);
 * opt.dispose();
 * backend.dispose();
 * ```
 */
export function wasmCpuBackend(options: WasmCpuBackendOptions = {}): Promise<WasmCpuBackend> {
  return createWasmCpuBackend(nodeHost, options);
}
