import { RectifyError, checkedSizeOf, type RAdamBatch, type TensorBackend } from '@rectify/core';
import { GPU } from 'gpu.js';
import { KernelCache, REDUCTION_WIDTH, reductionWidth, type CompiledKernel, type KernelKind } from './kernel-cache.js';
import { gpujsPlatform, selectGpujsMode, type GpujsMode, type GpujsModeRequest, type GpujsPlatform, type ModeSelection } from './modes.js';
import type { GpujsBackendStats, TransferCounters } from './stats.js';
import {
  GpuTensor,
  hostAllFinite,
  releaseDevice,
  retainDevice,
  tensorState,
  type DeviceData,
  type TensorState,
} from './tensor.js';

/**
 * Options of {@link gpujsBackend} and {@link createGpujsBackend}.
 *
 * @example
 * ```ts
 * const options: GpujsBackendOptions = { mode: 'webasm', threads: true, poolSize: 4 };
 * ```
 */
export interface GpujsBackendOptions {
  /**
   * The gpu.js mode, or `'auto'` (default) for the best one that computes in float32 on a
   * real GPU: webgpu (only `createGpujsBackend`, when an adapter answers) → headlessgl →
   * webgl2 → webgl, else webasm → cpu. `'auto'` passes over software renderers (a fallback
   * WebGPU adapter, llvmpipe, SwiftShader), where webasm is faster; an explicit mode runs
   * on them. The chosen mode is `backend.mode`.
   */
  readonly mode?: GpujsModeRequest;
  /**
   * `webasm` only: split the kernels of big tensors (at least `threadMinSize` elements)
   * across worker threads (gpu.js's async contract). Default `true`; `false` keeps every
   * kernel on the calling thread (inline SIMD).
   */
  readonly threads?: boolean;
  /**
   * `webasm` only: the smallest tensor whose kernels use worker threads. Default
   * {@link WEBASM_THREAD_MIN_SIZE}; gpu.js's own threshold is 4096, where a worker round
   * trip per kernel costs more than the SIMD work it splits (measured: see README).
   */
  readonly threadMinSize?: number;
  /** `webasm` only: caps each kernel's worker pool (default: gpu.js's, the core count). */
  readonly poolSize?: number;
  /** Platform capabilities; defaults to what gpu.js reports ({@link gpujsPlatform}). */
  readonly platform?: GpujsPlatform;
}

/**
 * RAdam as gpu.js kernels. An asynchronous {@link TensorBackend} (`synchronous: false`,
 * so `RAdam.step()` returns a promise), because WebGPU readback is asynchronous.
 *
 * Operations take effect in call order: `read`, `write`, `sumOfSquares`, `allFinite` and
 * `applyRAdam` always return a promise (a failed check is a rejection, never a throw),
 * check their arguments when called and run one after another. `disposeTensor` makes a
 * tensor unusable at once and frees it after the operations called before it. Tensors
 * never alias caller memory (`fromArray` and `write` copy when called); `capture` gives
 * the optimizer a free snapshot of a gradient, so writing to or disposing of a gradient
 * right after `step()` cannot change the step.
 *
 * @example
 * ```ts
 * const backend: GpujsBackend = await createGpujsBackend();
 * console.log(backend.mode, backend.stats.readbacks);
 * ```
 */
export interface GpujsBackend extends TensorBackend<GpuTensor> {
  readonly name: `gpujs-${GpujsMode}`;
  readonly dtype: 'float32';
  readonly synchronous: false;
  /** The gpu.js mode every kernel of this backend runs on. */
  readonly mode: GpujsMode;
  /** For `mode: 'auto'`: why each better mode was passed over. */
  readonly skippedModes: readonly string[];
  /** Transfer counters and what the backend holds (a fresh snapshot on every access). */
  readonly stats: GpujsBackendStats;
  /**
   * Kernels gpu.js silently moved to another mode (e.g. webasm → cpu), as
   * `"kind:size → mode (reason)"`. Empty when everything ran on {@link GpujsBackend.mode}.
   */
  readonly kernelFallbacks: readonly string[];
  /** The underlying gpu.js instance (for introspection; the backend owns it). */
  readonly gpu: GPU;
  read(tensor: GpuTensor): Promise<Float32Array>;
  write(tensor: GpuTensor, data: ArrayLike<number>): Promise<void>;
  sumOfSquares(tensors: readonly GpuTensor[]): Promise<number>;
  allFinite(tensors: readonly GpuTensor[]): Promise<boolean>;
  applyRAdam(batches: readonly RAdamBatch<GpuTensor>[]): Promise<boolean>;
  capture(tensor: GpuTensor): GpuTensor;
  /** Releases every texture/buffer, kernel and worker pool; the backend is unusable afterwards. */
  dispose(): void;
}

