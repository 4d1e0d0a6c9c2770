/**
 * What `ChainedScheduler` and `SequentialLR` share: resolving children (instances or
 * specs), group broadcasting, a nesting limit, and state dicts that carry the children's
 * states and are validated completely (children included) before anything changes.
 *
 * Everything here is linear in the number of children (a composite may hold a million):
 * children are addressed by index, never looked up in the list.
 *
 * @internal
 * @module
 */
import { RectifyError, type RectifyErrorCode } from '../errors.js';
import { broadcastGroups, copyIn, describeValue, isPlainRecord, type ArgReader } from './args.js';
import { SchedulerBase, type Commit, type StateReader } from './base.js';
import { buildScheduler } from './create-scheduler.js';
import { member } from './members.js';
import {
  isLearningRateScheduler,
  isSchedulerSpec,
  type LearningRateScheduler,
  type SchedulerSpec,
  type SchedulerState,
} from './scheduler.js';

/** A child of a composite: an instance, or a spec (built as `createScheduler` builds one). */
export type ChildScheduler = LearningRateScheduler | SchedulerSpec;

/**
 * How deep composites may nest (`SequentialLR` of `ChainedScheduler` of …): a composite of
 * plain schedulers is 1 level, a composite holding one is 2, and so on, up to 16. Real
 * schedules use two or three levels; the limit keeps every recursive call (`step`,
 * `toSpec`, `stateDict`, `loadStateDict`) far from the stack's limit, and the spec and
 * state of the deepest composite within `MAX_INPUT_DEPTH` (64 levels of plain data).
 * A deeper composite is refused with `RectifyError('INVALID_SCHEDULER')`.
 */
export const MAX_SCHEDULER_NESTING = 16;

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

/**
 * Validates and builds the children list of a composite (from the reader's private copy:
 * specs are built without another copy, instances are the caller's own).
 */
export function resolveChildren(reader: ArgReader): LearningRateScheduler[] {
  const owner = reader.owner;
  const raw = reader.raw('schedulers');
  if (!Array.isArray(raw) || raw.length === 0) {
    reader.fail('schedulers', 'a non-empty list of schedulers or scheduler specs', raw);
  }
  // Only instances can repeat: a child built from a spec is new.
  const instances = new Set<LearningRateScheduler>();
  return raw.map((entry: unknown, index: number) => {
    if (!isLearningRateScheduler(entry)) return buildChild(owner, entry, index);
    if (instances.has(entry)) {
      throw new RectifyError(
        'INVALID_OPTION',
        `${owner}: schedulers[${index}] is the same instance as an earlier entry; each child is stepped by the composite and must appear once.`,
        `schedulers[${index}]`,
      );
    }
    instances.add(entry);
    return entry;
  });
}

function buildChild(owner: string, entry: unknown, index: number): LearningRateScheduler {
  if (isSchedulerSpec(entry)) {
    try {
      return buildScheduler(entry);
    } catch (error) {
      rethrowForChild(owner, index, error);
    }
  }
  throw new RectifyError(
    'INVALID_OPTION',
    `${owner}: schedulers[${index}] must be a scheduler or a spec { scheduler, args }, got ${describeValue(entry)}.`,
    `schedulers[${index}]`,
  );
}

/** The common group count of `children`: each has one rate or the common number. */
export function childGroupCount(owner: string, children: readonly LearningRateScheduler[]): number {
  return broadcastGroups(
    owner,
    children.map((child) => (child instanceof SchedulerBase ? child.groupCount : child.getLastLr().length)),
    (index) => `schedulers[${index}]`,
  );
}

/**
 * A child's reference rates (the reference's `base_lrs`): `baseLrs` of a built-in
 * scheduler (or of any object exposing such a list), else its current rates.
 */
export function referenceRates(child: LearningRateScheduler): readonly number[] {
  if (child instanceof SchedulerBase) return child.baseLrs;
  const own = member(child, 'baseLrs');
  if (Array.isArray(own) && own.length > 0 && own.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return [...(own as number[])];
  }
  return child.getLastLr();
}

/**
 * A private copy of what a child not built into this library returned (`toSpec()`,
 * `stateDict()`): it may hand out its own live objects, which must not leak into ours.
 */
function foreignCopy<V>(owner: string, index: number, value: V, code: RectifyErrorCode): V {
  return copyIn(value, code, `schedulers[${index}]`, owner);
}

/**
 * Base of the composites: owns the children, their specs and states. Subclasses combine
 * the children's rates in {@link CompositeScheduler.combine}.
 */
export abstract class CompositeScheduler extends SchedulerBase {
  /** The children, in order (frozen). */
  readonly schedulers: readonly LearningRateScheduler[];
  /** Composite levels, this one included: 1 + the deepest composite child's (see {@link MAX_SCHEDULER_NESTING}). */
  readonly nesting: number;
  /** The number of parameter groups. */
  protected readonly groups: number;
  /** `0, 1, …, n − 1`: every child's index, for actions on all children. */
  protected readonly everyIndex: readonly number[];
  readonly #requiresMetric: boolean;

