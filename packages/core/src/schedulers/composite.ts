/**
 * What `ChainedScheduler` and `SequentialLR` share: resolving children (instances or
 * specs), group broadcasting, and state dicts that carry the children's states and are
 * validated completely (children included) before anything changes.
 *
 * @internal
 * @module
 */
import { RectifyError } from '../errors.js';
import type { ArgReader} from './args.js';
import { broadcastGroups, describeValue, isPlainRecord } from './args.js';
import { SchedulerBase, type Commit, type StateReader } from './base.js';
import { createScheduler } from './create-scheduler.js';
import { isLearningRateScheduler, isSchedulerSpec, type LearningRateScheduler, type SchedulerSpec } from './scheduler.js';

/** A child of a composite: an instance, or a spec built with {@link createScheduler}. */
export type ChildScheduler = LearningRateScheduler | SchedulerSpec;

/** Re-throws an error raised for child `index` with the child's position in message and parameter. */
export function rethrowForChild(owner: string, index: number, error: unknown): never {
  if (error instanceof RectifyError) {
    const where = `schedulers[${index}]`;
    throw new RectifyError(
      error.code,
      `${owner}: ${where}: ${error.message}`,
      error.parameter === undefined ? where : `${where}.${error.parameter}`,
    );
  }
  throw error;
}

/** Validates and builds the children list of a composite. */
export function resolveChildren(reader: ArgReader): LearningRateScheduler[] {
  const owner = reader.owner;
  const raw = reader.raw('schedulers');
  if (!Array.isArray(raw) || raw.length === 0) {
    reader.fail('schedulers', 'a non-empty list of schedulers or scheduler specs', raw);
  }
  const children: LearningRateScheduler[] = [];
  raw.forEach((entry: unknown, index: number) => {
    let child: LearningRateScheduler;
    if (isLearningRateScheduler(entry)) {
      child = entry;
    } else if (isSchedulerSpec(entry)) {
      try {
        child = createScheduler(entry);
      } catch (error) {
        rethrowForChild(owner, index, error);
      }
    } else {
      throw new RectifyError(
        'INVALID_OPTION',
        `${owner}: schedulers[${index}] must be a scheduler or a spec { scheduler, args }, got ${describeValue(entry)}.`,
        `schedulers[${index}]`,
      );
    }
    if (children.includes(child)) {
      throw new RectifyError(
        'INVALID_OPTION',
        `${owner}: schedulers[${index}] is the same instance as an earlier entry; each child is stepped by the composite and must appear once.`,
        `schedulers[${index}]`,
      );
    }
    children.push(child);
  });
  return children;
}

/** The common group count of `children`: each has one rate or the common number. */
export function childGroupCount(owner: string, children: readonly LearningRateScheduler[]): number {
  return broadcastGroups(
    owner,
    children.map((child, index) => [`schedulers[${index}]`, child.getLastLr()] as const),
  );
}

/**
 * A child's reference rates (the reference's `base_lrs`): `baseLrs` of a built-in
 * scheduler (or of any object exposing such a list), else its current rates.
 */
export function referenceRates(child: LearningRateScheduler): number[] {
  const own = (child as { baseLrs?: unknown }).baseLrs;
  if (Array.isArray(own) && own.length > 0 && own.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return [...(own as number[])];
  }
  return child.getLastLr();
}

/**
 * Runs `action`, which steps or loads children not built into this library; if it throws,
 * their states from before are restored, so the composite is left unchanged.
 */
export function withRollback(foreign: readonly LearningRateScheduler[], action: () => void): void {
  const snapshots = foreign.map((child) => child.stateDict());
  try {
    action();
  } catch (error) {
    foreign.forEach((child, i) => {
      const snapshot = snapshots[i];
      if (snapshot !== undefined) child.loadStateDict(snapshot);
    });
    throw error;
  }
}

/**
 * Base of the composites: owns the children, their specs and states. Subclasses combine
 * the children's rates in {@link CompositeScheduler.combine}.
 */
export abstract class CompositeScheduler extends SchedulerBase {
  /** The children, in order. */
  readonly schedulers: readonly LearningRateScheduler[];
  /** The number of parameter groups. */
  protected readonly groups: number;

  protected constructor(owner: string, children: LearningRateScheduler[]) {
    super();
    this.schedulers = children;
    this.groups = childGroupCount(owner, children);
  }

  /** The children's rates combined at `epoch` (after a commit of the children). */
  protected abstract combine(epoch: number): number[];

  override get requiresMetric(): boolean {
    return this.schedulers.some((child) => child instanceof SchedulerBase && child.requiresMetric);
  }

  /**
   * Prepares an action on every child: built-in children are validated now, others
   * (anything implementing the interface) are run first at commit, under rollback.
   */
  protected prepareChildren(
    children: readonly LearningRateScheduler[],
    builtIn: (child: SchedulerBase, index: number) => Commit,
    foreign: (child: LearningRateScheduler, index: number) => void,
  ): Commit {
    const commits: Commit[] = [];
    const others: Array<[LearningRateScheduler, number]> = [];
    children.forEach((child) => {
      const index = this.schedulers.indexOf(child);
      if (child instanceof SchedulerBase) {
        try {
          commits.push(builtIn(child, index));
        } catch (error) {
          rethrowForChild(this.name, index, error);
        }
      } else {
        others.push([child, index]);
      }
    });
    return () => {
      withRollback(
        others.map(([child]) => child),
        () => others.forEach(([child, index]) => foreign(child, index)),
      );
      commits.forEach((commit) => commit());
    };
  }

  /**
   * Prepares moving `children` to epoch `epochOf(index)` (the reference's `step(epoch)`):
   * built-in children jump; others can only move forward, by calling `step()`.
   */
  protected prepareChildJumps(children: readonly LearningRateScheduler[], epochOf: (index: number) => number): Commit {
    children.forEach((child) => {
      const index = this.schedulers.indexOf(child);
      const target = epochOf(index);
      if (!(child instanceof SchedulerBase) && child.lastEpoch > target) {
        throw new RectifyError(
          'INVALID_OPTION',
          `${this.name}: schedulers[${index}] is at epoch ${child.lastEpoch} and cannot be moved back to epoch ${target}; only built-in schedulers can.`,
          `schedulers[${index}]`,
        );
      }
    });
    return this.prepareChildren(
      children,
      (child, index) => child.prepareJump(epochOf(index)),
      (child, index) => {
        for (let e = child.lastEpoch; e < epochOf(index); e += 1) child.step();
      },
    );
  }

  protected specArgs(): Record<string, unknown> {
    return { schedulers: this.schedulers.map((child) => child.toSpec()) };
  }

  protected override extraState(): Record<string, unknown> {
    return { schedulers: this.schedulers.map((child) => child.stateDict()) };
  }

  protected override extraStateKeys(): readonly string[] {
    return ['schedulers'];
  }

  /** Loads every child's state (all validated first); the rates are recomputed from them. */
  protected prepareLoadFrom(reader: StateReader, epoch: number, _lastLr: number[]): Commit {
    const states = reader.list('schedulers', this.schedulers.length);
    states.forEach((state, index) => {
      if (!isPlainRecord(state)) reader.fail(`schedulers[${index}]`, 'a scheduler state dict', state);
    });
    const loadChildren = this.prepareChildren(
      this.schedulers,
      (child, index) => child.prepareLoad(states[index]),
      (child, index) => child.loadStateDict(states[index] as Record<string, unknown>),
    );
    return () => {
      loadChildren();
      this.setProgress(epoch, this.combine(epoch));
    };
  }
}
