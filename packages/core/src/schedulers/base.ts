/**
 * The machinery every built-in scheduler shares: progress (`lastEpoch`, current rates),
 * `toSpec`, and state dicts that are validated completely before anything changes.
 *
 * Every mutation goes through a *prepare* step that validates and computes without
 * touching the scheduler and returns a commit function that cannot fail; composites use
 * this to validate all their children before committing any of them.
 *
 * @internal
 * @module
 */
import { RectifyError } from '../errors.js';
import { copyIn, describeValue, isPlainRecord } from './args.js';
import type { LearningRateScheduler, SchedulerSpec, SchedulerState } from './scheduler.js';

/** Applies a validated change. Never throws. */
export type Commit = () => void;

/**
 * Reads a state dict (a private copy: see {@link SchedulerBase.loadStateDict}): checks it
 * is an object of known keys written by the right scheduler, then validates one entry at
 * a time, throwing `RectifyError('INVALID_STATE_DICT', message, key)`.
 */
export class StateReader {
  readonly #owner: string;
  readonly #state: Readonly<Record<string, unknown>>;

  constructor(owner: string, state: unknown, known: readonly string[]) {
    this.#owner = owner;
    if (!isPlainRecord(state)) {
      throw new RectifyError('INVALID_STATE_DICT', `${owner}: a scheduler state dict must be an object, got ${describeValue(state)}.`);
    }
    for (const key of Object.keys(state)) {
      if (!known.includes(key)) {
        throw new RectifyError(
          'INVALID_STATE_DICT',
          `${owner}: unexpected entry "${key}" in the state dict (expected ${known.join(', ')}).`,
          key,
        );
      }
    }
    if (state['scheduler'] !== owner) {
      throw new RectifyError(
        'INVALID_STATE_DICT',
        `${owner}: this state dict was written by ${describeValue(state['scheduler'])}, not ${owner}.`,
        'scheduler',
      );
    }
    this.#state = state;
  }

  /** The raw entry `key`. */
  raw(key: string): unknown {
    return this.#state[key];
  }

  /** Throws `INVALID_STATE_DICT` for `key`. */
  fail(key: string, requirement: string, value: unknown = this.#state[key]): never {
    throw new RectifyError(
      'INVALID_STATE_DICT',
      `${this.#owner}: state entry ${key} must be ${requirement}, got ${describeValue(value)}.`,
      key,
    );
  }

  /** A safe integer `>= min` (a counter that can still count: at most `2^53 − 1`). */
  integer(key: string, min: number): number {
    const value = this.#state[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      this.fail(key, `an integer from ${min} to ${Number.MAX_SAFE_INTEGER}`);
    }
    return value;
  }

  /** A finite number, or `null`. */
  numberOrNull(key: string): number | null {
    const value = this.#state[key];
    if (value === null) return null;
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(key, 'a finite number or null');
    return value;
  }

  /** A list of `count` finite numbers `>= 0`. */
  rates(key: string, count: number): number[] {
    const value = this.#state[key];
    const requirement = `a list of ${count} finite learning rate${count === 1 ? '' : 's'} >= 0`;
    if (!Array.isArray(value) || value.length !== count) this.fail(key, requirement);
    for (const entry of value) {
      if (typeof entry !== 'number' || !Number.isFinite(entry) || entry < 0) this.fail(key, requirement);
    }
    return [...(value as number[])];
  }

  /** A list of `count` entries (left to the caller to validate). */
  list(key: string, count: number): unknown[] {
    const value = this.#state[key];
    if (!Array.isArray(value) || value.length !== count) this.fail(key, `a list of ${count} entries`);
    return value;
  }
}

/**
 * Base of every built-in scheduler: holds the epoch counter and the current rates, and
 * implements {@link LearningRateScheduler} on top of the prepare/commit protocol.
 */
export abstract class SchedulerBase implements LearningRateScheduler {
  /** The scheduler's class name, as used in {@link SchedulerSpec.scheduler}. */
  abstract readonly name: string;
  /**
   * The reference rates the schedule is relative to, one per group (the reference's
   * `base_lrs`): `ChainedScheduler` multiplies the ratios `current / base` of its children.
   */
  abstract readonly baseLrs: readonly number[];

  #epoch = 0;
  #lrs: number[] = [];
  #startEpoch = 0;

  /** How many times `step()` has been called (plus the starting `lastEpoch`). */
  get lastEpoch(): number {
    return this.#epoch;
  }

