import { RectifyError } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { REDUCTION_WIDTH, createGpujsBackend, type GpujsBackend } from '../src/index.js';
import { TwinRun } from './helpers/fixtures.js';
import { NODE_MODES, isSoftware } from './helpers/platform.js';

/** gpu.js's own list of the kernels a GPU instance holds (not in its typings). */
function gpujsKernelCount(backend: GpujsBackend): number {
  return (backend.gpu as unknown as { kernels: unknown[] }).kernels.length;
}

/** Everything the backend holds, to compare before and after many steps. */
function holdings(backend: GpujsBackend): Record<string, number> {
  const { compiledKernels, liveTensors, residentBuffers } = backend.stats;
  return { compiledKernels, liveTensors, residentBuffers, gpujsKernels: gpujsKernelCount(backend) };
}

describe.each(NODE_MODES)('gpujs-%s: what the backend holds', (mode) => {
  // A software GPU (SwiftShader, llvmpipe) takes 10–35 ms a step: a leak of one texture or
  // buffer per step shows in the counts after 200 steps as surely as after 1000.
  const steps = isSoftware(mode) ? 200 : 1000;
  it(`does not grow over ${steps} steps, and the result still matches the float64 reference`, async () => {
    const backend = await createGpujsBackend({ mode });
    const run = new TwinRun(backend, { w: [3, 4], b: [4], s: [1] }, { lr: 1e-3, gradClipNorm: 1, weightDecay: 0.01 });
    await run.step();
    const afterFirst = holdings(backend);
    // 3 params + 6 moments on the device, plus the two reduction accumulators (norm, counts).
    expect(afterFirst).toMatchObject({ liveTensors: 9, residentBuffers: 11 });
    // m, v, p, the norm and the flag reductions per size; on the GPU modes also an upload
    // kernel per size and for the two accumulators' zeros (cpu/webasm upload nothing).
    expect(afterFirst.compiledKernels).toBe(mode === 'cpu' || mode === 'webasm' ? 5 * 3 : 6 * 3 + 2);
    for (let i = 1; i < steps; i++) await run.step();
    expect(holdings(backend)).toEqual(afterFirst);
    await run.expectMatchesReference(1e-4, 1e-3);
    expect(run.optimizer.stepCount).toBe(steps);
    backend.dispose();
  }, 120_000);

  it('dispose() releases every kernel, texture and tensor, and the backend refuses further use', async () => {
    const backend = await createGpujsBackend({ mode });
    const run = new TwinRun(backend, { w: [3, 4], b: [4] }, { lr: 1e-3, gradClipNorm: 1 });
    await run.step();
    expect(backend.stats.compiledKernels).toBeGreaterThan(0);
    const w = run.params.w!;
    backend.dispose();
    expect(backend.stats).toMatchObject({ compiledKernels: 0, liveTensors: 0, residentBuffers: 0 });
    if (mode === 'webasm') {
      // webasm kernels leave gpu.js's list when destroyed (cpu kernels never enter teardown).
      expect(gpujsKernelCount(backend)).toBe(0);
    }
    expect(w.location).toBe('released');
    expect(backend.isTensor(w)).toBe(false);
    await expect(backend.read(w)).rejects.toMatchObject({ code: 'DISPOSED' });
    expect(() => backend.fromArray([1], [1])).toThrow(RectifyError);
    backend.dispose(); // twice is fine
    backend.disposeTensor(w); // and so is releasing a tensor afterwards
  });

  it('disposeTensor() releases one tensor, tolerates repeats, and refuses its later use', async () => {
    const backend = await createGpujsBackend({ mode });
    const run = new TwinRun(backend, { w: [3, 4] }, { lr: 1e-3 });
    await run.step();
    const live = backend.stats.liveTensors;
    const resident = backend.stats.residentBuffers;
    const extra = backend.fromArray([1, 2, 3], [3]);
    expect(backend.stats.liveTensors).toBe(live + 1);
    await backend.allFinite([extra]);
    backend.disposeTensor(extra);
    backend.disposeTensor(extra);
    expect(backend.stats).toMatchObject({ liveTensors: live, residentBuffers: resident });
    expect(extra.location).toBe('released');
    await expect(backend.sumOfSquares([extra])).rejects.toMatchObject({ code: 'DISPOSED' });
    backend.dispose();
  });

  it('disposeTensor() waits for queued operations that still read the tensor', async () => {
    const backend = await createGpujsBackend({ mode });
    const t = backend.fromArray([3, 4], [2]);
    const norm = backend.sumOfSquares([t]); // queued, not yet run
    backend.disposeTensor(t);
    expect(await norm).toBeCloseTo(25, 5);
    await backend.read(backend.fromArray([0], [1])); // drain the queue
    expect(t.location).toBe('released');
    backend.dispose();
  });
});

describe.each(NODE_MODES)('gpujs-%s: the event loop', (mode) => {
  it('keeps running while the backend computes (timers fire during a long run of steps)', async () => {
    const backend = await createGpujsBackend({ mode });
    const run = new TwinRun(backend, { w: [3, 4], b: [2 * REDUCTION_WIDTH + 1] }, { lr: 1e-3, gradClipNorm: 1 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      // Synchronous kernels (GL, cpu, webasm inline) resolve every promise at once: without
      // a yield now and then, the whole loop is one chain of microtasks and no timer fires.
      const start = Date.now();
      while (Date.now() - start < 200) await run.step();
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
    await run.expectMatchesReference(1e-4, 1e-3);
    backend.dispose();
  }, 60_000);
});
