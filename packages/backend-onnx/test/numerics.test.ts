import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam, rectification, type RAdamOptions } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { onnxBackend } from '../src/index.js';
import { series, worstDifference } from './helpers.js';

/**
 * Gradients with float32 elements whose square overflows float32 (|g| > 1.8e19) but whose
 * `(1 − β2)·g²` fits (≈ 1e37 for |g| = 1e20), next to ordinary ones.
 */
function hugeGradient(n: number, t: number): number[] {
  const g = series(n, 40 + t);
  g[0] = 1e20;
  g[3] = -1e20;
  g[5] = 3e19 * (t % 2 === 0 ? 1 : -1);
  g[n - 1] = 2e19;
  return g;
}

describe('float32 numerics where float32 can hold the result: |g| = 1e20 stays finite, as on cpu', () => {
  const cases: [string, RAdamOptions][] = [
    ['defaults (braintools)', { lr: 1e-3 }],
    ['torch, maximize, decoupled decay', { lr: 1e-3, compat: 'torch', maximize: true, weightDecay: 0.01, decoupledWeightDecay: true }],
    ['coupled decay and value clipping above 1e20', { lr: 1e-3, weightDecay: 1e-4, gradClipValue: 5e20 }],
    ['global-norm clipping (Σ g² ≈ 2e40 in float64)', { lr: 1e-3, gradClipNorm: 1 }],
  ];
  for (const [label, options] of cases) {
    it(`${label}: 8 steps (unrectified, then rectified) within float32 tolerance of cpu`, async () => {
      const n = 11;
      const backend = onnxBackend({ chunkSize: 4 });
      const start = series(n, 2);
      const w = backend.fromArray(start, [n]);
      const ref = Float32Array.from(start);
      const onnxOpt = new RAdam(backend, options);
      const cpuOpt = new RAdam(cpuBackend(), options);
      onnxOpt.registerTrainableWeights({ w });
      cpuOpt.registerTrainableWeights({ w: ref });
      let rectified = 0;
      for (let t = 1; t <= 8; t++) {
        if (rectification(0.9, 0.999, t).rhoT >= 5) rectified++;
        const g = hugeGradient(n, t);
        const report = await onnxOpt.step({ w: backend.fromArray(g, [n]) });
        const cpuReport = cpuOpt.step({ w: Float32Array.from(g) });
        if (options.gradClipNorm !== undefined) {
          expect(Number.isFinite(report.gradNorm)).toBe(true);
          expect(report.gradNorm! / cpuReport.gradNorm!).toBeCloseTo(1, 12);
        }
        // Step 1 is unrectified: p − step_size·m. The old graph computed sqrt(∞)·0 = NaN here.
        expect(w.data.every(Number.isFinite), `step ${t}: ${Array.from(w.data)}`).toBe(true);
        expect(worstDifference(w.data, ref), `param after step ${t}`).toBeLessThan(2e-6);
        const state = await onnxOpt.readState('w');
        const cpuState = cpuOpt.readState('w');
        expect(state.secondMoment.every(Number.isFinite)).toBe(true);
        expect(worstDifference(state.firstMoment, cpuState.firstMoment), `m after step ${t}`).toBeLessThan(2e-6);
        expect(worstDifference(state.secondMoment, cpuState.secondMoment), `v after step ${t}`).toBeLessThan(2e-6);
      }
      expect(rectified).toBe(3);
      if (options.gradClipNorm === undefined) {
        // The second moment really is huge: ≈ (1 − β2)·1e40, where g² alone overflows float32.
        expect((await onnxOpt.readState('w')).secondMoment[0]).toBeGreaterThan(1e36);
      }
      backend.dispose();
    });
  }

  it('sumOfSquares of float32 gradients around 1e20 accumulates in float64: finite, exact order, deterministic', async () => {
    const values = [1e20, -1e20, 3e19, 0.5, ...series(37, 9)];
    const stored = Float32Array.from(values);
    let expected = 0;
    for (const x of stored) expected += x * x;
    expect(expected).toBeGreaterThan(2e40); // far above float32's 3.4e38
    const sums: number[] = [];
    for (const chunkSize of [1, 4, 1 << 18]) {
      const backend = onnxBackend({ chunkSize });
      const a = backend.fromArray(values.slice(0, 20), [20]);
      const b = backend.fromArray(values.slice(20), [values.length - 20]);
      for (let repeat = 0; repeat < 3; repeat++) sums.push(await backend.sumOfSquares([a, b]));
      backend.dispose();
    }
    for (const sum of sums) expect(Math.abs(sum - expected) / expected).toBeLessThan(1e-15);
    expect(new Set(sums.slice(0, 3)).size).toBe(1); // same chunking: the same bits every time
  });
});
