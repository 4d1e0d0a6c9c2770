import { RAdam, type TensorBackend } from '@rectify/core';
import type { Shape } from './args.js';

/** An optimizer ready to step: what the bench times. */
export interface Workload {
  /** One optimizer step over every tensor (a promise on an asynchronous backend). */
  step(): unknown;
  /** Elements updated per step. */
  readonly elements: number;
  /** Releases the tensors (and the backend's pools). */
  dispose(): void;
}

/** Uniform values in [-1, 1) from a fixed seed, so every backend steps the same data. */
function uniform(length: number, seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    // xorshift32: fast enough for 10M elements, and deterministic.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = (state >>> 0) / 2147483648 - 1;
  }
  return out;
}

/** Warm-up steps before timing: past RAdam's un-rectified first steps, and long enough to JIT. */
const WARMUP_STEPS = 10;

/**
 * Builds `shape.tensors` parameters of `shape.size` elements and one gradient for each,
 * all created by the backend itself (`fromArray`), so a backend with its own memory runs
 * on its fast path; registers them with RAdam (default options, `lr 1e-3`) and takes
 * {@link WARMUP_STEPS} steps. The same gradients are reused every step, as a training loop
 * reuses its gradient buffers.
 *
 * @param checkFinite - `nonFinite: 'error'` (core checks every gradient each step) instead
 *   of `'propagate'`, which matches torch.optim.RAdam (no check) and the 28-byte roofline.
 */
export async function createWorkload(backend: TensorBackend<any>, shape: Shape, checkFinite: boolean): Promise<Workload> {
  const params: Record<string, unknown> = {};
  const grads: Record<string, unknown> = {};
  for (let t = 0; t < shape.tensors; t++) {
    params[`w${t}`] = backend.fromArray(uniform(shape.size, 2 * t + 1), [shape.size]);
    grads[`w${t}`] = backend.fromArray(uniform(shape.size, 2 * t + 2), [shape.size]);
  }
  const optimizer = new RAdam(backend, { lr: 1e-3, nonFinite: checkFinite ? 'error' : 'propagate' });
  optimizer.registerTrainableWeights(params);
  for (let i = 0; i < WARMUP_STEPS; i++) await optimizer.step(grads);
  return {
    step: () => optimizer.step(grads),
    elements: shape.size * shape.tensors,
    dispose: () => {
      optimizer.dispose();
      for (const tensor of [...Object.values(params), ...Object.values(grads)]) backend.disposeTensor(tensor);
      backend.dispose?.();
    },
  };
}
