import { createScheduler, type SchedulerSpec } from '@rectify/core';

/**
 * The learning rates a scheduler yields over `epochs` epochs: `curve[i]` holds every
 * group's rate after `i` calls of `step()` (so `curve[0]` is the rate at construction).
 * `metrics[i]` is passed to the `i`-th `step()` (for `ReduceLROnPlateau`).
 */
export function scheduleCurve(spec: SchedulerSpec, epochs: number, metrics?: readonly number[]): number[][] {
  const scheduler = createScheduler(spec);
  const curve = [scheduler.getLastLr()];
  for (let epoch = 0; epoch < epochs; epoch++) {
    scheduler.step(metrics?.[epoch]);
    curve.push(scheduler.getLastLr());
  }
  return curve;
}