  /** The current learning rates, one per parameter group (a fresh array). */
  getLastLr(): number[] {
    return [...this.#lrs];
  }

  /** The number of parameter groups this scheduler yields rates for. */
  get groupCount(): number {
    return this.#lrs.length;
  }

  /** `true` when `step()` needs a metric (`ReduceLROnPlateau`, or a composite holding one). */
  get requiresMetric(): boolean {
    return false;
  }

  /** Advances one epoch (validating first: on error nothing changes). */
  step(metric?: number): void {
    this.prepareStep(metric)();
  }

  /** @internal Validates and computes one `step(metric)`; the result commits it. */
  abstract prepareStep(metric: number | undefined): Commit;

  /**
   * @internal Validates and computes a jump to `epoch` (the reference's `step(epoch)`, used
   * by `SequentialLR` for its milestone-relative epochs); the result commits it.
   */
  abstract prepareJump(epoch: number): Commit;

  /**
   * The spec this scheduler was built from, defaults filled in (`lastEpoch` only when it
   * started past epoch 0): `createScheduler(s.toSpec())` builds a twin in its initial
   * state; load `s.stateDict()` into it to continue where `s` is. A fresh object at every
   * call: editing it changes nothing here.
   */
  toSpec(): SchedulerSpec {
    const args = this.specArgs();
    if (this.#startEpoch !== 0) args['lastEpoch'] = this.#startEpoch;
    return { scheduler: this.name, args };
  }

  /** This scheduler's arguments for {@link SchedulerBase.toSpec}. */
  protected abstract specArgs(): Record<string, unknown>;

  /**
   * A JSON-serialisable snapshot: `{ scheduler, lastEpoch, lastLr, ... }`, plus what the
   * scheduler needs beyond its epoch counter (ReduceLROnPlateau's plateau tracking,
   * composites' children). A fresh object at every call: editing it changes nothing here.
   */
  stateDict(): SchedulerState {
    return { scheduler: this.name, lastEpoch: this.#epoch, lastLr: [...this.#lrs], ...this.extraState() };
  }

  /** State entries beyond `scheduler`, `lastEpoch` and `lastLr`. */
  protected extraState(): Record<string, unknown> {
    return {};
  }

  /** Keys of {@link SchedulerBase.extraState}. */
  protected extraStateKeys(): readonly string[] {
    return [];
  }

  /**
   * Restores a snapshot from {@link SchedulerBase.stateDict}. The state is copied first
   * (each own key read once; keys inherited from `Object.prototype` are absent; later
   * edits of `state` change nothing here), then validated fully: types, ranges, the
   * length of per-group lists, and every child's state for a composite.
   *
   * @throws RectifyError `INVALID_STATE_DICT`, without changing anything, when the state
   *   does not fit, nests deeper than `MAX_INPUT_DEPTH` (64) levels (a cycle included) or
   *   a getter in it throws.
   */
  loadStateDict(state: SchedulerState): void {
    this.prepareLoad(copyIn(state, 'INVALID_STATE_DICT', 'state', this.name))();
  }

  /** @internal Validates a state dict (a private copy) completely; the result applies it. */
  prepareLoad(state: unknown): Commit {
    const reader = new StateReader(this.name, state, ['scheduler', 'lastEpoch', 'lastLr', ...this.extraStateKeys()]);
    const epoch = reader.integer('lastEpoch', 0);
    const lastLr = reader.rates('lastLr', this.groupCount);
    return this.prepareLoadFrom(reader, epoch, lastLr);
  }

  /** Validates the scheduler-specific part of a state dict; the result applies it all. */
  protected abstract prepareLoadFrom(reader: StateReader, epoch: number, lastLr: number[]): Commit;

  /** Records the epoch a constructor started from (the `lastEpoch` argument). */
  protected recordStart(epoch: number): void {
    this.#startEpoch = epoch;
  }

  /** Sets the progress (called from commits and constructors only). */
  protected setProgress(epoch: number, lrs: readonly number[]): void {
    this.#epoch = epoch;
    this.#lrs = [...lrs];
  }
}

/**
 * A schedule whose rates are a closed-form function of the epoch (every scheduler but
 * `ReduceLROnPlateau` and the composites). Subclasses implement `lrsAt`
 * and call `initialize` at the end of their constructor.
 */
export abstract class EpochSchedule extends SchedulerBase {
  /** The learning rates at `epoch`, one per group. */
  protected abstract lrsAt(epoch: number): number[];

  /** Starts the schedule at `epoch`. */
  protected initialize(epoch: number): void {
    this.recordStart(epoch);
    this.setProgress(epoch, this.checkedLrsAt(epoch));
  }

  /** `lrsAt`, rejecting non-finite or negative rates. */
  protected checkedLrsAt(epoch: number): number[] {
    const lrs = this.lrsAt(epoch);
    for (const lr of lrs) {
      if (!Number.isFinite(lr) || lr < 0) {
        throw new RectifyError(
          'INVALID_OPTION',
          `${this.name}: the schedule yields learning rate ${describeValue(lr)} at epoch ${epoch}; learning rates must be finite and >= 0.`,
        );
      }
    }
    return lrs;
  }

  /** @internal */
  prepareStep(_metric: number | undefined): Commit {
    return this.prepareJump(this.lastEpoch + 1);
  }

  /** @internal */
  prepareJump(epoch: number): Commit {
    const lrs = this.checkedLrsAt(epoch);
    return () => this.setProgress(epoch, lrs);
  }

  /**
   * The rates are recomputed from `lastEpoch` (the stored `lastLr` is informational and
   * only checked for shape), so a state continues identically on a twin built from
   * {@link SchedulerBase.toSpec}.
   */
  protected prepareLoadFrom(reader: StateReader, epoch: number, _lastLr: number[]): Commit {
    let lrs: number[];
    try {
      lrs = this.checkedLrsAt(epoch);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return reader.fail('lastEpoch', `an epoch this schedule can reach (${message})`);
    }
    return () => this.setProgress(epoch, lrs);
  }
}

/** `true` when `value` is one of the built-in schedulers. */
export function isBuiltInScheduler(value: unknown): value is SchedulerBase {
  return value instanceof SchedulerBase;
}
