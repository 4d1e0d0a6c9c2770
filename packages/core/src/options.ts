import { RectifyError } from './errors.js';
import { describeValue, suggestName } from './values.js';
import { createScheduler } from './schedulers/create-scheduler.js';
import {
  isLearningRateScheduler,
  isSchedulerSpec,
  type LearningRateScheduler,
  type SchedulerSpec,
} from './schedulers/scheduler.js';

/** Which reference implementation's numerics to reproduce (see SPEC.md). */
export type Compat = 'braintools' | 'torch';

/** What a step does with a NaN or infinite gradient. */
export type NonFinitePolicy = 'error' | 'skip' | 'propagate';

/** A learning rate: a constant, a scheduler instance, or a scheduler's JSON spec. */
export type LearningRate = number | LearningRateScheduler | SchedulerSpec;

/**
 * Hyperparameters of one parameter group. Every one of them can be overridden per group
 * through `addParamGroup(params, overrides)`.
 */
export interface GroupOptions {
  /** Learning rate, or a scheduler driving it. Default `1e-3`. */
  lr?: LearningRate;
  /** Decay rates `[β1, β2]` of the first and second moments, each in `[0, 1)`. Default `[0.9, 0.999]`. */
  betas?: readonly [number, number];
  /** Added to the denominator for numerical stability, `>= 0`. Default `1e-8`. */
  eps?: number;
  /** Weight-decay coefficient, `>= 0`. Default `0`. */
  weightDecay?: number;
  /** `true`: decoupled decay `p ← p·(1 − lr·wd)` (AdamW style); `false`: L2 added to the gradient. Default `false`. */
  decoupledWeightDecay?: boolean;
  /** Clip gradients by their global norm to at most this value (`> 0`). Default: no clipping. */
  gradClipNorm?: number | null;
  /** Clip each gradient element to `[−v, v]` (`v > 0`). Default: no clipping. */
  gradClipValue?: number | null;
  /**
   * Rectify once `ρt >= threshold` (`compat: 'braintools'` only; `>= 4`). Default `5`.
   * `threshold: 4` gives the paper's rule. `compat: 'torch'` always uses `ρt > 5`.
   */
  threshold?: number;
  /** Numerics to reproduce. Default `'braintools'`. */
  compat?: Compat;
  /** Ascend instead of descend (the gradient is negated), as in PyTorch. Default `false`. */
  maximize?: boolean;
}

/** Options of the optimizer: the default group's hyperparameters plus step-wide policies. */
export interface RAdamOptions extends GroupOptions {
  /**
   * A NaN or infinite gradient: `'error'` throws `NON_FINITE_GRADIENT` before anything
   * changes; `'skip'` skips the whole step and counts it in `skippedSteps`; `'propagate'`
   * applies it (the non-finite value spreads into parameters). Default `'error'`.
   */
  nonFinite?: NonFinitePolicy;
}

/** Group hyperparameters with every default filled in and every value validated. */
export interface ResolvedGroupOptions {
  readonly lr: number | LearningRateScheduler;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupledWeightDecay: boolean;
  readonly gradClipNorm: number | null;
  readonly gradClipValue: number | null;
  readonly threshold: number;
  readonly compat: Compat;
  readonly maximize: boolean;
}

/** SPEC.md's defaults. */
export const DEFAULT_GROUP_OPTIONS: ResolvedGroupOptions = Object.freeze({
  lr: 1e-3,
  betas: Object.freeze([0.9, 0.999]) as readonly [number, number],
  eps: 1e-8,
  weightDecay: 0,
  decoupledWeightDecay: false,
  gradClipNorm: null,
  gradClipValue: null,
  threshold: 5,
  compat: 'braintools',
  maximize: false,
});

/** The default `nonFinite` policy. */
export const DEFAULT_NON_FINITE: NonFinitePolicy = 'error';

const GROUP_OPTION_NAMES: readonly string[] = Object.keys(DEFAULT_GROUP_OPTIONS);
const TORCH_THRESHOLD = 5;

function invalid(option: string, message: string): RectifyError {
  return new RectifyError('INVALID_OPTION', `Option "${option}" ${message}`, option);
}

function finiteNumber(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(option, `must be a finite number, got ${describeValue(value)}.`);
  }
  return value;
}

function nonNegative(option: string, value: unknown): number {
  const n = finiteNumber(option, value);
  if (n < 0) throw invalid(option, `must be >= 0, got ${n}.`);
  return n;
}

function optionalPositive(option: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  const n = finiteNumber(option, value);
  if (n <= 0) throw invalid(option, `must be > 0 (or omitted to disable clipping), got ${n}.`);
  return n;
}

function boolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid(option, `must be true or false, got ${describeValue(value)}.`);
  return value;
}

