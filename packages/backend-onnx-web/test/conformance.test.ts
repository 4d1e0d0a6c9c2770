import { cpuBackend } from '@rectify/backend-cpu';
import { describeBackendConformance } from '@rectify/conformance/vitest';
import { onnxWebBackend } from '../src/index.js';

// ONNX Runtime Web always runs in Node (WebAssembly, no native part, no GPU): nothing here
// is ever "unavailable", so RECTIFY_REQUIRE_ALL_BACKENDS has nothing to turn into a failure.
// Generous timeout: WebAssembly sessions are created per backend, and a 2-core machine
// shared with other packages' tests runs the 200-run properties slowly.
const timeout = 120_000;

describeBackendConformance('onnx-web', () => onnxWebBackend(), {
  referenceBackend: () => cpuBackend({ dtype: 'float64' }),
  timeout,
});
describeBackendConformance('onnx-web64', () => onnxWebBackend({ dtype: 'float64' }), {
  referenceBackend: () => cpuBackend({ dtype: 'float32' }),
  timeout,
});
