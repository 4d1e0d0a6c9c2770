import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam, type RAdamOptions } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { onnxBackend } from '../src/index.js';
import { series, worstDifference } from './helpers.js';

const n = 10;
const options: RAdamOptions = { lr: 0.01, weightDecay: 0.01 };

/** Parameters after `grads.length` steps on the float64 cpu backend, from `start`. */
function cpu64Reference(start: readonly number[], grads: readonly (readonly number[])[], opts = options): Float64Array {
  const w = Float64Array.from(start);
  const optimizer = new RAdam(cpuBackend({ dtype: 'float64' }), opts);
  optimizer.registerTrainableWeights({ w });
  for (const g of grads) optimizer.step({ w: Float64Array.from(g) });
  return w;
}

describe('capture: a wrapped gradient checked at step() is the data the update uses', () => {
  it('capture copies: later writes to the source do not show, and disposeTensor releases the copy', () => {
    const backend = onnxBackend();
    const source = new Float32Array([1, 2, 3, 4]);
    const wrapped = backend.wrap(source, [2, 2]);
    const copy = backend.capture(wrapped);
    expect(copy.data).not.toBe(source);
    expect(copy.data.buffer).not.toBe(source.buffer);
    expect(copy.shape).toEqual([2, 2]);
    source.fill(NaN);
    expect(Array.from(copy.data)).toEqual([1, 2, 3, 4]);
    expect(backend.isTensor(copy)).toBe(true);
    backend.disposeTensor(copy);
    expect(backend.isTensor(copy)).toBe(false);
    expect(backend.isTensor(wrapped)).toBe(true); // the caller's tensor is untouched
    backend.disposeTensor(wrapped);
    expect(() => backend.capture(wrapped)).toThrow(expect.objectContaining({ code: 'INVALID_TENSOR' }));
  });

  it('two queued steps; the second gradient buffer is overwritten with NaN right after step(): the update uses the original values', async () => {
    const backend = onnxBackend({ chunkSize: 4 });
    const start = series(n, 1);
    const data = Float32Array.from(start);
    const optimizer = new RAdam(backend, options);
    optimizer.registerTrainableWeights({ w: backend.wrap(data) });
    const g1 = series(n, 2, 0.5);
    const g2 = series(n, 3, 0.5);
    const buffer1 = Float32Array.from(g1);
    const buffer2 = Float32Array.from(g2);
    const first = optimizer.step({ w: backend.wrap(buffer1) });
    const second = optimizer.step({ w: backend.wrap(buffer2) });
    buffer2.fill(NaN); // while both steps are still pending
    const reports = await Promise.all([first, second]);
    expect(reports.map((r) => r.skipped)).toEqual([false, false]);
    expect(optimizer.stepCount).toBe(2);
    const reference = cpu64Reference(start, [Array.from(Float32Array.from(g1)), Array.from(Float32Array.from(g2))]);
    expect(data.every(Number.isFinite)).toBe(true);
    expect(worstDifference(data, reference)).toBeLessThan(1e-6);
    backend.dispose();
  });

  it('a buffer overwritten after the finiteness check passed and before the update ran changes nothing', async () => {
    const backend = onnxBackend({ chunkSize: 4 });
    const start = series(n, 4);
    const data = Float32Array.from(start);
    const optimizer = new RAdam(backend, options);
    optimizer.registerTrainableWeights({ w: backend.wrap(data) });
    const g = series(n, 5, 0.5);
    const buffer = Float32Array.from(g);
    // The caller's write lands exactly between core's allFinite and its applyRAdam.
    const allFinite = backend.allFinite.bind(backend);
    backend.allFinite = async (tensors) => {
      const finite = await allFinite(tensors);
      buffer.fill(NaN);
      return finite;
    };
    const report = await optimizer.step({ w: backend.wrap(buffer) });
    expect(report.skipped).toBe(false);
    expect(buffer[0]).toBeNaN();
    expect(worstDifference(data, cpu64Reference(start, [Array.from(Float32Array.from(g))]))).toBeLessThan(1e-6);
    backend.dispose();
  });
});
