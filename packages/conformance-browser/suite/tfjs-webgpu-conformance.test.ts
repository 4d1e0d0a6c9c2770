/**
 * The whole conformance suite on `tfjsBackend({ synchronous: true })` (what
 * `RAdamOptimizer` runs) on tfjs-webgpu in Chromium, once its shared WGSL kernel is ready:
 * the synchronous path of `@rectify/backend-tfjs/src/webgpu-sync-path.ts`, every result
 * read with `dataSync()`. Without WebGPU it is skipped with the reason (a failure on CI).
 */
import { cpuBackend } from '@rectify/backend-cpu';
import { tfjsBackend } from '@rectify/backend-tfjs';
import { useWebGpuBackend } from '@rectify/backend-tfjs/webgpu';
import { describeBackendConformance, describeUnavailable } from '@rectify/conformance/vitest';
import { webGpuUnavailable } from './webgpu-device.js';

if (webGpuUnavailable === undefined) {
  await useWebGpuBackend();
  describeBackendConformance(
    'tfjs-webgpu, synchronous (Chromium)',
    async () => {
      const backend = tfjsBackend({ synchronous: true });
      if (!(await backend.ready())) throw new Error('the shared WGSL kernel did not set up on tfjs-webgpu');
      return backend;
    },
    { referenceBackend: () => cpuBackend({ dtype: 'float64' }), propertyRuns: 15, timeout: 120_000 },
  );
} else {
  describeUnavailable('tfjs-webgpu, synchronous (Chromium)', webGpuUnavailable);
}
