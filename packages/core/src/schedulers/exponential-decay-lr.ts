import { ArgReader, copyRates } from './args.js';
import { EpochSchedule } from './base.js';

/**
 * Options of {@link ExponentialDecayLR} (optax's `exponential_decay`).
 *
 * Formula: `lr(t) = baseLr · decayRate^(max(t − transitionBegin, 0) / decaySteps)` (exponent floored when `staircase`), clamped by `endValue`.
 *
 * @example
 * ```ts
 * const options: ExponentialDecayLROptions = { baseLr: 0.1, decaySteps: 3, decayRate: 0.5, staircase: true, endValue: 0.01 };
 * ```
 */
export interface ExponentialDecayLROptions {
  /** Initial learning rate, or one per parameter group. Default `1e-3`. */
  readonly baseLr?: number | readonly number[];
  /** Steps over which the rate is multiplied by `decayRate` once, an integer `>= 1`. Default `1000`. */
  readonly decaySteps?: number;
  /** The decay rate, `> 0` (`< 1` decays, `> 1` grows). Default `0.96`. */
  readonly decayRate?: number;
  /** Steps the rate is held at `baseLr` before decaying, an integer `>= 0`. Default `0`. */
  readonly transitionBegin?: number;
  /** Decay in discrete jumps every `decaySteps` instead of continuously. Default `false`. */
  readonly staircase?: boolean;
  /**
   * Optional bound: a floor when `decayRate < 1`, a ceiling otherwise. Default none
   * (`null` also means none).
   */
  readonly endValue?: number | null;
  /** The epoch to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * Step-based exponential decay with a delayed start, optional staircase and bound:
 *
 * `p(t) = max(t − transitionBegin, 0) / decaySteps` (floored when `staircase`),
 * `lr(t) = baseLr · decayRate^p(t)`, then clamped to `endValue` (`max` when
 * `decayRate < 1`, `min` otherwise).
 *
 * @example
 * ```ts
 * const s = new ExponentialDecayLR({ baseLr: 0.1, decaySteps: 4, decayRate: 0.5, transitionBegin: 2 });
 * // epochs 0-2: 0.1, epoch 6: 0.05, epoch 10: 0.025
 * ```
 */
export class ExponentialDecayLR extends EpochSchedule {
  readonly name = 'ExponentialDecayLR';
  readonly baseLrs: readonly number[];
  /** Steps per factor of `decayRate`. */
  readonly decaySteps: number;
  /** The decay rate. */
  readonly decayRate: number;
  /** Steps before the decay starts. */
  readonly transitionBegin: number;
  /** Whether the decay is in discrete jumps. */
  readonly staircase: boolean;
  /** The bound, if any. */
  readonly endValue: number | undefined;
  readonly #baseLr: number | number[];

  constructor(options: ExponentialDecayLROptions = {}) {
    const o = new ArgReader('ExponentialDecayLR', options, [
      'baseLr',
      'decaySteps',
      'decayRate',
      'transitionBegin',
      'staircase',
      'endValue',
      'lastEpoch',
    ]);
    const baseLr = o.rates('baseLr', 1e-3);
    const decaySteps = o.integer('decaySteps', 1000, { min: 1 });
    const decayRate = o.number('decayRate', 0.96, { above: 0 });
    const transitionBegin = o.integer('transitionBegin', 0, { min: 0 });
    const staircase = o.boolean('staircase', false);
    const endValue = o.optionalNumber('endValue', { min: 0 });
    const lastEpoch = o.lastEpoch();
    super();
    this.#baseLr = baseLr.given;
    this.baseLrs = baseLr.rates;
    this.decaySteps = decaySteps;
    this.decayRate = decayRate;
    this.transitionBegin = transitionBegin;
    this.staircase = staircase;
    this.endValue = endValue;
    this.initialize(lastEpoch);
  }

  protected lrsAt(epoch: number): number[] {
    const ratio = Math.max(epoch - this.transitionBegin, 0) / this.decaySteps;
    const factor = this.decayRate ** (this.staircase ? Math.floor(ratio) : ratio);
    const bound = this.endValue;
    return this.baseLrs.map((base) => {
      const lr = base * factor;
      if (bound === undefined) return lr;
      return this.decayRate < 1 ? Math.max(lr, bound) : Math.min(lr, bound);
    });
  }

  protected specArgs(): Record<string, unknown> {
    const args: Record<string, unknown> = {
      baseLr: copyRates(this.#baseLr),
      decaySteps: this.decaySteps,
      decayRate: this.decayRate,
      transitionBegin: this.transitionBegin,
      staircase: this.staircase,
    };
    if (this.endValue !== undefined) args['endValue'] = this.endValue;
    return args;
  }
}
