import type { RAdamScalars } from '../backend.js';
import { clipByGlobalNorm } from './clip-by-global-norm.js';
import { clipByValue } from './clip-by-value.js';
import { negateForMaximize } from './maximize.js';
import { accumulateMoments } from './moments.js';
import { rectifyAndScaleByLearningRate } from './rectify.js';
import { IDENTITY_SCALARS, type ScalarStage, type StageContext } from './stage.js';
import { addWeightDecay } from './weight-decay.js';

/**
 * RAdam as a chain of single-purpose stages, in SPEC.md's order. Each one sets the
 * scalars of its own job; the backend applies the result in one fused pass.
 */
export const RADAM_STAGES: readonly ScalarStage[] = Object.freeze([
  negateForMaximize,
  clipByGlobalNorm,
  clipByValue,
  addWeightDecay,
  accumulateMoments,
  rectifyAndScaleByLearningRate,
]);

/** Runs every stage of {@link RADAM_STAGES}: the complete scalars of one step. */
export function planRAdamStep(context: StageContext): RAdamScalars {
  return RADAM_STAGES.reduce((scalars, stage) => stage(scalars, context), IDENTITY_SCALARS);
}
