import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam, RectifyError, fusedRAdamUpdate, type RAdamOptions, type RAdamScalars } from '@rectify/core';
import { describe, expect, it, vi } from 'vitest';
import { REDUCTION_WIDTH, gpujsBackend, type GpujsBackend, type GpuTensor } from '../src/index.js';
import { releaseDevice, retainDevice, type DeviceHandle } from '../src/tensor.js';
import { gradValues, paramValues } from './helpers/fixtures.js';

/** Element-wise `|a − e| ≤ atol + rtol·|e|`, NaN matching NaN and ±Infinity matching itself. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, rtol = 1e-5, atol = 1e-6): void {
  expect(actual.length, label).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= atol + rtol * Math.abs(e)) continue;
    expect.fail(`${label}[${i}]: got ${a}, expected ${e}`);
  }
}

/**
 * {@link expectClose} with a float32 tolerance relative to the tensor's magnitude too:
 * without norm clipping, parameters and first moments are sums of ±1e17…1e19 terms that
 * cancel, computed in float32 here and in float64 by the reference.
 */
function expectCloseAtScale(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  let magnitude = 0;
  for (let i = 0; i < expected.length; i++) magnitude = Math.max(magnitude, Math.abs(expected[i]!));
  expectClose(actual, expected, label, 1e-5, 1e-6 + 2e-6 * magnitude);
}

/** Parameter sizes on both sides of the reduction width: lanes of one and of several elements. */
const SHAPES: Record<string, number[]> = { w: [3, 4], b: [2 * REDUCTION_WIDTH + 37] };

/**
 * Trains the same model with gradients of magnitude `scale` on a gpu.js backend and on
 * the float32 `cpu` backend (core's kernel: float64 arithmetic, float32 storage) and
 * returns both optimizers, their parameters and the initial parameters.
 */
async function trainBoth(mode: 'cpu' | 'webasm', options: RAdamOptions, scale: number, steps: number) {
  const backend = gpujsBackend({ mode });
  const cpu = cpuBackend();
  const gpuOpt = new RAdam(backend, options);
  const cpuOpt = new RAdam(cpu, options);
  const gpuParams: Record<string, GpuTensor> = {};
  const cpuParams: Record<string, Float32Array> = {};
  const initial: Record<string, Float32Array> = {};
  let salt = 0;
  for (const [name, shape] of Object.entries(SHAPES)) {
    const values = paramValues(shape.reduce((a, b) => a * b, 1), salt++);
    gpuParams[name] = backend.fromArray(values, shape);
    cpuParams[name] = Float32Array.from(values);
    initial[name] = Float32Array.from(values);
  }
  gpuOpt.registerTrainableWeights(gpuParams);
  cpuOpt.registerTrainableWeights(cpuParams);
  for (let step = 1; step <= steps; step++) {
    const gpuGrads: Record<string, GpuTensor> = {};
    const cpuGrads: Record<string, Float32Array> = {};
    for (const [name, shape] of Object.entries(SHAPES)) {
      const values = gradValues(shape.reduce((a, b) => a * b, 1), step, name.length).map((x) => x * scale);
      gpuGrads[name] = backend.fromArray(values, shape);
      cpuGrads[name] = Float32Array.from(values);
    }
    const [gpuReport, cpuReport] = [await gpuOpt.step(gpuGrads), cpuOpt.step(cpuGrads)];
    for (const grad of Object.values(gpuGrads)) backend.disposeTensor(grad);
    if (cpuReport.gradNorm === undefined) expect(gpuReport.gradNorm).toBeUndefined();
    else expect(Math.abs(gpuReport.gradNorm! / cpuReport.gradNorm - 1)).toBeLessThan(1e-5);
  }
  return { backend, gpuOpt, cpuOpt, gpuParams, cpuParams, initial };
}

const BASE: RAdamScalars = {
  gradScale: 1,
  clipValue: Infinity,
  weightDecay: 0,
  paramScale: 1,
  beta1: 0.9,
  beta2: 0.999,
  rectified: true,
  stepSize: 1e-2,
  denomScale: 1,
  eps: 1e-8,
};

interface SlotData {
  readonly p: number[];
  readonly g: number[];
  readonly m: number[];
  readonly v: number[];
}

/** `n` ordinary elements: finite parameter, gradient and moments. */
function ordinary(n: number, salt: number): SlotData {
  const g = gradValues(n, 1, salt);
  return { p: paramValues(n, salt), g, m: g.map((x) => 0.1 * x), v: g.map((x) => 0.01 * x * x) };
}

