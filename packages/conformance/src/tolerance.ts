import type { DType } from '@rectify/core';

/** Allowed error `|actual − expected| <= atol + rtol·|expected|`. */
export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
}

/** SPEC.md's tolerance for parameters and moments, by the backend's element type. */
export function toleranceFor(dtype: DType): Tolerance {
  return dtype === 'float64' ? { atol: 1e-9, rtol: 0 } : { atol: 2e-5, rtol: 1e-4 };
}

/** SPEC.md's tolerance for scheduler learning rates (the reference computed them in float32). */
export const SCHEDULER_TOLERANCE: Tolerance = { atol: 0, rtol: 1e-6 };

/** The first element outside tolerance, or `undefined` when all agree. */
export interface Mismatch {
  readonly index: number;
  readonly actual: number;
  readonly expected: number;
}

/**
 * Compares two arrays element-wise. A length difference is a mismatch at the first
 * missing index. NaN matches only NaN.
 */
export function firstMismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance,
): Mismatch | undefined {
  const n = Math.max(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    const a = actual[i] ?? NaN;
    const e = expected[i] ?? NaN;
    if (i >= actual.length || i >= expected.length) return { index: i, actual: a, expected: e };
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (!(Math.abs(a - e) <= tolerance.atol + tolerance.rtol * Math.abs(e))) return { index: i, actual: a, expected: e };
  }
  return undefined;
}
