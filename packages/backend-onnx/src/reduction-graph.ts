import { GraphBuilder, type OnnxElementType } from './graph-builder.js';
import { ONNX_DATA_TYPE } from './onnx-schema.js';

/**
 * Input name of both reduction graphs.
 *
 * @example
 * ```ts
 * await session.run({ [REDUCTION_INPUT]: tensor });
 * ```
 */
export const REDUCTION_INPUT = 'x';

/**
 * Output name of the sum-of-squares graph: `Σ x²` as a float64 scalar.
 *
 * @example
 * ```ts
 * const sum = (await session.run({ x }))[SUM_OF_SQUARES_OUTPUT].data[0];
 * ```
 */
export const SUM_OF_SQUARES_OUTPUT = 'sum_squares';

/**
 * Output name of the finiteness graph: `0` when every element is finite, NaN otherwise.
 *
 * @example
 * ```ts
 * const finite = (await session.run({ x }))[NON_FINITE_OUTPUT].data[0] === 0;
 * ```
 */
export const NON_FINITE_OUTPUT = 'non_finite_probe';

/** `x` widened to float64 (a no-op for float64 graphs). */
function widened(g: GraphBuilder, x: string): string {
  return g.type === 'float64' ? x : g.op('Cast', [x], 'x_f64', { to: { i: ONNX_DATA_TYPE.DOUBLE } });
}

/**
 * `sum_squares = ReduceSumSquare(double(x))`: the squared L2 norm of one tensor for global
 * norm clipping. Elements are widened to float64 first, so a float32 gradient accumulates
 * in float64 as core asks (`Σ g²` of float32 values cannot overflow float64). ORT splits
 * the reduction over its threads in a fixed way, so a given thread count always gives the
 * same sum.
 *
 * @example
 * ```ts
 * const session = await ort.InferenceSession.create(buildSumOfSquaresModel('float32'));
 * const { sum_squares } = await session.run({ x: new ort.Tensor('float32', grad, [grad.length]) });
 * ```
 */
export function buildSumOfSquaresModel(type: OnnxElementType): Uint8Array {
  const g = new GraphBuilder('rectify_sum_of_squares', type);
  const x = g.input(REDUCTION_INPUT, undefined, 'Any tensor.');
  const sum = g.op('ReduceSumSquare', [widened(g, x)], SUM_OF_SQUARES_OUTPUT, { keepdims: { i: 0 } });
  g.outputOf(sum, ONNX_DATA_TYPE.DOUBLE, [], 'Sum of the squares of every element, in float64.');
  return g.toModel({
    docString: 'Sum of squares of a tensor, accumulated in float64 (Rectify global-norm clipping).',
    metadata: { 'rectify.graph': 'sum-of-squares', 'rectify.dtype': type },
  });
}

/**
 * `non_finite_probe = ReduceSum(x · 0)`: `x · 0` is `0` for a finite element and NaN for
 * NaN or ±Infinity, and a sum of zeros is exactly zero, so the probe is `0` exactly when
 * every element is finite. Unlike a sum of squares it cannot overflow, and it needs no
 * widening.
 *
 * @example
 * ```ts
 * const { non_finite_probe } = await session.run({ x });
 * const finite = non_finite_probe.data[0] === 0;
 * ```
 */
export function buildNonFiniteProbeModel(type: OnnxElementType): Uint8Array {
  const g = new GraphBuilder('rectify_non_finite_probe', type);
  const x = g.input(REDUCTION_INPUT, undefined, 'Any tensor.');
  const zeros = g.op('Mul', [x, g.scalar(0)], 'x_times_zero');
  const probe = g.op('ReduceSum', [zeros], NON_FINITE_OUTPUT, { keepdims: { i: 0 } });
  g.output(probe, [], '0 when every element of x is finite, NaN otherwise.');
  return g.toModel({
    docString: 'Finiteness probe of a tensor: 0 when all elements are finite, NaN otherwise (Rectify).',
    metadata: { 'rectify.graph': 'non-finite-probe', 'rectify.dtype': type },
  });
}
