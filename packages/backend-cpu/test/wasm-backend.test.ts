import { RAdam, RectifyError, type RAdamOptions, type RAdamScalars } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { cpuBackend, wasmCpuBackend, type WasmCpuBackendOptions } from '../src/index.js';
import { backend } from './helpers/wasm-backends.js';

/** A deterministic pseudo-random float32 array in [-scale, scale) (mulberry32). */
function randomArray(length: number, seed: number, scale = 1): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** Bit patterns, so that comparisons are bitwise (and -0 differs from +0). */
function bits(array: Float32Array): Uint32Array {
  return new Uint32Array(array.slice().buffer);
}

/** Index of the first element whose bits differ, or -1 (fast on millions of elements, unlike toEqual). */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = bits(a);
  const y = bits(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}


/** Sizes that put chunk boundaries mid-tensor and leave scalar tails of every length. */
const ODD_SIZES = [1, 3, 4, 5, 1001, 65537, 7, 200_003, 0, 4099];

interface Trained {
  readonly params: Float32Array[];
  readonly moments: { m: Float32Array; v: Float32Array }[];
  readonly norms: number[];
}

/**
 * Trains `sizes.length` parameters for `steps` steps with clipping by global norm (so the
 * sum of squares runs too), value clipping and weight decay, and returns host copies.
 */
async function train(
  options: WasmCpuBackendOptions,
  sizes: readonly number[],
  steps: number,
  radam: RAdamOptions = { lr: 0.01, gradClipNorm: 50, gradClipValue: 0.9, weightDecay: 0.01 },
  userArrays = false,
): Promise<Trained> {
  const b = await backend(options);
  const make = (data: Float32Array): Float32Array => (userArrays ? data.slice() : b.fromArray(data, [data.length]));
  const params: Record<string, Float32Array> = {};
  sizes.forEach((size, i) => (params[`p${i}`] = make(randomArray(size, 1000 + i))));
  const optimizer = new RAdam(b, radam);
  optimizer.registerTrainableWeights(params);
  const norms: number[] = [];
  for (let step = 0; step < steps; step++) {
    const grads: Record<string, Float32Array> = {};
    sizes.forEach((size, i) => (grads[`p${i}`] = make(randomArray(size, 7 * step + i, 3))));
    norms.push(optimizer.step(grads).gradNorm ?? NaN);
    if (!userArrays) for (const grad of Object.values(grads)) b.disposeTensor(grad);
  }
  const moments = sizes.map((_, i) => {
    const state = optimizer.readState(`p${i}`);
    return { m: Float32Array.from(state.firstMoment), v: Float32Array.from(state.secondMoment) };
  });
  return { params: Object.values(params).map((p) => p.slice()), moments, norms };
}

function expectBitwiseEqual(a: Trained, b: Trained): void {
  expect(a.norms).toEqual(b.norms);
  a.params.forEach((p, i) => {
    expect(firstBitDifference(p, b.params[i]!), `param ${i}`).toBe(-1);
    expect(firstBitDifference(a.moments[i]!.m, b.moments[i]!.m), `m ${i}`).toBe(-1);
    expect(firstBitDifference(a.moments[i]!.v, b.moments[i]!.v), `v ${i}`).toBe(-1);
  });
}

describe('cpu-wasm: results do not depend on threads', () => {
  it('a 1M-element tensor: bitwise the same on 1, 2 and 3 threads over 4 steps', { timeout: 60_000 }, async () => {
    const one = await train({ threads: 1 }, [1_000_000], 4);
    const two = await train({ threads: 2, parallelThreshold: 0 }, [1_000_000], 4);
    const three = await train({ threads: 3, parallelThreshold: 0 }, [1_000_000], 4);
    // The parameters did move (a comparison of untouched arrays would prove nothing).
    expect(firstBitDifference(one.params[0]!, randomArray(1_000_000, 1000))).toBeGreaterThanOrEqual(0);
    expectBitwiseEqual(one, two);
    expectBitwiseEqual(one, three);
  });

  it('odd-sized tensors in one batch, with tiny chunks: bitwise the same on 1 and 2 threads', { timeout: 60_000 }, async () => {
    const one = await train({ threads: 1, chunkElements: 12 }, ODD_SIZES, 3);
    const two = await train({ threads: 2, chunkElements: 12, parallelThreshold: 0 }, ODD_SIZES, 3);
    expectBitwiseEqual(one, two);
  });
});

