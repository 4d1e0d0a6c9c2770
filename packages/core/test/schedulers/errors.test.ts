import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RectifyError } from '../../src/errors.js';
import {
  ChainedScheduler,
  CyclicLR,
  ExponentialLR,
  ReduceLROnPlateau,
  SequentialLR,
  StepLR,
  createScheduler,
  type LearningRateScheduler,
  type SchedulerSpec,
  type SchedulerState,
} from '../../src/schedulers/index.js';

function caught(fn: () => unknown): RectifyError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RectifyError) return error;
    throw new Error(`expected a RectifyError, got ${String(error)}`);
  }
  throw new Error('expected a RectifyError, nothing was thrown');
}

function expectOptionError(spec: SchedulerSpec, parameter: string): RectifyError {
  const error = caught(() => createScheduler(spec));
  expect(error.code, `${spec.scheduler} ${JSON.stringify(spec.args)}: ${error.message}`).toBe('INVALID_OPTION');
  expect(error.parameter, error.message).toBe(parameter);
  return error;
}

const linear = { scheduler: 'LinearLR', args: { baseLr: 0.1, startFactor: 0.1, totalIters: 3 } };
const plateau = { scheduler: 'ReduceLROnPlateau', args: { baseLr: 0.1 } };

// [scheduler, args, parameter at fault]
const badArguments: Array<[string, Record<string, unknown>, string]> = [
  ['StepLR', { stepSize: 0 }, 'stepSize'],
  ['StepLR', { stepSize: -3 }, 'stepSize'],
  ['StepLR', { stepSize: 2.5 }, 'stepSize'],
  ['StepLR', { stepSize: '3' }, 'stepSize'],
  ['StepLR', { gamma: Number.NaN }, 'gamma'],
  ['StepLR', { gamma: Number.POSITIVE_INFINITY }, 'gamma'],
  ['StepLR', { gamma: -0.5 }, 'gamma'],
  ['StepLR', { baseLr: -0.1 }, 'baseLr'],
  ['StepLR', { baseLr: [] }, 'baseLr'],
  ['StepLR', { baseLr: [0.1, Number.NaN] }, 'baseLr'],
  ['StepLR', { baseLr: '0.1' }, 'baseLr'],
  ['StepLR', { lastEpoch: -1 }, 'lastEpoch'],
  ['MultiStepLR', { milestones: [] }, 'milestones'],
  ['MultiStepLR', { milestones: [5, 2, 9] }, 'milestones'],
  ['MultiStepLR', { milestones: [1.5] }, 'milestones'],
  ['MultiStepLR', { milestones: 3 }, 'milestones'],
  ['ExponentialLR', { gamma: Number.NEGATIVE_INFINITY }, 'gamma'],
  ['ExponentialDecayLR', { decaySteps: 0 }, 'decaySteps'],
  ['ExponentialDecayLR', { decayRate: 0 }, 'decayRate'],
  ['ExponentialDecayLR', { transitionBegin: -1 }, 'transitionBegin'],
  ['ExponentialDecayLR', { staircase: 'yes' }, 'staircase'],
  ['ExponentialDecayLR', { endValue: Number.NaN }, 'endValue'],
  ['CosineAnnealingLR', { tMax: 0 }, 'tMax'],
  ['CosineAnnealingLR', { etaMin: -1 }, 'etaMin'],
  ['PolynomialLR', { totalIters: 0 }, 'totalIters'],
  ['PolynomialLR', { power: -1 }, 'power'],
  ['WarmupScheduler', { warmupEpochs: -1 }, 'warmupEpochs'],
  ['WarmupScheduler', { warmupStartLr: Number.NaN }, 'warmupStartLr'],
  ['CyclicLR', { stepSizeUp: 0 }, 'stepSizeUp'],
  ['CyclicLR', { stepSizeDown: 0 }, 'stepSizeDown'],
  ['CyclicLR', { mode: 'sine' }, 'mode'],
  ['CyclicLR', { scaleMode: 'epochs' }, 'scaleMode'],
  ['CyclicLR', { scaleFn: 3 }, 'scaleFn'],
  ['CyclicLR', { baseLr: [0.1, 0.2], maxLr: [0.3, 0.4, 0.5] }, 'maxLr'],
  ['OneCycleLR', {}, 'totalSteps'],
  ['OneCycleLR', { epochs: 2 }, 'stepsPerEpoch'],
  ['OneCycleLR', { stepsPerEpoch: 2 }, 'epochs'],
  ['OneCycleLR', { totalSteps: 0 }, 'totalSteps'],
  ['OneCycleLR', { totalSteps: 10, epochs: 2, stepsPerEpoch: 3 }, 'totalSteps'],
  ['OneCycleLR', { totalSteps: 10, pctStart: 0 }, 'pctStart'],
  ['OneCycleLR', { totalSteps: 10, pctStart: 1 }, 'pctStart'],
  ['OneCycleLR', { totalSteps: 10, annealStrategy: 'cosine' }, 'annealStrategy'],
  ['OneCycleLR', { totalSteps: 10, divFactor: 0 }, 'divFactor'],
  ['OneCycleLR', { totalSteps: 10, baseLr: 0.1 }, 'baseLr'],
  ['ReduceLROnPlateau', { factor: 1 }, 'factor'],
  ['ReduceLROnPlateau', { factor: 1.5 }, 'factor'],
  ['ReduceLROnPlateau', { factor: 0 }, 'factor'],
  ['ReduceLROnPlateau', { mode: 'minimize' }, 'mode'],
  ['ReduceLROnPlateau', { thresholdMode: 'relative' }, 'thresholdMode'],
  ['ReduceLROnPlateau', { patience: -1 }, 'patience'],
  ['ReduceLROnPlateau', { cooldown: 1.5 }, 'cooldown'],
  ['ReduceLROnPlateau', { threshold: -1e-4 }, 'threshold'],
  ['ReduceLROnPlateau', { baseLr: [0.1, 0.2], minLr: [0.01, 0.02, 0.03] }, 'minLr'],
  ['ReduceLROnPlateau', { eps: -1 }, 'eps'],
  ['LinearLR', { totalIters: -1 }, 'totalIters'],
  ['LinearLR', { startFactor: -0.5 }, 'startFactor'],
  ['ConstantLR', { factor: -1 }, 'factor'],
  ['ConstantLR', { totalIters: 1.5 }, 'totalIters'],
  ['CosineAnnealingWarmRestarts', { t0: 0 }, 't0'],
  ['CosineAnnealingWarmRestarts', { tMult: 0 }, 'tMult'],
  ['CosineAnnealingWarmRestarts', { tMult: 1.5 }, 'tMult'],
  ['WarmupCosineSchedule', { warmupSteps: -1 }, 'warmupSteps'],
  ['WarmupCosineSchedule', { warmupSteps: 10, totalSteps: 5 }, 'totalSteps'],
  ['PiecewiseConstantSchedule', { boundaries: [7, 3], values: [1, 2, 3] }, 'boundaries'],
  ['PiecewiseConstantSchedule', { boundaries: [3, 3], values: [1, 2, 3] }, 'boundaries'],
  ['PiecewiseConstantSchedule', { boundaries: [3, 7], values: [1, 2] }, 'values'],
  ['PiecewiseConstantSchedule', { boundaries: [3], values: [1, -2] }, 'values'],
  ['ChainedScheduler', {}, 'schedulers'],
  ['ChainedScheduler', { schedulers: [] }, 'schedulers'],
  ['ChainedScheduler', { schedulers: [42] }, 'schedulers[0]'],
  ['ChainedScheduler', { schedulers: [linear, { scheduler: 'ExponentialLR', args: { gamma: -1 } }] }, 'schedulers[1].gamma'],
  [
    'ChainedScheduler',
    { schedulers: [{ scheduler: 'StepLR', args: { baseLr: [0.1, 0.2] } }, { scheduler: 'StepLR', args: { baseLr: [0.1, 0.2, 0.3] } }] },
    'schedulers[1]',
  ],
  ['SequentialLR', { schedulers: [linear, linear] }, 'milestones'],
  ['SequentialLR', { schedulers: [linear, linear, linear], milestones: [5, 2] }, 'milestones'],
  ['SequentialLR', { schedulers: [linear, linear], milestones: [-1] }, 'milestones'],
  ['SequentialLR', { schedulers: [linear, plateau], milestones: [3] }, 'schedulers[1]'],
  ['SequentialLR', { schedulers: [linear, { scheduler: 'StepLR', args: { step_size: 3 } }], milestones: [3] }, 'schedulers[1].step_size'],
];

