/// <reference types="@webgpu/types" />
import type * as tf from '@tensorflow/tfjs';
import { RectifyError, type RAdamBatch } from '@rectify/core';
import type { EncodeTarget, WebGpuBackend, WebGpuTensor } from '@rectify/backend-webgpu';
import type { StepPath } from './step-path.js';
import { updateBatches } from './variables.js';
import { CANVAS_READ_BYTES, canvasReadSize, canvasReader, type CanvasReader } from './webgpu-canvas-read.js';
import { activeTfjsWebGpu, arenaOn, tfjsArenaBridge, type MirrorPair, type TfjsWebGpu } from './webgpu-interop.js';

/**
 * What the result buffer holds before the device writes it: a word no result ever has
 * there (the flag words of `@rectify/backend-webgpu` only ever hold the bits 1 and 2), so
 * work that never ran (a command buffer the device rejected) cannot read as "finite".
 */
const NEVER_RAN = 0xffffffff;

/**
 * A word written after the result, which the device never overwrites: a read that does
 * not give it back (a browser whose canvas readback returns zeros) read no real result.
 */
const CANARY = 0x5ca1ab1e;

/**
 * Whether a GPU buffer can be read synchronously here (tfjs-webgpu's `readSync`, what
 * `dataSync()` calls, and `webgpu-canvas-read.ts`): both read through an
 * `OffscreenCanvas` with a `webgpu` context, which browsers have and Node (Dawn's
 * `webgpu` package) has not.
 */
export function webGpuReadsSynchronously(): boolean {
  return typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas === 'function';
}

/**
 * The step on tfjs' `webgpu` backend through `@rectify/backend-webgpu`'s WGSL kernel,
 * **synchronously**: what `tfjsBackend({ synchronous: true })` (so `RAdamOptimizer`) runs
 * there in a browser. One compute dispatch updates every variable of the step; each
 * reduction core asks for first (`allFinite` under `nonFinite: 'error'` or `'skip'`, the
 * norm under `gradClipNorm`) is one more, and every result comes back with one
 * synchronous read of a few bytes.
 *
 * Per call: tfjs' pending work is submitted; one command buffer copies the tensors the
 * mirrors do not hold into the arena, runs the kernel and copies its result words into
 * a small buffer of tfjs' pool, first filled with {@link NEVER_RAN}; that buffer is read
 * synchronously the way tfjs-webgpu's `readSync` reads (through a WebGPU canvas, which
 * waits for the device), over two canvases configured once (`webgpu-canvas-read.ts`:
 * `readSync` makes three per read, which a long run exhausts on a software GPU), or,
 * for a result beyond their 64 KiB, wrapped as a tfjs tensor and read with `dataSync()`
 * itself. Only then, for an update, does each
 * variable get a new tfjs tensor filled by a copy from the arena (as the asynchronous
 * path does, see `webgpu-kernel-path.ts`).
 *
 * **What is checked before any variable changes.** Every tensor (as `updateBatches`
 * does), the arena's room (all mirrors exist before anything is encoded), the arena's
 * own checks, and the device's verdict on the command buffer: a command buffer the device
 * rejects (a validation error) runs nothing, so its result still reads
 * {@link NEVER_RAN}: a typed `BACKEND_ERROR`, nothing changed. A failing read is
 * that error too, and so is one that returns bytes the device never wrote (the
 * {@link CANARY} after the result is not there: headless Chromium on SwiftShader, whose
 * WebGPU canvas readback gives zeros and then loses the device).
 *
 * **What is not.** WebGPU reports errors only through promises (error scopes), which a
 * synchronous call cannot await: an error that leaves the work run (out of memory in a
 * copy), or one in the copies out to the new tfjs tensors (after the assigns), is seen
 * later. The arena then refuses every further call (`BACKEND_ERROR`, typed: before
 * anything changes); an error in the copies out makes the next update throw an untyped
 * error, which core takes for a torn state (`BACKEND_ERROR`, the optimizer halts: restore
 * a checkpoint).
 *
 * `fallback()` (the stock-op graph) takes a call this path cannot: a tensor larger than
 * one arena binding, an arena too full for the mirrors, or data tfjs does not keep in a
 * `GPUBuffer`.
 */
