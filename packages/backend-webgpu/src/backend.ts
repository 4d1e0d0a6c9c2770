/// <reference types="@webgpu/types" />
import { RectifyError, checkedSizeOf, type RAdamBatch, type RAdamScalars, type TensorBackend } from '@rectify/core';
import { ALIGNMENT, Arena, type Allocation } from './arena.js';
import { acquireDevice, type WebGpuSource } from './device.js';
import {
  BATCHES_PER_DISPATCH,
  FLAG_NAN,
  REDUCE_CHUNK_WORDS,
  SCALARS_BYTES,
  SUM_BINS,
  UPDATE_CHUNK_WORDS,
  UPDATE_HEADER_BYTES,
  UPDATE_UNIFORM_BYTES,
  chunkElements,
  reduceChunkElements,
  reduceShader,
  updateShader,
} from './shaders.js';
import { WebGpuTensor, tensorState, type Storage } from './tensor.js';

/**
 * Options of {@link createWebGpuBackend}: where the device comes from, and tuning.
 *
 * @example
 * ```ts
 * const options: WebGpuBackendOptions = { device: myDevice, workgroupSize: 128 };
 * ```
 */
export interface WebGpuBackendOptions extends WebGpuSource {
  /**
   * Invocations per workgroup, a power of two. Default: the largest power of two up to 256
   * that the device's `maxComputeInvocationsPerWorkgroup` and `maxComputeWorkgroupSizeX`
   * allow. Each invocation handles 16 elements, so a workgroup covers `16 × workgroupSize`.
   */
  readonly workgroupSize?: number;
  /** Elements the first storage page holds before it grows (by doubling). Default 65 536. */
  readonly initialPageElements?: number;
  /**
   * Caps a storage page (and so the largest tensor), in elements. Default: what one
   * storage binding of the device holds, `min(maxStorageBufferBindingSize, maxBufferSize) / 4`.
   * A lower cap keeps each buffer small (a device shared with another framework) at the
   * cost of more pages, bound together (up to 8, or the device's storage-buffer limit).
   */
  readonly maxPageElements?: number;
}

/**
 * Counters of what the backend asked the device to do (cumulative; a fresh snapshot on
 * every access).
 *
 * @example
 * ```ts
 * const before = backend.stats.dispatches;
 * await opt.step(grads);
 * backend.stats.dispatches - before; // 1 (no norm clipping) or 2 (the norm's reduction too)
 * ```
 */
export interface WebGpuBackendStats {
  /** Compute dispatches (update and reductions). */
  readonly dispatches: number;
  /** `dispatchWorkgroups` calls of the fused update alone. */
  readonly updateDispatches: number;
  /** Command buffers submitted. */
  readonly submits: number;
  /** Buffers mapped for reading (each one device round trip). */
  readonly readbacks: number;
  /** `writeBuffer` calls carrying tensor elements (`fromArray`, `write`). */
  readonly uploads: number;
  /** Uploads of a chunk table (only when a step's tensor layout differs from the last one). */
  readonly tableUploads: number;
}

/** What {@link WebGpuBackend.resourceCounts} counts. */
export type ResourceKind = 'tensors' | 'buffers' | 'pages' | 'pipelines' | 'bindGroups';

/**
 * RAdam in WGSL: an asynchronous {@link TensorBackend} (`synchronous: false`) whose float32
 * tensors live in a few large device buffers. One step's fused update is one compute
 * dispatch over every tensor of every batch, and returns its finiteness flag with one
 * 4-byte readback.
 *
 * Every call encodes and submits its device work when it is called, so operations take
 * effect in call order (the GPU queue is in order); `read`, `write`, `sumOfSquares`,
 * `allFinite` and `applyRAdam` return promises (a failed check is a rejection, never a
 * throw). Tensors never alias caller memory; `capture` shares a tensor's elements until
 * either is written (copy on write), so it is free.
 *
 * @example
 * ```ts
 * const backend: WebGpuBackend = await createWebGpuBackend();
 * console.log(backend.adapterName, backend.resourceCounts());
 * ```
 */
export interface WebGpuBackend extends TensorBackend<WebGpuTensor> {
  readonly name: 'webgpu';
  readonly dtype: 'float32';
  readonly synchronous: false;
  /** The device every buffer and kernel lives on. */
  readonly device: GPUDevice;
  /** The adapter's `vendor architecture (description)`, `''` for an injected device. */
  readonly adapterName: string;
  /** Invocations per workgroup of every kernel. */
  readonly workgroupSize: number;
  /** The largest tensor this device can hold, in elements (one storage binding). */
  readonly maxTensorElements: number;
  /** What the backend asked the device to do. */
  readonly stats: WebGpuBackendStats;
  read(tensor: WebGpuTensor): Promise<Float32Array>;
  write(tensor: WebGpuTensor, data: ArrayLike<number>): Promise<void>;
  sumOfSquares(tensors: readonly WebGpuTensor[]): Promise<number>;
  allFinite(tensors: readonly WebGpuTensor[]): Promise<boolean>;
  applyRAdam(batches: readonly RAdamBatch<WebGpuTensor>[]): Promise<boolean>;
  capture(tensor: WebGpuTensor): WebGpuTensor;
  /**
   * `tensors` (live), `buffers` (every device buffer held), `pages` (the storage pages
   * among them), `pipelines` and `bindGroups` (cached).
   */
  resourceCounts(): Readonly<Record<ResourceKind, number>>;
  /**
   * Where a tensor's elements are right now (for interop: a kernel of another framework on
   * the same device may read or write them). Valid until the next call that allocates
   * (a page may move when it grows) or writes the tensor (copy on write); `null` for a
   * tensor of zero elements.
   */
  locate(tensor: WebGpuTensor): { readonly buffer: GPUBuffer; readonly byteOffset: number; readonly byteLength: number } | null;
  /**
   * @internal For interop, not for training code: {@link applyRAdam} with no promise, for a
   * caller that reads the result synchronously by its own means (`@rectify/backend-tfjs`
   * on tfjs-webgpu, whose `dataSync()` can read a buffer of its device in a browser).
   * Checks, encodes and submits the update at once; instead of a readback, the same
   * command buffer copies its 4-byte finiteness word (0: every value written is finite,
   * else the flag bits) to `into.result(4)`. Errors are as `applyRAdam`'s checks (thrown,
   * nothing changed); a device error cannot be awaited here: the command buffer it
   * invalidates runs nothing (see {@link EncodeTarget} for telling), and the next call of
   * this backend throws `BACKEND_ERROR`.
   */
  encodeRAdam(batches: readonly RAdamBatch<WebGpuTensor>[], into: EncodeTarget): void;
  /**
   * @internal {@link sumOfSquares} encoded and submitted at once, as {@link encodeRAdam}:
   * its result bytes go to `into.result(bytes)`; the returned function turns a view of
   * exactly those bytes, read back by the caller, into the sum.
   */
  encodeSumOfSquares(tensors: readonly WebGpuTensor[], into: EncodeTarget): (result: DataView) => number;
  /** @internal {@link allFinite} encoded and submitted at once, as {@link encodeSumOfSquares}. */
  encodeAllFinite(tensors: readonly WebGpuTensor[], into: EncodeTarget): (result: DataView) => boolean;
  /** Destroys every buffer (and the device, when the backend created it); the backend is unusable afterwards. */
  dispose(): void;
}