describe('cpu-wasm: numerics', () => {
  it('matches the float64 reference within float32 tolerance on random data', { timeout: 60_000 }, async () => {
    const sizes = [10_007, 3, 4096];
    const fast = await train({ threads: 2, parallelThreshold: 0, chunkElements: 1024 }, sizes, 12);
    const reference = cpuBackend({ dtype: 'float64' });
    const params: Record<string, Float64Array> = {};
    sizes.forEach((size, i) => (params[`p${i}`] = Float64Array.from(randomArray(size, 1000 + i))));
    const optimizer = new RAdam(reference, { lr: 0.01, gradClipNorm: 50, gradClipValue: 0.9, weightDecay: 0.01 });
    optimizer.registerTrainableWeights(params);
    for (let step = 0; step < 12; step++) {
      const grads: Record<string, Float64Array> = {};
      sizes.forEach((size, i) => (grads[`p${i}`] = Float64Array.from(randomArray(size, 7 * step + i, 3))));
      const report = optimizer.step(grads);
      expect(fast.norms[step]).toBeCloseTo(report.gradNorm!, 6);
    }
    sizes.forEach((_, i) => {
      const expected = params[`p${i}`]!;
      const actual = fast.params[i]!;
      let worst = 0;
      for (let j = 0; j < expected.length; j++) {
        worst = Math.max(worst, Math.abs(actual[j]! - expected[j]!) - 1e-4 * Math.abs(expected[j]!));
      }
      expect(worst).toBeLessThan(2e-5);
    });
  });

  it('follows the kernel contract element by element, NaN and clipping included', async () => {
    const b = await backend({ threads: 1 });
    const p = b.fromArray([1, -2, 0.5, 3, 0, 4, -1], [7]);
    const g = b.fromArray([0.5, NaN, 10, -10, 0, 1, -0.25], [7]);
    const m = b.fromArray([0.1, 0, 0, 0, 0, 0.2, 0], [7]);
    const v = b.fromArray([0.01, 0, 0, 0, 0, 0.04, 0], [7]);
    const scalars: RAdamScalars = {
      gradScale: -2, clipValue: 3, weightDecay: 0.1, paramScale: 0.99, beta1: 0.9, beta2: 0.99,
      rectified: true, stepSize: 0.05, denomScale: 1.5, eps: 1e-3,
    };
    const expected = [p, g, m, v].map((t) => Float64Array.from(t));
    const [ep, eg, em, ev] = expected as [Float64Array, Float64Array, Float64Array, Float64Array];
    for (let i = 0; i < 7; i++) {
      // The reference order of operations, rounded to float32 at every operation.
      const f = Math.fround;
      let gi = f(eg[i]! * scalars.gradScale);
      if (gi > scalars.clipValue) gi = scalars.clipValue;
      else if (gi < -scalars.clipValue) gi = -scalars.clipValue;
      gi = f(gi + f(f(scalars.weightDecay) * ep[i]!));
      const mi = f(f(f(scalars.beta1) * em[i]!) + f(f(1 - scalars.beta1) * gi));
      const vi = f(f(f(scalars.beta2) * ev[i]!) + f(f(f(1 - scalars.beta2) * gi) * gi));
      const denom = f(f(f(Math.sqrt(vi)) * scalars.denomScale) + f(scalars.eps));
      ep[i] = f(f(ep[i]! * f(scalars.paramScale)) - f(f(f(scalars.stepSize) * mi) / denom));
      em[i] = mi;
      ev[i] = vi;
    }
    // NaN in the gradient gives NaN in p, m and v: the step reports it.
    expect(b.applyRAdam([{ slots: [{ param: p, grad: g, firstMoment: m, secondMoment: v }], scalars }])).toBe(false);
    expect(Array.from(p)).toEqual(Array.from(ep));
    expect(Array.from(m)).toEqual(Array.from(em));
    expect(Array.from(v)).toEqual(Array.from(ev));
    expect(Number.isNaN(p[1])).toBe(true);
    // The gradient is read, never written.
    expect(Array.from(g)).toEqual([0.5, NaN, 10, -10, 0, 1, -0.25]);
  });

  it('applies the plain momentum update when the step is not rectified', async () => {
    const b = await backend({ threads: 1 });
    const p = b.fromArray([1, 2, 3, 4, 5], [5]);
    const m = b.zeros(5);
    const scalars: RAdamScalars = {
      gradScale: 1, clipValue: Infinity, weightDecay: 0, paramScale: 1, beta1: 0.5, beta2: 0.5,
      rectified: false, stepSize: 0.25, denomScale: 1, eps: 1e-8,
    };
    const slot = { param: p, grad: b.fromArray([4, 4, 4, 4, -8], [5]), firstMoment: m, secondMoment: b.zeros(5) };
    expect(b.applyRAdam([{ slots: [slot], scalars }])).toBe(true);
    expect(Array.from(m)).toEqual([2, 2, 2, 2, -4]);
    expect(Array.from(p)).toEqual([0.5, 1.5, 2.5, 3.5, 6]);
  });

  it('sums squares in float64, the same on 1 and 2 threads', async () => {
    const tensors = ODD_SIZES.map((size, i) => randomArray(size, 50 + i, 1e3));
    let exact = 0;
    for (const t of tensors) for (const x of t) exact += x * x;
    const one = await backend({ threads: 1, chunkElements: 64 });
    const two = await backend({ threads: 2, chunkElements: 64, parallelThreshold: 0 });
    const a = one.sumOfSquares(tensors.map((t) => one.fromArray(t, [t.length])));
    const b = two.sumOfSquares(tensors.map((t) => two.fromArray(t, [t.length])));
    expect(a).toBe(b);
    expect(Math.abs(a - exact) / exact).toBeLessThan(1e-11);
    // User arrays (staged) give the same number as backend tensors.
    expect(two.sumOfSquares(tensors)).toBe(b);
    expect(one.sumOfSquares([])).toBe(0);
  });

  it('finds NaN and ±Infinity anywhere, on any thread', async () => {
    const b = await backend({ threads: 2, chunkElements: 16, parallelThreshold: 0 });
    const tensors = [b.fromArray(randomArray(1000, 1), [1000]), b.fromArray(randomArray(37, 2), [37])];
    expect(b.allFinite(tensors)).toBe(true);
    for (const [tensor, index, bad] of [
      [0, 0, NaN], [0, 999, Infinity], [0, 517, -Infinity], [1, 36, NaN], [1, 33, NaN], [1, 0, Infinity],
    ] as const) {
      const t = tensors[tensor]!;
      const saved = t[index]!;
      t[index] = bad;
      expect(b.allFinite(tensors), `${bad} at ${tensor}[${index}]`).toBe(false);
      expect(Number.isFinite(b.sumOfSquares(tensors))).toBe(false);
      t[index] = saved;
    }
    expect(b.allFinite(tensors)).toBe(true);
    expect(b.allFinite([])).toBe(true);
  });

  // Large spans are read as 8 (finiteness) or 4 (sum of squares) parallel streams of
  // `(n / streams) & ~3` elements each, then a vector rest and a scalar tail: each region's
  // first and last element, in spans just under, at and over the streamed minimum, and
  // in a tensor that crosses reduction chunks.
  const STREAMED_SIZES = [2047, 2048, 8195, 300_003];
  const regionEdges = (n: number, streams: number): number[] => {
    const part = Math.floor(n / streams) & ~3;
    const edges = [0, n - 1, (n & ~3) - 1, n & ~3];
    for (let k = 0; k < streams; k++) edges.push(k * part, k * part + part - 1);
    edges.push(streams * part);
    return [...new Set(edges)].filter((i) => i >= 0 && i < n);
  };

  it('finds NaN and ±Infinity at every edge of the streamed scan, on 1 and 2 threads', async () => {
    for (const threads of [1, 2]) {
      const b = await backend({ threads, parallelThreshold: 0 });
      for (const size of STREAMED_SIZES) {
        const t = b.fromArray(randomArray(size, size), [size]);
        expect(b.allFinite([t]), `${size} elements, all finite`).toBe(true);
        for (const index of regionEdges(size, 8)) {
          const bad = [NaN, Infinity, -Infinity][index % 3]!;
          const saved = t[index]!;
          t[index] = bad;
          expect(b.allFinite([t]), `${bad} at [${index}] of ${size}, ${threads} threads`).toBe(false);
          t[index] = saved;
        }
      }
      b.dispose();
    }
  });

  it('sums the squares of streamed spans in float64: every element counted once, any thread count', async () => {
    const sums: number[][] = [];
    for (const threads of [1, 2]) {
      const b = await backend({ threads, parallelThreshold: 0 });
      const own: number[] = [];
      for (const size of STREAMED_SIZES) {
        const values = randomArray(size, 7 * size, 10);
        let exact = 0;
        for (const x of values) exact += x * x;
        const t = b.fromArray(values, [size]);
        const sum = b.sumOfSquares([t]);
        expect(Math.abs(sum - exact) / exact, `${size} elements`).toBeLessThan(1e-12);
        // A large value at each region's edge shows up in the sum exactly once.
        for (const index of regionEdges(size, 4)) {
          const saved = t[index]!;
          t[index] = 1e6;
          const bumped = b.sumOfSquares([t]);
          expect(Math.abs(bumped - (sum - saved * saved + 1e12)) / 1e12, `1e6 at [${index}] of ${size}`).toBeLessThan(1e-9);
          t[index] = saved;
        }
        own.push(sum);
      }
      sums.push(own);
      b.dispose();
    }
    expect(sums[1]).toEqual(sums[0]);
  });
});

