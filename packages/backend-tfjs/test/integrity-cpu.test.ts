import { beforeAll } from 'vitest';
import { tfjsBackend } from '../src/index.js';
import { useTfjsBackend } from './helpers.js';
import { describeIntegrity } from './integrity-suite.js';

beforeAll(() => useTfjsBackend('cpu'));

// The default on cpu (the fused kernel), and what webgl and webgpu run, exercised on cpu:
// the op graph, with synchronous and asynchronous reads.
describeIntegrity('tfjs-cpu', () => tfjsBackend({ synchronous: true }));
describeIntegrity('tfjs-cpu (op graph)', () => tfjsBackend({ synchronous: true, fusedKernel: false }));
describeIntegrity('tfjs-cpu (op graph, async reads)', () => tfjsBackend({ synchronous: false, fusedKernel: false }));