function isFloat32Array(data: DeviceData): data is Float32Array {
  return data instanceof Float32Array;
}

/** `true` when every count of a non-finite-count reduction is zero. */
function allZero(counts: Float32Array): boolean {
  for (let i = 0; i < counts.length; i++) if (counts[i] !== 0) return false;
  return true;
}

/** Flattens whatever a readback produced (a Float32Array for 1-D outputs) to `size` floats. */
function toFloat32(values: unknown, size: number): Float32Array {
  if (values instanceof Float32Array && values.length === size) return values;
  const out = new Float32Array(size);
  let i = 0;
  const visit = (value: unknown): void => {
    if (typeof value === 'number') {
      if (i < size) out[i++] = value;
    } else if (value !== null && typeof value === 'object' && 'length' in value) {
      for (const item of Array.from(value as ArrayLike<unknown>)) visit(item);
    }
  };
  visit(values);
  return out;
}

/**
 * Default {@link GpujsBackendOptions.threadMinSize}: below about 2^18 elements, three worker
 * dispatches per step cost more than the inline SIMD kernels they replace.
 *
 * @example
 * ```ts
 * gpujsBackend({ mode: 'webasm', threadMinSize: WEBASM_THREAD_MIN_SIZE * 4 });
 * ```
 */
export const WEBASM_THREAD_MIN_SIZE = 262_144;

function validateOptions(options: GpujsBackendOptions): void {
  if (options.threads !== undefined && typeof options.threads !== 'boolean') {
    throw new RectifyError('INVALID_OPTION', `Option "threads" must be a boolean, got ${String(options.threads)}.`, 'threads');
  }
  const min = options.threadMinSize;
  if (min !== undefined && !(Number.isInteger(min) && min >= 0)) {
    throw new RectifyError('INVALID_OPTION', `Option "threadMinSize" must be a non-negative integer, got ${String(min)}.`, 'threadMinSize');
  }
  const pool = options.poolSize;
  if (pool !== undefined && !(Number.isInteger(pool) && pool >= 1)) {
    throw new RectifyError('INVALID_OPTION', `Option "poolSize" must be a positive integer, got ${String(pool)}.`, 'poolSize');
  }
}

/**
 * The `maxStorageBufferBindingSize` every WebGPU device grants (the spec's minimum, 128 MiB):
 * the limit of a backend made without a probe (`gpujsBackend({ mode: 'webgpu' })`).
 */
const WEBGPU_GUARANTEED_BUFFER_BYTES = 134_217_728;

/** Largest tensor of this mode, in elements, and what limits it (`Infinity` where unknown). */
function tensorLimitOf(gpu: GPU, selection: ModeSelection): { readonly elements: number; readonly what: string } {
  const { mode } = selection;
  if (mode === 'webgpu') {
    const bytes = selection.webgpu?.maxBufferBytes ?? WEBGPU_GUARANTEED_BUFFER_BYTES;
    const source = selection.webgpu === undefined ? "WebGPU's guaranteed minimum" : 'this device';
    return {
      elements: Math.floor(bytes / Float32Array.BYTES_PER_ELEMENT),
      what: `one WebGPU storage buffer holds (maxStorageBufferBindingSize of ${source}: ${bytes} bytes)`,
    };
  }
  if (mode !== 'headlessgl' && mode !== 'webgl2' && mode !== 'webgl') return { elements: Infinity, what: '' };
  try {
    const features = (gpu.Kernel as unknown as { features: { maxTextureSize?: number } }).features;
    const side = features.maxTextureSize;
    if (side === undefined) return { elements: Infinity, what: '' };
    return { elements: side * side, what: `one ${mode} texture holds here (maxTextureSize ${side}²)` };
  } catch {
    return { elements: Infinity, what: '' };
  }
}

