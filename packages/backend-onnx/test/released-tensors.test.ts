import { RAdam, type RAdamScalars } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { onnxBackend } from '../src/index.js';
import { series } from './helpers.js';

const scalars: RAdamScalars = {
  gradScale: 1,
  clipValue: Infinity,
  weightDecay: 0,
  paramScale: 1,
  beta1: 0.9,
  beta2: 0.999,
  rectified: false,
  stepSize: 0.1,
  denomScale: 1,
  eps: 1e-8,
};

describe('onnx: a released tensor, or one whose memory is gone, is not a tensor', () => {
  it('isTensor is false after disposeTensor, and every backend method refuses it with INVALID_TENSOR', async () => {
    const backend = onnxBackend();
    const t = backend.fromArray([1, 2, 3], [3]);
    const other = backend.fromArray([4, 5, 6], [3]);
    expect(backend.isTensor(t)).toBe(true);
    backend.disposeTensor(t);
    backend.disposeTensor(t); // tolerated
    expect(backend.isTensor(t)).toBe(false);
    expect(t.live).toBe(false);
    const invalid = expect.objectContaining({ code: 'INVALID_TENSOR' });
    expect(() => backend.read(t)).toThrow(invalid);
    expect(() => backend.write(t, [0, 0, 0])).toThrow(invalid);
    expect(() => backend.capture(t)).toThrow(invalid);
    expect(() => t.ortTensor).toThrow(invalid);
    await expect(backend.sumOfSquares([other, t])).rejects.toMatchObject({ code: 'INVALID_TENSOR' });
    await expect(backend.allFinite([other, t])).rejects.toMatchObject({ code: 'INVALID_TENSOR' });
    expect(Array.from(t.data)).toEqual([1, 2, 3]); // release wrote nothing
    backend.dispose();
  });

  it('a wrapped array whose buffer was detached (transferred) is not a tensor', () => {
    const backend = onnxBackend();
    const data = new Float32Array([1, 2, 3, 4]);
    const t = backend.wrap(data);
    expect(backend.isTensor(t)).toBe(true);
    structuredClone(data.buffer, { transfer: [data.buffer] });
    expect(data.length).toBe(0);
    expect(backend.isTensor(t)).toBe(false);
    expect(() => t.chunks(2)).toThrow(expect.objectContaining({ code: 'INVALID_TENSOR' }));
    backend.dispose();
  });

  it('applyRAdam with a released tensor in its last batch writes nothing (all or nothing)', async () => {
    const backend = onnxBackend({ chunkSize: 2 });
    const slot = (seed: number) => {
      const param = backend.fromArray(series(5, seed), [5]);
      return { param, grad: backend.fromArray(series(5, seed + 1), [5]), firstMoment: backend.zerosLike(param), secondMoment: backend.zerosLike(param) };
    };
    const first = slot(1);
    const last = slot(3);
    const before = [first.param.data.slice(), last.param.data.slice()];
    backend.disposeTensor(last.secondMoment);
    await expect(backend.applyRAdam([{ slots: [first], scalars }, { slots: [last], scalars }])).rejects.toMatchObject({
      code: 'INVALID_TENSOR',
    });
    expect(Array.from(first.param.data)).toEqual(Array.from(before[0]!));
    expect(Array.from(last.param.data)).toEqual(Array.from(before[1]!));
    expect(Array.from(first.firstMoment.data)).toEqual([0, 0, 0, 0, 0]);
    // Tensors of different sizes in one slot are refused the same way, before any write.
    const mixed = { ...slot(5), grad: backend.fromArray([1, 2], [2]) };
    await expect(backend.applyRAdam([{ slots: [first, mixed], scalars }])).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    expect(Array.from(first.param.data)).toEqual(Array.from(before[0]!));
    // The same call with live tensors goes through.
    expect(await backend.applyRAdam([{ slots: [first], scalars }])).toBe(true);
    expect(Array.from(first.param.data)).not.toEqual(Array.from(before[0]!));
    backend.dispose();
  });

  it('RAdam.step refuses a released gradient or parameter with INVALID_TENSOR, nothing changed', async () => {
    const backend = onnxBackend();
    const w = backend.fromArray([1, 2, 3], [3]);
    const optimizer = new RAdam(backend, { lr: 0.1 });
    optimizer.registerTrainableWeights({ w });
    const g = backend.fromArray([0.1, 0.2, 0.3], [3]);
    backend.disposeTensor(g);
    await expect(optimizer.step({ w: g })).rejects.toMatchObject({ code: 'INVALID_TENSOR' });
    backend.disposeTensor(w);
    await expect(optimizer.step({ w: backend.fromArray([0.1, 0.2, 0.3], [3]) })).rejects.toMatchObject({
      code: 'INVALID_TENSOR',
      parameter: 'w',
    });
    expect(Array.from(w.data)).toEqual([1, 2, 3]);
    expect(optimizer.haltedBy).toBeUndefined();
    backend.dispose();
  });
});
