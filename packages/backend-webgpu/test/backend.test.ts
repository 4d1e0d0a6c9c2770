/// <reference types="@webgpu/types" />
import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam, RectifyError } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { nodeWebGpu, sharedDevice, testBackend } from './helpers/node-webgpu.js';
import { SOAK_TIMEOUT, expectFlatResourcesOverSoak } from './helpers/soak.js';
import { expectUpdateMatchesReference, scalars, values } from './helpers/twin.js';

const gpu = nodeWebGpu.unavailable === undefined ? describe : describe.skip;
if (nodeWebGpu.unavailable !== undefined) console.warn(`[webgpu] unit tests skipped: ${nodeWebGpu.unavailable}`);

/**
 * `device` with every compute pass's `dispatchWorkgroups` counted: an independent check of
 * the backend's own counters. Methods are bound to the real objects (Dawn checks `this`).
 */
function countingDevice(device: GPUDevice): { device: GPUDevice; dispatches: () => number } {
  let dispatches = 0;
  const bind = <T extends object>(target: T, overrides: Record<string, unknown>): T =>
    new Proxy(target, {
      get(object, key) {
        if (typeof key === 'string' && key in overrides) return overrides[key];
        const value = Reflect.get(object, key, object) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
      },
    });
  const counted = bind(device, {
    createCommandEncoder: (descriptor?: GPUCommandEncoderDescriptor) => {
      const encoder = device.createCommandEncoder(descriptor);
      return bind(encoder, {
        beginComputePass: (pass?: GPUComputePassDescriptor) => {
          const real = encoder.beginComputePass(pass);
          return bind(real, {
            dispatchWorkgroups: (x: number, y?: number, z?: number) => {
              dispatches++;
              real.dispatchWorkgroups(x, y, z);
            },
          });
        },
      });
    },
  });
  return { device: counted, dispatches: () => dispatches };
}

/** Asserts `actual` is within SPEC.md's float32 tolerance of the float64 `expected`. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, where: string): void {
  expect(actual.length, where).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    if (!(Math.abs(actual[i]! - e) <= 2e-5 + 1e-4 * Math.abs(e))) expect.fail(`${where}[${i}]: got ${actual[i]}, expected ${e}`);
  }
}

gpu('webgpu: one dispatch per step', () => {
  it('1000 tensors of 1000 elements: one update dispatch per step, and the float64 result', async () => {
    const counting = countingDevice(await sharedDevice());
    const backend = await testBackend({ device: counting.device });
    const reference = cpuBackend({ dtype: 'float64' });
    const options = { lr: 1e-2, weightDecay: 1e-3 };
    const ours = new RAdam(backend, options);
    const theirs = new RAdam(reference, options);
    const names = Array.from({ length: 1000 }, (_, i) => `t${i}`);
    const start = names.map((_, i) => values(1000, i));
    const params = Object.fromEntries(names.map((n, i) => [n, backend.fromArray(start[i]!, [1000])]));
    const referenceParams = Object.fromEntries(names.map((n, i) => [n, reference.fromArray(start[i]!, [1000])]));
    ours.registerTrainableWeights(params);
    theirs.registerTrainableWeights(referenceParams);
    const gradData = names.map((_, i) => values(1000, 5000 + i));
    const grads = Object.fromEntries(names.map((n, i) => [n, backend.fromArray(gradData[i]!, [1000])]));
    const referenceGrads = Object.fromEntries(names.map((n, i) => [n, reference.fromArray(gradData[i]!, [1000])]));
    for (let step = 0; step < 6; step++) {
      const before = { ...backend.stats, counted: counting.dispatches() };
      await ours.step(grads);
      theirs.step(referenceGrads);
      const after = backend.stats;
      expect(after.updateDispatches - before.updateDispatches).toBe(1);
      // The gradients' finiteness check (nonFinite 'error', no norm clipping), then the update.
      expect(after.dispatches - before.dispatches).toBe(2);
      expect(counting.dispatches() - before.counted).toBe(2);
      expect(after.readbacks - before.readbacks).toBe(2);
      // The same tensors every step: the chunk tables were uploaded on the first step only.
      if (step > 0) expect(after.tableUploads).toBe(before.tableUploads);
    }
    for (const name of names.filter((_, i) => i % 97 === 0)) {
      expectClose(await backend.read(params[name]!), referenceParams[name]!, name);
    }
    backend.dispose();
  }, 300_000);

  it('more batches than one uniform block holds: one dispatch per 256 batches, each with its own scalars', async () => {
    const backend = await testBackend();
    const specs = Array.from({ length: 300 }, (_, b) => ({
      sizes: [1 + (b % 7), 9],
      scalars: scalars({
        stepSize: 1e-3 * (1 + (b % 5)),
        rectified: b % 3 !== 0,
        gradScale: b % 4 === 0 ? -0.5 : 1,
        clipValue: b % 2 === 0 ? 0.3 : Infinity,
        weightDecay: b % 6 === 0 ? 0.01 : 0,
        paramScale: b % 8 === 0 ? 0.999 : 1,
      }),
    }));
    const before = backend.stats.updateDispatches;
    const { finite, expectedFinite } = await expectUpdateMatchesReference(backend, specs);
    expect(backend.stats.updateDispatches - before).toBe(2);
    expect([finite, expectedFinite]).toEqual([true, true]);
    backend.dispose();
  }, 120_000);

  for (const workgroupSize of [64, 256]) {
    it(`odd sizes, several chunks per tensor, clipping and decay (workgroup ${workgroupSize})`, async () => {
      const backend = await testBackend({ workgroupSize });
      expect(backend.workgroupSize).toBe(workgroupSize);
      const sizes = [1, 2, 3, 4, 5, 1023, 1024, 1025, 4095, 4096, 4097, 10_001];
      await expectUpdateMatchesReference(backend, [
        { sizes, scalars: scalars({ clipValue: 0.5, weightDecay: 0.01, gradScale: 0.7 }) },
        { sizes: [7, 0, 4099], scalars: scalars({ rectified: false, stepSize: 0.02, paramScale: 0.99 }) },
      ]);
      backend.dispose();
    }, 120_000);
  }

  it('tensors spread over several pages are updated in one dispatch that binds them all', async () => {
    const backend = await testBackend({ maxPageElements: 4096, initialPageElements: 4096 });
    const before = backend.stats.updateDispatches;
    // p, g, m, v of 1500 elements: two per 4096-element page, so 2 slots use 4 pages.
    await expectUpdateMatchesReference(backend, [{ sizes: [1500, 1500], scalars: scalars({ clipValue: 0.2 }) }]);
    expect(backend.stats.updateDispatches - before).toBe(1);
    expect(backend.resourceCounts().pages).toBe(4);
    backend.dispose();
  }, 120_000);
});

/** `Σ x²` in float64, the way the reference does it (no overflow at 1e20). */
function float64SumOfSquares(arrays: readonly Float32Array[]): number {
  let sum = 0;
  for (const array of arrays) for (const x of array) sum += x * x;
  return sum;
}

