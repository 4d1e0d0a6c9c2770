import { backendEntries } from '@rectify/all-backends';
import { runSoak } from '@rectify/conformance';
import { describe, expect, it } from 'vitest';

// The reduced long run CI does on every backend (the bench runs `pnpm soak` with 10 000 steps);
// shorter on GPU backends, which run on software GPUs on CI (about 80 ms a step).
const STEPS = 1_000;
const GPU_STEPS = 200;

for (const entry of backendEntries) {
  const reason = await entry.unavailableReason();
  const steps = entry.requiresGpu ? GPU_STEPS : STEPS;
  describe.skipIf(reason !== undefined)(`${entry.name}: ${steps}-step run${reason ? ` (skipped: ${reason})` : ''}`, () => {
    it('holds no more resources at the end than after step 1, and releases them on dispose', { timeout: 120_000 }, async () => {
      const result = await runSoak(entry.create, { steps, size: 5_000, tensors: 3 });
      expect(result.resources.atEnd).toEqual(result.resources.afterFirstStep);
      expect(result.resources.afterDispose).toEqual(result.resources.beforeOptimizer);
      // The heap is measured after gc() (see vitest.config.ts): 1 MiB over 1000 steps catches a 1 KB-per-step leak.
      expect(result.heapGrowthBytes).toBeLessThan(2 ** 20);
      expect(result.rssGrowthBytes).toBeLessThan(64 * 2 ** 20);
    });
  });
}
