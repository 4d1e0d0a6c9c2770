/**
 * Argument validation shared by every scheduler constructor: one reader per constructor
 * call copies the options (see {@link copyIn}), checks the option names first (rejecting
 * typos with a hint), then each value, and throws
 * `RectifyError('INVALID_OPTION', message, argumentName)` on the first problem.
 *
 * @internal
 * @module
 */
import { RectifyError, type RectifyErrorCode } from '../errors.js';
import { copyInput } from '../input-copy.js';
import { describeValue, isPlainRecord, suggestName } from '../values.js';
import { isLearningRateScheduler } from './scheduler.js';

export { describeValue, isPlainRecord, suggestName };

/**
 * The `args` of a spec inside a private copy (made by {@link copyIn}), handed by
 * `buildScheduler` to the constructor it calls: that constructor's reader takes it
 * without another copy, so a composite spec is copied once, not once per level. (A
 * token rather than a set of copies: a million children would fill a `WeakSet`.)
 */
let privateCopy: object | undefined;

/**
 * Runs `build` (a constructor call whose first act is an {@link ArgReader} of `args`)
 * with `args`, a part of a private copy, taken without another copy.
 */
export function withPrivateCopy<T>(args: object, build: () => T): T {
  privateCopy = args;
  try {
    return build();
  } finally {
    privateCopy = undefined;
  }
}

/**
 * A deep copy of caller-supplied scheduler input (a spec, options or a state dict), made
 * with `copyInput`: each own enumerable key is read once (a getter runs once; keys
 * inherited from `Object.prototype` are absent) and objects come out with a null
 * prototype, so later edits by the caller change nothing here. Only plain data is
 * copied: scheduler instances (a composite steps the very instances it was given) and
 * other non-plain objects (a `Date`, a typed array) are kept by reference, for the
 * validation that follows to accept or reject as themselves.
 *
 * @throws RectifyError with `code` when `value` nests deeper than `MAX_INPUT_DEPTH` (64)
 *   levels, a cycle included, or a getter throws; the message starts with `owner`.
 */
export function copyIn<V>(value: V, code: RectifyErrorCode, root: string, owner: string): V {
  try {
    // Every context key is given, so none is read from Object.prototype.
    return copyInput(value, { code, root, keep: isOpaque });
  } catch (error) {
    if (!(error instanceof RectifyError)) throw error;
    throw new RectifyError(error.code, `${owner}: ${error.message}`, error.parameter, { cause: error.cause });
  }
}

/** `true` for what {@link copyIn} keeps by reference. */
function isOpaque(value: unknown): boolean {
  return isLearningRateScheduler(value) || !(Array.isArray(value) || isPlainRecord(value));
}

/** Bounds for a numeric argument; every bound is optional. */
export interface NumberBounds {
  /** Smallest allowed value (inclusive). */
  readonly min?: number;
  /** Largest allowed value (inclusive). */
  readonly max?: number;
  /** Values must be strictly greater than this. */
  readonly above?: number;
  /** Values must be strictly smaller than this. */
  readonly below?: number;
}

/** A learning-rate argument as given (`number` or list) and as a list of rates. */
export interface RateArgument {
  /** The argument as the caller wrote it (a list is copied). */
  readonly given: number | number[];
  /** One rate per parameter group (frozen). */
  readonly rates: readonly number[];
}

/**
 * Reads one constructor's options object. Construction copies the object (caller edits
 * made later change nothing; only own keys count: a key inherited from
 * `Object.prototype` is absent) and rejects unknown names; each accessor then validates
 * one argument, applying the reference default when it is absent (`undefined`; `null`
 * too for optional arguments). Integers are safe integers (at most `2^53 − 1`), so epoch
 * counters always count.
 */
export class ArgReader {
  readonly #owner: string;
  readonly #raw: Readonly<Record<string, unknown>>;

  constructor(owner: string, raw: unknown, known: readonly string[]) {
    this.#owner = owner;
    if (raw === undefined) {
      this.#raw = {};
      return;
    }
    if (!isPlainRecord(raw)) {
      throw new RectifyError(
        'INVALID_OPTION',
        `${owner}: the options must be an object of named arguments, got ${describeValue(raw)}.`,
      );
    }
    // The token is taken by the first reader only: the children a composite builds next
    // get their own tokens.
    const args = raw === privateCopy ? raw : copyIn(raw, 'INVALID_SCHEDULER', 'options', owner);
    privateCopy = undefined;
    for (const key of Object.keys(args)) {
      if (known.includes(key)) continue;
      const hint = suggestName(key, known);
      const advice = hint === undefined ? '' : ` Did you mean "${hint}"?`;
      const camel = key.includes('_') ? ' Arguments are written in camelCase.' : '';
      throw new RectifyError(
        'INVALID_OPTION',
        `${owner}: unknown argument "${key}".${advice}${camel} Known arguments: ${known.join(', ')}.`,
        key,
      );
    }
    this.#raw = args;
  }

