import { ArgReader, copyRates } from './args.js';
import { EpochSchedule } from './base.js';

/**
 * Options of {@link LinearLR}.
 *
 * Formula: `lr(t) = baseLr · (startFactor + (endFactor − startFactor) · min(t / totalIters, 1))`.
 *
 * @example
 * ```ts
 * const options: LinearLROptions = { baseLr: 0.1, startFactor: 0.25, endFactor: 1, totalIters: 6 };
 * ```
 */
export interface LinearLROptions {
  /** Base learning rate, or one per parameter group. Default `1e-3`. */
  readonly baseLr?: number | readonly number[];
  /** Factor of `baseLr` at epoch 0, `>= 0`. Default `1/3`. */
  readonly startFactor?: number;
  /** Factor of `baseLr` from `totalIters` on, `>= 0`. Default `1`. */
  readonly endFactor?: number;
  /** Epochs of the linear ramp, an integer `>= 0` (0: `endFactor` at once). Default `5`. */
  readonly totalIters?: number;
  /** The epoch to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * Scales `baseLr` by a factor moving linearly from `startFactor` to `endFactor`:
 *
 * `lr(t) = baseLr · (startFactor + (endFactor − startFactor) · min(t / totalIters, 1))`
 * (`baseLr · endFactor` when `totalIters` is 0)
 *
 * @example
 * ```ts
 * const s = new LinearLR({ baseLr: 0.1, startFactor: 0.25, endFactor: 1, totalIters: 6 });
 * // epoch 0: 0.025, epoch 3: 0.0625, epochs 6+: 0.1
 * ```
 */
export class LinearLR extends EpochSchedule {
  readonly name = 'LinearLR';
  readonly baseLrs: readonly number[];
  /** Factor at epoch 0. */
  readonly startFactor: number;
  /** Factor from `totalIters` on. */
  readonly endFactor: number;
  /** Epochs of the ramp. */
  readonly totalIters: number;
  readonly #baseLr: number | number[];

  constructor(options: LinearLROptions = {}) {
    const o = new ArgReader('LinearLR', options, ['baseLr', 'startFactor', 'endFactor', 'totalIters', 'lastEpoch']);
    const baseLr = o.rates('baseLr', 1e-3);
    const startFactor = o.number('startFactor', 1 / 3, { min: 0 });
    const endFactor = o.number('endFactor', 1, { min: 0 });
    const totalIters = o.integer('totalIters', 5, { min: 0 });
    const lastEpoch = o.lastEpoch();
    super();
    this.#baseLr = baseLr.given;
    this.baseLrs = baseLr.rates;
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.initialize(lastEpoch);
  }

  protected lrsAt(epoch: number): number[] {
    const progress = this.totalIters === 0 ? 1 : Math.min(Math.max(epoch / this.totalIters, 0), 1);
    const factor = this.totalIters === 0 ? this.endFactor : this.startFactor + (this.endFactor - this.startFactor) * progress;
    return this.baseLrs.map((lr) => lr * factor);
  }

  protected specArgs(): Record<string, unknown> {
    return {
      baseLr: copyRates(this.#baseLr),
      startFactor: this.startFactor,
      endFactor: this.endFactor,
      totalIters: this.totalIters,
    };
  }
}
