import { RectifyError } from '../errors.js';
import { ArgReader, broadcast, countAtMost } from './args.js';
import { SchedulerBase, type Commit } from './base.js';
import { CompositeScheduler, referenceRates, resolveChildren, type ChildScheduler } from './composite.js';

/**
 * Options of {@link SequentialLR}.
 *
 * Formula: `lr(t) = lr_i(t − milestones[i − 1])` with `i = |{ m ∈ milestones : m <= t }|`.
 *
 * @example
 * ```ts
 * const options: SequentialLROptions = { schedulers: [{ scheduler: 'LinearLR', args: { baseLr: 0.1, startFactor: 0.1, totalIters: 5 } }, { scheduler: 'CosineAnnealingLR', args: { baseLr: 0.1, tMax: 15 } }], milestones: [5] };
 * ```
 */
export interface SequentialLROptions {
  /**
   * The schedulers to run one after the other: instances, or specs `{ scheduler, args }`
   * (in a JSON spec, always specs); one more than `milestones`. `ReduceLROnPlateau` (or a
   * composite holding one) is not allowed: it is driven by metrics, not epochs. Any number
   * of them (building, saving and loading are linear in it, a step costs `O(log n)`);
   * composites nest at most `MAX_SCHEDULER_NESTING` (16) levels.
   */
  readonly schedulers: readonly ChildScheduler[];
  /** Epochs at which the next scheduler takes over: integers `>= 0`, strictly increasing. */
  readonly milestones: readonly number[];
  /** The epoch to start from, an integer `>= 0`. Default `0`. */
  readonly lastEpoch?: number;
}

/**
 * Runs `schedulers[i]` from `milestones[i − 1]` (or 0) until `milestones[i]`, each on its
 * own clock: at epoch `t` the active child `i` (the number of milestones `<= t`) is moved
 * to the milestone-relative epoch `t − milestones[i − 1]` (so each phase starts at its
 * child's epoch 0), and
 *
 * `lr(t) = lr_i(t − milestones[i − 1])`
 *
 * @example
 * ```ts
 * const s = new SequentialLR({
 *   schedulers: [
 *     { scheduler: 'LinearLR', args: { baseLr: 0.1, startFactor: 0.1, endFactor: 1, totalIters: 5 } },
 *     { scheduler: 'CosineAnnealingLR', args: { baseLr: 0.1, tMax: 15 } },
 *   ],
 *   milestones: [5],
 * });
 * // epochs 0-4: warmup 0.01 → 0.082, epoch 5: 0.1, then cosine decay to 0 at epoch 20
 * ```
 */
export class SequentialLR extends CompositeScheduler {
  readonly name = 'SequentialLR';
  readonly baseLrs: readonly number[];
  /** The epochs at which the next child takes over. */
  readonly milestones: readonly number[];

  constructor(options: SequentialLROptions) {
    const o = new ArgReader('SequentialLR', options, ['schedulers', 'milestones', 'lastEpoch']);
    const children = resolveChildren(o);
    const milestones = o.integerList('milestones', [], { min: 0, strict: true, allowEmpty: true });
    if (milestones.length !== children.length - 1) {
      throw new RectifyError(
        'INVALID_OPTION',
        `SequentialLR: milestones must have one entry fewer than schedulers (${children.length} schedulers, so ${children.length - 1} milestones), got ${milestones.length}.`,
        'milestones',
      );
    }
    children.forEach((child, index) => {
      if (child instanceof SchedulerBase && child.requiresMetric) {
        throw new RectifyError(
          'INVALID_OPTION',
          `SequentialLR: schedulers[${index}] (${child.name}) is driven by step(metric) and cannot be sequenced by epochs.`,
          `schedulers[${index}]`,
        );
      }
    });
    const lastEpoch = o.lastEpoch();
    super('SequentialLR', children);
    this.milestones = milestones;
    this.baseLrs = children[0] === undefined ? [] : broadcast(referenceRates(children[0]), this.groups);
    this.recordStart(lastEpoch);
    if (lastEpoch === 0) {
      this.setProgress(0, this.combine(0));
    } else {
      this.prepareJump(lastEpoch)();
    }
  }

  protected override specArgs(): Record<string, unknown> {
    return { ...super.specArgs(), milestones: [...this.milestones] };
  }

  /** The index of the child active at `epoch` (a binary search over the milestones). */
  activeIndex(epoch: number): number {
    return countAtMost(this.milestones, epoch);
  }

  protected combine(epoch: number): readonly number[] {
    const child = this.schedulers[this.activeIndex(epoch)];
    return broadcast(child?.getLastLr() ?? [], this.groups);
  }

  /** @internal */
  prepareStep(_metric: number | undefined): Commit {
    return this.prepareJump(this.lastEpoch + 1);
  }

  /** @internal Moves the child active at `epoch` to its milestone-relative epoch. */
  prepareJump(epoch: number): Commit {
    const index = this.activeIndex(epoch);
    const child = this.schedulers[index];
    const relative = epoch - (index === 0 ? 0 : (this.milestones[index - 1] ?? 0));
    if (child === undefined) return () => this.setProgress(epoch, this.combine(epoch));
    const move = this.prepareChildJumps([index], () => relative);
    return () => {
      move();
      this.setProgress(epoch, this.combine(epoch));
    };
  }
}
