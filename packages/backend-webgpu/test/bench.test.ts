import { describe, expect, it } from 'vitest';
import { UPDATE_BYTES_PER_ELEMENT, benchWebGpuSteps, measureCopyBandwidth } from '../src/bench.js';
import { nodeWebGpu, sharedDevice, testBackend } from './helpers/node-webgpu.js';

const gpu = nodeWebGpu.unavailable === undefined ? describe : describe.skip;

gpu('webgpu: bench helpers', () => {
  it('benchWebGpuSteps counts one update dispatch per step for 300 tensors (plus the norm\'s two) and releases its tensors', async () => {
    const backend = await testBackend();
    const before = backend.resourceCounts().tensors;
    const row = await benchWebGpuSteps(backend, { tensors: 300, size: 100, steps: 4, clip: true });
    expect(row).toMatchObject({ tensors: 300, size: 100, steps: 4, updateDispatchesPerStep: 1, dispatchesPerStep: 3, readbacksPerStep: 2 });
    expect(row.bytesPerSecond).toBeCloseTo(row.elementsPerSecond * UPDATE_BYTES_PER_ELEMENT);
    expect(row.elementsPerSecond).toBeCloseTo((300 * 100 * 4) / row.seconds);
    expect(backend.resourceCounts().tensors).toBe(before);
    backend.dispose();
  }, 60_000);

  it('measureCopyBandwidth reports a positive rate', async () => {
    const { bytesPerSecond } = await measureCopyBandwidth(await sharedDevice(), 1 << 20, 4);
    expect(bytesPerSecond).toBeGreaterThan(0);
  });
});
