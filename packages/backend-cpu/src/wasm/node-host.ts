import type { WasmHost } from './host.js';
import { KERNEL_LOOP } from './worker-source.js';

/** The worker: an eval'd worker is a CommonJS script (it uses `require`); the data comes as `workerData`. */
const NODE_WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
(${KERNEL_LOOP})(workerData, () => parentPort.postMessage('ready'));
`;

/**
 * Node.js: `worker_threads` (an eval'd worker, no file to resolve) and the available
 * parallelism. Imported dynamically, so that loading the package costs nothing until a
 * `cpu-wasm` backend is made.
 */
export const nodeHost: WasmHost = {
  cores: async () => (await import('node:os')).availableParallelism(),
  noSharedMemory: () => undefined,
  startWorker: async (init) => {
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(NODE_WORKER_SOURCE, { eval: true, workerData: init });
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`cpu-wasm: a kernel worker exited with code ${code} while starting.`)));
      });
    } catch (error) {
      void worker.terminate();
      throw error;
    }
    worker.removeAllListeners();
    // A backend that is never disposed must not keep the process alive.
    worker.unref();
    return {
      terminate: () => {
        worker.terminate().catch(() => {
          // Already gone: nothing to release.
        });
      },
    };
  },
};
