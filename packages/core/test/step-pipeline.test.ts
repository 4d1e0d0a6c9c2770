import { describe, expect, it } from 'vitest';
import { fusedRAdamUpdate } from '../src/kernels/typed-array-kernels.js';
import { resolveGroupOptions, type GroupOptions } from '../src/options.js';
import { globalNormClipFactor } from '../src/transforms/clip-by-global-norm.js';
import { planRAdamStep } from '../src/transforms/plan.js';
import { rectification } from '../src/transforms/rectification.js';

const GRADS = [
  [0.5, -1.0, 2.0],
  [0.25, 0.5, -1.5],
  [1.0, -0.5, 0.5],
  [0.1, 0.2, -0.3],
  [-0.7, 0.4, 1.1],
  [0.3, -0.9, 0.6],
  [0.8, 0.1, -0.2],
  [-0.4, 0.6, 0.9],
];

// Parameters after 8 steps from [1, -2, 0.5] with lr 0.1, computed by a literal float64
// Python transcription of SPEC.md (independent of this code base).
const EXPECTED: [string, GroupOptions, number[]][] = [
  ['default', {}, [0.786202516288727, -1.8258361883498377, 0.20563452414960678]],
  ['torch', { compat: 'torch' }, [0.7862025170171675, -1.8258361886856267, 0.20563452447110653]],
  ['maximize', { maximize: true }, [1.2137974837112728, -2.174163811650162, 0.7943654758503932]],
  ['coupled decay', { weightDecay: 0.5 }, [0.5592840042944982, -1.363634856017279, 0.11683575473585005]],
  [
    'decoupled decay',
    { weightDecay: 0.5, decoupledWeightDecay: true },
    [0.49917364378971985, -1.1992269745725397, 0.11560243028542544],
  ],
  ['clip norm', { gradClipNorm: 1 }, [0.8690201477386743, -1.9279950807403667, 0.3902890661538722]],
  ['clip norm, torch', { gradClipNorm: 1, compat: 'torch' }, [0.8690202266661404, -1.9279951204919383, 0.3902891172784106]],
  ['clip value', { gradClipValue: 0.6 }, [0.8170409841679066, -1.912933984543118, 0.402689979908898]],
  ['threshold 4', { threshold: 4 }, [0.803048973383189, -1.8285989130338656, 0.24064078247330295]],
  ['betas', { betas: [0.5, 0.9] }, [0.7962787549938755, -1.8822965443683346, 0.23505441590811865]],
];

describe('planRAdamStep + fusedRAdamUpdate', () => {
  for (const [label, overrides, expected] of EXPECTED) {
    it(`reproduces SPEC.md for 8 steps: ${label}`, () => {
      const options = resolveGroupOptions({ lr: 0.1, ...overrides });
      const p = Float64Array.from([1, -2, 0.5]);
      const m = new Float64Array(3);
      const v = new Float64Array(3);
      GRADS.forEach((g, i) => {
        const norm = Math.hypot(...g);
        const scalars = planRAdamStep({ options, lr: 0.1, step: i + 1, globalNorm: norm });
        fusedRAdamUpdate(p, g, m, v, scalars);
      });
      expected.forEach((value, i) => expect(p[i]).toBeCloseTo(value, 12));
    });
  }

  it('leaves the gradient untouched', () => {
    const g = Float64Array.from([3, -4]);
    const scalars = planRAdamStep({
      options: resolveGroupOptions({ gradClipNorm: 1, gradClipValue: 0.1, weightDecay: 0.1 }),
      lr: 0.1,
      step: 1,
      globalNorm: 5,
    });
    fusedRAdamUpdate(new Float64Array(2), g, new Float64Array(2), new Float64Array(2), scalars);
    expect(Array.from(g)).toEqual([3, -4]);
  });
});

describe('rectification', () => {
  it('first becomes tractable at step 6 with β2 = 0.999 (ρt crosses 5)', () => {
    expect(rectification(0.9, 0.999, 5).rhoT).toBeLessThan(5);
    expect(rectification(0.9, 0.999, 6).rhoT).toBeGreaterThan(5);
    expect(rectification(0.9, 0.999, 1).rhoT).toBeCloseTo(1, 12);
    expect(rectification(0.9, 0.999, 1).rhoInfinity).toBeCloseTo(1999, 9);
  });
  it('r tends to 1 as t grows', () => {
    expect(rectification(0.9, 0.999, 1e6).r).toBeCloseTo(1, 6);
    expect(rectification(0.9, 0.999, 10).r).toBeLessThan(0.5);
  });
});

describe('globalNormClipFactor', () => {
  it('braintools scales when the norm reaches the bound', () => {
    expect(globalNormClipFactor(2, 1, 'braintools')).toBe(0.5);
    expect(globalNormClipFactor(1, 1, 'braintools')).toBe(1);
    expect(globalNormClipFactor(0.5, 1, 'braintools')).toBe(1);
  });
  it('torch adds 1e-6 to the norm and scales only below 1', () => {
    expect(globalNormClipFactor(2, 1, 'torch')).toBe(1 / (2 + 1e-6));
    expect(globalNormClipFactor(1, 1, 'torch')).toBe(1 / (1 + 1e-6));
    expect(globalNormClipFactor(0.5, 1, 'torch')).toBe(1);
  });
});
