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
   * both made by the backend (`fromArray`), its fast path; `resident`: the program's own
   * `Float32Array`s handed to `registerResidentWeights`, which moves them into the backend
   * and hands back the gradient buffers the program then writes (the README's first example).
   */
  readonly tensors?: 'backend' | 'user' | 'resident';
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
  const optimizer = new RAdam(backend, {
    lr: 1e-3,
    nonFinite: options.nonFinite,
    ...(options.gradClipNorm === undefined ? {} : { gradClipNorm: options.gradClipNorm }),
  });
  let grads: Record<string, unknown> = {};
  const owned: unknown[] = [];
  if (options.tensors === 'resident') {
    const host: Record<string, Float32Array> = {};
    sizes.forEach((size, t) => {
      host[`w${t}`] = fillPseudoRandom(new Float32Array(size), 2 * t + 1);
    });
    grads = { ...optimizer.registerResidentWeights(host).grads };
    for (const [t, size] of sizes.entries()) await backend.write(grads[`w${t}`], fillPseudoRandom(scratch!.subarray(0, size), 2 * t + 2));
  } else {
    const params: Record<string, unknown> = {};
    sizes.forEach((size, t) => {
      params[`w${t}`] = make(size, 2 * t + 1);
      grads[`w${t}`] = make(size, 2 * t + 2);
    });
    optimizer.registerTrainableWeights(params);
    if (!user) owned.push(...Object.values(params), ...Object.values(grads));
  }
  for (let i = 0; i < (options.warmupSteps ?? WARMUP_STEPS); i++) await optimizer.step(grads);
  return {
    step: () => optimizer.step(grads),
    elements: sizes.reduce((sum, size) => sum + size, 0),
    dispose: () => {
      optimizer.dispose(); // releases what registerResidentWeights made
      for (const tensor of owned) backend.disposeTensor(tensor);
      backend.dispose?.();
    },
  };
}
