import { CosineAnnealingLR, LinearLR, RAdam, StepLR, type RAdamStateDict } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/index.js';

const one = (x: number): Float64Array => Float64Array.from([x]);

describe('RAdam driven by a scheduler', () => {
  it('reads the scheduler at every step; the caller advances it', () => {
    const scheduler = new StepLR({ baseLr: 0.1, stepSize: 2, gamma: 0.5 });
    const opt = new RAdam(cpuBackend({ dtype: 'float64' }), { lr: scheduler });
    opt.registerTrainableWeights({ p: one(0) });
    const used: number[] = [];
    for (let epoch = 0; epoch < 5; epoch++) {
      used.push(opt.step({ p: one(1) }).lrs[0]!);
      scheduler.step();
    }
    expect(used).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
    expect(opt.scheduler).toBe(scheduler);
  });

  it('gives each parameter group its own rate from a list-valued baseLr', () => {
    const opt = new RAdam(cpuBackend({ dtype: 'float64' }), {
      lr: { scheduler: 'ExponentialLR', args: { baseLr: [0.1, 0.01], gamma: 0.5 } },
    });
    const a = one(0);
    const b = one(0);
    opt.registerTrainableWeights({ a });
    opt.addParamGroup({ b }, { weightDecay: 0 });
    expect(opt.groupLrs).toEqual([0.1, 0.01]);
    opt.step({ a: one(1), b: one(1) });
    // Step 1 is p − lr · g: each group moved by its own rate.
    expect(a[0]).toBeCloseTo(-0.1, 15);
    expect(b[0]).toBeCloseTo(-0.01, 15);
    opt.scheduler!.step();
    expect(opt.groupLrs).toEqual([0.05, 0.005]);
  });

  it('refuses a scheduler with fewer rates than groups, changing nothing', () => {
    const opt = new RAdam(cpuBackend({ dtype: 'float64' }), {
      lr: { scheduler: 'StepLR', args: { baseLr: [0.1, 0.2], stepSize: 1 } },
    });
    const a = one(1);
    opt.registerTrainableWeights({ a });
    opt.addParamGroup({ b: one(1) });
    opt.addParamGroup({ c: one(1) });
    expect(() => opt.step({ a: one(1) })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', parameter: 'lr' }));
    expect(a[0]).toBe(1);
    expect(opt.stepCount).toBe(0);
  });

  it('a group may carry its own scheduler; after a load the caller\'s scheduler objects stay live', () => {
    const build = () => {
      const main = new CosineAnnealingLR({ baseLr: 0.1, tMax: 10 });
      const head = new LinearLR({ baseLr: 0.05, startFactor: 0.5, totalIters: 4 });
      const opt = new RAdam(cpuBackend({ dtype: 'float64' }), { lr: main });
      const a = one(1);
      const b = one(1);
      opt.registerTrainableWeights({ a });
      opt.addParamGroup({ b }, { lr: head });
      return { opt, a, b, main, head };
    };
    const epoch = (run: ReturnType<typeof build>) => {
      run.opt.step({ a: one(0.3), b: one(-0.2) });
      run.main.step();
      run.head.step();
    };
    const straight = build();
    expect(straight.opt.groupLrs).toEqual([0.1, 0.025]);
    for (let i = 0; i < 8; i++) epoch(straight);

    const first = build();
    for (let i = 0; i < 3; i++) epoch(first);
    const saved = JSON.parse(JSON.stringify(first.opt.stateDict())) as RAdamStateDict;
    expect(saved.groups[1]!.overrides.lr).toEqual({ scheduler: 'LinearLR', args: expect.objectContaining({ baseLr: 0.05 }) });
    const resumed = build();
    resumed.a[0] = first.a[0]!;
    resumed.b[0] = first.b[0]!;
    resumed.opt.loadStateDict(saved);
    expect(resumed.main.lastEpoch).toBe(3);
    expect(resumed.head.lastEpoch).toBe(3);
    expect(resumed.opt.groupLrs).toEqual(first.opt.groupLrs);
    for (let i = 3; i < 8; i++) epoch(resumed);
    expect(resumed.a[0]).toBe(straight.a[0]);
    expect(resumed.b[0]).toBe(straight.b[0]);
  });

  it('carries the scheduler progress through a state dict', () => {
    const opt = new RAdam(cpuBackend({ dtype: 'float64' }), {
      lr: { scheduler: 'StepLR', args: { baseLr: 0.1, stepSize: 1, gamma: 0.5 } },
    });
    opt.registerTrainableWeights({ p: one(0) });
    opt.scheduler!.step();
    opt.scheduler!.step();
    const saved = JSON.parse(JSON.stringify(opt.stateDict())) as RAdamStateDict;
    const resumed = new RAdam(cpuBackend({ dtype: 'float64' }), { lr: 0.9 });
    resumed.registerTrainableWeights({ p: one(0) });
    resumed.loadStateDict(saved);
    expect(resumed.currentLr).toBe(0.025);
    expect(resumed.scheduler!.lastEpoch).toBe(2);
    resumed.scheduler!.step();
    expect(resumed.currentLr).toBe(0.0125);
  });

  it('rejects a state dict whose scheduler state is corrupt, changing nothing', () => {
    const opt = new RAdam(cpuBackend({ dtype: 'float64' }), {
      lr: { scheduler: 'StepLR', args: { baseLr: 0.1, stepSize: 1, gamma: 0.5 } },
    });
    opt.registerTrainableWeights({ p: one(0) });
    const saved = opt.stateDict();
    opt.scheduler!.step();
    const bad = { ...saved, schedulerState: { ...saved.schedulerState, lastEpoch: -3 } };
    expect(() => opt.loadStateDict(bad)).toThrow(expect.objectContaining({ code: 'INVALID_STATE_DICT' }));
    expect(opt.currentLr).toBe(0.05);
    expect(opt.scheduler!.lastEpoch).toBe(1);
  });
});
