import * as tf from '@tensorflow/tfjs';
import type { RAdamScalars } from '@rectify/core';
import type { Reducer } from './reductions.js';
import type { UpdateBatch, UpdateTarget } from './variables.js';

/** The smallest normal float32 (2⁻¹²⁶): a smaller scalar keeps fewer significant bits. */
const MIN_NORMAL_FLOAT32 = 2 ** -126;
/** 2¹²⁷: a larger scalar may round past float32's largest value (≈ 2¹²⁸) to Infinity. */
const MAX_SCALE_FLOAT32 = 2 ** 127;

/**
 * Whether the update uses the raw gradient scaled by `gradScale` only (no value clipping,
 * no coupled weight decay): then `gradScale` can fold into the moment coefficients and a
 * precomputed `g²` can stand in for the square.
 *
 * @example
 * ```ts
 * usesScaledRawGradient(planRAdamStep(context)); // true with default options
 * ```
 */
export function usesScaledRawGradient(s: RAdamScalars): boolean {
  return !Number.isFinite(s.clipValue) && s.weightDecay === 0;
}

/**
 * float32 scalars whose product is `x`: none for 1, `x` itself where float32 holds it
 * with full precision, else two factors of `√|x|`. Core computes the scalars in float64;
 * a clip factor below 2⁻¹²⁶ (a huge gradient norm) would lose bits as one float32, and a
 * step size above 2¹²⁸ would become Infinity (and `Infinity · 0` NaN), where the product
 * with the tensor is still a float32 number.
 */
function factorsOf(x: number): tf.Scalar[] {
  if (x === 1) return [];
  const magnitude = Math.abs(x);
  if (magnitude === 0 || (magnitude >= MIN_NORMAL_FLOAT32 && magnitude <= MAX_SCALE_FLOAT32)) return [tf.scalar(x)];
  const root = Math.sqrt(magnitude);
  return [tf.scalar(root), tf.scalar(Math.sign(x) * root)];
}

/** `x` times every factor, in order. */
function scaled(x: tf.Tensor, factors: readonly tf.Scalar[]): tf.Tensor {
  return factors.reduce<tf.Tensor>((t, factor) => tf.mul(t, factor), x);
}

/** The scalars of one batch as tensors, made once per batch rather than once per op. */
interface Coefficients {
  readonly beta1: tf.Scalar;
  readonly beta2: tf.Scalar;
  readonly oneMinusBeta1: tf.Scalar;
  readonly oneMinusBeta2: tf.Scalar;
  readonly gradScale: readonly tf.Scalar[];
  readonly clip: number | undefined;
  readonly weightDecay: tf.Scalar | undefined;
  readonly paramScale: tf.Scalar | undefined;
  readonly stepSize: readonly tf.Scalar[];
  readonly eps: tf.Scalar | undefined;
  /** `c(1−β1)` and `c²(1−β2)` (`c` = gradScale), where a cached `g²` may be used. */
  readonly folded: { readonly m: tf.Scalar; readonly v: tf.Scalar } | undefined;
}

function coefficientsOf(s: RAdamScalars): Coefficients {
  const c = s.gradScale;
  const foldedV = c * c * (1 - s.beta2);
  // Folding needs no clipping or coupled decay, and a c²(1−β2) that is a normal float32
  // (then c(1−β1) is one too, as β1 < 1 and |c| ≤ 1).
  const foldable = usesScaledRawGradient(s) && foldedV >= MIN_NORMAL_FLOAT32;
  return {
    beta1: tf.scalar(s.beta1),
    beta2: tf.scalar(s.beta2),
    oneMinusBeta1: tf.scalar(1 - s.beta1),
    oneMinusBeta2: tf.scalar(1 - s.beta2),
    gradScale: factorsOf(c),
    clip: Number.isFinite(s.clipValue) ? s.clipValue : undefined,
    weightDecay: s.weightDecay === 0 ? undefined : tf.scalar(s.weightDecay),
    paramScale: s.paramScale === 1 ? undefined : tf.scalar(s.paramScale),
    // stepSize·m / (sqrt(v)·denomScale + eps) = (stepSize/denomScale)·m / (sqrt(v) + eps/denomScale).
    stepSize: factorsOf(s.rectified ? s.stepSize / s.denomScale : s.stepSize),
    eps: s.rectified ? tf.scalar(s.eps / s.denomScale) : undefined,
    folded: foldable ? { m: tf.scalar(c * (1 - s.beta1)), v: tf.scalar(foldedV) } : undefined,
  };
}

/**
 * One slot's new values (not yet assigned) and the two sums that prove them finite:
 * `Σ p'` and `Σ √v'` on a rectified step (`Σ v'` otherwise). A finite sum proves every
 * element finite (NaN and ±∞ never cancel out), and `p'` and `v'` cover `m'` too: a
 * non-finite `m'` makes `p' = p·s − k·m'/(…)` (or `p·s − k·m'`) NaN or ±∞.
 */
