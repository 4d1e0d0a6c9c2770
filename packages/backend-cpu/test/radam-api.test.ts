import { RAdam, RectifyError, type RAdamOptions, type RAdamStateDict } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/index.js';

const grad = (...values: number[]): Float64Array => Float64Array.from(values);

/** Runs `steps` steps of one parameter alone: the independent expectation for group tests. */
function alone(options: RAdamOptions, initial: number[], grads: number[][]): number[] {
  const p = Float64Array.from(initial);
  const opt = new RAdam(cpuBackend({ dtype: 'float64' }), options);
  opt.registerTrainableWeights({ p });
  for (const g of grads) opt.step({ p: Float64Array.from(g) });
  return Array.from(p);
}

const GRADS = [
  [0.3, -0.2],
  [0.1, 0.4],
  [-0.5, 0.2],
  [0.2, 0.2],
  [0.6, -0.1],
  [0.1, 0.3],
  [-0.2, -0.4],
  [0.4, 0.1],
];

describe('RAdam on the cpu backend', () => {
  it('is synchronous: step() returns a report, not a promise', () => {
    const w = new Float32Array([1, 2]);
    const opt = new RAdam(cpuBackend(), { lr: 0.1 });
    opt.registerTrainableWeights({ w });
    const report = opt.step({ w: new Float32Array([1, -1]) });
    expect(report).toEqual({ skipped: false, gradNorm: undefined, lrs: [0.1], updatedParams: 1 });
    // Step 1 is never rectified: p − lr · m̂ = p − lr · g.
    expect(Array.from(w)).toEqual([Math.fround(0.9), Math.fround(2.1)]);
    expect(opt.stepCount).toBe(1);
  });

  it('update() is step()', () => {
    const a = Float64Array.from([1, 2]);
    const b = Float64Array.from([1, 2]);
    const optA = new RAdam(cpuBackend({ dtype: 'float64' }), { lr: 0.1 });
    const optB = new RAdam(cpuBackend({ dtype: 'float64' }), { lr: 0.1 });
    optA.registerTrainableWeights({ p: a });
    optB.registerTrainableWeights({ p: b });
    for (const g of GRADS) {
      optA.step({ p: Float64Array.from(g) });
      optB.update({ p: Float64Array.from(g) });
    }
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('accepts nested parameter and gradient records', () => {
    const kernel = Float64Array.from([1, 1]);
    const opt = new RAdam(cpuBackend({ dtype: 'float64' }), { lr: 0.1 });
    opt.registerTrainableWeights({ dense: { kernel } });
    expect(opt.paramGroups).toEqual([['dense.kernel']]);
    opt.step({ dense: { kernel: grad(1, -1) } });
    expect(Array.from(kernel)).toEqual([0.9, 1.1]);
  });

  it('keeps per-parameter step counts; a parameter without a gradient is untouched', async () => {
    const a = Float64Array.from([1, 2]);
    const b = Float64Array.from([3, 4]);
    const opt = new RAdam(cpuBackend({ dtype: 'float64' }), { lr: 0.1 });
    opt.registerTrainableWeights({ a, b });
    for (const g of GRADS) opt.step({ a: Float64Array.from(g) });
    expect(Array.from(b)).toEqual([3, 4]);
    expect((opt.readState('b') as { step: number }).step).toBe(0);
    // b's first step is a step 1 (not rectified, no bias from a's history).
    opt.step({ a: grad(0, 0), b: grad(1, 1) });
    expect(Array.from(b)).toEqual([2.9, 3.9]);
    expect(opt.readState('a').step).toBe(GRADS.length + 1);
    expect(Array.from(a)).toEqual(
      alone({ lr: 0.1 }, [1, 2], [...GRADS, [0, 0]]),
    );
  });

  it('runs an added group with its own options, with RAdam rectification (not plain Adam)', () => {
    const overrides: RAdamOptions = { lr: 0.05, betas: [0.8, 0.99], weightDecay: 0.1, compat: 'torch', maximize: true };
    const main = Float64Array.from([1, 2]);
    const extra = Float64Array.from([-1, 0.5]);
    const opt = new RAdam(cpuBackend({ dtype: 'float64' }), { lr: 0.1 });
    opt.registerTrainableWeights({ main });
    opt.addParamGroup({ extra }, overrides);
    for (const g of GRADS) opt.step({ main: Float64Array.from(g), extra: Float64Array.from(g) });
    expect(Array.from(main)).toEqual(alone({ lr: 0.1 }, [1, 2], GRADS));
    expect(Array.from(extra)).toEqual(alone(overrides, [-1, 0.5], GRADS));
    expect(opt.groupLrs).toEqual([0.1, 0.05]);
  });

  it('global-norm clipping spans every gradient of the step', () => {
    const a = Float64Array.from([0]);
    const b = Float64Array.from([0]);
    const opt = new RAdam(cpuBackend({ dtype: 'float64' }), { lr: 1, gradClipNorm: 1 });
    opt.registerTrainableWeights({ a, b });
    const report = opt.step({ a: grad(3), b: grad(4) });
    expect(report.gradNorm).toBe(5);
    // Step 1: p − lr · g_clipped, g_clipped = g / 5.
    expect(a[0]).toBeCloseTo(-0.6, 15);
    expect(b[0]).toBeCloseTo(-0.8, 15);
  });

  it('refuses addParamGroup before registration and nonFinite per group', () => {
    const opt = new RAdam(cpuBackend());
    expect(() => opt.addParamGroup({ x: new Float32Array(1) })).toThrow(expect.objectContaining({ code: 'NOT_REGISTERED' }));
    opt.registerTrainableWeights({ w: new Float32Array(1) });
    expect(() => opt.addParamGroup({ x: new Float32Array(1) }, { nonFinite: 'skip' } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', parameter: 'nonFinite' }),
    );
    expect(opt.paramGroups).toEqual([['w']]);
  });

  it('rejects a float64 array on the float32 backend', () => {
    const opt = new RAdam(cpuBackend());
    expect(() => opt.registerTrainableWeights({ w: new Float64Array(2) as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_TENSOR', parameter: 'w' }),
    );
  });

  it('is unusable after dispose()', () => {
    const opt = new RAdam(cpuBackend());
    opt.registerTrainableWeights({ w: new Float32Array(1) });
    opt.dispose();
    expect(() => opt.step({ w: new Float32Array(1) })).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
  });

  it('restores options, groups and steps from a state dict, and resumes identically', () => {
    const build = () => {
      const main = Float64Array.from([1, 2]);
      const extra = Float64Array.from([-1, 0.5]);
      const opt = new RAdam(cpuBackend({ dtype: 'float64' }), { lr: 0.1, gradClipNorm: 0.5 });
      opt.registerTrainableWeights({ main });
      opt.addParamGroup({ extra }, { lr: 0.02, decoupledWeightDecay: true, weightDecay: 0.3 });
      return { opt, main, extra };
    };
    const straight = build();
    for (const g of GRADS) straight.opt.step({ main: Float64Array.from(g), extra: Float64Array.from(g) });

    const first = build();
    for (const g of GRADS.slice(0, 3)) first.opt.step({ main: Float64Array.from(g), extra: Float64Array.from(g) });
    const saved = JSON.parse(JSON.stringify(first.opt.stateDict())) as RAdamStateDict;
    // A fresh optimizer built with other options: the dict's options win.
    const main = Float64Array.from(first.main);
    const extra = Float64Array.from(first.extra);
    const resumed = new RAdam(cpuBackend({ dtype: 'float64' }), { lr: 0.9 });
    resumed.registerTrainableWeights({ main });
    resumed.addParamGroup({ extra }, { lr: 0.7 });
    resumed.loadStateDict(saved);
    expect(resumed.groupLrs).toEqual([0.1, 0.02]);
    expect(resumed.stepCount).toBe(3);
    for (const g of GRADS.slice(3)) resumed.step({ main: Float64Array.from(g), extra: Float64Array.from(g) });
    expect(Array.from(main)).toEqual(Array.from(straight.main));
    expect(Array.from(extra)).toEqual(Array.from(straight.extra));
  });

  it('loads a float64 state into the float32 backend', () => {
    const p64 = Float64Array.from([1, 2]);
    const opt64 = new RAdam(cpuBackend({ dtype: 'float64' }), { lr: 0.1 });
    opt64.registerTrainableWeights({ p: p64 });
    for (const g of GRADS) opt64.step({ p: Float64Array.from(g) });
    const opt32 = new RAdam(cpuBackend(), { lr: 0.1 });
    opt32.registerTrainableWeights({ p: Float32Array.from(p64) });
    opt32.loadStateDict(opt64.stateDict());
    const state = opt32.readState('p');
    expect(state.step).toBe(GRADS.length);
    expect(state.firstMoment).toBeInstanceOf(Float32Array);
    expect(Array.from(state.firstMoment)).toEqual(Array.from(Float32Array.from(opt64.readState('p').firstMoment)));
  });

  it('RectifyError names the code in its name and is an Error', () => {
    const error = new RectifyError('SHAPE_MISMATCH', 'bad', 'w');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RectifyError');
  });
});
