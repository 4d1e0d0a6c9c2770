import { cpuBackend } from '@rectify/backend-cpu';
import { describeBackendConformance, describeUnavailable } from '@rectify/conformance/vitest';
import { nodeWebGpu, testBackend } from './helpers/node-webgpu.js';

// Golden replays at SPEC.md's float32 tolerance in Node on Dawn (SwiftShader where there
// is no GPU), state moved to and from the float64 CPU reference mid-run. Software GPUs are
// slow: few property runs, every golden case.
if (nodeWebGpu.unavailable === undefined) {
  describeBackendConformance('webgpu', () => testBackend(), {
    referenceBackend: () => cpuBackend({ dtype: 'float64' }),
    propertyRuns: 30,
    timeout: 120_000,
  });
} else {
  describeUnavailable('webgpu', nodeWebGpu.unavailable);
}
