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
 * Names of the scalar inputs of the kernel graph ({@link buildRAdamKernelModel}), one per
 * field of core's `RAdamScalars`, in snake case.
 *
 * @example
 * ```ts
 * const scalars = planRAdamStep({ options, lr, step, globalNorm });
 * feeds[KERNEL_SCALAR_INPUTS.stepSize] = new ort.Tensor('float64', [scalars.stepSize], []);
 * ```
 */
export const KERNEL_SCALAR_INPUTS = Object.freeze({
  gradScale: 'grad_scale',
  clipValue: 'clip_value',
  weightDecay: 'weight_decay',
  paramScale: 'param_scale',
  beta1: 'beta1',
  beta2: 'beta2',
  rectified: 'rectified',
  stepSize: 'step_size',
  denomScale: 'denom_scale',
  eps: 'eps',
} as const satisfies Record<keyof RAdamScalars, string>);

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
 * precision), except `rectified`, a bool.
 *
 * @example
 * ```ts
 * appendRAdamUpdate(g, tensors, { ...scalars, eps: g.scalarOf('float64', 1e-8) });
 * ```
 */
export type StepScalars = { readonly [K in keyof RAdamScalars]: string };

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
 * Appends the element-wise RAdam update of core's `RAdamScalars` to `g` and declares its
 * outputs `param_out, m_out, v_out`:
 *
 * ```text
 * g  = clip(grad · grad_scale, −clip_value, clip_value) + weight_decay · param
 * m' = β1·m + (1−β1)·g                 v' = β2·v + ((1−β2)·g)·g
 * p' = param · param_scale − step_size · d
 *      with d = Where(rectified, m' / (sqrt(v') · denom_scale + eps), m')
 * ```
 *
 * Two rules keep results finite wherever the element type can hold them, as core's `cpu`
 * reference does (it computes in float64):
 *
 * - **Square last.** `(1−β2)·g` is multiplied by `g`, not `g²` by `1−β2`: in float32 `g²`
 *   overflows for `|g| > 1.8e19`, while `(1−β2)·g·g` (≈ 1e37 for `|g| = 1e20`) fits.
 * - **Select, never mask.** The unrectified step takes `m'` through a real `Where`, not a
 *   denominator multiplied by 0: `sqrt(∞)·0` is NaN, and an infinite `v'` would turn a
 *   finite unrectified update into NaN. The `Where` costs one pass over the chunk.
 *
 * The scalar math (1−β, −clip) runs once per call in float64 on rank-0 values and is cast
 * to the tensor type afterwards, so a float32 graph loses no precision on `1 − β2` (0.001
 * is not exact in float32 arithmetic: `1 − fl32(0.999)` is off by 1.3e-5 relative).
 *
 * @returns the names of the three outputs.
 * @example
 * ```ts
 * const g = new GraphBuilder('my_step', 'float32');
 * appendRAdamUpdate(g, declareStepTensors(g), myScalarNodes); // then g.toModel()
 * ```
 */
export function appendRAdamUpdate(g: GraphBuilder, t: StepTensors, s: StepScalars): StepOutputs {
  const one = g.scalarOf('float64', 1);
  // Scalars in float64, then one Cast each to the tensor type (a no-op node is skipped for float64).
  const cast = (name: string, value: string): string =>
    g.type === 'float64' ? value : g.op('Cast', [value], name, { to: { i: ONNX_DATA_TYPE.FLOAT } });
  const gradScale = cast('grad_scale_t', s.gradScale);
  const clipHigh = cast('clip_high_t', s.clipValue);
  const clipLow = cast('clip_low_t', g.op('Neg', [s.clipValue], 'clip_low'));
  const weightDecay = cast('weight_decay_t', s.weightDecay);
  const paramScale = cast('param_scale_t', s.paramScale);
  const beta1 = cast('beta1_t', s.beta1);
  const oneMinusBeta1 = cast('one_minus_beta1_t', g.op('Sub', [one, s.beta1], 'one_minus_beta1'));
  const beta2 = cast('beta2_t', s.beta2);
  const oneMinusBeta2 = cast('one_minus_beta2_t', g.op('Sub', [one, s.beta2], 'one_minus_beta2'));
  const stepSize = cast('step_size_t', s.stepSize);
  const denomScale = cast('denom_scale_t', s.denomScale);
  const eps = cast('eps_t', s.eps);

  // Element-wise part: one node per arithmetic operation, in the order of RAdamScalars.
  const scaled = g.op('Mul', [t.grad, gradScale], 'g_scaled');
  const clipped = g.op('Clip', [scaled, clipLow, clipHigh], 'g_clipped');
  const grad = g.op('Add', [clipped, g.op('Mul', [t.param, weightDecay], 'decay')], 'g_decayed');
  const param = g.op('Mul', [t.param, paramScale], 'p_scaled');
  const m = g.op('Add', [g.op('Mul', [t.m, beta1], 'm_kept'), g.op('Mul', [grad, oneMinusBeta1], 'm_new')], 'm_out');
  const vNew = g.op('Mul', [g.op('Mul', [grad, oneMinusBeta2], 'g_weighted'), grad], 'v_new');
  const v = g.op('Add', [g.op('Mul', [t.v, beta2], 'v_kept'), vNew], 'v_out');
  const denom = g.op('Add', [g.op('Mul', [g.op('Sqrt', [v], 'v_sqrt'), denomScale], 'denom_scaled'), eps], 'denom');
  const direction = g.op('Where', [s.rectified, g.op('Div', [m, denom], 'direction_rectified'), m], 'direction');
  const paramOut = g.op('Sub', [param, g.op('Mul', [direction, stepSize], 'update')], 'param_out');

  g.output(paramOut, ANY_SHAPE, 'Parameter after the step.');
  g.output(m, ANY_SHAPE, 'First moment after the step.');
  g.output(v, ANY_SHAPE, 'Second moment after the step.');
  return { param: paramOut, m, v };
}

