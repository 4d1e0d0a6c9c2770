/**
 * What a gpu.js backend has done and holds, for tests, benchmarks and leak hunting.
 * Transfers are counted the same way on every mode: on `cpu` and `webasm` the "device"
 * is the typed array a kernel returned, so the counts say what a GPU mode would transfer.
 *
 * @example
 * ```ts
 * const before = backend.stats.readbacks;
 * await opt.step(grads);
 * backend.stats.readbacks - before; // 1 without norm clipping (the finiteness flag), 2 with it
 * ```
 */
export interface GpujsBackendStats {
  /** Device → host transfers: `read`, state dicts, one per norm and one per step for the finiteness flag. */
  readonly readbacks: number;
  /** Host → device transfers: each tensor's first use by a kernel after `fromArray`/`write`. */
  readonly uploads: number;
  /** Kernel launches. */
  readonly kernelRuns: number;
  /** Compiled kernels held (one per kernel kind and tensor size). */
  readonly compiledKernels: number;
  /** Tensors created by `fromArray`/`zerosLike` and not yet released by `disposeTensor`. */
  readonly liveTensors: number;
  /** Textures / buffers held on the device (live tensors' plus the reduction accumulators). */
  readonly residentBuffers: number;
}

/**
 * The counters behind {@link GpujsBackendStats} that only grow.
 *
 * @example
 * ```ts
 * const counters: TransferCounters = { readbacks: 0, uploads: 0, kernelRuns: 0 };
 * ```
 */
export interface TransferCounters {
  readbacks: number;
  uploads: number;
  kernelRuns: number;
}
