import type { ScalarStage } from './stage.js';

/** `maximize`: ascend by negating the gradient (as PyTorch does, before weight decay). */
export const negateForMaximize: ScalarStage = (scalars, { options }) =>
  options.maximize ? { ...scalars, gradScale: -scalars.gradScale } : scalars;
