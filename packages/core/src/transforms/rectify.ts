import { rectification } from './rectification.js';
import type { ScalarStage } from './stage.js';

/** `compat: 'torch'` rectifies strictly above this `ρt`. */
const TORCH_RHO_THRESHOLD = 5;

/**
 * Bias correction, rectification and the learning rate, folded into `stepSize`,
 * `denomScale` and `eps` (SPEC.md steps 5 and 6):
 * - rectified, braintools: `lr·r·m̂ / (sqrt(v/bc2) + eps)` → `stepSize = lr·r/bc1`, `denomScale = 1/sqrt(bc2)`;
 * - rectified, torch: `lr·r·m̂·sqrt(bc2) / (sqrt(v) + eps)` → `stepSize = lr·r·sqrt(bc2)/bc1`, `denomScale = 1`;
 * - not rectified (both): `lr·m̂` → `stepSize = lr/bc1`.
 */
export const rectifyAndScaleByLearningRate: ScalarStage = (scalars, { options, lr, step }) => {
  const { r, rhoT, biasCorrection1, biasCorrection2 } = rectification(options.betas[0], options.betas[1], step);
  const rectified =
    options.compat === 'torch' ? rhoT > TORCH_RHO_THRESHOLD : rhoT >= options.threshold;
  if (!rectified) {
    return { ...scalars, rectified, stepSize: lr / biasCorrection1, denomScale: 1, eps: options.eps };
  }
  return options.compat === 'torch'
    ? {
        ...scalars,
        rectified,
        stepSize: (lr * r * Math.sqrt(biasCorrection2)) / biasCorrection1,
        denomScale: 1,
        eps: options.eps,
      }
    : {
        ...scalars,
        rectified,
        stepSize: (lr * r) / biasCorrection1,
        denomScale: 1 / Math.sqrt(biasCorrection2),
        eps: options.eps,
      };
};
