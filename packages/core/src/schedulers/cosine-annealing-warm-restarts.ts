import { ArgReader, copyRates } from './args.js';
import { EpochSchedule } from './base.js';

/**
 * Options of {@link CosineAnnealingWarmRestarts}.
 *
 * Formula: `lr(t) = etaMin + (baseLr − etaMin) · (1 + cos(π · tCur / tI)) / 2`, cycles of `t0 · tMult^k` epochs.
 *
 * @example
 * ```ts
 * const options: CosineAnnealingWarmRestartsOptions = { baseLr: 0.1, t0: 4, tMult: 2, etaMin: 0.001 };
 * ```
 */
export interface CosineAnnealingWarmRestartsOptions {
  /** Learning rate at the start of every cycle, or one per parameter group. Default `1e-3`. */
  readonly baseLr?: number | readonly number[];
  /** Length of the first cycle in epochs, an integer `>= 1` (the reference's `T_0`). Default `10`. */
  readonly t0?: number;
  /** Factor by which each cycle is longer than the previous, an integer `>= 1` (`T_mult`). Default `1`. */
  readonly tMult?: number;
  /** Minimum learning rate (`eta_min`), `>= 0`. Default `0`. */
  readonly etaMin?: number;
  /** The epoch to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * SGDR: cosine annealing that restarts at `baseLr` after each cycle, cycles lasting
 * `t0, t0·tMult, t0·tMult², …` epochs. With `tCur` the epochs since the last restart and
 * `tI` the current cycle length:
 *
 * `lr(t) = etaMin + (baseLr − etaMin) · (1 + cos(π · tCur / tI)) / 2`
 *
 * The rate is a function of the epoch alone, so it matches stepping one epoch at a time.
 *
 * @example
 * ```ts
 * const s = new CosineAnnealingWarmRestarts({ baseLr: 0.1, t0: 4, tMult: 2, etaMin: 0.001 });
 * // restarts at epochs 4, 12, 28, …
 * ```
 */
export class CosineAnnealingWarmRestarts extends EpochSchedule {
  readonly name = 'CosineAnnealingWarmRestarts';
  readonly baseLrs: readonly number[];
  /** Length of the first cycle. */
  readonly t0: number;
  /** Growth factor of the cycle length. */
  readonly tMult: number;
  /** Minimum learning rate. */
  readonly etaMin: number;
  readonly #baseLr: number | number[];

  constructor(options: CosineAnnealingWarmRestartsOptions = {}) {
    const o = new ArgReader('CosineAnnealingWarmRestarts', options, ['baseLr', 't0', 'tMult', 'etaMin', 'lastEpoch']);
    const baseLr = o.rates('baseLr', 1e-3);
    const t0 = o.integer('t0', 10, { min: 1 });
    const tMult = o.integer('tMult', 1, { min: 1 });
    const etaMin = o.number('etaMin', 0, { min: 0 });
    const lastEpoch = o.lastEpoch();
    super();
    this.#baseLr = baseLr.given;
    this.baseLrs = baseLr.rates;
    this.t0 = t0;
    this.tMult = tMult;
    this.etaMin = etaMin;
    this.initialize(lastEpoch);
  }

  /** `[tCur, tI]` at `epoch`: the epochs since the last restart and the current cycle length. */
  cycleAt(epoch: number): [number, number] {
    if (this.tMult === 1) return [epoch % this.t0, this.t0];
    let start = 0;
    let length = this.t0;
    while (epoch >= start + length) {
      start += length;
      length *= this.tMult;
    }
    return [epoch - start, length];
  }

  protected lrsAt(epoch: number): number[] {
    const [tCur, tI] = this.cycleAt(epoch);
    const factor = (1 + Math.cos((Math.PI * tCur) / tI)) / 2;
    return this.baseLrs.map((lr) => this.etaMin + (lr - this.etaMin) * factor);
  }

  protected specArgs(): Record<string, unknown> {
    return { baseLr: copyRates(this.#baseLr), t0: this.t0, tMult: this.tMult, etaMin: this.etaMin };
  }
}
