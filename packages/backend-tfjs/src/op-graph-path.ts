import * as tf from '@tensorflow/tfjs';
import type { MaybePromise, RAdamBatch } from '@rectify/core';
import { batchUpdates, usesScaledRawGradient } from './op-graph-update.js';
import { map, type HostReader } from './host-read.js';
import { hostSum, maxAbs, nanProbes, scaledSquaredSums, stackScalars, type Reducer } from './reductions.js';
import { SquareCache } from './square-cache.js';
import type { StepPath } from './step-path.js';
import { updateBatches } from './variables.js';

/**
 * Steps through stock tfjs ops, which every tfjs backend implements (webgl, webgpu, wasm,
 * tensorflow, cpu): the update is `batchUpdates`' op graph; the reductions sum per
 * tensor in float32 and read back one small vector, summed on the host in float64.
 *
 * The finiteness check sums `g²` (which it keeps for the update to reuse where finite, see
 * {@link SquareCache}) and falls back to an exact per-element probe only when a sum is not
 * finite; the norm rescales tensors whose float32 `g²` overflowed (by their largest `|g|`,
 * in a fixed order: deterministic).
 *
 * The update's finiteness flag costs two sums per tensor over values the update has just
 * made (`p'`, and `√v'` or `v'`), in the same `tf.tidy`, and one readback of that small
 * vector per step; only where a sum is not finite (a non-finite value, or a float32 sum of
 * huge finite values) does an exact probe of those tensors follow, with a second readback.
 *
 * @param reduce - how to sum one tensor on this tfjs backend (`reducerFor`).
 * @example
 * ```ts
 * const path = opGraphPath(hostReader(false), reducerFor('webgl'));
 * await path.sumOfSquares([grad]);
 * ```
 */
export function opGraphPath({ consume }: HostReader, reduce: Reducer): StepPath {
  const squares = new SquareCache();
  // Whether the last update could use a cached g² (not with value clipping or coupled
  // decay): then the check sums g² rather than g. Options rarely change between steps.
  let squaresUseful = true;

  /**
   * `Σ g²` per tensor, read back in one go; keeps the finite `g²` for the update (a
   * non-finite sum means some g² overflowed or g is not finite: of no use to it).
   */
  const squaredSums = (tensors: readonly tf.Tensor[]): MaybePromise<Float64Array> =>
    map(consume(tf.tidy(() => stackScalars(tensors.map((t) => reduce(squares.squareOf(t)))))), (sums) => {
      tensors.forEach((t, i) => {
        if (!Number.isFinite(sums[i]!)) squares.drop(t);
      });
      return sums;
    });

  const allFinite = (tensors: readonly tf.Tensor[]): MaybePromise<boolean> => {
    squares.retainOnly(tensors);
    if (tensors.length === 0) return true;
    // A finite sum proves every element finite (NaN and ±∞ never cancel out); only a
    // non-finite one, which may be mere float32 overflow, needs the exact probe.
    const sums = squaresUseful ? squaredSums(tensors) : consume(tf.tidy(() => stackScalars(tensors.map(reduce))));
    const verdict = map(sums, (values) => {
      const suspects = tensors.filter((_, i) => !Number.isFinite(values[i]!));
      if (suspects.length === 0) return true;
      return map(consume(nanProbes(suspects, reduce)), (probes) => probes.every((x) => x === 0));
    });
    // No update follows a failed check: free the cached squares now.
    return map(verdict, (finite) => {
      if (!finite) squares.clear();
      return finite;
    });
  };

  const sumOfSquares = (tensors: readonly tf.Tensor[]): MaybePromise<number> => {
    squares.retainOnly(tensors);
    if (tensors.length === 0) return 0;
    return map(squaredSums(tensors), (sums) => {
      const total = hostSum(sums);
      if (Number.isFinite(total)) return total;
      // Either a NaN/±∞ element (the result must stay non-finite) or float32 overflow of
      // x² for finite |x| > ~1.8e19, which scaling each tensor by its max |x| avoids.
      return map(allFinite(tensors), (finite) => {
        if (!finite) return total;
        return map(consume(maxAbs(tensors)), (scales) => {
          const safe = Array.from(scales, (s) => (s > 0 ? s : 1));
          return map(consume(scaledSquaredSums(tensors, safe, reduce)), (scaled) =>
            hostSum(Array.from(scaled, (x, i) => x * safe[i]! * safe[i]!)),
          );
        });
      });
    });
  };

  /** Whether every value `applyRAdam` wrote is finite, from the update's sums (see above). */
  const updateFinite = (sums: tf.Tensor, written: readonly tf.Tensor[]): MaybePromise<boolean> =>
    map(consume(sums), (values) => {
      const suspects = written.filter((_, i) => !Number.isFinite(values[i]!));
      if (suspects.length === 0) return true;
      return map(consume(nanProbes(suspects, reduce)), (probes) => probes.every((x) => x === 0));
    });

  const applyRAdam = (step: readonly RAdamBatch<tf.Tensor>[]): MaybePromise<boolean> => {
    let written: tf.Tensor[];
    let sums: tf.Tensor;
    try {
      const batches = updateBatches(step);
      const targets = batches.flatMap((batch) => batch.targets);
      if (targets.length === 0) return true;
      // The sums come in the order of the variables that will hold p' and v'.
      written = targets.flatMap(({ param, v }) => [param, v]);
      sums = tf.tidy(() => {
        const updates = batches.flatMap((batch) => batchUpdates(batch, (grad) => squares.peek(grad), reduce));
        // Every new value exists: only now are variables written, and assign cannot fail
        // (same shapes, same dtype), so a failure above leaves every variable as it was.
        for (const { target, p, m, v } of updates) {
          target.m.assign(m);
          target.v.assign(v);
          target.param.assign(p);
        }
        return stackScalars(updates.flatMap((update) => update.sums));
      });
      squaresUseful = batches.every((batch) => usesScaledRawGradient(batch.scalars));
    } finally {
      // Whatever happened, this step's squares are of no further use.
      squares.clear();
    }
    return updateFinite(sums, written);
  };

  return {
    allFinite,
    sumOfSquares,
    applyRAdam,
    dispose: () => squares.clear(),
  };
}
