import { RAdam, RectifyError } from '@rectify/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readsSynchronously, tfjsBackend } from '../src/index.js';
import { useTfjsBackend } from './helpers.js';

beforeAll(() => useTfjsBackend('cpu'));
afterEach(() => {
  vi.restoreAllMocks();
});

/** Counts host readbacks (dataSync and data) while `run` executes. */
function countReadbacks(run: () => void): number {
  const sync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
  const async = vi.spyOn(tf.Tensor.prototype, 'data');
  run();
  const count = sync.mock.calls.length + async.mock.calls.length;
  sync.mockRestore();
  async.mockRestore();
  return count;
}

describe('tfjsBackend', () => {
  it('is synchronous on cpu by default and names itself after the tfjs backend', () => {
    const backend = tfjsBackend();
    expect(backend.name).toBe('tfjs-cpu');
    expect(backend.dtype).toBe('float32');
    expect(backend.synchronous).toBe(true);
    expect(tfjsBackend({ synchronous: false }).synchronous).toBe(false);
    expect(readsSynchronously('webgl')).toBe(false);
    expect(readsSynchronously('wasm')).toBe(true);
    expect(() => tfjsBackend({ synchronous: 'yes' as never })).toThrow(RectifyError);
    expect(() => tfjsBackend({ fusedKernel: 1 as never })).toThrow(RectifyError);
  });

  it('the fused kernel and the op graph compute the same step', () => {
    const step = (fusedKernel: boolean): number[][] => {
      const backend = tfjsBackend({ synchronous: true, fusedKernel });
      const w = backend.fromArray([0.5, -0.25, 1, 2], [2, 2]);
      const opt = new RAdam(backend, { lr: 0.1, betas: [0.5, 0.6], weightDecay: 0.1, gradClipValue: 0.3, maximize: true });
      opt.registerTrainableWeights({ w });
      const out: number[][] = [];
      for (let k = 0; k < 8; k++) {
        const g = tf.tensor([0.1 * k, -0.4, 0.2, 1], [2, 2]);
        opt.step({ w: g });
        out.push(Array.from(w.dataSync()));
        g.dispose();
      }
      opt.dispose();
      w.dispose();
      return out;
    };
    const kernel = step(true);
    const graph = step(false);
    kernel.forEach((values, k) =>
      values.forEach((x, i) => expect(Math.abs(x - graph[k]![i]!), `step ${k + 1}[${i}]`).toBeLessThan(1e-6)),
    );
    expect(kernel[7]).not.toEqual(kernel[0]);
  });

  it('makes float32 trainable variables, reads copies and writes in place', () => {
    const backend = tfjsBackend({ synchronous: true });
    const v = backend.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(v).toBeInstanceOf(tf.Variable);
    expect((v as tf.Variable).trainable).toBe(true);
    expect(v.shape).toEqual([2, 3]);
    expect(v.dtype).toBe('float32');
    const copy = backend.read(v);
    copy[0] = 99;
    expect(Array.from(backend.read(v))).toEqual([1, 2, 3, 4, 5, 6]);
    backend.write(v, [6, 5, 4, 3, 2, 1]);
    expect(Array.from(v.dataSync())).toEqual([6, 5, 4, 3, 2, 1]);
    expect(backend.isTensor(tf.tensor([1], [1], 'int32'))).toBe(false);
    expect(backend.isTensor(new Float32Array(2))).toBe(false);
    backend.disposeTensor(v);
    backend.disposeTensor(v); // tolerated twice
    expect(backend.isTensor(v)).toBe(false);
  });

  for (const fusedKernel of [true, false]) {
    const path = fusedKernel ? 'fused kernel' : 'op graph';

    it(`sums squares in float64, also where float32 x² would overflow (${path})`, () => {
      const backend = tfjsBackend({ synchronous: true, fusedKernel });
      const a = tf.tensor([3, 4]);
      const b = tf.tensor([1e20, -2e20]);
      expect(backend.sumOfSquares([a])).toBe(25);
      // (1e20)² overflows float32; the result must still be 5e40.
      expect(backend.sumOfSquares([a, b]) / 5e40).toBeCloseTo(1, 5);
      expect(backend.sumOfSquares([tf.tensor([1, NaN])])).toBeNaN();
      expect(Number.isFinite(backend.sumOfSquares([tf.tensor([1, Infinity])]))).toBe(false);
      tf.dispose([a, b]);
    });

    it(`checks finiteness exactly, even when a float32 sum overflows (${path})`, () => {
      const backend = tfjsBackend({ synchronous: true, fusedKernel });
      expect(backend.allFinite([tf.tensor([3e38, 3e38]), tf.tensor([1, 2])])).toBe(true);
      expect(backend.allFinite([tf.tensor([1, 2]), tf.tensor([1, Infinity])])).toBe(false);
      expect(backend.allFinite([tf.tensor([-Infinity, 0])])).toBe(false);
      expect(backend.allFinite([tf.tensor([Infinity, -Infinity])])).toBe(false);
      expect(backend.allFinite([tf.tensor([0, NaN])])).toBe(false);
      expect(backend.allFinite([])).toBe(true);
    });
  }

  it('the async variant returns promises with the same answers', async () => {
    const backend = tfjsBackend({ synchronous: false });
    const t = backend.fromArray([1, 2, 2], [3]);
    const read = backend.read(t);
    expect(read).toBeInstanceOf(Promise);
    expect(Array.from(await read)).toEqual([1, 2, 2]);
    expect(await backend.sumOfSquares([t])).toBe(9);
    expect(await backend.allFinite([t, tf.tensor([NaN])])).toBe(false);
    const opt = new RAdam(backend, { lr: 0.1 });
    opt.registerTrainableWeights({ t });
    const step = opt.step({ t: tf.tensor([1, 1, 1]) });
    expect(step).toBeInstanceOf(Promise);
    await step;
    // Step 1 (not rectified): p − lr·g.
    expect(Array.from(t.dataSync())).toEqual([0.9, 1.9, 1.9].map(Math.fround));
  });

  it('reads back one flag per step, plus one vector when norm clipping or the finite check needs it', () => {
    const run = (options: ConstructorParameters<typeof RAdam>[1], fusedKernel = true): number => {
      const backend = tfjsBackend({ synchronous: true, fusedKernel });
      const w = backend.fromArray([1, 2, 3], [3]);
      const g = tf.tensor([0.1, -0.2, 0.3]);
      const opt = new RAdam(backend, options);
      opt.registerTrainableWeights({ w });
      const count = countReadbacks(() => {
        for (let i = 0; i < 5; i++) opt.step({ w: g });
      });
      opt.dispose();
      tf.dispose([w, g]);
      return count;
    };
    // Every step reads back whether the values it wrote are finite (one scalar from the
    // fused kernel, one small vector of sums from the op graph).
    expect(run({ nonFinite: 'propagate' })).toBe(5);
    expect(run({ nonFinite: 'propagate', gradClipValue: 0.1, weightDecay: 0.1 })).toBe(5);
    expect(run({})).toBe(10); // and the non-finite check: one small readback per step
    expect(run({ gradClipNorm: 1 })).toBe(10); // the norm doubles as the finite check
    expect(run({ nonFinite: 'propagate' }, false)).toBe(5);
    expect(run({}, false)).toBe(10);
    expect(run({ gradClipNorm: 1 }, false)).toBe(10);
  });

  for (const fusedKernel of [true, false]) {
    const path = fusedKernel ? 'fused kernel' : 'op graph';
    it(`leaks nothing: numTensors after step 1000 equals step 1; dispose frees every moment (${path})`, () => {
      const backend = tfjsBackend({ synchronous: true, fusedKernel });
      const w = backend.fromArray(
        Array.from({ length: 12 }, (_, i) => i / 10 - 0.5),
        [3, 4],
      );
      const b = backend.fromArray([0.1, -0.1, 0.2, 0], [4]);
      const gw = tf.tensor(Array.from({ length: 12 }, (_, i) => Math.sin(i)), [3, 4]);
      const gb = tf.tensor([0.5, -0.5, 0.25, 1]);
      const before = tf.memory().numTensors;
      const opt = new RAdam(backend, {
        lr: 1e-3,
        gradClipNorm: 1,
        gradClipValue: 0.4,
        weightDecay: 1e-2,
        decoupledWeightDecay: true,
        maximize: true,
      });
      opt.registerTrainableWeights({ w, b });
      opt.step({ w: gw, b: gb });
      const afterFirst = tf.memory().numTensors;
      expect(afterFirst).toBe(before + 4); // m and v of two parameters
      for (let i = 2; i <= 1000; i++) opt.step(i % 3 === 0 ? { w: gw } : { w: gw, b: gb });
      expect(tf.memory().numTensors).toBe(afterFirst);
      expect(opt.readState('w').step).toBe(1000);
      expect(opt.readState('b').step).toBe(1 + 999 - 333);
      opt.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(gw.isDisposed).toBe(false); // gradients stay the caller's
      tf.dispose([w, b, gw, gb]);
    });
  }
});