gpu('webgpu: reductions', () => {
  it('sumOfSquares of gradients around 1e20 (whose squares overflow float32) matches float64', async () => {
    const backend = await testBackend();
    const arrays = [values(10_000, 1, 1e20), values(3, 2, 1e-3), values(5000, 3, 1e19), values(9000, 4, 3e38)];
    const tensors = arrays.map((a) => backend.fromArray(a, [a.length]));
    const expected = float64SumOfSquares(arrays);
    const actual = await backend.sumOfSquares(tensors);
    expect(Number.isFinite(actual)).toBe(true);
    expect(Math.abs(actual - expected) / expected).toBeLessThan(1e-6);
    // Small values keep their relative precision too (no catastrophic scaling).
    const small = [values(7777, 9, 1e-20)];
    const smallSum = await backend.sumOfSquares([backend.fromArray(small[0]!, [7777])]);
    expect(Math.abs(smallSum - float64SumOfSquares(small)) / float64SumOfSquares(small)).toBeLessThan(1e-6);
    backend.dispose();
  });

  it('is deterministic: the same bits on every call and on another backend, whatever else ran between', async () => {
    const first = await testBackend();
    const arrays = [values(123_457, 11, 3), values(17, 12), values(40_000, 13, 1e10)];
    const tensors = arrays.map((a) => first.fromArray(a, [a.length]));
    const results = [await first.sumOfSquares(tensors)];
    await first.allFinite(tensors.slice(1));
    results.push(await first.sumOfSquares(tensors));
    const second = await testBackend({ initialPageElements: 1 << 20 });
    second.fromArray(values(99, 1), [99]); // a different layout on the device
    results.push(await second.sumOfSquares(arrays.map((a) => second.fromArray(a, [a.length]))));
    expect(new Set(results).size).toBe(1);
    expect(Math.abs(results[0]! - float64SumOfSquares(arrays)) / results[0]!).toBeLessThan(1e-6);
    first.dispose();
    second.dispose();
  });

  it('non-finite elements: NaN gives NaN, ±Infinity gives Infinity, allFinite says false', async () => {
    const backend = await testBackend();
    const clean = backend.fromArray(values(5000, 1), [5000]);
    const withNaN = values(5000, 2);
    withNaN[4999] = NaN;
    const withInf = values(6, 3);
    withInf[5] = -Infinity;
    const nan = backend.fromArray(withNaN, [5000]);
    const inf = backend.fromArray(withInf, [6]);
    expect(await backend.sumOfSquares([clean, nan])).toBeNaN();
    expect(await backend.sumOfSquares([inf, clean])).toBe(Infinity);
    expect(await backend.sumOfSquares([inf, nan])).toBeNaN();
    expect(await backend.allFinite([clean])).toBe(true);
    expect(await backend.allFinite([clean, nan])).toBe(false);
    expect(await backend.allFinite([inf])).toBe(false);
    // Lanes past a tensor's end are never counted, whatever its padding holds: here the
    // NaN a released tensor left in the same room (first fit hands it out again).
    const stale = backend.fromArray(new Float32Array(4).fill(NaN), [4]);
    const page = backend.locate(stale)!;
    backend.disposeTensor(stale);
    const three = backend.fromArray([1, 2, 3], [3]);
    expect(backend.locate(three)).toEqual({ ...page, byteLength: 12 });
    expect(await backend.allFinite([three])).toBe(true);
    expect(await backend.sumOfSquares([three])).toBe(14);
    expect(await backend.sumOfSquares([])).toBe(0);
    expect(await backend.allFinite([backend.fromArray([], [0])])).toBe(true);
    backend.dispose();
  });

  it('the update flag: 1e20 gradients stay finite, 1e30 overflow is reported, 0/0 is reported', async () => {
    const backend = await testBackend();
    // ((1 − β2)·g)·g: 1e37 fits float32 although g² does not.
    const fine = await expectUpdateMatchesReference(backend, [{ sizes: [5, 4100], scalars: scalars({ rectified: false }) }], 1e20);
    expect(fine).toEqual({ finite: true, expectedFinite: true });
    const update = async (grad: number, overrides: Parameters<typeof scalars>[0], size = 4101): Promise<boolean> => {
      const p = backend.fromArray(values(size, 1), [size]);
      const g = backend.fromArray(new Float32Array(size).fill(grad), [size]);
      return backend.applyRAdam([{ scalars: scalars(overrides), slots: [{ param: p, grad: g, firstMoment: backend.zerosLike(p), secondMoment: backend.zerosLike(p) }] }]);
    };
    expect(await update(1e30, {})).toBe(false); // v = 1e57 is Infinity in float32
    expect(await update(0, { eps: 0 })).toBe(false); // 0 / (0 + 0)
    expect(await update(0, { eps: 0, rectified: false })).toBe(true); // the branch is real: no 0/0
    // Padding lanes (a 5-element tensor fills two vec4s) compute 0/0 here; they never count.
    expect(await update(1, { eps: 0 }, 5)).toBe(true);
    expect(await update(1, { stepSize: 1e39 })).toBe(false); // a step size beyond float32
    backend.dispose();
  });
});

