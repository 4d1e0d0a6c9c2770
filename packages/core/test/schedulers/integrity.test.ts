/**
 * Integrity of the schedulers (issue 12): nothing passed in or handed out is aliased,
 * nesting and cycles end in typed errors, composites are linear in their children,
 * `loadStateDict` validates everything before changing anything, and only own keys count.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RectifyError } from '../../src/errors.js';
import {
  ChainedScheduler,
  ConstantLR,
  CyclicLR,
  ExponentialLR,
  MAX_SCHEDULER_NESTING,
  MultiStepLR,
  SequentialLR,
  StepLR,
  createScheduler,
  isLearningRateScheduler,
  isSchedulerSpec,
  schedulerFactories,
  type LearningRateScheduler,
  type SchedulerSpec,
  type SchedulerState,
} from '../../src/schedulers/index.js';

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

/** A fresh, plain copy of a golden case's spec (JSON data). */
function specOf(c: GoldenCase): SchedulerSpec {
  return JSON.parse(JSON.stringify({ scheduler: c.scheduler, args: c.args })) as SchedulerSpec;
}

function metricAt(c: GoldenCase, epoch: number): number | undefined {
  return c.metrics?.[epoch];
}

function advance(s: LearningRateScheduler, c: GoldenCase, from: number, to: number): void {
  for (let i = from; i < to; i += 1) s.step(metricAt(c, i));
}

/** The rates at every epoch of the case, from the scheduler's current epoch on. */
function replay(s: LearningRateScheduler, c: GoldenCase, from = 0): number[][] {
  const out = [s.getLastLr()];
  for (let i = from; i < c.epochs; i += 1) {
    s.step(metricAt(c, i));
    out.push(s.getLastLr());
  }
  return out;
}

