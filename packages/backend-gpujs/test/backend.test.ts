import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam, RectifyError, fusedRAdamUpdate, type RAdamScalars } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { REDUCTION_WIDTH, WEBASM_THREAD_MIN_SIZE, gpujsBackend, type GpujsBackend } from '../src/index.js';
import { gradValues, paramValues } from './helpers/fixtures.js';

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (Number.isNaN(e)) {
      expect(Number.isNaN(a), `[${i}]`).toBe(true);
    } else if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      expect.fail(`[${i}]: got ${a}, expected ${e}`);
    }
  }
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

const SCALARS: Record<string, RAdamScalars> = {
  'rectified, every option on': {
    ...BASE,
    gradScale: -0.7,
    clipValue: 0.8,
    weightDecay: 0.05,
    paramScale: 0.999,
    denomScale: 1.3,
  },
  'not rectified, no clipping': { ...BASE, rectified: false, stepSize: 0.02 },
  'rectified, big eps, coupled decay only': { ...BASE, eps: 0.1, weightDecay: 0.2 },
};

/** One fused update on the backend and on core's reference kernel over Float64Arrays. */
async function compareUpdate(backend: GpujsBackend, size: number, scalars: RAdamScalars): Promise<void> {
  const p0 = paramValues(size);
  const g0 = gradValues(size, 1);
  const m0 = gradValues(size, 2).map((x) => x * 0.1);
  const v0 = gradValues(size, 3).map((x) => x * x * 0.01);
  const [p, g, m, v] = [p0, g0, m0, v0].map((data) => backend.fromArray(data, [size]));
  const finite = await backend.applyRAdam([{ slots: [{ param: p!, grad: g!, firstMoment: m!, secondMoment: v! }], scalars }]);
  const [rp, rm, rv] = [p0, m0, v0].map((data) => Float64Array.from(data));
  expect(finite).toBe(fusedRAdamUpdate(rp!, g0, rm!, rv!, scalars));
  expect(finite).toBe(true);
  expectClose(await backend.read(m!), rm!, 2e-6, 1e-5);
  expectClose(await backend.read(v!), rv!, 2e-6, 1e-5);
  expectClose(await backend.read(p!), rp!, 2e-6, 1e-5);
  // the gradient is only read
  expectClose(await backend.read(g!), g0, 0, 1e-7);
}