/**
 * Lets the host's event loop run (timers, I/O, a test runner's messages, a page's input).
 * GL kernels, webasm without threads and cpu kernels are synchronous, so without this a
 * long replay is one unbroken chain of microtasks.
 */
function yieldToHost(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** How long the backend computes before it yields to the event loop once. */
const YIELD_INTERVAL_MS = 8;

class GpujsTensorBackend implements GpujsBackend {
  readonly name: `gpujs-${GpujsMode}`;
  readonly dtype = 'float32' as const;
  readonly synchronous = false as const;
  readonly mode: GpujsMode;
  readonly skippedModes: readonly string[];
  readonly gpu: GPU;
  readonly #kernels: KernelCache;
  readonly #live = new Set<GpuTensor>();
  readonly #counters: TransferCounters = { readbacks: 0, uploads: 0, kernelRuns: 0 };
  readonly #verified = new Set<CompiledKernel>();
  readonly #fallbacks: string[] = [];
  readonly #tensorLimit: { readonly elements: number; readonly what: string };
  /** On cpu/webasm a kernel's "device" output is a host typed array: uploads copy nothing. */
  readonly #hostResident: boolean;
  /** The all-zero accumulators reduction chains start from, by width (kept on the device). */
  readonly #zeros = new Map<number, GpuTensor>();
  #tail: Promise<unknown> = Promise.resolve();
  #lastYield = Date.now();
  #busy = 0;
  #disposed = false;

  constructor(selection: ModeSelection, options: GpujsBackendOptions) {
    this.mode = selection.mode;
    this.name = `gpujs-${selection.mode}`;
    this.skippedModes = selection.skipped;
    this.gpu = new GPU({ mode: selection.mode });
    this.#hostResident = selection.mode === 'cpu' || selection.mode === 'webasm';
    const threads = options.threads !== false;
    const threadMinSize = options.threadMinSize ?? WEBASM_THREAD_MIN_SIZE;
    this.#kernels = new KernelCache(this.gpu, {
      // gpu.js's async contract: required by webgpu, harmless elsewhere. On webasm it also
      // turns on the worker pool, which only pays for itself on big tensors.
      asyncMode: (cells) => selection.mode !== 'webasm' || (threads && cells >= threadMinSize),
      poolSize: options.poolSize,
      ordinaryConstants: selection.mode === 'webasm',
    });
    this.#tensorLimit = tensorLimitOf(this.gpu, selection);
  }

  get stats(): GpujsBackendStats {
    let resident = 0;
    for (const zeros of this.#zeros.values()) if (tensorState(zeros).device !== null) resident++;
    for (const tensor of this.#live) if (tensorState(tensor).device !== null) resident++;
    return {
      ...this.#counters,
      compiledKernels: this.#kernels.size,
      liveTensors: this.#live.size,
      residentBuffers: resident,
    };
  }

  /**
   * Live tensors and the device buffers behind them. Compiled kernels and the reduction
   * accumulators are the backend's own caches (bounded by the distinct tensor sizes seen)
   * and are left out: they outlive an optimizer and go with `dispose()`.
   */
  resourceCounts(): Readonly<Record<string, number>> {
    let tensorBuffers = 0;
    for (const tensor of this.#live) if (tensorState(tensor).device !== null) tensorBuffers++;
    return { tensors: this.#live.size, tensorBuffers };
  }

  get kernelFallbacks(): readonly string[] {
    return [...this.#fallbacks];
  }

  isTensor(value: unknown): value is GpuTensor {
    return value instanceof GpuTensor && tensorState(value).owner === this && !tensorState(value).released;
  }

  shapeOf(tensor: GpuTensor): readonly number[] {
    return tensor.shape;
  }

  fromArray(data: ArrayLike<number>, shape: readonly number[]): GpuTensor {
    this.#assertUsable();
    const size = checkedSizeOf(shape, data.length, 'fromArray');
    if (size > this.#tensorLimit.elements) {
      throw new RectifyError(
        'INVALID_TENSOR',
        `A tensor of ${size} elements exceeds the ${this.#tensorLimit.elements} float32 elements ${this.#tensorLimit.what}; split it into smaller parameters.`,
      );
    }
    // A copy: the tensor never aliases the caller's array.
    const host = Float32Array.from(data);
    return this.#track(new GpuTensor(this, shape, host, hostAllFinite(host)));
  }

  zerosLike(like: GpuTensor): GpuTensor {
    this.#assertUsable();
    this.#assertOwn(like);
    return this.#track(new GpuTensor(this, like.shape, new Float32Array(like.size), true));
  }

  /**
   * A tensor holding `tensor`'s elements as of this call, in call order: after every
   * `write` called before, unaffected by any `write` or `disposeTensor` called after.
   * Free: elements are never changed in place, so the copy shares the host array or the
   * (reference-counted) device buffer; nothing is copied or uploaded.
   */
  capture(tensor: GpuTensor): GpuTensor {
    this.#assertUsable();
    this.#assertOwn(tensor);
    const copy = this.#track(new GpuTensor(this, tensor.shape, null, undefined));
    this.#inOrder(() => {
      const from = tensorState(tensor);
      const to = tensorState(copy);
      to.host = from.host;
      to.device = retainDevice(from.device);
      to.finite = from.finite;
    });
    return copy;
  }

  read(tensor: GpuTensor): Promise<Float32Array> {
    return this.#schedule(
      () => this.#assertOwn(tensor),
      async () => {
        const state = tensorState(tensor);
        // Host-staged data never left the host: copying it is not a readback.
        if (state.device === null) return this.#hostOf(tensor).slice();
        return this.#toHost(state.device, tensor.size);
      },
    );
  }

  write(tensor: GpuTensor, data: ArrayLike<number>): Promise<void> {
    return this.#schedule(
      () => {
        this.#assertOwn(tensor);
        if (data.length !== tensor.size) {
          throw new RectifyError('SHAPE_MISMATCH', `write got ${data.length} values for a tensor of ${tensor.size} elements.`);
        }
        // Copied now, not when the queue gets here: the caller may reuse `data` at once.
        return Float32Array.from(data);
      },
      async (host) => {
        const state = tensorState(tensor);
        releaseDevice(state.device);
        state.device = null;
        state.host = host;
        state.finite = hostAllFinite(host);
      },
    );
  }

  disposeTensor(tensor: GpuTensor): void {
    if (!(tensor instanceof GpuTensor)) return;
    const state = tensorState(tensor);
    if (state.owner !== this || state.released) return;
    // Released for every later call at once; the memory goes after the operations queued
    // before this call, which may still read it.
    state.released = true;
    this.#inOrder(() => this.#free(tensor));
  }

  sumOfSquares(tensors: readonly GpuTensor[]): Promise<number> {
    return this.#schedule(
      () => this.#assertAllOwn(tensors),
      async () => {
        const partials = await this.#reduce('sumOfSquares', tensors);
        if (partials === undefined) return 0;
        // Lane k holds Σ g² = scale² · ssq (see sumOfSquaresKernel): combined in float64,
        // where scale² cannot overflow, in a fixed order.
        let sum = 0;
        for (let lane = 0; lane < REDUCTION_WIDTH; lane++) {
          const scale = partials[lane]!;
          sum += scale * scale * partials[REDUCTION_WIDTH + lane]!;
        }
        return sum;
      },
    );
  }

  allFinite(tensors: readonly GpuTensor[]): Promise<boolean> {
    return this.#schedule(
      () => this.#assertAllOwn(tensors),
      async () => {
        const unknown: GpuTensor[] = [];
        for (const tensor of tensors) {
          const finite = tensorState(tensor).finite;
          // Known from the host data it was made of: no kernel, no readback.
          if (finite === false) return false;
          if (finite === undefined) unknown.push(tensor);
        }
        const counts = await this.#reduce('nonFiniteCount', unknown);
        return counts === undefined || allZero(counts);
      },
    );
  }

  /**
   * Per updated tensor: the first- and second-moment kernels, the parameter kernel
   * (reading the new moments) and one lane-wise count of non-finite elements over the
   * three outputs, chained over the whole call and read back once (4 KiB) for the flag.
   * Each tensor swaps to its new buffers once its kernels ran; a failure before the first
   * swap leaves everything as it was.
   */
  applyRAdam(batches: readonly RAdamBatch<GpuTensor>[]): Promise<boolean> {
    return this.#schedule(
      () => this.#assertBatches(batches),
      async () => {
        let zeros: DeviceData | undefined;
        let flags: DeviceData | undefined;
        // Kernel outputs not yet swapped into their tensor: released if a later kernel fails.
        const unswapped: DeviceData[] = [];
        try {
          for (const { slots, scalars } of batches) {
            // Infinity is not a portable uniform (WGSL may assume no infinities): a flag instead.
            const clip = Number.isFinite(scalars.clipValue) ? 1 : 0;
            const clipValue = clip === 1 ? scalars.clipValue : 0;
            const shared = [scalars.gradScale, clip, clipValue, scalars.weightDecay] as const;
            for (const slot of slots) {
              const size = slot.param.size;
              if (size === 0) continue;
              // One at a time: a tensor passed in two roles must be uploaded once, not twice.
              const g = await this.#resident(slot.grad);
              const p = await this.#resident(slot.param);
              const m = await this.#resident(slot.firstMoment);
              const v = await this.#resident(slot.secondMoment);
              const moments = await Promise.allSettled([
                this.#run('firstMoment', size, [g, p, m, ...shared, scalars.beta1, 1 - scalars.beta1]),
                this.#run('secondMoment', size, [g, p, v, ...shared, scalars.beta2, 1 - scalars.beta2]),
              ]);
              for (const result of moments) if (result.status === 'fulfilled') unswapped.push(result.value);
              for (const result of moments) if (result.status === 'rejected') throw result.reason;
              const [m1, v1] = unswapped as [DeviceData, DeviceData];
              const p1 = await this.#run('param', size, [
                p,
                m1,
                v1,
                scalars.paramScale,
                scalars.stepSize,
                scalars.rectified ? 1 : 0,
                scalars.denomScale,
                scalars.eps,
              ]);
              unswapped.push(p1);
              zeros ??= await this.#resident(this.#zeroAccumulator(REDUCTION_WIDTH));
              const counted = await this.#run('updateNonFiniteCount', size, [flags ?? zeros, p1, m1, v1]);
              if (flags !== undefined) releaseDevice(flags);
              flags = counted;
              // Swap only after every kernel of the slot ran: they all read the old values.
              this.#replace(slot.firstMoment, m1);
              this.#replace(slot.secondMoment, v1);
              this.#replace(slot.param, p1);
              unswapped.length = 0;
            }
          }
          return flags === undefined || allZero(await this.#toHost(flags, REDUCTION_WIDTH));
        } finally {
          for (const data of unswapped) releaseDevice(data);
          if (flags !== undefined) releaseDevice(flags);
        }
      },
    );
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const tensor of this.#live) this.#free(tensor);
    this.#live.clear();
    for (const zeros of this.#zeros.values()) this.#free(zeros);
    this.#zeros.clear();
    this.#kernels.destroy();
    this.#verified.clear();
    // gpu.js tears down on a later tick; nothing here waits for it.
    this.gpu.destroy().catch(() => undefined);
  }

  /**
   * Checks now, in the caller's turn, and runs `task` when every operation called before
   * has finished. Every failure is a rejection, never a throw: an asynchronous backend
   * answers with a promise whatever happens. Checking at call time is what lets
   * `disposeTensor` refuse later calls at once while earlier ones still run.
   */
  #schedule<P, R>(check: () => P, task: (checked: P) => Promise<R>): Promise<R> {
    let checked: P;
    try {
      this.#assertUsable();
      checked = check();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueue(() => task(checked));
  }

  /** Runs backend operations one at a time, so no readback races a swap or a release. */
  #enqueue<R>(task: () => Promise<R>): Promise<R> {
    this.#busy++;
    const result = this.#tail.then(() => {
      this.#assertUsable();
      return task();
    });
    const done = (): void => {
      this.#busy--;
    };
    this.#tail = result.then(done, done);
    return result;
  }

  /** Runs `effect` after the queued operations (at once when none is queued). */
  #inOrder(effect: () => void): void {
    if (this.#busy === 0) effect();
    else void this.#enqueue(async () => effect()).catch(() => undefined);
  }

  #assertUsable(): void {
    if (this.#disposed) throw new RectifyError('DISPOSED', `The ${this.name} backend has been disposed.`);
  }

  #assertOwn(tensor: GpuTensor): void {
    if (!(tensor instanceof GpuTensor) || tensorState(tensor).owner !== this) {
      throw new RectifyError('INVALID_TENSOR', `Expected a tensor created by this ${this.name} backend.`);
    }
    if (tensorState(tensor).released) {
      throw new RectifyError('DISPOSED', `This tensor was released with disposeTensor().`);
    }
  }

  #assertAllOwn(tensors: readonly GpuTensor[]): void {
    for (const tensor of tensors) this.#assertOwn(tensor);
  }

  /** Everything applyRAdam can check is checked before its first kernel. */
  #assertBatches(batches: readonly RAdamBatch<GpuTensor>[]): void {
    const written = new Set<GpuTensor>();
    for (const { slots } of batches) {
      for (const { param, grad, firstMoment, secondMoment } of slots) {
        this.#assertOwn(param);
        this.#assertOwn(grad);
        this.#assertOwn(firstMoment);
        this.#assertOwn(secondMoment);
        if (grad.size !== param.size || firstMoment.size !== param.size || secondMoment.size !== param.size) {
          throw new RectifyError(
            'SHAPE_MISMATCH',
            `An update got a parameter of ${param.size} elements with a gradient of ${grad.size} and moments of ${firstMoment.size} and ${secondMoment.size}.`,
          );
        }
        for (const tensor of [param, firstMoment, secondMoment]) {
          if (written.has(tensor)) {
            throw new RectifyError('INVALID_TENSOR', 'One update writes the same tensor twice (as a parameter or moment of two slots).');
          }
          written.add(tensor);
        }
      }
    }
  }

  #track(tensor: GpuTensor): GpuTensor {
    this.#live.add(tensor);
    return tensor;
  }

  #free(tensor: GpuTensor): void {
    const state: TensorState = tensorState(tensor);
    releaseDevice(state.device);
    state.device = null;
    state.host = null;
    state.released = true;
    this.#live.delete(tensor);
  }

  /** The host-staged elements of a tensor that has no device data. */
  #hostOf(tensor: GpuTensor): Float32Array {
    const host = tensorState(tensor).host;
    // Unreachable while operations run in call order; a clear message if it ever is not.
    if (host === null) throw new Error(`A ${this.name} tensor lost its elements while an operation was using it.`);
    return host;
  }

  /** The tensor's device data, uploading host-staged data on first use. */
  async #resident(tensor: GpuTensor): Promise<DeviceData> {
    const state = tensorState(tensor);
    if (state.device !== null) return state.device;
    const host = this.#hostOf(tensor);
    state.device = this.#hostResident ? host : await this.#run('upload', tensor.size, [host]);
    state.host = null;
    this.#counters.uploads++;
    return state.device;
  }

  /** Replaces a tensor's device data with a kernel output, releasing the old texture/buffer. */
  #replace(tensor: GpuTensor, data: DeviceData): void {
    const state = tensorState(tensor);
    if (state.device !== data) releaseDevice(state.device);
    state.device = data;
    state.host = null;
    state.finite = undefined;
  }

  async #run(kind: KernelKind, size: number, args: readonly unknown[]): Promise<DeviceData> {
    const kernel = this.#kernels.get(kind, size);
    this.#counters.kernelRuns++;
    const output = (await kernel(...args)) as DeviceData;
    if (!this.#verified.has(kernel)) {
      this.#verified.add(kernel);
      // The class, not its `mode`: every GL kernel class reports gpu.js's generic 'gpu'.
      const ran = kernel.kernel.constructor;
      if (ran !== this.gpu.Kernel) {
        this.#fallbacks.push(`${kind}:${size} → ${String(ran.mode)} (${kernel.kernel.fallbackReason ?? 'no reason given'})`);
      }
    }
    if (Date.now() - this.#lastYield >= YIELD_INTERVAL_MS) {
      await yieldToHost();
      this.#lastYield = Date.now();
    }
    return output;
  }

  async #toHost(data: DeviceData, size: number): Promise<Float32Array> {
    this.#counters.readbacks++;
    // A copy: the caller owns what read() returns, and the device array stays the tensor's.
    if (isFloat32Array(data)) return data.slice(0, size);
    return toFloat32(await data.toArray(), size);
  }

  #zeroAccumulator(width: number): GpuTensor {
    let zeros = this.#zeros.get(width);
    if (zeros === undefined) {
      zeros = new GpuTensor(this, [width], new Float32Array(width), true);
      this.#zeros.set(width, zeros);
    }
    return zeros;
  }

  /**
   * Folds every tensor into one accumulator on the device (one kernel per tensor,
   * chained) and reads it back once. `undefined` when there was nothing to fold.
   */
  async #reduce(kind: 'sumOfSquares' | 'nonFiniteCount', tensors: readonly GpuTensor[]): Promise<Float32Array | undefined> {
    const nonEmpty = tensors.filter((t) => t.size > 0);
    if (nonEmpty.length === 0) return undefined;
    const width = reductionWidth(kind)!;
    const zeros = await this.#resident(this.#zeroAccumulator(width));
    let acc: DeviceData = zeros;
    try {
      for (const tensor of nonEmpty) {
        const data = await this.#resident(tensor);
        const next = await this.#run(kind, tensor.size, [acc, data]);
        if (acc !== zeros) releaseDevice(acc);
        acc = next;
      }
      return await this.#toHost(acc, width);
    } finally {
      if (acc !== zeros) releaseDevice(acc);
    }
  }
}

