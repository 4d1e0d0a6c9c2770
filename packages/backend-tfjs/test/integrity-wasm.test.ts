import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect } from 'vitest';
import { useTfjsBackend } from './helpers.js';
import { describeIntegrity } from './integrity-suite.js';

beforeAll(async () => {
  await useTfjsBackend('wasm');
  expect(tf.getBackend()).toBe('wasm');
});

describeIntegrity('tfjs-wasm', { synchronous: true });
describeIntegrity('tfjs-wasm (async reads)', { synchronous: false });
