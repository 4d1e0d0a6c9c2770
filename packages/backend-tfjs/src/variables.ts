import * as tf from '@tensorflow/tfjs';
import { RectifyError, type RAdamBatch, type RAdamScalars } from '@rectify/core';

/**
 * Whether `value` is a float32 tfjs tensor whose data still exists: any tensor can be a
 * gradient.
 *
 * `isDisposed` alone misses variables: `tf.disposeVariables()` (and the engine's
 * `disposeVariable`, which it calls) frees a variable's data and unregisters it without
 * marking it disposed, and `assign` on such a variable would quietly bring it back. A
 * live variable is the one registered under its name. Both tests are a property read
 * and one lookup: cheap enough for every tensor of every step.
 *
 * @example
 * ```ts
 * isLiveTensor(tf.tensor([1]));       // true
 * const v = tf.variable(tf.zeros([2]));
 * tf.disposeVariables();
 * isLiveTensor(v);                    // false, although v.isDisposed is false
 * ```
 */
export function isLiveTensor(value: unknown): value is tf.Tensor {
  // tf.Tensor's instanceof is duck-typed by tfjs, so tensors from another copy of tfjs pass.
  if (!(value instanceof tf.Tensor) || value.dtype !== 'float32' || value.isDisposed) return false;
  return !(value instanceof tf.Variable) || tf.engine().registeredVariables[value.name] === value;
}

/**
 * Whether `value` is a live float32 `tf.Variable`: what the backend can update in place
 * (with `assign`), so what may be registered as a parameter. A plain `tf.Tensor` is
 * immutable: a valid gradient, never a parameter.
 *
 * @example
 * ```ts
 * isLiveVariable(tf.variable(tf.zeros([2]))); // true
 * isLiveVariable(tf.zeros([2]));              // false: a plain tensor
 * ```
 */
export function isLiveVariable(value: unknown): value is tf.Variable {
  return value instanceof tf.Variable && isLiveTensor(value);
}

/**
 * `tensor` as the live `tf.Variable` it must be for `what` to be written.
 *
 * @throws RectifyError `INVALID_TENSOR` for a plain tensor or a disposed variable.
 * @example
 * ```ts
 * liveVariable(moment, 'the tensor written to').assign(next);
 * ```
 */
export function liveVariable(tensor: tf.Tensor, what: string): tf.Variable {
  if (isLiveVariable(tensor)) return tensor;
  const got = !(tensor instanceof tf.Variable)
    ? 'a plain tf.Tensor (tfjs tensors are immutable: wrap it with tf.variable())'
    : tensor.dtype !== 'float32'
      ? `a ${tensor.dtype} tf.Variable`
      : 'a disposed tf.Variable';
  throw new RectifyError('INVALID_TENSOR', `The tfjs backend updates ${what} in place with assign(), so it must be a live float32 tf.Variable; got ${got}.`);
}

/** One slot of a step with its tensors checked: what the update writes, with what it reads. */
export interface UpdateTarget {
  readonly param: tf.Variable;
  readonly grad: tf.Tensor;
  readonly m: tf.Variable;
  readonly v: tf.Variable;
}

/** The checked slots of one batch and their scalars. */
export interface UpdateBatch {
  readonly targets: readonly UpdateTarget[];
  readonly scalars: RAdamScalars;
}

/**
 * Checks every tensor of every batch of a step before anything is written: the all or
 * nothing of `applyRAdam`. Parameters and moments must be live float32 variables,
 * gradients live float32 tensors (core checked them when the step began, but on an
 * asynchronous backend the caller may dispose one while the step awaits a readback).
 *
 * @throws RectifyError `INVALID_TENSOR` naming the first bad tensor (group batch and slot).
 * @example
 * ```ts
 * const checked = updateBatches(batches); // throws before any write
 * ```
 */
export function updateBatches(batches: readonly RAdamBatch<tf.Tensor>[]): UpdateBatch[] {
  return batches.map(({ slots, scalars }, b) => ({
    scalars,
    targets: slots.map((slot, i) => {
      const where = `slot ${i} of batch ${b}`;
      if (!isLiveTensor(slot.grad)) {
        throw new RectifyError('INVALID_TENSOR', `The gradient of ${where} is not a live float32 tf.Tensor (disposed?).`);
      }
      return {
        param: liveVariable(slot.param, `the parameter of ${where}`),
        grad: slot.grad,
        m: liveVariable(slot.firstMoment, `the first moment of ${where}`),
        v: liveVariable(slot.secondMoment, `the second moment of ${where}`),
      };
    }),
  }));
}
