import {
  RAdam,
  RectifyError,
  type RAdamBatch,
  type RAdamOptions,
  type RAdamScalars,
  type RAdamSlot,
  type SyncTensorBackend,
} from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { cpuBackend, type WasmCpuBackend } from '../src/index.js';
import { backend as wasmBackend } from './helpers/wasm-backends.js';

// Issue 12: the all-or-nothing step contract, end to end on both float32 CPU backends.
// Every expectation is independent of the code under test: the float64 `cpu64` backend,
// hand-derived float32 facts, or bit-for-bit snapshots taken before the call.

type Float32Backend = SyncTensorBackend<Float32Array>;

/** The float32 backends under test; cpu-wasm split across two threads in 4-element chunks too. */
const FLOAT32_BACKENDS: readonly (readonly [string, () => Promise<Float32Backend>])[] = [
  ['cpu', async () => cpuBackend()],
  ['cpu-wasm (1 thread)', () => wasmBackend({ threads: 1 })],
  ['cpu-wasm (2 threads, 4-element chunks)', () => wasmBackend({ threads: 2, chunkElements: 4, parallelThreshold: 0 })],
];

/** Bit patterns, so that comparisons are bitwise (NaN, -0 included). */
function bits(array: ArrayLike<number>): number[] {
  return Array.from(new Uint32Array(Float32Array.from(array).buffer));
}

