import type { RAdamScalars } from '../backend.js';

/** A writable array of floats: what typed-array backends store tensors in. */
export type FloatArray = Float32Array | Float64Array;

/** Where {@link fusedRAdamUpdate} writes the new parameter and moments. */
export interface FusedUpdateOutputs {
  readonly param: FloatArray;
  readonly firstMoment: FloatArray;
  readonly secondMoment: FloatArray;
}

/**
 * The fused RAdam update of {@link RAdamScalars} over plain arrays, in one pass: the
 * reference kernel for every backend that keeps tensors in typed arrays. Reads `p, g, m,
 * v`; writes the new `p, m, v` in place, or into `out` for a library whose tensors are
 * immutable (tfjs). Arithmetic happens in float64 and is rounded when stored, so a
 * Float32Array tensor gets float32 storage with float64 intermediate precision.
 *
 * @returns `true` when every element written is finite as stored (a float64 value too
 *   large for a Float32Array counts as the Infinity it becomes).
 */
export function fusedRAdamUpdate(
  p: FloatArray,
  g: ArrayLike<number>,
  m: FloatArray,
  v: FloatArray,
  scalars: RAdamScalars,
  out: FusedUpdateOutputs = { param: p, firstMoment: m, secondMoment: v },
): boolean {
  const { gradScale, clipValue, weightDecay, paramScale, beta1, beta2, stepSize, denomScale, eps } = scalars;
  const { param: pOut, firstMoment: mOut, secondMoment: vOut } = out;
  const oneMinusBeta1 = 1 - beta1;
  const oneMinusBeta2 = 1 - beta2;
  const n = p.length;
  // x − x is 0 for finite x and NaN otherwise: summed over what was stored, one running
  // flag proves every result finite without a second pass. Stored values are read back
  // because rounding to float32 is where a finite float64 result can become Infinity.
  // `v` and `p` suffice: a NaN `m` makes `p` NaN, and an `m` beyond the dtype needs a
  // gradient beyond it, whose `(1 − β2)·g²` overflows `v`.
  let nonFinite = 0;
  // Two loops instead of a branch per element: the rectified flag is fixed for the step.
  // Each element is read before it is written, so `out` may alias the inputs.
  if (scalars.rectified) {
    for (let i = 0; i < n; i++) {
      let gi = g[i]! * gradScale;
      if (gi > clipValue) gi = clipValue;
      else if (gi < -clipValue) gi = -clipValue;
      const pi = p[i]!;
      gi += weightDecay * pi;
      const mi = beta1 * m[i]! + oneMinusBeta1 * gi;
      const vi = beta2 * v[i]! + oneMinusBeta2 * gi * gi;
      mOut[i] = mi;
      vOut[i] = vi;
      pOut[i] = pi * paramScale - (stepSize * mi) / (Math.sqrt(vi) * denomScale + eps);
      const vStored = vOut[i]!;
      const pStored = pOut[i]!;
      nonFinite += vStored - vStored + (pStored - pStored);
    }
  } else {
    for (let i = 0; i < n; i++) {
      let gi = g[i]! * gradScale;
      if (gi > clipValue) gi = clipValue;
      else if (gi < -clipValue) gi = -clipValue;
      const pi = p[i]!;
      gi += weightDecay * pi;
      const mi = beta1 * m[i]! + oneMinusBeta1 * gi;
      const vi = beta2 * v[i]! + oneMinusBeta2 * gi * gi;
      mOut[i] = mi;
      vOut[i] = vi;
      pOut[i] = pi * paramScale - stepSize * mi;
      const vStored = vOut[i]!;
      const pStored = pOut[i]!;
      nonFinite += vStored - vStored + (pStored - pStored);
    }
  }
  return nonFinite === 0;
}

/**
 * `Σ x²` over every array, accumulated in float64 with four running sums combined in a
 * fixed order: deterministic, and four times shorter dependency chains than one sum.
 */
export function sumOfSquares(arrays: readonly ArrayLike<number>[]): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (const x of arrays) {
    const n = x.length;
    const tail = n - (n % 4);
    let i = 0;
    for (; i < tail; i += 4) {
      const a = x[i]!;
      const b = x[i + 1]!;
      const c = x[i + 2]!;
      const d = x[i + 3]!;
      s0 += a * a;
      s1 += b * b;
      s2 += c * c;
      s3 += d * d;
    }
    for (; i < n; i++) s0 += x[i]! * x[i]!;
  }
  return s0 + s1 + (s2 + s3);
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
