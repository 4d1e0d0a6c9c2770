import * as tf from '@tensorflow/tfjs';
import { RectifyError } from '@rectify/core';

/**
 * `tensor` as the `tf.Variable` it must be: updates write parameters and moments with
 * `assign`, since tfjs tensors are immutable.
 *
 * @throws RectifyError `INVALID_TENSOR` for a plain tensor.
 * @example
 * ```ts
 * asVariable(param, 'parameters').assign(next);
 * ```
 */
export function asVariable(tensor: tf.Tensor, what: string): tf.Variable {
  if (!(tensor instanceof tf.Variable)) {
    throw new RectifyError(
      'INVALID_TENSOR',
      `The tfjs backend updates ${what} in place with assign(), so it must be a tf.Variable, got a plain tf.Tensor ` +
        `(wrap it with tf.variable()).`,
    );
  }
  return tensor;
}
