/**
 * The webgpu soak check, written once for both places it runs: `backend.test.ts` in Node
 * (Dawn) and `packages/conformance-browser/suite/webgpu-soak.test.ts` in Chromium.
 */
import { runSoak, type BackendFactory } from '@rectify/conformance/portable';
import { expect } from 'vitest';

/** The check's time limit: 300 steps on a software GPU. */
export const SOAK_TIMEOUT = 300_000;

/**
 * Runs a 300-step soak on a backend of `createBackend` and asserts its resource counts stay
 * flat after step 1 and return to the baseline once the optimizer is disposed: 4 parameter
 * tensors with a gradient and two moments each (16), in one page of the arena.
 */
export async function expectFlatResourcesOverSoak(createBackend: BackendFactory): Promise<void> {
  const result = await runSoak(createBackend, { steps: 300, size: 5000, tensors: 4, warmupSteps: 20 });
  const { beforeOptimizer, afterFirstStep, atEnd, afterDispose } = result.resources;
  expect(atEnd).toEqual(afterFirstStep);
  expect(afterDispose).toEqual(beforeOptimizer);
  expect(afterFirstStep).toMatchObject({ tensors: 16, pages: 1 });
}