describe('bad arguments', () => {
  for (const [scheduler, args, parameter] of badArguments) {
    it(`${scheduler} ${JSON.stringify(args)} → INVALID_OPTION on ${parameter}`, () => {
      const error = expectOptionError({ scheduler, args }, parameter);
      expect(error.message).toContain(scheduler);
    });
  }

  it('rejects snake_case names with the camelCase hint', () => {
    const error = expectOptionError({ scheduler: 'StepLR', args: { base_lr: 0.1, stepSize: 3 } }, 'base_lr');
    expect(error.message).toContain('Did you mean "baseLr"?');
    expect(error.message).toContain('camelCase');
    expect(expectOptionError({ scheduler: 'CosineAnnealingLR', args: { T_max: 10 } }, 'T_max').message).toContain('"tMax"');
    expect(expectOptionError({ scheduler: 'CosineAnnealingWarmRestarts', args: { T_0: 4 } }, 'T_0').message).toContain('"t0"');
    expect(expectOptionError({ scheduler: 'CyclicLR', args: { step_size_up: 4 } }, 'step_size_up').message).toContain(
      '"stepSizeUp"',
    );
    expect(expectOptionError({ scheduler: 'StepLR', args: { stepsize: 4 } }, 'stepsize').message).toContain('"stepSize"');
    expect(expectOptionError({ scheduler: 'StepLR', args: { gama: 0.5 } }, 'gama').message).toContain('"gamma"');
  });

  it('rejects an unrelated unknown argument, listing the known ones', () => {
    const error = expectOptionError({ scheduler: 'ExponentialLR', args: { gamma: 0.9, momentum: 0.9 } }, 'momentum');
    expect(error.message).not.toContain('Did you mean');
    expect(error.message).toContain('baseLr, gamma, lastEpoch');
  });

  it('reject options that are not an object in the constructors', () => {
    const error = caught(() => new StepLR(5 as unknown as object));
    expect(error.code).toBe('INVALID_OPTION');
    expect(caught(() => new ChainedScheduler(undefined as never)).parameter).toBe('schedulers');
  });

  it('rejects the same scheduler instance twice in a composite', () => {
    const s = new ExponentialLR({ baseLr: 0.1, gamma: 0.9 });
    const error = caught(() => new ChainedScheduler({ schedulers: [s, s] }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.parameter).toBe('schedulers[1]');
  });

  it('nests the position of a bad child spec in the parameter', () => {
    const error = caught(() =>
      createScheduler({
        scheduler: 'SequentialLR',
        args: { schedulers: [linear, { scheduler: 'StepLr', args: {} }], milestones: [2] },
      }),
    );
    expect(error.code).toBe('INVALID_SCHEDULER');
    expect(error.parameter).toBe('schedulers[1].scheduler');
    expect(error.message).toContain('Did you mean "StepLR"?');
  });
});

describe('malformed specs', () => {
  const cases: Array<[unknown, string]> = [
    [null, 'scheduler'],
    [42, 'scheduler'],
    [{ args: {} }, 'scheduler'],
    [{ scheduler: 3, args: {} }, 'scheduler'],
    [{ scheduler: 'StepLR' }, 'args'],
    [{ scheduler: 'StepLR', args: [0.1] }, 'args'],
    [{ scheduler: 'StepLR', args: {}, gamma: 0.5 }, 'gamma'],
    [{ scheduler: 'NoSuchLR', args: {} }, 'scheduler'],
  ];
  for (const [spec, parameter] of cases) {
    it(`${JSON.stringify(spec)} → INVALID_SCHEDULER on ${parameter}`, () => {
      const error = caught(() => createScheduler(spec as SchedulerSpec));
      expect(error.code).toBe('INVALID_SCHEDULER');
      expect(error.parameter).toBe(parameter);
    });
  }

  it('suggests the right name for a near miss and lists the known ones', () => {
    const error = caught(() => createScheduler({ scheduler: 'cosineannealinglr', args: {} }));
    expect(error.message).toContain('Did you mean "CosineAnnealingLR"?');
    expect(error.message).toContain('WarmupCosineSchedule');
  });
});

describe('step(metric) of ReduceLROnPlateau', () => {
  for (const metric of [undefined, Number.NaN, Number.POSITIVE_INFINITY, '0.5']) {
    it(`rejects ${String(metric)} and changes nothing`, () => {
      const s = new ReduceLROnPlateau({ baseLr: 0.1, patience: 0 });
      s.step(1);
      const before = s.stateDict();
      const error = caught(() => s.step(metric as number));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.parameter).toBe('metric');
      expect(s.stateDict()).toEqual(before);
      expect(s.lastEpoch).toBe(1);
    });
  }

  it('a chain holding it needs the metric too, and is left unchanged without one', () => {
    const s = new ChainedScheduler({ schedulers: [new ExponentialLR({ baseLr: 0.1, gamma: 0.5 }), plateau] });
    const before = s.stateDict();
    const error = caught(() => s.step());
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.parameter).toBe('schedulers[1].metric');
    expect(s.stateDict()).toEqual(before);
  });
});

