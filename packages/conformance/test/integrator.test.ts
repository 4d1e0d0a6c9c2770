import { RectifyError, allFinite, fusedRAdamUpdate, sumOfSquares, type SyncTensorBackend, type TensorBackend } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { expectRejectedUnchanged, foreignValueFor, trainedFixture } from '../src/fixture.js';

/** The smallest float32 backend (this package cannot depend on @rectify/backend-cpu, which tests with it). */
function cpuBackend(): SyncTensorBackend<Float32Array> {
  return {
    name: 'mini',
    dtype: 'float32',
    synchronous: true,
    isTensor: (value): value is Float32Array => value instanceof Float32Array,
    shapeOf: (tensor) => [tensor.length],
    fromArray: (data) => Float32Array.from(data),
    zerosLike: (like) => new Float32Array(like.length),
    read: (tensor) => tensor.slice(),
    write: (tensor, data) => tensor.set(data),
    disposeTensor: () => undefined,
    sumOfSquares: (tensors) => sumOfSquares(tensors),
    allFinite: (tensors) => allFinite(tensors),
    applyRAdam: (batches) =>
      batches.every(({ slots, scalars }) => slots.map((s) => fusedRAdamUpdate(s.param, s.grad, s.firstMoment, s.secondMoment, scalars)).every(Boolean)),
  };
}

/** What a vitest assertion inside `run` failed with. */
async function failure(run: () => Promise<void>): Promise<string> {
  try {
    await run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the assertion to fail');
}

describe('what integrators see', () => {
  it('a non-tensor the backend rejects: for a backend over plain arrays, not a plain array', () => {
    const overArrays = { name: 'arrays', dtype: 'float64', isTensor: (v: unknown) => Array.isArray(v) } as unknown as TensorBackend<unknown>;
    const foreign = foreignValueFor(overArrays);
    expect(foreign).toBeInstanceOf(Float32Array);
    expect(Array.from(foreign as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(foreignValueFor(cpuBackend() as TensorBackend<unknown>)).toEqual([1, 2, 3, 4, 5, 6]);
    const acceptsAll = { name: 'lenient', dtype: 'float32', isTensor: () => true } as unknown as TensorBackend<unknown>;
    expect(() => foreignValueFor(acceptsAll)).toThrow(/lenient.isTensor accepts every candidate non-tensor: pass options.foreignValue/);
  });

  it('a check that lets bad input through: the message says the call completed, not "expected undefined"', async () => {
    const f = await trainedFixture(() => cpuBackend());
    const message = await failure(() => expectRejectedUnchanged(f, () => undefined, 'NON_FINITE_GRADIENT', 'b'));
    expect(message).toMatch(/^expected a RectifyError NON_FINITE_GRADIENT naming "b", but the call completed .*allFinite.*; state unchanged$/);
  });

  it('a write that changed state before the error: the message names the field and element', async () => {
    const f = await trainedFixture(() => cpuBackend());
    const w = f.params.w as Float32Array;
    const before = w[2];
    const message = await failure(() =>
      expectRejectedUnchanged(
        f,
        () => {
          w[2] = 42;
          throw new RectifyError('SHAPE_MISMATCH', 'Gradient "w" has the wrong shape.', 'w');
        },
        'SHAPE_MISMATCH',
        'w',
      ),
    );
    expect(message).toBe(`the SHAPE_MISMATCH error was thrown, but the optimizer changed: w[2] ${before} → 42`);
  });

  it('another error type or code is named with its message', async () => {
    const f = await trainedFixture(() => cpuBackend());
    expect(await failure(() => expectRejectedUnchanged(f, () => { throw new TypeError('boom'); }, 'INVALID_TENSOR'))).toBe(
      'expected a RectifyError INVALID_TENSOR, got TypeError: boom',
    );
    const wrongCode = await failure(() => expectRejectedUnchanged(f, () => { throw new RectifyError('INVALID_OPTION', 'Option "lr" is bad.', 'lr'); }, 'INVALID_TENSOR'));
    expect(wrongCode).toMatch(/error code \(message: Option "lr" is bad\.\)/);
  });
});
