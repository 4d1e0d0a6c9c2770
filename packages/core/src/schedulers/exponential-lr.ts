import { ArgReader, copyRates } from './args.js';
import { EpochSchedule } from './base.js';

/**
 * Options of {@link ExponentialLR}.
 *
 * Formula: `lr(t) = baseLr · gamma^t`.
 *
 * @example
 * ```ts
 * const options: ExponentialLROptions = { baseLr: 0.05, gamma: 0.9 };
 * ```
 */
export interface ExponentialLROptions {
  /** Initial learning rate, or one per parameter group. Default `1e-3`. */
  readonly baseLr?: number | readonly number[];
  /** Multiplicative decay factor per epoch, `>= 0`. Default `0.95`. */
  readonly gamma?: number;
  /** The epoch to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * Decays every rate by `gamma` every epoch:
 *
 * `lr(t) = baseLr · gamma^t`
 *
 * @example
 * ```ts
 * const s = new ExponentialLR({ baseLr: 0.05, gamma: 0.9 });
 * s.step(); s.getLastLr(); // [0.045]
 * ```
 */
export class ExponentialLR extends EpochSchedule {
  readonly name = 'ExponentialLR';
  readonly baseLrs: readonly number[];
  /** Multiplicative decay factor per epoch. */
  readonly gamma: number;
  readonly #baseLr: number | number[];

  constructor(options: ExponentialLROptions = {}) {
    const o = new ArgReader('ExponentialLR', options, ['baseLr', 'gamma', 'lastEpoch']);
    const baseLr = o.rates('baseLr', 1e-3);
    const gamma = o.number('gamma', 0.95, { min: 0 });
    const lastEpoch = o.lastEpoch();
    super();
    this.#baseLr = baseLr.given;
    this.baseLrs = baseLr.rates;
    this.gamma = gamma;
    this.initialize(lastEpoch);
  }

  protected lrsAt(epoch: number): number[] {
    const factor = this.gamma ** epoch;
    return this.baseLrs.map((lr) => lr * factor);
  }

  protected specArgs(): Record<string, unknown> {
    return { baseLr: copyRates(this.#baseLr), gamma: this.gamma };
  }
}
