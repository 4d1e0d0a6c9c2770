import type { DType, HostArray } from '../backend.js';
import { RectifyError } from '../errors.js';
import {
  resolveGroupOptions,
  resolveOptimizerOptions,
  type GroupOptions,
  type NonFinitePolicy,
  type ResolvedGroupOptions,
} from '../options.js';
import { formatShape, sizeOf } from '../params.js';
import { isLearningRateScheduler, type LearningRateScheduler, type SchedulerState } from '../schedulers/scheduler.js';
import { FLOAT32_LIMIT } from '../kernels/typed-array-kernels.js';
import { decodeArray } from './encoding.js';
import { STATE_TENSOR_ROLES, type StateTensorInfo, type StateTensorRole } from './state-stream.js';
import { STATE_DICT_FORMAT, STATE_DICT_VERSION } from './state-dict.js';

/** What the optimizer currently has, as far as loading needs to know. */
export interface LoadTarget {
  /** Parameter names of each group, in order. */
  readonly groups: readonly (readonly string[])[];
  /** Element count of each parameter by name. */
  readonly sizes: ReadonlyMap<string, number>;
  /** The backend's element type: a float32 backend cannot hold moments beyond ±3.4e38. */
  readonly dtype: DType;
}

/** A fully validated state dict, decoded and ready to apply without any further check. */
export interface LoadPlan {
  readonly nonFinite: NonFinitePolicy;
  readonly defaults: ResolvedGroupOptions;
  readonly groups: readonly { readonly overrides: GroupOptions; readonly options: ResolvedGroupOptions }[];
  readonly stepCount: number;
  readonly skippedSteps: number;
  /** Each registered parameter's restored step count. */
  readonly steps: ReadonlyMap<string, number>;
  /** The tensors to read, checked against the optimizer (every moment; parameters where saved). */
  readonly tensors: readonly StateTensorInfo[];
  /** How each tensor's data must look: see {@link checkStateTensor}. */
  readonly rules: TensorRules;
  /** Schedulers built from the dict and already loaded with its progress. */
  readonly schedulers: readonly LearningRateScheduler[];
}

function corrupt(message: string, parameter?: string): RectifyError {
  return new RectifyError('INVALID_STATE_DICT', `Invalid state dict: ${message}`, parameter);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw corrupt(`"${field}" must be a non-negative integer, got ${JSON.stringify(value)}.`, field);
  }
  return value;
}


/** How the arrays of a state must look to load into a backend. */
export interface TensorRules {
  readonly dtype: DType;
  /** Under `nonFinite: 'propagate'` NaN and ±Infinity are legitimate state: it loads back. */
  readonly allowNonFinite: boolean;
  /** Element count of each parameter by name. */
  readonly sizes: ReadonlyMap<string, number>;
}

/**
 * Checks one piece of a tensor read from a state source, elements `begin … end` of it: a
 * float typed array of `end - begin` elements whose values the backend can hold (finite
 * unless the state's policy is `'propagate'`, within float32's range on a float32
 * backend, second moments `>= 0`). Returns the data.
 *
 * @throws RectifyError `INVALID_STATE_DICT` naming `name.role` and the first bad element.
 */
export function checkStatePiece(info: StateTensorInfo, data: unknown, begin: number, end: number, rules: TensorRules): HostArray {
  const where = `${info.name}.${info.role}`;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    throw corrupt(`${where} is not a valid array (got ${Object.prototype.toString.call(data)}).`, where);
  }
  const array = data;
  if (array.length !== end - begin) {
    throw corrupt(`${where}: elements ${begin} to ${end} read as ${array.length} elements, not ${end - begin}.`, where);
  }
  const nonNegative = info.role === 'secondMoment';
  const limit = rules.dtype === 'float32' ? FLOAT32_LIMIT : Infinity;
  for (let i = 0; i < array.length; i++) {
    const x = array[i]!;
    if (nonNegative && x < 0) throw corrupt(`${where}[${begin + i}] is ${x}; a second moment is >= 0.`, where);
    if (Number.isFinite(x)) {
      if (!(Math.abs(x) < limit)) {
        throw corrupt(`${where}[${begin + i}] is ${x}, beyond what a ${rules.dtype} backend holds (it would become Infinity).`, where);
      }
    } else if (!rules.allowNonFinite) {
      throw corrupt(`${where}[${begin + i}] is ${x}; state must be finite (unless the dict's nonFinite policy is 'propagate').`, where);
    }
  }
  return array;
}

