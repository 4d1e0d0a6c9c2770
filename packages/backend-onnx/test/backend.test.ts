import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam, RectifyError, type RAdamOptions } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { OnnxTensor, liveOnnxSessions, onnxBackend } from '../src/index.js';
import { series } from './helpers.js';

describe('onnx backend: tensors', () => {
  it('wraps a typed array without copying, and the optimizer updates that array in place', async () => {
    const backend = onnxBackend();
    const data = new Float32Array([0.5, -0.25, 0.125, 1]);
    const w = backend.wrap(data, [2, 2]);
    expect(w.data).toBe(data);
    expect(w.shape).toEqual([2, 2]);
    expect(w.ortTensor.dims).toEqual([2, 2]);
    const optimizer = new RAdam(backend, { lr: 0.1 });
    optimizer.registerTrainableWeights({ w });
    const reference = Float32Array.from(data);
    const cpu = new RAdam(cpuBackend(), { lr: 0.1 });
    cpu.registerTrainableWeights({ w: reference });
    const grad = [0.3, -0.1, 0.2, 0.05];
    const pending = optimizer.step({ w: backend.fromArray(grad, [2, 2]) });
    expect(pending).toBeInstanceOf(Promise);
    await pending;
    cpu.step({ w: Float32Array.from(grad) });
    expect(Array.from(data)).not.toEqual([0.5, -0.25, 0.125, 1]);
    for (let i = 0; i < 4; i++) expect(data[i]).toBeCloseTo(reference[i]!, 6);
    optimizer.dispose();
    backend.dispose();
  });

  it('checks types and shapes', () => {
    const backend = onnxBackend();
    const backend64 = onnxBackend({ dtype: 'float64' });
    expect(backend.name).toBe('onnx');
    expect(backend64.name).toBe('onnx64');
    expect(backend.synchronous).toBe(false);
    const t32 = backend.fromArray([1, 2, 3], [3]);
    const t64 = backend64.fromArray([1, 2, 3], [3, 1]);
    expect(t32).toBeInstanceOf(OnnxTensor);
    expect(t32.data).toBeInstanceOf(Float32Array);
    expect(t64.data).toBeInstanceOf(Float64Array);
    expect(backend.isTensor(t32)).toBe(true);
    expect(backend.isTensor(t64)).toBe(false);
    expect(backend64.isTensor(t64)).toBe(true);
    expect(backend.isTensor(new Float32Array(3))).toBe(false);
    expect(backend64.shapeOf(t64)).toEqual([3, 1]);
    expect(() => backend.fromArray([1, 2, 3], [2, 2])).toThrow(RectifyError);
    expect(() => backend.wrap(new Float64Array(2) as never)).toThrow(/wraps Float32Arrays/);
    const zeros = backend.zerosLike(t32);
    expect(Array.from(zeros.data)).toEqual([0, 0, 0]);
    backend.write(zeros, [4, 5, 6]);
    const copy = backend.read(zeros) as Float32Array;
    expect(Array.from(copy)).toEqual([4, 5, 6]);
    copy[0] = 9;
    expect(zeros.data[0]).toBe(4);
  });

  it('rejects bad options with INVALID_OPTION', () => {
    expect(() => onnxBackend({ dtype: 'float16' as never })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', parameter: 'dtype' }));
    expect(() => onnxBackend({ chunkSize: 0 })).toThrow(expect.objectContaining({ parameter: 'chunkSize' }));
    expect(() => onnxBackend({ chunkSize: 1.5 })).toThrow(RectifyError);
    expect(() => onnxBackend({ intraOpNumThreads: -1 })).toThrow(expect.objectContaining({ parameter: 'intraOpNumThreads' }));
    expect(() => onnxBackend({ allowSpinning: 'yes' as never })).toThrow(expect.objectContaining({ parameter: 'allowSpinning' }));
  });
});

describe('onnx backend: kernels over many chunks agree with the CPU backend', () => {
  // 50 000 elements in chunks of 4096: 13 session runs per tensor, the last one short.
  const n = 50_000;
  const cases: [string, RAdamOptions][] = [
    ['braintools, clipping, coupled decay', { lr: 0.01, gradClipNorm: 50, gradClipValue: 0.8, weightDecay: 0.01, betas: [0.9, 0.95] }],
    ['torch, maximize, decoupled decay', { lr: 0.01, compat: 'torch', maximize: true, weightDecay: 0.1, decoupledWeightDecay: true, gradClipNorm: 10 }],
  ];
  for (const [label, options] of cases) {
    it(`${label}: float64 to 1e-12 over 8 steps (unrectified and rectified)`, async () => {
      const backend = onnxBackend({ dtype: 'float64', chunkSize: 4096, intraOpNumThreads: 2 });
      const cpu = cpuBackend({ dtype: 'float64' });
      const start = series(n, 1);
      const w = backend.fromArray(start, [n]);
      const ref = Float64Array.from(start);
      const onnxOpt = new RAdam(backend, options);
      const cpuOpt = new RAdam(cpu, options);
      onnxOpt.registerTrainableWeights({ w });
      cpuOpt.registerTrainableWeights({ w: ref });
      for (let t = 1; t <= 8; t++) {
        const g = series(n, 100 + t, 0.5);
        const a = await onnxOpt.step({ w: backend.fromArray(g, [n]) });
        const b = cpuOpt.step({ w: Float64Array.from(g) });
        expect(a.gradNorm).toBeCloseTo(b.gradNorm!, 9);
      }
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(w.data[i]! - ref[i]!));
      expect(worst).toBeLessThan(1e-12);
      const state = await onnxOpt.readState('w');
      const refState = cpuOpt.readState('w');
      expect(state.step).toBe(8);
      for (const i of [0, 4095, 4096, n - 1]) {
        expect(state.firstMoment[i]).toBeCloseTo(refState.firstMoment[i]!, 12);
        expect(state.secondMoment[i]).toBeCloseTo(refState.secondMoment[i]!, 12);
      }
      backend.dispose();
    });
  }

  it('sumOfSquares accumulates chunks in float64; allFinite finds a NaN or Infinity in any chunk', async () => {
    const backend = onnxBackend({ chunkSize: 1000 });
    const a = backend.fromArray(series(2500, 7), [2500]);
    const b = backend.fromArray(series(10, 8, 3), [10]);
    let expected = 0;
    for (const x of [...a.data, ...b.data]) expected += x * x;
    const sum = await backend.sumOfSquares([a, b]);
    expect(sum).toBeGreaterThan(100);
    expect(Math.abs(sum - expected) / expected).toBeLessThan(1e-12);
    expect(await backend.sumOfSquares([])).toBe(0);
    expect(await backend.allFinite([a, b])).toBe(true);
    for (const bad of [NaN, Infinity, -Infinity]) {
      a.data[2345] = bad; // in the third chunk
      expect(await backend.allFinite([b, a])).toBe(false);
      expect(Number.isFinite(await backend.sumOfSquares([a]))).toBe(false);
      a.data[2345] = 0;
    }
    expect(await backend.allFinite([a])).toBe(true);
    backend.dispose();
  });
});

