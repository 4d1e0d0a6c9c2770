import { RectifyError, resolveGroupOptions, type GroupOptions, type ResolvedGroupOptions } from '@rectify/core';
import { GraphBuilder, type OnnxElementType } from './graph-builder.js';
import { ONNX_DATA_TYPE } from './onnx-schema.js';
import { appendRAdamUpdate, castStepScalars, declareStepTensors, type StepScalars } from './step-graph.js';

/**
 * RAdam options baked into a portable step graph: every group option except `lr`, an input.
 *
 * @example
 * ```ts
 * const options: PortableStepOptions = { compat: 'torch', weightDecay: 0.01 };
 * ```
 */
export type PortableStepOptions = Omit<GroupOptions, 'lr'>;

/**
 * Options of {@link buildRAdamStepModel}.
 *
 * @example
 * ```ts
 * buildRAdamStepModel({}, { dtype: 'float64' });
 * ```
 */
export interface PortableModelOptions {
  /** Element type of `param, grad, m, v` and the outputs. Default `'float32'`. */
  readonly dtype?: OnnxElementType;
}

/**
 * Names of the scalar inputs of the portable step graph.
 *
 * @example
 * ```ts
 * feeds[PORTABLE_SCALAR_INPUTS.step] = new ort.Tensor('int64', new BigInt64Array([1n]), []);
 * ```
 */
export const PORTABLE_SCALAR_INPUTS = Object.freeze({
  lr: 'lr',
  step: 'step',
  gradNorm: 'grad_norm',
} as const);

/** PyTorch's `clip_grad_norm_` adds this to the norm (core's `globalNormClipFactor`). */
const TORCH_NORM_EPSILON = 1e-6;
/** `compat: 'torch'` rectifies when `ρt > 5`. */
const TORCH_RHO_THRESHOLD = 5;

function resolve(options: PortableStepOptions): ResolvedGroupOptions {
  if (typeof options === 'object' && options !== null && 'lr' in options) {
    throw new RectifyError(
      'INVALID_OPTION',
      'Option "lr" cannot be baked into an exported step graph: the learning rate is its "lr" input, fed at every step (so any scheduler works). Remove it from the options.',
      'lr',
    );
  }
  return resolveGroupOptions(options);
}

/**
 * Appends SPEC.md steps 1 and 3 to 5 as float64 scalar nodes: the clip factor from
 * `grad_norm`, the decay scalars from `lr`, and bias correction and rectification from
 * `step`, mirroring core's `planRAdamStep` operation for operation (so results agree to
 * float64 rounding).
 */
function appendScalarPlan(g: GraphBuilder, o: ResolvedGroupOptions, lr: string, step: string, gradNorm: string | undefined): StepScalars {
  const c = (value: number): string => g.scalarOf('float64', value);
  const [beta1, beta2] = o.betas;
  const t = g.op('Cast', [step], 't', { to: { i: ONNX_DATA_TYPE.DOUBLE } });

  // Step 1 (and maximize): grad_scale = ±1 × the global-norm clip factor.
  let gradScale = c(o.maximize ? -1 : 1);
  if (o.gradClipNorm !== null && gradNorm !== undefined) {
    const maxNorm = c(o.gradClipNorm);
    let factor: string;
    if (o.compat === 'torch') {
      const ratio = g.op('Div', [maxNorm, g.op('Add', [gradNorm, c(TORCH_NORM_EPSILON)], 'norm_eps')], 'clip_ratio');
      factor = g.op('Where', [g.op('Less', [ratio, c(1)], 'clips'), ratio, c(1)], 'clip_factor');
    } else {
      const clips = g.op('GreaterOrEqual', [gradNorm, maxNorm], 'clips');
      factor = g.op('Where', [clips, g.op('Div', [maxNorm, gradNorm], 'clip_ratio'), c(1)], 'clip_factor');
    }
    gradScale = g.op('Mul', [gradScale, factor], 'grad_scale');
  }

  // Step 3: coupled decay enters the gradient; decoupled decay scales the parameter.
  const decoupled = o.decoupledWeightDecay && o.weightDecay !== 0;
  const weightDecay = c(decoupled ? 0 : o.weightDecay);
  const paramScale = decoupled ? g.op('Sub', [c(1), g.op('Mul', [lr, c(o.weightDecay)], 'lr_wd')], 'param_scale') : c(1);

  // Step 5: bias corrections and rectification for step t.
  const beta1t = g.op('Pow', [c(beta1), t], 'beta1_t');
  const beta2t = g.op('Pow', [c(beta2), t], 'beta2_t');
  const bc1 = g.op('Sub', [c(1), beta1t], 'bc1');
  const bc2 = g.op('Sub', [c(1), beta2t], 'bc2');
  const rhoInf = 2 / (1 - beta2) - 1;
  const rhoT = g.op('Sub', [c(rhoInf), g.op('Div', [g.op('Mul', [g.op('Mul', [c(2), t]), beta2t]), bc2])], 'rho_t');
  const rectified =
    o.compat === 'torch'
      ? g.op('Greater', [rhoT, c(TORCH_RHO_THRESHOLD)], 'rectified')
      : g.op('GreaterOrEqual', [rhoT, c(o.threshold)], 'rectified');
  // r is NaN while ρt <= 4; the Where below never selects it then.
  const rNumerator = g.op('Mul', [g.op('Mul', [g.op('Sub', [rhoT, c(4)]), g.op('Sub', [rhoT, c(2)])]), c(rhoInf)]);
  const rDenominator = g.op('Mul', [c((rhoInf - 4) * (rhoInf - 2)), rhoT]);
  const r = g.op('Sqrt', [g.op('Div', [rNumerator, rDenominator])], 'r');

  // Step 6's scalars, as core's rectifyAndScaleByLearningRate folds them.
  const lrR = g.op('Mul', [lr, r], 'lr_r');
  const rectifiedStep =
    o.compat === 'torch'
      ? g.op('Div', [g.op('Mul', [lrR, g.op('Sqrt', [bc2])]), bc1], 'step_size_rectified')
      : g.op('Div', [lrR, bc1], 'step_size_rectified');
  const plainStep = g.op('Div', [lr, bc1], 'step_size_plain');
  const stepSize = g.op('Where', [rectified, rectifiedStep, plainStep], 'step_size');
  const denomScale = o.compat === 'torch' ? c(1) : g.op('Div', [c(1), g.op('Sqrt', [bc2])], 'denom_scale');

  return {
    gradScale,
    clipValue: c(o.gradClipValue ?? Infinity),
    weightDecay,
    paramScale,
    beta1: c(beta1),
    beta2: c(beta2),
    rectified,
    stepSize,
    denomScale,
    eps: c(o.eps),
  };
}

