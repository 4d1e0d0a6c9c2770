import { describeBackendConformance } from '@rectify/conformance/vitest';
import { cpuBackend } from '@rectify/backend-cpu';
import { beforeAll } from 'vitest';
import { tfjsBackend } from '../src/index.js';
import { useTfjsBackend } from './helpers.js';

beforeAll(() => useTfjsBackend('cpu'));

// The default on cpu: synchronous, each step one fused kernel call per tensor.
describeBackendConformance('tfjs-cpu', () => tfjsBackend({ synchronous: true }), {
  referenceBackend: () => cpuBackend({ dtype: 'float64' }),
});

// What webgl and webgpu run, exercised on cpu: the graph of stock tfjs ops instead of the
// fused kernel, and the asynchronous variant (every read through data(), step() a promise).
describeBackendConformance('tfjs-cpu (op graph, async reads)', () => tfjsBackend({ synchronous: false, fusedKernel: false }), {
  referenceBackend: () => cpuBackend({ dtype: 'float64' }),
});