describe('onnx backend: sessions', () => {
  it('creates each session once, releases them on dispose, and then refuses work', async () => {
    const before = liveOnnxSessions();
    const backend = onnxBackend();
    expect(backend.sessionCount).toBe(0);
    const x = backend.fromArray([1, 2], [2]);
    const optimizer = new RAdam(backend, { gradClipNorm: 1 });
    optimizer.registerTrainableWeights({ x });
    await optimizer.step({ x: backend.fromArray([0.1, 0.2], [2]) });
    // The unrectified step graph + sum of squares (a finite sum proves finiteness).
    expect(backend.sessionCount).toBe(2);
    await optimizer.step({ x: backend.fromArray([0.1, 0.2], [2]) });
    expect(backend.sessionCount).toBe(2);
    await backend.ready(); // + the finiteness probe and the rectified step graph
    expect(backend.sessionCount).toBe(4);
    expect(liveOnnxSessions()).toBe(before + 4);
    backend.dispose();
    expect(backend.sessionCount).toBe(0);
    expect(liveOnnxSessions()).toBe(before);
    await expect(backend.sumOfSquares([x])).rejects.toMatchObject({ code: 'DISPOSED' });
    await expect(optimizer.step({ x: backend.fromArray([0.1, 0.2], [2]) })).rejects.toMatchObject({ code: 'DISPOSED' });
    backend.dispose(); // idempotent
    backend.disposeTensor(x); // tolerated
  });

  it('a backend disposed while its sessions are being created leaks none', async () => {
    const before = liveOnnxSessions();
    const backend = onnxBackend();
    const warming = backend.ready();
    backend.dispose();
    await warming.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(liveOnnxSessions()).toBe(before);
  });

  it('runs of two optimizers sharing one backend never interleave', async () => {
    const backend = onnxBackend({ chunkSize: 7 });
    const a = backend.fromArray(series(50, 3), [50]);
    const b = backend.fromArray(series(50, 4), [50]);
    const optA = new RAdam(backend, { lr: 0.01 });
    const optB = new RAdam(backend, { lr: 0.02, compat: 'torch', weightDecay: 0.1 });
    optA.registerTrainableWeights({ a });
    optB.registerTrainableWeights({ b });
    const refA = Float32Array.from(series(50, 3));
    const refB = Float32Array.from(series(50, 4));
    const cpuA = new RAdam(cpuBackend(), { lr: 0.01 });
    const cpuB = new RAdam(cpuBackend(), { lr: 0.02, compat: 'torch', weightDecay: 0.1 });
    cpuA.registerTrainableWeights({ a: refA });
    cpuB.registerTrainableWeights({ b: refB });
    for (let t = 0; t < 8; t++) {
      const ga = series(50, 10 + t);
      const gb = series(50, 20 + t);
      // Both steps in flight at once: their scalar feeds differ, so interleaving would show.
      await Promise.all([optA.step({ a: backend.fromArray(ga, [50]) }), optB.step({ b: backend.fromArray(gb, [50]) })]);
      cpuA.step({ a: Float32Array.from(ga) });
      cpuB.step({ b: Float32Array.from(gb) });
    }
    for (let i = 0; i < 50; i++) {
      expect(a.data[i]).toBeCloseTo(refA[i]!, 5);
      expect(b.data[i]).toBeCloseTo(refB[i]!, 5);
    }
    backend.dispose();
  });
});
