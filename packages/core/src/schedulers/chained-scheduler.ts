import { ArgReader, at, broadcast } from './args.js';
import { type Commit } from './base.js';
import { CompositeScheduler, referenceRates, resolveChildren, type ChildScheduler } from './composite.js';

/**
 * Options of {@link ChainedScheduler}.
 *
 * Formula: `lr = base_0 · Π_k (lr_k / base_k)` per group.
 *
 * @example
 * ```ts
 * const options: ChainedSchedulerOptions = { schedulers: [{ scheduler: 'ConstantLR', args: { baseLr: 0.1, factor: 0.5, totalIters: 3 } }, { scheduler: 'ExponentialLR', args: { baseLr: 0.1, gamma: 0.9 } }] };
 * ```
 */
export interface ChainedSchedulerOptions {
  /**
   * The schedulers to combine, stepped together: instances, or specs `{ scheduler, args }`
   * (in a JSON spec, always specs). Each has one rate or as many as the others. Any number
   * of them (building, saving and loading are linear in it); composites nest at most
   * `MAX_SCHEDULER_NESTING` (16) levels.
   */
  readonly schedulers: readonly ChildScheduler[];
}

/**
 * Applies several schedulers at once, multiplicatively (PyTorch's `ChainedScheduler`
 * semantics, as in the reference): every child is stepped by each `step(metric)` (the
 * metric is passed on), and with `base_k` the reference rates of child `k` and `lr_k` its
 * current rates,
 *
 * `lr = base_0 · Π_k (lr_k / base_k)` per group (a child with `base_k = 0` contributes 0)
 *
 * @example
 * ```ts
 * const s = new ChainedScheduler({
 *   schedulers: [
 *     { scheduler: 'ConstantLR', args: { baseLr: 0.1, factor: 0.5, totalIters: 3 } },
 *     new ExponentialLR({ baseLr: 0.1, gamma: 0.9 }),
 *   ],
 * });
 * // 0.05, 0.045, 0.0405, 0.0729, …
 * ```
 */
export class ChainedScheduler extends CompositeScheduler {
  readonly name = 'ChainedScheduler';
  readonly baseLrs: readonly number[];
  readonly #references: ReadonlyArray<readonly number[]>;

  constructor(options: ChainedSchedulerOptions) {
    const o = new ArgReader('ChainedScheduler', options, ['schedulers']);
    const children = resolveChildren(o);
    super('ChainedScheduler', children);
    this.#references = children.map((child) => broadcast(referenceRates(child), this.groups));
    this.baseLrs = this.#references[0] ?? [];
    this.setProgress(0, this.combine(0));
  }

  protected combine(_epoch: number): readonly number[] {
    const combined = [...this.baseLrs];
    this.schedulers.forEach((child, k) => {
      // Broadcast by index rather than by copy: this runs for every child at every step.
      const current = child.getLastLr();
      const reference = this.#references[k] ?? [];
      for (let i = 0; i < this.groups; i += 1) {
        const base = reference[i] ?? 0;
        combined[i] = (combined[i] ?? 0) * (base !== 0 ? at(current, i) / base : 0);
      }
    });
    return combined;
  }

  /** @internal Steps every child with `metric`. */
  prepareStep(metric: number | undefined): Commit {
    const epoch = this.lastEpoch + 1;
    const children = this.prepareChildren(
      this.everyIndex,
      (child) => child.prepareStep(metric),
      (child) => child.step(metric),
    );
    return () => {
      children();
      this.setProgress(epoch, this.combine(epoch));
    };
  }

  /** @internal Moves every child to `epoch`. */
  prepareJump(epoch: number): Commit {
    const children = this.prepareChildJumps(this.everyIndex, () => epoch);
    return () => {
      children();
      this.setProgress(epoch, this.combine(epoch));
    };
  }
}
