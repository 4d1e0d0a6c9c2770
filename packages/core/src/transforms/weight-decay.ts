import type { ScalarStage } from './stage.js';

/**
 * `weightDecay`, in one of two forms:
 * - coupled L2 (default): `g ← g + wd · p`, so the decay passes through the moments;
 * - decoupled (`decoupledWeightDecay`): `p ← p · (1 − lr · wd)` before the update.
 */
export const addWeightDecay: ScalarStage = (scalars, { options, lr }) => {
  if (options.weightDecay === 0) return scalars;
  return options.decoupledWeightDecay
    ? { ...scalars, paramScale: 1 - lr * options.weightDecay }
    : { ...scalars, weightDecay: options.weightDecay };
};
