import { ArgReader, copyRates } from './args.js';
import { EpochSchedule } from './base.js';

/**
 * Options of {@link ConstantLR}.
 *
 * Formula: `lr(t) = baseLr · factor` while `t < totalIters`, then `baseLr`.
 *
 * @example
 * ```ts
 * const options: ConstantLROptions = { baseLr: 0.1, factor: 0.5, totalIters: 4 };
 * ```
 */
export interface ConstantLROptions {
  /** Base learning rate, or one per parameter group. Default `1e-3`. */
  readonly baseLr?: number | readonly number[];
  /** Factor applied during the first `totalIters` epochs, `>= 0`. Default `1/3`. */
  readonly factor?: number;
  /** Epochs the factor applies, an integer `>= 0`. Default `5`. */
  readonly totalIters?: number;
  /** The epoch to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * A constant factor for the first `totalIters` epochs, then the base rate:
 *
 * `lr(t) = baseLr · factor` when `t < totalIters`, else `baseLr`
 *
 * @example
 * ```ts
 * const s = new ConstantLR({ baseLr: 0.1, factor: 0.5, totalIters: 4 });
 * // epochs 0-3: 0.05, epochs 4+: 0.1
 * ```
 */
export class ConstantLR extends EpochSchedule {
  readonly name = 'ConstantLR';
  readonly baseLrs: readonly number[];
  /** Factor during the first `totalIters` epochs. */
  readonly factor: number;
  /** Epochs the factor applies. */
  readonly totalIters: number;
  readonly #baseLr: number | number[];

  constructor(options: ConstantLROptions = {}) {
    const o = new ArgReader('ConstantLR', options, ['baseLr', 'factor', 'totalIters', 'lastEpoch']);
    const baseLr = o.rates('baseLr', 1e-3);
    const factor = o.number('factor', 1 / 3, { min: 0 });
    const totalIters = o.integer('totalIters', 5, { min: 0 });
    const lastEpoch = o.lastEpoch();
    super();
    this.#baseLr = baseLr.given;
    this.baseLrs = baseLr.rates;
    this.factor = factor;
    this.totalIters = totalIters;
    this.initialize(lastEpoch);
  }

  protected lrsAt(epoch: number): number[] {
    const factor = epoch < this.totalIters ? this.factor : 1;
    return this.baseLrs.map((lr) => lr * factor);
  }

  protected specArgs(): Record<string, unknown> {
    return { baseLr: copyRates(this.#baseLr), factor: this.factor, totalIters: this.totalIters };
  }
}
