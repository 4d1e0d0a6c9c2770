import { describeBackendConformance } from '@rectify/conformance/vitest';
import { cpuBackend } from '@rectify/backend-cpu';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RAdamOptimizer, tfjsBackend } from '../src/index.js';
import { bothWays, maxExcess, mlp, regressionData } from './fixtures.js';
import { useTfjsBackend } from './helpers.js';

beforeAll(() => useTfjsBackend('wasm'));

describe('on the tfjs wasm backend', () => {
  it('the backend is synchronous and named tfjs-wasm', () => {
    expect(tf.getBackend()).toBe('wasm');
    const backend = tfjsBackend();
    expect(backend.name).toBe('tfjs-wasm');
    expect(backend.synchronous).toBe(true);
  });

  it('RAdamOptimizer.applyGradients equals core on the CPU backend, step by step', () => {
    const { trajectory } = bothWays({ lr: 0.02, betas: [0.8, 0.9], weightDecay: 0.01, gradClipNorm: 1 }, 10);
    trajectory.forEach(({ tfjs, cpu }, k) =>
      tfjs.forEach((values, i) =>
        expect(maxExcess(values, cpu[i]!, 2e-6, 1e-5), `step ${k + 1} tensor ${i}`).toBeLessThanOrEqual(0),
      ),
    );
  });

  it('an optimizer built while cpu was active steps on wasm after tf.setBackend', async () => {
    await tf.setBackend('cpu');
    const w = tf.variable(tf.tensor([0.5, -0.5, 1]));
    const optimizer = new RAdamOptimizer({ lr: 0.05, gradClipNorm: 1 });
    await useTfjsBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const g = tf.tensor([0.1, 0.2, -0.3]);
    optimizer.applyGradients({ [w.name]: g });
    // Step 1: p − lr·g (the norm 0.374 is below the clip).
    expect(maxExcess(w.dataSync(), [0.495, -0.51, 1.015], 1e-7, 1e-6)).toBeLessThanOrEqual(0);
    optimizer.dispose();
    tf.dispose([w, g]);
  });

  it('model.fit trains, leaking nothing per step', async () => {
    const { xs, ys } = regressionData(96);
    const model = mlp();
    const optimizer = new RAdamOptimizer({ lr: 0.02 });
    model.compile({ optimizer, loss: 'meanSquaredError' });
    const first = await model.fit(xs, ys, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
    const tensors = tf.memory().numTensors;
    const rest = await model.fit(xs, ys, { epochs: 40, batchSize: 16, shuffle: false, verbose: 0 });
    expect(tf.memory().numTensors).toBe(tensors);
    expect((rest.history['loss'] as number[]).at(-1)!).toBeLessThan((first.history['loss'] as number[])[0]! / 10);
    model.dispose();
    optimizer.dispose();
    tf.dispose([xs, ys]);
    // 240 steps of a model through tfjs-layers: generous for a loaded machine.
  }, 60_000);
});

describeBackendConformance('tfjs-wasm', () => tfjsBackend({ synchronous: true }), {
  referenceBackend: () => cpuBackend({ dtype: 'float64' }),
});
