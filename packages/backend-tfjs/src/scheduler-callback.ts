import * as tf from '@tensorflow/tfjs';
import { RectifyError, isLearningRateScheduler, type LearningRateScheduler } from '@rectify/core';
import { RAdamOptimizer } from './radam-optimizer.js';

/**
 * Options of {@link schedulerCallback}.
 *
 * @example
 * ```ts
 * schedulerCallback(optimizer, { monitor: 'val_loss' });
 * ```
 */
export interface SchedulerCallbackOptions {
  /**
   * The epoch log passed to `scheduler.step(metric)` (what `ReduceLROnPlateau` watches;
   * other schedulers ignore it). Default: `'val_loss'` when the epoch logs have it, else
   * `'loss'`.
   */
  readonly monitor?: string;
}

/**
 * A `model.fit` callback that advances a learning-rate scheduler once per epoch, at the
 * end of the epoch: the optimizer itself never advances its scheduler.
 *
 * @param target - the scheduler, or an {@link RAdamOptimizer} whose scheduler to step.
 * @throws RectifyError `INVALID_OPTION` when `target` has no scheduler; at the end of an
 *   epoch, when an explicit `monitor` is missing from the logs.
 * @example
 * ```ts
 * const optimizer = new RAdamOptimizer({ lr: { scheduler: 'StepLR', args: { baseLr: 0.01, stepSize: 10, gamma: 0.5 } } });
 * model.compile({ optimizer, loss: 'meanSquaredError' });
 * await model.fit(xs, ys, { epochs: 30, callbacks: [schedulerCallback(optimizer)] });
 * ```
 */
export function schedulerCallback(
  target: LearningRateScheduler | RAdamOptimizer,
  options: SchedulerCallbackOptions = {},
): tf.CustomCallback {
  const scheduler = target instanceof RAdamOptimizer ? target.scheduler : target;
  if (!isLearningRateScheduler(scheduler)) {
    throw new RectifyError(
      'INVALID_OPTION',
      'schedulerCallback() needs a scheduler, or an RAdamOptimizer whose lr is a scheduler.',
      'scheduler',
    );
  }
  const { monitor } = options;
  return new tf.CustomCallback(
    {
      onEpochEnd: (_epoch, logs) => {
        const key = monitor ?? (logs?.['val_loss'] !== undefined ? 'val_loss' : 'loss');
        const metric = logs?.[key];
        if (monitor !== undefined && typeof metric !== 'number') {
          throw new RectifyError('INVALID_OPTION', `schedulerCallback: the epoch logs have no "${monitor}".`, 'monitor');
        }
        scheduler.step(typeof metric === 'number' ? metric : undefined);
      },
    },
    // No UI yielding: this callback only does host arithmetic.
    'never',
  );
}
