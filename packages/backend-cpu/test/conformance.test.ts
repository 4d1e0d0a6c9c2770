import { describeBackendConformance } from '@rectify/conformance/vitest';
import { cpuBackend } from '../src/index.js';

describeBackendConformance('cpu64', () => cpuBackend({ dtype: 'float64' }), {
  referenceBackend: () => cpuBackend({ dtype: 'float32' }),
  propertyRuns: 1000,
});
describeBackendConformance('cpu', () => cpuBackend(), {
  referenceBackend: () => cpuBackend({ dtype: 'float64' }),
  propertyRuns: 1000,
});
