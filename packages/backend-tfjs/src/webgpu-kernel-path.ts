/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs';
import { RectifyError, type RAdamBatch } from '@rectify/core';
import type { WebGpuBackend, WebGpuTensor } from '@rectify/backend-webgpu';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { StepPath } from './step-path.js';
import { updateBatches, type UpdateTarget } from './variables.js';

/** What this path uses of tfjs-webgpu's backend (all public members of `WebGPUBackend`). */
type TfjsWebGpu = Pick<
  WebGPUBackend,
  'device' | 'tensorMap' | 'bufferManager' | 'uploadToGPU' | 'ensureCommandEncoderReady' | 'endComputePassEncoder' | 'submitQueue' | 'makeTensorInfo'
>;

/** Usage of a tfjs-webgpu tensor buffer (what its `uploadToGPU` gives them). */
const TENSOR_USAGE = (): GPUBufferUsageFlags => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

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
 * The step on tfjs' `webgpu` backend through `@rectify/backend-webgpu`'s WGSL kernel, on
 * tfjs' own `GPUDevice`: one compute dispatch updates every variable of the step.
 *
 * Per step, on the shared queue and with no readback of tensor data: tfjs' pending work
 * is submitted; the tensors the mirrors do not already hold are copied (copy commands,
 * not dispatches) from tfjs' buffers into the arena; the one update dispatch runs (with
 * its 4-byte finiteness flag); once the flag is back and the device reported no error,
 * each variable gets a new tfjs tensor, filled by a copy from the arena, with `assign`.
 * A failure before then (a bad tensor, a device error: a typed `RectifyError`) leaves
 * every variable as it was: nothing tfjs holds was written; a failure of those last
 * copies (after the assigns) is an untyped error, which core takes for a torn update. tfjs' buffers are only ever read
 * (a tensor's data may be shared with its clones) and its new tensors get buffers of
 * tfjs' own pool, which it frees as usual.
 *
 * The moments stay `tf.Variable`s (checkpoints, `read`, `write` see them as on every
 * other path); their mirrors make copying them in free while nobody else assigns them.
 *
 * `fallback()` (the stock-op graph) runs a call that this path cannot: a tensor larger
 * than one arena binding, an arena too full for the mirrors, or data tfjs does not keep
 * in a `GPUBuffer`. The arena holds up to four mirrors per parameter (parameter, both
 * moments, and the gradient), on top of tfjs' own tensors.
 */
export function webgpuKernelPath(tfjs: TfjsWebGpu, arena: WebGpuBackend, fallback: () => StepPath): StepPath {
  const device = tfjs.device;
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

  /** Whether this path can take every tensor (else the call goes to `fallback`). */
  const fits = (tensors: readonly tf.Tensor[]): boolean =>
    tensors.every((t) => t.size <= arena.maxTensorElements && (t.size === 0 || bufferOf(t) !== undefined));

  /**
   * Submits tfjs' pending commands, then copies each `[tensor, mirror]` pair whose mirror
   * does not hold the tensor's data, in one command buffer. Resolves once the device has
   * validated the copies (the update is queued after them either way: one queue).
   */
  const copyIn = (pairs: readonly (readonly [tf.Tensor, WebGpuTensor])[]): Promise<void> => {
    tfjs.ensureCommandEncoderReady();
    tfjs.endComputePassEncoder();
    tfjs.submitQueue();
    device.pushErrorScope('validation');
    let checked: Promise<GPUError | null>;
    try {
      const encoder = device.createCommandEncoder({ label: 'rectify tfjs to arena' });
      for (const [tensor, mirror] of pairs) {
        if (tensor.size === 0 || mirrors.holds(mirror, tensor.dataId)) continue;
        const to = arena.locate(mirror)!;
        encoder.copyBufferToBuffer(bufferOf(tensor)!, 0, to.buffer, to.byteOffset, to.byteLength);
        mirrors.record(mirror, tensor.dataId);
      }
      device.queue.submit([encoder.finish()]);
    } finally {
      // Popped whatever happened: the device's scope stack is tfjs' too.
      checked = device.popErrorScope();
    }
    return checked.then((error) => {
      if (error !== null) throw new Error(`copying tfjs tensors into the arena: ${error.message}`);
    });
  };

  /** A device failure as a typed error: it came before anything tfjs holds was written. */
  const failed = (error: unknown, operation: string): RectifyError =>
    error instanceof RectifyError
      ? error
      : new RectifyError('BACKEND_ERROR', `WebGPU ${operation}() on tfjs' device failed before any variable was written: ${error instanceof Error ? error.message : String(error)}`, undefined, { cause: error });

  /**
   * `reduce` over `tensors` mirrored into the arena (copies only where needed), or
   * `undefined` when the arena cannot take them (the caller then falls back). The
   * reduction is queued right behind the copies; both are awaited together.
   */
  const reduceMirrored = async <R>(tensors: readonly tf.Tensor[], reduce: (mirrored: WebGpuTensor[]) => Promise<R>): Promise<R | undefined> => {
    if (!fits(tensors)) return undefined;
    const reduced = new Map<object, WebGpuTensor>();
    const pairs = allocating(() =>
      tensors.map((t, i) => {
        const mirror = mirrors.slot(`r${i}`, t.size);
        reduced.set(t.dataId, mirror);
        return [t, mirror] as const;
      }),
    );
    if (pairs === undefined) return undefined;
    mirrors.setReduced(reduced);
    try {
      const copied = copyIn(pairs);
      const [, result] = await Promise.all([copied, reduce(pairs.map(([, mirror]) => mirror))]);
      return result;
    } catch (error) {
      pairs.forEach(([, mirror]) => mirrors.record(mirror, undefined));
      throw failed(error, 'reduce');
    }
  };

  const sumOfSquares = async (tensors: readonly tf.Tensor[]): Promise<number> =>
    (await reduceMirrored(tensors, (m) => arena.sumOfSquares(m))) ?? fallback().sumOfSquares(tensors);

  const allFinite = async (tensors: readonly tf.Tensor[]): Promise<boolean> =>
    (await reduceMirrored(tensors, (m) => arena.allFinite(m))) ?? fallback().allFinite(tensors);

  /** A new tfjs tensor of `shape` that a copy from `mirror` (encoded into `encoder`) fills. */
  const tensorFrom = (mirror: WebGpuTensor, shape: readonly number[], encoder: GPUCommandEncoder): tf.Tensor => {
    const from = arena.locate(mirror)!;
    const buffer = tfjs.bufferManager.acquireBuffer(from.byteLength, TENSOR_USAGE());
    encoder.copyBufferToBuffer(from.buffer, from.byteOffset, buffer, 0, from.byteLength);
    // As tfjs' own readToGPU() makes a tensor over a buffer it acquired: the buffer goes
    // back to tfjs' pool when the tensor's data is disposed.
    const info = tfjs.makeTensorInfo([...shape], 'float32');
    tfjs.tensorMap.get(info.dataId)!.resource = buffer;
    return tf.engine().makeTensorFromTensorInfo(info);
  };

  const applyRAdam = async (step: readonly RAdamBatch<tf.Tensor>[]): Promise<boolean> => {
    const batches = updateBatches(step);
    const targets = batches.flatMap((batch) => batch.targets);
    if (targets.length === 0) return true;
    if (!fits(targets.flatMap(({ param, grad, m, v }) => [param, grad, m, v]))) return fallback().applyRAdam(step);
    // Every mirror exists before anything is copied: an arena out of memory changes
    // nothing, and the stock ops take the step.
    const pairs: (readonly [tf.Tensor, WebGpuTensor])[] = [];
    const written: { target: UpdateTarget; p: WebGpuTensor; m: WebGpuTensor; v: WebGpuTensor }[] = [];
    let k = 0;
    const arenaBatches = allocating(() => batches.map(({ targets: slots, scalars }) => ({
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
    })));
    if (arenaBatches === undefined) return fallback().applyRAdam(step);
    let finite: boolean;
    try {
      const copied = copyIn(pairs);
      // Updated in place: until the new values are assigned, the mirrors hold no tfjs data.
      for (const { p, m, v } of written) for (const mirror of [p, m, v]) mirrors.record(mirror, undefined);
      const update = arena.applyRAdam(arenaBatches);
      [, finite] = await Promise.all([copied, update]);
    } catch (error) {
      for (const [, mirror] of pairs) mirrors.record(mirror, undefined);
      throw failed(error, 'applyRAdam');
    }
    // The update is done and checked: only now does any variable change.
    tfjs.ensureCommandEncoderReady();
    tfjs.endComputePassEncoder();
    tfjs.submitQueue();
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    let checked: Promise<(GPUError | null)[]>;
    try {
      const encoder = device.createCommandEncoder({ label: 'rectify arena to tfjs' });
      tf.tidy(() => {
        for (const { target, p, m, v } of written) {
          if (target.param.size === 0) continue;
          for (const [variable, mirror] of [[target.m, m], [target.v, v], [target.param, p]] as const) {
            variable.assign(tensorFrom(mirror, variable.shape, encoder));
            mirrors.record(mirror, variable.dataId);
          }
        }
        device.queue.submit([encoder.finish()]);
      });
    } finally {
      checked = Promise.all([device.popErrorScope(), device.popErrorScope()]);
    }
    const [oom, invalid] = await checked;
    // Not a RectifyError: variables were assigned, so core halts with BACKEND_ERROR.
    if (oom !== null || invalid !== null) throw new Error(`WebGPU copying the new values into tfjs tensors failed: ${(oom ?? invalid)!.message}`);
    return finite;
  };

  // One call at a time: the mirrors are shared, and a step's copy-out comes after an
  // await (two optimizers on one backend must not overwrite each other's mirrors).
  let last: Promise<unknown> = Promise.resolve();
  const exclusive =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      const run = last.then(() => call(...args));
      last = run.catch(() => undefined);
      return run;
    };

  return {
    sumOfSquares: exclusive(sumOfSquares),
    allFinite: exclusive(allFinite),
    applyRAdam: exclusive(applyRAdam),
    // The arena runs on tfjs' device, which it never destroys.
    dispose: () => arena.dispose(),
  };
}

/**
 * The {@link webgpuKernelPath} for the active tfjs backend when it is `webgpu` and
 * `@rectify/backend-webgpu` loads and compiles its kernels on tfjs' device; `undefined`
 * otherwise (the caller then keeps the stock-op graph).
 *
 * @example
 * ```ts
 * const graph = opGraphPath(reader, reducerFor('webgpu'));
 * const path = (await sharedWebGpuPath(() => graph)) ?? graph;
 * ```
 */
export async function sharedWebGpuPath(fallback: () => StepPath): Promise<StepPath | undefined> {
  const tfjs = tf.backend() as unknown as Partial<TfjsWebGpu>;
  if (tf.getBackend() !== 'webgpu' || tfjs.device === undefined || typeof tfjs.uploadToGPU !== 'function') return undefined;
  let arena: WebGpuBackend;
  try {
    const { createWebGpuBackend } = await import('@rectify/backend-webgpu');
    arena = await createWebGpuBackend({ device: tfjs.device });
  } catch {
    return undefined;
  }
  return webgpuKernelPath(tfjs as TfjsWebGpu, arena, fallback);
}
