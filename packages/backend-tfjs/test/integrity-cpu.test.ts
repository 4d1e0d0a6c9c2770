import { beforeAll } from 'vitest';
import { useTfjsBackend } from './helpers.js';
import { describeIntegrity } from './integrity-suite.js';

beforeAll(() => useTfjsBackend('cpu'));

// The default on cpu (the fused kernel), and what webgl and webgpu run, exercised on cpu:
// the op graph, with synchronous and asynchronous reads.
describeIntegrity('tfjs-cpu', { synchronous: true });
describeIntegrity('tfjs-cpu (op graph)', { synchronous: true, fusedKernel: false });
describeIntegrity('tfjs-cpu (op graph, async reads)', { synchronous: false, fusedKernel: false });
