import type * as tf from '@tensorflow/tfjs';
import type { MaybePromise, RAdamScalars, RAdamSlot } from '@rectify/core';

/**
 * The compute half of a tfjs backend: the reductions core asks for before a step and the
 * fused update itself. Two implementations: Rectify's own kernels (`kernel-path.ts`, tfjs'
 * cpu backend) and a graph of stock tfjs ops (`op-graph-path.ts`, every other backend).
 *
 * @example
 * ```ts
 * const path: StepPath = kernelPath(hostReader(true));
 * if (path.allFinite([grad])) path.applyRAdam(slots, scalars);
 * ```
 */
export interface StepPath {
  /** `Σ g²` over every element of every tensor, in float64 where possible. */
  sumOfSquares(tensors: readonly tf.Tensor[]): MaybePromise<number>;
  /** `true` when no element is NaN or ±∞. */
  allFinite(tensors: readonly tf.Tensor[]): MaybePromise<boolean>;
  /** The fused RAdam update of every slot (parameters and moments are `tf.Variable`s). */
  applyRAdam(slots: readonly RAdamSlot<tf.Tensor>[], scalars: RAdamScalars): void;
  /** Frees whatever the path keeps between calls. */
  dispose(): void;
}
