import { RectifyError } from '../errors.js';
import { ArgReader, broadcast, broadcastGroups, copyRates, describeValue } from './args.js';
import { SchedulerBase, type Commit, type StateReader } from './base.js';

/** Whether the monitored metric should go down (`'min'`) or up (`'max'`). */
export type PlateauMode = 'min' | 'max';

/** How {@link ReduceLROnPlateauOptions.threshold} measures an improvement. */
export type PlateauThresholdMode = 'rel' | 'abs';

/**
 * Options of {@link ReduceLROnPlateau}.
 *
 * Formula: on a plateau (more than `patience` epochs without improvement), `lr ← max(lr · factor, minLr)` per group.
 *
 * @example
 * ```ts
 * const options: ReduceLROnPlateauOptions = { baseLr: 0.1, mode: 'max', factor: 0.2, patience: 1, threshold: 0.05, thresholdMode: 'abs', cooldown: 2 };
 * ```
 */
export interface ReduceLROnPlateauOptions {
  /** Initial learning rate, or one per parameter group. Default `1e-3`. */
  readonly baseLr?: number | readonly number[];
  /** Direction of improvement of the metric. Default `'min'`. */
  readonly mode?: PlateauMode;
  /** Factor applied to the rates on a plateau, in `(0, 1)`. Default `0.1`. */
  readonly factor?: number;
  /** Epochs without improvement tolerated before reducing, an integer `>= 0`. Default `10`. */
  readonly patience?: number;
  /** Minimal change counted as an improvement, `>= 0`. Default `1e-4`. */
  readonly threshold?: number;
  /** `'rel'`: compare with `best · (1 ∓ threshold)`; `'abs'`: with `best ∓ threshold`. Default `'rel'`. */
  readonly thresholdMode?: PlateauThresholdMode;
  /** Epochs ignored entirely after a reduction, an integer `>= 0`. Default `0`. */
  readonly cooldown?: number;
  /** Lower bound of the rates, `>= 0`: one for all groups or one per group. Default `0`. */
  readonly minLr?: number | readonly number[];
  /** A reduction smaller than this (`old − new <= eps`) is skipped, `>= 0`. Default `1e-8`. */
  readonly eps?: number;
  /** The epoch counter to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * Reduces the rates when a metric stops improving; call `step(metric)` once per epoch.
 *
 * A metric improves on `best` when (`'min'`) `metric < best · (1 − threshold)` (`'rel'`) or
 * `metric < best − threshold` (`'abs'`); for `'max'`, `metric > best · (1 + threshold)` or
 * `metric > best + threshold`. While the cooldown counter is positive, a step only counts
 * it down. Otherwise an improvement sets `best = metric` and resets the bad-epoch count,
 * anything else increments it, and once it exceeds `patience`:
 *
 * `lr ← max(lr · factor, minLr)` per group (skipped when the change is `<= eps`), the
 * bad-epoch count resets and the cooldown counter is set to `cooldown`.
 *
 * @example
 * ```ts
 * const s = new ReduceLROnPlateau({ baseLr: 0.1, factor: 0.5, patience: 2, minLr: [0.01, 0.001] });
 * for (const loss of [1, 0.9, 0.95, 0.95, 0.95]) s.step(loss);
 * s.getLastLr(); // [0.05, 0.05] (with baseLr [0.1, 0.1] broadcast over the two minLr groups)
 * ```
 */
export class ReduceLROnPlateau extends SchedulerBase {
  readonly name = 'ReduceLROnPlateau';
  readonly baseLrs: readonly number[];
  /** Direction of improvement. */
  readonly mode: PlateauMode;
  /** Reduction factor. */
  readonly factor: number;
  /** Bad epochs tolerated. */
  readonly patience: number;
  /** Improvement threshold. */
  readonly threshold: number;
  /** Threshold mode. */
  readonly thresholdMode: PlateauThresholdMode;
  /** Epochs ignored after a reduction. */
  readonly cooldown: number;
  /** Lower bounds, one per group. */
  readonly minLrs: readonly number[];
  /** Smallest reduction applied. */
  readonly eps: number;
  readonly #baseLr: number | number[];
  readonly #minLr: number | number[];
  #best: number;
  #numBadEpochs = 0;
  #cooldownCounter = 0;