/**
 * A gpu.js backend, created synchronously. With `mode: 'auto'` it picks the best mode
 * gpu.js can prove synchronously (a hardware headlessgl → webgl2 → webgl, else webasm →
 * cpu) and never WebGPU, whose adapter can only be probed asynchronously: use
 * {@link createGpujsBackend} for that. Explicit `mode: 'webgpu'` works here too, without
 * knowing the device: tensors are limited to WebGPU's guaranteed 128 MiB storage buffer.
 *
 * @throws RectifyError `INVALID_OPTION` (parameter `mode`) for a mode this platform lacks
 *   or one that only offers lossy 8-bit packed precision.
 * @example
 * ```ts
 * import { RAdam } from '@rectify/core';
 * import { gpujsBackend } from '@rectify/backend-gpujs';
 *
 * const backend = gpujsBackend({ mode: 'webasm' });
 * const w = backend.fromArray([0.5, -0.3, 0.2, 0.1], [2, 2]);
 * const opt = new RAdam(backend, { lr: 1e-2 });
 * opt.registerTrainableWeights({ w });
 * const g = backend.fromArray([0.1, -0.2, 0.3, 0.4], [2, 2]);
 * await opt.step({ w: g });
 * backend.disposeTensor(g);
 * console.log(backend.mode, await backend.read(w));
 * ```
 */