describe('cpu-wasm: user-owned Float32Arrays (staged path)', () => {
  it('gives bitwise the results of backend tensors, updating the arrays in place', { timeout: 60_000 }, async () => {
    const sizes = [70_001, 5, 1024];
    const fast = await train({ threads: 2, parallelThreshold: 0 }, sizes, 5);
    const staged = await train({ threads: 2, parallelThreshold: 0 }, sizes, 5, undefined, true);
    expectBitwiseEqual(fast, staged);
  });

  it('mixes staged and in-memory tensors in one batch, and never writes the gradient', async () => {
    const b = await backend({ threads: 2, chunkElements: 8, parallelThreshold: 0 });
    const userParam = randomArray(33, 3);
    const fastParam = b.fromArray(randomArray(33, 3), [33]);
    const userGrad = randomArray(33, 4);
    const optimizer = new RAdam(b, { lr: 0.1 });
    optimizer.registerTrainableWeights({ user: userParam, fast: fastParam });
    expect(b.owns(userParam)).toBe(false);
    expect(b.owns(fastParam)).toBe(true);
    const before = userParam.slice();
    for (let i = 0; i < 8; i++) optimizer.step({ user: userGrad, fast: b.fromArray(userGrad, [33]) });
    expect(bits(userParam)).toEqual(bits(fastParam));
    expect(userParam.some((x, i) => x !== before[i])).toBe(true);
    expect(bits(userGrad)).toEqual(bits(randomArray(33, 4)));
    expect(bits(Float32Array.from(optimizer.readState('user').firstMoment))).toEqual(
      bits(Float32Array.from(optimizer.readState('fast').firstMoment)),
    );
  });
});