  /** The scheduler class name this reader reports in messages. */
  get owner(): string {
    return this.#owner;
  }

  /** `true` when `key` was given (not `undefined`, not `null`). */
  has(key: string): boolean {
    const value = this.#raw[key];
    return value !== undefined && value !== null;
  }

  /** The raw value of `key`. */
  raw(key: string): unknown {
    return this.#raw[key];
  }

  /**
   * Throws `INVALID_OPTION` for argument `key`; `label` names the faulty part in the
   * message (`baseLr[1]` for an entry of a list), the error's `parameter` is `key`.
   */
  fail(key: string, requirement: string, value: unknown = this.#raw[key], label: string = key): never {
    throw new RectifyError(
      'INVALID_OPTION',
      `${this.#owner}: ${label} must be ${requirement}, got ${describeValue(value)}.`,
      key,
    );
  }

  /** A finite number within `bounds`. */
  number(key: string, fallback: number, bounds: NumberBounds = {}): number {
    const value = this.#raw[key];
    if (value === undefined) return fallback;
    return this.checkNumber(key, value, bounds, false);
  }

  /** An integer within `bounds`. */
  integer(key: string, fallback: number, bounds: NumberBounds = {}): number {
    const value = this.#raw[key];
    if (value === undefined) return fallback;
    return this.checkNumber(key, value, bounds, true);
  }

  /** A finite number within `bounds`, or `undefined` when absent or `null`. */
  optionalNumber(key: string, bounds: NumberBounds = {}): number | undefined {
    return this.has(key) ? this.checkNumber(key, this.#raw[key], bounds, false) : undefined;
  }

  /** An integer within `bounds`, or `undefined` when absent or `null`. */
  optionalInteger(key: string, bounds: NumberBounds = {}): number | undefined {
    return this.has(key) ? this.checkNumber(key, this.#raw[key], bounds, true) : undefined;
  }

  /** `true` or `false`. */
  boolean(key: string, fallback: boolean): boolean {
    const value = this.#raw[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') this.fail(key, 'true or false');
    return value;
  }

  /** One of `choices`. */
  choice<T extends string>(key: string, fallback: T, choices: readonly T[]): T {
    const value = this.#raw[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      this.fail(key, `one of ${choices.map((c) => `"${c}"`).join(', ')}`);
    }
    return value as T;
  }

  /** A function, or `undefined` when absent or `null`. */
  optionalFunction<F>(key: string): F | undefined {
    if (!this.has(key)) return undefined;
    const value = this.#raw[key];
    if (typeof value !== 'function') this.fail(key, 'a function');
    return value as F;
  }

  /**
   * A learning rate or a list of them (one per parameter group): finite, `>= 0`, a
   * non-empty list.
   */
  rates(key: string, fallback: number): RateArgument {
    const value = this.#raw[key];
    if (value === undefined) return { given: fallback, rates: Object.freeze([fallback]) };
    if (typeof value === 'number') {
      const rate = this.checkNumber(key, value, { min: 0 }, false, 'a finite number >= 0 or a non-empty list of them');
      return { given: rate, rates: Object.freeze([rate]) };
    }
    if (!Array.isArray(value) || value.length === 0) this.fail(key, 'a finite number >= 0 or a non-empty list of them');
    const rates = value.map((entry: unknown, i: number) =>
      this.checkNumber(key, entry, { min: 0 }, false, undefined, `${key}[${i}]`),
    );
    return { given: [...rates], rates: Object.freeze(rates) };
  }

  /** A list of finite numbers (each within `bounds`), frozen. */
  numberList(key: string, fallback: readonly number[], bounds: NumberBounds = {}): readonly number[] {
    const value = this.#raw[key];
    if (value === undefined) return Object.freeze([...fallback]);
    if (!Array.isArray(value)) this.fail(key, 'a list of numbers');
    return Object.freeze(
      value.map((entry: unknown, i: number) => this.checkNumber(key, entry, bounds, false, undefined, `${key}[${i}]`)),
    );
  }

  /**
   * A list of integers `>= min`, in increasing order (`strict`: no repeats), non-empty
   * unless `allowEmpty`; frozen. Checked in one pass (a list may hold a million entries).
   */
  integerList(
    key: string,
    fallback: readonly number[],
    options: { readonly min: number; readonly strict: boolean; readonly allowEmpty: boolean },
  ): readonly number[] {
    const value = this.#raw[key];
    const list = value === undefined ? [...fallback] : value;
    if (!Array.isArray(list)) this.fail(key, 'a list of integers');
    if (list.length === 0 && !options.allowEmpty) this.fail(key, 'a non-empty list of integers');
    const out = list.map((entry: unknown, i: number) =>
      this.checkNumber(key, entry, { min: options.min }, true, undefined, `${key}[${i}]`),
    );
    for (let i = 1; i < out.length; i += 1) {
      const previous = out[i - 1] ?? 0;
      const current = out[i] ?? 0;
      if (current < previous || (options.strict && current === previous)) {
        this.fail(key, options.strict ? 'sorted in strictly increasing order' : 'sorted in increasing order', list);
      }
    }
    return Object.freeze(out);
  }

  /** The reference's `last_epoch`: the epoch to start from, an integer `>= 0` (default 0). */
  lastEpoch(): number {
    return this.integer('lastEpoch', 0, { min: 0 });
  }

  /** Validates one number (finite, optionally a safe integer, within bounds). */
  checkNumber(
    key: string,
    value: unknown,
    bounds: NumberBounds,
    integer: boolean,
    requirement?: string,
    label: string = key,
  ): number {
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!integer || Number.isSafeInteger(value)) &&
      (bounds.min === undefined || value >= bounds.min) &&
      (bounds.max === undefined || value <= bounds.max) &&
      (bounds.above === undefined || value > bounds.above) &&
      (bounds.below === undefined || value < bounds.below);
    // The requirement is only put into words on failure: lists of a million entries are
    // checked one number at a time.
    if (!ok) this.fail(key, requirement ?? describeRequirement(integer, bounds, value), value, label);
    return value as number;
  }
}

