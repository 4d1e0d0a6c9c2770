/**
 * The whole conformance suite for `webgpu` in Chromium, on `navigator.gpu` (SwiftShader
 * on a machine without a GPU): the same `describeBackendConformance` call, with the same
 * options, as `packages/backend-webgpu/test/conformance.test.ts` makes in Node on Dawn.
 * Without an adapter it is skipped with the reason off CI, and fails on CI.
 */
import { cpuBackend } from '@rectify/backend-cpu';
import { describeBackendConformance, describeUnavailable } from '@rectify/conformance/vitest';
import { pageWebGpuBackend, webGpuUnavailable } from './webgpu-device.js';

if (webGpuUnavailable === undefined) {
  describeBackendConformance('webgpu (Chromium)', () => pageWebGpuBackend(), {
    referenceBackend: () => cpuBackend({ dtype: 'float64' }),
    propertyRuns: 30,
    timeout: 120_000,
  });
} else {
  describeUnavailable('webgpu (Chromium)', webGpuUnavailable);
}
