import type * as tf from '@tensorflow/tfjs';
import type { MaybePromise } from '@rectify/core';

/**
 * `then` for values that may or may not be promises: the synchronous path stays
 * synchronous (no promise, no microtask), the asynchronous one chains.
 *
 * @example
 * ```ts
 * map(3, (x) => x + 1);                  // 4
 * map(Promise.resolve(3), (x) => x + 1); // Promise<4>
 * ```
 */
export function map<A, B>(value: MaybePromise<A>, f: (a: A) => MaybePromise<B>): MaybePromise<B> {
  return value !== null && typeof value === 'object' && 'then' in (value as object)
    ? Promise.resolve(value as PromiseLike<A>).then(f)
    : f(value as A);
}

/**
 * How a backend reads tensors back to the host.
 *
 * @example
 * ```ts
 * const reader: HostReader = hostReader(false);
 * await reader.consume(tf.sum(x)); // Float64Array [Σx]
 * ```
 */
export interface HostReader {
  /** The elements of `t` (possibly tfjs' own buffer: copy before keeping them). */
  read(t: tf.Tensor): MaybePromise<ArrayLike<number>>;
  /** A small temporary tensor (float32 or int32) as exact float64 values; disposes it. */
  consume(t: tf.Tensor): MaybePromise<Float64Array>;
}

/**
 * Host reads with `dataSync()` (`synchronous`) or `data()`: the one place where the
 * synchronous and asynchronous backends differ.
 *
 * @example
 * ```ts
 * const { consume } = hostReader(true);
 * consume(tf.sum(x)); // Float64Array [Σx], and the sum tensor is disposed
 * ```
 */
export function hostReader(synchronous: boolean): HostReader {
  const read = synchronous
    ? (t: tf.Tensor): ArrayLike<number> => t.dataSync()
    : (t: tf.Tensor): Promise<ArrayLike<number>> => t.data();
  const consume = (t: tf.Tensor): MaybePromise<Float64Array> => {
    let values: MaybePromise<ArrayLike<number>>;
    try {
      values = read(t);
    } catch (error) {
      t.dispose();
      throw error;
    }
    if (!synchronous) {
      // Dispose only once the (GPU) download has finished.
      return (values as Promise<ArrayLike<number>>).then((v) => Float64Array.from(v)).finally(() => t.dispose());
    }
    // tfjs may hand out its own buffer: copy before the tensor (and buffer) goes.
    const copy = Float64Array.from(values as ArrayLike<number>);
    t.dispose();
    return copy;
  };
  return { read, consume };
}
