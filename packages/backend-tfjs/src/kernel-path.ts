import * as tf from '@tensorflow/tfjs';
import type { MaybePromise, RAdamBatch } from '@rectify/core';
import { map, type HostReader } from './host-read.js';
import { decodeSums, runStepKernel, runSumKernel } from './kernels.js';
import { hostSum } from './reductions.js';
import type { StepPath } from './step-path.js';
import { updateBatches } from './variables.js';

/**
 * The whole step as one kernel call in one `tf.tidy`, once every tensor has been checked:
 * the kernel computes the new `p`,
 * `m`, `v` of every slot (and core's finiteness flag, from the same pass), and only then
 * do the variables take them over with `assign`, which cannot fail (same shapes, same
 * dtype). So a failure, an allocation one included, leaves every variable as it was.
 * The flag is read back once per step (an int32 scalar: a memory copy on cpu).
 */
function applyWithKernel(step: readonly RAdamBatch<tf.Tensor>[], { consume }: HostReader): MaybePromise<boolean> {
  const batches = updateBatches(step);
  const targets = batches.flatMap((batch) => batch.targets);
  if (targets.length === 0) return true;
  const flag = tf.tidy(() => {
    const outputs = runStepKernel(batches);
    targets.forEach(({ param, m, v }, i) => {
      m.assign(outputs[3 * i + 1]!);
      v.assign(outputs[3 * i + 2]!);
      param.assign(outputs[3 * i]!);
    });
    return outputs[3 * targets.length]!;
  });
  return map(consume(flag), (values) => values[0] === 1);
}

/**
 * Steps through Rectify's registered kernels (see `kernels.ts`): one kernel call per step
 * for the update (one pass per tensor) and one per reduction, float64 arithmetic
 * throughout. The float64 sums make the finiteness check exact in one pass (a float64
 * sum of float32 values cannot overflow) and keep the global norm from overflowing.
 *
 * @example
 * ```ts
 * const path = kernelPath(hostReader(true));
 * path.allFinite([grad]); // true
 * ```
 */
export function kernelPath(reader: HostReader): StepPath {
  const { consume } = reader;
  return {
    allFinite: (tensors) =>
      tensors.length === 0
        ? true
        : map(consume(runSumKernel(tensors, false)), (words) => decodeSums(words).every(Number.isFinite)),
    sumOfSquares: (tensors) =>
      tensors.length === 0 ? 0 : map(consume(runSumKernel(tensors, true)), (words) => hostSum(decodeSums(words))),
    applyRAdam: (batches) => applyWithKernel(batches, reader),
    dispose: () => undefined,
  };
}
