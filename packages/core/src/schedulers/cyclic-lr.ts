import { RectifyError } from '../errors.js';
import { ArgReader, broadcast, broadcastGroups, copyRates, describeValue } from './args.js';
import { EpochSchedule } from './base.js';
import type { SchedulerSpec } from './scheduler.js';

/** The amplitude policies of {@link CyclicLR}. */
export type CyclicLRMode = 'triangular' | 'triangular2' | 'exp_range';

/** What a custom {@link CyclicLROptions.scaleFn} receives: the cycle number, or the epoch. */
export type CyclicLRScaleMode = 'cycle' | 'iterations';

/**
 * Options of {@link CyclicLR}.
 *
 * Formula: `lr(t) = baseLr + (maxLr − baseLr) · scale · max(0, 1 − |t / stepSizeUp − 2·cycle + 1|)`, `cycle = ⌊1 + t / (stepSizeUp + stepSizeDown)⌋`.
 *
 * @example
 * ```ts
 * const options: CyclicLROptions = { baseLr: 0.001, maxLr: 0.01, stepSizeUp: 3, mode: 'exp_range', gamma: 0.9 };
 * ```
 */
export interface CyclicLROptions {
  /** Lower bound of the cycle, or one per parameter group. Default `1e-3`. */
  readonly baseLr?: number | readonly number[];
  /** Upper bound of the cycle, or one per parameter group. Default `1e-2`. */
  readonly maxLr?: number | readonly number[];
  /** Epochs of the rising half, an integer `>= 1`. Default `2000`. */
  readonly stepSizeUp?: number;
  /**
   * Epochs of the falling half, an integer `>= 1`. Default: `stepSizeUp` (also when `null`).
   * It only sets the cycle length `stepSizeUp + stepSizeDown`; see {@link CyclicLR}.
   */
  readonly stepSizeDown?: number | null;
  /** Amplitude policy, ignored when `scaleFn` is given. Default `'triangular'`. */
  readonly mode?: CyclicLRMode;
  /** Base of the `'exp_range'` amplitude `gamma^t`, `>= 0`. Default `1`. */
  readonly gamma?: number;
  /**
   * Custom amplitude `scale = scaleFn(x)`, overriding `mode`; `x` is the cycle number
   * (`scaleMode: 'cycle'`) or the epoch (`'iterations'`). It must return a finite number.
   * A function cannot go in a JSON spec: {@link CyclicLR.toSpec} throws for such a scheduler.
   */
  readonly scaleFn?: ((x: number) => number) | null;
  /** Input of `scaleFn`. Default `'cycle'`. */
  readonly scaleMode?: CyclicLRScaleMode;
  /** The epoch to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * Cyclical learning rates (Smith 2017), with the reference library's formula. With
 * `cycle = ⌊1 + t / (stepSizeUp + stepSizeDown)⌋` and `x = |t / stepSizeUp − 2·cycle + 1|`:
 *
 * `lr(t) = baseLr + (maxLr − baseLr) · scale · max(0, 1 − x)`
 *
 * where `scale` is `1` (`'triangular'`), `1 / 2^(cycle − 1)` (`'triangular2'`),
 * `gamma^t` (`'exp_range'`), or `scaleFn(cycle)` / `scaleFn(t)` for a custom function.
 * As in the reference, both slopes last `stepSizeUp` epochs; when `stepSizeDown` is
 * longer the rate rests at `baseLr` for the rest of the cycle (shorter: the cycle is cut).
 *
 * @example
 * ```ts
 * const s = new CyclicLR({ baseLr: 0.001, maxLr: 0.01, stepSizeUp: 2, mode: 'triangular2' });
 * // 0.001, 0.0055, 0.01, 0.0055, 0.001, 0.00325, 0.0055, …
 * const custom = new CyclicLR({ baseLr: 0.001, maxLr: 0.01, stepSizeUp: 2, scaleFn: (c) => 1 / c });
 * ```
 */
export class CyclicLR extends EpochSchedule {
  readonly name = 'CyclicLR';
  readonly baseLrs: readonly number[];
  /** Upper bounds, one per group. */
  readonly maxLrs: readonly number[];
  /** Epochs of the rising half. */
  readonly stepSizeUp: number;
  /** Epochs of the falling half. */
  readonly stepSizeDown: number;
  /** Amplitude policy. */
  readonly mode: CyclicLRMode;
  /** Base of the `'exp_range'` amplitude. */
  readonly gamma: number;
  /** The custom amplitude function, if any. */
  readonly scaleFn: ((x: number) => number) | undefined;
  /** Input of `scaleFn`. */
  readonly scaleMode: CyclicLRScaleMode;
  readonly #baseLr: number | number[];
  readonly #maxLr: number | number[];