describe('CyclicLR with a custom scaleFn', () => {
  it('has no JSON spec: toSpec throws naming scaleFn', () => {
    const s = new CyclicLR({ baseLr: 0.001, maxLr: 0.01, stepSizeUp: 2, scaleFn: (c) => 1 / c });
    const error = caught(() => s.toSpec());
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.parameter).toBe('scaleFn');
  });

  it('a scaleFn returning NaN makes step throw and changes nothing', () => {
    const s = new CyclicLR({ stepSizeUp: 2, scaleFn: (c) => (c > 1 ? Number.NaN : 1), scaleMode: 'cycle' });
    for (let i = 0; i < 3; i += 1) s.step();
    const before = s.stateDict();
    const error = caught(() => s.step());
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.parameter).toBe('scaleFn');
    expect(s.stateDict()).toEqual(before);
    expect(s.lastEpoch).toBe(3);
  });
});

interface GoldenCase {
  readonly name: string;
  readonly scheduler: string;
  readonly args: Record<string, unknown>;
  readonly epochs: number;
  readonly metrics?: number[];
}

const goldens = JSON.parse(
  readFileSync(new URL('../../../conformance/goldens/schedulers.json', import.meta.url), 'utf8'),
) as { cases: GoldenCase[] };

function advance(s: LearningRateScheduler, c: GoldenCase, from: number, to: number): void {
  for (let i = from; i < to; i += 1) {
    if (c.metrics !== undefined) s.step(c.metrics[i]);
    else s.step();
  }
}

