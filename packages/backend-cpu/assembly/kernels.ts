// Element kernels over one contiguous span of float32 elements, in f32x4 SIMD with a
// scalar tail. The tail does exactly the same IEEE float32 operations as a SIMD lane
// (add, mul, div and sqrt are correctly rounded in both; pmin/pmax are written out as the
// same compare-and-select), so an element's result never depends on whether it fell in
// a vector or in a tail: that is what makes results bitwise identical for any split of
// the element range across threads.

/** One rectified update of the four float32 lanes at byte offset `o` (vector constants splatted). */
@inline
function rectifiedLanes(
  p: usize, g: usize, m: usize, v: usize, o: usize,
  vGradScale: v128, vClip: v128, vNegClip: v128, vWeightDecay: v128, vParamScale: v128,
  vBeta1: v128, vOneMinusBeta1: v128, vBeta2: v128, vOneMinusBeta2: v128,
  vStepSize: v128, vDenomScale: v128, vEps: v128,
): void {
  let gv = f32x4.mul(v128.load(g + o), vGradScale);
  gv = f32x4.pmax(f32x4.pmin(gv, vClip), vNegClip);
  const pv = v128.load(p + o);
  gv = f32x4.add(gv, f32x4.mul(vWeightDecay, pv));
  const mv = f32x4.add(f32x4.mul(vBeta1, v128.load(m + o)), f32x4.mul(vOneMinusBeta1, gv));
  const vv = f32x4.add(f32x4.mul(vBeta2, v128.load(v + o)), f32x4.mul(f32x4.mul(vOneMinusBeta2, gv), gv));
  v128.store(m + o, mv);
  v128.store(v + o, vv);
  const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vv), vDenomScale), vEps);
  v128.store(p + o, f32x4.sub(f32x4.mul(pv, vParamScale), f32x4.div(f32x4.mul(vStepSize, mv), denom)));
}

/** One element of a span's scalar tail: the same float32 operations as a SIMD lane. */
@inline
function scalarElement(
  p: usize, g: usize, m: usize, v: usize, o: usize,
  gradScale: f32, clipValue: f32, negClip: f32, weightDecay: f32, paramScale: f32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  rectified: bool, stepSize: f32, denomScale: f32, eps: f32,
): void {
  let gi = load<f32>(g + o) * gradScale;
  gi = clipValue < gi ? clipValue : gi;
  gi = gi < negClip ? negClip : gi;
  const pi = load<f32>(p + o);
  gi = gi + weightDecay * pi;
  const mi = beta1 * load<f32>(m + o) + oneMinusBeta1 * gi;
  const vi = beta2 * load<f32>(v + o) + oneMinusBeta2 * gi * gi;
  store<f32>(m + o, mi);
  store<f32>(v + o, vi);
  store<f32>(
    p + o,
    rectified ? pi * paramScale - (stepSize * mi) / (sqrt<f32>(vi) * denomScale + eps) : pi * paramScale - stepSize * mi,
  );
}

/**
 * One fused RAdam update over `n` elements at byte addresses p, g, m, v (see
 * RAdamScalars in @rectify/core for the order of operations, which this follows
 * operation by operation).
 */
@inline
export function radamSpan(
  p: usize, g: usize, m: usize, v: usize, n: u32,
  gradScale: f32, clipValue: f32, weightDecay: f32, paramScale: f32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  rectified: bool, stepSize: f32, denomScale: f32, eps: f32,
): void {
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
  // The rectified flag is fixed for the whole job: one loop per case, no branch per element.
  if (rectified) {
    // Two vectors per iteration: it overlaps the divide and square root of one with the
    // loads of the other (about 10% faster on many small tensors; a third and fourth do not help).
    const bytes8 = <usize>(n & ~7) << 2;
    for (let o: usize = 0; o < bytes8; o += 32) {
      rectifiedLanes(p, g, m, v, o, vGradScale, vClip, vNegClip, vWeightDecay, vParamScale,
        vBeta1, vOneMinusBeta1, vBeta2, vOneMinusBeta2, vStepSize, vDenomScale, vEps);
      rectifiedLanes(p, g, m, v, o + 16, vGradScale, vClip, vNegClip, vWeightDecay, vParamScale,
        vBeta1, vOneMinusBeta1, vBeta2, vOneMinusBeta2, vStepSize, vDenomScale, vEps);
    }
    for (let o: usize = bytes8; o < bytes4; o += 16) {
      rectifiedLanes(p, g, m, v, o, vGradScale, vClip, vNegClip, vWeightDecay, vParamScale,
        vBeta1, vOneMinusBeta1, vBeta2, vOneMinusBeta2, vStepSize, vDenomScale, vEps);
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
      v128.store(p + o, f32x4.sub(f32x4.mul(pv, vParamScale), f32x4.mul(vStepSize, mv)));
    }
  }
  for (let o: usize = bytes4; o < bytes; o += 4) {
    scalarElement(p, g, m, v, o, gradScale, clipValue, negClip, weightDecay, paramScale,
      beta1, oneMinusBeta1, beta2, oneMinusBeta2, rectified, stepSize, denomScale, eps);
  }
}

/**
 * `Σ x²` over `n` float32 elements at byte address x, accumulated in float64. The
 * summation order is a function of the span alone (two f64x2 accumulators for the
 * vector part, one scalar for the tail, combined in a fixed order), never of threads.
 */
@inline
export function sumOfSquaresSpan(x: usize, n: u32): f64 {
  let even = f64x2.splat(0);
  let odd = f64x2.splat(0);
  const bytes4 = <usize>(n & ~3) << 2;
  const bytes = <usize>n << 2;
  for (let o: usize = 0; o < bytes4; o += 16) {
    const xv = v128.load(x + o);
    const low = f64x2.promote_low_f32x4(xv);
    const high = f64x2.promote_low_f32x4(v128.shuffle<f32>(xv, xv, 2, 3, 0, 1));
    even = f64x2.add(even, f64x2.mul(low, low));
    odd = f64x2.add(odd, f64x2.mul(high, high));
  }
  let tail: f64 = 0;
  for (let o: usize = bytes4; o < bytes; o += 4) {
    const xi = <f64>load<f32>(x + o);
    tail += xi * xi;
  }
  const vector = f64x2.add(even, odd);
  return f64x2.extract_lane(vector, 0) + f64x2.extract_lane(vector, 1) + tail;
}

/** `true` when none of the `n` float32 elements at byte address x is NaN or ±Infinity. */
@inline
export function allFiniteSpan(x: usize, n: u32): bool {
  // x − x is 0 for a finite x and NaN otherwise: one subtract and one compare per element.
  let ok = i32x4.splat(-1);
  const zero = f32x4.splat(0);
  const bytes4 = <usize>(n & ~3) << 2;
  const bytes = <usize>n << 2;
  for (let o: usize = 0; o < bytes4; o += 16) {
    const xv = v128.load(x + o);
    ok = v128.and(ok, f32x4.eq(f32x4.sub(xv, xv), zero));
  }
  if (!i32x4.all_true(ok)) return false;
  for (let o: usize = bytes4; o < bytes; o += 4) {
    const xi = load<f32>(x + o);
    if (xi - xi != 0) return false;
  }
  return true;
}
