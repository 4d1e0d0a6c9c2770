import { RectifyError, type RAdamBatch, type SyncTensorBackend } from '@rectify/core';
import type { WasmHost } from './host.js';
import { loadKernelModule } from './kernel-module.js';
import { KernelRunner, type KernelExports } from './kernel-runner.js';
import { readLayout } from './layout.js';
import { resolveWasmOptions, type WasmCpuBackendOptions } from './options.js';
import { KernelHeap, type HeapStats } from './heap.js';
import { RELEASED, TensorStore } from './tensor-store.js';
import { SPIN_POLLS, ThreadPool } from './thread-pool.js';
import { webAssembly } from './wasm-api.js';

export type { WasmCpuBackendOptions } from './options.js';
export type { MemoryKind } from './heap.js';

/**
 * How a {@link WasmCpuBackend} runs its jobs: `workers` (the calling thread and
 * `threads - 1` workers over a shared memory), or on the calling thread alone, and why:
 * one thread was asked for (or the machine has one core), the page is not cross-origin
 * isolated (no `SharedArrayBuffer`: a plain memory, one thread), or this environment has
 * no workers.
 */
export type WasmThreading = 'workers' | 'single: 1 thread' | 'single: not cross-origin isolated' | 'single: no Worker';

/** Memory use of a {@link WasmCpuBackend}, in bytes. */
export interface WasmMemoryStats extends HeapStats {
  /** Tensors created by the backend and not yet disposed (or collected). */
  readonly liveTensors: number;
}

/**
 * A float32 CPU backend that runs RAdam in a WebAssembly SIMD (f32x4) kernel, compiled
 * from AssemblyScript at build time and embedded in the package, on several threads where
 * memory can be shared, near the machine's memory bandwidth. Made by `wasmCpuBackend`, in
 * Node.js (`worker_threads`) and in browsers (Web Workers; see {@link WasmCpuBackend.threading}).
 *
 * - **Fast path.** Tensors from {@link WasmCpuBackend.zeros}, `fromArray` and `zerosLike`
 *   (so every optimizer moment) are `Float32Array` views into one
 *   `WebAssembly.Memory`; the kernel updates them in place. Register parameters created
 *   this way (`RAdam.registerResidentWeights` does it for host weights) and write
 *   gradients into backend tensors for full speed.
 * - **Slow path.** Any other `Float32Array` works too: it is copied into a staging area
 *   of the memory before the kernel runs and copied back after, which costs about as much
 *   memory traffic again. Results are bitwise the same on both paths.
 * - **Threads.** One call updates every tensor of the optimizer step, every group and
 *   step count included: the element range of the whole step is cut into fixed chunks
 *   that the calling thread and `threads - 1` workers take in turn, each tensor carrying
 *   its group's scalars. Results are bitwise identical for any thread count.
 * - **Browsers.** On a cross-origin isolated page (COOP `same-origin` + COEP
 *   `require-corp`, so `crossOriginIsolated` and `SharedArrayBuffer`), the memory is
 *   shared and the workers are Web Workers (`navigator.hardwareConcurrency` sets the
 *   default count). Elsewhere the memory is a plain one and every job runs on the calling
 *   thread: `threads` is 1 and `threading` says why, whatever `threads` asked for.
 * - **All or nothing.** A step checks every tensor (a released one is `INVALID_TENSOR`)
 *   and reserves its table and staging memory (`OUT_OF_MEMORY`) before the kernel writes
 *   anything, so a step that throws a `RectifyError` changed nothing.
 * - **Finiteness.** The kernel tells whether every p, m and v it stored is finite, in the
 *   same pass; core turns a non-finite result into `NON_FINITE_UPDATE`.
 * - **Synchronous everywhere.** The calling thread works on the job, then waits for the
 *   chunks the workers took (`Atomics.wait` in Node and in a Web Worker; on a page's main
 *   thread, where `Atomics.wait` throws, it polls for those last chunks instead), so
 *   `RAdam.step()` returns directly, with no promise.
 * - **Memory.** Creating a tensor allocates from the memory, which grows as needed up to
 *   `maximumMemoryMiB` (past it: `OUT_OF_MEMORY`, nothing allocated); growing never
 *   invalidates a tensor. A plain memory grows in place only where the engine has
 *   resizable buffers (Chromium 136+); elsewhere it keeps `initialMemoryMiB`
 *   (`memoryStats().memory` is `'fixed'`). Release tensors with `disposeTensor`; a
 *   released tensor is no longer `isTensor`. A tensor the program drops is also freed once
 *   it is garbage-collected (keep the tensor itself alive while a `subarray` of it is in
 *   use). A `subarray` of a tensor is used in place and is released with it (it is tied to
 *   the tensor it lies in when first used). A step allocates nothing.
 * - **Numerics.** Computes in float32 (the `cpu` backend computes in float64 and rounds
 *   when storing), squaring `(1 − β2)·g` rather than `g` so that gradients up to about
 *   1e20 keep `v` finite as on `cpu`; sums of squares accumulate in float64: within
 *   SPEC.md's float32 tolerance of the golden files, not bitwise equal to `cpu`.
 *
 * Call `dispose()` when done: it stops the workers.
 */