/**
 * RAdam's complete step for one parameter tensor, with `options` baked in, as a
 * self-contained ONNX model for any ONNX Runtime (Python, C++, C#, web): the bias
 * correction, rectification and clipping math is inside the graph.
 *
 * Inputs:
 * - `param`, `grad`, `m`, `v`: tensors of `dtype`, any shape (all four the same);
 *   `m` and `v` are zeros before the first step.
 * - `lr`: float64 scalar, the learning rate of this step.
 * - `step`: int64 scalar, this update's 1-based step number `t` (1 on the first update).
 * - `grad_norm` (only when `gradClipNorm` is set): float64 scalar, the global norm
 *   `sqrt(Σ g²)` over every gradient of this step (just this one's for a single tensor).
 *
 * Outputs: `param_out`, `m_out`, `v_out`, same shape and type as the inputs.
 *
 * @throws RectifyError `INVALID_OPTION` for an invalid option, or for `lr` (an input).
 * @example
 * ```ts
 * const bytes = buildRAdamStepModel({ weightDecay: 0.01, decoupledWeightDecay: true });
 * const session = await ort.InferenceSession.create(bytes);
 * ```
 */
export function buildRAdamStepModel(options: PortableStepOptions = {}, modelOptions: PortableModelOptions = {}): Uint8Array {
  const resolved = resolve(options);
  const dtype = modelOptions.dtype ?? 'float32';
  const g = new GraphBuilder('rectify_radam_step', dtype);
  const tensors = declareStepTensors(g);
  const lr = g.typedInput(PORTABLE_SCALAR_INPUTS.lr, ONNX_DATA_TYPE.DOUBLE, [], 'Learning rate of this step (float64 scalar).');
  const step = g.typedInput(
    PORTABLE_SCALAR_INPUTS.step,
    ONNX_DATA_TYPE.INT64,
    [],
    '1-based number of this update (int64 scalar): 1 on the first step.',
  );
  const gradNorm =
    resolved.gradClipNorm === null
      ? undefined
      : g.typedInput(
          PORTABLE_SCALAR_INPUTS.gradNorm,
          ONNX_DATA_TYPE.DOUBLE,
          [],
          'Global gradient norm sqrt(sum of g^2 over every gradient of this step), float64 scalar.',
        );
  appendRAdamUpdate(g, tensors, castStepScalars(g, appendScalarPlan(g, resolved, lr, step, gradNorm)));
  const baked = { ...resolved, lr: undefined };
  return g.toModel({
    docString:
      'RAdam step (Rectify, SPEC.md numerics) with these options baked in: ' +
      `${JSON.stringify(baked)}. Inputs: param, grad, m, v (same shape), lr (double), step (int64, 1-based)` +
      `${gradNorm === undefined ? '' : ', grad_norm (double)'}. Outputs: param_out, m_out, v_out.`,
    metadata: { 'rectify.graph': 'radam-step', 'rectify.dtype': dtype, 'rectify.options': JSON.stringify(baked) },
  });
}