function oneOf<V extends string>(option: string, value: unknown, allowed: readonly V[]): V {
  if (!allowed.includes(value as V)) {
    throw invalid(option, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${describeValue(value)}.`);
  }
  return value as V;
}

function learningRate(value: unknown): number | LearningRateScheduler {
  if (isLearningRateScheduler(value)) return value;
  if (isSchedulerSpec(value)) return createScheduler(value);
  return nonNegative('lr', value);
}

function betas(value: unknown): readonly [number, number] {
  if (!Array.isArray(value) || value.length !== 2) {
    throw invalid('betas', `must be a pair [beta1, beta2], got ${describeValue(value)}.`);
  }
  const pair = value.map((beta, i) => {
    const b = finiteNumber(`betas[${i}]`, beta);
    if (b < 0 || b >= 1) throw invalid('betas', `[${i}] must be in [0, 1), got ${b}.`);
    return b;
  });
  return Object.freeze([pair[0]!, pair[1]!]) as readonly [number, number];
}

/** Rejects option names that do not exist (catches `weight_decay` and other typos). */
function rejectUnknown(options: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const hint = suggestName(key, known);
      throw invalid(key, `is not a known ${where} option${hint ? ` (did you mean "${hint}"?)` : ''}.`);
    }
  }
}

/**
 * Validates `overrides` and merges them over `base`.
 *
 * @throws RectifyError `INVALID_OPTION` naming the first bad option.
 */
export function resolveGroupOptions(
  overrides: GroupOptions,
  base: ResolvedGroupOptions = DEFAULT_GROUP_OPTIONS,
): ResolvedGroupOptions {
  if (typeof overrides !== 'object' || overrides === null) {
    throw invalid('options', `must be an object, got ${describeValue(overrides)}.`);
  }
  rejectUnknown(overrides, GROUP_OPTION_NAMES, 'parameter-group');
  const o = overrides as Record<string, unknown>;
  const compat = o.compat === undefined ? base.compat : oneOf('compat', o.compat, ['braintools', 'torch'] as const);
  const threshold = o.threshold === undefined ? base.threshold : finiteNumber('threshold', o.threshold);
  if (threshold < 4) throw invalid('threshold', `must be >= 4 (ρt must exceed 4 for r to exist), got ${threshold}.`);
  if (compat === 'torch' && threshold !== TORCH_THRESHOLD) {
    throw invalid('threshold', `cannot be set with compat "torch", which always rectifies when ρt > 5.`);
  }
  return Object.freeze({
    lr: o.lr === undefined ? base.lr : learningRate(o.lr),
    betas: o.betas === undefined ? base.betas : betas(o.betas),
    eps: o.eps === undefined ? base.eps : nonNegative('eps', o.eps),
    weightDecay: o.weightDecay === undefined ? base.weightDecay : nonNegative('weightDecay', o.weightDecay),
    decoupledWeightDecay:
      o.decoupledWeightDecay === undefined
        ? base.decoupledWeightDecay
        : boolean('decoupledWeightDecay', o.decoupledWeightDecay),
    gradClipNorm: 'gradClipNorm' in o ? optionalPositive('gradClipNorm', o.gradClipNorm) : base.gradClipNorm,
    gradClipValue: 'gradClipValue' in o ? optionalPositive('gradClipValue', o.gradClipValue) : base.gradClipValue,
    threshold,
    compat,
    maximize: o.maximize === undefined ? base.maximize : boolean('maximize', o.maximize),
  });
}

/** Splits optimizer options into the default group's options and the step-wide policy. */
export function resolveOptimizerOptions(options: RAdamOptions): {
  group: ResolvedGroupOptions;
  nonFinite: NonFinitePolicy;
} {
  if (typeof options !== 'object' || options === null) {
    throw invalid('options', `must be an object, got ${describeValue(options)}.`);
  }
  const { nonFinite, ...groupOptions } = options;
  return {
    nonFinite:
      nonFinite === undefined ? DEFAULT_NON_FINITE : oneOf('nonFinite', nonFinite, ['error', 'skip', 'propagate'] as const),
    group: resolveGroupOptions(groupOptions),
  };
}

/** A group's options as JSON: the learning rate as a number or a scheduler spec. */
export type SerializedGroupOptions = Omit<GroupOptions, 'lr'> & { lr?: number | SchedulerSpec };

/** Serialises group options for a state dict (schedulers become their specs). */
export function serializeGroupOptions(options: GroupOptions | ResolvedGroupOptions): SerializedGroupOptions {
  const { lr, ...rest } = options;
  const out: SerializedGroupOptions = { ...rest };
  if (rest.betas !== undefined) out.betas = [rest.betas[0], rest.betas[1]];
  if (lr !== undefined) out.lr = typeof lr === 'number' ? lr : isSchedulerSpec(lr) ? lr : lr.toSpec();
  return out;
}