gpu('webgpu: memory', () => {
  it('resource counts stay flat over a soak and return to the baseline after the optimizer is disposed', async () => {
    await expectFlatResourcesOverSoak(() => testBackend());
  }, SOAK_TIMEOUT);

  it('capture is free and copy-on-write: a write or an update after it never reaches the copy', async () => {
    const backend = await testBackend();
    const g = backend.fromArray([1, 2, 3, 4, 5], [5]);
    const uploads = backend.stats.uploads;
    const snapshot = backend.capture(g);
    expect(backend.stats.uploads).toBe(uploads);
    await backend.write(g, [9, 9, 9, 9, 9]);
    expect(Array.from(await backend.read(snapshot))).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(await backend.read(g))).toEqual([9, 9, 9, 9, 9]);
    const p = backend.fromArray([0.5, -0.5], [2]);
    const frozen = backend.capture(p);
    const m = backend.zerosLike(p);
    const v = backend.zerosLike(p);
    await backend.applyRAdam([{ scalars: scalars({ rectified: false, stepSize: 0.1 }), slots: [{ param: p, grad: backend.fromArray([1, -1], [2]), firstMoment: m, secondMoment: v }] }]);
    expect(Array.from(await backend.read(frozen))).toEqual([0.5, -0.5]);
    expect(Array.from(await backend.read(p))).toEqual([Math.fround(0.5 - 0.1 * Math.fround(0.1)), Math.fround(-0.5 + 0.1 * Math.fround(0.1))].map(Math.fround));
    backend.dispose();
  });

  it('a tensor beyond the device limit is INVALID_TENSOR up front, naming the limit, nothing allocated', async () => {
    const backend = await testBackend();
    const before = backend.resourceCounts();
    const size = backend.maxTensorElements + 1;
    // An array-like that is never read: the limit is checked before any element.
    const huge = { length: size } as ArrayLike<number>;
    expect(() => backend.fromArray(huge, [size])).toThrow(
      expect.objectContaining({ code: 'INVALID_TENSOR', message: expect.stringMatching(/maxStorageBufferBindingSize/) }),
    );
    expect(backend.resourceCounts()).toEqual(before);
    const small = await testBackend({ maxPageElements: 64 });
    expect(() => small.fromArray(new Float32Array(65), [65])).toThrow(expect.objectContaining({ code: 'INVALID_TENSOR' }));
    expect(small.fromArray(new Float32Array(64), [64]).size).toBe(64);
    backend.dispose();
    small.dispose();
  });

  it('an update that cannot find room for its copy-on-write moves is OUT_OF_MEMORY and changes nothing', async () => {
    // Pages of 8 elements hold two 4-element tensors each.
    const backend = await testBackend({ maxPageElements: 8, initialPageElements: 8 });
    const p = backend.fromArray([1, 1, 1, 1], [4]);
    const g = backend.fromArray([1, 1, 1, 1], [4]);
    const m = backend.zerosLike(p);
    const v = backend.zerosLike(p);
    const held = backend.capture(p); // shares p's room: the update must move p first
    const fill = [];
    for (;;) {
      try {
        fill.push(backend.fromArray([0, 0, 0, 0], [4]));
      } catch (error) {
        expect(error).toMatchObject({ code: 'OUT_OF_MEMORY' });
        break;
      }
    }
    expect(fill.length).toBeGreaterThan(0);
    const update = () => backend.applyRAdam([{ scalars: scalars(), slots: [{ param: p, grad: g, firstMoment: m, secondMoment: v }] }]);
    const before = backend.resourceCounts();
    await expect(update()).rejects.toMatchObject({ code: 'OUT_OF_MEMORY' });
    expect(backend.resourceCounts()).toEqual(before);
    expect(Array.from(await backend.read(p))).toEqual([1, 1, 1, 1]);
    backend.disposeTensor(fill[0]!); // room for the move: now it runs, and the capture keeps its values
    expect(await update()).toBe(true);
    expect(Array.from(await backend.read(held))).toEqual([1, 1, 1, 1]);
    expect((await backend.read(p))[0]).toBeLessThan(1);
    backend.dispose();
  });
});

