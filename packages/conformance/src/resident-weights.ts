import { RAdam, type HostWeightTree, type TensorBackend } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { expectRejectedUnchanged, trainedFixture, B, W } from './fixture.js';
import type { BackendFactory } from './replay.js';

/** Gradients of the three steps below: the same for both registrations. */
const GRADS = [0.3, -0.1, 0.05, 0.2, -0.4, 0.25];

async function hostCopy(backend: TensorBackend<any>, tensor: unknown): Promise<number[]> {
  return Array.from(await backend.read(tensor));
}

/**
 * `RAdam.registerResidentWeights` on a backend: host weights copied into backend tensors
 * that step exactly as tensors the caller made with `fromArray`, gradient buffers that
 * `step()` takes as they are, nothing of the caller's kept, everything released by
 * `dispose()`, and bad input rejected with nothing allocated or registered.
 */
export function describeResidentWeights(createBackend: BackendFactory, timeout: number): void {
  describe('registerResidentWeights: host weights moved into the backend once', () => {
    it('steps exactly as parameters made with fromArray, nested names and shapes kept', { timeout }, async () => {
      const backend = await createBackend();
      const options = { lr: 0.01, weightDecay: 0.01 };
      const resident = new RAdam(backend, options);
      const host = { dense: { kernel: { data: Float32Array.from(W), shape: [2, 3] }, bias: Float64Array.from(B) } };
      const { params, grads } = resident.registerResidentWeights(host);
      // Typed by the host tree's own keys: no casts.
      const dense = params.dense;
      const gradDense = grads.dense;
      expect(resident.paramGroups).toEqual([['dense.kernel', 'dense.bias']]);
      const reference = new RAdam(backend, options);
      const made = { kernel: backend.fromArray(W, [2, 3]), bias: backend.fromArray(B, [3]) };
      // The shape as the backend keeps it (flat backends keep [6]).
      expect(backend.shapeOf(dense.kernel)).toEqual(backend.shapeOf(made.kernel));
      expect(backend.shapeOf(gradDense.kernel)).toEqual(backend.shapeOf(made.kernel));
      expect(await hostCopy(backend, gradDense.bias)).toEqual([0, 0, 0]);

      reference.registerTrainableWeights({ dense: made });
      for (let step = 0; step < 3; step++) {
        const kernelGrad = GRADS.map((g) => g * (step + 1));
        const biasGrad = GRADS.slice(0, 3).map((g) => -g / (step + 1));
        await backend.write(gradDense.kernel, kernelGrad);
        await backend.write(gradDense.bias, biasGrad);
        await resident.step(grads);
        await reference.step({ dense: { kernel: backend.fromArray(kernelGrad, [2, 3]), bias: backend.fromArray(biasGrad, [3]) } });
      }
      expect(await hostCopy(backend, dense.kernel)).toEqual(await hostCopy(backend, made.kernel));
      expect(await hostCopy(backend, dense.bias)).toEqual(await hostCopy(backend, made.bias));
      expect(await hostCopy(backend, dense.kernel)).not.toEqual(Array.from(Float32Array.from(W)));
      resident.dispose();
      reference.dispose();
      backend.dispose?.();
    });

    it('keeps nothing of the caller: later writes to the host arrays change nothing', { timeout }, async () => {
      const backend = await createBackend();
      const optimizer = new RAdam(backend);
      const values = Float32Array.from(B);
      const { params } = optimizer.registerResidentWeights({ b: values });
      values.fill(7);
      expect(await hostCopy(backend, params['b'])).toEqual(Array.from(Float32Array.from(B)));
      expect(params['b']).not.toBe(values);
      optimizer.dispose();
      backend.dispose?.();
    });

    it('dispose() releases the parameters and gradient buffers it made (backends with resourceCounts)', { timeout }, async (context) => {
      const backend = await createBackend();
      if (backend.resourceCounts === undefined) {
        backend.dispose?.();
        context.skip();
      }
      const register = (): RAdam<TensorBackend<any>> => {
        const optimizer = new RAdam(backend);
        optimizer.registerResidentWeights({ w: Float32Array.from(W), b: Float32Array.from(B) });
        return optimizer;
      };
      // A throw-away round first: a backend may keep pooled memory (arena pages) for reuse.
      register().dispose();
      const before = backend.resourceCounts?.();
      const optimizer = register();
      optimizer.dispose();
      expect(backend.resourceCounts?.()).toEqual(before);
      backend.dispose?.();
    });

    const bad: [string, (fresh: () => Float32Array) => HostWeightTree, string, 'INVALID_TENSOR' | 'SHAPE_MISMATCH' | 'DUPLICATE_PARAMETER'][] = [
      ['a plain number[] leaf', () => ({ x: [1, 2, 3] as never }), 'x', 'INVALID_TENSOR'],
      ['a shape that does not hold the values', (fresh) => ({ x: { data: fresh(), shape: [2, 2] } }), 'x', 'SHAPE_MISMATCH'],
      ['a negative dimension', (fresh) => ({ x: { data: fresh(), shape: [-3] } }), 'x', 'INVALID_TENSOR'],
      ['a NaN value', () => ({ x: Float32Array.from([1, NaN, 3]) }), 'x', 'INVALID_TENSOR'],
      ['a value past the backend dtype', () => ({ x: Float64Array.from([1, 1e39, 3]) }), 'x', 'INVALID_TENSOR'],
      ['two paths with one dotted name ("y.z")', (fresh) => ({ 'y.z': fresh(), y: { z: fresh() } }), 'y.z', 'DUPLICATE_PARAMETER'],
      ['a name already registered', (fresh) => ({ x: fresh(), w: fresh() }), 'w', 'DUPLICATE_PARAMETER'],
    ];
    for (const [label, weights, parameter, code] of bad) {
      it(`${label}: ${code}, nothing allocated or registered`, { timeout }, async () => {
        const f = await trainedFixture(createBackend);
        const tree = weights(() => Float32Array.from([1, 2, 3]));
        // A float64 backend holds 1e39: only a float32 one must reject it.
        if (label.includes('dtype') && f.backend.dtype === 'float64') {
          const { params } = f.optimizer.registerResidentWeights(tree);
          expect(await hostCopy(f.backend, params['x'])).toEqual([1, 1e39, 3]);
          return;
        }
        const counts = f.backend.resourceCounts?.();
        await expectRejectedUnchanged(f, () => f.optimizer.registerResidentWeights(tree), code, parameter);
        expect(f.backend.resourceCounts?.()).toEqual(counts);
      });
    }
  });
}
