import type { Compat } from '../options.js';
import type { ScalarStage } from './stage.js';

/** PyTorch's `clip_grad_norm_` adds this to the norm before dividing. */
const TORCH_NORM_EPSILON = 1e-6;

/**
 * The factor every gradient is multiplied by when clipping to `maxNorm`, given the global
 * norm `norm` of this step (SPEC.md step 1):
 * - `braintools` (optax): `maxNorm / norm` when `norm >= maxNorm`, else `1`;
 * - `torch`: `c = maxNorm / (norm + 1e-6)`, applied when `c < 1`.
 */
export function globalNormClipFactor(norm: number, maxNorm: number, compat: Compat): number {
  if (compat === 'torch') {
    const factor = maxNorm / (norm + TORCH_NORM_EPSILON);
    return factor < 1 ? factor : 1;
  }
  return norm >= maxNorm ? maxNorm / norm : 1;
}

/** `gradClipNorm`: scales every gradient so their global norm is at most the bound. */
export const clipByGlobalNorm: ScalarStage = (scalars, { options, globalNorm }) => {
  if (options.gradClipNorm === null || globalNorm === undefined) return scalars;
  const factor = globalNormClipFactor(globalNorm, options.gradClipNorm, options.compat);
  return { ...scalars, gradScale: scalars.gradScale * factor };
};