/** Garbage variants of a valid state dict. */
function garbageStates(valid: SchedulerState): Array<[string, unknown]> {
  const lastLr = valid['lastLr'] as number[];
  const out: Array<[string, unknown]> = [
    ['null', null],
    ['a number', 42],
    ['an array', [valid]],
    ['an empty object', {}],
    ['no lastEpoch', { ...valid, lastEpoch: undefined }],
    ['negative lastEpoch', { ...valid, lastEpoch: -1 }],
    ['fractional lastEpoch', { ...valid, lastEpoch: 2.5 }],
    ['string lastEpoch', { ...valid, lastEpoch: '3' }],
    ['lastLr not a list', { ...valid, lastLr: 0.1 }],
    ['lastLr too long', { ...valid, lastLr: [...lastLr, 0.1] }],
    ['NaN in lastLr', { ...valid, lastLr: lastLr.map(() => Number.NaN) }],
    ['negative lastLr', { ...valid, lastLr: lastLr.map(() => -1) }],
    ['another scheduler', { ...valid, scheduler: 'SomethingElse' }],
    ['an unknown entry', { ...valid, extra: 1 }],
  ];
  if ('schedulers' in valid) {
    const children = valid['schedulers'] as SchedulerState[];
    const lastChild = children[children.length - 1] ?? {};
    out.push(['children missing', { ...valid, schedulers: [] }]);
    out.push(['children not a list', { ...valid, schedulers: 'x' }]);
    out.push(['a bad last child', { ...valid, schedulers: [...children.slice(0, -1), { ...lastChild, lastEpoch: -4 }] }]);
    out.push(['a child of another kind', { ...valid, schedulers: [...children.slice(0, -1), { ...lastChild, scheduler: 'StepLR' }] }]);
  }
  if ('best' in valid) {
    out.push(['a string best', { ...valid, best: 'x' }]);
    out.push(['a negative numBadEpochs', { ...valid, numBadEpochs: -1 }]);
    out.push(['a fractional cooldownCounter', { ...valid, cooldownCounter: 0.5 }]);
  }
  return out;
}

