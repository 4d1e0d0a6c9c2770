// Element kernels over one contiguous span of float32 elements, in f32x4 SIMD with a
// scalar tail. The tail does exactly the same IEEE float32 operations as a SIMD lane
// (add, mul, div and sqrt are correctly rounded in both; pmin/pmax are written out as the
// same compare-and-select), so an element's result never depends on whether it fell in
// a vector or in a tail: that is what makes results bitwise identical for any split of
// the element range across threads.

import {
  SCALAR_BETA1, SCALAR_BETA2, SCALAR_CLIP_VALUE, SCALAR_DENOM_SCALE, SCALAR_EPS, SCALAR_GRAD_SCALE,
  SCALAR_ONE_MINUS_BETA1, SCALAR_ONE_MINUS_BETA2, SCALAR_PARAM_SCALE, SCALAR_RECTIFIED, SCALAR_STEP_SIZE,
  SCALAR_WEIGHT_DECAY,
} from './layout';

// Finiteness of what the update stores, in the same pass: x − x is +0 (all bits clear)
// for a finite float32 x and NaN (bits set) for NaN or ±Infinity, so OR-ing the bits of
// (m − m), (v − v) and (p − p) into one accumulator leaves it all-zero exactly when every
// stored value is finite. Three subtracts and three ORs per vector, no compare, no branch,
// no dependency chain longer than one OR per vector: free in a memory-bound loop.

/** Bits of `x − x` for every lane of `a`, `b` and `c`: all zero when the twelve values are finite. */
@inline
function nonFiniteBits(a: v128, b: v128, c: v128): v128 {
  return v128.or(v128.or(f32x4.sub(a, a), f32x4.sub(b, b)), f32x4.sub(c, c));
}

/**
 * One rectified update of the four float32 lanes at byte offset `o` (vector constants
 * splatted). Returns the {@link nonFiniteBits} of the stored m, v and p.
 */
@inline
function rectifiedLanes(
  p: usize, g: usize, m: usize, v: usize, o: usize,
  vGradScale: v128, vClip: v128, vNegClip: v128, vWeightDecay: v128, vParamScale: v128,
  vBeta1: v128, vOneMinusBeta1: v128, vBeta2: v128, vOneMinusBeta2: v128,
  vStepSize: v128, vDenomScale: v128, vEps: v128,
): v128 {
  let gv = f32x4.mul(v128.load(g + o), vGradScale);
  gv = f32x4.pmax(f32x4.pmin(gv, vClip), vNegClip);
  const pv = v128.load(p + o);
  gv = f32x4.add(gv, f32x4.mul(vWeightDecay, pv));
  const mv = f32x4.add(f32x4.mul(vBeta1, v128.load(m + o)), f32x4.mul(vOneMinusBeta1, gv));
  // ((1 − β2)·g)·g, never g² first: g ≈ 1e20 squares to Infinity in float32, while
  // (1 − β2)·g² ≈ 1e37 fits.
  const vv = f32x4.add(f32x4.mul(vBeta2, v128.load(v + o)), f32x4.mul(f32x4.mul(vOneMinusBeta2, gv), gv));
  v128.store(m + o, mv);
  v128.store(v + o, vv);
  const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vv), vDenomScale), vEps);
  const pn = f32x4.sub(f32x4.mul(pv, vParamScale), f32x4.div(f32x4.mul(vStepSize, mv), denom));
  v128.store(p + o, pn);
  return nonFiniteBits(mv, vv, pn);
}

/**
 * One element of a span's scalar tail: the same float32 operations as a SIMD lane.
 * Returns the bits of `x − x` of the stored m, v and p OR-ed (0 when all are finite).
 */
@inline
function scalarElement(
  p: usize, g: usize, m: usize, v: usize, o: usize,
  gradScale: f32, clipValue: f32, negClip: f32, weightDecay: f32, paramScale: f32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  rectified: bool, stepSize: f32, denomScale: f32, eps: f32,
): u32 {
  let gi = load<f32>(g + o) * gradScale;
  gi = clipValue < gi ? clipValue : gi;
  gi = gi < negClip ? negClip : gi;
  const pi = load<f32>(p + o);
  gi = gi + weightDecay * pi;
  const mi = beta1 * load<f32>(m + o) + oneMinusBeta1 * gi;
  const vi = beta2 * load<f32>(v + o) + (oneMinusBeta2 * gi) * gi;
  store<f32>(m + o, mi);
  store<f32>(v + o, vi);
  const pn = rectified ? pi * paramScale - (stepSize * mi) / (sqrt<f32>(vi) * denomScale + eps) : pi * paramScale - stepSize * mi;
  store<f32>(p + o, pn);
  return reinterpret<u32>(mi - mi) | reinterpret<u32>(vi - vi) | reinterpret<u32>(pn - pn);
}

@inline
function scalarAt(scalars: usize, index: u32): f32 {
  return load<f32>(scalars + (<usize>index << 2));
}