export interface WasmCpuBackend extends SyncTensorBackend<Float32Array> {
  readonly name: 'cpu-wasm';
  readonly dtype: 'float32';
  readonly synchronous: true;
  /** Threads a large job runs on, the calling thread included (1 when `threading` is not `workers`). */
  readonly threads: number;
  /** How jobs run: on workers, or on the calling thread alone and why (see {@link WasmThreading}). */
  readonly threading: WasmThreading;
  /** A host copy of `tensor` (a plain `Float32Array`, not in the shared memory). */
  read(tensor: Float32Array): Float32Array;
  /** A new zero-filled tensor in the backend's memory (fast path), of `shape` or `length` elements. */
  zeros(shape: readonly number[] | number): Float32Array;
  /** Whether `tensor` lives in the backend's memory, so that kernels use it in place. */
  owns(tensor: Float32Array): boolean;
  /** Memory in use, for monitoring and leak checks. */
  memoryStats(): WasmMemoryStats;
  /** Stops the worker threads. Tensors stay readable; creating tensors or stepping throws `DISPOSED`. */
  dispose(): void;
}

/** Stops a pool whose backend was garbage-collected without `dispose()`. */
const orphanedPools = new FinalizationRegistry<ThreadPool>((pool) => pool.stop());

function elementCount(shape: readonly number[] | number): number {
  const dims = typeof shape === 'number' ? [shape] : shape;
  let count = 1;
  for (const dim of dims) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new RectifyError('SHAPE_MISMATCH', `cpu-wasm: invalid shape [${dims.join(', ')}].`);
    }
    count *= dim;
  }
  return count;
}

/**
 * Makes a {@link WasmCpuBackend} on `host` (Node or a browser): validates the options,
 * picks the memory and threading the environment allows, and starts the workers.
 */
export async function createWasmCpuBackend(host: WasmHost, options: WasmCpuBackendOptions): Promise<WasmCpuBackend> {
  const cores = await host.cores();
  const resolved = resolveWasmOptions(options, cores);
  const noSharedMemory = host.noSharedMemory();
  const threading: WasmThreading =
    noSharedMemory !== undefined
      ? `single: ${noSharedMemory}`
      : resolved.threads === 1
        ? 'single: 1 thread'
        : host.startWorker === undefined
          ? 'single: no Worker'
          : 'workers';
  const threads = threading === 'workers' ? resolved.threads : 1;
  const shared = noSharedMemory === undefined;
  const module = await loadKernelModule(shared);
  const heap = new KernelHeap(resolved.initialMemoryMiB * 1024 * 1024, resolved.maximumMemoryMiB * 1024 * 1024, shared);
  const instance = new webAssembly.Instance(module, { env: { memory: heap.memory } });
  const layout = readLayout(instance);
  heap.reserve(layout.RESERVED_BYTES);
  const kernel = instance.exports as unknown as KernelExports;
  const spinPolls = threads <= cores ? SPIN_POLLS : 0;
  const pool =
    threading === 'workers' ? await ThreadPool.start(host.startWorker!, module, heap.memory, layout, threads - 1, spinPolls) : undefined;
  const tensors = new TensorStore(heap);
  const runner = new KernelRunner(heap, tensors, layout, kernel, pool, resolved);
  let disposed = false;

  const assertUsable = (): void => {
    if (disposed) throw new RectifyError('DISPOSED', 'This cpu-wasm backend has been disposed.');
  };
  const allocate = (length: number): Float32Array => {
    assertUsable();
    return tensors.allocate(length);
  };

  const backend: WasmCpuBackend = {
    name: 'cpu-wasm',
    dtype: 'float32',
    synchronous: true,
    threads,
    threading,
    // A released tensor (or a view into memory no live tensor owns) is not a tensor any
    // more: its bytes may belong to another tensor now, and core rejects it before any write.
    isTensor: (value): value is Float32Array => value instanceof Float32Array && tensors.addressOf(value) !== RELEASED,
    shapeOf: (tensor) => [tensor.length],
    fromArray: (data) => {
      const tensor = allocate(data.length);
      tensor.set(data);
      return tensor;
    },
    zeros: (shape) => allocate(elementCount(shape)).fill(0),
    zerosLike: (like) => allocate(like.length).fill(0),
    read: (tensor) => tensor.slice(),
    write: (tensor, data) => {
      tensor.set(data);
    },
    readInto: (tensor, begin, target) => {
      target.set(tensor.subarray(begin, begin + target.length));
    },
    writeRange: (tensor, begin, data) => {
      tensor.set(data, begin);
    },
    disposeTensor: (tensor) => tensors.release(tensor),
    owns: (tensor) => heap.owns(tensor),
    memoryStats: () => ({ ...heap.stats(), liveTensors: tensors.live }),
    resourceCounts: () => ({ tensors: tensors.live }),
    sumOfSquares: (tensors) => {
      assertUsable();
      return runner.sumOfSquares(tensors);
    },
    allFinite: (tensors) => {
      assertUsable();
      return runner.allFinite(tensors);
    },
    applyRAdam: (batches: readonly RAdamBatch<Float32Array>[]) => {
      assertUsable();
      return runner.applyRAdam(batches);
    },
    dispose: () => {
      if (disposed) return;
      disposed = true;
      orphanedPools.unregister(backend);
      pool?.stop();
      runner.release();
    },
  };
  if (pool !== undefined) orphanedPools.register(backend, pool, backend);
  return backend;
}
