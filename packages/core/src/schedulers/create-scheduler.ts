import { RectifyError } from '../errors.js';
import { copyIn, describeValue, isPlainRecord, withPrivateCopy, suggestName } from './args.js';
import { schedulerFactories } from './registry.js';
import type { LearningRateScheduler, SchedulerSpec } from './scheduler.js';

/**
 * Builds any scheduler, composites included, from its JSON spec.
 *
 * The spec must be exactly `{ scheduler: string, args: object }`; the name must be one of
 * {@link schedulerFactories} (a near miss is suggested); the arguments are then validated
 * by the scheduler's constructor (unknown names with a hint, types, ranges). Composites
 * take `args.schedulers` as a list of specs, built recursively; an error in a child
 * names it in the message, and its `parameter` is prefixed with `schedulers[i].`.
 *
 * The spec is copied first (each own key read once; keys inherited from
 * `Object.prototype` are absent), so editing it afterwards changes neither the
 * scheduler nor what its `toSpec()` returns. Instances inside `args.schedulers` are
 * kept by reference.
 *
 * @throws RectifyError `INVALID_SCHEDULER` for an unknown name, a malformed spec, a spec
 *   nested deeper than `MAX_INPUT_DEPTH` (64) levels (a cycle included), composites
 *   nested deeper than `MAX_SCHEDULER_NESTING` (16) levels, or a getter that
 *   throws; `INVALID_OPTION` for an argument out of range (naming the argument).
 * @example
 * ```ts
 * const s = createScheduler({ scheduler: 'StepLR', args: { baseLr: 0.1, stepSize: 3, gamma: 0.5 } });
 * ```
 */
export function createScheduler(spec: SchedulerSpec): LearningRateScheduler {
  return buildScheduler(copyIn(spec, 'INVALID_SCHEDULER', 'spec', 'createScheduler'));
}

/**
 * {@link createScheduler} for a spec that is already a private copy (made by `copyIn`,
 * or taken from one): its `args` are handed to the constructor without another copy.
 *
 * @internal
 */
export function buildScheduler(raw: unknown): LearningRateScheduler {
  if (!isPlainRecord(raw)) {
    throw new RectifyError(
      'INVALID_SCHEDULER',
      `A scheduler spec must be an object { scheduler: string, args: object }, got ${describeValue(raw)}.`,
      'scheduler',
    );
  }
  for (const key of Object.keys(raw)) {
    if (key !== 'scheduler' && key !== 'args') {
      throw new RectifyError(
        'INVALID_SCHEDULER',
        `A scheduler spec has only "scheduler" and "args"; unexpected "${key}" (put arguments inside "args").`,
        key,
      );
    }
  }
  const name = raw['scheduler'];
  if (typeof name !== 'string') {
    throw new RectifyError(
      'INVALID_SCHEDULER',
      `A scheduler spec needs "scheduler", the scheduler's class name as a string, got ${describeValue(name)}.`,
      'scheduler',
    );
  }
  const args = raw['args'];
  if (!isPlainRecord(args)) {
    throw new RectifyError(
      'INVALID_SCHEDULER',
      `The spec of ${name} needs "args", an object of named arguments, got ${describeValue(args)}.`,
      'args',
    );
  }
  const factory = schedulerFactories.get(name);
  if (factory === undefined) {
    const known = [...schedulerFactories.keys()];
    const hint = suggestName(name, known);
    throw new RectifyError(
      'INVALID_SCHEDULER',
      `Unknown scheduler "${name}".${hint === undefined ? '' : ` Did you mean "${hint}"?`} Known schedulers: ${[...known].sort().join(', ')}.`,
      'scheduler',
    );
  }
  return withPrivateCopy(args, () => factory(args));
}
