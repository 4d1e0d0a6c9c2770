import { ArgReader, copyRates } from './args.js';
import { EpochSchedule } from './base.js';

/**
 * Options of {@link WarmupCosineSchedule}.
 *
 * Formula: linear warmup `warmupStartLr → baseLr` over `warmupSteps`, then `etaMin + (baseLr − etaMin) · (1 + cos(π · p)) / 2` with `p = min((t − warmupSteps) / (totalSteps − warmupSteps), 1)`.
 *
 * @example
 * ```ts
 * const options: WarmupCosineScheduleOptions = { baseLr: 0.1, warmupSteps: 4, totalSteps: 20, etaMin: 1e-4 };
 * ```
 */
export interface WarmupCosineScheduleOptions {
  /** Peak learning rate (end of warmup), or one per parameter group. Default `1e-3`. */
  readonly baseLr?: number | readonly number[];
  /** Steps of linear warmup, an integer `>= 0`. Default `1000`. */
  readonly warmupSteps?: number;
  /** Step at which the cosine reaches `etaMin`, an integer `>= warmupSteps`. Default `10000`. */
  readonly totalSteps?: number;
  /** Learning rate at step 0, `>= 0`. Default `0`. */
  readonly warmupStartLr?: number;
  /** Final learning rate, held after `totalSteps`, `>= 0`. Default `0`. */
  readonly etaMin?: number;
  /** The epoch to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * Linear warmup, then cosine decay, per group:
 *
 * - `t < warmupSteps`: `lr(t) = warmupStartLr + (baseLr − warmupStartLr) · t / warmupSteps`
 * - otherwise, with `p = min((t − warmupSteps) / max(totalSteps − warmupSteps, 1), 1)`:
 *   `lr(t) = etaMin + (baseLr − etaMin) · (1 + cos(π · p)) / 2`
 *
 * @example
 * ```ts
 * const s = new WarmupCosineSchedule({ baseLr: 0.1, warmupSteps: 4, totalSteps: 20, etaMin: 1e-4 });
 * // step 0: 0, step 2: 0.05, step 4: 0.1, steps 20+: 1e-4
 * ```
 */
export class WarmupCosineSchedule extends EpochSchedule {
  readonly name = 'WarmupCosineSchedule';
  readonly baseLrs: readonly number[];
  /** Steps of warmup. */
  readonly warmupSteps: number;
  /** Step at which the decay ends. */
  readonly totalSteps: number;
  /** Learning rate at step 0. */
  readonly warmupStartLr: number;
  /** Final learning rate. */
  readonly etaMin: number;
  readonly #baseLr: number | number[];

  constructor(options: WarmupCosineScheduleOptions = {}) {
    const o = new ArgReader('WarmupCosineSchedule', options, [
      'baseLr',
      'warmupSteps',
      'totalSteps',
      'warmupStartLr',
      'etaMin',
      'lastEpoch',
    ]);
    const baseLr = o.rates('baseLr', 1e-3);
    const warmupSteps = o.integer('warmupSteps', 1000, { min: 0 });
    const totalSteps = o.integer('totalSteps', 10000, { min: warmupSteps });
    const warmupStartLr = o.number('warmupStartLr', 0, { min: 0 });
    const etaMin = o.number('etaMin', 0, { min: 0 });
    const lastEpoch = o.lastEpoch();
    super();
    this.#baseLr = baseLr.given;
    this.baseLrs = baseLr.rates;
    this.warmupSteps = warmupSteps;
    this.totalSteps = totalSteps;
    this.warmupStartLr = warmupStartLr;
    this.etaMin = etaMin;
    this.initialize(lastEpoch);
  }

  protected lrsAt(epoch: number): number[] {
    if (epoch < this.warmupSteps) {
      const alpha = epoch / this.warmupSteps;
      return this.baseLrs.map((lr) => this.warmupStartLr + (lr - this.warmupStartLr) * alpha);
    }
    const progress = Math.min((epoch - this.warmupSteps) / Math.max(this.totalSteps - this.warmupSteps, 1), 1);
    const factor = (1 + Math.cos(Math.PI * progress)) / 2;
    return this.baseLrs.map((lr) => this.etaMin + (lr - this.etaMin) * factor);
  }

  protected specArgs(): Record<string, unknown> {
    return {
      baseLr: copyRates(this.#baseLr),
      warmupSteps: this.warmupSteps,
      totalSteps: this.totalSteps,
      warmupStartLr: this.warmupStartLr,
      etaMin: this.etaMin,
    };
  }
}
