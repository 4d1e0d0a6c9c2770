/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs';
import { RectifyError, type RAdamBatch } from '@rectify/core';
import type { WebGpuBackend, WebGpuTensor } from '@rectify/backend-webgpu';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { UpdateBatch, UpdateTarget } from './variables.js';

/** What the shared-kernel paths use of tfjs-webgpu's backend (all public members of `WebGPUBackend`). */
export type TfjsWebGpu = Pick<
  WebGPUBackend,
  'device' | 'tensorMap' | 'bufferManager' | 'uploadToGPU' | 'ensureCommandEncoderReady' | 'endComputePassEncoder' | 'submitQueue' | 'makeTensorInfo'
>;

/** Usage of a tfjs-webgpu tensor buffer (what its `uploadToGPU` gives them). */
const TENSOR_USAGE = (): GPUBufferUsageFlags => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A tfjs tensor and the arena mirror that must hold its values. */
export type MirrorPair = readonly [tf.Tensor, WebGpuTensor];

/** The mirrors of one update: what to copy in, what the update writes, and its arena batches. */
export interface MirroredUpdate {
  readonly pairs: readonly MirrorPair[];
  readonly written: readonly { readonly target: UpdateTarget; readonly p: WebGpuTensor; readonly m: WebGpuTensor; readonly v: WebGpuTensor }[];
  readonly batches: RAdamBatch<WebGpuTensor>[];
}

/**
 * Arena tensors of `@rectify/backend-webgpu` that mirror tfjs tensors, by role and
 * position (`p3`: the parameter of the fourth slot), allocated once per layout. Each
 * remembers which tfjs data (`dataId`) it holds: tfjs data never changes under a
 * `dataId` (tensors are immutable, `assign` gives a variable a new one), so a mirror that
 * holds a tensor's `dataId` holds its values and needs no copy. In a steady run the
 * parameters and moments are never copied in (the mirrors hold what the last step
 * assigned) and the gradients only once (for the reductions, then reused by the update).
 */
class Mirrors {
  readonly #tensors = new Map<string, WebGpuTensor>();
  readonly #holds = new Map<WebGpuTensor, object>();
  /** The gradients the last reduction copied in, by `dataId`. */
  #reduced = new Map<object, WebGpuTensor>();

  constructor(private readonly arena: WebGpuBackend) {}

  /** The mirror `key` for a tensor of `size` elements (a new one when the size changed). */
  slot(key: string, size: number): WebGpuTensor {
    const old = this.#tensors.get(key);
    if (old !== undefined && old.size === size) return old;
    if (old !== undefined) this.#drop(key, old);
    const mirror = this.arena.fromArray(new Float32Array(size), [size]);
    this.#tensors.set(key, mirror);
    return mirror;
  }

  holds(mirror: WebGpuTensor, dataId: object): boolean {
    return this.#holds.get(mirror) === dataId;
  }

  record(mirror: WebGpuTensor, dataId: object | undefined): void {
    if (dataId === undefined) this.#holds.delete(mirror);
    else this.#holds.set(mirror, dataId);
  }

  /** The mirror of the last reduction that holds `dataId`, if it still does. */
  reducedHolder(dataId: object): WebGpuTensor | undefined {
    const mirror = this.#reduced.get(dataId);
    return mirror !== undefined && this.holds(mirror, dataId) ? mirror : undefined;
  }

  setReduced(reduced: Map<object, WebGpuTensor>): void {
    this.#reduced = reduced;
  }

  #drop(key: string, mirror: WebGpuTensor): void {
    this.#tensors.delete(key);
    this.#holds.delete(mirror);
    this.arena.disposeTensor(mirror);
  }
}

/**
 * What both shared-kernel paths (`webgpu-kernel-path.ts`, asynchronous, and
 * `webgpu-sync-path.ts`, synchronous) do alike between tfjs-webgpu's tensors and an
 * arena of `@rectify/backend-webgpu` on the same device: mirror them, encode the copies
 * in and out, wrap a device buffer as a tfjs tensor. Nothing here waits for the device.
 *
 * @example
 * ```ts
 * const bridge = tfjsArenaBridge(tfjs, arena);
 * const mirrored = bridge.mirrorUpdate(updateBatches(step)); // undefined: the stock ops take the step
 * ```
 */
