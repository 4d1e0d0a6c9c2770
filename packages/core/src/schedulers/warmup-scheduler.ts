import { ArgReader, copyRates } from './args.js';
import { EpochSchedule } from './base.js';

/**
 * Options of {@link WarmupScheduler}.
 *
 * Formula: `lr(t) = warmupStartLr + (baseLr − warmupStartLr) · min(t / warmupEpochs, 1)`.
 *
 * @example
 * ```ts
 * const options: WarmupSchedulerOptions = { baseLr: 0.1, warmupEpochs: 5, warmupStartLr: 0.001 };
 * ```
 */
export interface WarmupSchedulerOptions {
  /** Learning rate reached after the warmup, or one per parameter group. Default `1e-3`. */
  readonly baseLr?: number | readonly number[];
  /** Epochs of linear warmup, an integer `>= 0` (0: no warmup). Default `5`. */
  readonly warmupEpochs?: number;
  /** Learning rate at epoch 0, `>= 0`. Default `0`. */
  readonly warmupStartLr?: number;
  /** The epoch to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * Linear warmup from `warmupStartLr` to `baseLr` over `warmupEpochs`, then constant:
 *
 * `lr(t) = warmupStartLr + (baseLr − warmupStartLr) · min(t / warmupEpochs, 1)`
 * (`baseLr` when `warmupEpochs` is 0)
 *
 * @example
 * ```ts
 * const s = new WarmupScheduler({ baseLr: 0.1, warmupEpochs: 5, warmupStartLr: 0.001 });
 * // epoch 0: 0.001, epoch 1: 0.0208, epochs 5+: 0.1
 * ```
 */
export class WarmupScheduler extends EpochSchedule {
  readonly name = 'WarmupScheduler';
  readonly baseLrs: readonly number[];
  /** Epochs of warmup. */
  readonly warmupEpochs: number;
  /** Learning rate at epoch 0. */
  readonly warmupStartLr: number;
  readonly #baseLr: number | number[];

  constructor(options: WarmupSchedulerOptions = {}) {
    const o = new ArgReader('WarmupScheduler', options, ['baseLr', 'warmupEpochs', 'warmupStartLr', 'lastEpoch']);
    const baseLr = o.rates('baseLr', 1e-3);
    const warmupEpochs = o.integer('warmupEpochs', 5, { min: 0 });
    const warmupStartLr = o.number('warmupStartLr', 0, { min: 0 });
    const lastEpoch = o.lastEpoch();
    super();
    this.#baseLr = baseLr.given;
    this.baseLrs = baseLr.rates;
    this.warmupEpochs = warmupEpochs;
    this.warmupStartLr = warmupStartLr;
    this.initialize(lastEpoch);
  }

  protected lrsAt(epoch: number): number[] {
    if (this.warmupEpochs === 0) return [...this.baseLrs];
    const alpha = Math.min(epoch / this.warmupEpochs, 1);
    return this.baseLrs.map((lr) => this.warmupStartLr + (lr - this.warmupStartLr) * alpha);
  }

  protected specArgs(): Record<string, unknown> {
    return { baseLr: copyRates(this.#baseLr), warmupEpochs: this.warmupEpochs, warmupStartLr: this.warmupStartLr };
  }
}
