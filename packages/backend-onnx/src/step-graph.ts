import type { RAdamScalars } from '@rectify/core';
import { GraphBuilder, type DeclaredShape, type OnnxElementType } from './graph-builder.js';
import { ONNX_DATA_TYPE } from './onnx-schema.js';

/**
 * Names of the four tensor inputs of every RAdam step graph, in feed order.
 *
 * @example
 * ```ts
 * const feeds = Object.fromEntries(STEP_TENSOR_INPUTS.map((name, i) => [name, tensors[i]]));
 * ```
 */
export const STEP_TENSOR_INPUTS = Object.freeze(['param', 'grad', 'm', 'v'] as const);

/**
 * Names of the tensor outputs of every RAdam step graph: the updated `param`, `m` and `v`
 * (the kernel graph adds the scalar {@link KERNEL_NON_FINITE_OUTPUT}).
 *
 * @example
 * ```ts
 * const [param, m, v] = STEP_OUTPUTS.map((name) => results[name]);
 * ```
 */
export const STEP_OUTPUTS = Object.freeze(['param_out', 'm_out', 'v_out'] as const);

/**
 * Name of the kernel graph's fourth output ({@link buildRAdamKernelModel}): a scalar of the
 * tensor type, `0` when every element of `param_out`, `m_out` and `v_out` is finite as
 * stored, NaN otherwise. It is computed in the same run as the update, from the outputs.
 *
 * @example
 * ```ts
 * const finite = (await session.run(feeds, fetches))[KERNEL_NON_FINITE_OUTPUT].data[0] === 0;
 * ```
 */
export const KERNEL_NON_FINITE_OUTPUT = 'non_finite';

/**
 * Names of the scalar inputs a kernel graph ({@link buildRAdamKernelModel}) may have: rank-0
 * values of the tensor type, computed on the host in float64 from core's `RAdamScalars` and
 * rounded once (see {@link kernelScalarValues}). A graph declares only those its
 * {@link KernelStages} use.
 *
 * @example
 * ```ts
 * feeds[KERNEL_SCALAR_INPUTS.stepSize] = new ort.Tensor('float32', Float32Array.of(1e-3), []);
 * ```
 */
export const KERNEL_SCALAR_INPUTS = Object.freeze({
  gradScale: 'grad_scale',
  clipValue: 'clip_value',
  weightDecay: 'weight_decay',
  paramScale: 'param_scale',
  beta1: 'beta1',
  oneMinusBeta1: 'one_minus_beta1',
  beta2: 'beta2',
  oneMinusBeta2: 'one_minus_beta2',
  stepSize: 'step_size',
  eps: 'eps',
} as const);

/**
 * Which optional parts of the update a kernel graph contains. Core's `RAdamScalars` make a
 * stage the identity for most option sets (`gradScale` 1, no value clipping, no decay), and
 * `rectified` is known on the host for the whole step: a graph specialised to them has 15
 * nodes, each a pass over its chunk, where the option-free graph had 23 such passes (and
 * 15 scalar nodes run per chunk).
 *
 * @example
 * ```ts
 * const plain: KernelStages = { gradScale: false, clip: false, weightDecay: false, paramScale: false, rectified: true };
 * ```
 */
export interface KernelStages {
  /** `g · grad_scale` (maximize, global-norm clipping). */
  readonly gradScale: boolean;
  /** `clip(g, −clip_value, clip_value)`. */
  readonly clip: boolean;
  /** `g + weight_decay · param` (coupled decay). */
  readonly weightDecay: boolean;
  /** `param · param_scale` (decoupled decay). */
  readonly paramScale: boolean;
  /** The adaptive step `m' / (sqrt(v') + eps)`, or the plain `m'`. */
  readonly rectified: boolean;
}

/**
 * The stages the update of `scalars` needs: a stage is left out only where it is exactly
 * the identity (`g · 1`, clipping at Infinity, `param · 1`, and a coupled decay of 0, which
 * differs from leaving it out only when `param` is already non-finite).
 *
 * @example
 * ```ts
 * kernelStages(planRAdamStep(context)); // { gradScale: false, …, rectified: true }
 * ```
 */
export function kernelStages(scalars: RAdamScalars): KernelStages {
  return {
    gradScale: scalars.gradScale !== 1,
    clip: scalars.clipValue !== Infinity,
    weightDecay: scalars.weightDecay !== 0,
    paramScale: scalars.paramScale !== 1,
    rectified: scalars.rectified,
  };
}

/**
 * The kernel graph's scalar inputs for `scalars`, in float64 (the caller stores them in the
 * tensor type, one rounding each). `1 − β` is taken in float64 (`1 − fl32(0.999)` in float32
 * would be off by 1.3e-5 relative), and the denominator's scale is folded into the step size
 * and eps: `ss · m / (sqrt(v)·ds + eps) = (ss/ds) · m / (sqrt(v) + eps/ds)`.
 *
 * @example
 * ```ts
 * kernelScalarValues(scalars).one_minus_beta2; // 0.001 for beta2 = 0.999
 * ```
 */