/**
 * Where the result of an `encode…` call of {@link WebGpuBackend} goes, and what runs
 * before it. The result is copied by the same command buffer as the work, after
 * `before`'s commands: all of it runs, or (a command buffer the device rejects) none of
 * it. A caller that first fills the result's first word with a value the work never
 * writes there (`0xffffffff`: the flag words only ever hold the bits 1 and 2) can tell
 * work that never ran from a result.
 *
 * @example
 * ```ts
 * backend.encodeRAdam(batches, { before: (encoder) => copyGradients(encoder), result: () => ({ buffer: flag, byteOffset: 0 }) });
 * ```
 */
export interface EncodeTarget {
  /**
   * Encodes the caller's commands (copies into the tensors the work reads) at the head of
   * the command buffer. Called after every allocation of the call, so `locate` gives
   * places that hold until the work has run.
   */
  readonly before?: (encoder: GPUCommandEncoder) => void;
  /** The buffer (`COPY_DST`) and 4-byte aligned offset that receive the result's `bytes`. */
  readonly result: (bytes: number) => { readonly buffer: GPUBuffer; readonly byteOffset: number };
}

/**
 * An update that failed after it was submitted (the device was lost or rejected the
 * work): some tensors may hold the new values. Not a `RectifyError`, so core treats it as
 * a torn update and halts the optimizer with `BACKEND_ERROR` (whose `cause` this is).
 *
 * @example
 * ```ts
 * try { await backend.applyRAdam(batches); } catch (e) { if (e instanceof WebGpuUpdateFailure) console.log(e.cause); }
 * ```
 */
export class WebGpuUpdateFailure extends Error {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'WebGpuUpdateFailure';
  }
}

/** The largest float32: a finite clip bound beyond it would be Infinity in a uniform. */
const FLOAT32_MAX = 3.4028234663852886e38;
/** Staging buffers up to this size are pooled by power-of-two class; larger ones are one-shot. */
const POOLED_STAGING_BYTES = 1 << 20;
const FLAGS_BYTES = 16;
/** What `zerosLike` writes for tensors up to 16 Ki elements. */
const ZEROS = new Float32Array(16_384);
/** One chunk's partial sums of squares: a `vec4<f32>` (three bins, one unused lane). */
const PARTIAL_BYTES = 16;
/** Undo the bins' scaling: `(x·2^s)² = x²·2^(2s)`. */
const SMALL_UNSCALE = 2 ** (-2 * SUM_BINS.SMALL_SCALE);
const BIG_UNSCALE = 2 ** (-2 * SUM_BINS.BIG_SCALE);

type ReduceEntry = 'sumOfSquares' | 'allFinite' | 'combine';

