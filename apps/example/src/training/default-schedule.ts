import type { SchedulerSpec } from '@rectify/core';

/**
 * The schedule the demo, the tests and the web page train with unless told otherwise: a
 * cosine from 0.03 down to 0.001 over the run's `steps`.
 */
export function defaultScheduler(steps: number): SchedulerSpec {
  return { scheduler: 'CosineAnnealingLR', args: { baseLr: 0.03, tMax: steps, etaMin: 0.001 } };
}
