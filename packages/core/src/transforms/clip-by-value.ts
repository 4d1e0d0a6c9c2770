import type { ScalarStage } from './stage.js';

/** `gradClipValue`: clamps each gradient element to `[−bound, bound]`. */
export const clipByValue: ScalarStage = (scalars, { options }) =>
  options.gradClipValue === null ? scalars : { ...scalars, clipValue: options.gradClipValue };