/**
 * Reads an array of a state dict entry: a typed array (binary form) or an
 * {@link EncodedArray}; `elements` long when given.
 */
export function decodeStateArray(value: unknown, where: string, elements?: number): HostArray {
  const array = value instanceof Float32Array || value instanceof Float64Array ? value : decodeArray(value);
  if (array === undefined) throw corrupt(`${where} is not a valid encoded array.`, where);
  if (elements !== undefined && array.length !== elements) throw corrupt(`${where} has ${array.length} elements, the parameter has ${elements}.`, where);
  return array;
}


/** Re-raises an option error found inside a state dict as a state-dict error. */
function asStateError<R>(where: string, build: () => R): R {
  try {
    return build();
  } catch (error) {
    if (error instanceof RectifyError && error.code !== 'INVALID_STATE_DICT') {
      throw corrupt(`${where}: ${error.message}`, error.parameter);
    }
    throw error;
  }
}

/**
 * Loads the dict's scheduler progress into the scheduler that resolving the dict's options
 * just built from its spec: a fresh object, so nothing live is touched before the load.
 */
function restoredOptions(
  options: ResolvedGroupOptions,
  schedulerState: unknown,
  where: string,
  schedulers: LearningRateScheduler[],
): ResolvedGroupOptions {
  const scheduler = options.lr;
  if (!isLearningRateScheduler(scheduler)) return options;
  if (!isRecord(schedulerState)) throw corrupt(`${where} has a scheduler but no "schedulerState".`, where);
  asStateError(where, () => scheduler.loadStateDict(schedulerState as SchedulerState));
  schedulers.push(scheduler);
  return options;
}

/** State dicts are JSON: a learning rate in one is a number or a spec, never a live object. */
function assertSerializedLr(options: Record<string, unknown>, where: string): void {
  if (isLearningRateScheduler(options.lr)) {
    throw corrupt(`${where}.lr must be a number or a scheduler spec, not a scheduler object.`, where);
  }
}

/**
 * Validates a state's metadata and its list of tensors against `target`, without touching
 * the optimizer or reading any tensor data. Throws `UNSUPPORTED_STATE_VERSION`,
 * `SHAPE_MISMATCH` or `INVALID_STATE_DICT` naming the first problem found.
 */
