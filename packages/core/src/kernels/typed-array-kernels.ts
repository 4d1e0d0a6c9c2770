import type { RAdamScalars } from '../backend.js';

/** The smallest magnitude a float64 rounds to ±Infinity from when stored as float32 (half an ulp above its maximum). */
export const FLOAT32_LIMIT = 3.4028235677973366e38;

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
  // One running maximum of |v| and |p| proves every stored result finite without a second
  // pass: Math.max propagates NaN, and a float64 value is stored as ±Infinity in a
  // Float32Array exactly when its magnitude reaches FLOAT32_LIMIT. (Reading the stored
  // values back would cost V8 over half the kernel's speed.) `v` and `p` suffice: a NaN
  // `m` makes `p` NaN, and an `m` beyond the dtype needs a gradient beyond it, whose
  // `(1 − β2)·g²` overflows `v`.
  const limit = vOut instanceof Float64Array && pOut instanceof Float64Array ? Infinity : FLOAT32_LIMIT;
  let largest = 0;
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
      const pNew = pi * paramScale - (stepSize * mi) / (Math.sqrt(vi) * denomScale + eps);
      mOut[i] = mi;
      vOut[i] = vi;
      pOut[i] = pNew;
      largest = Math.max(largest, vi, Math.abs(pNew));
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
      const pNew = pi * paramScale - stepSize * mi;
      mOut[i] = mi;
      vOut[i] = vi;
      pOut[i] = pNew;
      largest = Math.max(largest, vi, Math.abs(pNew));
    }
  }
  return largest < limit;
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
