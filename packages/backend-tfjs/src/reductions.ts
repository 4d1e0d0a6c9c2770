import * as tf from '@tensorflow/tfjs';

/** Reduces a tensor to the sum of its elements (a scalar tensor). */
export type Reducer = (t: tf.Tensor) => tf.Tensor;

/**
 * `Σ t`, with the empty sum 0 made here: tfjs' webgpu backend cannot reduce a tensor of
 * no elements (its `sum` asks WebGPU for a buffer of invalid size and throws), and an
 * empty parameter is valid.
 */
function sumOf(t: tf.Tensor): tf.Tensor {
  return t.size === 0 ? tf.scalar(0, 'float32') : tf.sum(t);
}

/** tfjs' own `sum`: best where reductions run in parallel (webgl) or in float64 JS (cpu). */
export const serialSum: Reducer = sumOf;

/**
 * `sum` in two levels, rows of `chunk` elements first. The wasm backend sums into a single
 * accumulator, so a long reduction waits on the latency of every add in turn; short rows
 * are independent, and the second level is `chunk` times shorter. About 2.3× faster for
 * 1M elements at `chunk` 16 on wasm, slower on the cpu backend (hence a choice by
 * backend). NaN and ±∞ propagate exactly as in one sum.
 *
 * @example
 * ```ts
 * const reduce = chunkedSum(16);
 * reduce(tf.ones([1024])).dataSync(); // [1024]
 * ```
 */
export function chunkedSum(chunk: number): Reducer {
  return (t) =>
    t.size % chunk === 0 && t.size >= chunk * chunk
      ? tf.sum(tf.sum(tf.reshape(t, [t.size / chunk, chunk]), 1))
      : sumOf(t);
}

/**
 * The reduction that suits tfjs backend `name`: two-level on wasm, tfjs' own elsewhere.
 *
 * @example
 * ```ts
 * const reduce = reducerFor(tf.getBackend());
 * ```
 */
export function reducerFor(name: string): Reducer {
  return name === 'wasm' ? chunkedSum(16) : serialSum;
}

/**
 * One scalar per tensor, stacked into one tensor: whatever reads back in one go.
 *
 * @example
 * ```ts
 * stackScalars([tf.sum(a), tf.sum(b)]); // shape [2]
 * ```
 */
export function stackScalars(scalars: tf.Tensor[]): tf.Tensor {
  return scalars.length === 1 ? scalars[0]! : tf.stack(scalars);
}

/**
 * `Σ (x − x)` per tensor: exactly 0 when every element is finite, NaN otherwise. The exact
 * finiteness check, for when a cheaper sum was not finite (it may just have overflowed).
 * Built from sub and sum, which every tfjs backend implements (isFinite is not on all).
 *
 * @example
 * ```ts
 * nanProbes([tf.tensor([1, NaN])], serialSum).dataSync(); // [NaN]
 * ```
 */
export function nanProbes(tensors: readonly tf.Tensor[], reduce: Reducer): tf.Tensor {
  return tf.tidy(() => stackScalars(tensors.map((t) => reduce(tf.sub(t, t)))));
}

/**
 * Largest `|x|` per tensor: the scale that keeps an overflowing sum of squares finite.
 *
 * @example
 * ```ts
 * maxAbs([tf.tensor([1e20, -3e20])]).dataSync(); // [3e20]
 * ```
 */
export function maxAbs(tensors: readonly tf.Tensor[]): tf.Tensor {
  return tf.tidy(() => stackScalars(tensors.map((t) => tf.max(tf.abs(t)))));
}

/**
 * `Σ (x / scale)²` per tensor (`scales[i]` > 0, given on the host).
 *
 * @example
 * ```ts
 * scaledSquaredSums([tf.tensor([2e20])], [2e20], serialSum).dataSync(); // [1]
 * ```
 */
export function scaledSquaredSums(tensors: readonly tf.Tensor[], scales: ArrayLike<number>, reduce: Reducer): tf.Tensor {
  return tf.tidy(() => stackScalars(tensors.map((t, i) => reduce(tf.square(tf.div(t, scales[i]!))))));
}

/**
 * Sums `values` on the host in float64, in order (the per-tensor sums are float32).
 *
 * @example
 * ```ts
 * hostSum(new Float32Array([0.5, 0.25])); // 0.75
 * ```
 */
export function hostSum(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum;
}