export function kernelScalarValues(scalars: RAdamScalars): Record<(typeof KERNEL_SCALAR_INPUTS)[keyof typeof KERNEL_SCALAR_INPUTS], number> {
  const n = KERNEL_SCALAR_INPUTS;
  return {
    [n.gradScale]: scalars.gradScale,
    [n.clipValue]: scalars.clipValue,
    [n.weightDecay]: scalars.weightDecay,
    [n.paramScale]: scalars.paramScale,
    [n.beta1]: scalars.beta1,
    [n.oneMinusBeta1]: 1 - scalars.beta1,
    [n.beta2]: scalars.beta2,
    [n.oneMinusBeta2]: 1 - scalars.beta2,
    [n.stepSize]: scalars.rectified ? scalars.stepSize / scalars.denomScale : scalars.stepSize,
    [n.eps]: scalars.eps / scalars.denomScale,
  };
}

/**
 * The tensors of one step, as graph value names.
 *
 * @example
 * ```ts
 * const tensors: StepTensors = declareStepTensors(g); // { param: 'param', grad: 'grad', … }
 * ```
 */
export interface StepTensors {
  readonly param: string;
  readonly grad: string;
  readonly m: string;
  readonly v: string;
}

/**
 * The scalars of one step as graph value names, each a float64 rank-0 value (the host's
 * precision), except `rectified`, a bool: what the portable step graph computes in its
 * scalar nodes before {@link castStepScalars}.
 *
 * @example
 * ```ts
 * const update = castStepScalars(g, { ...scalars, eps: g.scalarOf('float64', 1e-8) });
 * ```
 */
export type StepScalars = { readonly [K in keyof RAdamScalars]: string };

/**
 * The scalars {@link appendRAdamUpdate} reads, as graph value names of rank-0 values of the
 * tensor type. An optional stage is in the graph exactly when its scalar is given;
 * `rectified` is either known when the graph is built or a bool value selected at run time.
 *
 * @example
 * ```ts
 * const s: UpdateScalars = { beta1, oneMinusBeta1, beta2, oneMinusBeta2, stepSize, eps, rectified: true };
 * ```
 */
export interface UpdateScalars {
  readonly gradScale?: string;
  /** Both bounds of the value clip, or neither. */
  readonly clip?: { readonly low: string; readonly high: string };
  readonly weightDecay?: string;
  readonly paramScale?: string;
  readonly beta1: string;
  readonly oneMinusBeta1: string;
  readonly beta2: string;
  readonly oneMinusBeta2: string;
  readonly stepSize: string;
  /** Multiplies `sqrt(v')`; absent when folded into `stepSize` and `eps` on the host. */
  readonly denomScale?: string;
  /** Added to the denominator: needed unless `rectified` is `false`. */
  readonly eps?: string;
  /** `true`/`false` for a graph of one kind of step; a bool value's name to select per run. */
  readonly rectified: boolean | string;
}

/**
 * {@link UpdateScalars} from float64 scalar values: `1 − β` and `−clip_value` are taken in
 * float64, then each scalar is cast once to the tensor type (no node for float64), so a
 * float32 graph loses no precision on `1 − β2`. Every stage is kept, and `rectified` is
 * selected per run.
 *
 * @example
 * ```ts
 * appendRAdamUpdate(g, declareStepTensors(g), castStepScalars(g, myFloat64Scalars));
 * ```
 */
export function castStepScalars(g: GraphBuilder, s: StepScalars): UpdateScalars {
  const one = g.scalarOf('float64', 1);
  const cast = (name: string, value: string): string =>
    g.type === 'float64' ? value : g.op('Cast', [value], name, { to: { i: ONNX_DATA_TYPE.FLOAT } });
  return {
    gradScale: cast('grad_scale_t', s.gradScale),
    clip: { low: cast('clip_low_t', g.op('Neg', [s.clipValue], 'clip_low')), high: cast('clip_high_t', s.clipValue) },
    weightDecay: cast('weight_decay_t', s.weightDecay),
    paramScale: cast('param_scale_t', s.paramScale),
    beta1: cast('beta1_t', s.beta1),
    oneMinusBeta1: cast('one_minus_beta1_t', g.op('Sub', [one, s.beta1], 'one_minus_beta1')),
    beta2: cast('beta2_t', s.beta2),
    oneMinusBeta2: cast('one_minus_beta2_t', g.op('Sub', [one, s.beta2], 'one_minus_beta2')),
    stepSize: cast('step_size_t', s.stepSize),
    denomScale: cast('denom_scale_t', s.denomScale),
    eps: cast('eps_t', s.eps),
    rectified: s.rectified,
  };
}