describe('cpu-wasm: the backend object', () => {
  it('is synchronous float32, accepts Float32Array only, and reports flat shapes', async () => {
    const b = await backend({ threads: 1 });
    expect(b.name).toBe('cpu-wasm');
    expect(b.synchronous).toBe(true);
    expect(b.dtype).toBe('float32');
    expect(b.isTensor(new Float32Array(3))).toBe(true);
    expect(b.isTensor(new Float64Array(3))).toBe(false);
    expect(b.isTensor([1, 2, 3])).toBe(false);
    const t = b.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(b.shapeOf(t)).toEqual([6]);
    expect(Array.from(b.zeros([2, 3]))).toEqual([0, 0, 0, 0, 0, 0]);
    const copy = b.read(t);
    expect(copy).toBeInstanceOf(Float32Array);
    expect(b.owns(copy)).toBe(false);
    copy[0] = 99;
    expect(t[0]).toBe(1);
    b.write(t, [6, 5, 4, 3, 2, 1]);
    expect(Array.from(t)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(() => b.zeros([2, -1])).toThrow(RectifyError);
  });

  it('rejects invalid options with INVALID_OPTION', async () => {
    for (const [option, bad] of [
      ['threads', { threads: 0 }], ['threads', { threads: 1.5 }], ['maximumMemoryMiB', { maximumMemoryMiB: 5000 }],
      ['initialMemoryMiB', { initialMemoryMiB: 100, maximumMemoryMiB: 10 }], ['chunkElements', { chunkElements: 6 }],
      ['parallelThreshold', { parallelThreshold: -1 }],
    ] as const) {
      await expect(wasmCpuBackend(bad), option).rejects.toMatchObject({ code: 'INVALID_OPTION', parameter: option });
    }
  });

  it('runs the default configuration: one thread per core, at most 8', async () => {
    const { availableParallelism } = await import('node:os');
    const b = await backend({});
    expect(b.threads).toBe(Math.min(8, availableParallelism()));
    const p = b.fromArray([1, 2], [2]);
    const optimizer = new RAdam(b, { lr: 0.5 });
    optimizer.registerTrainableWeights({ p });
    optimizer.step({ p: b.fromArray([1, -1], [2]) });
    expect(Array.from(p)).toEqual([0.5, 2.5]);
  });

  it('after dispose: stepping and creating throw DISPOSED; reading and disposing tensors still work', async () => {
    const b = await backend({ threads: 2 });
    const p = b.fromArray([1, 2, 3], [3]);
    const optimizer = new RAdam(b);
    optimizer.registerTrainableWeights({ p });
    b.dispose();
    b.dispose();
    expect(() => optimizer.step({ p: new Float32Array(3) })).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    expect(() => b.zeros(3)).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    expect(Array.from(b.read(p))).toEqual([1, 2, 3]);
    b.disposeTensor(p);
    b.disposeTensor(p);
  });
});
