import type * as tf from '@tensorflow/tfjs';
import { RectifyError } from '@rectify/core';

/**
 * tfjs' `{ name, tensor }` pair of optimizer weights (tfjs-core's `NamedTensor`, which the
 * `@tensorflow/tfjs` bundle does not export by name).
 *
 * @example
 * ```ts
 * const weights: NamedTensor[] = await optimizer.getWeights(); // [{ name: 'iter', tensor }, …]
 * ```
 */
export type NamedTensor = Parameters<tf.Optimizer['setWeights']>[0][number];

/**
 * Name of the iteration counter among an optimizer's weights (tfjs' own convention).
 *
 * @example
 * ```ts
 * weights.find((w) => w.name === ITERATIONS_WEIGHT);
 * ```
 */
export const ITERATIONS_WEIGHT = 'iter';

/**
 * Suffixes of one parameter's weights: `<variable name>/m`, `/v` and `/step`.
 *
 * @example
 * ```ts
 * `${variable.name}${MOMENT_SUFFIXES.m}`; // 'dense_Dense1/kernel/m'
 * ```
 */
export const MOMENT_SUFFIXES = { m: '/m', v: '/v', step: '/step' } as const;

/** One parameter's optimizer state, read from named tensors onto the host. */
export interface SavedParamState {
  /** The variable name it was saved under. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly step: number;
  readonly m: Float32Array;
  readonly v: Float32Array;
}

/** What `setWeights()` was given, validated. */
export interface SavedOptimizerWeights {
  /** The `iter` entry, when present. */
  readonly iterations: number | undefined;
  /** Per-parameter state, in the order the entries first appear. */
  readonly params: readonly SavedParamState[];
}

function invalid(message: string, parameter?: string): RectifyError {
  return new RectifyError('INVALID_STATE_DICT', `Invalid optimizer weights: ${message}`, parameter);
}

function nonNegativeInteger(values: ArrayLike<number>, where: string): number {
  const value = values[0];
  if (values.length !== 1 || value === undefined || !Number.isInteger(value) || value < 0) {
    throw invalid(`${where} must be one non-negative integer.`, where);
  }
  return value;
}

function finiteMoment(values: Float32Array, where: string, nonNegative: boolean): Float32Array {
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!Number.isFinite(x) || (nonNegative && x < 0)) {
      throw invalid(`${where}[${i}] is ${x}; moments must be finite${nonNegative ? ' and >= 0' : ''}.`, where);
    }
  }
  return values;
}

/**
 * Reads and validates the named tensors of `RAdamOptimizer.getWeights()`: `iter`, then
 * `<name>/m`, `<name>/v` (float32, same shape) and `<name>/step` (an integer scalar) per
 * parameter. Everything is checked before anything is returned, so a caller can apply
 * the result without partial failure. The tensors are only read, never disposed.
 *
 * @throws RectifyError `INVALID_STATE_DICT` naming the first bad entry.
 * @example
 * ```ts
 * const { iterations, params } = await readOptimizerWeights(await opt.getWeights());
 * ```
 */
export async function readOptimizerWeights(weights: readonly NamedTensor[]): Promise<SavedOptimizerWeights> {
  if (!Array.isArray(weights)) throw invalid('expected a list of { name, tensor }.');
  let iterations: number | undefined;
  const parts = new Map<string, { m?: tf.Tensor; v?: tf.Tensor; step?: tf.Tensor }>();
  for (const entry of weights) {
    const { name, tensor } = (entry ?? {}) as Partial<NamedTensor>;
    if (typeof name !== 'string' || tensor == null || typeof tensor.data !== 'function') {
      throw invalid('every entry must be { name: string, tensor: tf.Tensor }.');
    }
    if (name === ITERATIONS_WEIGHT) {
      iterations = nonNegativeInteger(await tensor.data(), ITERATIONS_WEIGHT);
      continue;
    }
    const kind = (Object.keys(MOMENT_SUFFIXES) as (keyof typeof MOMENT_SUFFIXES)[]).find((k) =>
      name.endsWith(MOMENT_SUFFIXES[k]),
    );
    if (kind === undefined) throw invalid(`"${name}" is not an RAdam weight (…/m, …/v, …/step or iter).`, name);
    const base = name.slice(0, -MOMENT_SUFFIXES[kind].length);
    const part = parts.get(base) ?? {};
    if (part[kind] !== undefined) throw invalid(`"${name}" appears twice.`, name);
    part[kind] = tensor;
    parts.set(base, part);
  }

  const params: SavedParamState[] = [];
  for (const [name, { m, v, step }] of parts) {
    if (m === undefined || v === undefined || step === undefined) {
      throw invalid(`"${name}" needs all of ${name}/m, ${name}/v and ${name}/step.`, name);
    }
    if (m.dtype !== 'float32' || v.dtype !== 'float32') throw invalid(`the moments of "${name}" must be float32.`, name);
    if (m.shape.length !== v.shape.length || m.shape.some((d, i) => d !== v.shape[i])) {
      throw invalid(`${name}/m has shape [${m.shape.join(', ')}] but ${name}/v has [${v.shape.join(', ')}].`, name);
    }
    params.push({
      name,
      shape: [...m.shape],
      step: nonNegativeInteger(await step.data(), `${name}/step`),
      m: finiteMoment(Float32Array.from((await m.data()) as Float32Array), `${name}/m`, false),
      v: finiteMoment(Float32Array.from((await v.data()) as Float32Array), `${name}/v`, true),
    });
  }
  return { iterations, params };
}

/**
 * Whether two shapes hold the same dimensions.
 *
 * @example
 * ```ts
 * sameShape([2, 3], [2, 3]); // true
 * ```
 */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
