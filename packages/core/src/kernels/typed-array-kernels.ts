import type { RAdamScalars } from '../backend.js';

/** A writable array of floats: what typed-array backends store tensors in. */
export type FloatArray = Float32Array | Float64Array;

/**
 * The fused RAdam update of {@link RAdamScalars} over plain arrays, in one pass: the
 * reference kernel for every backend that keeps tensors in typed arrays. Writes `p`, `m`
 * and `v` in place; reads `g`. Arithmetic happens in float64 and is rounded when stored,
 * so a Float32Array tensor gets float32 storage with float64 intermediate precision.
 */
export function fusedRAdamUpdate(
  p: FloatArray,
  g: ArrayLike<number>,
  m: FloatArray,
  v: FloatArray,
  scalars: RAdamScalars,
): void {
  const { gradScale, clipValue, weightDecay, paramScale, beta1, beta2, stepSize, denomScale, eps } = scalars;
  const oneMinusBeta1 = 1 - beta1;
  const oneMinusBeta2 = 1 - beta2;
  const n = p.length;
  // Two loops instead of a branch per element: the rectified flag is fixed for the step.
  if (scalars.rectified) {
    for (let i = 0; i < n; i++) {
      let gi = g[i]! * gradScale;
      if (gi > clipValue) gi = clipValue;
      else if (gi < -clipValue) gi = -clipValue;
      const pi = p[i]!;
      gi += weightDecay * pi;
      const mi = beta1 * m[i]! + oneMinusBeta1 * gi;
      const vi = beta2 * v[i]! + oneMinusBeta2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = pi * paramScale - (stepSize * mi) / (Math.sqrt(vi) * denomScale + eps);
    }
  } else {
    for (let i = 0; i < n; i++) {
      let gi = g[i]! * gradScale;
      if (gi > clipValue) gi = clipValue;
      else if (gi < -clipValue) gi = -clipValue;
      const pi = p[i]!;
      gi += weightDecay * pi;
      const mi = beta1 * m[i]! + oneMinusBeta1 * gi;
      m[i] = mi;
      v[i] = beta2 * v[i]! + oneMinusBeta2 * gi * gi;
      p[i] = pi * paramScale - stepSize * mi;
    }
  }
}

/** `Σ x²` over every array, accumulated in float64 in array order (deterministic). */
export function sumOfSquares(arrays: readonly ArrayLike<number>[]): number {
  let sum = 0;
  for (const array of arrays) {
    for (let i = 0; i < array.length; i++) {
      const x = array[i]!;
      sum += x * x;
    }
  }
  return sum;
}

/** `true` when no element of any array is NaN or ±Infinity. */
export function allFinite(arrays: readonly ArrayLike<number>[]): boolean {
  for (const array of arrays) {
    for (let i = 0; i < array.length; i++) {
      // x − x is 0 for finite x and NaN for NaN or ±Infinity: one comparison per element.
      const x = array[i]!;
      if (x - x !== 0) return false;
    }
  }
  return true;
}
