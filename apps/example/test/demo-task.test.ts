import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { regressionTask } from '../src/linear-regression.js';

describe('the demo task', () => {
  it('has gradients that match finite differences', () => {
    const task = regressionTask(3, 20, 7);
    const w = [0.1, -0.2, 0.3];
    const b = [0.05];
    const gw = new Float32Array(3);
    const gb = new Float32Array(1);
    task.gradients(w, b, gw, gb);
    const h = 1e-6;
    for (let i = 0; i < 3; i++) {
      const plus = [...w];
      const minus = [...w];
      plus[i]! += h;
      minus[i]! -= h;
      expect(gw[i]).toBeCloseTo((task.loss(plus, b) - task.loss(minus, b)) / (2 * h), 3);
    }
    expect(gb[0]).toBeCloseTo((task.loss(w, [0.05 + h]) - task.loss(w, [0.05 - h])) / (2 * h), 3);
  });

  it('is learnt by RAdam: the loss falls by orders of magnitude', () => {
    const task = regressionTask(4, 64, 1);
    const w = new Float32Array(4);
    const b = new Float32Array(1);
    const gw = new Float32Array(4);
    const gb = new Float32Array(1);
    const opt = new RAdam(cpuBackend(), { lr: 0.1 });
    opt.registerTrainableWeights({ w, b });
    const start = task.loss(w, b);
    for (let i = 0; i < 300; i++) {
      task.gradients(w, b, gw, gb);
      opt.step({ w: gw, b: gb });
    }
    expect(task.loss(w, b)).toBeLessThan(start / 100);
  });
});
