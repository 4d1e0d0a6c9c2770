import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam, RectifyError, rectification, resolveGroupOptions, type GroupOptions } from '@rectify/core';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportRAdamStep } from '../src/index.js';
import { worstDifference } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rectify-onnx-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const N = 9;
const initial = Array.from({ length: N }, (_, i) => Math.cos(i) * 0.7);
const gradient = (t: number): number[] => Array.from({ length: N }, (_, i) => Math.sin(i * 1.3 + t) * (0.5 + i / 10));

type Dtype = 'float32' | 'float64';
const typed = (dtype: Dtype, data: ArrayLike<number>): Float32Array | Float64Array =>
  dtype === 'float64' ? Float64Array.from(data) : Float32Array.from(data);

/**
 * Runs `steps` steps of the exported file (a fresh session from the path, as a user of any
 * ONNX Runtime would) and of core on the float64 CPU backend side by side; returns the
 * largest difference of param, m and v after any step (absolute below 1, relative above:
 * see `worstDifference`), and how many steps were rectified.
 */
async function compare(
  options: Omit<GroupOptions, 'lr'>,
  dtype: Dtype,
  steps: number,
  lr = 0.05,
  gradientOf: (t: number) => number[] = gradient,
): Promise<{ worst: number; rectifiedSteps: number }> {
  const path = join(dir, `step-${dtype}-${Math.random().toString(36).slice(2)}.onnx`);
  await exportRAdamStep(options, path, { dtype });
  expect((await stat(path)).size).toBeGreaterThan(500);
  const session = await ort.InferenceSession.create(path);
  try {
    const w = Float64Array.from(initial);
    const reference = new RAdam(cpuBackend({ dtype: 'float64' }), { ...options, lr });
    reference.registerTrainableWeights({ w });
    let param = typed(dtype, initial);
    let m = typed(dtype, new Array(N).fill(0));
    let v = typed(dtype, new Array(N).fill(0));
    let worst = 0;
    const resolved = resolveGroupOptions(options);
    let rectifiedSteps = 0;
    for (let t = 1; t <= steps; t++) {
      const { rhoT } = rectification(resolved.betas[0], resolved.betas[1], t);
      if (resolved.compat === 'torch' ? rhoT > 5 : rhoT >= resolved.threshold) rectifiedSteps++;
      const g = gradientOf(t);
      const report = reference.step({ w: Float64Array.from(g) });
      const feeds: Record<string, ort.Tensor> = {
        param: new ort.Tensor(dtype, param, [3, 3]),
        grad: new ort.Tensor(dtype, typed(dtype, g), [3, 3]),
        m: new ort.Tensor(dtype, m, [3, 3]),
        v: new ort.Tensor(dtype, v, [3, 3]),
        lr: new ort.Tensor('float64', new Float64Array([lr]), []),
        step: new ort.Tensor('int64', new BigInt64Array([BigInt(t)]), []),
      };
      if (session.inputNames.includes('grad_norm')) {
        feeds.grad_norm = new ort.Tensor('float64', new Float64Array([report.gradNorm!]), []);
      }
      const out = await session.run(feeds);
      expect(out.param_out!.dims).toEqual([3, 3]);
      param = out.param_out!.data as Float32Array | Float64Array;
      m = out.m_out!.data as Float32Array | Float64Array;
      v = out.v_out!.data as Float32Array | Float64Array;
      const state = reference.readState('w');
      worst = Math.max(
        worst,
        worstDifference(param, w),
        worstDifference(m, state.firstMoment),
        worstDifference(v, state.secondMoment),
      );
      // The step really moved the parameter (a graph that returned its input would fail here).
      expect(param.some((x, i) => x !== initial[i])).toBe(true);
    }
    return { worst, rectifiedSteps };
  } finally {
    await session.release();
  }
}

describe('exportRAdamStep writes a .onnx file a fresh InferenceSession runs like core', () => {
  it('one step, default options, float32 (the first step is never rectified)', async () => {
    const { worst, rectifiedSteps } = await compare({}, 'float32', 1);
    expect(worst).toBeLessThan(1e-6);
    expect(rectifiedSteps).toBe(0);
  });

  it('one step, default options, float64', async () => {
    expect((await compare({}, 'float64', 1)).worst).toBeLessThan(1e-14);
  });

  it('rectified steps, braintools, coupled decay and value clipping (float64)', async () => {
    // betas[1] = 0.9: ρt reaches 5 at step 6, so steps 6..10 are rectified.
    const options = { betas: [0.8, 0.9] as [number, number], weightDecay: 0.05, gradClipValue: 0.4 };
    const { worst, rectifiedSteps } = await compare(options, 'float64', 10);
    expect(worst).toBeLessThan(1e-12);
    expect(rectifiedSteps).toBe(5);
  });

  it('torch numerics, maximize, decoupled decay and global-norm clipping (float64)', async () => {
    const options = {
      compat: 'torch' as const,
      maximize: true,
      weightDecay: 0.1,
      decoupledWeightDecay: true,
      gradClipNorm: 0.5,
      betas: [0.9, 0.95] as [number, number],
      eps: 1e-6,
    };
    const { worst, rectifiedSteps } = await compare(options, 'float64', 10);
    expect(worst).toBeLessThan(1e-12);
    expect(rectifiedSteps).toBe(5);
  });

  it('braintools threshold 4 with norm clipping, float32 within SPEC tolerance', async () => {
    const options = { threshold: 4, gradClipNorm: 1, betas: [0.9, 0.9] as [number, number] };
    const { worst, rectifiedSteps } = await compare(options, 'float32', 10);
    expect(worst).toBeLessThan(2e-5);
    expect(rectifiedSteps).toBe(6);
  });

  it('float32, |g| up to 1e20 (g² overflows float32, (1 − β2)·g·g does not): finite and as core, every step', async () => {
    // The old graph made param NaN on step 1 (sqrt(∞)·0 in the unrectified branch).
    const huge = (t: number): number[] => gradient(t).map((x, i) => (i % 3 === 0 ? x * 2e20 : x));
    for (const options of [{}, { compat: 'torch' as const, weightDecay: 0.01, decoupledWeightDecay: true }]) {
      const { worst, rectifiedSteps } = await compare(options, 'float32', 8, 1e-3, huge);
      expect(worst).toBeLessThan(2e-5); // SPEC.md's float32 tolerance, as above
      expect(rectifiedSteps).toBe(3); // steps 6 to 8
    }
  });

  it('rejects lr (a graph input) and invalid options before writing', async () => {
    const path = join(dir, 'rejected.onnx');
    await expect(exportRAdamStep({ lr: 0.1 } as never, path)).rejects.toMatchObject({ code: 'INVALID_OPTION', parameter: 'lr' });
    await expect(exportRAdamStep({ betas: [1, 0.9] }, path)).rejects.toBeInstanceOf(RectifyError);
    await expect(stat(path)).rejects.toThrow();
  });
});