describe.each(['cpu', 'webasm'] as const)('gpujs-%s kernels', (mode) => {
  for (const [label, scalars] of Object.entries(SCALARS)) {
    it(`the fused update matches core's reference kernel: ${label}`, async () => {
      const backend = gpujsBackend({ mode });
      for (const size of [1, 7, 300]) await compareUpdate(backend, size, scalars);
      backend.dispose();
    });
  }

  it.each([true, false])('the fused update matches on a tensor big enough for webasm worker threads (threads: %s)', async (threads) => {
    // threadMinSize lowered so a 10 000-element tensor takes the worker-pool path
    const backend = gpujsBackend({ mode, threads, threadMinSize: 4096 });
    await compareUpdate(backend, 10_000, SCALARS['rectified, every option on']!);
    expect(backend.kernelFallbacks).toEqual([]);
    if (mode === 'webasm') {
      // gpu.js records how each webasm kernel last ran: split across workers, or SIMD inline.
      // The three update kernels take the worker path; the 1024-lane finiteness count never does.
      const paths = (backend.gpu as unknown as { kernels: { _lastRunPath?: string }[] }).kernels.map((k) => k._lastRunPath);
      expect(paths).toEqual([...Array(3).fill(threads ? 'threaded' : 'simd'), 'simd']);
    }
    backend.dispose();
  }, 30_000);

  it('by default keeps tensors below WEBASM_THREAD_MIN_SIZE off the worker pool', async () => {
    const backend = gpujsBackend({ mode });
    await compareUpdate(backend, 10_000, SCALARS['not rectified, no clipping']!);
    if (mode === 'webasm') {
      const paths = (backend.gpu as unknown as { kernels: { _lastRunPath?: string }[] }).kernels.map((k) => k._lastRunPath);
      expect(paths).toEqual(Array(4).fill('simd'));
    }
    expect(WEBASM_THREAD_MIN_SIZE).toBeGreaterThan(10_000);
    backend.dispose();
  });

  it('sums squares across tensors on each side of the reduction width, in one readback', async () => {
    const backend = gpujsBackend({ mode });
    const sizes = [0, 1, 5, REDUCTION_WIDTH - 1, REDUCTION_WIDTH, REDUCTION_WIDTH + 1, 3 * REDUCTION_WIDTH + 17];
    const data = sizes.map((size, i) => gradValues(size, i));
    const tensors = data.map((values, i) => backend.fromArray(values, [sizes[i]!]));
    let expected = 0;
    for (const values of data) for (const x of values) expected += Math.fround(x) ** 2;
    const before = backend.stats.readbacks;
    const sum = await backend.sumOfSquares(tensors);
    expect(backend.stats.readbacks - before).toBe(1);
    expect(Math.abs(sum - expected) / expected).toBeLessThan(1e-6);
    expect(await backend.sumOfSquares([])).toBe(0);
    backend.dispose();
  });

  it('a non-finite gradient makes the sum of squares non-finite', async () => {
    const backend = gpujsBackend({ mode });
    const sum = await backend.sumOfSquares([backend.fromArray([1, 2], [2]), backend.fromArray([0, NaN, 1], [3])]);
    expect(Number.isFinite(sum)).toBe(false);
    backend.dispose();
  });

  it('knows host data is non-finite without reading the device (float32 overflow included)', async () => {
    const backend = gpujsBackend({ mode });
    for (const bad of [NaN, Infinity, -Infinity, 1e39]) {
      expect(await backend.allFinite([backend.fromArray([1], [1]), backend.fromArray([0, bad], [2])])).toBe(false);
    }
    expect(await backend.allFinite([backend.fromArray([3.4e38, -1e-45], [2])])).toBe(true);
    expect(backend.stats.readbacks).toBe(0);
    backend.dispose();
  });

  it('creates, writes and reads tensors of any shape, empty ones included', async () => {
    const backend = gpujsBackend({ mode });
    const t = backend.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(backend.shapeOf(t)).toEqual([2, 3]);
    expect(backend.isTensor(t)).toBe(true);
    const z = backend.zerosLike(t);
    expect(z.shape).toEqual([2, 3]);
    expect(Array.from(await backend.read(z))).toEqual([0, 0, 0, 0, 0, 0]);
    await backend.write(z, [6, 5, 4, 3, 2, 1]);
    expect(Array.from(await backend.read(z))).toEqual([6, 5, 4, 3, 2, 1]);
    const empty = backend.fromArray([], [0, 4]);
    expect(empty.size).toBe(0);
    const opt = new RAdam(backend, { lr: 0.1, gradClipNorm: 1 });
    opt.registerTrainableWeights({ t, empty });
    const report = await opt.step({ t: backend.fromArray([1, 1, 1, 1, 1, 1], [2, 3]), empty: backend.fromArray([], [0, 4]) });
    expect(report.updatedParams).toBe(2);
    expect(Array.from(await backend.read(empty))).toEqual([]);
    expect(Array.from(await backend.read(t)).every((x, i) => x < i + 1)).toBe(true);
    backend.dispose();
  });

  it('rejects malformed input with typed errors', async () => {
    const backend = gpujsBackend({ mode });
    expect(() => backend.fromArray([1, 2, 3], [2, 2])).toThrow(RectifyError);
    expect(() => backend.fromArray([1], [-1] as never)).toThrow(/non-negative integers/);
    const t = backend.fromArray([1, 2], [2]);
    await expect(backend.write(t, [1, 2, 3])).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    const other = gpujsBackend({ mode });
    const foreign = other.fromArray([1, 2], [2]);
    expect(backend.isTensor(foreign)).toBe(false);
    expect(backend.isTensor(new Float32Array(2))).toBe(false);
    await expect(backend.read(foreign)).rejects.toMatchObject({ code: 'INVALID_TENSOR' });
    other.dispose();
    backend.dispose();
  });

  it('state moves to and from the CPU backend through a state dict', async () => {
    const backend = gpujsBackend({ mode });
    const w0 = paramValues(6);
    const w = backend.fromArray(w0, [2, 3]);
    const opt = new RAdam(backend, { lr: 0.01 });
    opt.registerTrainableWeights({ w });
    for (let i = 1; i <= 7; i++) await opt.step({ w: backend.fromArray(gradValues(6, i), [2, 3]) });
    const cpu = new RAdam(cpuBackend(), { lr: 0.01 });
    cpu.registerTrainableWeights({ w: await backend.read(w) });
    cpu.loadStateDict(await opt.stateDict());
    const state = cpu.readState('w');
    expect(state.step).toBe(7);
    expectClose(state.firstMoment, (await opt.readState('w')).firstMoment, 0, 0);
    backend.dispose();
  });
});
