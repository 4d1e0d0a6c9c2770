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
 * Names of the outputs of every RAdam step graph: the updated `param`, `m` and `v`.
 *
 * @example
 * ```ts
 * const [param, m, v] = STEP_OUTPUTS.map((name) => results[name]);
 * ```
 */
export const STEP_OUTPUTS = Object.freeze(['param_out', 'm_out', 'v_out'] as const);

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
 * Appends the element-wise RAdam update of core's `RAdamScalars` to `g` and declares its
 * outputs `param_out, m_out, v_out`:
 *
 * ```text
 * g  = clip(grad · grad_scale, −clip_value, clip_value) + weight_decay · param
 * m' = β1·m + (1−β1)·g                 v' = β2·v + (1−β2)·g²
 * p' = param · param_scale − step_size · m' / (sqrt(v') · ds + e)
 *      with ds, e = denom_scale, eps when rectified, else 0, 1   (so p' = p·ps − step_size·m')
 * ```
 *
 * The scalar math (1−β, −clip, the rectified select) runs once per call in float64 on
 * rank-0 values and is cast to the tensor type afterwards, so a float32 graph loses no
 * precision on `1 − β2` (0.001 is not exact in float32 arithmetic: `1 − fl32(0.999)` is off
 * by 1.3e-5 relative). Selecting the denominator's scalars instead of the whole update
 * keeps one code path: no `Where` over the tensors, no extra pass per step. (The one case
 * where this differs from a tensor select: an unrectified step whose `v'` overflowed to
 * Infinity gives `sqrt(∞)·0 = NaN`; in float32 that needs `|g| > 1.8e19`, where `g²`
 * already overflows anyway.)
 *
 * @example
 * ```ts
 * const g = new GraphBuilder('my_step', 'float32');
 * appendRAdamUpdate(g, declareStepTensors(g), myScalarNodes); // then g.toModel()
 * ```
 */
export function appendRAdamUpdate(g: GraphBuilder, t: StepTensors, s: StepScalars): void {
  const one = g.scalarOf('float64', 1);
  const zero = g.scalarOf('float64', 0);
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
  const denomScale = cast('denom_scale_eff_t', g.op('Where', [s.rectified, s.denomScale, zero], 'denom_scale_eff'));
  const eps = cast('eps_eff_t', g.op('Where', [s.rectified, s.eps, one], 'eps_eff'));

  // Element-wise part: one node per arithmetic operation, in the order of RAdamScalars.
  const scaled = g.op('Mul', [t.grad, gradScale], 'g_scaled');
  const clipped = g.op('Clip', [scaled, clipLow, clipHigh], 'g_clipped');
  const grad = g.op('Add', [clipped, g.op('Mul', [t.param, weightDecay], 'decay')], 'g_decayed');
  const param = g.op('Mul', [t.param, paramScale], 'p_scaled');
  const m = g.op('Add', [g.op('Mul', [t.m, beta1], 'm_kept'), g.op('Mul', [grad, oneMinusBeta1], 'm_new')], 'm_out');
  const gradSquared = g.op('Mul', [grad, grad], 'g_squared');
  const v = g.op('Add', [g.op('Mul', [t.v, beta2], 'v_kept'), g.op('Mul', [gradSquared, oneMinusBeta2], 'v_new')], 'v_out');
  const denom = g.op('Add', [g.op('Mul', [g.op('Sqrt', [v], 'v_sqrt'), denomScale], 'denom_scaled'), eps], 'denom');
  const update = g.op('Mul', [g.op('Div', [m, denom], 'direction'), stepSize], 'update');
  const paramOut = g.op('Sub', [param, update], 'param_out');

  g.output(paramOut, ANY_SHAPE, 'Parameter after the step.');
  g.output(m, ANY_SHAPE, 'First moment after the step.');
  g.output(v, ANY_SHAPE, 'Second moment after the step.');
}

/**
 * The generic RAdam step as an ONNX model: inputs `param, grad, m, v` (tensors of `type`,
 * any shape) and one float64 scalar per field of core's `RAdamScalars` (`grad_scale,
 * clip_value, weight_decay, param_scale, beta1, beta2, step_size, denom_scale, eps`) plus
 * the bool `rectified`; outputs `param_out, m_out, v_out`. Because every option of RAdam
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
  appendRAdamUpdate(g, tensors, scalars);
  return g.toModel({
    docString:
      'One fused RAdam update (Rectify). Scalars follow @rectify/core RAdamScalars, computed by planRAdamStep. ' +
      'p_out = p·param_scale − step_size·m_out / (sqrt(v_out)·denom_scale + eps) when rectified, ' +
      'else p·param_scale − step_size·m_out.',
    metadata: { 'rectify.graph': 'radam-kernel', 'rectify.dtype': type },
  });
}
