import { ArgReader, copyRates, countAtMost } from './args.js';
import { EpochSchedule } from './base.js';

/**
 * Options of {@link MultiStepLR}.
 *
 * Formula: `lr(t) = baseLr · gamma^|{ m ∈ milestones : m <= t }|`.
 *
 * @example
 * ```ts
 * const options: MultiStepLROptions = { baseLr: 0.1, milestones: [2, 5, 9], gamma: 0.3 };
 * ```
 */
export interface MultiStepLROptions {
  /** Initial learning rate, or one per parameter group. Default `1e-3`. */
  readonly baseLr?: number | readonly number[];
  /**
   * Epochs at which the rate is multiplied by `gamma`: a non-empty list of integers
   * `>= 0` in increasing order (a repeated milestone decays twice). Default `[30, 60, 90]`.
   */
  readonly milestones?: readonly number[];
  /** Multiplicative decay factor, `>= 0`. Default `0.1`. */
  readonly gamma?: number;
  /** The epoch to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * Decays every rate by `gamma` at each milestone reached:
 *
 * `lr(t) = baseLr · gamma^|{ m ∈ milestones : m <= t }|`
 *
 * @example
 * ```ts
 * const s = new MultiStepLR({ baseLr: 0.1, milestones: [2, 5], gamma: 0.1 });
 * // epochs 0-1: 0.1, epochs 2-4: 0.01, epochs 5+: 0.001
 * ```
 */
export class MultiStepLR extends EpochSchedule {
  readonly name = 'MultiStepLR';
  readonly baseLrs: readonly number[];
  /** The milestones, in increasing order. */
  readonly milestones: readonly number[];
  /** Multiplicative decay factor. */
  readonly gamma: number;
  readonly #baseLr: number | number[];

  constructor(options: MultiStepLROptions = {}) {
    const o = new ArgReader('MultiStepLR', options, ['baseLr', 'milestones', 'gamma', 'lastEpoch']);
    const baseLr = o.rates('baseLr', 1e-3);
    const milestones = o.integerList('milestones', [30, 60, 90], { min: 0, strict: false, allowEmpty: false });
    const gamma = o.number('gamma', 0.1, { min: 0 });
    const lastEpoch = o.lastEpoch();
    super();
    this.#baseLr = baseLr.given;
    this.baseLrs = baseLr.rates;
    this.milestones = milestones;
    this.gamma = gamma;
    this.initialize(lastEpoch);
  }

  protected lrsAt(epoch: number): number[] {
    const reached = countAtMost(this.milestones, epoch);
    const factor = this.gamma ** reached;
    return this.baseLrs.map((lr) => lr * factor);
  }

  protected specArgs(): Record<string, unknown> {
    return { baseLr: copyRates(this.#baseLr), milestones: [...this.milestones], gamma: this.gamma };
  }
}
