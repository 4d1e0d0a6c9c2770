import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam, type GroupOptions, type TensorBackend } from '@rectify/core';
import ort from 'onnxruntime-node';
import { describe, expect, it, vi } from 'vitest';
import { onnxBackend } from '../src/index.js';
import { series, worstDifference } from './helpers.js';

// chunkSize 64: tensors below 16 elements are packed into one staging run per parameter
// group; the 16- and 40-element tensors run in place (one chunk), the 150-element one in three.
const SIZES = [1, 3, 10, 15, 16, 40, 150, 7, 0, 12];

/** Eight steps over SIZES, parameters alternating between two groups; then every p, m, v. */
async function train<T>(backend: TensorBackend<T>, groups: readonly [GroupOptions, GroupOptions]): Promise<Float64Array[]> {
  const params = SIZES.map((n, i) => backend.fromArray(series(n, i + 1), [n]));
  const names = SIZES.map((_, i) => `p${i}`);
  const group = (parity: number): Record<string, T> =>
    Object.fromEntries(names.flatMap((name, i) => (i % 2 === parity ? [[name, params[i]!]] : [])));
  const optimizer = new RAdam(backend, { lr: 1e-2, ...groups[0] });
  optimizer.registerTrainableWeights(group(0));
  optimizer.addParamGroup(group(1), groups[1]);
  for (let step = 1; step <= 8; step++) {
    await optimizer.step(Object.fromEntries(names.map((name, i) => [name, backend.fromArray(series(SIZES[i]!, 100 * step + i, 0.5), [SIZES[i]!])])));
  }
  const out: Float64Array[] = [];
  for (const [i, name] of names.entries()) {
    const state = await optimizer.readState(name);
    out.push(Float64Array.from(await backend.read(params[i]!)), Float64Array.from(state.firstMoment), Float64Array.from(state.secondMoment));
  }
  return out;
}

describe('onnx backend: small tensors packed into one run per group', () => {
  it('packed, in-place and multi-chunk tensors of two option groups agree with the CPU backend (float64 to 1e-12)', async () => {
    const groups = [{}, { weightDecay: 0.1, gradClipValue: 0.2, maximize: true }] as const;
    const onnx = onnxBackend({ dtype: 'float64', chunkSize: 64 });
    const got = await train(onnx, groups);
    const want = await train(cpuBackend({ dtype: 'float64' }), groups);
    expect(got).toHaveLength(want.length);
    for (let i = 0; i < want.length; i++) expect(worstDifference(got[i]!, want[i]!), `array ${i}`).toBeLessThan(1e-12);
    onnx.dispose();
  });

  it('float32: within SPEC.md tolerance of the float64 CPU reference', async () => {
    const groups = [{ gradClipNorm: 0.5 }, { weightDecay: 0.05, decoupledWeightDecay: true }] as const;
    const onnx = onnxBackend({ chunkSize: 64 });
    const got = await train(onnx, groups);
    const want = await train(cpuBackend({ dtype: 'float64' }), groups);
    for (let i = 0; i < want.length; i++) {
      for (let j = 0; j < want[i]!.length; j++) {
        expect(Math.abs(got[i]![j]! - want[i]![j]!), `array ${i}[${j}]`).toBeLessThanOrEqual(2e-5 + 1e-4 * Math.abs(want[i]![j]!));
      }
    }
    onnx.dispose();
  });

  it("packed tensors are written back after every run: a NaN in an in-place tensor under 'propagate' leaves them finite and updated", async () => {
    const backend = onnxBackend({ chunkSize: 64 });
    const small = backend.fromArray([0.5, -0.5], [2]);
    const large = backend.fromArray(series(100, 3), [100]);
    const optimizer = new RAdam(backend, { lr: 0.1, nonFinite: 'propagate' });
    optimizer.registerTrainableWeights({ small, large });
    const nan = series(100, 4);
    nan[99] = NaN;
    await optimizer.step({ small: backend.fromArray([0.1, -0.2], [2]), large: backend.fromArray(nan, [100]) });
    expect(Number.isNaN(large.data[99])).toBe(true);
    expect(Number.isNaN(large.data[0])).toBe(false);
    // First step, unrectified: p − lr·m̂ = p − 0.1·g exactly for this bias-corrected m.
    expect(small.data[0]).toBeCloseTo(0.5 - 0.1 * 0.1, 6);
    expect(small.data[1]).toBeCloseTo(-0.5 + 0.1 * 0.2, 6);
    backend.dispose();
  });
});

describe('onnx backend: a run failing mid-step', () => {
  it('while packed tensors run: BACKEND_ERROR as a RectifyError, every tensor unchanged, the optimizer not halted', async () => {
    const backend = onnxBackend({ chunkSize: 64 });
    const tensors = [backend.fromArray([0.5, -0.5], [2]), backend.fromArray(series(10, 5), [10])];
    // 'propagate': no finiteness probe runs first, so the step's first run is the staging run.
    const optimizer = new RAdam(backend, { lr: 0.1, nonFinite: 'propagate' });
    optimizer.registerTrainableWeights({ a: tensors[0]!, b: tensors[1]! });
    await backend.ready();
    const before = tensors.map((t) => t.data.slice());
    // The first run of the step (the packed tensors' staging run) fails inside ONNX Runtime.
    const sessions = ort.InferenceSession as unknown as { prototype: ort.InferenceSession };
    const run = vi.spyOn(sessions.prototype, 'run').mockRejectedValueOnce(new Error('injected run failure'));
    try {
      await expect(optimizer.step({ a: backend.fromArray([0.1, 0.2], [2]), b: backend.fromArray(series(10, 6), [10]) })).rejects.toMatchObject({
        code: 'BACKEND_ERROR',
      });
    } finally {
      run.mockRestore();
    }
    tensors.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(before[i]!)));
    expect(optimizer.haltedBy).toBeUndefined();
    expect(optimizer.stepCount).toBe(0);
    await optimizer.step({ a: backend.fromArray([0.1, 0.2], [2]), b: backend.fromArray(series(10, 6), [10]) });
    expect(optimizer.stepCount).toBe(1);
    backend.dispose();
  });
});
