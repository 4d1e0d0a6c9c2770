import { describe, expect, it } from 'vitest';
import { fillPseudoRandom } from '../src/checkpoint-model.js';
import {
  buildFlags,
  nativeCheck,
  nativeRoofline,
  nativeStep,
  nativeTools,
  parseNativeCheck,
  parseNativeTiming,
  widestVectorBits,
  type CheckScalars,
} from '../src/native.js';

describe('native reference: parsing and build flags', () => {
  it('reads the widest vector register of an x86-64 listing', () => {
    expect(widestVectorBits('\tvmulps\t%xmm1, %xmm2, %xmm3\n')).toBe(128);
    expect(widestVectorBits('\tvmulps\t%xmm1, %xmm2, %xmm3\n\tvaddps %ymm0, %ymm1, %ymm2\n')).toBe(256);
    expect(widestVectorBits('\tvaddps %zmm0, %zmm1, %zmm2\n\tvaddps %ymm0, %ymm1, %ymm2\n')).toBe(512);
    expect(widestVectorBits('\tadd x0, x1, x2\n')).toBeNull();
  });

  it('limits the WebAssembly-width build to 128-bit vectors on x86-64', () => {
    expect(buildFlags('x64').simd128).toContain('-mprefer-vector-width=128');
    expect(buildFlags('x64').simd128).toContain('-mno-avx512f');
    expect(buildFlags('x64').native).toContain('-mprefer-vector-width=512');
    expect(buildFlags('arm64').simd128).toEqual(buildFlags('arm64').native);
  });

  it('parses a timing line and refuses a broken one', () => {
    const line = '{"mode":"step","threads":2,"tensors":148,"elements":124439808,"rounds":5,"medianSeconds":0.1,"minSeconds":0.09,"finite":true}';
    expect(parseNativeTiming(`noise\n${line}\n`)).toMatchObject({ mode: 'step', tensors: 148, elements: 124439808, medianSeconds: 0.1, finite: true });
    expect(() => parseNativeTiming(line.replace('"medianSeconds":0.1', '"medianSeconds":0'))).toThrow(/medianSeconds/);
    expect(() => parseNativeTiming('{"mode":"other"}')).toThrow(/no timing/);
    expect(() => parseNativeTiming('')).toThrow(/no timing/);
  });

  it('parses a check line, non-finite values as null', () => {
    expect(parseNativeCheck('{"mode":"check","threads":1,"finite":false,"p":[1,null],"m":[0.5,2],"v":[3,4]}')).toEqual({
      finite: false,
      p: [1, null],
      m: [0.5, 2],
      v: [3, 4],
    });
    expect(() => parseNativeCheck('{"mode":"check","finite":true,"p":["x"],"m":[],"v":[]}')).toThrow(/no check result/);
  });
});

/** One RAdam step in float64 from the float32 inputs: backend.ts's RAdamScalars formula. */
function expected(s: CheckScalars, p0: Float32Array, g0: Float32Array, m0: Float32Array, v0: Float32Array): { p: number[]; m: number[]; v: number[] } {
  const f = Math.fround;
  const out = { p: [] as number[], m: [] as number[], v: [] as number[] };
  for (let i = 0; i < p0.length; i++) {
    let g = g0[i]! * f(s.gradScale);
    g = Math.min(Math.max(g, -f(s.clipValue)), f(s.clipValue));
    g += f(s.weightDecay) * p0[i]!;
    const m = f(s.beta1) * m0[i]! + (1 - f(s.beta1)) * g;
    const v = f(s.beta2) * v0[i]! + (1 - f(s.beta2)) * g * g;
    const p = s.rectified
      ? p0[i]! * f(s.paramScale) - (f(s.stepSize) * m) / (Math.sqrt(v) * f(s.denomScale) + f(s.eps))
      : p0[i]! * f(s.paramScale) - f(s.stepSize) * m;
    out.p.push(p);
    out.m.push(m);
    out.v.push(v);
  }
  return out;
}

function expectClose(actual: readonly (number | null)[], wanted: readonly number[]): void {
  expect(actual).toHaveLength(wanted.length);
  actual.forEach((x, i) => {
    const e = wanted[i]!;
    // float32 arithmetic over a handful of operations: a few ulps of float32.
    expect(Math.abs(x! - e), `element ${i}: ${x} vs ${e}`).toBeLessThanOrEqual(1e-6 * Math.max(1e-3, Math.abs(e)));
  });
}

const tools = await nativeTools();
const noCc = 'unavailable' in tools ? tools.unavailable : undefined;

describe.skipIf(noCc !== undefined)(`native reference: the C program${noCc === undefined ? '' : ` (skipped: ${noCc})`}`, () => {
  const built = tools as Exclude<typeof tools, { unavailable: string }>;
  const n = 53; // vectors and a scalar tail; with 3 threads, shares of 16, 16 and 21 elements
  const p = fillPseudoRandom(new Float32Array(n), 1);
  const g = fillPseudoRandom(new Float32Array(n), 2).map((x) => 3 * x);
  const m = fillPseudoRandom(new Float32Array(n), 3).map((x) => 0.1 * x);
  const v = fillPseudoRandom(new Float32Array(n), 4).map((x) => 0.01 * x * x + 1e-4);
  const rectified: CheckScalars = {
    gradScale: -0.5, clipValue: 1, weightDecay: 0.01, paramScale: 0.999, beta1: 0.9, beta2: 0.999, stepSize: 1.2e-3, denomScale: 10, eps: 1e-8, rectified: true,
  };

  it('both builds step like a float64 RAdam step, on any split over threads, bit-equal across splits', { timeout: 60_000 }, async () => {
    const want = expected(rectified, p, g, m, v);
    for (const build of [built.simd128, built.native]) {
      const one = await nativeCheck(build, rectified, { p, g, m, v }, 1);
      const three = await nativeCheck(build, rectified, { p, g, m, v }, 3);
      expect(one.finite).toBe(true);
      expectClose(one.p, want.p);
      expectClose(one.m, want.m);
      expectClose(one.v, want.v);
      expect(three).toEqual(one);
    }
    expect(built.simd128.vectorBits === null || built.simd128.vectorBits === 128).toBe(true);
  });

  it('takes the un-rectified update, no clip, and reports a non-finite value', { timeout: 60_000 }, async () => {
    const plain: CheckScalars = { ...rectified, rectified: false, clipValue: Infinity, weightDecay: 0, paramScale: 1 };
    const want = expected(plain, p, g, m, v);
    const got = await nativeCheck(built.simd128, plain, { p, g, m, v }, 2);
    expectClose(got.p, want.p);
    expectClose(got.m, want.m);
    const bad = await nativeCheck(built.simd128, plain, { p, g: g.map((x, i) => (i === 7 ? NaN : x)), m, v }, 2);
    expect(bad.finite).toBe(false);
    expect(bad.m[7]).toBeNull();
    expect(bad.m[8]).not.toBeNull();
  });

  it('times a step over many tensors and the roofline pattern', { timeout: 60_000 }, async () => {
    const step = await nativeStep(built.simd128, [10, 1000, 37], 2, 5);
    expect(step).toMatchObject({ mode: 'step', threads: 2, tensors: 3, elements: 1047, rounds: 5, finite: true });
    const roof = await nativeRoofline(built.native, 4096, 2, 5);
    expect(roof).toMatchObject({ mode: 'roofline', tensors: 1, elements: 4096 });
    expect(roof.medianSeconds).toBeGreaterThanOrEqual(roof.minSeconds);
  });
});
