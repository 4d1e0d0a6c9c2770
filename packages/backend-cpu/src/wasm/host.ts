import type { StartWorker } from './thread-pool.js';

/**
 * What `cpu-wasm` needs from the environment it runs in, so that one backend serves Node
 * (`node-host.ts`: `worker_threads`, `node:os`) and browsers (`web-host.ts`: Web Workers,
 * `navigator.hardwareConcurrency`) and a browser bundle never references a Node module.
 */
export interface WasmHost {
  /** Threads the machine offers: the default `threads` (at most 8). */
  cores(): Promise<number>;
  /**
   * Why memory cannot be shared between threads here (a page that is not cross-origin
   * isolated has no `SharedArrayBuffer`), or `undefined` when it can.
   */
  noSharedMemory(): 'not cross-origin isolated' | undefined;
  /** Starts kernel workers, or `undefined` where this environment has no workers. */
  readonly startWorker: StartWorker | undefined;
}
