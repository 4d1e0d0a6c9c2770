import { member, ownMember } from './members.js';

/**
 * A JSON description of a scheduler: its class name and its arguments in camelCase, as
 * in the golden files. Composite schedulers (`ChainedScheduler`, `SequentialLR`) take
 * their children as `args.schedulers`, a list of specs.
 *
 * @example `{ scheduler: 'StepLR', args: { baseLr: 0.05, stepSize: 2, gamma: 0.5 } }`
 */
export interface SchedulerSpec {
  readonly scheduler: string;
  readonly args: Readonly<Record<string, unknown>>;
}

/** The JSON-serialisable progress of a scheduler: everything `step()` has changed. */
export type SchedulerState = Readonly<Record<string, unknown>>;

/**
 * An epoch-based learning-rate schedule, as in the reference library: the optimizer reads
 * {@link LearningRateScheduler.getLastLr} at every step, and the caller advances the
 * schedule with `step()` (or `step(metric)` for `ReduceLROnPlateau`).
 *
 * A scheduler carries one learning rate per parameter group when its `baseLr` is a list;
 * with a single rate, every group uses it.
 */
export interface LearningRateScheduler {
  /** The scheduler's class name, as used in {@link SchedulerSpec.scheduler}. */
  readonly name: string;
  /** How many times `step()` has been called. */
  readonly lastEpoch: number;
  /** The current learning rates, one per parameter group (a fresh array). */
  getLastLr(): number[];
  /** Advances one epoch. `metric` is required by `ReduceLROnPlateau` and ignored by others. */
  step(metric?: number): void;
  /** The spec this scheduler was built from: `createScheduler(s.toSpec())` builds a twin. */
  toSpec(): SchedulerSpec;
  /** A JSON-serialisable snapshot of the scheduler's progress. */
  stateDict(): SchedulerState;
  /**
   * Restores a snapshot from {@link LearningRateScheduler.stateDict}. Validates it fully
   * first and throws a `RectifyError` (`INVALID_STATE_DICT`) without changing anything
   * when it does not fit.
   */
  loadStateDict(state: SchedulerState): void;
}

const SCHEDULER_METHODS = ['getLastLr', 'step', 'stateDict', 'loadStateDict', 'toSpec'] as const;

/**
 * `true` when `value` implements {@link LearningRateScheduler}: its methods are its own
 * or its class's (methods inherited from `Object.prototype` do not count).
 */
export function isLearningRateScheduler(value: unknown): value is LearningRateScheduler {
  if (typeof value !== 'object' || value === null) return false;
  return SCHEDULER_METHODS.every((key) => typeof member(value, key) === 'function');
}

/**
 * `true` when `value` has the shape of a {@link SchedulerSpec}: own `scheduler` (a string)
 * and `args` (an object that is not a list).
 */
export function isSchedulerSpec(value: unknown): value is SchedulerSpec {
  if (typeof value !== 'object' || value === null) return false;
  const args = ownMember(value, 'args');
  return typeof ownMember(value, 'scheduler') === 'string' && typeof args === 'object' && args !== null && !Array.isArray(args);
}