/** `actual` within float32 rounding of the float64 `expected`, relative to each element's size. */
function expectCloseTo(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    expect(Number.isFinite(actual[i]!), `${what}[${i}] = ${actual[i]}`).toBe(true);
    expect(Math.abs(actual[i]! - e), `${what}[${i}]: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(1e-5 * Math.abs(e) + 1e-6);
  }
}

/** `code` of what `run` throws (fails the test when it does not throw a RectifyError). */
function codeThrownBy(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RectifyError);
    return (error as RectifyError).code;
  }
  throw new Error('expected a RectifyError, nothing was thrown');
}

/** The first step that is rectified with the default betas and threshold (ρt ≥ 5), from SPEC.md's formula. */
function firstRectifiedStep(): number {
  const beta2 = 0.999;
  const rhoInfinity = 2 / (1 - beta2) - 1;
  for (let t = 1; ; t++) {
    const rhoT = rhoInfinity - (2 * t * beta2 ** t) / (1 - beta2 ** t);
    if (rhoT >= 5) return t;
  }
}

/** Nine gradients of magnitude about `scale`, signs mixed: two SIMD vectors and a scalar tail on cpu-wasm. */
function hugeGradient(scale: number): number[] {
  return [1, -1, 0.5, -0.3, 1, 0.2, -1, 0.8, 1].map((x) => x * scale);
}
const START = [0.5, -1, 2, 0.25, 3, -2, 1, 0.1, 7];

describe.each(FLOAT32_BACKENDS)('%s: the finiteness flag and float32 numerics', (_, create) => {
  it.each<[string, RAdamOptions]>([
    ['plain', { lr: 1e-3 }],
    ['clipping by global norm (sum of squares ~1e41)', { lr: 1e-3, gradClipNorm: 1 }],
    ['coupled weight decay', { lr: 1e-3, weightDecay: 0.01 }],
  ])('|g| = 1e20 (%s): v stays finite, no error, cpu64 results within float32 tolerance', async (_, options) => {
    const b = await create();
    const reference = cpuBackend({ dtype: 'float64' });
    const w = b.fromArray(START, [START.length]);
    const w64 = Float64Array.from(START);
    const opt = new RAdam(b, options);
    const ref = new RAdam(reference, options);
    opt.registerTrainableWeights({ w });
    ref.registerTrainableWeights({ w: w64 });
    // Eight steps: five plain momentum steps, then rectified ones.
    for (let step = 0; step < 8; step++) {
      const g = hugeGradient(step % 2 === 0 ? 1e20 : -7e19);
      const report = opt.step({ w: b.fromArray(g, [g.length]) });
      const expected = ref.step({ w: Float64Array.from(g) });
      expect(report.skipped).toBe(false);
      if (options.gradClipNorm !== undefined) expect(report.gradNorm! / expected.gradNorm!).toBeCloseTo(1, 6);
    }
    expect(opt.haltedBy).toBeUndefined();
    const state = opt.readState('w');
    const expected = ref.readState('w');
    // Unclipped, v reaches ~8e37, which float32 holds; (1e20)² = 1e40 would not.
    if (options.gradClipNorm === undefined) expect(Math.max(...Array.from(state.secondMoment))).toBeGreaterThan(1e36);
    expectCloseTo(state.secondMoment, expected.secondMoment, 'v');
    expectCloseTo(state.firstMoment, expected.firstMoment, 'm');
    expectCloseTo(w, w64, 'p');
  });

  it('|g| = 1e30: v overflows float32, NON_FINITE_UPDATE halts; HALTED next; loadStateDict recovers', async () => {
    const b = await create();
    const w = b.fromArray(START, [START.length]);
    const twin = b.fromArray(START, [START.length]);
    const opt = new RAdam(b, { lr: 1e-3 });
    const twinOpt = new RAdam(b, { lr: 1e-3 });
    opt.registerTrainableWeights({ w });
    twinOpt.registerTrainableWeights({ w: twin });
    const gradient = (step: number): Float32Array => b.fromArray(START.map((x, i) => Math.sin(x + i + step)), [START.length]);
    for (let step = 0; step < 3; step++) {
      opt.step({ w: gradient(step) });
      twinOpt.step({ w: gradient(step) });
    }
    const checkpoint = opt.stateDict();
    const weightsAtCheckpoint = w.slice();

    // (1 − β2)·g² = 1e57 is finite in float64 (cpu64 would not complain) but not in float32.
    let error: unknown;
    try {
      opt.step({ w: b.fromArray(hugeGradient(1e30), [START.length]) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'NON_FINITE_UPDATE', parameter: 'w' });
    expect(opt.haltedBy).toBe(error);
    expect(Array.from(opt.readState('w').secondMoment).some((x) => x === Infinity)).toBe(true);
    const halted = w.slice();
    expect(codeThrownBy(() => opt.step({ w: gradient(3) }))).toBe('HALTED');
    expect(codeThrownBy(() => opt.stateDict())).toBe('HALTED');
    expect(bits(w)).toEqual(bits(halted));

    // The model's weights are the caller's to restore; the optimizer's state comes from the dict.
    w.set(weightsAtCheckpoint);
    opt.loadStateDict(checkpoint);
    expect(opt.haltedBy).toBeUndefined();
    for (let step = 3; step < 5; step++) {
      opt.step({ w: gradient(step) });
      twinOpt.step({ w: gradient(step) });
    }
    // Bitwise the run that never met the huge gradient.
    expect(bits(w)).toEqual(bits(twin));
    expect(bits(opt.readState('w').secondMoment)).toEqual(bits(twinOpt.readState('w').secondMoment));
    expect(bits(opt.readState('w').firstMoment)).toEqual(bits(twinOpt.readState('w').firstMoment));
    expect(opt.stepCount).toBe(twinOpt.stepCount);
  });

  it('eps: 0 with a zero gradient: steps before rectification are fine, the first rectified one is NON_FINITE_UPDATE', async () => {
    const b = await create();
    const w = b.fromArray(START, [START.length]);
    const opt = new RAdam(b, { lr: 1e-2, eps: 0 });
    opt.registerTrainableWeights({ w });
    const zero = b.fromArray(new Array<number>(START.length).fill(0), [START.length]);
    const rectifiedAt = firstRectifiedStep();
    expect(rectifiedAt).toBe(6);
    for (let step = 1; step < rectifiedAt; step++) opt.step({ w: zero });
    // Momentum steps with m = 0 leave p exactly as it was.
    expect(bits(w)).toEqual(bits(START));
    // m / (sqrt(v)·c + eps) = 0 / 0.
    expect(() => opt.step({ w: zero })).toThrow(expect.objectContaining({ code: 'NON_FINITE_UPDATE', parameter: 'w' }));
    expect(Array.from(w).every(Number.isNaN)).toBe(true);
    expect(opt.haltedBy?.code).toBe('NON_FINITE_UPDATE');
    expect(opt.stepCount).toBe(rectifiedAt);
  });

  it('applyRAdam flags a non-finite p, m or v at any element (SIMD lanes, unrolled pairs, tail), in any batch', async () => {
    const b = await create();
    const n = 13; // one unrolled pair of vectors, one vector and a one-element tail on cpu-wasm
    const base: RAdamScalars = {
      gradScale: 1, clipValue: Infinity, weightDecay: 0, paramScale: 1, beta1: 0.9, beta2: 0.999,
      rectified: true, stepSize: 1e-3, denomScale: 1, eps: 1e-8,
    };
    const cases: readonly { name: string; scalars: RAdamScalars; good: number; bad: number; badMoments: number }[] = [
      // v = 1e-3·1e30·1e30 = 1e57 overflows; m = 1e29 and p stay finite.
      { name: 'v only', scalars: base, good: 1, bad: 1e30, badMoments: 0 },
      // p − 1e38·m with m = 10 overflows; m and v stay finite.
      { name: 'p only', scalars: { ...base, rectified: false, stepSize: 1e38 }, good: 1e-3, bad: 100, badMoments: 0 },
      // 0 / (sqrt(0) + 0) is NaN in p.
      { name: 'p NaN', scalars: { ...base, eps: 0 }, good: 1, bad: 0, badMoments: 0 },
    ];
    const slotOf = (grad: readonly number[]): RAdamSlot<Float32Array> => ({
      param: b.fromArray(new Array<number>(grad.length).fill(1), [grad.length]),
      grad: b.fromArray(grad, [grad.length]),
      firstMoment: b.fromArray(new Array<number>(grad.length).fill(0), [grad.length]),
      secondMoment: b.fromArray(new Array<number>(grad.length).fill(0), [grad.length]),
    });
    for (const { name, scalars, good, bad } of cases) {
      const clean = new Array<number>(n).fill(good);
      expect(b.applyRAdam([{ slots: [slotOf(clean)], scalars }]), `${name}: no culprit`).toBe(true);
      for (let i = 0; i < n; i++) {
        const dirty = clean.slice();
        dirty[i] = bad;
        const slot = slotOf(dirty);
        expect(b.applyRAdam([{ slots: [slot], scalars }]), `${name} at ${i}`).toBe(false);
        const written = [slot.param, slot.firstMoment, slot.secondMoment];
        // Exactly the culprit is non-finite: the flag is about the stored values, not a guess.
        expect(written.map((t) => Array.from(t).filter((x) => !Number.isFinite(x)).length).reduce((x, y) => x + y)).toBe(1);
      }
      // A culprit in the second batch of a step only.
      const dirty = clean.slice();
      dirty[n - 1] = bad;
      const first = slotOf(clean);
      expect(b.applyRAdam([{ slots: [first], scalars }, { slots: [slotOf(clean), slotOf(dirty)], scalars }])).toBe(false);
      // The first batch was still updated (the flag reports, it does not stop the step).
      expect(Array.from(first.firstMoment).every((x) => x !== 0)).toBe(true);
    }
  });
});

describe.each(FLOAT32_BACKENDS)('%s: one step over several groups and step counts', (_, create) => {
  /** Two groups with different options; `b1` misses its gradient at step 0, so group 1 has two step counts later. */
  async function run(stepFails?: number): Promise<{ params: Float32Array[]; opt: RAdam<Float32Backend>; b: Float32Backend }> {
    const b = await create();
    const data = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(seed * 7.3 + i));
    const a1 = b.fromArray(data(9, 1), [9]);
    const b1 = b.fromArray(data(6, 2), [6]);
    const a2 = b.fromArray(data(11, 3), [11]);
    const opt = new RAdam(b, { lr: 0.02, weightDecay: 0.01 });
    opt.registerTrainableWeights({ a1, b1 });
    opt.addParamGroup({ a2 }, { lr: 0.05, gradClipValue: 0.5, betas: [0.8, 0.99] });
    for (let step = 0; step < 9; step++) {
      const grads: Record<string, Float32Array> = {
        a1: b.fromArray(data(9, 10 + step), [9]),
        a2: b.fromArray(data(11, 30 + step), [11]),
      };
      if (step > 0) grads['b1'] = b.fromArray(data(6, 20 + step), [6]);
      if (step === stepFails) grads['a2']![4] = NaN;
      opt.step(grads);
    }
    return { params: [a1, b1, a2], opt, b };
  }

  it('every batch uses its own scalars: the same results as cpu64', async () => {
    const { params, opt } = await run();
    const reference = cpuBackend({ dtype: 'float64' });
    const data = (n: number, seed: number): Float64Array => Float64Array.from({ length: n }, (_, i) => Math.sin(seed * 7.3 + i));
    const r = [data(9, 1), data(6, 2), data(11, 3)] as const;
    const ref = new RAdam(reference, { lr: 0.02, weightDecay: 0.01 });
    ref.registerTrainableWeights({ a1: r[0], b1: r[1] });
    ref.addParamGroup({ a2: r[2] }, { lr: 0.05, gradClipValue: 0.5, betas: [0.8, 0.99] });
    for (let step = 0; step < 9; step++) {
      const grads: Record<string, Float64Array> = { a1: data(9, 10 + step), a2: data(11, 30 + step) };
      if (step > 0) grads['b1'] = data(6, 20 + step);
      ref.step(grads);
    }
    expect(opt.readState('b1').step).toBe(8);
    params.forEach((p, i) => expectCloseTo(p, r[i]!, `param ${i}`));
    for (const name of ['a1', 'b1', 'a2']) {
      expectCloseTo(opt.readState(name).secondMoment, ref.readState(name).secondMoment, `v of ${name}`);
    }
  });

  it('a NaN gradient in the second group fails the step before the first group is touched', async () => {
    const b = await create();
    const a1 = b.fromArray([1, 2, 3], [3]);
    const a2 = b.fromArray([4, 5, 6], [3]);
    const opt = new RAdam(b, { lr: 0.1 });
    opt.registerTrainableWeights({ a1 });
    opt.addParamGroup({ a2 }, { lr: 0.2 });
    opt.step({ a1: b.fromArray([1, 1, 1], [3]), a2: b.fromArray([1, 1, 1], [3]) });
    const before = [a1.slice(), a2.slice(), opt.readState('a1').firstMoment, opt.readState('a1').secondMoment];
    expect(() => opt.step({ a1: b.fromArray([1, 1, 1], [3]), a2: b.fromArray([1, NaN, 1], [3]) })).toThrow(
      expect.objectContaining({ code: 'NON_FINITE_GRADIENT', parameter: 'a2' }),
    );
    const after = [a1, a2, opt.readState('a1').firstMoment, opt.readState('a1').secondMoment];
    after.forEach((t, i) => expect(bits(t), `tensor ${i}`).toEqual(bits(before[i]!)));
    expect([opt.stepCount, opt.readState('a1').step]).toEqual([1, 1]);
    expect(opt.haltedBy).toBeUndefined();
  });
});

describe.each(FLOAT32_BACKENDS)('%s: a parameter whose buffer was transferred away', (_, create) => {
  it('is refused before anything is written (its length is 0 now): SHAPE_MISMATCH, every group unchanged', async () => {
    const b = await create();
    // Plain Float32Arrays on both backends (staged on cpu-wasm): only those can be detached.
    const a1 = new Float32Array([1, 2, 3]);
    const a2 = new Float32Array([4, 5, 6]);
    const opt = new RAdam(b, { lr: 0.1 });
    opt.registerTrainableWeights({ a1 });
    opt.addParamGroup({ a2 }, { lr: 0.2 });
    const grads = (): Record<string, Float32Array> => ({ a1: new Float32Array([1, 1, 1]), a2: new Float32Array([1, 1, 1]) });
    opt.step(grads());
    const before = [bits(a1), bits(opt.readState('a1').firstMoment), bits(opt.readState('a2').firstMoment)];
    structuredClone(a2.buffer, { transfer: [a2.buffer] });
    expect(a2.length).toBe(0);
    expect(() => opt.step(grads())).toThrow(expect.objectContaining({ code: 'SHAPE_MISMATCH', parameter: 'a2' }));
    expect([bits(a1), bits(opt.readState('a1').firstMoment), bits(opt.readState('a2').firstMoment)]).toEqual(before);
    expect(opt.stepCount).toBe(1);
  });
});

describe('cpu-wasm: released tensors', () => {
  /** An optimizer over two backend tensors, one step taken; snapshot of everything it holds. */
  async function setup(): Promise<{ b: WasmCpuBackend; opt: RAdam<WasmCpuBackend>; a: Float32Array; c: Float32Array; snapshot: () => number[][] }> {
    const b = await wasmBackend({ threads: 2, chunkElements: 4, parallelThreshold: 0 });
    const a = b.fromArray([1, 2, 3, 4, 5, 6, 7], [7]);
    const c = b.fromArray([-1, -2, -3, -4, -5, -6, -7], [7]);
    const opt = new RAdam(b, { lr: 0.1 });
    opt.registerTrainableWeights({ a, c });
    opt.step({ a: b.fromArray([1, 1, 1, 1, 1, 1, 1], [7]), c: b.fromArray([1, 1, 1, 1, 1, 1, 1], [7]) });
    const snapshot = (): number[][] =>
      ['a', 'c'].flatMap((name) => [opt.readState(name).firstMoment, opt.readState(name).secondMoment]).map(bits);
    return { b, opt, a, c, snapshot };
  }

  it('a released gradient, whose memory another tensor now owns, is INVALID_TENSOR and nothing changes', async () => {
    const { b, opt, a, c, snapshot } = await setup();
    const grad = b.fromArray([1, 1, 1, 1, 1, 1, 1], [7]);
    expect(b.isTensor(grad)).toBe(true);
    b.disposeTensor(grad);
    expect(b.isTensor(grad)).toBe(false);
    // First fit: the next tensor of that size takes the released bytes.
    const owner = b.fromArray([9, 9, 9, 9, 9, 9, 9], [7]);
    expect(owner.byteOffset).toBe(grad.byteOffset);
    expect(b.isTensor(grad)).toBe(false);
    const before = [bits(a), bits(c), bits(owner), ...snapshot()];
    expect(() => opt.step({ a: grad, c: b.fromArray([1, 1, 1, 1, 1, 1, 1], [7]) })).toThrow(
      expect.objectContaining({ code: 'INVALID_TENSOR', parameter: 'a' }),
    );
    expect([bits(a), bits(c), bits(owner), ...snapshot()]).toEqual(before);
    expect(opt.stepCount).toBe(1);
    // The reductions refuse it too, rather than read another tensor's values.
    expect(() => b.sumOfSquares([grad])).toThrow(expect.objectContaining({ code: 'INVALID_TENSOR' }));
    expect(() => b.allFinite([owner, grad])).toThrow(expect.objectContaining({ code: 'INVALID_TENSOR' }));
  });

  it('a released parameter in the second slot is INVALID_TENSOR: the first is not updated either', async () => {
    const { b, opt, a, c, snapshot } = await setup();
    b.disposeTensor(c);
    const owner = b.fromArray([9, 9, 9, 9, 9, 9, 9], [7]);
    expect(owner.byteOffset).toBe(c.byteOffset);
    const before = [bits(a), bits(owner), ...snapshot()];
    expect(() => opt.step({ a: b.fromArray([1, 1, 1, 1, 1, 1, 1], [7]), c: b.fromArray([1, 1, 1, 1, 1, 1, 1], [7]) })).toThrow(
      expect.objectContaining({ code: 'INVALID_TENSOR', parameter: 'c' }),
    );
    expect([bits(a), bits(owner), ...snapshot()]).toEqual(before);
  });

  it('applyRAdam itself rejects a released tensor in a later batch before writing anything', async () => {
    const b = await wasmBackend({ threads: 1 });
    const scalars: RAdamScalars = {
      gradScale: 1, clipValue: Infinity, weightDecay: 0, paramScale: 1, beta1: 0.9, beta2: 0.999,
      rectified: false, stepSize: 0.1, denomScale: 1, eps: 1e-8,
    };
    const slot = (): RAdamSlot<Float32Array> => ({
      param: b.fromArray([1, 2, 3, 4, 5], [5]), grad: b.fromArray([1, 1, 1, 1, 1], [5]),
      firstMoment: b.zeros(5), secondMoment: b.zeros(5),
    });
    const first = slot();
    const second = slot();
    b.disposeTensor(second.secondMoment);
    const owner = b.fromArray([3, 3, 3, 3, 3], [5]);
    const batches: RAdamBatch<Float32Array>[] = [{ slots: [first], scalars }, { slots: [second], scalars }];
    const tensors = [first.param, first.firstMoment, first.secondMoment, second.param, second.firstMoment, owner];
    const before = tensors.map(bits);
    expect(() => b.applyRAdam(batches)).toThrow(expect.objectContaining({ code: 'INVALID_TENSOR' }));
    expect(tensors.map(bits)).toEqual(before);
  });

  it('a subarray of a live tensor is updated in place; once the tensor is released, so is the view', async () => {
    const b = await wasmBackend({ threads: 1 });
    const flat = b.fromArray([1, 2, 3, 4, 5, 6, 7, 8], [8]);
    const view = flat.subarray(4);
    expect(b.isTensor(view)).toBe(true);
    const opt = new RAdam(b, { lr: 0.5 });
    opt.registerTrainableWeights({ view });
    opt.step({ view: new Float32Array([1, 1, 1, 1]) });
    // The first step is plain momentum: p − lr · g.
    expect(Array.from(flat)).toEqual([1, 2, 3, 4, 4.5, 5.5, 6.5, 7.5]);
    b.disposeTensor(flat);
    expect(b.isTensor(view)).toBe(false);
    const owner = b.fromArray([0, 0, 0, 0, 0, 0, 0, 0], [8]);
    expect(owner.byteOffset).toBe(flat.byteOffset);
    expect(() => opt.step({ view: new Float32Array([1, 1, 1, 1]) })).toThrow(expect.objectContaining({ code: 'INVALID_TENSOR' }));
    expect(Array.from(owner)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // A view into the memory outside any tensor (here: over the freed bytes) is no tensor either.
    b.disposeTensor(owner);
    expect(b.isTensor(new Float32Array(owner.buffer, owner.byteOffset, 4))).toBe(false);
  });
});

describe('cpu-wasm: memory limits', () => {
  const MiB = 1024 * 1024;

  it('OUT_OF_MEMORY staging the second group: nothing written in either group; after freeing memory a retry applies the step once', async () => {
    // 4 MiB: the moments (2 MB) and a 0.5 MB ballast fit, and so does staging the
    // gradients alone for the finiteness check (1 MB); staging p and g of both groups
    // (2 MB) does not. User arrays, so that the step has to stage them.
    const b = await wasmBackend({ threads: 1, initialMemoryMiB: 1, maximumMemoryMiB: 4 });
    const big = 250_000;
    const make = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i * 1e-3));
    const train = (target: WasmCpuBackend): { opt: RAdam<WasmCpuBackend>; small: Float32Array; large: Float32Array } => {
      const small = make(1000, 1);
      const large = make(big, 2);
      const opt = new RAdam(target, { lr: 0.01 });
      opt.registerTrainableWeights({ small });
      opt.addParamGroup({ large }, { lr: 0.02 });
      // A first step of the small group alone sets up the backend's own areas (table,
      // scalars, staging), so that the ballast comes after them and its bytes rejoin the
      // free end of the memory when it is released.
      opt.step({ small: make(1000, 3) });
      return { opt, small, large };
    };
    const { opt, small, large } = train(b);
    const ballast = b.fromArray(make(125_000, 4), [125_000]);
    const grads = { small: make(1000, 5), large: make(big, 6) };
    const state = (): number[][] => [
      bits(small), bits(large), bits(ballast),
      ...['small', 'large'].flatMap((name) => [opt.readState(name).firstMoment, opt.readState(name).secondMoment]).map(bits),
    ];
    const before = state();
    const tensorsBefore = b.memoryStats().liveTensors;
    expect(() => opt.step(grads)).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY', parameter: 'maximumMemoryMiB' }));
    expect(state()).toEqual(before);
    expect([opt.stepCount, opt.readState('small').step, opt.readState('large').step]).toEqual([1, 1, 0]);
    expect(opt.haltedBy).toBeUndefined();
    expect(b.memoryStats().liveTensors).toBe(tensorsBefore);

    b.disposeTensor(ballast);
    opt.step(grads);
    // Applied exactly once: the same bits as the same steps on a backend with room to spare.
    const roomy = train(await wasmBackend({ threads: 1 }));
    roomy.opt.step({ small: make(1000, 5), large: make(big, 6) });
    expect(bits(small)).toEqual(bits(roomy.small));
    expect(bits(large)).toEqual(bits(roomy.large));
    for (const name of ['small', 'large']) {
      expect(bits(opt.readState(name).firstMoment), name).toEqual(bits(roomy.opt.readState(name).firstMoment));
      expect(bits(opt.readState(name).secondMoment), name).toEqual(bits(roomy.opt.readState(name).secondMoment));
    }
    expect(b.memoryStats().capacityBytes).toBeLessThanOrEqual(4 * MiB);
  });

  it('after an OUT_OF_MEMORY growing the staging area, its old bytes are never used again (they may be a tensor now)', async () => {
    const b = await wasmBackend({ threads: 1, initialMemoryMiB: 1, maximumMemoryMiB: 2 });
    const a = new Float32Array(10_000).fill(1);
    const opt = new RAdam(b, { lr: 0.01 });
    opt.registerTrainableWeights({ a });
    opt.step({ a: new Float32Array(10_000).fill(0.5) });
    // Staging this parameter and its gradient (1.2 MB) next to its moments (1.2 MB) does not fit.
    const big = new Float32Array(150_000).fill(1);
    const other = new RAdam(b, { lr: 0.01 });
    other.registerTrainableWeights({ big });
    expect(() => other.step({ big: new Float32Array(150_000).fill(0.5) })).toThrow(
      expect.objectContaining({ code: 'OUT_OF_MEMORY' }),
    );
    // A new tensor takes the bytes the staging area had before it tried to grow.
    const tensor = b.zeros(100_000).fill(7);
    const expected = bits(tensor);
    opt.step({ a: new Float32Array(10_000).fill(0.5) });
    expect(bits(tensor)).toEqual(expected);
    expect(a.every((x) => x < 1)).toBe(true);
  });

  it('registering a model that does not fit: OUT_OF_MEMORY, memory use and tensor counts as before, nothing registered', async () => {
    const b = await wasmBackend({ threads: 1, initialMemoryMiB: 1, maximumMemoryMiB: 2 });
    const existing = b.fromArray([1, 2, 3], [3]);
    const opt = new RAdam(b, { lr: 0.1 });
    opt.registerTrainableWeights({ existing });
    const counts = b.resourceCounts!();
    const used = b.memoryStats().usedBytes;
    // The first two parameters' moments fit (0.8 MB), the third's (1.6 MB more) do not.
    const model = { a: new Float32Array(50_000), b: new Float32Array(50_000), c: new Float32Array(200_000) };
    expect(() => opt.addParamGroup(model, { lr: 0.2 })).toThrow(
      expect.objectContaining({ code: 'OUT_OF_MEMORY', parameter: 'maximumMemoryMiB' }),
    );
    expect(b.resourceCounts!()).toEqual(counts);
    expect(b.memoryStats().usedBytes).toBe(used);
    expect(opt.paramGroups).toEqual([['existing']]);
    // The moments allocated before the failure were really returned: the third
    // parameter alone now fits where all three did not.
    opt.registerTrainableWeights({ c: model.c });
    expect(b.resourceCounts!()).toEqual({ tensors: counts['tensors']! + 2 });
    // The optimizer trains on (staging `c` would not fit next to its moments: it has no gradient here).
    opt.step({ existing: new Float32Array([1, 1, 1]) });
    // The first step is plain momentum: p − lr · g.
    expect(Array.from(existing).every((x, i) => Math.abs(x - [0.9, 1.9, 2.9][i]!) < 1e-6)).toBe(true);
  });
});