gpu('webgpu: errors, device loss and lifecycle', () => {
  it('without navigator.gpu or an adapter, the error says what to install or which flag to pass', async () => {
    await expect(import('../src/index.js').then((m) => m.createWebGpuBackend())).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      parameter: 'gpu',
      message: expect.stringMatching(/--enable-unsafe-webgpu[\s\S]*`webgpu` package/),
    });
    const { createWebGpuBackend } = await import('../src/index.js');
    const noAdapter = { requestAdapter: () => Promise.resolve(null) } as unknown as GPU;
    await expect(createWebGpuBackend({ gpu: noAdapter })).rejects.toMatchObject({ code: 'INVALID_OPTION', parameter: 'adapter', message: expect.stringMatching(/--enable-unsafe-webgpu/) });
    await expect(createWebGpuBackend({ device: await sharedDevice(), workgroupSize: 100 })).rejects.toMatchObject({ code: 'INVALID_OPTION', parameter: 'workgroupSize' });
    await expect(createWebGpuBackend({ device: await sharedDevice(), workgroupSize: 4096 })).rejects.toMatchObject({ code: 'INVALID_OPTION', parameter: 'workgroupSize' });
    await expect(createWebGpuBackend({ device: await sharedDevice(), maxPageElements: 2 })).rejects.toMatchObject({ code: 'INVALID_OPTION', parameter: 'maxPageElements' });
  });

  it('takes an adapter, owns the device it creates, and after device.destroy() every call is a typed error', async () => {
    const { createWebGpuBackend } = await import('../src/index.js');
    // Its own adapter (Dawn's adapters make one device each), through the `gpu` option.
    const backend = await createWebGpuBackend({ gpu: nodeWebGpu.gpu! });
    expect(backend.adapterName).toMatch(/\S/);
    const optimizer = new RAdam(backend, { lr: 0.01, gradClipNorm: 1 });
    const w = backend.fromArray([1, 2, 3], [3]);
    optimizer.registerTrainableWeights({ w });
    await optimizer.step({ w: backend.fromArray([0.1, 0.2, 0.3], [3]) });
    const g = backend.fromArray([0.1, 0.2, 0.3], [3]);
    backend.device.destroy();
    // In flight when the device goes: a typed error, never a hang or a silent result.
    await expect(optimizer.step({ w: g })).rejects.toMatchObject({ code: 'BACKEND_ERROR' });
    await backend.device.lost;
    await expect(backend.read(w)).rejects.toMatchObject({ code: 'BACKEND_ERROR', message: expect.stringMatching(/lost/) });
    expect(() => backend.fromArray([1], [1])).toThrow(expect.objectContaining({ code: 'BACKEND_ERROR' }));
    await expect(optimizer.step({ w: g })).rejects.toBeInstanceOf(RectifyError);
    backend.dispose();
  });

  it('an update in flight when the device is lost rejects with WebGpuUpdateFailure (core halts on it)', async () => {
    const { createWebGpuBackend, WebGpuUpdateFailure } = await import('../src/index.js');
    const adapter = await nodeWebGpu.gpu!.requestAdapter();
    const backend = await createWebGpuBackend({ adapter: adapter! });
    const p = backend.fromArray(values(10_000, 1), [10_000]);
    const pending = backend.applyRAdam([{ scalars: scalars(), slots: [{ param: p, grad: backend.fromArray(values(10_000, 2), [10_000]), firstMoment: backend.zerosLike(p), secondMoment: backend.zerosLike(p) }] }]);
    backend.device.destroy();
    await expect(pending).rejects.toBeInstanceOf(WebGpuUpdateFailure);
    backend.dispose();
  });

  it('dispose() releases every buffer and tensor; the backend then refuses use, and in-flight reads say DISPOSED', async () => {
    const backend: WebGpuBackend = await testBackend();
    const t = backend.fromArray(values(100, 1), [100]);
    await backend.sumOfSquares([t]);
    const pending = backend.read(t);
    backend.dispose();
    await expect(pending).rejects.toMatchObject({ code: 'DISPOSED' });
    expect(backend.resourceCounts()).toEqual({ tensors: 0, buffers: 0, pages: 0, pipelines: 0, bindGroups: 0 });
    expect(backend.isTensor(t)).toBe(false);
    await expect(backend.read(t)).rejects.toMatchObject({ code: 'DISPOSED' });
    expect(() => backend.fromArray([1], [1])).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    backend.dispose();
    backend.disposeTensor(t);
  });

  it('bad tensors: foreign, released, aliased between a gradient and a written tensor', async () => {
    const backend = await testBackend();
    const other = await testBackend();
    const p = backend.fromArray([1, 2], [2]);
    const m = backend.zerosLike(p);
    const v = backend.zerosLike(p);
    const g = backend.fromArray([1, 1], [2]);
    const foreign = other.fromArray([1, 1], [2]);
    await expect(backend.read(foreign)).rejects.toMatchObject({ code: 'INVALID_TENSOR' });
    const slot = { param: p, grad: g, firstMoment: m, secondMoment: v };
    await expect(backend.applyRAdam([{ scalars: scalars(), slots: [{ ...slot, grad: foreign }] }])).rejects.toMatchObject({ code: 'INVALID_TENSOR' });
    await expect(backend.applyRAdam([{ scalars: scalars(), slots: [{ ...slot, grad: m }] }])).rejects.toMatchObject({ code: 'INVALID_TENSOR' });
    await expect(backend.applyRAdam([{ scalars: scalars(), slots: [slot, { ...slot, grad: backend.fromArray([0, 0], [2]) }] }])).rejects.toMatchObject({ code: 'INVALID_TENSOR' });
    await expect(backend.applyRAdam([{ scalars: scalars(), slots: [{ ...slot, grad: backend.fromArray([1], [1]) }] }])).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    await expect(backend.write(p, [1, 2, 3])).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    backend.disposeTensor(g);
    await expect(backend.sumOfSquares([g])).rejects.toMatchObject({ code: 'DISPOSED' });
    expect(Array.from(await backend.read(p))).toEqual([1, 2]);
    expect(Array.from(await backend.read(m))).toEqual([0, 0]);
    backend.dispose();
    other.dispose();
  });
});
