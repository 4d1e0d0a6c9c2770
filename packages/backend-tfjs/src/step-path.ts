import type * as tf from '@tensorflow/tfjs';
import type { MaybePromise, RAdamBatch } from '@rectify/core';

/**
 * The compute half of a tfjs backend: the reductions core asks for before a step and the
 * fused update itself. Two implementations: Rectify's own kernels (`kernel-path.ts`, tfjs'
 * cpu backend) and a graph of stock tfjs ops (`op-graph-path.ts`, every other backend).
 *
 * @example
 * ```ts
 * const path: StepPath = kernelPath(hostReader(true));
 * if (path.allFinite([grad])) path.applyRAdam(batches);
 * ```
 */
export interface StepPath {
  /** `Σ g²` over every element of every tensor, in float64 where possible. */
  sumOfSquares(tensors: readonly tf.Tensor[]): MaybePromise<number>;
  /** `true` when no element is NaN or ±∞. */
  allFinite(tensors: readonly tf.Tensor[]): MaybePromise<boolean>;
  /**
   * The fused RAdam update of every slot of every batch: checks every tensor
   * (`updateBatches`), computes every new value, and only then assigns the first;
   * returns whether every value written is finite.
   */
  applyRAdam(batches: readonly RAdamBatch<tf.Tensor>[]): MaybePromise<boolean>;
  /** Frees whatever the path keeps between calls. */
  dispose(): void;
}
