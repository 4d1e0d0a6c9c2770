import { ArgReader, copyRates } from './args.js';
import { EpochSchedule } from './base.js';

/**
 * Options of {@link StepLR} (the reference's arguments in camelCase).
 *
 * Formula: `lr(t) = baseLr · gamma^⌊t / stepSize⌋`.
 *
 * @example
 * ```ts
 * const options: StepLROptions = { baseLr: 0.1, stepSize: 3, gamma: 0.5 };
 * ```
 */
export interface StepLROptions {
  /** Initial learning rate, or one per parameter group. Default `1e-3`. */
  readonly baseLr?: number | readonly number[];
  /** Period of the decay in epochs, an integer `>= 1`. Default `30`. */
  readonly stepSize?: number;
  /** Multiplicative decay factor, `>= 0`. Default `0.1`. */
  readonly gamma?: number;
  /** The epoch to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * Decays every rate by `gamma` once every `stepSize` epochs:
 *
 * `lr(t) = baseLr · gamma^⌊t / stepSize⌋`
 *
 * @example
 * ```ts
 * const s = new StepLR({ baseLr: 0.1, stepSize: 3, gamma: 0.5 });
 * s.getLastLr(); // [0.1]; after 3 calls of s.step(): [0.05]
 * ```
 */
export class StepLR extends EpochSchedule {
  readonly name = 'StepLR';
  readonly baseLrs: readonly number[];
  /** Period of the decay in epochs. */
  readonly stepSize: number;
  /** Multiplicative decay factor. */
  readonly gamma: number;
  readonly #baseLr: number | number[];

  constructor(options: StepLROptions = {}) {
    const o = new ArgReader('StepLR', options, ['baseLr', 'stepSize', 'gamma', 'lastEpoch']);
    const baseLr = o.rates('baseLr', 1e-3);
    const stepSize = o.integer('stepSize', 30, { min: 1 });
    const gamma = o.number('gamma', 0.1, { min: 0 });
    const lastEpoch = o.lastEpoch();
    super();
    this.#baseLr = baseLr.given;
    this.baseLrs = baseLr.rates;
    this.stepSize = stepSize;
    this.gamma = gamma;
    this.initialize(lastEpoch);
  }

  protected lrsAt(epoch: number): number[] {
    const factor = this.gamma ** Math.floor(epoch / this.stepSize);
    return this.baseLrs.map((lr) => lr * factor);
  }

  protected specArgs(): Record<string, unknown> {
    return { baseLr: copyRates(this.#baseLr), stepSize: this.stepSize, gamma: this.gamma };
  }
}
