import * as tf from '@tensorflow/tfjs';
import type { MaybePromise } from '@rectify/core';
import { applyFusedRAdam, usesScaledRawGradient } from './op-graph-update.js';
import { map, type HostReader } from './host-read.js';
import { hostSum, maxAbs, nanProbes, scaledSquaredSums, stackScalars, type Reducer } from './reductions.js';
import { SquareCache } from './square-cache.js';
import type { StepPath } from './step-path.js';

/**
 * Steps through stock tfjs ops, which every tfjs backend implements (webgl, webgpu, wasm,
 * tensorflow, cpu): the update is `applyFusedRAdam`'s op graph; the reductions sum per
 * tensor in float32 and read back one small vector, summed on the host in float64.
 *
 * The finiteness check sums `g²` (which it keeps for the update to reuse, see
 * {@link SquareCache}) and falls back to an exact per-element probe only when a sum is not
 * finite; the norm rescales tensors whose float32 `g²` overflowed.
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

  /** `Σ g²` per tensor (caching g²), read back in one go. */
  const squaredSums = (tensors: readonly tf.Tensor[]): MaybePromise<Float64Array> =>
    consume(tf.tidy(() => stackScalars(tensors.map((t) => reduce(squares.squareOf(t))))));

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

  return {
    allFinite,
    sumOfSquares,
    applyRAdam: (slots, scalars) => {
      try {
        applyFusedRAdam(slots, scalars, (grad) => squares.peek(grad));
        squaresUseful = usesScaledRawGradient(scalars);
      } finally {
        squares.clear();
      }
    },
    dispose: () => squares.clear(),
  };
}
