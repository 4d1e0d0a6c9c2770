import { cpuBackend } from '@rectify/backend-cpu';
import { describeBackendConformance } from '@rectify/conformance/vitest';
import { onnxBackend } from '../src/index.js';

describeBackendConformance('onnx', () => onnxBackend(), {
  referenceBackend: () => cpuBackend({ dtype: 'float64' }),
});
describeBackendConformance('onnx64', () => onnxBackend({ dtype: 'float64', intraOpNumThreads: 1 }), {
  referenceBackend: () => cpuBackend({ dtype: 'float32' }),
});
