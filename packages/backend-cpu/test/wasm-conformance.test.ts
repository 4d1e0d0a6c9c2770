import { describeBackendConformance } from '@rectify/conformance/vitest';
import { afterAll } from 'vitest';
import { cpuBackend, wasmCpuBackend, type WasmCpuBackend } from '../src/index.js';

// The fast backend on the main thread alone: every golden trajectory, state-dict round
// trip and bad-input case, against the float64 reference for the cross-backend moves.
describeBackendConformance('cpu-wasm', () => wasmCpuBackend({ threads: 1, maximumMemoryMiB: 64 }), {
  referenceBackend: () => cpuBackend({ dtype: 'float64' }),
});

// The same suite with a worker thread taking part in every job, even the tiny ones: with
// 4-element chunks and no parallel threshold, each golden tensor is split across threads.
// Starting workers takes tens of milliseconds, so every test shares one backend (and its
// worker) through a handle whose dispose() does nothing; the real one is disposed last.
let shared: Promise<WasmCpuBackend> | undefined;
const sharedHandle = async (): Promise<WasmCpuBackend> => {
  shared ??= wasmCpuBackend({ threads: 2, maximumMemoryMiB: 256, chunkElements: 4, parallelThreshold: 0 });
  return { ...(await shared), dispose: () => undefined };
};
afterAll(async () => (await shared)?.dispose());

describeBackendConformance('cpu-wasm (2 threads, 4-element chunks)', sharedHandle, {
  referenceBackend: () => cpuBackend({ dtype: 'float64' }),
});