export function webgpuSyncKernelPath(tfjs: TfjsWebGpu, arena: WebGpuBackend, fallback: () => StepPath): StepPath {
  const device = tfjs.device;
  const bridge = tfjsArenaBridge(tfjs, arena);
  /** Why the last copy out failed, once the device said so (see the notes above). */
  let tornBy: string | undefined;

  /** The canvas reader of this device, made at the first read (`undefined`: none here). */
  let reader: CanvasReader | undefined | null = null;
  const canvas = (bytes: number): CanvasReader | undefined => {
    reader ??= canvasReader(device);
    return canvasReadSize(bytes) <= CANVAS_READ_BYTES ? reader : undefined;
  };

  /**
   * The first `bytes` of `buffer` (of tfjs' pool, which gets it back): through the canvas
   * reader where it takes them, else wrapped as a tfjs tensor and read with `dataSync()`
   * (tfjs-webgpu's `readSync`).
   */
  const readBack = (buffer: GPUBuffer, bytes: number): Uint32Array => {
    const read = canvas(bytes);
    if (read !== undefined) {
      try {
        return new Uint32Array(read(buffer, bytes).slice().buffer);
      } finally {
        bridge.release(buffer);
      }
    }
    const tensor = bridge.wrap(buffer, [buffer.size / 4], 'int32');
    try {
      const values = tensor.dataSync() as Int32Array;
      return new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + bytes));
    } finally {
      tensor.dispose();
    }
  };

  /**
   * Runs `encode` (which encodes and submits the work, after `pairs`' copies, with its
   * result going to a buffer of `into`) and reads that result back synchronously: a view
   * of exactly the bytes asked for.
   */
  const run = (pairs: readonly MirrorPair[], operation: string, encode: (into: EncodeTarget) => void): DataView => {
    bridge.flush();
    let buffer: GPUBuffer | undefined;
    let bytes = 0;
    let words: Uint32Array;
    try {
      encode({
        before: (encoder) => bridge.encodeCopies(encoder, pairs),
        result: (size) => {
          bytes = size;
          // The result, then the canary; in whole rows where the canvas reader takes it.
          buffer = bridge.acquire(canvas(size + 4) === undefined ? size + 4 : canvasReadSize(size + 4));
          // Queued ahead of the work's command buffer (writes take effect in queue order).
          device.queue.writeBuffer(buffer, 0, new Uint32Array([NEVER_RAN]));
          device.queue.writeBuffer(buffer, size, new Uint32Array([CANARY]));
          return { buffer, byteOffset: 0 };
        },
      });
      const read = buffer!;
      buffer = undefined;
      words = readBack(read, bytes + 4);
    } catch (error) {
      if (buffer !== undefined) bridge.release(buffer);
      bridge.forget(pairs);
      throw bridge.failed(error, operation);
    }
    if (words[bytes / 4] !== CANARY) {
      bridge.forget(pairs);
      throw new RectifyError(
        'BACKEND_ERROR',
        `Reading the result of WebGPU ${operation}() back synchronously gave bytes the device never wrote (this browser's synchronous WebGPU readback does not work); no variable was written.`,
      );
    }
    if (words[0] === NEVER_RAN) {
      bridge.forget(pairs);
      throw new RectifyError(
        'BACKEND_ERROR',
        `WebGPU ${operation}() on tfjs' device did not run (the device rejected its commands); no variable was written.`,
      );
    }
    return new DataView(words.buffer, 0, bytes);
  };

  const assertWhole = (): void => {
    if (tornBy !== undefined) {
      throw new RectifyError('BACKEND_ERROR', `Copying a step's new values into tfjs tensors failed on the device (${tornBy}); variables may be torn. Restore a checkpoint.`);
    }
  };

  const reduceMirrored = <R>(
    tensors: readonly tf.Tensor[],
    operation: 'sumOfSquares' | 'allFinite',
    encode: (mirrored: WebGpuTensor[], into: EncodeTarget) => (result: DataView) => R,
  ): R | undefined => {
    assertWhole();
    const pairs = bridge.mirrorReduced(tensors);
    if (pairs === undefined) return undefined;
    let decode!: (result: DataView) => R;
    const result = run(pairs, operation, (into) => {
      decode = encode(
        pairs.map(([, mirror]) => mirror),
        into,
      );
    });
    return decode(result);
  };

  const sumOfSquares = (tensors: readonly tf.Tensor[]): number =>
    reduceMirrored(tensors, 'sumOfSquares', (m, into) => arena.encodeSumOfSquares(m, into)) ?? (fallback().sumOfSquares(tensors) as number);

  const allFinite = (tensors: readonly tf.Tensor[]): boolean =>
    reduceMirrored(tensors, 'allFinite', (m, into) => arena.encodeAllFinite(m, into)) ?? (fallback().allFinite(tensors) as boolean);

  const applyRAdam = (step: readonly RAdamBatch<tf.Tensor>[]): boolean => {
    if (tornBy !== undefined) {
      // Not a RectifyError: the variables may be torn, so core halts with BACKEND_ERROR.
      throw new Error(`WebGPU copying an earlier step's new values into tfjs tensors failed (${tornBy}).`);
    }
    const batches = updateBatches(step);
    if (batches.every((batch) => batch.targets.length === 0)) return true;
    const mirrored = bridge.mirrorUpdate(batches);
    if (mirrored === undefined) return fallback().applyRAdam(step) as boolean;
    let flag: DataView;
    try {
      flag = run(mirrored.pairs, 'applyRAdam', (into) => arena.encodeRAdam(mirrored.batches, into));
    } finally {
      // Updated in place (or not at all): until the assigns, the mirrors hold no tfjs data.
      bridge.updating(mirrored);
    }
    // The update ran and its flag is back: only now does any variable change.
    bridge.flush();
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    try {
      bridge.assignAll(mirrored);
    } finally {
      void Promise.all([device.popErrorScope(), device.popErrorScope()]).then(
        ([oom, invalid]) => {
          if (oom !== null || invalid !== null) tornBy ??= (oom ?? invalid)!.message;
        },
        (error: unknown) => {
          tornBy ??= error instanceof Error ? error.message : String(error);
        },
      );
    }
    return flag.getUint32(0, true) === 0;
  };

  return {
    sumOfSquares,
    allFinite,
    applyRAdam,
    // The arena runs on tfjs' device, which it never destroys.
    dispose: () => arena.dispose(),
  };
}

/**
 * The {@link webgpuSyncKernelPath} for the active tfjs backend when it is `webgpu`, its
 * `dataSync()` works here ({@link webGpuReadsSynchronously}: browsers, not Node) and
 * `@rectify/backend-webgpu` compiles its kernels on tfjs' device; `undefined` otherwise
 * (the caller then keeps the stock-op graph).
 *
 * @example
 * ```ts
 * const graph = opGraphPath(hostReader(true), reducerFor('webgpu'));
 * const path = (await sharedWebGpuSyncPath(() => graph)) ?? graph;
 * ```
 */
export async function sharedWebGpuSyncPath(fallback: () => StepPath): Promise<StepPath | undefined> {
  const tfjs = activeTfjsWebGpu();
  if (tfjs === undefined || !webGpuReadsSynchronously()) return undefined;
  const arena = await arenaOn(tfjs);
  return arena === undefined ? undefined : webgpuSyncKernelPath(tfjs, arena, fallback);
}