/** A backend-owned device buffer that grows (by doubling) and tells when it was replaced. */
class Scratch {
  buffer: GPUBuffer | null = null;
  #size = 0;
  /** The bytes last uploaded, to skip identical uploads (chunk tables). */
  shadow: Uint32Array | null = null;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    private readonly label: string,
  ) {}

  /** Ensures room for `bytes`; `true` when the buffer was (re)created, so bind groups must be too. */
  ensure(bytes: number): boolean {
    if (this.buffer !== null && this.#size >= bytes) return false;
    let size = Math.max(256, this.#size);
    while (size < bytes) size *= 2;
    this.buffer?.destroy();
    this.buffer = this.device.createBuffer({ size, usage: this.usage, label: this.label });
    this.#size = size;
    this.shadow = null;
    return true;
  }

  destroy(): void {
    this.buffer?.destroy();
    this.buffer = null;
    this.shadow = null;
  }
}

function sameWords(a: Uint32Array | null, b: Uint32Array): boolean {
  if (a === null || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Why each lost device was lost. One listener per device, holding no backend: backends
 * sharing a device (tests, interop) stay collectable.
 */
const lostDevices = new WeakMap<GPUDevice, string>();
const watchedDevices = new WeakSet<GPUDevice>();

function watchLoss(device: GPUDevice): void {
  if (watchedDevices.has(device)) return;
  watchedDevices.add(device);
  device.lost.then(
    (info) => lostDevices.set(device, `${info.reason}: ${info.message}`),
    () => undefined,
  );
}

function lossOf(device: GPUDevice): string | undefined {
  return lostDevices.get(device);
}

/** Compiled pipelines per device, shared by every backend on it (compiling is the slow part). */
const pipelineCaches = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

class WebGpuTensorBackend implements WebGpuBackend {
  readonly name = 'webgpu' as const;
  readonly dtype = 'float32' as const;
  readonly synchronous = false as const;
  readonly device: GPUDevice;
  readonly adapterName: string;
  readonly workgroupSize: number;
  readonly #owned: boolean;
  readonly #chunk: number;
  readonly #reduceChunk: number;
  readonly #maxGrid: number;
  readonly #uniformStride: number;
  readonly #arena: Arena;
  readonly #pages: GPUBuffer[] = [];
  readonly #live = new Set<WebGpuTensor>();
  readonly #pipelines: Map<string, GPUComputePipeline>;
  readonly #used = new Set<string>();
  readonly #layouts = new Map<string, GPUBindGroupLayout>();
  readonly #bindGroups = new Map<string, GPUBindGroup>();
  readonly #staging = new Map<number, GPUBuffer[]>();
  /** Staging buffers of readbacks in flight: dispose() destroys them, which aborts their maps. */
  readonly #stagingOut = new Set<GPUBuffer>();
  readonly #updateUniform: Scratch;
  readonly #updateTable: Scratch;
  readonly #reduceUniform: Scratch;
  readonly #reduceTable: Scratch;
  readonly #lanes: Scratch;
  readonly #partials: Scratch;
  readonly #flags: Scratch;
  readonly #counters = { dispatches: 0, updateDispatches: 0, submits: 0, readbacks: 0, uploads: 0, tableUploads: 0 };
  #disposed = false;
  #fault: string | undefined;

  constructor(
    device: GPUDevice,
    owned: boolean,
    adapterName: string,
    workgroupSize: number,
    initialPageElements: number,
    pageCap: number,
  ) {
    this.device = device;
    this.#owned = owned;
    this.adapterName = adapterName;
    this.workgroupSize = workgroupSize;
    this.#chunk = chunkElements(workgroupSize);
    this.#reduceChunk = reduceChunkElements(workgroupSize);
    const limits = device.limits;
    this.#maxGrid = limits.maxComputeWorkgroupsPerDimension;
    this.#uniformStride = Math.ceil(UPDATE_UNIFORM_BYTES / limits.minUniformBufferOffsetAlignment) * limits.minUniformBufferOffsetAlignment;
    const pageBytes = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    const maxPageElements = Math.floor(Math.min(pageBytes / 4, pageCap) / ALIGNMENT) * ALIGNMENT;
    // The reductions bind the most storage buffers: table, flags, lanes, partials and the pages.
    const maxPages = Math.max(1, Math.min(8, limits.maxStorageBuffersPerShaderStage - 4));
    this.#arena = new Arena({ maxPageElements, maxPages, initialPageElements }, {
      createPage: (index, elements) => {
        this.#pages[index] = this.#createBuffer(elements * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, `rectify page ${index}`);
        this.#invalidate();
      },
      growPage: (index, elements) => {
        const old = this.#pages[index]!;
        const grown = this.#createBuffer(elements * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, `rectify page ${index}`);
        const encoder = device.createCommandEncoder();
        encoder.copyBufferToBuffer(old, 0, grown, 0, old.size);
        this.#submit(encoder);
        // Work already submitted finishes with the old buffer; destroy() waits for it.
        old.destroy();
        this.#pages[index] = grown;
        this.#invalidate();
      },
    });
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    this.#updateUniform = new Scratch(device, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'rectify update scalars');
    this.#updateTable = new Scratch(device, storage, 'rectify update chunks');
    this.#reduceUniform = new Scratch(device, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'rectify reduce header');
    this.#reduceTable = new Scratch(device, storage, 'rectify reduce chunks');
    this.#lanes = new Scratch(device, GPUBufferUsage.STORAGE, 'rectify lane sums');
    this.#partials = new Scratch(device, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'rectify partial sums');
    this.#flags = new Scratch(device, storage | GPUBufferUsage.COPY_SRC, 'rectify flags');
    this.#flags.ensure(FLAGS_BYTES);
    this.#reduceUniform.ensure(16);
    let pipelines = pipelineCaches.get(device);
    if (pipelines === undefined) pipelineCaches.set(device, (pipelines = new Map()));
    this.#pipelines = pipelines;
    watchLoss(device);
  }

  get maxTensorElements(): number {
    return this.#arena.maxElements;
  }

  get stats(): WebGpuBackendStats {
    return { ...this.#counters };
  }

  resourceCounts(): Readonly<Record<ResourceKind, number>> {
    let staging = this.#stagingOut.size;
    for (const free of this.#staging.values()) staging += free.length;
    const scratch = [this.#updateUniform, this.#updateTable, this.#reduceUniform, this.#reduceTable, this.#lanes, this.#partials, this.#flags];
    return {
      tensors: this.#live.size,
      buffers: this.#pages.length + staging + scratch.filter((s) => s.buffer !== null).length,
      pages: this.#pages.length,
      pipelines: this.#used.size,
      bindGroups: this.#bindGroups.size,
    };
  }

  isTensor(value: unknown): value is WebGpuTensor {
    if (!(value instanceof WebGpuTensor)) return false;
    const state = tensorState(value);
    return state.owner === this && !state.released;
  }

  shapeOf(tensor: WebGpuTensor): readonly number[] {
    return tensor.shape;
  }

  fromArray(data: ArrayLike<number>, shape: readonly number[]): WebGpuTensor {
    this.#assertUsable();
    const size = checkedSizeOf(shape, typeof data === 'object' && data !== null ? data.length : data, 'fromArray');
    const storage = this.#allocate(size);
    const tensor = this.#track(new WebGpuTensor(this, shape, storage));
    if (storage !== null) this.#guarded(() => this.#upload(storage, Float32Array.from(data)));
    return tensor;
  }

  zerosLike(like: WebGpuTensor): WebGpuTensor {
    this.#assertUsable();
    this.#assertOwn(like);
    const storage = this.#allocate(like.size);
    const tensor = this.#track(new WebGpuTensor(this, like.shape, storage));
    if (storage !== null) {
      this.#guarded(() => {
        if (storage.capacity <= ZEROS.length) {
          // Queued like any upload: no command buffer per moment (registration makes two per parameter).
          this.device.queue.writeBuffer(this.#pages[storage.page]!, storage.offset * 4, ZEROS, 0, storage.capacity);
        } else {
          const encoder = this.device.createCommandEncoder();
          encoder.clearBuffer(this.#pages[storage.page]!, storage.offset * 4, storage.capacity * 4);
          this.#submit(encoder);
        }
      });
    }
    return tensor;
  }

  capture(tensor: WebGpuTensor): WebGpuTensor {
    this.#assertUsable();
    this.#assertOwn(tensor);
    const storage = tensorState(tensor).storage;
    if (storage !== null) storage.refs++;
    return this.#track(new WebGpuTensor(this, tensor.shape, storage));
  }

  async read(tensor: WebGpuTensor): Promise<Float32Array> {
    this.#assertUsable();
    this.#assertOwn(tensor);
    const storage = tensorState(tensor).storage;
    if (storage === null) return new Float32Array(0);
    const bytes = tensor.size * 4;
    const mapped = this.#scoped(() =>
      this.#readback((encoder, staging) => encoder.copyBufferToBuffer(this.#pages[storage.page]!, storage.offset * 4, staging, 0, bytes), bytes),
    );
    try {
      return new Float32Array(await mapped);
    } catch (error) {
      throw this.#failure(error, 'read');
    }
  }

  async write(tensor: WebGpuTensor, data: ArrayLike<number>): Promise<void> {
    this.#assertUsable();
    this.#assertOwn(tensor);
    if (data === null || typeof data !== 'object' || data.length !== tensor.size) {
      throw new RectifyError('SHAPE_MISMATCH', `write got ${String((data as { length?: unknown } | null)?.length)} values for a tensor of ${tensor.size} elements.`);
    }
    const state = tensorState(tensor);
    if (state.storage === null) return;
    // Copied now: the caller may reuse `data` as soon as this returns.
    const host = Float32Array.from(data);
    let storage = state.storage;
    if (storage.refs > 1) {
      // Shared with a capture: the capture keeps the old elements, the tensor gets new room
      // (no copy: every element is overwritten).
      const fresh = this.#allocate(tensor.size)!;
      storage.refs--;
      state.storage = storage = fresh;
    }
    const target = storage;
    await this.#scoped(() => this.#upload(target, host)).catch((error: unknown) => {
      throw this.#failure(error, 'write');
    });
  }

  disposeTensor(tensor: WebGpuTensor): void {
    if (!(tensor instanceof WebGpuTensor)) return;
    const state = tensorState(tensor);
    if (state.owner !== this || state.released) return;
    state.released = true;
    this.#live.delete(tensor);
    // Freed at once: any later reuse of the room is queued after every operation that
    // was submitted before (the GPU queue is in order).
    this.#releaseStorage(state.storage);
    state.storage = null;
  }

  locate(tensor: WebGpuTensor): { readonly buffer: GPUBuffer; readonly byteOffset: number; readonly byteLength: number } | null {
    this.#assertUsable();
    this.#assertOwn(tensor);
    const storage = tensorState(tensor).storage;
    if (storage === null) return null;
    return { buffer: this.#pages[storage.page]!, byteOffset: storage.offset * 4, byteLength: tensor.size * 4 };
  }

  async sumOfSquares(tensors: readonly WebGpuTensor[]): Promise<number> {
    const result = await this.#reduce(tensors, 'sumOfSquares');
    return result === undefined ? 0 : decodeSum(result);
  }

  async allFinite(tensors: readonly WebGpuTensor[]): Promise<boolean> {
    const result = await this.#reduce(tensors, 'allFinite');
    return result === undefined || result.getUint32(0, true) === 0;
  }

  async applyRAdam(batches: readonly RAdamBatch<WebGpuTensor>[]): Promise<boolean> {
    this.#assertUsable();
    const prepared = this.#prepareUpdate(batches);
    if (prepared === undefined) return true;
    const encoded = this.#scoped(() => {
      const encoder = this.device.createCommandEncoder();
      const temporary = this.#encodeUpdate(encoder, prepared);
      if (prepared.plan === undefined) {
        this.#submit(encoder);
        temporary?.destroy();
        return undefined;
      }
      const flag = this.#readback((copy, staging) => copy.copyBufferToBuffer(this.#flags.buffer!, 0, staging, 0, 4), 4, encoder);
      temporary?.destroy();
      return flag;
    });
    try {
      const range = await encoded;
      return range === undefined || new Uint32Array(range, 0, 1)[0] === 0;
    } catch (error) {
      const failure = this.#failure(error, 'applyRAdam');
      if (failure instanceof RectifyError && failure.code === 'DISPOSED') throw failure;
      throw new WebGpuUpdateFailure(`The WebGPU update was submitted and then failed; tensors may be partly updated: ${failure.message}`, { cause: error });
    }
  }

  encodeRAdam(batches: readonly RAdamBatch<WebGpuTensor>[], into: EncodeTarget): void {
    this.#assertUsable();
    const prepared = this.#prepareUpdate(batches);
    this.#guarded(() => {
      const encoder = this.device.createCommandEncoder({ label: 'rectify update (encoded)' });
      let target: { readonly buffer: GPUBuffer; readonly byteOffset: number };
      try {
        target = into.result(4);
        into.before?.(encoder);
      } catch (error) {
        // Nothing of the update was encoded: the room reserved for its moves goes back.
        for (const move of prepared?.moves ?? []) this.#arena.release(move.to);
        throw error;
      }
      const temporary = prepared === undefined ? null : this.#encodeUpdate(encoder, prepared);
      // Nothing to update: a zero word, "every value written is finite".
      if (prepared?.plan === undefined) encoder.clearBuffer(target.buffer, target.byteOffset, 4);
      else encoder.copyBufferToBuffer(this.#flags.buffer!, 0, target.buffer, target.byteOffset, 4);
      this.#submit(encoder);
      temporary?.destroy();
    });
  }

  encodeSumOfSquares(tensors: readonly WebGpuTensor[], into: EncodeTarget): (result: DataView) => number {
    this.#encodeReduction(tensors, 'sumOfSquares', into);
    return decodeSum;
  }

  encodeAllFinite(tensors: readonly WebGpuTensor[], into: EncodeTarget): (result: DataView) => boolean {
    this.#encodeReduction(tensors, 'allFinite', into);
    return (result) => result.getUint32(0, true) === 0;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const tensor of this.#live) {
      const state = tensorState(tensor);
      state.released = true;
      state.storage = null;
    }
    this.#live.clear();
    for (const page of this.#pages) page.destroy();
    this.#pages.length = 0;
    this.#arena.clear();
    for (const scratch of [this.#updateUniform, this.#updateTable, this.#reduceUniform, this.#reduceTable, this.#lanes, this.#partials, this.#flags]) scratch.destroy();
    for (const free of this.#staging.values()) for (const buffer of free) buffer.destroy();
    this.#staging.clear();
    for (const buffer of this.#stagingOut) buffer.destroy();
    this.#stagingOut.clear();
    this.#bindGroups.clear();
    this.#layouts.clear();
    this.#used.clear();
    if (this.#owned) {
      this.#pipelines.clear();
      this.device.destroy();
    }
  }

  /** @internal Compiles the single-page pipelines ahead of the first step. */
  async warmUp(): Promise<void> {
    await Promise.all([
      this.#pipelineAsync('update', 1),
      this.#pipelineAsync('sumOfSquares', 1),
      this.#pipelineAsync('allFinite', 1),
      this.#pipelineAsync('combine', 1),
    ]);
  }

  // ---- checks ----

  #assertUsable(): void {
    if (this.#disposed) throw new RectifyError('DISPOSED', 'The webgpu backend has been disposed.');
    if (lossOf(this.device) !== undefined) {
      throw new RectifyError('BACKEND_ERROR', `The WebGPU device was lost (${lossOf(this.device)}); its tensors are gone. Create a new backend and load a checkpoint.`);
    }
    if (this.#fault !== undefined) {
      throw new RectifyError('BACKEND_ERROR', `The WebGPU device reported an error earlier (${this.#fault}); tensors may be incomplete. Create a new backend and load a checkpoint.`);
    }
  }

  #assertOwn(tensor: WebGpuTensor): void {
    if (!(tensor instanceof WebGpuTensor) || tensorState(tensor).owner !== this) {
      throw new RectifyError('INVALID_TENSOR', 'Expected a tensor created by this webgpu backend.');
    }
    if (tensorState(tensor).released) throw new RectifyError('DISPOSED', 'This tensor was released with disposeTensor().');
  }

  /** Every check of an update, before anything is touched; returns the tensors it writes. */
  #assertBatches(batches: readonly RAdamBatch<WebGpuTensor>[]): Set<WebGpuTensor> {
    if (!Array.isArray(batches)) throw new RectifyError('INVALID_TENSOR', 'applyRAdam expects a list of batches.');
    const written = new Set<WebGpuTensor>();
    const grads: WebGpuTensor[] = [];
    for (const { slots } of batches) {
      for (const { param, grad, firstMoment, secondMoment } of slots) {
        for (const tensor of [param, grad, firstMoment, secondMoment]) this.#assertOwn(tensor);
        if (grad.size !== param.size || firstMoment.size !== param.size || secondMoment.size !== param.size) {
          throw new RectifyError(
            'SHAPE_MISMATCH',
            `An update got a parameter of ${param.size} elements with a gradient of ${grad.size} and moments of ${firstMoment.size} and ${secondMoment.size}.`,
          );
        }
        for (const tensor of [param, firstMoment, secondMoment]) {
          if (written.has(tensor)) throw new RectifyError('INVALID_TENSOR', 'One update writes the same tensor twice (as a parameter or moment of two slots).');
          written.add(tensor);
        }
        grads.push(grad);
      }
    }
    // Workgroups run in no fixed order: a gradient that is also written would be read
    // before or after its update at random.
    if (grads.some((grad) => written.has(grad))) {
      throw new RectifyError('INVALID_TENSOR', 'A gradient of this update is also a parameter or moment it writes; pass a separate gradient tensor.');
    }
    return written;
  }

  // ---- memory ----

  #track(tensor: WebGpuTensor): WebGpuTensor {
    this.#live.add(tensor);
    return tensor;
  }

  #allocate(size: number): Storage | null {
    if (size === 0) return null;
    const allocation: Allocation = this.#guarded(() => this.#arena.allocate(size));
    return { ...allocation, refs: 1 };
  }

  #releaseStorage(storage: Storage | null): void {
    if (storage === null || --storage.refs > 0) return;
    this.#arena.release(storage);
  }

  #createBuffer(size: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    return this.device.createBuffer({ size, usage, label });
  }

  #upload(storage: Storage, host: Float32Array): void {
    this.device.queue.writeBuffer(this.#pages[storage.page]!, storage.offset * 4, host);
    this.#counters.uploads++;
  }

  /** Forgets the bind groups of `kind` (all of them for `undefined`): a buffer they bind was replaced. */
  #invalidate(kind?: 'update' | 'reduce'): void {
    if (kind === undefined) this.#bindGroups.clear();
    else this.#bindGroups.delete(kind);
  }

  #uploadTable(scratch: Scratch, table: Uint32Array, kind: 'update' | 'reduce'): void {
    if (scratch.ensure(table.byteLength)) this.#invalidate(kind);
    if (sameWords(scratch.shadow, table)) return;
    this.device.queue.writeBuffer(scratch.buffer!, 0, table);
    scratch.shadow = table;
    this.#counters.tableUploads++;
  }

  #submit(encoder: GPUCommandEncoder): void {
    this.device.queue.submit([encoder.finish()]);
    this.#counters.submits++;
  }

  #acquireStaging(bytes: number): GPUBuffer {
    const size = Math.max(256, 2 ** Math.ceil(Math.log2(bytes)));
    const buffer =
      size > POOLED_STAGING_BYTES
        ? this.#createBuffer(Math.ceil(bytes / 4) * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'rectify staging')
        : (this.#staging.get(size)?.pop() ?? this.#createBuffer(size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'rectify staging'));
    this.#stagingOut.add(buffer);
    return buffer;
  }

  #releaseStaging(buffer: GPUBuffer): void {
    this.#stagingOut.delete(buffer);
    if (this.#disposed || buffer.size > POOLED_STAGING_BYTES) {
      buffer.destroy();
      return;
    }
    let free = this.#staging.get(buffer.size);
    if (free === undefined) this.#staging.set(buffer.size, (free = []));
    free.push(buffer);
  }

  /**
   * Submits `encoder` (a new one by default) with `copy`'s copies into a staging buffer of
   * `bytes`, and maps it: resolves to a copy of those bytes.
   */
  async #readback(copy: (encoder: GPUCommandEncoder, staging: GPUBuffer) => void, bytes: number, encoder?: GPUCommandEncoder): Promise<ArrayBuffer> {
    const staging = this.#acquireStaging(bytes);
    try {
      const commands = encoder ?? this.device.createCommandEncoder();
      copy(commands, staging);
      this.#submit(commands);
      this.#counters.readbacks++;
      await staging.mapAsync(GPUMapMode.READ, 0, Math.ceil(bytes / 4) * 4);
      if (this.#disposed) throw new RectifyError('DISPOSED', 'The webgpu backend was disposed while a readback was in flight.');
      const range = staging.getMappedRange(0, Math.ceil(bytes / 4) * 4).slice(0, bytes);
      staging.unmap();
      return range;
    } finally {
      this.#releaseStaging(staging);
    }
  }

  /**
   * Runs `work` (which submits device work) inside validation and out-of-memory error
   * scopes, and resolves with its result once the device has checked it: a device error
   * becomes a rejection instead of a silently invalid buffer.
   */
  #scoped<R>(work: () => R): Promise<Awaited<R>> {
    const device = this.device;
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    let result: R;
    try {
      result = work();
    } catch (error) {
      void device.popErrorScope().catch(() => undefined);
      void device.popErrorScope().catch(() => undefined);
      throw error;
    }
    const checks = Promise.all([device.popErrorScope(), device.popErrorScope()]);
    return Promise.all([result, checks]).then(([value, [oomError, validationError]]) => {
      const error = oomError ?? validationError;
      if (error !== null) throw new Error(`WebGPU ${oomError !== null ? 'out of memory' : 'validation error'}: ${error.message}`);
      return value;
    });
  }

  /** {@link #scoped} for synchronous calls: a device error found later poisons the backend. */
  #guarded<R>(work: () => R): R {
    let result!: R;
    this.#scoped(() => {
      result = work();
    }).catch((error: unknown) => {
      this.#fault ??= message(error);
    });
    return result;
  }

  /** The error an operation rejects with once device work was involved. */
  #failure(error: unknown, operation: string): RectifyError {
    if (error instanceof RectifyError) return error;
    if (this.#disposed) return new RectifyError('DISPOSED', `The webgpu backend was disposed while ${operation}() was in flight.`, undefined, { cause: error });
    const lost = lossOf(this.device) === undefined ? '' : ` (device lost: ${lossOf(this.device)})`;
    return new RectifyError('BACKEND_ERROR', `WebGPU ${operation}() failed${lost}: ${message(error)}`, undefined, { cause: error });
  }

  // ---- kernels ----

  #grid(workgroups: number): [number, number] {
    const x = Math.min(workgroups, this.#maxGrid);
    return [x, Math.ceil(workgroups / x)];
  }

  #layout(kind: 'update' | 'reduce', pages: number): GPUBindGroupLayout {
    const key = `${kind}:${pages}`;
    let layout = this.#layouts.get(key);
    if (layout !== undefined) return layout;
    const stage = GPUShaderStage.COMPUTE;
    const entries: GPUBindGroupLayoutEntry[] =
      kind === 'update'
        ? [
            { binding: 0, visibility: stage, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: UPDATE_UNIFORM_BYTES } },
            { binding: 1, visibility: stage, buffer: { type: 'read-only-storage' } },
            { binding: 2, visibility: stage, buffer: { type: 'storage' } },
            ...Array.from({ length: pages }, (_, k) => ({ binding: 3 + k, visibility: stage, buffer: { type: 'storage' as const } })),
          ]
        : [
            { binding: 0, visibility: stage, buffer: { type: 'uniform' } },
            { binding: 1, visibility: stage, buffer: { type: 'read-only-storage' } },
            { binding: 2, visibility: stage, buffer: { type: 'storage' } },
            { binding: 3, visibility: stage, buffer: { type: 'storage' } },
            { binding: 4, visibility: stage, buffer: { type: 'storage' } },
            ...Array.from({ length: pages }, (_, k) => ({ binding: 5 + k, visibility: stage, buffer: { type: 'read-only-storage' as const } })),
          ];
    layout = this.device.createBindGroupLayout({ entries, label: `rectify ${key}` });
    this.#layouts.set(key, layout);
    return layout;
  }

  #pipelineDescriptor(entry: 'update' | ReduceEntry, pages: number): GPUComputePipelineDescriptor {
    const kind = entry === 'update' ? 'update' : 'reduce';
    const code = kind === 'update' ? updateShader(this.workgroupSize, pages) : reduceShader(this.workgroupSize, pages);
    return {
      label: `rectify ${entry} (${pages} page${pages === 1 ? '' : 's'})`,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.#layout(kind, pages)] }),
      compute: { module: this.device.createShaderModule({ code }), entryPoint: entry },
    };
  }

  #pipelineKey(entry: string, pages: number): string {
    return `${entry}:${pages}:${this.workgroupSize}`;
  }

  #pipeline(entry: 'update' | ReduceEntry, pages: number): GPUComputePipeline {
    const key = this.#pipelineKey(entry, pages);
    let pipeline = this.#pipelines.get(key);
    if (pipeline === undefined) {
      pipeline = this.device.createComputePipeline(this.#pipelineDescriptor(entry, pages));
      this.#pipelines.set(key, pipeline);
    }
    this.#used.add(key);
    return pipeline;
  }

  async #pipelineAsync(entry: 'update' | ReduceEntry, pages: number): Promise<void> {
    const key = this.#pipelineKey(entry, pages);
    if (!this.#pipelines.has(key)) {
      const pipeline = await this.device.createComputePipelineAsync(this.#pipelineDescriptor(entry, pages));
      if (!this.#pipelines.has(key)) this.#pipelines.set(key, pipeline);
    }
    this.#used.add(key);
  }

  /** The bind group of a kind over the current buffers, created once per buffer set. */
  #bindGroup(kind: 'update' | 'reduce', pages: number, entries: () => GPUBindGroupEntry[]): GPUBindGroup {
    // One per kind: a new or grown page invalidates both, a replaced scratch buffer its own.
    let group = this.#bindGroups.get(kind);
    if (group === undefined) {
      group = this.device.createBindGroup({ layout: this.#layout(kind, pages), entries: entries(), label: `rectify ${kind}` });
      this.#bindGroups.set(kind, group);
    }
    return group;
  }

  /**
   * Every check of an update, and the room its copy-on-write moves need (reserved before
   * anything changes, so a full arena changes nothing); `undefined` when there is nothing
   * to do.
   */
  #prepareUpdate(batches: readonly RAdamBatch<WebGpuTensor>[]): PreparedUpdate | undefined {
    const written = this.#assertBatches(batches);
    // Copy on write: a written tensor whose elements a capture shares moves to new room first.
    const moves: { tensor: WebGpuTensor; from: Storage; to: Storage }[] = [];
    try {
      for (const tensor of written) {
        const from = tensorState(tensor).storage;
        if (from !== null && from.refs > 1) moves.push({ tensor, from, to: this.#allocate(tensor.size)! });
      }
    } catch (error) {
      for (const move of moves) this.#arena.release(move.to);
      throw error;
    }
    const plan = this.#planUpdate(batches, moves);
    if (plan === undefined && moves.length === 0) return undefined;
    return { moves, plan };
  }

  /**
   * Encodes a prepared update into `encoder` (the moves, then the dispatch, whose flag
   * word is then in `#flags`) and commits the moves. Returns the temporary buffer of the
   * moves, to destroy once the encoder is submitted.
   */
  #encodeUpdate(encoder: GPUCommandEncoder, { moves, plan }: PreparedUpdate): GPUBuffer | null {
    // Through one temporary buffer: WebGPU refuses a copy within a buffer (both tensors
    // may share a page). Destroyed once submitted; the copies still run.
    const moveBytes = moves.reduce((sum, { to }) => sum + to.capacity * 4, 0);
    const temporary = moveBytes === 0 ? null : this.#createBuffer(moveBytes, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, 'rectify copy on write');
    let at = 0;
    for (const { from, to } of moves) {
      encoder.copyBufferToBuffer(this.#pages[from.page]!, from.offset * 4, temporary!, at, to.capacity * 4);
      encoder.copyBufferToBuffer(temporary!, at, this.#pages[to.page]!, to.offset * 4, to.capacity * 4);
      at += to.capacity * 4;
    }
    for (const { tensor, from, to } of moves) {
      from.refs--;
      tensorState(tensor).storage = to;
    }
    if (plan === undefined) return temporary;
    this.#uploadTable(this.#updateTable, plan.table, 'update');
    if (this.#updateUniform.ensure(plan.uniform.byteLength)) this.#invalidate('update');
    this.device.queue.writeBuffer(this.#updateUniform.buffer!, 0, plan.uniform, 0, plan.uniformBytes);
    const pages = this.#pages.length;
    const pipeline = this.#pipeline('update', pages);
    const bindGroup = this.#bindGroup('update', pages, () => [
      { binding: 0, resource: { buffer: this.#updateUniform.buffer!, size: UPDATE_UNIFORM_BYTES } },
      { binding: 1, resource: { buffer: this.#updateTable.buffer! } },
      { binding: 2, resource: { buffer: this.#flags.buffer! } },
      ...this.#pages.map((buffer, k) => ({ binding: 3 + k, resource: { buffer } })),
    ]);
    encoder.clearBuffer(this.#flags.buffer!, 0, FLAGS_BYTES);
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    plan.dispatches.forEach(({ chunkCount }, d) => {
      if (chunkCount === 0) return; // a block of batches of empty tensors only
      pass.setBindGroup(0, bindGroup, [d * this.#uniformStride]);
      const [x, y] = this.#grid(chunkCount);
      pass.dispatchWorkgroups(x, y);
      this.#counters.dispatches++;
      this.#counters.updateDispatches++;
    });
    pass.end();
    return temporary;
  }

  /**
   * The chunk table and the uniform scalars of an update: one workgroup per run of at most
   * `16 × workgroupSize` elements of one slot, one dispatch per {@link BATCHES_PER_DISPATCH}
   * batches (in practice one). `undefined` when there is nothing to update.
   */
  #planUpdate(
    batches: readonly RAdamBatch<WebGpuTensor>[],
    moves: readonly { tensor: WebGpuTensor; to: Storage }[],
  ): UpdatePlan | undefined {
    const chunk = this.#chunk;
    const moved = new Map(moves.map(({ tensor, to }) => [tensor, to]));
    const storageOf = (tensor: WebGpuTensor): Storage => moved.get(tensor) ?? tensorState(tensor).storage!;
    let total = 0;
    for (const { slots } of batches) for (const { param } of slots) total += Math.ceil(param.size / chunk);
    if (total === 0) return undefined;
    const table = new Uint32Array(total * UPDATE_CHUNK_WORDS);
    const blocks = Math.ceil(batches.length / BATCHES_PER_DISPATCH);
    const uniform = new ArrayBuffer(blocks * this.#uniformStride);
    const floats = new Float32Array(uniform);
    const words = new Uint32Array(uniform);
    const dispatches: { chunkCount: number }[] = [];
    let c = 0;
    let uniformBytes = 0;
    for (let block = 0; block < blocks; block++) {
      const base = (block * this.#uniformStride) / 4;
      const chunkBase = c;
      const last = Math.min(batches.length, (block + 1) * BATCHES_PER_DISPATCH);
      for (let b = block * BATCHES_PER_DISPATCH; b < last; b++) {
        const { slots, scalars } = batches[b]!;
        const relative = b - block * BATCHES_PER_DISPATCH;
        writeScalars(floats, words, base + (UPDATE_HEADER_BYTES + relative * SCALARS_BYTES) / 4, scalars);
        for (const { param, grad, firstMoment, secondMoment } of slots) {
          if (param.size === 0) continue;
          const [p, g, m, v] = [storageOf(param), storageOf(grad), storageOf(firstMoment), storageOf(secondMoment)];
          const pages = p.page | (g.page << 8) | (m.page << 16) | (v.page << 24);
          for (let start = 0; start < param.size; start += chunk) {
            const at = c++ * UPDATE_CHUNK_WORDS;
            const vec = start / 4;
            table[at] = p.offset / 4 + vec;
            table[at + 1] = g.offset / 4 + vec;
            table[at + 2] = m.offset / 4 + vec;
            table[at + 3] = v.offset / 4 + vec;
            table[at + 4] = Math.min(chunk, param.size - start);
            table[at + 5] = relative;
            table[at + 6] = pages;
          }
        }
      }
      const chunkCount = c - chunkBase;
      words[base] = chunkBase;
      words[base + 1] = chunkCount;
      words[base + 2] = this.#grid(chunkCount)[0];
      uniformBytes = block * this.#uniformStride + UPDATE_HEADER_BYTES + (last - block * BATCHES_PER_DISPATCH) * SCALARS_BYTES;
      dispatches.push({ chunkCount });
    }
    return { table, uniform, uniformBytes, dispatches };
  }

  /** The checks and chunk table of a reduction over `tensors`; `undefined` when they hold no element. */
  #prepareReduce(tensors: readonly WebGpuTensor[], entry: 'sumOfSquares' | 'allFinite'): PreparedReduce | undefined {
    this.#assertUsable();
    if (!Array.isArray(tensors)) throw new RectifyError('INVALID_TENSOR', `${entry} expects a list of tensors.`);
    for (const tensor of tensors) this.#assertOwn(tensor);
    const chunk = this.#reduceChunk;
    let total = 0;
    for (const tensor of tensors) total += Math.ceil(tensor.size / chunk);
    if (total === 0) return undefined;
    const table = new Uint32Array(total * REDUCE_CHUNK_WORDS);
    let c = 0;
    for (const tensor of tensors) {
      const storage = tensorState(tensor).storage;
      if (storage === null) continue;
      for (let start = 0; start < tensor.size; start += chunk) {
        const at = c++ * REDUCE_CHUNK_WORDS;
        table[at] = storage.page;
        table[at + 1] = (storage.offset + start) / 4;
        table[at + 2] = Math.min(chunk, tensor.size - start);
      }
    }
    const sums = entry === 'sumOfSquares';
    return { entry, table, total, sums, partialBytes: sums ? total * PARTIAL_BYTES : 0 };
  }

  /** Encodes a prepared reduction into `encoder`: its result is then in `#flags` and (sums) `#partials`. */
  #encodeReduce(encoder: GPUCommandEncoder, { entry, table, total, sums, partialBytes }: PreparedReduce): void {
    this.#uploadTable(this.#reduceTable, table, 'reduce');
    // allFinite binds them too (one layout), at their smallest.
    const grewLanes = this.#lanes.ensure(Math.max(PARTIAL_BYTES, sums ? total * this.workgroupSize * PARTIAL_BYTES : 0));
    const grewPartials = this.#partials.ensure(Math.max(PARTIAL_BYTES, partialBytes));
    if (grewLanes || grewPartials) this.#invalidate('reduce');
    const [x, y] = this.#grid(total);
    const [combineX, combineY] = this.#grid(Math.ceil(total / this.workgroupSize));
    this.device.queue.writeBuffer(this.#reduceUniform.buffer!, 0, new Uint32Array([total, x, combineX, 0]));
    const pages = this.#pages.length;
    const pipeline = this.#pipeline(entry, pages);
    const bindGroup = this.#bindGroup('reduce', pages, () => [
      { binding: 0, resource: { buffer: this.#reduceUniform.buffer! } },
      { binding: 1, resource: { buffer: this.#reduceTable.buffer! } },
      { binding: 2, resource: { buffer: this.#flags.buffer! } },
      { binding: 3, resource: { buffer: this.#lanes.buffer! } },
      { binding: 4, resource: { buffer: this.#partials.buffer! } },
      ...this.#pages.map((buffer, k) => ({ binding: 5 + k, resource: { buffer } })),
    ]);
    encoder.clearBuffer(this.#flags.buffer!, 0, FLAGS_BYTES);
    const pass = encoder.beginComputePass();
    pass.setBindGroup(0, bindGroup);
    pass.setPipeline(pipeline);
    pass.dispatchWorkgroups(x, y);
    this.#counters.dispatches++;
    if (sums) {
      // Storage writes of one dispatch are visible to the next one of the same pass.
      pass.setPipeline(this.#pipeline('combine', pages));
      pass.dispatchWorkgroups(combineX, combineY);
      this.#counters.dispatches++;
    }
    pass.end();
  }

  /** Copies a reduction's result (the flags, then the partials) from the scratch buffers to `buffer` at `at`. */
  #copyReduceResult(encoder: GPUCommandEncoder, { partialBytes }: PreparedReduce, buffer: GPUBuffer, at: number): void {
    encoder.copyBufferToBuffer(this.#flags.buffer!, 0, buffer, at, FLAGS_BYTES);
    if (partialBytes > 0) encoder.copyBufferToBuffer(this.#partials.buffer!, 0, buffer, at + FLAGS_BYTES, partialBytes);
  }

  /** One reduction over `tensors`: the flags word, then (sums only) one partial per chunk. */
  async #reduce(tensors: readonly WebGpuTensor[], entry: 'sumOfSquares' | 'allFinite'): Promise<DataView | undefined> {
    const prepared = this.#prepareReduce(tensors, entry);
    if (prepared === undefined) return undefined;
    const encoded = this.#scoped(() => {
      const encoder = this.device.createCommandEncoder();
      this.#encodeReduce(encoder, prepared);
      return this.#readback((copy, staging) => this.#copyReduceResult(copy, prepared, staging, 0), FLAGS_BYTES + prepared.partialBytes, encoder);
    });
    try {
      return new DataView(await encoded);
    } catch (error) {
      throw this.#failure(error, entry);
    }
  }

  /**
   * A reduction encoded and submitted at once, its result copied to where `into` says
   * (see {@link EncodeTarget}): nothing is read back, nothing awaited.
   */
  #encodeReduction(tensors: readonly WebGpuTensor[], entry: 'sumOfSquares' | 'allFinite', into: EncodeTarget): void {
    const prepared = this.#prepareReduce(tensors, entry);
    const target = into.result(prepared === undefined ? 4 : FLAGS_BYTES + prepared.partialBytes);
    this.#guarded(() => {
      const encoder = this.device.createCommandEncoder({ label: `rectify ${entry} (encoded)` });
      into.before?.(encoder);
      if (prepared === undefined) {
        // No element: a zero flags word reads as finite, and as a sum of 0.
        encoder.clearBuffer(target.buffer, target.byteOffset, 4);
      } else {
        this.#encodeReduce(encoder, prepared);
        this.#copyReduceResult(encoder, prepared, target.buffer, target.byteOffset);
      }
      this.#submit(encoder);
    });
  }
}

/** What a reduction needs once its tensors are checked: the chunk table and the result's size. */
interface PreparedReduce {
  readonly entry: 'sumOfSquares' | 'allFinite';
  readonly table: Uint32Array;
  readonly total: number;
  readonly sums: boolean;
  readonly partialBytes: number;
}

/** What an update needs once its tensors are checked and its room reserved. */
interface PreparedUpdate {
  readonly moves: readonly { tensor: WebGpuTensor; from: Storage; to: Storage }[];
  readonly plan: UpdatePlan | undefined;
}

/** An update's chunk table, its uniform scalars and its dispatches. */
interface UpdatePlan {
  readonly table: Uint32Array;
  readonly uniform: ArrayBuffer;
  readonly uniformBytes: number;
  readonly dispatches: readonly { readonly chunkCount: number }[];
}

/**
 * `Σ x²` from a sum's result bytes (the flags word, then each chunk's three bins): each
 * chunk's bins unscaled in float64 (where nothing overflows) and added in chunk order,
 * the same number on every run; `NaN` or `Infinity` as the flags say.
 */
function decodeSum(result: DataView): number {
  const flags = result.getUint32(0, true);
  if (flags !== 0) return (flags & FLAG_NAN) !== 0 ? NaN : Infinity;
  let small = 0;
  let medium = 0;
  let big = 0;
  for (let offset = FLAGS_BYTES; offset + PARTIAL_BYTES <= result.byteLength; offset += PARTIAL_BYTES) {
    small += result.getFloat32(offset, true);
    medium += result.getFloat32(offset + 4, true);
    big += result.getFloat32(offset + 8, true);
  }
  return small * SMALL_UNSCALE + medium + big * BIG_UNSCALE;
}

/** Writes one batch's scalars at `at` (in 4-byte words) in the layout of the update shader's `Scalars`. */
function writeScalars(floats: Float32Array, words: Uint32Array, at: number, s: RAdamScalars): void {
  const clip = Number.isFinite(s.clipValue);
  floats[at] = s.gradScale;
  // Infinity is not a portable uniform (WGSL may assume finite values): a flag and a
  // finite bound (beyond float32's range a bound clips nothing a float32 can hold).
  floats[at + 1] = clip ? Math.min(s.clipValue, FLOAT32_MAX) : 0;
  floats[at + 2] = s.weightDecay;
  floats[at + 3] = s.paramScale;
  floats[at + 4] = s.beta1;
  floats[at + 5] = 1 - s.beta1;
  floats[at + 6] = s.beta2;
  floats[at + 7] = 1 - s.beta2;
  floats[at + 8] = s.stepSize;
  floats[at + 9] = s.denomScale;
  floats[at + 10] = s.eps;
  floats[at + 11] = 0;
  words[at + 12] = clip ? 1 : 0;
  words[at + 13] = s.rectified ? 1 : 0;
  words[at + 14] = 0;
  words[at + 15] = 0;
}

/** Largest power of two not above `n`. */
function floorPowerOfTwo(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

/**
 * The WebGPU backend: takes `navigator.gpu` by default, or the `gpu`, `adapter` or
 * `device` you pass (in Node: Dawn from the `webgpu` package). Compiles its kernels before
 * it resolves.
 *
 * @throws RectifyError `INVALID_OPTION`: no WebGPU here (`gpu`: the message says what to
 *   install or which browser flag to pass), no adapter (`adapter`), the device refused
 *   (`device`), or a bad `workgroupSize` / `initialPageElements`.
 * @example
 * ```ts
 * import { RAdam } from '@rectify/core';
 * import { createWebGpuBackend } from '@rectify/backend-webgpu';
 *
 * const backend = await createWebGpuBackend();
 * const w = backend.fromArray(new Float32Array(1024), [32, 32]);
 * const opt = new RAdam(backend, { lr: 1e-3 });
 * opt.registerTrainableWeights({ w });
 * const g = backend.fromArray(new Float32Array(1024).fill(0.1), [32, 32]);
 * await opt.step({ w: g });
 * console.log(await backend.read(w));
 * ```
 */
export async function createWebGpuBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  if (options === null || typeof options !== 'object') {
    throw new RectifyError('INVALID_OPTION', 'createWebGpuBackend expects an options object.');
  }
  const { workgroupSize, initialPageElements = 65_536, maxPageElements = Infinity } = options;
  if (workgroupSize !== undefined && !(Number.isInteger(workgroupSize) && workgroupSize >= 1 && floorPowerOfTwo(workgroupSize) === workgroupSize)) {
    throw new RectifyError('INVALID_OPTION', `Option "workgroupSize" must be a power of two, got ${String(workgroupSize)}.`, 'workgroupSize');
  }
  if (!(Number.isInteger(initialPageElements) && initialPageElements >= ALIGNMENT)) {
    throw new RectifyError('INVALID_OPTION', `Option "initialPageElements" must be an integer of at least ${ALIGNMENT}, got ${String(initialPageElements)}.`, 'initialPageElements');
  }
  if (maxPageElements !== Infinity && !(Number.isInteger(maxPageElements) && maxPageElements >= ALIGNMENT)) {
    throw new RectifyError('INVALID_OPTION', `Option "maxPageElements" must be an integer of at least ${ALIGNMENT}, got ${String(maxPageElements)}.`, 'maxPageElements');
  }
  const { device, owned, adapterName } = await acquireDevice(options);
  const limits = device.limits;
  // The sum's tree reduction keeps one float per invocation in workgroup memory.
  const allowed = Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX, limits.maxComputeWorkgroupStorageSize / 4);
  const largest = floorPowerOfTwo(Math.min(256, allowed));
  if (workgroupSize !== undefined && workgroupSize > allowed) {
    if (owned) device.destroy();
    throw new RectifyError(
      'INVALID_OPTION',
      `Option "workgroupSize" (${workgroupSize}) exceeds what this device allows (${allowed}: maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupSizeX, maxComputeWorkgroupStorageSize / 4).`,
      'workgroupSize',
    );
  }
  const backend = new WebGpuTensorBackend(device, owned, adapterName, workgroupSize ?? largest, initialPageElements, maxPageElements);
  try {
    await backend.warmUp();
  } catch (error) {
    backend.dispose();
    throw new RectifyError('BACKEND_ERROR', `The WebGPU kernels did not compile on this device: ${message(error)}`, undefined, { cause: error });
  }
  return backend;
}
