import { describe, expect, it } from 'vitest';
import { RectifyError } from '../../src/errors.js';
import {
  ChainedScheduler,
  ConstantLR,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  CyclicLR,
  ExponentialDecayLR,
  ExponentialLR,
  LinearLR,
  MultiStepLR,
  OneCycleLR,
  PiecewiseConstantSchedule,
  ReduceLROnPlateau,
  SequentialLR,
  StepLR,
  WarmupCosineSchedule,
  createScheduler,
  isLearningRateScheduler,
  schedulerFactories,
  type LearningRateScheduler,
  type SchedulerState,
} from '../../src/schedulers/index.js';

/** The rates of group `group` at epochs 0..n (n calls of step()). */
function run(s: LearningRateScheduler, n: number, group = 0, metrics?: number[]): number[] {
  const out = [s.getLastLr()[group] ?? NaN];
  for (let i = 0; i < n; i += 1) {
    s.step(metrics?.[i]);
    out.push(s.getLastLr()[group] ?? NaN);
  }
  return out;
}

function expectSeq(actual: number[], expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((want, i) => expect(actual[i], `epoch ${i}`).toBeCloseTo(want, 12));
}

describe('CyclicLR with a custom scaleFn (hand-computed)', () => {
  it("scaleMode 'cycle' gets the cycle number and overrides mode", () => {
    // up = down = 2: cycle = ⌊1 + t/4⌋, x = |t/2 − 2·cycle + 1|, lr = 0.001 + 0.009 · (1/cycle) · max(0, 1 − x)
    const s = new CyclicLR({ baseLr: 0.001, maxLr: 0.01, stepSizeUp: 2, mode: 'exp_range', gamma: 0.5, scaleFn: (c) => 1 / c });
    expectSeq(run(s, 8), [0.001, 0.0055, 0.01, 0.0055, 0.001, 0.00325, 0.0055, 0.00325, 0.001]);
  });

  it("scaleMode 'iterations' gets the epoch", () => {
    const seen: number[] = [];
    const s = new CyclicLR({
      baseLr: 0.001,
      maxLr: 0.01,
      stepSizeUp: 2,
      scaleMode: 'iterations',
      scaleFn: (t) => {
        seen.push(t);
        return 1 / (1 + t);
      },
    });
    // t=1: 0.001 + 0.009 · ½ · ½; t=2: 0.001 + 0.009 · ⅓; t=3: 0.001 + 0.009 · ¼ · ½
    expectSeq(run(s, 3), [0.001, 0.00325, 0.004, 0.002125]);
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it('broadcasts baseLr and maxLr over parameter groups', () => {
    const s = new CyclicLR({ baseLr: [0.1, 0.2], maxLr: 0.3, stepSizeUp: 2 });
    s.step();
    expect(s.getLastLr()).toEqual([0.2, 0.25]);
  });
});

describe('ReduceLROnPlateau (hand-computed)', () => {
  it('clamps each group to its own minLr', () => {
    const s = new ReduceLROnPlateau({ baseLr: [0.1, 0.01], minLr: [0.02, 0.004], factor: 0.5, patience: 0 });
    const lrs: number[][] = [s.getLastLr()];
    for (let i = 0; i < 5; i += 1) {
      s.step(1);
      lrs.push(s.getLastLr());
    }
    // step 1 sets best; each later step is a bad epoch > patience 0 and reduces.
    expect(lrs).toEqual([
      [0.1, 0.01],
      [0.1, 0.01],
      [0.05, 0.005],
      [0.025, 0.004],
      [0.02, 0.004],
      [0.02, 0.004],
    ]);
  });

  it('a single minLr applies to every group', () => {
    const s = new ReduceLROnPlateau({ baseLr: [0.1, 0.04], minLr: 0.03, factor: 0.5, patience: 0 });
    run(s, 3, 0, [1, 1, 1]);
    expect(s.getLastLr()).toEqual([0.03, 0.03]);
  });

  it("'max' with a relative threshold needs metric > best · (1 + threshold)", () => {
    const s = new ReduceLROnPlateau({ baseLr: 1, mode: 'max', threshold: 0.1, patience: 1, factor: 0.5 });
    // 1 (best), 1.05 (not > 1.1: bad 1), 1.2 (better: bad 0), 1.25 (bad 1), 1.3 (bad 2 > 1: reduce)
    expect(run(s, 5, 0, [1, 1.05, 1.2, 1.25, 1.3])).toEqual([1, 1, 1, 1, 1, 0.5]);
    expect(s.best).toBe(1.2);
    expect(s.numBadEpochs).toBe(0);
  });

  it('skips reductions not larger than eps', () => {
    const s = new ReduceLROnPlateau({ baseLr: 1e-9, factor: 0.5, patience: 0, eps: 1e-8 });
    run(s, 3, 0, [1, 1, 1]);
    expect(s.getLastLr()).toEqual([1e-9]);
  });

  it('stores best as null before the first metric, and round-trips it', () => {
    const s = new ReduceLROnPlateau({ baseLr: 0.1, mode: 'max' });
    expect(s.stateDict()).toEqual({
      scheduler: 'ReduceLROnPlateau',
      lastEpoch: 0,
      lastLr: [0.1],
      best: null,
      numBadEpochs: 0,
      cooldownCounter: 0,
    });
    s.step(0.5);
    const twin = new ReduceLROnPlateau({ baseLr: 0.1, mode: 'max' });
    twin.loadStateDict(s.stateDict());
    expect(twin.best).toBe(0.5);
    twin.loadStateDict(new ReduceLROnPlateau({ baseLr: 0.1, mode: 'max' }).stateDict());
    expect(twin.best).toBe(-Infinity);
  });
});

describe('OneCycleLR', () => {
  it('has no threePhase option (the reference has two phases): it is rejected', () => {
    const error = (() => {
      try {
        new OneCycleLR({ totalSteps: 10, threePhase: true } as never);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(RectifyError);
    expect((error as RectifyError).parameter).toBe('threePhase');
  });

  it('epochs × stepsPerEpoch equals totalSteps, and maxLr may be per group', () => {
    const a = new OneCycleLR({ maxLr: [0.1, 0.01], epochs: 2, stepsPerEpoch: 5, annealStrategy: 'linear' });
    const b = new OneCycleLR({ maxLr: [0.1, 0.01], totalSteps: 10, annealStrategy: 'linear' });
    expect(a.totalSteps).toBe(10);
    // warmup W = 3 steps from 0.1/25; then linear to max/1e4 over 7 steps
    expectSeq(run(a, 12, 1), run(b, 12, 1));
    const c = new OneCycleLR({ maxLr: [0.1, 0.01], totalSteps: 10, annealStrategy: 'linear' });
    expectSeq(run(c, 4, 0), [0.004, 0.004 + 0.096 / 3, 0.004 + (2 * 0.096) / 3, 0.1, 0.1 - (0.1 - 1e-5) / 7]);
    expect(a.toSpec().args).toMatchObject({ epochs: 2, stepsPerEpoch: 5 });
    expect(a.toSpec().args).not.toHaveProperty('totalSteps');
  });
});

describe('composites (hand-computed)', () => {
  it('ChainedScheduler multiplies the factors of its children', () => {
    const s = new ChainedScheduler({
      schedulers: [
        new LinearLR({ baseLr: 0.2, startFactor: 0.5, endFactor: 1, totalIters: 2 }),
        new StepLR({ baseLr: 0.2, stepSize: 2, gamma: 0.1 }),
      ],
    });
    // factors: linear 0.5, 0.75, 1, 1; step 1, 1, 0.1, 0.1
    expectSeq(run(s, 3), [0.1, 0.15, 0.02, 0.02]);
    expect(s.lastEpoch).toBe(3);
  });

  it('ChainedScheduler passes the metric to a ReduceLROnPlateau child', () => {
    const s = new ChainedScheduler({
      schedulers: [new ReduceLROnPlateau({ baseLr: 1, patience: 0, factor: 0.5 }), new ExponentialLR({ baseLr: 1, gamma: 0.9 })],
    });
    expectSeq(run(s, 3, 0, [1, 1, 1]), [1, 0.9, 0.5 * 0.81, 0.25 * 0.729]);
  });

  it('SequentialLR runs each child on its own clock from its milestone', () => {
    const s = new SequentialLR({
      schedulers: [
        new ConstantLR({ baseLr: 1, factor: 1, totalIters: 0 }),
        new ExponentialLR({ baseLr: 1, gamma: 0.5 }),
        new MultiStepLR({ baseLr: 0.3, milestones: [1], gamma: 0.1 }),
      ],
      milestones: [3, 5],
    });
    expectSeq(run(s, 7), [1, 1, 1, 1, 0.5, 0.3, 0.03, 0.03]);
    expect(s.activeIndex(s.lastEpoch)).toBe(2);
  });

  it('composites nest, and their specs hold the children specs', () => {
    const inner = { scheduler: 'ChainedScheduler', args: { schedulers: [{ scheduler: 'ConstantLR', args: { baseLr: 1, factor: 0.5, totalIters: 1 } }] } };
    const s = createScheduler({
      scheduler: 'SequentialLR',
      args: { schedulers: [inner, { scheduler: 'StepLR', args: { baseLr: 1, stepSize: 1, gamma: 0.5 } }], milestones: [2] },
    });
    expectSeq(run(s, 4), [0.5, 1, 1, 0.5, 0.25]);
    const twin = createScheduler(JSON.parse(JSON.stringify(s.toSpec())));
    twin.loadStateDict(JSON.parse(JSON.stringify(s.stateDict())) as SchedulerState);
    expectSeq(run(twin, 2), [0.25, 0.125, 0.0625]);
  });

  it('accept any LearningRateScheduler, and roll it back when a step fails', () => {
    let epoch = 0;
    let failAt = Infinity;
    const foreign: LearningRateScheduler = {
      name: 'Halving',
      get lastEpoch() {
        return epoch;
      },
      getLastLr: () => [0.5 ** epoch],
      step: () => {
        if (epoch + 1 >= failAt) throw new Error('boom');
        epoch += 1;
      },
      toSpec: () => ({ scheduler: 'Halving', args: {} }),
      stateDict: () => ({ epoch }),
      loadStateDict: (state) => {
        epoch = state['epoch'] as number;
      },
    };
    const s = new ChainedScheduler({ schedulers: [new StepLR({ baseLr: 0.8, stepSize: 1, gamma: 0.1 }), foreign] });
    expectSeq(run(s, 2), [0.8, 0.04, 0.002]);
    failAt = 3;
    const before = s.stateDict();
    expect(() => s.step()).toThrow('boom');
    expect(s.stateDict()).toEqual(before);
    expect(epoch).toBe(2);
  });
});

describe('SequentialLR with a scheduler not built into the library', () => {
  function counter(start: number): LearningRateScheduler & { epoch: number } {
    return {
      name: 'Counter',
      epoch: start,
      get lastEpoch() {
        return this.epoch;
      },
      getLastLr() {
        return [1 / (1 + this.epoch)];
      },
      step() {
        this.epoch += 1;
      },
      toSpec: () => ({ scheduler: 'Counter', args: {} }),
      stateDict() {
        return { epoch: this.epoch };
      },
      loadStateDict(state) {
        this.epoch = state['epoch'] as number;
      },
    };
  }

  it('moves it forward with step()', () => {
    const s = new SequentialLR({ schedulers: [new ConstantLR({ baseLr: 1, factor: 1 }), counter(0)], milestones: [1] });
    expectSeq(run(s, 3), [1, 1, 0.5, 1 / 3]);
  });

  it('cannot move it back: the step throws and nothing changes', () => {
    const late = counter(3);
    const s = new SequentialLR({ schedulers: [new ConstantLR({ baseLr: 1, factor: 1 }), late], milestones: [1] });
    const before = s.stateDict();
    expect(() => s.step()).toThrow(RectifyError);
    expect(s.stateDict()).toEqual(before);
    expect(late.epoch).toBe(3);
  });
});

describe('other schedules (hand-computed)', () => {
  it('CosineAnnealingWarmRestarts with tMult 3 restarts at 2, 8, 26', () => {
    const s = new CosineAnnealingWarmRestarts({ baseLr: 1, t0: 2, tMult: 3 });
    const lrs = run(s, 27);
    for (const restart of [0, 2, 8, 26]) expect(lrs[restart]).toBe(1);
    expect(lrs[1]).toBeCloseTo(0.5, 12);
    expect(lrs[5]).toBeCloseTo(0.5, 12); // 3 of 6 into the second cycle
    expect(s.cycleAt(20)).toEqual([12, 18]);
  });

  it('ExponentialDecayLR with decayRate > 1 treats endValue as a ceiling', () => {
    expectSeq(run(new ExponentialDecayLR({ baseLr: 0.1, decaySteps: 1, decayRate: 2, endValue: 0.5 }), 4), [0.1, 0.2, 0.4, 0.5, 0.5]);
  });

  it('WarmupCosineSchedule honours every group (reference fix S-9)', () => {
    const s = new WarmupCosineSchedule({ baseLr: [1, 0.1], warmupSteps: 2, totalSteps: 4 });
    run(s, 1);
    expect(s.getLastLr()).toEqual([0.5, 0.05]);
    run(s, 2);
    expect(s.getLastLr()[0]).toBeCloseTo(0.5, 12);
    expect(s.getLastLr()[1]).toBeCloseTo(0.05, 12);
  });

  it('PiecewiseConstantSchedule values are absolute, for every group', () => {
    const s = new PiecewiseConstantSchedule({ baseLr: [5, 7], boundaries: [1], values: [0.3, 0.2] });
    expect(s.getLastLr()).toEqual([0.3, 0.3]);
    s.step();
    expect(s.getLastLr()).toEqual([0.2, 0.2]);
  });

  it('CosineAnnealingLR holds etaMin after tMax (reference fix S-14)', () => {
    const lrs = run(new CosineAnnealingLR({ baseLr: 1, tMax: 2, etaMin: 0.1 }), 6);
    expectSeq(lrs, [1, 0.55, 0.1, 0.1, 0.1, 0.1, 0.1]);
  });

  it('lastEpoch starts a schedule later, and the spec keeps it', () => {
    const s = new StepLR({ baseLr: 1, stepSize: 2, gamma: 0.5, lastEpoch: 5 });
    expect(s.lastEpoch).toBe(5);
    expect(s.getLastLr()).toEqual([0.25]);
    expect(s.toSpec()).toEqual({ scheduler: 'StepLR', args: { baseLr: 1, stepSize: 2, gamma: 0.5, lastEpoch: 5 } });
    const seq = new SequentialLR({ schedulers: [new ConstantLR({ baseLr: 1, factor: 0.5, totalIters: 9 }), new ExponentialLR({ baseLr: 1, gamma: 0.5 })], milestones: [2], lastEpoch: 4 });
    expect(seq.getLastLr()).toEqual([0.25]);
  });
});

describe('registry and specs', () => {
  const minimal: Record<string, Record<string, unknown>> = {
    OneCycleLR: { totalSteps: 100 },
    ChainedScheduler: { schedulers: [{ scheduler: 'StepLR', args: {} }] },
    SequentialLR: { schedulers: [{ scheduler: 'StepLR', args: {} }], milestones: [] },
  };

  it('knows the 17 reference schedulers', () => {
    expect([...schedulerFactories.keys()].sort()).toEqual(
      [
        'StepLR',
        'MultiStepLR',
        'ExponentialLR',
        'ExponentialDecayLR',
        'CosineAnnealingLR',
        'PolynomialLR',
        'WarmupScheduler',
        'CyclicLR',
        'OneCycleLR',
        'ReduceLROnPlateau',
        'LinearLR',
        'ConstantLR',
        'ChainedScheduler',
        'SequentialLR',
        'CosineAnnealingWarmRestarts',
        'WarmupCosineSchedule',
        'PiecewiseConstantSchedule',
      ].sort(),
    );
  });

  for (const name of schedulerFactories.keys()) {
    it(`${name}: reference defaults, and toSpec builds a twin`, () => {
      const s = createScheduler({ scheduler: name, args: minimal[name] ?? {} });
      expect(isLearningRateScheduler(s)).toBe(true);
      expect(s.name).toBe(name);
      expect(s.lastEpoch).toBe(0);
      const spec = s.toSpec();
      expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
      const twin = createScheduler(spec);
      expect(twin.toSpec()).toEqual(spec);
      expect(twin.stateDict()).toEqual(s.stateDict());
    });
  }

  it('fills in the reference defaults', () => {
    expect(new StepLR().toSpec().args).toEqual({ baseLr: 1e-3, stepSize: 30, gamma: 0.1 });
    expect(new CyclicLR().toSpec().args).toEqual({
      baseLr: 1e-3,
      maxLr: 1e-2,
      stepSizeUp: 2000,
      stepSizeDown: 2000,
      mode: 'triangular',
      gamma: 1,
      scaleMode: 'cycle',
    });
    expect(new ReduceLROnPlateau().toSpec().args).toEqual({
      baseLr: 1e-3,
      mode: 'min',
      factor: 0.1,
      patience: 10,
      threshold: 1e-4,
      thresholdMode: 'rel',
      cooldown: 0,
      minLr: 0,
      eps: 1e-8,
    });
    expect(new LinearLR().getLastLr()[0]).toBeCloseTo(1e-3 / 3, 15);
    expect(new OneCycleLR({ totalSteps: 10 }).getLastLr()).toEqual([1e-2 / 25]);
  });
});