/** `data` with element `i` of each array replaced where `at` gives a value. */
function withElement(data: SlotData, i: number, at: Partial<Record<keyof SlotData, number>>): SlotData {
  const put = (values: number[], x: number | undefined): number[] => values.map((y, j) => (j === i && x !== undefined ? x : y));
  return { p: put(data.p, at.p), g: put(data.g, at.g), m: put(data.m, at.m), v: put(data.v, at.v) };
}

/**
 * One `applyRAdam` call over several batches on the gpu.js backend, and the same update
 * through core's reference kernel on Float32Arrays: returns both flags after checking
 * that the same elements came out non-finite and, when everything is finite, that every
 * written element matches. (Where a float32 intermediate overflows, the reference still
 * has its float64 value: `p − lr·m/sqrt(1e57)` moves p, float32's `sqrt(∞)` does not.)
 */
async function flagOf(backend: GpujsBackend, batches: readonly { scalars: RAdamScalars; slots: readonly SlotData[] }[]) {
  let expected = true;
  const written: { tensors: GpuTensor[]; reference: Float32Array[] }[] = [];
  const gpuBatches = batches.map(({ scalars, slots }) => ({
    scalars,
    slots: slots.map((data) => {
      const [p, g, m, v] = [data.p, data.g, data.m, data.v].map((x) => backend.fromArray(x, [x.length]));
      const [rp, rm, rv] = [data.p, data.m, data.v].map((x) => Float32Array.from(x));
      expected = fusedRAdamUpdate(rp!, Float32Array.from(data.g), rm!, rv!, scalars) && expected;
      written.push({ tensors: [p!, m!, v!], reference: [rp!, rm!, rv!] });
      return { param: p!, grad: g!, firstMoment: m!, secondMoment: v! };
    }),
  }));
  const flag = await backend.applyRAdam(gpuBatches);
  for (const [k, { tensors, reference }] of written.entries()) {
    for (const [j, tensor] of tensors.entries()) {
      const label = `slot ${k} ${['p', 'm', 'v'][j]}`;
      const actual = await backend.read(tensor);
      expect(Array.from(actual, Number.isFinite), label).toEqual(Array.from(reference[j]!, Number.isFinite));
      // float32 arithmetic against float64-then-rounded: a relative tolerance.
      if (expected) expectClose(actual, reference[j]!, label, 1e-5, 1e-6);
    }
  }
  return { flag, expected };
}

