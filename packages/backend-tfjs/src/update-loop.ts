import type { RAdamScalars } from '@rectify/core';

/**
 * The float32 arrays of one slot: read `p g m v`, write `p1 m1 v1`.
 *
 * @example
 * ```ts
 * const arrays: UpdateArrays = { p, g, m, v, p1: new Float32Array(n), m1: new Float32Array(n), v1: new Float32Array(n) };
 * ```
 */
export interface UpdateArrays {
  readonly p: Float32Array;
  readonly g: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly p1: Float32Array;
  readonly m1: Float32Array;
  readonly v1: Float32Array;
}

/**
 * The fused RAdam update of {@link RAdamScalars}, out of place, in one pass: the same
 * arithmetic as core's `fusedRAdamUpdate` (float64 intermediates, float32 storage, `p`
 * updated with the unrounded new `m` and `v`), so a tfjs tensor updated by it matches
 * core's float32 CPU backend bit for bit. Out of place because tfjs tensors are
 * immutable: the kernel writes fresh outputs that the variables then `assign`.
 *
 * @example
 * ```ts
 * radamUpdateLoop({ p, g, m, v, p1: new Float32Array(n), m1: new Float32Array(n), v1: new Float32Array(n) }, scalars);
 * ```
 */
export function radamUpdateLoop(a: UpdateArrays, s: RAdamScalars): void {
  const { p, g, m, v, p1, m1, v1 } = a;
  const { gradScale, clipValue, weightDecay, paramScale, beta1, beta2, stepSize, denomScale, eps } = s;
  const oneMinusBeta1 = 1 - beta1;
  const oneMinusBeta2 = 1 - beta2;
  const n = p.length;
  // Two loops instead of a branch per element: the rectified flag is fixed for the step.
  if (s.rectified) {
    for (let i = 0; i < n; i++) {
      let gi = g[i]! * gradScale;
      if (gi > clipValue) gi = clipValue;
      else if (gi < -clipValue) gi = -clipValue;
      const pi = p[i]!;
      gi += weightDecay * pi;
      const mi = beta1 * m[i]! + oneMinusBeta1 * gi;
      const vi = beta2 * v[i]! + oneMinusBeta2 * gi * gi;
      m1[i] = mi;
      v1[i] = vi;
      p1[i] = pi * paramScale - (stepSize * mi) / (Math.sqrt(vi) * denomScale + eps);
    }
  } else {
    for (let i = 0; i < n; i++) {
      let gi = g[i]! * gradScale;
      if (gi > clipValue) gi = clipValue;
      else if (gi < -clipValue) gi = -clipValue;
      const pi = p[i]!;
      gi += weightDecay * pi;
      const mi = beta1 * m[i]! + oneMinusBeta1 * gi;
      m1[i] = mi;
      v1[i] = beta2 * v[i]! + oneMinusBeta2 * gi * gi;
      p1[i] = pi * paramScale - stepSize * mi;
    }
  }
}

/**
 * `Σ x²` (`squares`) or `Σ x` of `x` in float64, with four accumulators in a fixed order
 * (deterministic, and four times shorter dependency chains than one running sum). A sum
 * of float32 values cannot overflow float64, so `Σ x` is finite exactly when every
 * element is: the finiteness check needs no second pass.
 *
 * @example
 * ```ts
 * float64Sum(new Float32Array([3, 4]), true); // 25
 * ```
 */
export function float64Sum(x: Float32Array, squares: boolean): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = x.length;
  const tail = n - (n % 4);
  let i = 0;
  if (squares) {
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
  } else {
    for (; i < tail; i += 4) {
      s0 += x[i]!;
      s1 += x[i + 1]!;
      s2 += x[i + 2]!;
      s3 += x[i + 3]!;
    }
    for (; i < n; i++) s0 += x[i]!;
  }
  return s0 + s1 + (s2 + s3);
}