  constructor(options: CyclicLROptions = {}) {
    const o = new ArgReader('CyclicLR', options, [
      'baseLr',
      'maxLr',
      'stepSizeUp',
      'stepSizeDown',
      'mode',
      'gamma',
      'scaleFn',
      'scaleMode',
      'lastEpoch',
    ]);
    const baseLr = o.rates('baseLr', 1e-3);
    const maxLr = o.rates('maxLr', 1e-2);
    const groups = broadcastGroups('CyclicLR', [baseLr.rates.length, maxLr.rates.length], (i) =>
      i === 0 ? 'baseLr' : 'maxLr',
    );
    const stepSizeUp = o.integer('stepSizeUp', 2000, { min: 1 });
    const stepSizeDown = o.optionalInteger('stepSizeDown', { min: 1 }) ?? stepSizeUp;
    const mode = o.choice<CyclicLRMode>('mode', 'triangular', ['triangular', 'triangular2', 'exp_range']);
    const gamma = o.number('gamma', 1, { min: 0 });
    const scaleFn = o.optionalFunction<(x: number) => number>('scaleFn');
    const scaleMode = o.choice<CyclicLRScaleMode>('scaleMode', 'cycle', ['cycle', 'iterations']);
    const lastEpoch = o.lastEpoch();
    super();
    this.#baseLr = baseLr.given;
    this.#maxLr = maxLr.given;
    this.baseLrs = broadcast(baseLr.rates, groups);
    this.maxLrs = broadcast(maxLr.rates, groups);
    this.stepSizeUp = stepSizeUp;
    this.stepSizeDown = stepSizeDown;
    this.mode = mode;
    this.gamma = gamma;
    this.scaleFn = scaleFn;
    this.scaleMode = scaleMode;
    this.initialize(lastEpoch);
  }

  /** The amplitude scale at `epoch` (of cycle `cycle`). */
  #scale(epoch: number, cycle: number): number {
    const fn = this.scaleFn;
    if (fn !== undefined) {
      const scale: unknown = fn(this.scaleMode === 'cycle' ? cycle : epoch);
      if (typeof scale !== 'number' || !Number.isFinite(scale)) {
        throw new RectifyError(
          'INVALID_OPTION',
          `CyclicLR: scaleFn must return a finite number, got ${describeValue(scale)} at epoch ${epoch}.`,
          'scaleFn',
        );
      }
      return scale;
    }
    if (this.mode === 'triangular2') return 1 / 2 ** (cycle - 1);
    if (this.mode === 'exp_range') return this.gamma ** epoch;
    return 1;
  }

  protected lrsAt(epoch: number): number[] {
    const cycle = Math.floor(1 + epoch / (this.stepSizeUp + this.stepSizeDown));
    const x = Math.abs(epoch / this.stepSizeUp - 2 * cycle + 1);
    const scale = this.#scale(epoch, cycle);
    const shape = Math.max(0, 1 - x);
    return this.baseLrs.map((lr, i) => lr + ((this.maxLrs[i] ?? lr) - lr) * scale * shape);
  }

  /**
   * The spec of this scheduler.
   *
   * @throws RectifyError `INVALID_OPTION` (parameter `scaleFn`) when built with a custom
   *   `scaleFn`: a function has no JSON form, and a spec without it would build a
   *   scheduler with a different schedule.
   */
  override toSpec(): SchedulerSpec {
    if (this.scaleFn !== undefined) {
      throw new RectifyError(
        'INVALID_OPTION',
        'CyclicLR: a scheduler with a custom scaleFn has no JSON spec (a function cannot be serialised); rebuild it in code with the same scaleFn instead.',
        'scaleFn',
      );
    }
    return super.toSpec();
  }

  protected specArgs(): Record<string, unknown> {
    return {
      baseLr: copyRates(this.#baseLr),
      maxLr: copyRates(this.#maxLr),
      stepSizeUp: this.stepSizeUp,
      stepSizeDown: this.stepSizeDown,
      mode: this.mode,
      gamma: this.gamma,
      scaleMode: this.scaleMode,
    };
  }
}