describe('loadStateDict with garbage throws INVALID_STATE_DICT and changes nothing', () => {
  for (const c of goldens.cases) {
    it(`${c.name} (${c.scheduler})`, () => {
      const spec = { scheduler: c.scheduler, args: c.args };
      const s = createScheduler(spec);
      const twin = createScheduler(spec);
      const mid = Math.floor(c.epochs / 2);
      advance(s, c, 0, mid);
      advance(twin, c, 0, mid);
      const before = s.stateDict();
      // A valid state from another point of the run, to show garbage is rejected as a whole.
      const other = createScheduler(spec);
      advance(other, c, 0, mid + 1);
      for (const [label, garbage] of garbageStates(other.stateDict())) {
        const error = caught(() => s.loadStateDict(garbage as SchedulerState));
        expect(error.code, `${label}: ${error.message}`).toBe('INVALID_STATE_DICT');
        expect(s.stateDict(), label).toEqual(before);
      }
      // Still on track: continues exactly like a scheduler never given garbage.
      advance(s, c, mid, c.epochs);
      advance(twin, c, mid, c.epochs);
      expect(s.getLastLr()).toEqual(twin.getLastLr());
      expect(s.stateDict()).toEqual(twin.stateDict());
    });
  }

  it('a composite with a bad second child leaves the first child untouched', () => {
    const first = new ExponentialLR({ baseLr: 0.1, gamma: 0.5 });
    const second = new StepLR({ baseLr: 0.1, stepSize: 2 });
    const s = new SequentialLR({ schedulers: [first, second], milestones: [3] });
    for (let i = 0; i < 5; i += 1) s.step();
    const state = s.stateDict();
    const children = state['schedulers'] as SchedulerState[];
    const bad = { ...state, lastEpoch: 1, schedulers: [{ ...children[0], lastEpoch: 0 }, { ...children[1], lastLr: [] }] };
    const firstBefore = first.stateDict();
    expect(caught(() => s.loadStateDict(bad)).code).toBe('INVALID_STATE_DICT');
    expect(first.stateDict()).toEqual(firstBefore);
    expect(s.stateDict()).toEqual(state);
  });
});