/**
 * One fused RAdam update over `n` elements at byte addresses p, g, m, v, with the batch
 * scalars at byte address `scalars` (see layout.ts; RAdamScalars in @rectify/core gives
 * the order of operations, which this follows operation by operation).
 *
 * @returns `true` when every p, m and v element stored is finite.
 */
@inline
export function radamSpan(p: usize, g: usize, m: usize, v: usize, n: u32, scalars: usize): bool {
  const gradScale = scalarAt(scalars, SCALAR_GRAD_SCALE);
  const clipValue = scalarAt(scalars, SCALAR_CLIP_VALUE);
  const weightDecay = scalarAt(scalars, SCALAR_WEIGHT_DECAY);
  const paramScale = scalarAt(scalars, SCALAR_PARAM_SCALE);
  const beta1 = scalarAt(scalars, SCALAR_BETA1);
  const oneMinusBeta1 = scalarAt(scalars, SCALAR_ONE_MINUS_BETA1);
  const beta2 = scalarAt(scalars, SCALAR_BETA2);
  const oneMinusBeta2 = scalarAt(scalars, SCALAR_ONE_MINUS_BETA2);
  const stepSize = scalarAt(scalars, SCALAR_STEP_SIZE);
  const denomScale = scalarAt(scalars, SCALAR_DENOM_SCALE);
  const eps = scalarAt(scalars, SCALAR_EPS);
  const rectified = load<i32>(scalars + (<usize>SCALAR_RECTIFIED << 2)) != 0;
  const vGradScale = f32x4.splat(gradScale);
  const vClip = f32x4.splat(clipValue);
  const vNegClip = f32x4.splat(-clipValue);
  const vWeightDecay = f32x4.splat(weightDecay);
  const vParamScale = f32x4.splat(paramScale);
  const vBeta1 = f32x4.splat(beta1);
  const vOneMinusBeta1 = f32x4.splat(oneMinusBeta1);
  const vBeta2 = f32x4.splat(beta2);
  const vOneMinusBeta2 = f32x4.splat(oneMinusBeta2);
  const vStepSize = f32x4.splat(stepSize);
  const vDenomScale = f32x4.splat(denomScale);
  const vEps = f32x4.splat(eps);
  const negClip = -clipValue;
  const bytes4 = <usize>(n & ~3) << 2;
  const bytes = <usize>n << 2;
  let bad = i32x4.splat(0);
  // The rectified flag is fixed for the whole batch: one loop per case, no branch per element.
  if (rectified) {
    // Two vectors per iteration: it overlaps the divide and square root of one with the
    // loads of the other (about 10% faster on many small tensors; a third and fourth do not help).
    const bytes8 = <usize>(n & ~7) << 2;
    for (let o: usize = 0; o < bytes8; o += 32) {
      const first = rectifiedLanes(p, g, m, v, o, vGradScale, vClip, vNegClip, vWeightDecay, vParamScale,
        vBeta1, vOneMinusBeta1, vBeta2, vOneMinusBeta2, vStepSize, vDenomScale, vEps);
      const second = rectifiedLanes(p, g, m, v, o + 16, vGradScale, vClip, vNegClip, vWeightDecay, vParamScale,
        vBeta1, vOneMinusBeta1, vBeta2, vOneMinusBeta2, vStepSize, vDenomScale, vEps);
      bad = v128.or(bad, v128.or(first, second));
    }
    for (let o: usize = bytes8; o < bytes4; o += 16) {
      bad = v128.or(bad, rectifiedLanes(p, g, m, v, o, vGradScale, vClip, vNegClip, vWeightDecay, vParamScale,
        vBeta1, vOneMinusBeta1, vBeta2, vOneMinusBeta2, vStepSize, vDenomScale, vEps));
    }
  } else {
    for (let o: usize = 0; o < bytes4; o += 16) {
      let gv = f32x4.mul(v128.load(g + o), vGradScale);
      gv = f32x4.pmax(f32x4.pmin(gv, vClip), vNegClip);
      const pv = v128.load(p + o);
      gv = f32x4.add(gv, f32x4.mul(vWeightDecay, pv));
      const mv = f32x4.add(f32x4.mul(vBeta1, v128.load(m + o)), f32x4.mul(vOneMinusBeta1, gv));
      const vv = f32x4.add(f32x4.mul(vBeta2, v128.load(v + o)), f32x4.mul(f32x4.mul(vOneMinusBeta2, gv), gv));
      v128.store(m + o, mv);
      v128.store(v + o, vv);
      const pn = f32x4.sub(f32x4.mul(pv, vParamScale), f32x4.mul(vStepSize, mv));
      v128.store(p + o, pn);
      bad = v128.or(bad, nonFiniteBits(mv, vv, pn));
    }
  }
  let tailBad: u32 = 0;
  for (let o: usize = bytes4; o < bytes; o += 4) {
    tailBad |= scalarElement(p, g, m, v, o, gradScale, clipValue, negClip, weightDecay, paramScale,
      beta1, oneMinusBeta1, beta2, oneMinusBeta2, rectified, stepSize, denomScale, eps);
  }
  return !v128.any_true(bad) && tailBad == 0;
}

