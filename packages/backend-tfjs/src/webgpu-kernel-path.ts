/// <reference types="@webgpu/types" />
import type { RAdamBatch } from '@rectify/core';
import type { WebGpuBackend, WebGpuTensor } from '@rectify/backend-webgpu';
import type * as tf from '@tensorflow/tfjs';
import type { StepPath } from './step-path.js';
import { updateBatches } from './variables.js';
import { activeTfjsWebGpu, arenaOn, tfjsArenaBridge, type MirrorPair, type TfjsWebGpu } from './webgpu-interop.js';

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
  const bridge = tfjsArenaBridge(tfjs, arena);

  /**
   * Submits tfjs' pending commands, then copies each pair whose mirror does not hold the
   * tensor's data, in one command buffer. Resolves once the device has validated the
   * copies (the update is queued after them either way: one queue).
   */
  const copyIn = (pairs: readonly MirrorPair[]): Promise<void> => {
    bridge.flush();
    device.pushErrorScope('validation');
    let checked: Promise<GPUError | null>;
    try {
      const encoder = device.createCommandEncoder({ label: 'rectify tfjs to arena' });
      bridge.encodeCopies(encoder, pairs);
      device.queue.submit([encoder.finish()]);
    } finally {
      // Popped whatever happened: the device's scope stack is tfjs' too.
      checked = device.popErrorScope();
    }
    return checked.then((error) => {
      if (error !== null) throw new Error(`copying tfjs tensors into the arena: ${error.message}`);
    });
  };

  /**
   * `reduce` over `tensors` mirrored into the arena (copies only where needed), or
   * `undefined` when the arena cannot take them (the caller then falls back). The
   * reduction is queued right behind the copies; both are awaited together.
   */
  const reduceMirrored = async <R>(tensors: readonly tf.Tensor[], reduce: (mirrored: WebGpuTensor[]) => Promise<R>): Promise<R | undefined> => {
    const pairs = bridge.mirrorReduced(tensors);
    if (pairs === undefined) return undefined;
    try {
      const copied = copyIn(pairs);
      const [, result] = await Promise.all([copied, reduce(pairs.map(([, mirror]) => mirror))]);
      return result;
    } catch (error) {
      bridge.forget(pairs);
      throw bridge.failed(error, 'reduce');
    }
  };

  const sumOfSquares = async (tensors: readonly tf.Tensor[]): Promise<number> =>
    (await reduceMirrored(tensors, (m) => arena.sumOfSquares(m))) ?? fallback().sumOfSquares(tensors);

  const allFinite = async (tensors: readonly tf.Tensor[]): Promise<boolean> =>
    (await reduceMirrored(tensors, (m) => arena.allFinite(m))) ?? fallback().allFinite(tensors);

  const applyRAdam = async (step: readonly RAdamBatch<tf.Tensor>[]): Promise<boolean> => {
    const batches = updateBatches(step);
    if (batches.every((batch) => batch.targets.length === 0)) return true;
    const mirrored = bridge.mirrorUpdate(batches);
    if (mirrored === undefined) return fallback().applyRAdam(step);
    let finite: boolean;
    try {
      const copied = copyIn(mirrored.pairs);
      // Updated in place: until the new values are assigned, the mirrors hold no tfjs data.
      bridge.updating(mirrored);
      const update = arena.applyRAdam(mirrored.batches);
      [, finite] = await Promise.all([copied, update]);
    } catch (error) {
      bridge.forget(mirrored.pairs);
      throw bridge.failed(error, 'applyRAdam');
    }
    // The update is done and checked: only now does any variable change.
    bridge.flush();
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    let checked: Promise<(GPUError | null)[]>;
    try {
      bridge.assignAll(mirrored);
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
  const tfjs = activeTfjsWebGpu();
  const arena = tfjs === undefined ? undefined : await arenaOn(tfjs);
  return arena === undefined ? undefined : webgpuKernelPath(tfjs!, arena, fallback);
}
