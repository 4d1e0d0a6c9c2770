import { describe, expect, it } from 'vitest';
import { rectification } from '@rectify/core';
import * as tf from '@tensorflow/tfjs';
import type { ProgressDisplay } from '@rectify/example/dist/report/progress.js';
import { BETA1, BETA2, batchOrder, buildModel, OPTIMIZERS, type RunResult } from '../src/experiment.js';
import { QUICK, runGrid } from '../src/grid.js';
import { markdownTable, toJson } from '../src/report.js';

/** First step with ρt >= 5, searched independently of the grid's code. */
function firstRectifiedStep(): number {
  let t = 1;
  while (rectification(BETA1, BETA2, t).rhoT < 5) t++;
  return t;
}

const silent: ProgressDisplay = { track: () => () => undefined, log: () => undefined, stop: () => undefined };

describe('same start per seed', () => {
  it('builds identical initial weights for a seed and different ones for another', async () => {
    await tf.setBackend('cpu');
    const weights = (seed: number): number[][] => {
      const model = buildModel(196, 8, seed);
      const values = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.dispose();
      return values;
    };
    expect(weights(3)).toEqual(weights(3));
    expect(weights(3)[0]).not.toEqual(weights(4)[0]);
  });

  it('feeds every optimizer of a seed the same minibatches', () => {
    const train = Array.from({ length: 100 }, (_, i) => i);
    const shape = { hidden: 8, batchSize: 30, steps: 7 };
    const order = batchOrder(train, shape, 1);
    expect(order.length).toBe(210);
    expect(batchOrder(train, shape, 1)).toEqual(order);
    // Each epoch is a permutation of the training split.
    expect([...order.slice(0, 100)].sort((a, b) => a - b)).toEqual(train);
    expect(batchOrder(train, shape, 2)).not.toEqual(order);
  });
});

describe('toJson', () => {
  it('keeps exactly optimizer, lr, seed, testAccuracy and finalLoss', () => {
    const run: RunResult = { optimizer: 'adam-warmup', lr: 0.01, seed: 2, testAccuracy: 0.5, finalLoss: 1.25, losses: [2, 1.25], ms: 10 };
    const json = JSON.parse(JSON.stringify(toJson([run]))) as unknown;
    expect(json).toEqual({ runs: [{ optimizer: 'adam-warmup', lr: 0.01, seed: 2, testAccuracy: 0.5, finalLoss: 1.25 }] });
  });
});

describe('--quick', () => {
  it('trains every optimizer at both rates; RAdam reaches 90% test accuracy; every number is finite', { timeout: 300_000 }, async () => {
    const result = await runGrid(QUICK, silent);
    const { runs } = toJson(result.runs);
    expect(runs.length).toBe(QUICK.lrs.length * OPTIMIZERS.length);
    for (const optimizer of OPTIMIZERS) {
      expect(runs.filter((r) => r.optimizer === optimizer).map((r) => r.lr)).toEqual(QUICK.lrs);
    }
    for (const run of result.runs) {
      expect(Number.isFinite(run.testAccuracy) && Number.isFinite(run.finalLoss)).toBe(true);
      expect(run.losses.length).toBe(QUICK.shape.steps);
      expect(run.losses.every(Number.isFinite)).toBe(true);
      expect(run.testAccuracy).toBeGreaterThan(0.1); // better than chance: it learnt
    }
    const radamBest = Math.max(...runs.filter((r) => r.optimizer === 'radam').map((r) => r.testAccuracy));
    expect(radamBest).toBeGreaterThanOrEqual(0.9);
    const adam = result.adaptiveRate.filter((p) => p.rate === 'adam');
    expect(adam.map((p) => p.step)).toEqual(Array.from({ length: QUICK.traceSteps }, (_, i) => i + 1));
    expect(result.adaptiveRate.every((p) => Number.isFinite(p.variance) && p.variance > 0)).toBe(true);
    // The paper's point: the adaptive rate varies far more at the start than later on.
    expect(adam[1]!.variance).toBeGreaterThan(10 * adam.at(-1)!.variance);
    // RAdam has no adaptive rate until ρt >= 5 (β2 = 0.99: step 6), then r_t·ψ_t.
    expect(result.adaptiveRate.find((p) => p.rate === 'radam')?.step).toBe(firstRectifiedStep());
    expect(markdownTable(result.runs).split('\n')[0]).toBe('| optimizer | lr 0.003 | lr 0.03 |');
  });
});
