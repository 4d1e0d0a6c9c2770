import { ArgReader, copyRates } from './args.js';
import { EpochSchedule } from './base.js';

/**
 * Options of {@link PolynomialLR}.
 *
 * Formula: `lr(t) = baseLr · (1 − min(t, totalIters) / totalIters)^power`.
 *
 * @example
 * ```ts
 * const options: PolynomialLROptions = { baseLr: 0.1, totalIters: 8, power: 2 };
 * ```
 */
export interface PolynomialLROptions {
  /** Initial learning rate, or one per parameter group. Default `1e-3`. */
  readonly baseLr?: number | readonly number[];
  /** Epochs until the rate reaches 0, an integer `>= 1`. Default `5`. */
  readonly totalIters?: number;
  /** Power of the polynomial, `>= 0`. Default `1`. */
  readonly power?: number;
  /** The epoch to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * Polynomial decay to zero over `totalIters` epochs:
 *
 * `lr(t) = baseLr · (1 − min(t, totalIters) / totalIters)^power`
 *
 * @example
 * ```ts
 * const s = new PolynomialLR({ baseLr: 0.1, totalIters: 8, power: 2 });
 * // epoch 4: 0.025, epochs 8+: 0
 * ```
 */
export class PolynomialLR extends EpochSchedule {
  readonly name = 'PolynomialLR';
  readonly baseLrs: readonly number[];
  /** Epochs until the rate reaches 0. */
  readonly totalIters: number;
  /** Power of the polynomial. */
  readonly power: number;
  readonly #baseLr: number | number[];

  constructor(options: PolynomialLROptions = {}) {
    const o = new ArgReader('PolynomialLR', options, ['baseLr', 'totalIters', 'power', 'lastEpoch']);
    const baseLr = o.rates('baseLr', 1e-3);
    const totalIters = o.integer('totalIters', 5, { min: 1 });
    const power = o.number('power', 1, { min: 0 });
    const lastEpoch = o.lastEpoch();
    super();
    this.#baseLr = baseLr.given;
    this.baseLrs = baseLr.rates;
    this.totalIters = totalIters;
    this.power = power;
    this.initialize(lastEpoch);
  }

  protected lrsAt(epoch: number): number[] {
    const factor = (1 - Math.min(epoch, this.totalIters) / this.totalIters) ** this.power;
    return this.baseLrs.map((lr) => lr * factor);
  }

  protected specArgs(): Record<string, unknown> {
    return { baseLr: copyRates(this.#baseLr), totalIters: this.totalIters, power: this.power };
  }
}