export function gpujsBackend(options: GpujsBackendOptions = {}): GpujsBackend {
  validateOptions(options);
  const selection = selectGpujsMode(options.mode ?? 'auto', options.platform ?? gpujsPlatform, undefined);
  return new GpujsTensorBackend(selection, options);
}

/**
 * A gpu.js backend, after requesting gpu.js's WebGPU adapter and device: `mode: 'auto'`
 * then prefers WebGPU on a hardware adapter, an explicit `mode: 'webgpu'` is refused up
 * front when no adapter exists (instead of failing at the first kernel), and `fromArray`
 * knows the device's storage-buffer limit.
 *
 * @throws RectifyError `INVALID_OPTION` as {@link gpujsBackend}.
 * @example
 * ```ts
 * const backend = await createGpujsBackend(); // webgpu in a WebGPU browser
 * console.log(backend.mode, backend.skippedModes);
 * ```
 */
export async function createGpujsBackend(options: GpujsBackendOptions = {}): Promise<GpujsBackend> {
  validateOptions(options);
  const platform = options.platform ?? gpujsPlatform;
  const request = options.mode ?? 'auto';
  const probe = (request === 'auto' || request === 'webgpu') && platform.isSupported('webgpu');
  const webgpu = probe ? ((await platform.probeWebGPU().catch(() => undefined)) ?? null) : null;
  return new GpujsTensorBackend(selectGpujsMode(request, platform, webgpu), options);
}
