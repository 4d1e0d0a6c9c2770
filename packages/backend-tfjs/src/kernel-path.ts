import * as tf from '@tensorflow/tfjs';
import type { RAdamScalars, RAdamSlot } from '@rectify/core';
import { map, type HostReader } from './host-read.js';
import { decodeSums, runSumKernel, runUpdateKernel } from './kernels.js';
import { hostSum } from './reductions.js';
import type { StepPath } from './step-path.js';
import { asVariable } from './variables.js';

/**
 * The update as one kernel call per tensor, in one `tf.tidy`: the kernel writes new
 * `p`, `m`, `v` tensors, which the variables take over with `assign`.
 */
function applyWithKernel(slots: readonly RAdamSlot<tf.Tensor>[], scalars: RAdamScalars): void {
  // Check every slot before touching any, so a bad call changes nothing.
  const targets = slots.map((slot) => ({
    param: asVariable(slot.param, 'parameters'),
    grad: slot.grad,
    m: asVariable(slot.firstMoment, 'moments'),
    v: asVariable(slot.secondMoment, 'moments'),
  }));
  tf.tidy(() => {
    for (const { param, grad, m, v } of targets) {
      const [p1, m1, v1] = runUpdateKernel(param, grad, m, v, scalars);
      m.assign(m1);
      v.assign(v1);
      param.assign(p1);
    }
  });
}

/**
 * Steps through Rectify's registered kernels (see `kernels.ts`): one pass per tensor for
 * the update and for each reduction, float64 arithmetic throughout. The float64 sums make
 * the finiteness check exact in one pass (a float64 sum of float32 values cannot
 * overflow) and keep the global norm from overflowing.
 *
 * @example
 * ```ts
 * const path = kernelPath(hostReader(true));
 * path.allFinite([grad]); // true
 * ```
 */
export function kernelPath({ consume }: HostReader): StepPath {
  return {
    allFinite: (tensors) =>
      tensors.length === 0
        ? true
        : map(consume(runSumKernel(tensors, false)), (words) => decodeSums(words).every(Number.isFinite)),
    sumOfSquares: (tensors) =>
      tensors.length === 0 ? 0 : map(consume(runSumKernel(tensors, true)), (words) => hostSum(decodeSums(words))),
    applyRAdam: applyWithKernel,
    dispose: () => undefined,
  };
}
