import { RAdam, type TensorBackend } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/index.js';
import { describeBackendConformance } from '@rectify/conformance/vitest';

/**
 * The float64 CPU backend behind promises that settle on a later macrotask: stands in for
 * GPU readback or ONNX Runtime, to prove core's asynchronous path.
 */
function asyncCpuBackend(log: string[] = []): TensorBackend<Float64Array> {
  const inner = cpuBackend({ dtype: 'float64' });
  const later = <R>(label: string, run: () => R): Promise<R> =>
    new Promise((resolve) =>
      setTimeout(() => {
        log.push(label);
        resolve(run());
      }, 1),
    );
  return {
    ...inner,
    name: 'cpu64-async',
    synchronous: false,
    read: (t) => later('read', () => inner.read(t)),
    write: (t, d) => later('write', () => inner.write(t, d)),
    sumOfSquares: (ts) => later('sumOfSquares', () => inner.sumOfSquares(ts)),
    allFinite: (ts) => later('allFinite', () => inner.allFinite(ts)),
    applyRAdam: (batches) => later('applyRAdam', () => inner.applyRAdam(batches)),
  } as TensorBackend<Float64Array>;
}

describe('an asynchronous backend', () => {
  it('makes step() return a promise with the same result as the synchronous backend', async () => {
    const syncP = Float64Array.from([1, -1]);
    const asyncP = Float64Array.from([1, -1]);
    const syncOpt = new RAdam(cpuBackend({ dtype: 'float64' }), { lr: 0.1, gradClipNorm: 0.3 });
    const asyncOpt = new RAdam(asyncCpuBackend(), { lr: 0.1, gradClipNorm: 0.3 });
    syncOpt.registerTrainableWeights({ p: syncP });
    asyncOpt.registerTrainableWeights({ p: asyncP });
    for (let i = 0; i < 10; i++) {
      const g = [Math.sin(i), Math.cos(i)];
      syncOpt.step({ p: Float64Array.from(g) });
      const pending = asyncOpt.step({ p: Float64Array.from(g) });
      expect(pending).toBeInstanceOf(Promise);
      await pending;
    }
    expect(Array.from(asyncP)).toEqual(Array.from(syncP));
  });

  it('queues a second step() issued while one is in flight: no interleaving', async () => {
    const log: string[] = [];
    const p = Float64Array.from([1, -1]);
    const opt = new RAdam(asyncCpuBackend(log), { lr: 0.1 });
    opt.registerTrainableWeights({ p });
    const first = opt.step({ p: Float64Array.from([1, 1]) });
    const second = opt.step({ p: Float64Array.from([2, 2]) });
    const state = opt.readState('p');
    await Promise.all([first, second, state]);
    expect(log).toEqual(['allFinite', 'applyRAdam', 'allFinite', 'applyRAdam', 'read', 'read']);
    expect((await state).step).toBe(2);
    expect(opt.stepCount).toBe(2);
  });

  it('a failed step does not block the queue', async () => {
    const opt = new RAdam(asyncCpuBackend(), { lr: 0.1 });
    const p = Float64Array.from([1]);
    opt.registerTrainableWeights({ p });
    const bad = opt.step({ p: Float64Array.from([NaN]) });
    const good = opt.step({ p: Float64Array.from([1]) });
    await expect(bad).rejects.toMatchObject({ code: 'NON_FINITE_GRADIENT', parameter: 'p' });
    await expect(good).resolves.toMatchObject({ skipped: false });
    expect(Array.from(p)).toEqual([0.9]);
  });
});

describeBackendConformance('cpu64-async', () => asyncCpuBackend(), {
  referenceBackend: () => cpuBackend({ dtype: 'float64' }),
});
