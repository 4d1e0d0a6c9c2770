/**
 * The soak `packages/backend-webgpu/test/backend.test.ts` runs in Node, in Chromium: the
 * backend's resource counts stay flat over 300 steps and return to the baseline after
 * `dispose()`, on the page's `navigator.gpu`. The check itself is the Node test's.
 */
import { describeUnavailable } from '@rectify/conformance/vitest';
import { describe, it } from 'vitest';
import { SOAK_TIMEOUT, expectFlatResourcesOverSoak } from '../../backend-webgpu/test/helpers/soak.js';
import { pageWebGpuBackend, webGpuUnavailable } from './webgpu-device.js';

if (webGpuUnavailable === undefined) {
  describe('webgpu (Chromium): memory', () => {
    it('resource counts stay flat over a soak and return to the baseline after the optimizer is disposed', async () => {
      await expectFlatResourcesOverSoak(() => pageWebGpuBackend());
    }, SOAK_TIMEOUT);
  });
} else {
  describeUnavailable('webgpu (Chromium): memory', webGpuUnavailable);
}
