import { describe, expect, it, vi } from 'vitest';
import { gpujsBackend, type GpujsBackendStats } from '../src/index.js';
import { TwinRun } from './helpers/fixtures.js';

/** What changed in the counters between two snapshots. */
function delta(before: GpujsBackendStats, after: GpujsBackendStats): Record<string, number> {
  return {
    readbacks: after.readbacks - before.readbacks,
    uploads: after.uploads - before.uploads,
    kernelRuns: after.kernelRuns - before.kernelRuns,
  };
}

const STEPS = 5;

// Transfers are counted identically on every mode (see GpujsBackendStats), so cpu and
// webasm measure what a GPU mode would move across the bus.
describe.each(['cpu', 'webasm'] as const)('gpujs-%s: transfers per step', (mode) => {
  it("reads back once per step without norm clipping: the finiteness flag (nonFinite 'error' included)", async () => {
    const backend = gpujsBackend({ mode });
    const allFinite = vi.spyOn(backend, 'allFinite');
    const run = new TwinRun(backend, { w: [3, 4], b: [4] }, { lr: 0.01, weightDecay: 0.01 });
    await run.step(); // first step: parameters and moments are uploaded once
    const before = backend.stats;
    for (let i = 0; i < STEPS; i++) await run.step();
    // Core checks finiteness every step under the default policy...
    expect(allFinite).toHaveBeenCalledTimes(STEPS + 1);
    // ...and the answer comes from the gradients' host data: no device read. The one
    // readback is the update's finiteness flag (one count accumulator for all tensors).
    expect(delta(before, backend.stats)).toEqual({
      readbacks: STEPS,
      uploads: 2 * STEPS, // each gradient, once
      kernelRuns: (3 + 1) * 2 * STEPS, // m, v, p kernels and the finiteness count per tensor
    });
    await run.expectMatchesReference();
    backend.dispose();
  });

  it('reads back twice per step with norm clipping, whatever the number of tensors', async () => {
    const backend = gpujsBackend({ mode });
    const allFinite = vi.spyOn(backend, 'allFinite');
    const run = new TwinRun(backend, { w: [3, 4], b: [4], c: [2, 5], d: [1] }, { lr: 0.01, gradClipNorm: 0.5 });
    await run.step();
    const before = backend.stats;
    for (let i = 0; i < STEPS; i++) await run.step();
    expect(delta(before, backend.stats)).toEqual({
      readbacks: 2 * STEPS, // the global norm's accumulator, then the finiteness flag's
      uploads: 4 * STEPS,
      kernelRuns: (3 + 1 + 1) * 4 * STEPS, // update kernels + two chained reductions per tensor
    });
    // A finite norm already proves the gradients finite: core skips allFinite.
    expect(allFinite).not.toHaveBeenCalled();
    await run.expectMatchesReference();
    backend.dispose();
  });

  it('reads back only what the user asks for: read() one, stateDict() two per parameter', async () => {
    const backend = gpujsBackend({ mode });
    const run = new TwinRun(backend, { w: [3, 4], b: [4] }, { lr: 0.01 });
    await run.step();
    let before = backend.stats;
    const w = await backend.read(run.params.w!);
    expect(w).toHaveLength(12);
    expect(delta(before, backend.stats).readbacks).toBe(1);
    before = backend.stats;
    const dict = await run.optimizer.stateDict();
    expect(Object.keys(dict.params)).toEqual(['w', 'b']);
    expect(delta(before, backend.stats).readbacks).toBe(4);
    backend.dispose();
  });

  it('host-staged tensors are read without a readback', async () => {
    const backend = gpujsBackend({ mode });
    const t = backend.fromArray([1, 2, 3], [3]);
    expect(t.location).toBe('host');
    expect(Array.from(await backend.read(t))).toEqual([1, 2, 3]);
    expect(backend.stats.readbacks).toBe(0);
    backend.dispose();
  });

  it('a tensor produced on the device is checked for finiteness by a kernel: one readback', async () => {
    const backend = gpujsBackend({ mode });
    const run = new TwinRun(backend, { w: [3, 4], b: [4] }, { lr: 0.01, nonFinite: 'propagate' });
    await run.step();
    const w = run.params.w!;
    const b = run.params.b!;
    expect(w.location).toBe('device');
    let before = backend.stats;
    expect(await backend.allFinite([w, b])).toBe(true);
    // The count accumulator was uploaded once, by the step's finiteness flag.
    expect(delta(before, backend.stats)).toEqual({ readbacks: 1, uploads: 0, kernelRuns: 2 });

    // Push a NaN and an Infinity into b through the device, then ask again.
    for (const bad of [NaN, Infinity]) {
      const g = backend.fromArray([0.1, bad, 0.2, 0.3], [4]);
      await run.optimizer.step({ b: g });
      backend.disposeTensor(g);
      expect(Array.from(await backend.read(b)).some((x) => !Number.isFinite(x))).toBe(true);
      before = backend.stats;
      expect(await backend.allFinite([w, b])).toBe(false);
      expect(delta(before, backend.stats).readbacks).toBe(1);
      expect(await backend.allFinite([w])).toBe(true);
    }
    backend.dispose();
  });
});
