import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect } from 'vitest';
import { tfjsBackend } from '../src/index.js';
import { useTfjsBackend } from './helpers.js';
import { describeIntegrity } from './integrity-suite.js';

beforeAll(async () => {
  await useTfjsBackend('wasm');
  expect(tf.getBackend()).toBe('wasm');
});

describeIntegrity('tfjs-wasm', () => tfjsBackend({ synchronous: true }));
describeIntegrity('tfjs-wasm (async reads)', () => tfjsBackend({ synchronous: false }));
