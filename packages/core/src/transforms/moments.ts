import type { ScalarStage } from './stage.js';

/** Exponential moving averages `m ← β1·m + (1−β1)·g` and `v ← β2·v + (1−β2)·g²`. */
export const accumulateMoments: ScalarStage = (scalars, { options }) => ({
  ...scalars,
  beta1: options.betas[0],
  beta2: options.betas[1],
});