function caught(fn: () => unknown): RectifyError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RectifyError) return error;
    throw new Error(`expected a RectifyError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a RectifyError, nothing was thrown');
}

/** Overwrites every number, string and list in `value` (recursively), in place. */
function scribble(value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach((entry, i) => {
      if (typeof entry === 'object' && entry !== null) scribble(entry);
      else value[i] = 999;
    });
    value.push(999);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const entry = record[key];
    if (typeof entry === 'object' && entry !== null) scribble(entry);
    else record[key] = typeof entry === 'string' ? 'Scribbled' : 999;
  }
  record['scribbled'] = true;
}

/** A foreign scheduler (not built in) that hands out and keeps its live state and spec objects. */
function liveScheduler(failAt = Infinity): LearningRateScheduler {
  let state = { epoch: 0 };
  const spec = { scheduler: 'Live', args: { rate: 1 } };
  return {
    name: 'Live',
    get lastEpoch() {
      return state.epoch;
    },
    getLastLr: () => [0.5 ** state.epoch],
    step: () => {
      if (state.epoch + 1 >= failAt) throw new Error('boom');
      state.epoch += 1;
    },
    toSpec: () => spec,
    stateDict: () => state,
    loadStateDict: (loaded) => {
      state = loaded as { epoch: number };
    },
  };
}

describe('no aliasing: inputs are copied, outputs are fresh', () => {
  for (const c of goldens.cases) {
    it(`${c.name}: editing the spec after createScheduler, or the values it returned, changes nothing`, () => {
      const spec = specOf(c);
      const s = createScheduler(spec);
      const twin = createScheduler(specOf(c));
      const specBefore = s.toSpec();
      scribble(spec);
      const mid = Math.floor(c.epochs / 2);
      advance(s, c, 0, mid);
      advance(twin, c, 0, mid);
      scribble(s.toSpec());
      scribble(s.stateDict());
      scribble(s.getLastLr());
      expect(s.toSpec()).toEqual(specBefore);
      expect(s.stateDict()).toEqual(twin.stateDict());
      // A loaded state is copied too: editing it after the load changes nothing.
      const state = JSON.parse(JSON.stringify(twin.stateDict())) as Record<string, unknown>;
      const loaded = createScheduler(specOf(c));
      loaded.loadStateDict(state);
      scribble(state);
      expect(replay(s, c, mid)).toEqual(replay(twin, c, mid));
      expect(replay(loaded, c, mid)).toEqual(replay(createScheduler(specOf(c)), c, 0).slice(mid));
    });
  }

  it('reads every getter of a spec exactly once and uses the value it read', () => {
    const reads = new Map<string, number>();
    /** An object whose keys are getters returning `values[key]` once, then junk. */
    function once<T extends Record<string, unknown>>(label: string, values: T): T {
      const out = {};
      for (const [key, value] of Object.entries(values)) {
        Object.defineProperty(out, key, {
          enumerable: true,
          get: () => {
            const n = (reads.get(`${label}.${key}`) ?? 0) + 1;
            reads.set(`${label}.${key}`, n);
            return n === 1 ? value : 'changed on a second read';
          },
        });
      }
      return out as T;
    }
    const cyclic = once('cyclic', {
      scheduler: 'CyclicLR',
      args: once('cyclic.args', { baseLr: 0.001, maxLr: 0.01, stepSizeUp: 2, stepSizeDown: 4 }),
    });
    const decay = once('decay', {
      scheduler: 'ExponentialDecayLR',
      args: once('decay.args', { baseLr: 0.1, decaySteps: 2, decayRate: 0.5, endValue: 0.02 }),
    });
    const spec = once('chained', { scheduler: 'ChainedScheduler', args: once('chained.args', { schedulers: [cyclic, decay] }) });
    const s = createScheduler(spec);
    expect([...reads.values()].every((n) => n === 1), JSON.stringify([...reads])).toBe(true);
    expect(reads.size).toBe(15);
    const plain = createScheduler({
      scheduler: 'ChainedScheduler',
      args: {
        schedulers: [
          { scheduler: 'CyclicLR', args: { baseLr: 0.001, maxLr: 0.01, stepSizeUp: 2, stepSizeDown: 4 } },
          { scheduler: 'ExponentialDecayLR', args: { baseLr: 0.1, decaySteps: 2, decayRate: 0.5, endValue: 0.02 } },
        ],
      },
    });
    const rates = (x: LearningRateScheduler): number[] =>
      Array.from({ length: 8 }, () => {
        x.step();
        return x.getLastLr()[0] ?? NaN;
      });
    expect(rates(s)).toEqual(rates(plain));
    expect(s.toSpec()).toEqual(plain.toSpec());
  });

  it('copies what a foreign child hands out (toSpec, stateDict) and what it is given (loadStateDict)', () => {
    const live = liveScheduler();
    const s = new ChainedScheduler({ schedulers: [new StepLR({ baseLr: 1, stepSize: 1, gamma: 0.5 }), live] });
    s.step();
    const before = s.stateDict();
    const children = before['schedulers'] as Array<Record<string, unknown>>;
    (children[1] as { epoch: number }).epoch = 7;
    expect(live.lastEpoch).toBe(1);
    const spec = s.toSpec();
    scribble(spec);
    expect((live.toSpec().args as { rate: number }).rate).toBe(1);

    const state = JSON.parse(JSON.stringify(s.stateDict())) as { schedulers: Array<{ epoch: number }> };
    state.schedulers[1] = { epoch: 3 };
    s.loadStateDict(state);
    expect(live.lastEpoch).toBe(3);
    (state.schedulers[1] as { epoch: number }).epoch = 9;
    expect(live.lastEpoch).toBe(3);
    s.step();
    expect(live.lastEpoch).toBe(4);
    expect(state.schedulers[1]?.epoch).toBe(9);
  });

  it('rolls a foreign child back from a copy of its state, even when stateDict() is its live state', () => {
    const live = liveScheduler();
    const failing = liveScheduler(3);
    const s = new ChainedScheduler({ schedulers: [live, failing] });
    s.step();
    s.step();
    const before = s.stateDict();
    expect(() => s.step()).toThrow('boom');
    expect(live.lastEpoch).toBe(2);
    expect(s.stateDict()).toEqual(before);
  });

  it('freezes the lists a scheduler exposes (baseLrs, milestones, schedulers, …)', () => {
    for (const c of goldens.cases) {
      const s = createScheduler(specOf(c)) as unknown as Record<string, unknown>;
      const lists = Object.keys(s).filter((key) => Array.isArray(s[key]));
      expect(lists.length, c.name).toBeGreaterThan(0);
      for (const key of lists) expect(Object.isFrozen(s[key]), `${c.name}.${key}`).toBe(true);
    }
    const s = new MultiStepLR({ baseLr: 1, milestones: [2], gamma: 0.5 });
    expect(() => (s.milestones as number[]).push(1)).toThrow(TypeError);
    expect(() => ((s.baseLrs as number[])[0] = 5)).toThrow(TypeError);
    s.step();
    s.step();
    expect(s.getLastLr()).toEqual([0.5]);
  });
});

/** `levels` composites (SequentialLR and ChainedScheduler in turn) around ExponentialLR(0.1, 0.5). */
function nestedSpec(levels: number): SchedulerSpec {
  let spec: SchedulerSpec = { scheduler: 'ExponentialLR', args: { baseLr: 0.1, gamma: 0.5 } };
  for (let level = 0; level < levels; level += 1) {
    spec =
      level % 2 === 0
        ? { scheduler: 'SequentialLR', args: { schedulers: [spec], milestones: [] } }
        : { scheduler: 'ChainedScheduler', args: { schedulers: [spec] } };
  }
  return spec;
}

describe('nesting and cycles end in typed errors', () => {
  it(`builds, saves and reloads composites nested ${MAX_SCHEDULER_NESTING} levels deep`, () => {
    expect(MAX_SCHEDULER_NESTING).toBe(16);
    const s = createScheduler(nestedSpec(MAX_SCHEDULER_NESTING));
    s.step();
    s.step();
    expect(s.getLastLr()[0]).toBeCloseTo(0.025, 15);
    const twin = createScheduler(s.toSpec());
    twin.loadStateDict(s.stateDict());
    twin.step();
    expect(twin.getLastLr()[0]).toBeCloseTo(0.0125, 15);
  });

  it(`refuses composites nested ${MAX_SCHEDULER_NESTING + 1} levels deep, from specs or instances`, () => {
    const error = caught(() => createScheduler(nestedSpec(MAX_SCHEDULER_NESTING + 1)));
    expect(error.code).toBe('INVALID_SCHEDULER');
    expect(error.message).toContain(`at most ${MAX_SCHEDULER_NESTING} levels`);
    let s: LearningRateScheduler = new ExponentialLR({ baseLr: 0.1, gamma: 0.5 });
    for (let level = 0; level < MAX_SCHEDULER_NESTING; level += 1) s = new ChainedScheduler({ schedulers: [s] });
    const wrap = caught(() => new SequentialLR({ schedulers: [s], milestones: [] }));
    expect(wrap.code).toBe('INVALID_SCHEDULER');
    expect(wrap.parameter).toBe('schedulers');
    expect(wrap.message).toContain(`at most ${MAX_SCHEDULER_NESTING} levels`);
  });

  it('refuses a spec nested 100 000 levels deep with INVALID_SCHEDULER, not a stack overflow', () => {
    const error = caught(() => createScheduler(nestedSpec(100_000)));
    expect(error.code).toBe('INVALID_SCHEDULER');
    expect(error.message).toContain('64 levels');
  });

  it('refuses a spec that contains itself, through createScheduler or a constructor', () => {
    const cyclic = { scheduler: 'ChainedScheduler', args: { schedulers: [] as unknown[] } };
    cyclic.args.schedulers.push(cyclic);
    for (const build of [() => createScheduler(cyclic), () => new ChainedScheduler({ schedulers: [cyclic as SchedulerSpec] })]) {
      const error = caught(build);
      expect(error.code).toBe('INVALID_SCHEDULER');
      expect(error.message).toContain('64 levels');
    }
  });

  it('refuses a cyclic or deeply nested state with INVALID_STATE_DICT naming the limit, changing nothing', () => {
    const s = createScheduler(nestedSpec(3));
    s.step();
    const before = s.stateDict();
    const cyclic = JSON.parse(JSON.stringify(before)) as { schedulers: unknown[] };
    cyclic.schedulers[0] = cyclic;
    let deep: unknown = before;
    for (let level = 0; level < 100_000; level += 1) deep = { ...before, schedulers: [deep] };
    for (const state of [cyclic, deep]) {
      const error = caught(() => s.loadStateDict(state as SchedulerState));
      expect(error.code).toBe('INVALID_STATE_DICT');
      expect(error.message).toContain('64 levels');
      expect(s.stateDict()).toEqual(before);
    }
  });
});

describe('composites are linear in their children', () => {
  // Generous timeouts for a loaded machine: the quadratic code this replaces took minutes.
  it('a SequentialLR of 200 000 children builds, steps, jumps, saves and loads', { timeout: 30_000 }, () => {
    const n = 200_000;
    const base = (i: number): number => ((i % 7) + 1) / 10;
    const schedulers = Array.from({ length: n }, (_, i) => ({ scheduler: 'ExponentialLR', args: { baseLr: base(i), gamma: 0.5 } }));
    const milestones = Array.from({ length: n - 1 }, (_, i) => 2 * (i + 1));
    // Each child runs two epochs from its own epoch 0.
    const expected = (t: number): number => base(Math.floor(t / 2)) * 0.5 ** (t % 2);
    const s = createScheduler({ scheduler: 'SequentialLR', args: { schedulers, milestones } });
    for (let t = 0; t < 6; t += 1) {
      expect(s.getLastLr()[0]).toBeCloseTo(expected(t), 15);
      s.step();
    }
    const state = s.stateDict();
    expect((state['schedulers'] as unknown[]).length).toBe(n);
    const spec = s.toSpec();
    expect((spec.args['schedulers'] as unknown[]).length).toBe(n);
    expect(spec.args['milestones']).toEqual(milestones);
    s.loadStateDict({ ...state, lastEpoch: 2 * n - 2 });
    s.step();
    expect(s.lastEpoch).toBe(2 * n - 1);
    expect(s.getLastLr()[0]).toBeCloseTo(expected(2 * n - 1), 15);
  });

  it('a ChainedScheduler of 200 000 instances builds, steps and still finds a repeated one', { timeout: 30_000 }, () => {
    const n = 200_000;
    const children = Array.from({ length: n }, (_, i) => new ConstantLR({ baseLr: 1, factor: i === 0 ? 0.5 : 1, totalIters: 2 }));
    const s = new ChainedScheduler({ schedulers: children });
    expect(s.getLastLr()).toEqual([0.5]);
    s.step();
    s.step();
    expect(s.getLastLr()).toEqual([1]);
    const repeated = caught(() => new ChainedScheduler({ schedulers: [...children, children[n - 1] as ConstantLR] }));
    expect(repeated.code).toBe('INVALID_OPTION');
    expect(repeated.parameter).toBe(`schedulers[${n}]`);
  });
});

/** Junk to put anywhere in a state dict. */
const JUNK: ReadonlyArray<readonly [string, () => unknown]> = [
  ['undefined', () => undefined],
  ['null', () => null],
  ['true', () => true],
  ['a string', () => '1'],
  ['NaN', () => Number.NaN],
  ['Infinity', () => Number.POSITIVE_INFINITY],
  ['-Infinity', () => Number.NEGATIVE_INFINITY],
  ['-1', () => -1],
  ['0.5', () => 0.5],
  ['-0.5', () => -0.5],
  ['2^53', () => 2 ** 53],
  ['1e300', () => 1e300],
  ['[]', () => []],
  ['[1]', () => [1]],
  ['{}', () => ({})],
  ['a Date', () => new Date(0)],
  [
    'junk nested 200 levels',
    () => {
      let deep: unknown = 1;
      for (let i = 0; i < 200; i += 1) deep = { deep };
      return deep;
    },
  ],
  [
    'a cycle',
    () => {
      const cycle: Record<string, unknown> = {};
      cycle['self'] = cycle;
      return cycle;
    },
  ],
];

type Path = ReadonlyArray<string | number>;

/** Every path into `value` (plain JSON data): `[]` and below. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((entry, i) => out.push(...pathsOf(entry, [...prefix, i])));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, entry] of Object.entries(value)) out.push(...pathsOf(entry, [...prefix, key]));
  }
  return out;
}

/** A copy of `state` with `edit` applied to the holder of `path` (a deep copy of JSON data). */
function edited(state: SchedulerState, path: Path, edit: (holder: Record<string | number, unknown>, key: string | number) => void): unknown {
  const copy = JSON.parse(JSON.stringify(state)) as Record<string | number, unknown>;
  let holder = copy;
  for (const key of path.slice(0, -1)) holder = holder[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (last !== undefined) edit(holder, last);
  return copy;
}

/** Variants of a valid state dict, field by field: junk values, missing fields, extra and lost entries, throwing getters. */
function mutations(valid: SchedulerState): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const path of pathsOf(valid)) {
    const where = path.length === 0 ? 'the state' : path.join('.');
    if (path.length === 0) {
      for (const [name, make] of JUNK) out.push([`the state = ${name}`, make()]);
    } else {
      for (const [name, make] of JUNK) out.push([`${where} = ${name}`, edited(valid, path, (h, k) => (h[k] = make()))]);
      out.push([
        `${where} missing`,
        edited(valid, path, (h, k) => (Array.isArray(h) ? h.splice(Number(k), 1) : delete h[k])),
      ]);
      out.push([
        `${where} a throwing getter`,
        edited(valid, path, (h, k) =>
          Object.defineProperty(h, k, {
            enumerable: true,
            get: () => {
              throw new Error('getter');
            },
          }),
        ),
      ]);
    }
    const node = path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], valid);
    if (Array.isArray(node)) {
      out.push([`${where} one entry longer`, edited(valid, [...path, node.length], (h, k) => (h[k] = node[node.length - 1] ?? 0))]);
    } else if (typeof node === 'object' && node !== null) {
      out.push([`${where} with extra nested junk`, edited(valid, [...path, 'extra'], (h, k) => (h[k] = { a: [{ b: 1 }] }))]);
    }
  }
  return out;
}

describe('loadStateDict validates everything first (property test over every field)', () => {
  for (const c of goldens.cases) {
    it(`${c.name} (${c.scheduler}): each mutated state is refused leaving everything unchanged, or loads healthily`, () => {
      const s = createScheduler(specOf(c));
      const mid = Math.floor(c.epochs / 2);
      advance(s, c, 0, mid);
      const before = s.stateDict();
      const beforeLr = s.getLastLr();
      const other = createScheduler(specOf(c));
      advance(other, c, 0, mid + 1);
      const cases = mutations(other.stateDict());
      expect(cases.length).toBeGreaterThan(60);
      let refused = 0;
      for (const [label, state] of cases) {
        let error: unknown;
        try {
          s.loadStateDict(state as SchedulerState);
        } catch (thrown) {
          error = thrown;
        }
        if (error !== undefined) {
          refused += 1;
          expect(error, `${label}: ${String(error)}`).toBeInstanceOf(RectifyError);
          expect((error as RectifyError).code, label).toBe('INVALID_STATE_DICT');
          expect(s.stateDict(), label).toEqual(before);
          expect(s.getLastLr(), label).toEqual(beforeLr);
          continue;
        }
        // Loaded: the scheduler is healthy. Its state is JSON, loads into a twin, and a
        // step moves it one epoch on with valid rates.
        const saved = s.stateDict();
        expect(JSON.parse(JSON.stringify(saved)), label).toEqual(saved);
        const twin = createScheduler(specOf(c));
        twin.loadStateDict(saved);
        expect(twin.getLastLr(), label).toEqual(s.getLastLr());
        const epoch = s.lastEpoch;
        s.step(metricAt(c, mid));
        expect(s.lastEpoch, label).toBe(epoch + 1);
        for (const lr of s.getLastLr()) expect(Number.isFinite(lr) && lr >= 0, `${label}: rate ${lr}`).toBe(true);
        s.loadStateDict(before);
      }
      expect(refused).toBeGreaterThan(cases.length / 2);
    });
  }
});

/** Own-data keys the schedulers read: every argument and state entry name, and the spec's. */
function dataKeys(): string[] {
  const keys = new Set(['polluted', 'scheduler', 'args', 'lastEpoch', 'scaleFn', 'endValue', 'totalSteps', 'epochs']);
  for (const key of ['stepsPerEpoch', 'stepSizeDown', 'baseLrs', 'code', 'root', 'keep']) keys.add(key);
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) {
      for (const [key, entry] of Object.entries(value)) {
        keys.add(key);
        visit(entry);
      }
    }
  };
  for (const c of goldens.cases) {
    const s = createScheduler(specOf(c));
    visit(s.toSpec());
    visit(s.stateDict());
  }
  for (const name of schedulerFactories.keys()) visit(createScheduler({ scheduler: name, args: minimalArgs(name) }).toSpec());
  return [...keys];
}

function minimalArgs(name: string): Record<string, unknown> {
  if (name === 'OneCycleLR') return { totalSteps: 100 };
  if (name === 'ChainedScheduler') return { schedulers: [{ scheduler: 'StepLR', args: {} }] };
  if (name === 'SequentialLR') return { schedulers: [{ scheduler: 'StepLR', args: {} }], milestones: [] };
  return {};
}

/** Runs `fn` with `entries` set on Object.prototype (enumerable, as plain assignment makes them), then removes them. */
function polluted<T>(entries: ReadonlyArray<readonly [string, unknown]>, fn: () => T): T {
  const proto = Object.prototype as Record<string, unknown>;
  for (const [key, value] of entries) proto[key] = value;
  try {
    return fn();
  } finally {
    for (const [key] of entries) delete proto[key];
  }
}

/** What building, stepping, saving and loading every scheduler gives (no assertion inside: vitest must not run polluted). */
function observe(): unknown[] {
  const cases: unknown[] = goldens.cases.map((c) => {
    const s = createScheduler(specOf(c));
    const rates = replay(s, c);
    const mid = createScheduler(specOf(c));
    advance(mid, c, 0, Math.floor(c.epochs / 2));
    const state = JSON.parse(JSON.stringify(mid.stateDict())) as Record<string, unknown>;
    const loaded = createScheduler(specOf(c));
    loaded.loadStateDict(state);
    const withoutKey = Object.keys(state).map((key) => {
      const partial = { ...state };
      delete partial[key];
      try {
        createScheduler(specOf(c)).loadStateDict(partial);
        return `${key}: loaded`;
      } catch (error) {
        return `${key}: ${error instanceof RectifyError ? error.code : String(error)}`;
      }
    });
    return { rates, spec: s.toSpec(), state: s.stateDict(), loaded: replay(loaded, c, Math.floor(c.epochs / 2)), withoutKey };
  });
  const defaults = [...schedulerFactories.keys()].map((name) => {
    const s = createScheduler({ scheduler: name, args: minimalArgs(name) });
    return { spec: s.toSpec(), state: s.stateDict() };
  });
  return [...cases, ...defaults];
}

describe('only own keys count: Object.prototype pollution changes nothing', () => {
  it('builds, steps, saves and loads every scheduler identically with data keys on Object.prototype', () => {
    const clean = observe();
    const keys = dataKeys();
    expect(keys).toContain('milestones');
    expect(keys).toContain('best');
    const dirty = polluted(
      keys.map((key) => [key, 3] as const),
      observe,
    );
    expect(dirty).toEqual(clean);
    // A state without one of its entries is refused, although Object.prototype has one.
    for (const { withoutKey } of dirty as Array<{ withoutKey?: string[] }>) {
      for (const result of withoutKey ?? []) expect(result).toMatch(/: INVALID_STATE_DICT$/);
    }
  });

  it('inherited methods make no scheduler, inherited scheduler/args make no spec', () => {
    const spec = {
      scheduler: 'SequentialLR',
      args: { schedulers: [{ scheduler: 'ConstantLR', args: { baseLr: 1, factor: 0.5, totalIters: 1 } }, { scheduler: 'StepLR', args: { baseLr: 1, stepSize: 1, gamma: 0.5 } }], milestones: [2] },
    };
    const run = (): unknown => {
      const s = createScheduler(spec);
      const rates = [s.getLastLr()];
      for (let i = 0; i < 4; i += 1) {
        s.step();
        rates.push(s.getLastLr());
      }
      let bare: string;
      try {
        createScheduler({} as SchedulerSpec);
        bare = 'built';
      } catch (error) {
        bare = error instanceof RectifyError ? error.code : String(error);
      }
      return { rates, spec: s.toSpec(), isScheduler: isLearningRateScheduler({}), isSpec: isSchedulerSpec({}), bare };
    };
    const clean = run();
    const fn = (): void => undefined;
    const dirty = polluted(
      [
        ['getLastLr', fn],
        ['step', fn],
        ['stateDict', fn],
        ['loadStateDict', fn],
        ['toSpec', fn],
        ['scheduler', 'StepLR'],
        ['args', {}],
      ],
      run,
    );
    expect(dirty).toEqual(clean);
    expect(clean).toMatchObject({ rates: [[0.5], [1], [1], [0.5], [0.25]], isScheduler: false, isSpec: false, bare: 'INVALID_SCHEDULER' });
  });

  it('a CyclicLR scaleFn given as an own key still works (functions are kept, not copied)', () => {
    const s = new CyclicLR({ baseLr: 0, maxLr: 1, stepSizeUp: 1, scaleFn: (cycle) => 1 / cycle });
    s.step();
    expect(s.getLastLr()).toEqual([1]);
    s.step();
    s.step();
    expect(s.getLastLr()[0]).toBeCloseTo(0.5, 15);
  });
});
