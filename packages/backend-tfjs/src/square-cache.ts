import * as tf from '@tensorflow/tfjs';

/**
 * `g²` of the gradients of the step in progress. The finiteness check and the global norm
 * both reduce `g²`; keeping it lets the update that follows skip its own `square(g)`, so
 * the check costs one reduction instead of a reduction plus a full pass.
 *
 * Entries are `tf.keep`-ed (an enclosing `tf.tidy`, such as tfjs-layers' training loop,
 * must not free them between the check and the update) and owned here: the backend drops
 * them when the update ends, when the check fails (no update follows), where their sum
 * was not finite (a float32 `g²` that overflowed is of no use to the update), or on
 * dispose.
 *
 * @example
 * ```ts
 * const cache = new SquareCache();
 * const sq = cache.squareOf(grad); // computed once…
 * cache.peek(grad) === sq;         // …reused by the update
 * cache.clear();
 * ```
 */
export class SquareCache {
  readonly #squares = new Map<tf.Tensor, tf.Tensor>();

  /** `t²`, cached. */
  squareOf(t: tf.Tensor): tf.Tensor {
    let square = this.#squares.get(t);
    if (square === undefined || square.isDisposed) {
      square = tf.keep(tf.tidy(() => tf.square(t)));
      this.#squares.set(t, square);
    }
    return square;
  }

  /** The cached `t²`, if the check computed it. */
  peek(t: tf.Tensor): tf.Tensor | undefined {
    const square = this.#squares.get(t);
    return square === undefined || square.isDisposed ? undefined : square;
  }

  /** Drops the entry of `t`, if any. */
  drop(t: tf.Tensor): void {
    this.#squares.get(t)?.dispose();
    this.#squares.delete(t);
  }

  /** Drops every entry except those of `tensors` (left over from calls with no update). */
  retainOnly(tensors: readonly tf.Tensor[]): void {
    if (this.#squares.size === 0) return;
    const keep = new Set(tensors);
    for (const [t, square] of this.#squares) {
      if (!keep.has(t)) {
        square.dispose();
        this.#squares.delete(t);
      }
    }
  }

  /** Drops every entry. */
  clear(): void {
    for (const square of this.#squares.values()) square.dispose();
    this.#squares.clear();
  }
}