  protected constructor(owner: string, children: LearningRateScheduler[]) {
    super();
    let deepest = 0;
    for (const child of children) {
      if (child instanceof CompositeScheduler) deepest = Math.max(deepest, child.nesting);
    }
    if (deepest + 1 > MAX_SCHEDULER_NESTING) {
      throw new RectifyError(
        'INVALID_SCHEDULER',
        `${owner}: composites nest at most ${MAX_SCHEDULER_NESTING} levels deep (MAX_SCHEDULER_NESTING); this one would be ${deepest + 1}.`,
        'schedulers',
      );
    }
    this.nesting = deepest + 1;
    this.schedulers = Object.freeze(children);
    this.groups = childGroupCount(owner, children);
    this.everyIndex = Object.freeze(Array.from({ length: children.length }, (_, i) => i));
    this.#requiresMetric = children.some((child) => child instanceof SchedulerBase && child.requiresMetric);
  }

  /** The children's rates combined at `epoch` (after a commit of the children). */
  protected abstract combine(epoch: number): readonly number[];

  override get requiresMetric(): boolean {
    return this.#requiresMetric;
  }

  /**
   * Prepares an action on the children at `indices`: built-in children are validated
   * now, others (anything implementing the interface) are run first at commit, under
   * rollback.
   */
  protected prepareChildren(
    indices: readonly number[],
    builtIn: (child: SchedulerBase, index: number) => Commit,
    foreign: (child: LearningRateScheduler, index: number) => void,
  ): Commit {
    const commits: Commit[] = [];
    const others: Array<readonly [LearningRateScheduler, number]> = [];
    for (const index of indices) {
      const child = this.schedulers[index];
      if (child instanceof SchedulerBase) {
        try {
          commits.push(builtIn(child, index));
        } catch (error) {
          rethrowForChild(this.name, index, error);
        }
      } else if (child !== undefined) {
        others.push([child, index]);
      }
    }
    return () => {
      this.#withRollback(others, () => others.forEach(([child, index]) => foreign(child, index)));
      commits.forEach((commit) => commit());
    };
  }

  /**
   * Runs `action`, which steps or loads children not built into this library; if it
   * throws, their states from before are restored (from private copies: a child's
   * `stateDict()` may be its live state), so the composite is left unchanged.
   */
  #withRollback(children: ReadonlyArray<readonly [LearningRateScheduler, number]>, action: () => void): void {
    const snapshots = children.map(([child, index]) =>
      foreignCopy(this.name, index, child.stateDict(), 'INVALID_STATE_DICT'),
    );
    try {
      action();
    } catch (error) {
      children.forEach(([child], i) => {
        const snapshot = snapshots[i];
        if (snapshot !== undefined) child.loadStateDict(snapshot);
      });
      throw error;
    }
  }

  /**
   * Prepares moving the children at `indices` to epoch `epochOf(index)` (the reference's
   * `step(epoch)`): built-in children jump; others can only move forward, by calling
   * `step()`.
   */
  protected prepareChildJumps(indices: readonly number[], epochOf: (index: number) => number): Commit {
    for (const index of indices) {
      const child = this.schedulers[index];
      const target = epochOf(index);
      if (child !== undefined && !(child instanceof SchedulerBase) && child.lastEpoch > target) {
        throw new RectifyError(
          'INVALID_OPTION',
          `${this.name}: schedulers[${index}] is at epoch ${child.lastEpoch} and cannot be moved back to epoch ${target}; only built-in schedulers can.`,
          `schedulers[${index}]`,
        );
      }
    }
    return this.prepareChildren(
      indices,
      (child, index) => child.prepareJump(epochOf(index)),
      (child, index) => {
        for (let e = child.lastEpoch; e < epochOf(index); e += 1) child.step();
      },
    );
  }

  protected specArgs(): Record<string, unknown> {
    return {
      schedulers: this.schedulers.map((child, index) =>
        child instanceof SchedulerBase ? child.toSpec() : foreignCopy(this.name, index, child.toSpec(), 'INVALID_SCHEDULER'),
      ),
    };
  }

  protected override extraState(): Record<string, unknown> {
    return {
      schedulers: this.schedulers.map((child, index) =>
        child instanceof SchedulerBase
          ? child.stateDict()
          : foreignCopy(this.name, index, child.stateDict(), 'INVALID_STATE_DICT'),
      ),
    };
  }

  protected override extraStateKeys(): readonly string[] {
    return ['schedulers'];
  }

  /**
   * Loads every child's state (all validated first; the states are parts of the private
   * copy made by `loadStateDict`); the rates are recomputed from them.
   */
  protected prepareLoadFrom(reader: StateReader, epoch: number, _lastLr: number[]): Commit {
    const states = reader.list('schedulers', this.schedulers.length);
    states.forEach((state, index) => {
      if (!isPlainRecord(state)) reader.fail(`schedulers[${index}]`, 'a scheduler state dict', state);
    });
    const loadChildren = this.prepareChildren(
      this.everyIndex,
      (child, index) => child.prepareLoad(states[index]),
      (child, index) => child.loadStateDict(states[index] as SchedulerState),
    );
    return () => {
      loadChildren();
      this.setProgress(epoch, this.combine(epoch));
    };
  }
}
