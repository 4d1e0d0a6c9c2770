import { RectifyError } from '../errors.js';
import { isSchedulerSpec, type LearningRateScheduler, type SchedulerSpec } from './scheduler.js';
import { schedulerFactories } from './registry.js';

/**
 * Builds any scheduler, composites included, from its JSON spec.
 *
 * @throws RectifyError `INVALID_SCHEDULER` for an unknown name or a malformed spec, and
 *   `INVALID_OPTION` for an argument out of range (naming the argument).
 * @example
 * ```ts
 * const s = createScheduler({ scheduler: 'StepLR', args: { baseLr: 0.1, stepSize: 3, gamma: 0.5 } });
 * ```
 */
export function createScheduler(spec: SchedulerSpec): LearningRateScheduler {
  if (!isSchedulerSpec(spec)) {
    throw new RectifyError(
      'INVALID_SCHEDULER',
      'A scheduler spec must be an object { scheduler: string, args: object }.',
      'scheduler',
    );
  }
  const factory = schedulerFactories.get(spec.scheduler);
  if (factory === undefined) {
    const known = [...schedulerFactories.keys()].sort().join(', ');
    throw new RectifyError(
      'INVALID_SCHEDULER',
      `Unknown scheduler "${spec.scheduler}". Known schedulers: ${known || '(none)'}.`,
      'scheduler',
    );
  }
  return factory(spec.args);
}
