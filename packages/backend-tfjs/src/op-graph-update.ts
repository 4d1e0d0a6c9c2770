import * as tf from '@tensorflow/tfjs';
import type { RAdamScalars, RAdamSlot } from '@rectify/core';
import { asVariable } from './variables.js';

/**
 * Whether the update uses the raw gradient scaled by `gradScale` only (no value clipping,
 * no coupled weight decay): then `gradScale` folds into the moment coefficients and a
 * precomputed `g²` can stand in for `square(g)`.
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
 * The fused RAdam update of {@link RAdamScalars} as a graph of stock tfjs ops per tensor
 * (what runs on webgl, webgpu and wasm), in a single `tf.tidy`: every intermediate is
 * freed when the tidy ends, and `m`, `v` and `p` take their new values through `assign`,
 * so no tensor outlives the step.
 *
 * Each tfjs op is a full pass over the tensor, so the graph is as short as the scalars
 * allow (11 ops for a rectified step with a cached `g²`, against 14 in `tf.train.adam`):
 *
 * - stages whose scalar is the identity (`clipValue` ∞, `weightDecay` 0, `paramScale` 1)
 *   emit no op;
 * - without clipping or coupled decay, `gradScale` (`c`) is folded into the coefficients:
 *   `m·β1 + g·(c(1−β1))` and `v·β2 + g²·(c²(1−β2))`, with `g²` from `squareOf` when the
 *   finiteness check or the norm already computed it;
 * - the rectified step `stepSize·m / (sqrt(v)·denomScale + eps)` is computed as
 *   `(stepSize/denomScale)·m / (sqrt(v) + eps/denomScale)`, scalars divided on the host.
 *
 * Every slot is validated before any op runs, so a bad call changes nothing.
 *
 * @param squareOf - a cached `g²` for a gradient, or `undefined` to compute it.
 * @throws RectifyError `INVALID_TENSOR` when a parameter or moment is not a `tf.Variable`.
 * @example
 * ```ts
 * applyFusedRAdam([{ param, grad, firstMoment, secondMoment }], planRAdamStep(context), () => undefined);
 * ```
 */
export function applyFusedRAdam(
  slots: readonly RAdamSlot<tf.Tensor>[],
  s: RAdamScalars,
  squareOf: (grad: tf.Tensor) => tf.Tensor | undefined,
): void {
  const targets = slots.map((slot) => ({
    param: asVariable(slot.param, 'parameters'),
    grad: slot.grad,
    m: asVariable(slot.firstMoment, 'moments'),
    v: asVariable(slot.secondMoment, 'moments'),
  }));
  const folded = usesScaledRawGradient(s);
  tf.tidy(() => {
    // Scalars become tensors once per batch, not once per op and tensor.
    const beta1 = tf.scalar(s.beta1);
    const beta2 = tf.scalar(s.beta2);
    const gradCoef1 = tf.scalar(folded ? s.gradScale * (1 - s.beta1) : 1 - s.beta1);
    const gradCoef2 = tf.scalar(folded ? s.gradScale * s.gradScale * (1 - s.beta2) : 1 - s.beta2);
    const gradScale = folded || s.gradScale === 1 ? undefined : tf.scalar(s.gradScale);
    const clip = Number.isFinite(s.clipValue) ? s.clipValue : undefined;
    const weightDecay = s.weightDecay === 0 ? undefined : tf.scalar(s.weightDecay);
    const paramScale = s.paramScale === 1 ? undefined : tf.scalar(s.paramScale);
    const stepSize = tf.scalar(s.rectified ? s.stepSize / s.denomScale : s.stepSize);
    const eps = s.rectified ? tf.scalar(s.eps / s.denomScale) : undefined;

    for (const { param, grad, m, v } of targets) {
      let g = grad;
      if (gradScale !== undefined) g = tf.mul(g, gradScale);
      if (clip !== undefined) g = tf.clipByValue(g, -clip, clip);
      if (weightDecay !== undefined) g = tf.add(g, tf.mul(param, weightDecay));
      const gSquared = (folded ? squareOf(grad) : undefined) ?? tf.square(g);
      const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, gradCoef1));
      const v1 = tf.add(tf.mul(v, beta2), tf.mul(gSquared, gradCoef2));
      const p = paramScale === undefined ? param : tf.mul(param, paramScale);
      const direction = eps === undefined ? m1 : tf.div(m1, tf.add(tf.sqrt(v1), eps));
      const p1 = tf.sub(p, tf.mul(direction, stepSize));
      m.assign(m1);
      v.assign(v1);
      param.assign(p1);
    }
  });
}
