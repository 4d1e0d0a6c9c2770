import { RAdam, type TensorBackend } from '@rectify/core';
import { fillPseudoRandom } from './checkpoint-model.js';

/** An optimizer ready to step: what the bench times. */
export interface Workload {
  /** One optimizer step over every tensor (a promise on an asynchronous backend). */
  step(): unknown;
  /** Elements updated per step. */
  readonly elements: number;
  /** Releases the tensors (and the backend's pools). */
  dispose(): void;
}

/** Warm-up steps before timing: past RAdam's un-rectified first steps, and long enough to JIT. */
export const WARMUP_STEPS = 10;

/** How a workload's tensors are made and stepped. */
export interface WorkloadOptions {
  /** Core's `nonFinite` policy: `'propagate'` matches torch.optim.RAdam (no check) and the 28-byte roofline. */
  readonly nonFinite: 'propagate' | 'error';
  /** Core's `gradClipNorm` (none when undefined). */
  readonly gradClipNorm?: number;
  /**
   * `user`: parameters and gradients are plain `Float32Array`s the program allocated (a
   * backend that takes them, like cpu and cpu-wasm, stages them); `backend` (default):
   * both made by the backend (`fromArray`), its fast path.
   */
  readonly tensors?: 'backend' | 'user';
  /** Warm-up steps before the workload is returned (default {@link WARMUP_STEPS}). */
  readonly warmupSteps?: number;
  /**
   * Called once the scratch array is allocated and written, right before the first tensor
   * is made: where a memory measurement of the training state starts.
   */
  readonly beforeTensors?: () => void;
}

/**
 * Builds one parameter of each of `sizes` elements and one gradient for each (see
 * {@link WorkloadOptions.tensors}), from fixed seeds, so every backend steps the same data;
 * registers them with RAdam (default options, `lr 1e-3`) and takes the warm-up steps. The
 * same gradients are reused every step, as a training loop reuses its gradient buffers.
 * Backend tensors are filled from one scratch array as long as the largest tensor, written
 * before {@link WorkloadOptions.beforeTensors}: the program's initial values, not training state.
 */
export async function createWorkload(backend: TensorBackend<any>, sizes: readonly number[], options: WorkloadOptions): Promise<Workload> {
  const user = options.tensors === 'user';
  const scratch = user ? undefined : new Float32Array(Math.max(...sizes)).fill(1);
  options.beforeTensors?.();
  const make = (size: number, seed: number): unknown =>
    scratch === undefined ? fillPseudoRandom(new Float32Array(size), seed) : backend.fromArray(fillPseudoRandom(scratch.subarray(0, size), seed), [size]);
  const params: Record<string, unknown> = {};
  const grads: Record<string, unknown> = {};
  sizes.forEach((size, t) => {
    params[`w${t}`] = make(size, 2 * t + 1);
    grads[`w${t}`] = make(size, 2 * t + 2);
  });
  const optimizer = new RAdam(backend, {
    lr: 1e-3,
    nonFinite: options.nonFinite,
    ...(options.gradClipNorm === undefined ? {} : { gradClipNorm: options.gradClipNorm }),
  });
  optimizer.registerTrainableWeights(params);
  for (let i = 0; i < (options.warmupSteps ?? WARMUP_STEPS); i++) await optimizer.step(grads);
  return {
    step: () => optimizer.step(grads),
    elements: sizes.reduce((sum, size) => sum + size, 0),
    dispose: () => {
      optimizer.dispose();
      if (!user) for (const tensor of [...Object.values(params), ...Object.values(grads)]) backend.disposeTensor(tensor);
      backend.dispose?.();
    },
  };
}
