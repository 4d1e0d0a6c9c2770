import type { WasmHost } from './host.js';
import type { StartWorker } from './thread-pool.js';
import { KERNEL_LOOP } from './worker-source.js';

/**
 * The worker: the data comes as the first message (a `WebAssembly.Module` and a shared
 * `WebAssembly.Memory` can both be posted). The loop never returns to the worker's event
 * loop, so no later message is read; `terminate()` ends it.
 */
const WEB_WORKER_SOURCE = `'use strict';
self.onmessage = (event) => {
  self.onmessage = null;
  (${KERNEL_LOOP})(event.data, () => self.postMessage('ready'));
};
`;

/** A Web Worker, as far as the pool uses it (the package compiles without lib.dom). */
interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  onmessage: ((event: unknown) => void) | null;
  onerror: ((event: { readonly message?: string; preventDefault(): void }) => void) | null;
}

/** The browser globals this host reads; each may be missing (a Worker scope has no DOM). */
interface WebGlobals {
  readonly Worker?: new (url: string, options: { name: string }) => WebWorker;
  readonly Blob: new (parts: string[], options: { type: string }) => object;
  readonly URL: { createObjectURL(blob: object): string };
  readonly navigator?: { readonly hardwareConcurrency?: number };
  readonly crossOriginIsolated?: boolean;
}

const web = globalThis as unknown as WebGlobals;

/**
 * The worker script's Blob URL, made once per page and kept for its life (a few hundred
 * bytes): revoking it while a worker may still be fetching it would fail that worker.
 */
let workerUrl: string | undefined;

const startWebWorker: StartWorker = async (init) => {
  const Worker = web.Worker!;
  workerUrl ??= web.URL.createObjectURL(new web.Blob([WEB_WORKER_SOURCE], { type: 'text/javascript' }));
  const worker = new Worker(workerUrl, { name: 'rectify cpu-wasm kernel' });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.onmessage = () => resolve();
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`cpu-wasm: a kernel worker failed while starting: ${event.message ?? 'no message'}.`));
      };
      // A compiled module and a shared memory are both posted by reference, not copied.
      worker.postMessage(init);
    });
  } catch (error) {
    worker.terminate();
    throw error;
  }
  worker.onmessage = null;
  worker.onerror = null;
  return worker;
};

/**
 * Browsers (a page or a worker): Web Workers from a Blob URL when the page is
 * cross-origin isolated (`crossOriginIsolated`, so `SharedArrayBuffer` exists), and
 * `navigator.hardwareConcurrency` for the default thread count.
 */
export const webHost: WasmHost = {
  cores: () => Promise.resolve(web.navigator?.hardwareConcurrency ?? 1),
  // `crossOriginIsolated` is false on a page served without COOP/COEP; an environment
  // without the global (a runtime that picked the browser condition) goes by SharedArrayBuffer.
  noSharedMemory: () =>
    web.crossOriginIsolated === false || typeof SharedArrayBuffer !== 'function' ? 'not cross-origin isolated' : undefined,
  startWorker: typeof web.Worker === 'function' ? startWebWorker : undefined,
};
