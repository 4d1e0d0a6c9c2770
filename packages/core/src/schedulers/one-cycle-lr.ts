import { RectifyError } from '../errors.js';
import { ArgReader, copyRates } from './args.js';
import { EpochSchedule } from './base.js';

/** The annealing shapes of {@link OneCycleLR}. */
export type OneCycleAnnealStrategy = 'cos' | 'linear';

/**
 * Options of {@link OneCycleLR}. Give `totalSteps`, or both `epochs` and `stepsPerEpoch`.
 *
 * Formula: linear rise `maxLr / divFactor → maxLr` over `pctStart · totalSteps` steps, then a cosine (or linear) descent to `maxLr / finalDivFactor` at `totalSteps`.
 *
 * @example
 * ```ts
 * const options: OneCycleLROptions = { maxLr: 0.05, epochs: 4, stepsPerEpoch: 5, annealStrategy: 'linear' };
 * ```
 */
export interface OneCycleLROptions {
  /** Peak learning rate, or one per parameter group. Default `1e-2`. */
  readonly maxLr?: number | readonly number[];
  /** Length of the cycle in steps, an integer `>= 1`; takes precedence over `epochs · stepsPerEpoch`. */
  readonly totalSteps?: number | null;
  /** Epochs of training, an integer `>= 1` (with `stepsPerEpoch`, when `totalSteps` is absent). */
  readonly epochs?: number | null;
  /** Steps per epoch, an integer `>= 1` (with `epochs`, when `totalSteps` is absent). */
  readonly stepsPerEpoch?: number | null;
  /** Fraction of the cycle spent rising, in `(0, 1)`. Default `0.3`. */
  readonly pctStart?: number;
  /** Shape of the descent. Default `'cos'`. */
  readonly annealStrategy?: OneCycleAnnealStrategy;
  /** `initialLr = maxLr / divFactor`, `> 0`. Default `25`. */
  readonly divFactor?: number;
  /** `minLr = maxLr / finalDivFactor`, `> 0`. Default `1e4`. */
  readonly finalDivFactor?: number;
  /** The step to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * The 1cycle policy (two phases, as in the reference). With `T = totalSteps`,
 * `W = pctStart · T`, `initialLr = maxLr / divFactor`, `minLr = maxLr / finalDivFactor`:
 *
 * - `t <= W`: `lr(t) = initialLr + (maxLr − initialLr) · t / W`
 * - `t > W`: with `p = min((t − W) / ((1 − pctStart) · T), 1)` and
 *   `a = (1 + cos(π·p)) / 2` (`'cos'`) or `a = 1 − p` (`'linear'`):
 *   `lr(t) = minLr + (maxLr − minLr) · a` (so `minLr` from step `T` on)
 *
 * @example
 * ```ts
 * const s = new OneCycleLR({ maxLr: 0.1, totalSteps: 20, pctStart: 0.3 });
 * // step 0: 0.004, step 6: 0.1, steps 20+: 1e-5
 * ```
 */
export class OneCycleLR extends EpochSchedule {
  readonly name = 'OneCycleLR';
  /** The initial rates `maxLr / divFactor` (the reference's `base_lrs`). */
  readonly baseLrs: readonly number[];
  /** Peak rates, one per group. */
  readonly maxLrs: readonly number[];
  /** Final rates `maxLr / finalDivFactor`, one per group. */
  readonly minLrs: readonly number[];
  /** Length of the cycle in steps. */
  readonly totalSteps: number;
  /** Fraction of the cycle spent rising. */
  readonly pctStart: number;
  /** Shape of the descent. */
  readonly annealStrategy: OneCycleAnnealStrategy;
  /** `maxLr / initialLr`. */
  readonly divFactor: number;
  /** `maxLr / minLr`. */
  readonly finalDivFactor: number;
  readonly #maxLr: number | number[];
  readonly #length: { totalSteps?: number; epochs?: number; stepsPerEpoch?: number };