// The reductions read one array and write nothing: a single sequential stream per thread
// is limited by how many cache lines one stream keeps in flight, far below the memory
// bandwidth (here ~14 GB/s against ~37 GB/s for the 7 streams of the update). Reading
// the span as several equal parts at once, one stream each, keeps more lines in flight:
// the scan that core runs before every step under `nonFinite: 'error'` then costs what its
// bytes cost, not three times that.

/** Parallel streams of {@link allFiniteSpan}. */
const FINITE_STREAMS: u32 = 8;
/** Parallel streams of {@link sumOfSquaresSpan} (two f64x2 accumulators each: registers). */
const SQUARE_STREAMS: u32 = 4;
/** Spans shorter than this many elements per stream are read as one stream. */
const MIN_STREAM_ELEMENTS: u32 = 256;

/** Elements per stream when a span of `n` is read as `streams` parts (a multiple of 4), or 0. */
@inline
function streamElements(n: u32, streams: u32): u32 {
  const part = (n / streams) & ~3;
  return part >= MIN_STREAM_ELEMENTS ? part : 0;
}

/** Adds `Σ x²` of the four lanes at `x` to two f64x2 accumulators (low and high pair). */
@inline
function squaredLanes(x: usize): v128 {
  const xv = v128.load(x);
  const low = f64x2.promote_low_f32x4(xv);
  const high = f64x2.promote_low_f32x4(v128.shuffle<f32>(xv, xv, 2, 3, 0, 1));
  return f64x2.add(f64x2.mul(low, low), f64x2.mul(high, high));
}

/**
 * `Σ x²` over `n` float32 elements at byte address x, accumulated in float64. The
 * summation order is a function of the span alone (one f64x2 accumulator per stream for
 * the streamed part, one for the vector rest, one scalar for the tail, combined in a fixed
 * order), never of threads.
 */
@inline
export function sumOfSquaresSpan(x: usize, n: u32): f64 {
  const part = streamElements(n, SQUARE_STREAMS);
  const stride = <usize>part << 2;
  let s0 = f64x2.splat(0);
  let s1 = f64x2.splat(0);
  let s2 = f64x2.splat(0);
  let s3 = f64x2.splat(0);
  for (let o: usize = 0; o < stride; o += 16) {
    s0 = f64x2.add(s0, squaredLanes(x + o));
    s1 = f64x2.add(s1, squaredLanes(x + stride + o));
    s2 = f64x2.add(s2, squaredLanes(x + 2 * stride + o));
    s3 = f64x2.add(s3, squaredLanes(x + 3 * stride + o));
  }
  let rest = f64x2.splat(0);
  const bytes4 = <usize>(n & ~3) << 2;
  const bytes = <usize>n << 2;
  for (let o: usize = <usize>SQUARE_STREAMS * stride; o < bytes4; o += 16) rest = f64x2.add(rest, squaredLanes(x + o));
  let tail: f64 = 0;
  for (let o: usize = bytes4; o < bytes; o += 4) {
    const xi = <f64>load<f32>(x + o);
    tail += xi * xi;
  }
  const vector = f64x2.add(f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3)), rest);
  return f64x2.extract_lane(vector, 0) + f64x2.extract_lane(vector, 1) + tail;
}

/** Bits of `x − x` of the four lanes at `x`: all zero when the four are finite. */
@inline
function nonFiniteLanes(x: usize): v128 {
  const xv = v128.load(x);
  return f32x4.sub(xv, xv);
}

/** `true` when none of the `n` float32 elements at byte address x is NaN or ±Infinity. */
@inline
export function allFiniteSpan(x: usize, n: u32): bool {
  // x − x is +0 (no bit set) for a finite x and NaN otherwise: OR-ed, all-zero means finite.
  const part = streamElements(n, FINITE_STREAMS);
  const stride = <usize>part << 2;
  let even = i32x4.splat(0);
  let odd = i32x4.splat(0);
  for (let o: usize = 0; o < stride; o += 16) {
    even = v128.or(even, v128.or(nonFiniteLanes(x + o), nonFiniteLanes(x + stride + o)));
    odd = v128.or(odd, v128.or(nonFiniteLanes(x + 2 * stride + o), nonFiniteLanes(x + 3 * stride + o)));
    even = v128.or(even, v128.or(nonFiniteLanes(x + 4 * stride + o), nonFiniteLanes(x + 5 * stride + o)));
    odd = v128.or(odd, v128.or(nonFiniteLanes(x + 6 * stride + o), nonFiniteLanes(x + 7 * stride + o)));
  }
  const bytes4 = <usize>(n & ~3) << 2;
  const bytes = <usize>n << 2;
  for (let o: usize = <usize>FINITE_STREAMS * stride; o < bytes4; o += 16) even = v128.or(even, nonFiniteLanes(x + o));
  if (v128.any_true(v128.or(even, odd))) return false;
  for (let o: usize = bytes4; o < bytes; o += 4) {
    const xi = load<f32>(x + o);
    if (xi - xi != 0) return false;
  }
  return true;
}