export function planStateLoad(dict: unknown, tensors: unknown, target: LoadTarget): LoadPlan {
  if (!isRecord(dict)) throw corrupt('expected an object.');
  if (dict.format !== STATE_DICT_FORMAT) {
    throw corrupt(`"format" must be "${STATE_DICT_FORMAT}", got ${JSON.stringify(dict.format)}.`, 'format');
  }
  if (dict.version !== STATE_DICT_VERSION) {
    throw new RectifyError(
      'UNSUPPORTED_STATE_VERSION',
      `State dict version ${JSON.stringify(dict.version)} is not supported; this release reads version ${STATE_DICT_VERSION}.`,
      'version',
    );
  }
  if (!isRecord(dict.options)) throw corrupt('"options" is missing.', 'options');
  if (!Array.isArray(dict.groups)) throw corrupt('"groups" is missing.', 'groups');
  if (!isRecord(dict.params)) throw corrupt('"params" is missing.', 'params');
  const stepCount = count(dict.stepCount, 'stepCount');
  const skippedSteps = count(dict.skippedSteps, 'skippedSteps');

  const schedulers: LearningRateScheduler[] = [];
  assertSerializedLr(dict.options, 'options');
  const optimizer = asStateError('options', () => resolveOptimizerOptions(dict.options as never));
  const defaults = restoredOptions(optimizer.group, dict.schedulerState, 'options', schedulers);

  if (dict.groups.length !== target.groups.length) {
    throw corrupt(`it has ${dict.groups.length} parameter groups, the optimizer has ${target.groups.length}.`, 'groups');
  }
  const groups = dict.groups.map((group: unknown, g) => {
    const where = `groups[${g}]`;
    if (!isRecord(group) || !isRecord(group.overrides) || !Array.isArray(group.params)) {
      throw corrupt(`${where} must be { overrides, params }.`, where);
    }
    const expected = target.groups[g]!;
    const names = group.params as unknown[];
    if (names.length !== expected.length || names.some((name, i) => name !== expected[i])) {
      throw corrupt(
        `${where} holds parameters ${JSON.stringify(names)}, the optimizer's group holds ${JSON.stringify(expected)}.`,
        where,
      );
    }
    assertSerializedLr(group.overrides, where);
    const overrides = group.overrides as GroupOptions;
    const resolved = asStateError(where, () => resolveGroupOptions(overrides, defaults));
    // A group that inherits the optimizer's scheduler shares it; only its own is restored here.
    const ownsScheduler = overrides.lr !== undefined && isLearningRateScheduler(resolved.lr);
    const options = ownsScheduler ? restoredOptions(resolved, group.schedulerState, where, schedulers) : resolved;
    return { overrides: ownsScheduler ? { ...overrides, lr: options.lr } : overrides, options };
  });

  const steps = new Map<string, number>();
  for (const name of Object.keys(dict.params)) {
    if (!target.sizes.has(name)) throw corrupt(`it has state for "${name}", which is not registered.`, name);
  }
  for (const [name, size] of target.sizes) {
    const entry = Object.hasOwn(dict.params, name) ? dict.params[name] : undefined;
    if (!isRecord(entry)) throw corrupt(`it has no state for the parameter "${name}".`, name);
    if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw corrupt(`"${name}.shape" must be a list of non-negative integers.`, name);
    }
    if (sizeOf(entry.shape as number[]) !== size) {
      throw new RectifyError(
        'SHAPE_MISMATCH',
        `State for "${name}" has shape ${formatShape(entry.shape as number[])} (${sizeOf(entry.shape as number[])} elements); the parameter has ${size}.`,
        name,
      );
    }
    steps.set(name, count(entry.step, `${name}.step`));
  }
  return {
    nonFinite: optimizer.nonFinite,
    defaults,
    groups,
    stepCount,
    skippedSteps,
    steps,
    tensors: checkTensorList(tensors, target),
    rules: { dtype: target.dtype, allowNonFinite: optimizer.nonFinite === 'propagate', sizes: target.sizes },
    schedulers,
  };
}

/** Every moment of every registered parameter once, parameters at most once, nothing else. */
function checkTensorList(tensors: unknown, target: LoadTarget): StateTensorInfo[] {
  if (!Array.isArray(tensors)) throw corrupt('its list of tensors is missing.', 'tensors');
  const seen = new Set<string>();
  const list: StateTensorInfo[] = [];
  for (const candidate of tensors as unknown[]) {
    if (!isRecord(candidate) || typeof candidate.name !== 'string' || !STATE_TENSOR_ROLES.includes(candidate.role as StateTensorRole)) {
      throw corrupt('a tensor entry must be { name, role, dtype, shape }.', 'tensors');
    }
    const name = candidate.name;
    const role = candidate.role as StateTensorRole;
    const where = `${name}.${role}`;
    if (!target.sizes.has(name)) throw corrupt(`it has ${where}, but "${name}" is not registered.`, name);
    if (seen.has(where)) throw corrupt(`it has ${where} twice.`, where);
    seen.add(where);
    const dtype = candidate.dtype === 'float64' ? 'float64' : 'float32';
    const shape = Array.isArray(candidate.shape) ? (candidate.shape as unknown[]) : undefined;
    if (shape === undefined || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw corrupt(`${where} has no valid shape.`, where);
    }
    if (sizeOf(shape as number[]) !== target.sizes.get(name)) {
      throw new RectifyError(
        'SHAPE_MISMATCH',
        `${where} has shape ${formatShape(shape as number[])}; the parameter has ${target.sizes.get(name)} elements.`,
        name,
      );
    }
    list.push({ name, role, dtype, shape: [...(shape as number[])] });
  }
  for (const name of target.sizes.keys()) {
    for (const role of ['firstMoment', 'secondMoment'] as const) {
      if (!seen.has(`${name}.${role}`)) throw corrupt(`it has no ${role} for the parameter "${name}".`, `${name}.${role}`);
    }
  }
  return list;
}