function describeRequirement(integer: boolean, bounds: NumberBounds, value: unknown): string {
  const parts: string[] = [];
  if (bounds.min !== undefined) parts.push(`>= ${bounds.min}`);
  if (bounds.above !== undefined) parts.push(`> ${bounds.above}`);
  if (bounds.below !== undefined) parts.push(`< ${bounds.below}`);
  if (bounds.max !== undefined) parts.push(`<= ${bounds.max}`);
  if (integer && Number.isInteger(value) && !Number.isSafeInteger(value)) parts.push(`<= ${Number.MAX_SAFE_INTEGER}`);
  const kind = integer ? 'an integer' : 'a finite number';
  return parts.length === 0 ? kind : `${kind} ${parts.join(' and ')}`;
}

/**
 * The common group count of per-group lists, given their lengths: every list has one
 * entry (shared by all groups) or the common count, set by the first list with several
 * entries (so a list that disagrees with an earlier one is the one blamed). Throws
 * `INVALID_OPTION` naming the offending argument, `nameOf(index)` (only named on failure:
 * a composite may have a million children).
 */
export function broadcastGroups(owner: string, lengths: readonly number[], nameOf: (index: number) => string): number {
  let groups = 1;
  lengths.forEach((length, index) => {
    if (length === 1) return;
    if (groups === 1) {
      groups = length;
    } else if (length !== groups) {
      const name = nameOf(index);
      throw new RectifyError(
        'INVALID_OPTION',
        `${owner}: ${name} has ${length} entries but the scheduler has ${groups} parameter groups; give one value or one per group.`,
        name,
      );
    }
  });
  return groups;
}

/** Entry `i` of a list broadcast from length 1. */
export function at(list: readonly number[], i: number): number {
  return list.length === 1 ? (list[0] ?? 0) : (list[i] ?? 0);
}

/** `list` broadcast to `groups` entries (a one-entry list is repeated), frozen. */
export function broadcast(list: readonly number[], groups: number): readonly number[] {
  return Object.freeze(Array.from({ length: groups }, (_, i) => at(list, i)));
}

/**
 * How many entries of `sorted` (in increasing order) are `<= value`: a binary search, so
 * a step costs `O(log n)` for a million milestones.
 */
export function countAtMost(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] ?? Infinity) <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** A copy of a rate argument as given (lists are copied). */
export function copyRates(given: number | readonly number[]): number | number[] {
  return typeof given === 'number' ? given : [...given];
}