/**
 * The generic RAdam step as an ONNX model: inputs `param, grad, m, v` (tensors of `type`,
 * any shape) and one float64 scalar per field of core's `RAdamScalars` (`grad_scale,
 * clip_value, weight_decay, param_scale, beta1, beta2, step_size, denom_scale, eps`) plus
 * the bool `rectified`; outputs `param_out, m_out, v_out` and the finiteness flag
 * {@link KERNEL_NON_FINITE_OUTPUT} (`non_finite`). Because every option of RAdam
 * (maximize, both clippings, both weight-decay forms, both compat modes, rectification) is
 * folded into those scalars by core's `planRAdamStep`, this one graph serves every option
 * set and every step: the backend creates one session per element type.
 *
 * @example
 * ```ts
 * const session = await ort.InferenceSession.create(buildRAdamKernelModel('float32'));
 * ```
 */
export function buildRAdamKernelModel(type: OnnxElementType): Uint8Array {
  const g = new GraphBuilder('rectify_radam_kernel', type);
  const tensors = declareStepTensors(g);
  const scalar = (name: string, doc: string): string => g.typedInput(name, ONNX_DATA_TYPE.DOUBLE, [], doc);
  const n = KERNEL_SCALAR_INPUTS;
  const scalars: StepScalars = {
    gradScale: scalar(n.gradScale, 'Multiplies the gradient: −1 for maximize, times the global-norm clip factor.'),
    clipValue: scalar(n.clipValue, 'Element-wise clip bound (Infinity: no clipping).'),
    weightDecay: scalar(n.weightDecay, 'Coupled L2 decay: adds weight_decay · param to the gradient.'),
    paramScale: scalar(n.paramScale, 'Multiplies the parameter first (decoupled decay: 1 − lr · wd).'),
    beta1: scalar(n.beta1, 'First-moment decay.'),
    beta2: scalar(n.beta2, 'Second-moment decay.'),
    rectified: g.typedInput(n.rectified, ONNX_DATA_TYPE.BOOL, [], 'Adaptive (rectified) update this step?'),
    stepSize: scalar(n.stepSize, 'Learning rate with bias correction and rectification folded in.'),
    denomScale: scalar(n.denomScale, 'Multiplies sqrt(v) in the denominator.'),
    eps: scalar(n.eps, 'Added to the denominator.'),
  };
  const out = appendRAdamUpdate(g, tensors, scalars);
  // ((p'·0)·m')·v' is ±0 when all three elements are finite and NaN as soon as one is NaN
  // or ±∞ (∞·0 and NaN·x are NaN, 0·finite is 0), and a sum of zeros is exactly 0: three
  // plain Muls and one reduction over values the run has just written, still in cache.
  // (Adding p', m', v' first would be one Mul fewer but can overflow for finite values.)
  const zeroOrNaN = g.op('Mul', [g.op('Mul', [g.op('Mul', [out.param, g.scalar(0)], 'p_zero'), out.m], 'pm_zero'), out.v], 'pmv_zero');
  const flag = g.op('ReduceSum', [zeroOrNaN], KERNEL_NON_FINITE_OUTPUT, { keepdims: { i: 0 } });
  g.output(flag, [], '0 when every element of param_out, m_out and v_out is finite, NaN otherwise.');
  return g.toModel({
    docString:
      'One fused RAdam update (Rectify). Scalars follow @rectify/core RAdamScalars, computed by planRAdamStep. ' +
      'p_out = p·param_scale − step_size·m_out / (sqrt(v_out)·denom_scale + eps) when rectified, ' +
      'else p·param_scale − step_size·m_out. non_finite is 0 when every output element is finite, NaN otherwise.',
    metadata: { 'rectify.graph': 'radam-kernel', 'rectify.dtype': type },
  });
}