/** Tensor inputs may have any shape (all four the same); the kernel graph sees flat views. */
const ANY_SHAPE: DeclaredShape = undefined;

/**
 * Declares `param, grad, m, v` as inputs of `g` with documentation strings. Every shape is
 * left open: the update is element-wise, so one graph serves every parameter.
 *
 * @example
 * ```ts
 * const g = new GraphBuilder('my_step', 'float32');
 * const tensors = declareStepTensors(g);
 * ```
 */
export function declareStepTensors(g: GraphBuilder): StepTensors {
  return {
    param: g.input('param', ANY_SHAPE, 'Parameter before the step (any shape).'),
    grad: g.input('grad', ANY_SHAPE, 'Gradient of this step, same shape as param.'),
    m: g.input('m', ANY_SHAPE, 'First moment before the step (zeros before the first step).'),
    v: g.input('v', ANY_SHAPE, 'Second moment before the step (zeros before the first step).'),
  };
}

/**
 * The outputs {@link appendRAdamUpdate} declares, as graph value names (`param_out`, …).
 *
 * @example
 * ```ts
 * const outputs: StepOutputs = appendRAdamUpdate(g, tensors, scalars);
 * ```
 */
export interface StepOutputs {
  readonly param: string;
  readonly m: string;
  readonly v: string;
}

/**
 * Appends the element-wise RAdam update to `g` and declares its outputs `param_out, m_out,
 * v_out` (optional stages only where `s` has their scalars):
 *
 * ```text
 * g  = clip(grad · grad_scale, −clip_value, clip_value) + weight_decay · param
 * m' = β1·m + (1−β1)·g                 v' = β2·v + ((1−β2)·g)·g
 * p' = param · param_scale − step_size · d
 *      with d = m' / (sqrt(v') · denom_scale + eps) when rectified, else m'
 * ```
 *
 * Two rules keep results finite wherever the element type can hold them, as core's `cpu`
 * reference does (it computes in float64):
 *
 * - **Square last.** `(1−β2)·g` is multiplied by `g`, not `g²` by `1−β2`: in float32 `g²`
 *   overflows for `|g| > 1.8e19`, while `(1−β2)·g·g` (≈ 1e37 for `|g| = 1e20`) fits.
 * - **Select, never mask.** A run-time choice between the two steps is a real `Where`, not a
 *   denominator multiplied by 0: `sqrt(∞)·0` is NaN, and an infinite `v'` would turn a
 *   finite unrectified update into NaN. (A graph built for one kind of step needs neither.)
 *
 * @returns the names of the three outputs.
 * @example
 * ```ts
 * const g = new GraphBuilder('my_step', 'float32');
 * appendRAdamUpdate(g, declareStepTensors(g), castStepScalars(g, myScalarNodes)); // then g.toModel()
 * ```
 */
export function appendRAdamUpdate(g: GraphBuilder, t: StepTensors, s: UpdateScalars): StepOutputs {
  // Element-wise part: one node per arithmetic operation, in the order of RAdamScalars.
  let grad = t.grad;
  if (s.gradScale !== undefined) grad = g.op('Mul', [grad, s.gradScale], 'g_scaled');
  if (s.clip !== undefined) grad = g.op('Clip', [grad, s.clip.low, s.clip.high], 'g_clipped');
  if (s.weightDecay !== undefined) grad = g.op('Add', [grad, g.op('Mul', [t.param, s.weightDecay], 'decay')], 'g_decayed');
  const param = s.paramScale === undefined ? t.param : g.op('Mul', [t.param, s.paramScale], 'p_scaled');
  const m = g.op('Add', [g.op('Mul', [t.m, s.beta1], 'm_kept'), g.op('Mul', [grad, s.oneMinusBeta1], 'm_new')], 'm_out');
  const vNew = g.op('Mul', [g.op('Mul', [grad, s.oneMinusBeta2], 'g_weighted'), grad], 'v_new');
  const v = g.op('Add', [g.op('Mul', [t.v, s.beta2], 'v_kept'), vNew], 'v_out');
  const adaptive = (): string => {
    const root = g.op('Sqrt', [v], 'v_sqrt');
    const scaled = s.denomScale === undefined ? root : g.op('Mul', [root, s.denomScale], 'denom_scaled');
    if (s.eps === undefined) throw new Error('Internal error: a rectified update needs eps.');
    return g.op('Div', [m, g.op('Add', [scaled, s.eps], 'denom')], 'direction_rectified');
  };
  const direction =
    typeof s.rectified === 'string' ? g.op('Where', [s.rectified, adaptive(), m], 'direction') : s.rectified ? adaptive() : m;
  const paramOut = g.op('Sub', [param, g.op('Mul', [direction, s.stepSize], 'update')], 'param_out');

  g.output(paramOut, ANY_SHAPE, 'Parameter after the step.');
  g.output(m, ANY_SHAPE, 'First moment after the step.');
  g.output(v, ANY_SHAPE, 'Second moment after the step.');
  return { param: paramOut, m, v };
}