  constructor(options: ReduceLROnPlateauOptions = {}) {
    const o = new ArgReader('ReduceLROnPlateau', options, [
      'baseLr',
      'mode',
      'factor',
      'patience',
      'threshold',
      'thresholdMode',
      'cooldown',
      'minLr',
      'eps',
      'lastEpoch',
    ]);
    const baseLr = o.rates('baseLr', 1e-3);
    const mode = o.choice<PlateauMode>('mode', 'min', ['min', 'max']);
    const factor = o.number('factor', 0.1, { above: 0, below: 1 });
    const patience = o.integer('patience', 10, { min: 0 });
    const threshold = o.number('threshold', 1e-4, { min: 0 });
    const thresholdMode = o.choice<PlateauThresholdMode>('thresholdMode', 'rel', ['rel', 'abs']);
    const cooldown = o.integer('cooldown', 0, { min: 0 });
    const minLr = o.rates('minLr', 0);
    const groups = broadcastGroups('ReduceLROnPlateau', [baseLr.rates.length, minLr.rates.length], (i) =>
      i === 0 ? 'baseLr' : 'minLr',
    );
    const eps = o.number('eps', 1e-8, { min: 0 });
    const lastEpoch = o.lastEpoch();
    super();
    this.#baseLr = baseLr.given;
    this.#minLr = minLr.given;
    this.baseLrs = broadcast(baseLr.rates, groups);
    this.minLrs = broadcast(minLr.rates, groups);
    this.mode = mode;
    this.factor = factor;
    this.patience = patience;
    this.threshold = threshold;
    this.thresholdMode = thresholdMode;
    this.cooldown = cooldown;
    this.eps = eps;
    this.#best = this.#worst;
    this.recordStart(lastEpoch);
    this.setProgress(lastEpoch, this.baseLrs);
  }

  override get requiresMetric(): boolean {
    return true;
  }

  /** The best metric seen so far (`±Infinity` before the first step). */
  get best(): number {
    return this.#best;
  }

  /** Epochs since the last improvement (or reduction). */
  get numBadEpochs(): number {
    return this.#numBadEpochs;
  }

  /** Epochs of cooldown left. */
  get cooldownCounter(): number {
    return this.#cooldownCounter;
  }

  get #worst(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  #isBetter(metric: number, best: number): boolean {
    if (this.mode === 'min') {
      return this.thresholdMode === 'rel' ? metric < best * (1 - this.threshold) : metric < best - this.threshold;
    }
    return this.thresholdMode === 'rel' ? metric > best * (1 + this.threshold) : metric > best + this.threshold;
  }

  /**
   * Records the epoch's `metric` (required: a finite number) and reduces the rates on a
   * plateau.
   *
   * @throws RectifyError `INVALID_OPTION` (parameter `metric`) when `metric` is missing or
   *   not finite; nothing changes then.
   */
  override step(metric?: number): void {
    super.step(metric);
  }

  /** @internal */
  prepareStep(metric: number | undefined): Commit {
    if (typeof metric !== 'number' || !Number.isFinite(metric)) {
      throw new RectifyError(
        'INVALID_OPTION',
        `ReduceLROnPlateau: step(metric) needs the monitored metric as a finite number, got ${describeValue(metric)}.`,
        'metric',
      );
    }
    const inCooldown = this.#cooldownCounter > 0;
    const better = this.#isBetter(metric, this.#best);
    const best = !inCooldown && better ? metric : this.#best;
    const bad = inCooldown ? this.#numBadEpochs : better ? 0 : this.#numBadEpochs + 1;
    const reduce = !inCooldown && bad > this.patience;
    const cooldownCounter = reduce ? this.cooldown : inCooldown ? this.#cooldownCounter - 1 : this.#cooldownCounter;
    const current = this.getLastLr();
    const lrs = reduce
      ? current.map((lr, i) => {
          const reduced = Math.max(lr * this.factor, this.minLrs[i] ?? 0);
          return lr - reduced > this.eps ? reduced : lr;
        })
      : current;
    const epoch = this.lastEpoch + 1;
    return () => {
      this.#best = best;
      this.#numBadEpochs = reduce ? 0 : bad;
      this.#cooldownCounter = cooldownCounter;
      this.setProgress(epoch, lrs);
    };
  }

  /** @internal `ReduceLROnPlateau` is driven by metrics, not epochs. */
  prepareJump(_epoch: number): Commit {
    throw new RectifyError(
      'INVALID_OPTION',
      'ReduceLROnPlateau cannot jump to an epoch: it is driven by step(metric).',
      'schedulers',
    );
  }

  protected specArgs(): Record<string, unknown> {
    return {
      baseLr: copyRates(this.#baseLr),
      mode: this.mode,
      factor: this.factor,
      patience: this.patience,
      threshold: this.threshold,
      thresholdMode: this.thresholdMode,
      cooldown: this.cooldown,
      minLr: copyRates(this.#minLr),
      eps: this.eps,
    };
  }

  /** `best` is `null` while no metric has been seen (the reference's `±inf`, which JSON lacks). */
  protected override extraState(): Record<string, unknown> {
    return {
      best: Number.isFinite(this.#best) ? this.#best : null,
      numBadEpochs: this.#numBadEpochs,
      cooldownCounter: this.#cooldownCounter,
    };
  }

  protected override extraStateKeys(): readonly string[] {
    return ['best', 'numBadEpochs', 'cooldownCounter'];
  }

  /** The rates are restored as stored: they are this scheduler's real state. */
  protected prepareLoadFrom(reader: StateReader, epoch: number, lastLr: number[]): Commit {
    const best = reader.numberOrNull('best');
    const numBadEpochs = reader.integer('numBadEpochs', 0);
    const cooldownCounter = reader.integer('cooldownCounter', 0);
    return () => {
      this.#best = best ?? this.#worst;
      this.#numBadEpochs = numBadEpochs;
      this.#cooldownCounter = cooldownCounter;
      this.setProgress(epoch, lastLr);
    };
  }
}
