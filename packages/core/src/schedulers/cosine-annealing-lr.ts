import { ArgReader, copyRates } from './args.js';
import { EpochSchedule } from './base.js';

/**
 * Options of {@link CosineAnnealingLR}.
 *
 * Formula: `lr(t) = etaMin + (baseLr − etaMin) · (1 + cos(π · min(t, tMax) / tMax)) / 2`.
 *
 * @example
 * ```ts
 * const options: CosineAnnealingLROptions = { baseLr: 0.1, tMax: 10, etaMin: 0.001 };
 * ```
 */
export interface CosineAnnealingLROptions {
  /** Initial (maximum) learning rate, or one per parameter group. Default `1e-3`. */
  readonly baseLr?: number | readonly number[];
  /** Epochs of the half cosine, an integer `>= 1` (the reference's `T_max`). Default `50`. */
  readonly tMax?: number;
  /** Minimum learning rate, reached at `tMax` and held after (`eta_min`), `>= 0`. Default `0`. */
  readonly etaMin?: number;
  /** The epoch to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * Cosine annealing from `baseLr` to `etaMin` over `tMax` epochs, then held at `etaMin`:
 *
 * `lr(t) = etaMin + (baseLr − etaMin) · (1 + cos(π · min(t, tMax) / tMax)) / 2`
 *
 * @example
 * ```ts
 * const s = new CosineAnnealingLR({ baseLr: 0.1, tMax: 10, etaMin: 0.001 });
 * // epoch 5: 0.0505, epochs 10+: 0.001
 * ```
 */
export class CosineAnnealingLR extends EpochSchedule {
  readonly name = 'CosineAnnealingLR';
  readonly baseLrs: readonly number[];
  /** Epochs of the half cosine. */
  readonly tMax: number;
  /** Minimum learning rate. */
  readonly etaMin: number;
  readonly #baseLr: number | number[];

  constructor(options: CosineAnnealingLROptions = {}) {
    const o = new ArgReader('CosineAnnealingLR', options, ['baseLr', 'tMax', 'etaMin', 'lastEpoch']);
    const baseLr = o.rates('baseLr', 1e-3);
    const tMax = o.integer('tMax', 50, { min: 1 });
    const etaMin = o.number('etaMin', 0, { min: 0 });
    const lastEpoch = o.lastEpoch();
    super();
    this.#baseLr = baseLr.given;
    this.baseLrs = baseLr.rates;
    this.tMax = tMax;
    this.etaMin = etaMin;
    this.initialize(lastEpoch);
  }

  protected lrsAt(epoch: number): number[] {
    const factor = (1 + Math.cos((Math.PI * Math.min(epoch, this.tMax)) / this.tMax)) / 2;
    return this.baseLrs.map((lr) => this.etaMin + (lr - this.etaMin) * factor);
  }

  protected specArgs(): Record<string, unknown> {
    return { baseLr: copyRates(this.#baseLr), tMax: this.tMax, etaMin: this.etaMin };
  }
}