export type SlotUpdate = {
  readonly target: UpdateTarget;
  readonly p: tf.Tensor;
  readonly m: tf.Tensor;
  readonly v: tf.Tensor;
  readonly sums: [tf.Tensor, tf.Tensor];
};

function slotUpdate(
  { param, grad, m, v }: UpdateTarget,
  k: Coefficients,
  square: tf.Tensor | undefined,
  reduce: Reducer,
): Omit<SlotUpdate, 'target'> {
  let m1: tf.Tensor;
  let v1: tf.Tensor;
  if (k.folded !== undefined && square !== undefined) {
    // g = c·grad folded into the coefficients, with the check's grad² (known finite).
    m1 = tf.add(tf.mul(m, k.beta1), tf.mul(grad, k.folded.m));
    v1 = tf.add(tf.mul(v, k.beta2), tf.mul(square, k.folded.v));
  } else {
    // Scale (and clip, and decay) before squaring: the norm clip factor is what keeps a
    // gradient of 1e20 in range.
    let g = scaled(grad, k.gradScale);
    if (k.clip !== undefined) g = tf.clipByValue(g, -k.clip, k.clip);
    if (k.weightDecay !== undefined) g = tf.add(g, tf.mul(param, k.weightDecay));
    m1 = tf.add(tf.mul(m, k.beta1), tf.mul(g, k.oneMinusBeta1));
    // ((1 − β2)·g)·g: g² alone overflows float32 for |g| ≳ 1.8e19, where the product fits.
    v1 = tf.add(tf.mul(v, k.beta2), tf.mul(tf.mul(g, k.oneMinusBeta2), g));
  }
  const p = k.paramScale === undefined ? param : tf.mul(param, k.paramScale);
  let direction = m1;
  let vProbe = v1;
  if (k.eps !== undefined) {
    const root = tf.sqrt(v1);
    direction = tf.div(m1, tf.add(root, k.eps));
    // √v' is finite exactly when v' is, and its sum overflows far later than Σ v'.
    vProbe = root;
  }
  const p1 = tf.sub(p, scaled(direction, k.stepSize));
  return { p: p1, m: m1, v: v1, sums: [reduce(p1), reduce(vProbe)] };
}

/**
 * The fused RAdam update of {@link RAdamScalars} as a graph of stock tfjs ops per tensor
 * (what runs on webgl, webgpu and tfjs-node, and on cpu and wasm with `fusedKernel:
 * false`). It computes; it writes nothing: the caller assigns the returned values once
 * every slot of the step has them. Call it inside a
 * `tf.tidy`; each slot's intermediates are freed by a tidy of their own as soon as its new
 * values exist, so a step holds at most the old and new `p, m, v` plus one slot's temporaries.
 *
 * Each tfjs op is a full pass over the tensor, so the graph is as short as the scalars
 * allow (11 ops for a rectified step with a cached `g²`, against 14 in `tf.train.adam`),
 * plus two sums for the finiteness flag (see {@link SlotUpdate}):
 *
 * - stages whose scalar is the identity (`clipValue` ∞, `weightDecay` 0, `paramScale` 1,
 *   `gradScale` 1) emit no op;
 * - without clipping or coupled decay, `gradScale` (`c`) is folded into the coefficients,
 *   `m·β1 + g·(c(1−β1))` and `v·β2 + g²·(c²(1−β2))`, when the finiteness check or the
 *   norm already computed `g²` and found it finite (`squareOf`);
 * - otherwise `g·c` (clipped, decayed) comes first and `v` gets `((1−β2)·g)·g`, which
 *   stays finite wherever float32 holds the result;
 * - the rectified step `stepSize·m / (sqrt(v)·denomScale + eps)` is computed as
 *   `(stepSize/denomScale)·m / (sqrt(v) + eps/denomScale)`, scalars divided on the host.
 *
 * @param squareOf - a cached, finite `g²` for a gradient, or `undefined`.
 * @param reduce - how to sum a tensor on this tfjs backend (`reducerFor`).
 * @example
 * ```ts
 * const updates = tf.tidy(() => batchUpdates(checked, () => undefined, reducerFor('wasm')));
 * ```
 */
export function batchUpdates(
  batch: UpdateBatch,
  squareOf: (grad: tf.Tensor) => tf.Tensor | undefined,
  reduce: Reducer,
): SlotUpdate[] {
  const k = coefficientsOf(batch.scalars);
  return batch.targets.map((target) => {
    const square = k.folded === undefined ? undefined : squareOf(target.grad);
    return { target, ...tf.tidy(() => slotUpdate(target, k, square, reduce)) };
  });
}