/** Every stage, rectified: the kernel graph {@link buildRAdamKernelModel} builds by default. */
const ALL_STAGES: KernelStages = Object.freeze({ gradScale: true, clip: true, weightDecay: true, paramScale: true, rectified: true });

/**
 * The fused RAdam update as an ONNX model, specialised to `stages`: inputs `param, grad, m, v`
 * (tensors of `type`, any shape) and the rank-0 scalars of {@link KERNEL_SCALAR_INPUTS}
 * (of `type` too) that the stages use; outputs `param_out, m_out, v_out` and the finiteness
 * flag {@link KERNEL_NON_FINITE_OUTPUT} (`non_finite`). Core's `planRAdamStep` folds every
 * option of RAdam into `RAdamScalars`; {@link kernelStages} picks the graph and
 * {@link kernelScalarValues} its inputs, so a backend needs one session per kind of step
 * (usually two: before and after rectification starts) and no scalar node runs per chunk.
 *
 * @example
 * ```ts
 * const session = await ort.InferenceSession.create(buildRAdamKernelModel('float32', kernelStages(scalars)));
 * ```
 */
export function buildRAdamKernelModel(type: OnnxElementType, stages: KernelStages = ALL_STAGES): Uint8Array {
  const g = new GraphBuilder('rectify_radam_kernel', type);
  const tensors = declareStepTensors(g);
  const scalar = (name: string, doc: string): string => g.input(name, [], doc);
  const n = KERNEL_SCALAR_INPUTS;
  const clipValue = stages.clip ? scalar(n.clipValue, 'Element-wise clip bound.') : undefined;
  const out = appendRAdamUpdate(g, tensors, {
    ...(stages.gradScale && { gradScale: scalar(n.gradScale, 'Multiplies the gradient: −1 for maximize, times the global-norm clip factor.') }),
    ...(clipValue !== undefined && { clip: { low: g.op('Neg', [clipValue], 'clip_low'), high: clipValue } }),
    ...(stages.weightDecay && { weightDecay: scalar(n.weightDecay, 'Coupled L2 decay: adds weight_decay · param to the gradient.') }),
    ...(stages.paramScale && { paramScale: scalar(n.paramScale, 'Multiplies the parameter first (decoupled decay: 1 − lr · wd).') }),
    beta1: scalar(n.beta1, 'First-moment decay.'),
    oneMinusBeta1: scalar(n.oneMinusBeta1, '1 − beta1, taken in float64.'),
    beta2: scalar(n.beta2, 'Second-moment decay.'),
    oneMinusBeta2: scalar(n.oneMinusBeta2, '1 − beta2, taken in float64.'),
    stepSize: scalar(n.stepSize, 'Learning rate with bias correction and rectification folded in (divided by denom_scale when rectified).'),
    ...(stages.rectified && { eps: scalar(n.eps, 'eps / denom_scale, added to sqrt(v).') }),
    rectified: stages.rectified,
  });
  // (p'·0)·v'... as p'·(v'·0): ±0 when both elements are finite, NaN as soon as one is NaN or
  // ±∞ (∞·0 and NaN·x are NaN), and a sum of zeros is exactly 0: two plain Muls and one
  // reduction over values the run has just written, still in cache. m' needs no term, as in
  // core's reference kernel: a NaN m' makes p' NaN, and an m' beyond the type needs a
  // gradient beyond it, whose (1−β2)·g·g overflows v'. (Adding p' and v' would be one Mul
  // fewer but can overflow for finite values.)
  const zeroOrNaN = g.op('Mul', [out.param, g.op('Mul', [out.v, g.scalar(0)], 'v_zero')], 'pv_zero');
  const flag = g.op('ReduceSum', [zeroOrNaN], KERNEL_NON_FINITE_OUTPUT, { keepdims: { i: 0 } });
  g.output(flag, [], '0 when every element of param_out, m_out and v_out is finite, NaN otherwise.');
  return g.toModel({
    docString:
      'One fused RAdam update (Rectify). Scalars follow @rectify/core RAdamScalars (planRAdamStep), folded by kernelScalarValues. ' +
      'p_out = p·param_scale − step_size·m_out / (sqrt(v_out) + eps) when rectified, ' +
      'else p·param_scale − step_size·m_out. non_finite is 0 when every output element is finite, NaN otherwise.',
    metadata: { 'rectify.graph': 'radam-kernel', 'rectify.dtype': type, 'rectify.stages': JSON.stringify(stages) },
  });
}
