import * as tf from '@tensorflow/tfjs';
import type { MaybePromise, RAdamBatch } from '@rectify/core';
import { map, type HostReader } from './host-read.js';
import { decodeSums, runStepKernel, runSumKernel } from './kernels.js';
import { hostSum } from './reductions.js';
import type { StepPath } from './step-path.js';
import { updateBatches } from './variables.js';

/**
 * The whole step as one kernel call in one `tf.tidy`, once every tensor has been checked:
 * the kernel computes the new `p`, `m`, `v` of every slot (and core's finiteness flag,
 * from the same pass), in place where no other tensor shares a variable's data (on wasm),
 * else into new tensors that only then do the variables take over with `assign`, which
 * cannot fail (same shapes, same dtype). The kernel allocates everything before its first
 * write, so a failure, an allocation one included, leaves every variable as it was.
 * The flag is read back once per step (an int32 scalar: a memory copy).
 */
function applyWithKernel(step: readonly RAdamBatch<tf.Tensor>[], { consume }: HostReader): MaybePromise<boolean> {
  const batches = updateBatches(step);
  const targets = batches.flatMap((batch) => batch.targets);
  if (targets.length === 0) return true;
  const flag = tf.tidy(() => {
    const { outputs, inPlace } = runStepKernel(batches);
    let next = 0;
    targets.forEach(({ param, m, v }, i) => {
      [param, m, v].forEach((variable, r) => {
        if (!inPlace[3 * i + r]) variable.assign(outputs[next++]!);
      });
    });
    return outputs[next]!;
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
