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

/** Parameters and gradients made by the backend (`fromArray`) from fixed seeds, and what must be released. */
interface BackendTensors {
  readonly params: Record<string, unknown>;
  readonly grads: Record<string, unknown>;
}

/**
 * One parameter of each of `sizes` elements and one gradient for each, made by the backend
 * from fixed seeds, all filled through `scratch` (as long as the largest tensor).
 */
function backendTensors(backend: TensorBackend<any>, sizes: readonly number[], scratch: Float32Array): BackendTensors {
  const params: Record<string, unknown> = {};
  const grads: Record<string, unknown> = {};
  sizes.forEach((size, t) => {
    params[`w${t}`] = backend.fromArray(fillPseudoRandom(scratch.subarray(0, size), 2 * t + 1), [size]);
    grads[`w${t}`] = backend.fromArray(fillPseudoRandom(scratch.subarray(0, size), 2 * t + 2), [size]);
  });
  return { params, grads };
}

/** RAdam with default options, `lr 1e-3`, and the workload's `nonFinite` and `gradClipNorm`. */
function benchOptimizer(backend: TensorBackend<any>, options: WorkloadOptions): RAdam<TensorBackend<any>> {
  return new RAdam(backend, {
    lr: 1e-3,
    nonFinite: options.nonFinite,
    ...(options.gradClipNorm === undefined ? {} : { gradClipNorm: options.gradClipNorm }),
  });
}

/** Takes `options`' warm-up steps (default {@link WARMUP_STEPS}) and wraps the optimizer as a workload. */
async function warmedUp(optimizer: RAdam<TensorBackend<any>>, grads: Record<string, unknown>, sizes: readonly number[], options: WorkloadOptions, dispose: () => void): Promise<Workload> {
  for (let i = 0; i < (options.warmupSteps ?? WARMUP_STEPS); i++) await optimizer.step(grads);
  return { step: () => optimizer.step(grads), elements: sizes.reduce((sum, size) => sum + size, 0), dispose };
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
  const optimizer = benchOptimizer(backend, options);
  let grads: Record<string, unknown> = {};
  const owned: unknown[] = [];
  if (options.tensors === 'resident') {
    const host: Record<string, Float32Array> = {};
    sizes.forEach((size, t) => {
      host[`w${t}`] = fillPseudoRandom(new Float32Array(size), 2 * t + 1);
    });
    grads = { ...optimizer.registerResidentWeights(host).grads };
    for (const [t, size] of sizes.entries()) await backend.write(grads[`w${t}`], fillPseudoRandom(scratch!.subarray(0, size), 2 * t + 2));
  } else if (user) {
    const params: Record<string, unknown> = {};
    sizes.forEach((size, t) => {
      params[`w${t}`] = fillPseudoRandom(new Float32Array(size), 2 * t + 1);
      grads[`w${t}`] = fillPseudoRandom(new Float32Array(size), 2 * t + 2);
    });
    optimizer.registerTrainableWeights(params);
  } else {
    const tensors = backendTensors(backend, sizes, scratch!);
    grads = tensors.grads;
    optimizer.registerTrainableWeights(tensors.params);
    owned.push(...Object.values(tensors.params), ...Object.values(grads));
  }
  return warmedUp(optimizer, grads, sizes, options, () => {
    optimizer.dispose(); // releases what registerResidentWeights made
    for (const tensor of owned) backend.disposeTensor(tensor);
    backend.dispose?.();
  });
}

/**
 * Two workloads over the SAME backend tensors (parameters and gradients), each with its own
 * optimizer (and moments) configured by `first` and `second` (their `tensors` and
 * `beforeTensors` are ignored): for timing two configurations against each other in one
 * process, step by step, where machine noise between processes would swamp a small
 * difference. Each takes its warm-up steps. Dispose `second`, then `first` (which releases
 * the tensors and the backend).
 */
export async function createPairedWorkloads(
  backend: TensorBackend<any>,
  sizes: readonly number[],
  first: WorkloadOptions,
  second: WorkloadOptions,
): Promise<readonly [Workload, Workload]> {
  const { params, grads } = backendTensors(backend, sizes, new Float32Array(Math.max(...sizes)));
  const optimizers = [benchOptimizer(backend, first), benchOptimizer(backend, second)] as const;
  for (const optimizer of optimizers) optimizer.registerTrainableWeights(params);
  const a = await warmedUp(optimizers[0], grads, sizes, first, () => {
    optimizers[0].dispose();
    for (const tensor of [...Object.values(params), ...Object.values(grads)]) backend.disposeTensor(tensor);
    backend.dispose?.();
  });
  const b = await warmedUp(optimizers[1], grads, sizes, second, () => optimizers[1].dispose());
  return [a, b];
}
