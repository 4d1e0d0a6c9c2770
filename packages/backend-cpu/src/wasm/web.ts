import type { WasmCpuBackendOptions } from './options.js';
import { webHost } from './web-host.js';
import { createWasmCpuBackend, type WasmCpuBackend } from './wasm-backend.js';

/**
 * A {@link WasmCpuBackend} for browsers (a page or a worker), chosen by what the page
 * allows and reported in `backend.threading`:
 *
 * - **Cross-origin isolated** (the page is served with `Cross-Origin-Opener-Policy:
 *   same-origin` and `Cross-Origin-Embedder-Policy: require-corp`): a shared memory, the
 *   calling thread and `threads - 1` Web Workers (default: `navigator.hardwareConcurrency`,
 *   at most 8), started from a Blob URL (no file to serve). `threading` is `'workers'`.
 * - **Not isolated** (no `SharedArrayBuffer`): the same SIMD kernel, built for a plain
 *   memory, on the calling thread alone: `threads` is 1 and `threading` is
 *   `'single: not cross-origin isolated'`, whatever `threads` asked for.
 *
 * Synchronous in both: on a page's main thread, where `Atomics.wait` throws, the calling
 * thread polls for the workers' last chunks instead of sleeping (it has worked on the job
 * itself until no chunk was left, so that wait is one chunk long at most); in a Worker
 * it sleeps as in Node. Run long trainings in a Worker to keep the page responsive: each
 * step occupies the thread that calls it, as any synchronous backend does.
 *
 * @throws RectifyError `INVALID_OPTION` naming the option that is out of range.
 *
 * @example
 * ```ts
 * const backend = await wasmCpuBackend();
 * console.log(backend.threads, backend.threading); // e.g. 8 'workers', or 1 'single: not cross-origin isolated'
 * const opt = new RAdam(backend, { lr: 1e-3 });
 * const { params, grads } = opt.registerResidentWeights({ w: initialWeights });
 * opt.step(grads);
 * ```
 */
export function wasmCpuBackend(options: WasmCpuBackendOptions = {}): Promise<WasmCpuBackend> {
  return createWasmCpuBackend(webHost, options);
}