  constructor(options: OneCycleLROptions = {}) {
    const o = new ArgReader('OneCycleLR', options, [
      'maxLr',
      'totalSteps',
      'epochs',
      'stepsPerEpoch',
      'pctStart',
      'annealStrategy',
      'divFactor',
      'finalDivFactor',
      'lastEpoch',
    ]);
    const maxLr = o.rates('maxLr', 1e-2);
    const totalSteps = o.optionalInteger('totalSteps', { min: 1 });
    const epochs = o.optionalInteger('epochs', { min: 1 });
    const stepsPerEpoch = o.optionalInteger('stepsPerEpoch', { min: 1 });
    let total: number;
    if (totalSteps !== undefined) {
      if (epochs !== undefined && stepsPerEpoch !== undefined && epochs * stepsPerEpoch !== totalSteps) {
        throw new RectifyError(
          'INVALID_OPTION',
          `OneCycleLR: totalSteps (${totalSteps}) contradicts epochs × stepsPerEpoch (${epochs} × ${stepsPerEpoch}); give one or the other.`,
          'totalSteps',
        );
      }
      total = totalSteps;
    } else {
      if (epochs === undefined || stepsPerEpoch === undefined) {
        const missing = epochs === undefined ? 'epochs' : 'stepsPerEpoch';
        throw new RectifyError(
          'INVALID_OPTION',
          `OneCycleLR: give totalSteps, or both epochs and stepsPerEpoch (${missing} is missing).`,
          epochs === undefined && stepsPerEpoch === undefined ? 'totalSteps' : missing,
        );
      }
      total = epochs * stepsPerEpoch;
    }
    const pctStart = o.number('pctStart', 0.3, { above: 0, below: 1 });
    const annealStrategy = o.choice<OneCycleAnnealStrategy>('annealStrategy', 'cos', ['cos', 'linear']);
    const divFactor = o.number('divFactor', 25, { above: 0 });
    const finalDivFactor = o.number('finalDivFactor', 1e4, { above: 0 });
    const lastEpoch = o.lastEpoch();
    super();
    this.#maxLr = maxLr.given;
    this.#length = {
      ...(totalSteps !== undefined ? { totalSteps } : {}),
      ...(epochs !== undefined ? { epochs } : {}),
      ...(stepsPerEpoch !== undefined ? { stepsPerEpoch } : {}),
    };
    this.maxLrs = maxLr.rates;
    this.baseLrs = Object.freeze(maxLr.rates.map((lr) => lr / divFactor));
    this.minLrs = Object.freeze(maxLr.rates.map((lr) => lr / finalDivFactor));
    this.totalSteps = total;
    this.pctStart = pctStart;
    this.annealStrategy = annealStrategy;
    this.divFactor = divFactor;
    this.finalDivFactor = finalDivFactor;
    this.initialize(lastEpoch);
  }

  protected lrsAt(epoch: number): number[] {
    const warmup = this.pctStart * this.totalSteps;
    if (epoch <= warmup) {
      const pct = Math.min(epoch / warmup, 1);
      return this.baseLrs.map((lr, i) => lr + pct * ((this.maxLrs[i] ?? lr) - lr));
    }
    const pct = Math.min(Math.max((epoch - warmup) / ((1 - this.pctStart) * this.totalSteps), 0), 1);
    const factor = this.annealStrategy === 'cos' ? (1 + Math.cos(Math.PI * pct)) / 2 : 1 - pct;
    return this.minLrs.map((lr, i) => lr + factor * ((this.maxLrs[i] ?? lr) - lr));
  }

  protected specArgs(): Record<string, unknown> {
    return {
      maxLr: copyRates(this.#maxLr),
      ...this.#length,
      pctStart: this.pctStart,
      annealStrategy: this.annealStrategy,
      divFactor: this.divFactor,
      finalDivFactor: this.finalDivFactor,
    };
  }
}