describe.each(['cpu', 'webasm'] as const)('gpujs-%s integrity', (mode) => {
  it('sums squares of |g| = 1e20 (Σ g² ≈ 1e43, past float32) without overflow, in float64', async () => {
    const backend = gpujsBackend({ mode });
    const data = [gradValues(5000, 1).map((x) => x * 1e20), gradValues(7, 2).map((x) => x * 1e38), [0, 0, 0]];
    let expected = 0;
    for (const values of data) for (const x of values) expected += Math.fround(x) ** 2;
    const sum = await backend.sumOfSquares(data.map((values) => backend.fromArray(values, [values.length])));
    expect(expected).toBeGreaterThan(1e76);
    expect(Math.abs(sum / expected - 1)).toBeLessThan(1e-6);
    // Deterministic: same tensors, same order, same bits.
    const again = await backend.sumOfSquares(data.map((values) => backend.fromArray(values, [values.length])));
    expect(again).toBe(sum);
    // Tiny gradients do not underflow to zero either.
    const tiny = gradValues(3000, 3).map((x) => x * 1e-30);
    let tinyExpected = 0;
    for (const x of tiny) tinyExpected += Math.fround(x) ** 2;
    expect(Math.abs((await backend.sumOfSquares([backend.fromArray(tiny, [3000])])) / tinyExpected - 1)).toBeLessThan(1e-6);
    backend.dispose();
  });

  it('a NaN or an Infinity anywhere still makes the sum of squares non-finite', async () => {
    const backend = gpujsBackend({ mode });
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of [0, 1, REDUCTION_WIDTH + 1]) {
        const values = gradValues(REDUCTION_WIDTH + 5, 1).map((x, i) => (i === at ? bad : x * 1e20));
        const sum = await backend.sumOfSquares([backend.fromArray([1, 2], [2]), backend.fromArray(values, [values.length])]);
        expect(Number.isFinite(sum), `${bad} at ${at}`).toBe(false);
      }
    }
    backend.dispose();
  });

  it.each([
    ['with gradClipNorm', { lr: 0.01, gradClipNorm: 1 }],
    ['with gradClipNorm, weight decay and value clipping', { lr: 0.01, gradClipNorm: 5, gradClipValue: 0.05, weightDecay: 0.1 }],
    ['without norm clipping', { lr: 0.01 }],
  ] as const)('|g| = 1e20 %s gives the parameters and moments of the cpu backend', async (_, options) => {
    // gradValues peak at 3: gradients of magnitude up to 1e20.
    const { backend, gpuOpt, cpuOpt, gpuParams, cpuParams, initial } = await trainBoth(mode, options, 1e20 / 3, 8);
    for (const name of Object.keys(SHAPES)) {
      const params = await backend.read(gpuParams[name]!);
      expectCloseAtScale(params, cpuParams[name]!, name);
      // Not a silently zeroed step: the parameters moved.
      const moved = params.reduce((most, x, i) => Math.max(most, Math.abs(x - initial[name]![i]!)), 0);
      expect(moved, name).toBeGreaterThan(1e-4);
      const [gpuState, cpuState] = [await gpuOpt.readState(name), cpuOpt.readState(name)];
      expectCloseAtScale(gpuState.firstMoment, cpuState.firstMoment, `${name}.m`);
      expectCloseAtScale(gpuState.secondMoment, cpuState.secondMoment, `${name}.v`);
      expect(gpuState.secondMoment.every(Number.isFinite)).toBe(true);
    }
    backend.dispose();
  });

  it('|g| = 1e30 (v = (1−β2)·g² ≈ 1e57 overflows float32) is NON_FINITE_UPDATE, then HALTED until loadStateDict', async () => {
    const backend = gpujsBackend({ mode });
    const opt = new RAdam(backend, { lr: 0.01 });
    const w = backend.fromArray(paramValues(6), [2, 3]);
    opt.registerTrainableWeights({ w });
    const grad = (scale: number) => backend.fromArray(gradValues(6, 1).map((x) => x * scale), [2, 3]);
    await opt.step({ w: grad(1) });
    const checkpoint = await opt.stateDict();

    await expect(opt.step({ w: grad(1e30) })).rejects.toMatchObject({ code: 'NON_FINITE_UPDATE', parameter: 'w' });
    // The float32 cpu backend, core's reference, says the same.
    const cpuOpt = new RAdam(cpuBackend(), { lr: 0.01 });
    cpuOpt.registerTrainableWeights({ w: Float32Array.from(paramValues(6)) });
    cpuOpt.step({ w: Float32Array.from(gradValues(6, 1)) });
    expect(() => cpuOpt.step({ w: Float32Array.from(gradValues(6, 1).map((x) => x * 1e30)) })).toThrow(
      expect.objectContaining({ code: 'NON_FINITE_UPDATE' }),
    );

    expect(opt.haltedBy?.code).toBe('NON_FINITE_UPDATE');
    await expect(opt.step({ w: grad(1) })).rejects.toMatchObject({ code: 'HALTED' });
    await expect(opt.stateDict()).rejects.toMatchObject({ code: 'HALTED' });
    await opt.loadStateDict(checkpoint);
    expect(opt.haltedBy).toBeUndefined();
    await backend.write(w, paramValues(6));
    const report = await opt.step({ w: grad(1) });
    expect(report.skipped).toBe(false);
    expect((await backend.read(w)).every(Number.isFinite)).toBe(true);
    backend.dispose();
  });

  it('applyRAdam returns false exactly when a written element is not finite, as core reference kernel does', async () => {
    const backend = gpujsBackend({ mode });
    const n = 2 * REDUCTION_WIDTH + 3;
    const last = n - 1;
    const base = ordinary(n, 0);
    const cases: [string, RAdamScalars, SlotData, boolean][] = [
      ['everything finite', BASE, base, true],
      ['everything finite, not rectified, big values', { ...BASE, rectified: false }, withElement(base, last, { g: 1e19 }), true],
      // ((1−β2)·g)·g: g² = 1e40 would overflow, the term (1e37) does not.
      ['g = 1e20 squared in the safe order', BASE, withElement(base, last, { g: 1e20 }), true],
      // Only v overflows: p = p − stepSize·m / sqrt(∞) stays finite, so a check of p alone misses it.
      ['only v infinite (g = 1e30), rectified', BASE, withElement(base, last, { g: 1e30 }), false],
      ['only v infinite (g = 1e30), not rectified', { ...BASE, rectified: false }, withElement(base, last, { g: 1e30 }), false],
      // Only p: 0 / (0 + eps 0) is NaN, both moments stay 0.
      ['only p NaN (zero moments, eps 0)', { ...BASE, eps: 0 }, withElement(base, 0, { g: 0, m: 0, v: 0 }), false],
      // Only p: finite arithmetic whose result does not fit float32.
      ['only p overflows float32', { ...BASE, rectified: false, stepSize: -1 }, withElement(base, 5, { p: 3e38, m: 1e38, g: 0 }), false],
      ['a NaN gradient', BASE, withElement(base, REDUCTION_WIDTH, { g: NaN }), false],
      ['an infinite gradient', BASE, withElement(base, 1, { g: -Infinity }), false],
      ['an infinite parameter', BASE, withElement(base, last, { p: Infinity }), false],
    ];
    for (const [label, scalars, data, finite] of cases) {
      const { flag, expected } = await flagOf(backend, [{ scalars, slots: [data] }]);
      expect(expected, `${label} (reference)`).toBe(finite);
      expect(flag, label).toBe(finite);
    }
    // Accumulated over every slot of every batch: one bad element in the last slot of the
    // second batch, after finite slots of other sizes.
    const bad = withElement(ordinary(7, 3), 6, { g: 1e30 });
    const across = await flagOf(backend, [
      { scalars: BASE, slots: [ordinary(5, 1), ordinary(n, 2)] },
      { scalars: { ...BASE, rectified: false }, slots: [ordinary(0, 0), ordinary(9, 4), bad] },
    ]);
    expect(across).toEqual({ flag: false, expected: false });
    const fine = await flagOf(backend, [
      { scalars: BASE, slots: [ordinary(5, 1), ordinary(n, 2)] },
      { scalars: { ...BASE, rectified: false }, slots: [ordinary(9, 4), ordinary(7, 3)] },
    ]);
    expect(fine).toEqual({ flag: true, expected: true });
    expect(await backend.applyRAdam([])).toBe(true);
    backend.dispose();
  });

  it('one readback for the flag of a whole step, whatever the number of batches and tensors', async () => {
    const backend = gpujsBackend({ mode });
    const slots = [3, 5, REDUCTION_WIDTH + 1].map((size, i) => {
      const data = ordinary(size, i);
      const [param, grad, firstMoment, secondMoment] = [data.p, data.g, data.m, data.v].map((x) => backend.fromArray(x, [size]));
      return { param: param!, grad: grad!, firstMoment: firstMoment!, secondMoment: secondMoment! };
    });
    const before = backend.stats.readbacks;
    await backend.applyRAdam([{ scalars: BASE, slots: slots.slice(0, 2) }, { scalars: { ...BASE, rectified: false }, slots: slots.slice(2) }]);
    expect(backend.stats.readbacks - before).toBe(1);
    backend.dispose();
  });

  it('a disposed tensor stops being a tensor at once, even while operations are queued, and is rejected with nothing changed', async () => {
    const backend = gpujsBackend({ mode });
    const data = [ordinary(4, 1), ordinary(6, 2)];
    const slots = data.map(({ p, g, m, v }) => {
      const [param, grad, firstMoment, secondMoment] = [p, g, m, v].map((x) => backend.fromArray(x, [x.length]));
      return { param: param!, grad: grad!, firstMoment: firstMoment!, secondMoment: secondMoment! };
    });
    const pending = backend.read(slots[1]!.grad); // keeps the queue busy
    backend.disposeTensor(slots[1]!.grad);
    expect(backend.isTensor(slots[1]!.grad)).toBe(false);
    expect(slots[1]!.grad.location).toBe('released');
    // Called before the release: still answered with the tensor's values.
    expectClose(await pending, Float32Array.from(data[1]!.g), 'read before dispose', 0, 0);
    const update = backend.applyRAdam([
      { scalars: BASE, slots: [slots[0]!] },
      { scalars: BASE, slots: [slots[1]!] },
    ]);
    await expect(update).rejects.toBeInstanceOf(RectifyError);
    await expect(update).rejects.toMatchObject({ code: 'DISPOSED' });
    // Nothing was written, the first batch included.
    const { p, m, v } = data[0]!;
    expectClose(await backend.read(slots[0]!.param), Float32Array.from(p), 'p', 0, 0);
    expectClose(await backend.read(slots[0]!.firstMoment), Float32Array.from(m), 'm', 0, 0);
    expectClose(await backend.read(slots[0]!.secondMoment), Float32Array.from(v), 'v', 0, 0);
    // Sizes are checked before anything is written too.
    const short = backend.fromArray([1, 2, 3], [3]);
    const mismatched = backend.applyRAdam([
      { scalars: BASE, slots: [slots[0]!] },
      { scalars: BASE, slots: [{ ...slots[0]!, param: backend.fromArray(data[1]!.p, [6]), grad: short }] },
    ]);
    await expect(mismatched).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    expectClose(await backend.read(slots[0]!.param), Float32Array.from(p), 'p', 0, 0);
    // Every asynchronous method answers a released tensor with a rejection, never a throw.
    const released = slots[1]!.grad;
    for (const call of [
      () => backend.read(released),
      () => backend.write(released, [0, 0, 0, 0, 0, 0]),
      () => backend.sumOfSquares([released]),
      () => backend.allFinite([released]),
    ]) {
      let result: Promise<unknown> | undefined;
      expect(() => (result = call())).not.toThrow();
      await expect(result).rejects.toMatchObject({ code: 'DISPOSED' });
    }
    backend.dispose();
  });

  it('a parameter disposed while its step is in flight: the step is rejected and nothing changes', async () => {
    const backend = gpujsBackend({ mode });
    const opt = new RAdam(backend, { lr: 0.01, gradClipNorm: 1 });
    const w = backend.fromArray(paramValues(12), [3, 4]);
    const b = backend.fromArray(paramValues(4, 1), [4]);
    opt.registerTrainableWeights({ w, b });
    const step = opt.step({ w: backend.fromArray(gradValues(12, 1), [3, 4]), b: backend.fromArray(gradValues(4, 1), [4]) });
    backend.disposeTensor(b); // the norm is being computed; the update is not dispatched yet
    expect(backend.isTensor(b)).toBe(false);
    await expect(step).rejects.toMatchObject({ code: 'DISPOSED' });
    expect(opt.haltedBy).toBeUndefined();
    expect(opt.stepCount).toBe(0);
    expectClose(await backend.read(w), Float32Array.from(paramValues(12)), 'w', 0, 0);
    const state = await opt.readState('w');
    expect([state.step, ...state.firstMoment, ...state.secondMoment].every((x) => x === 0)).toBe(true);
    backend.dispose();
  });

  it('captures gradients at step(): writing or disposing them right after cannot change the step', async () => {
    const backend = gpujsBackend({ mode });
    const options = { lr: 0.01, gradClipNorm: 1 };
    const opt = new RAdam(backend, options);
    const w = backend.fromArray(paramValues(12), [3, 4]);
    const b = backend.fromArray(paramValues(4, 1), [4]);
    opt.registerTrainableWeights({ w, b });
    const cpuOpt = new RAdam(cpuBackend(), options);
    const cpuParams = { w: Float32Array.from(paramValues(12)), b: Float32Array.from(paramValues(4, 1)) };
    cpuOpt.registerTrainableWeights(cpuParams);
    const gw = backend.fromArray(gradValues(12, 1), [3, 4]);
    const gb = backend.fromArray(gradValues(4, 1), [4]);
    // A write called before step() is part of the step.
    const written = backend.write(gw, gradValues(12, 2));
    const step = opt.step({ w: gw, b: gb });
    // Called after step(): neither may reach it, though both run before its update.
    const overwritten = backend.write(gw, Array(12).fill(1e30));
    backend.disposeTensor(gb);
    await Promise.all([written, step, overwritten]);
    cpuOpt.step({ w: Float32Array.from(gradValues(12, 2)), b: Float32Array.from(gradValues(4, 1)) });
    expectClose(await backend.read(w), cpuParams.w, 'w');
    expectClose(await backend.read(b), cpuParams.b, 'b');
    expect(opt.haltedBy).toBeUndefined();
    // The copies went back after the step: params, moments and the overwritten gradient remain.
    expect(backend.stats.liveTensors).toBe(2 + 4 + 1);
    expectClose(await backend.read(gw), Array(12).fill(1e30), 'gw');
    backend.dispose();
  });
});

describe('shared device buffers (what capture relies on for GPU-resident gradients)', () => {
  it('a texture/buffer held by several tensors is deleted once, by the last release', () => {
    const handle: DeviceHandle = { toArray: () => [], delete: vi.fn() };
    expect(retainDevice(handle)).toBe(handle); // a capture shares it
    retainDevice(handle); // and another
    releaseDevice(handle);
    releaseDevice(handle);
    expect(handle.delete).not.toHaveBeenCalled();
    releaseDevice(handle); // the original tensor's own reference
    expect(handle.delete).toHaveBeenCalledTimes(1);
    const alone: DeviceHandle = { toArray: () => [], delete: vi.fn() };
    releaseDevice(alone); // never shared: deleted at once
    expect(alone.delete).toHaveBeenCalledTimes(1);
    expect(() => releaseDevice(new Float32Array(2))).not.toThrow(); // host arrays: garbage collected
  });
});