export function tfjsArenaBridge(tfjs: TfjsWebGpu, arena: WebGpuBackend) {
  const mirrors = new Mirrors(arena);

  /** `make()`, or `undefined` when the arena is full (the stock ops then take the call). */
  const allocating = <R>(make: () => R): R | undefined => {
    try {
      return make();
    } catch (error) {
      if (error instanceof RectifyError && error.code === 'OUT_OF_MEMORY') return undefined;
      throw error;
    }
  };

  /** The GPU buffer holding `tensor`'s data (uploaded first when tfjs keeps it on the CPU). */
  const bufferOf = (tensor: tf.Tensor): GPUBuffer | undefined => {
    tfjs.uploadToGPU(tensor.dataId);
    const resource = tfjs.tensorMap.get(tensor.dataId)?.resource;
    return resource instanceof GPUBuffer ? resource : undefined;
  };

  /** Whether the arena can take every tensor (else the call goes to the stock ops). */
  const fits = (tensors: readonly tf.Tensor[]): boolean =>
    tensors.every((t) => t.size <= arena.maxTensorElements && (t.size === 0 || bufferOf(t) !== undefined));

  /** Submits tfjs' pending commands, so that copies encoded after them see its values. */
  const flush = (): void => {
    tfjs.ensureCommandEncoderReady();
    tfjs.endComputePassEncoder();
    tfjs.submitQueue();
  };

  /** Encodes the copy of each pair whose mirror does not hold its tensor's data, and records it. */
  const encodeCopies = (encoder: GPUCommandEncoder, pairs: readonly MirrorPair[]): void => {
    for (const [tensor, mirror] of pairs) {
      if (tensor.size === 0 || mirrors.holds(mirror, tensor.dataId)) continue;
      const to = arena.locate(mirror)!;
      encoder.copyBufferToBuffer(bufferOf(tensor)!, 0, to.buffer, to.byteOffset, to.byteLength);
      mirrors.record(mirror, tensor.dataId);
    }
  };

  /** Forgets what the mirrors of `pairs` hold (a call failed: they may hold anything). */
  const forget = (pairs: readonly MirrorPair[]): void => {
    for (const [, mirror] of pairs) mirrors.record(mirror, undefined);
  };

  /**
   * The mirrors a reduction over `tensors` reads, remembered for the update to reuse;
   * `undefined` when the arena cannot take them (the caller then falls back).
   */
  const mirrorReduced = (tensors: readonly tf.Tensor[]): MirrorPair[] | undefined => {
    if (!fits(tensors)) return undefined;
    const reduced = new Map<object, WebGpuTensor>();
    const pairs = allocating(() =>
      tensors.map((t, i) => {
        const mirror = mirrors.slot(`r${i}`, t.size);
        reduced.set(t.dataId, mirror);
        return [t, mirror] as const;
      }),
    );
    if (pairs !== undefined) mirrors.setReduced(reduced);
    return pairs;
  };

  /**
   * The mirrors of an update of `batches`: every one exists before anything is copied, so
   * an arena out of memory changes nothing (`undefined`: the stock ops take the step).
   */
  const mirrorUpdate = (batches: readonly UpdateBatch[]): MirroredUpdate | undefined => {
    const targets = batches.flatMap((batch) => batch.targets);
    if (!fits(targets.flatMap(({ param, grad, m, v }) => [param, grad, m, v]))) return undefined;
    const pairs: MirrorPair[] = [];
    const written: MirroredUpdate['written'][number][] = [];
    let k = 0;
    const arenaBatches = allocating(() =>
      batches.map(({ targets: slots, scalars }) => ({
        scalars,
        slots: slots.map((target) => {
          const i = k++;
          const size = target.param.size;
          const p = mirrors.slot(`p${i}`, size);
          const m = mirrors.slot(`m${i}`, size);
          const v = mirrors.slot(`v${i}`, size);
          let grad = mirrors.reducedHolder(target.grad.dataId);
          if (grad === undefined) pairs.push([target.grad, (grad = mirrors.slot(`g${i}`, size))]);
          pairs.push([target.param, p], [target.m, m], [target.v, v]);
          written.push({ target, p, m, v });
          return { param: p, grad, firstMoment: m, secondMoment: v };
        }),
      })),
    );
    return arenaBatches === undefined ? undefined : { pairs, written, batches: arenaBatches };
  };

  /** Marks the mirrors an update writes in place as holding no tfjs data (until the assigns). */
  const updating = ({ written }: MirroredUpdate): void => {
    for (const { p, m, v } of written) for (const mirror of [p, m, v]) mirrors.record(mirror, undefined);
  };

  /** A new tfjs tensor over `buffer` (of tfjs' pool: it goes back there when the tensor's data is disposed). */
  const wrap = (buffer: GPUBuffer, shape: readonly number[], dtype: 'float32' | 'int32'): tf.Tensor => {
    // As tfjs' own readToGPU() makes a tensor over a buffer it acquired.
    const info = tfjs.makeTensorInfo([...shape], dtype);
    tfjs.tensorMap.get(info.dataId)!.resource = buffer;
    return tf.engine().makeTensorFromTensorInfo(info);
  };

  /** A buffer of tfjs' pool of `bytes`, usable as a tensor's (storage, copies both ways). */
  const acquire = (bytes: number): GPUBuffer => tfjs.bufferManager.acquireBuffer(bytes, TENSOR_USAGE());

  /** Gives a buffer from {@link acquire} that no tensor took back to tfjs' pool. */
  const release = (buffer: GPUBuffer): void => tfjs.bufferManager.releaseBuffer(buffer);

  /** A new tfjs tensor of `shape` that a copy from `mirror` (encoded into `encoder`) fills. */
  const tensorFrom = (mirror: WebGpuTensor, shape: readonly number[], encoder: GPUCommandEncoder): tf.Tensor => {
    const from = arena.locate(mirror)!;
    const buffer = acquire(from.byteLength);
    encoder.copyBufferToBuffer(from.buffer, from.byteOffset, buffer, 0, from.byteLength);
    return wrap(buffer, shape, 'float32');
  };

  /**
   * Gives each written variable its new values: a new tfjs tensor filled by a copy from
   * its mirror, `assign`ed (which cannot fail: same shape, same dtype), in one command
   * buffer submitted here. Call {@link flush} first; the caller watches the device's
   * errors around it.
   */
  const assignAll = ({ written }: MirroredUpdate): void => {
    const encoder = tfjs.device.createCommandEncoder({ label: 'rectify arena to tfjs' });
    tf.tidy(() => {
      for (const { target, p, m, v } of written) {
        if (target.param.size === 0) continue;
        for (const [variable, mirror] of [[target.m, m], [target.v, v], [target.param, p]] as const) {
          variable.assign(tensorFrom(mirror, variable.shape, encoder));
          mirrors.record(mirror, variable.dataId);
        }
      }
      tfjs.device.queue.submit([encoder.finish()]);
    });
  };

  /** A device failure as a typed error: it came before anything tfjs holds was written. */
  const failed = (error: unknown, operation: string): RectifyError =>
    error instanceof RectifyError
      ? error
      : new RectifyError(
          'BACKEND_ERROR',
          `WebGPU ${operation}() on tfjs' device failed before any variable was written: ${error instanceof Error ? error.message : String(error)}`,
          undefined,
          { cause: error },
        );

  return { flush, encodeCopies, forget, mirrorReduced, mirrorUpdate, updating, wrap, acquire, release, assignAll, failed };
}

/** What {@link tfjsArenaBridge} gives. */
export type TfjsArenaBridge = ReturnType<typeof tfjsArenaBridge>;

/**
 * tfjs' active backend as tfjs-webgpu with what the shared-kernel paths use, or
 * `undefined` when it is another backend.
 */
export function activeTfjsWebGpu(): TfjsWebGpu | undefined {
  const tfjs = tf.backend() as unknown as Partial<TfjsWebGpu>;
  if (tf.getBackend() !== 'webgpu' || tfjs.device === undefined || typeof tfjs.uploadToGPU !== 'function') return undefined;
  return tfjs as TfjsWebGpu;
}

/**
 * An arena of `@rectify/backend-webgpu` on tfjs-webgpu's device (its kernels compiled),
 * or `undefined` when the package does not load or the kernels do not compile there.
 */
export async function arenaOn(tfjs: TfjsWebGpu): Promise<WebGpuBackend | undefined> {
  try {
    const { createWebGpuBackend } = await import('@rectify/backend-webgpu');
    return await createWebGpuBackend({ device: tfjs.device });
  } catch {
    return undefined;
  }
}
