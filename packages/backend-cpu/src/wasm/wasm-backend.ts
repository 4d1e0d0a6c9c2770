import { RectifyError, type RAdamBatch, type SyncTensorBackend } from '@rectify/core';
import { loadKernelModule } from './kernel-module.js';
import { KernelRunner, type KernelExports } from './kernel-runner.js';
import { readLayout } from './layout.js';
import { resolveWasmOptions, type WasmCpuBackendOptions } from './options.js';
import { SharedHeap, type HeapStats } from './shared-heap.js';
import { RELEASED, TensorStore } from './tensor-store.js';
import { SPIN_POLLS, ThreadPool } from './thread-pool.js';
import { webAssembly } from './wasm-api.js';

export type { WasmCpuBackendOptions } from './options.js';

/** Memory use of a {@link WasmCpuBackend}, in bytes. */
export interface WasmMemoryStats extends HeapStats {
  /** Tensors created by the backend and not yet disposed (or collected). */
  readonly liveTensors: number;
}

/**
 * The fast float32 CPU backend: see {@link wasmCpuBackend}. Its tensors are
 * `Float32Array`s; those it creates are views into its shared WebAssembly memory.
 */
export interface WasmCpuBackend extends SyncTensorBackend<Float32Array> {
  readonly name: 'cpu-wasm';
  readonly dtype: 'float32';
  readonly synchronous: true;
  /** Threads a large job runs on, the main thread included. */
  readonly threads: number;
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
 * A float32 CPU backend that runs RAdam in a WebAssembly SIMD (f32x4) kernel, compiled
 * from AssemblyScript at build time, on several threads, near the machine's memory
 * bandwidth. Node.js only (it uses `worker_threads`).
 *
 * - **Fast path.** Tensors from {@link WasmCpuBackend.zeros}, `fromArray` and `zerosLike`
 *   (so every optimizer moment) are `Float32Array` views into one shared
 *   `WebAssembly.Memory`; the kernel updates them in place. Register parameters created
 *   this way (`RAdam.registerResidentWeights` does it for host weights) and write
 *   gradients into backend tensors for full speed.
 * - **Slow path.** Any other `Float32Array` works too: it is copied into a staging area
 *   of the memory before the kernel runs and copied back after, which costs about as much
 *   memory traffic again. Results are bitwise the same on both paths.
 * - **Threads.** One call updates every tensor of the optimizer step, every group and
 *   step count included: the element range of the whole step is cut into fixed chunks
 *   that the main thread and `threads - 1` workers take in turn, each tensor carrying its
 *   group's scalars. Results are bitwise identical for any thread count.
 * - **All or nothing.** A step checks every tensor (a released one is `INVALID_TENSOR`)
 *   and reserves its table and staging memory (`OUT_OF_MEMORY`) before the kernel writes
 *   anything, so a step that throws a `RectifyError` changed nothing.
 * - **Finiteness.** The kernel tells whether every p, m and v it stored is finite, in the
 *   same pass; core turns a non-finite result into `NON_FINITE_UPDATE`.
 * - **Synchronous.** The main thread blocks on the workers with `Atomics.wait`, so
 *   `RAdam.step()` returns directly, with no promise.
 * - **Memory.** Creating a tensor allocates from the shared memory, which grows as needed
 *   up to `maximumMemoryMiB` (past it: `OUT_OF_MEMORY`, nothing allocated). Release
 *   tensors with `disposeTensor`; a released tensor is no longer `isTensor`. A tensor the
 *   program drops is also freed once it is garbage-collected (keep the tensor itself alive
 *   while a `subarray` of it is in use). A `subarray` of a tensor is used in place and is
 *   released with it (it is tied to the tensor it lies in when first used). A step
 *   allocates nothing.
 * - **Numerics.** Computes in float32 (the `cpu` backend computes in float64 and rounds
 *   when storing), squaring `(1 − β2)·g` rather than `g` so that gradients up to about
 *   1e20 keep `v` finite as on `cpu`; sums of squares accumulate in float64: within
 *   SPEC.md's float32 tolerance of the golden files, not bitwise equal to `cpu`.
 *
 * Call `dispose()` when done: it stops the workers.
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
export async function wasmCpuBackend(options: WasmCpuBackendOptions = {}): Promise<WasmCpuBackend> {
  const { availableParallelism } = await import('node:os');
  const cores = availableParallelism();
  const resolved = resolveWasmOptions(options, cores);
  const module = await loadKernelModule();
  const heap = new SharedHeap(resolved.initialMemoryMiB * 1024 * 1024, resolved.maximumMemoryMiB * 1024 * 1024);
  const instance = new webAssembly.Instance(module, { env: { memory: heap.memory } });
  const layout = readLayout(instance);
  heap.reserve(layout.RESERVED_BYTES);
  const kernel = instance.exports as unknown as KernelExports;
  const spinPolls = resolved.threads <= cores ? SPIN_POLLS : 0;
  const pool =
    resolved.threads > 1 ? await ThreadPool.start(module, heap.memory, layout, resolved.threads - 1, spinPolls) : undefined;
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
    threads: resolved.threads,
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
