import { RectifyError } from '../errors.js';
import { ArgReader, copyRates, countAtMost } from './args.js';
import { EpochSchedule } from './base.js';

/**
 * Options of {@link PiecewiseConstantSchedule}.
 *
 * Formula: `lr(t) = values[ |{ b ∈ boundaries : b <= t }| ]` (absolute rates).
 *
 * @example
 * ```ts
 * const options: PiecewiseConstantScheduleOptions = { boundaries: [3, 7], values: [0.1, 0.05, 0.01] };
 * ```
 */
export interface PiecewiseConstantScheduleOptions {
  /**
   * Only sets the number of parameter groups (a list gives one group per entry); its
   * magnitude is not used, as `values` are absolute rates. Default `1e-3` (one group).
   */
  readonly baseLr?: number | readonly number[];
  /** Epochs at which the rate changes: integers `>= 0`, strictly increasing. Default `[1000, 2000]`. */
  readonly boundaries?: readonly number[];
  /**
   * The absolute learning rate of each phase, `>= 0`; one more entry than `boundaries`.
   * Default `[1, 0.1, 0.01]`.
   */
  readonly values?: readonly number[];
  /** The epoch to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * A step function of absolute rates:
 *
 * `lr(t) = values[ |{ b ∈ boundaries : b <= t }| ]` (the same for every group)
 *
 * @example
 * ```ts
 * const s = new PiecewiseConstantSchedule({ boundaries: [3, 7], values: [0.1, 0.05, 0.01] });
 * // epochs 0-2: 0.1, epochs 3-6: 0.05, epochs 7+: 0.01
 * ```
 */
export class PiecewiseConstantSchedule extends EpochSchedule {
  readonly name = 'PiecewiseConstantSchedule';
  readonly baseLrs: readonly number[];
  /** The epochs at which the rate changes. */
  readonly boundaries: readonly number[];
  /** The rate of each phase. */
  readonly values: readonly number[];
  readonly #baseLr: number | number[];

  constructor(options: PiecewiseConstantScheduleOptions = {}) {
    const o = new ArgReader('PiecewiseConstantSchedule', options, ['baseLr', 'boundaries', 'values', 'lastEpoch']);
    const baseLr = o.rates('baseLr', 1e-3);
    const boundaries = o.integerList('boundaries', [1000, 2000], { min: 0, strict: true, allowEmpty: true });
    const values = o.numberList('values', [1, 0.1, 0.01], { min: 0 });
    if (values.length !== boundaries.length + 1) {
      throw new RectifyError(
        'INVALID_OPTION',
        `PiecewiseConstantSchedule: values must have one more entry than boundaries (${boundaries.length} boundaries, so ${boundaries.length + 1} values), got ${values.length}.`,
        'values',
      );
    }
    const lastEpoch = o.lastEpoch();
    super();
    this.#baseLr = baseLr.given;
    this.baseLrs = baseLr.rates;
    this.boundaries = boundaries;
    this.values = values;
    this.initialize(lastEpoch);
  }

  protected lrsAt(epoch: number): number[] {
    const phase = countAtMost(this.boundaries, epoch);
    const value = this.values[phase] ?? 0;
    return this.baseLrs.map(() => value);
  }

  protected specArgs(): Record<string, unknown> {
    return { baseLr: copyRates(this.#baseLr), boundaries: [...this.boundaries], values: [...this.values] };
  }
}
