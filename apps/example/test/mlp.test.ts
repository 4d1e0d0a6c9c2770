import { describe, expect, it } from 'vitest';
import type { Dataset } from '../src/data/dataset.js';
import {
  accuracy,
  initialParams,
  lossAndGradients,
  meanLoss,
  paramSpecs,
  parameterCount,
  type Float64Params,
} from '../src/model/mlp.js';
import { gaussian, seededRandom } from '../src/random.js';

const model = { layers: [3, 5, 4, 3] };

function randomData(rows: number, seed: number): Dataset {
  const random = seededRandom(seed);
  return {
    x: Float64Array.from({ length: rows * 3 }, () => gaussian(random)),
    labels: Uint8Array.from({ length: rows }, () => Math.floor(random() * 3)),
    rows,
    features: 3,
    classes: 3,
  };
}

describe('the MLP', () => {
  it('names and shapes its parameters layer by layer', () => {
    expect(paramSpecs(model)).toEqual([
      { name: 'w1', shape: [3, 5] },
      { name: 'b1', shape: [5] },
      { name: 'w2', shape: [5, 4] },
      { name: 'b2', shape: [4] },
      { name: 'w3', shape: [4, 3] },
      { name: 'b3', shape: [3] },
    ]);
    expect(parameterCount({ layers: [4, 16, 3] })).toBe(4 * 16 + 16 + 16 * 3 + 3);
  });

  it('starts from seeded Glorot-uniform kernels and zero biases', () => {
    const a = initialParams(model, 7);
    expect(initialParams(model, 7)).toEqual(a);
    expect(initialParams(model, 8).w1).not.toEqual(a.w1);
    const limit = Math.sqrt(6 / (3 + 5));
    expect(Math.max(...a.w1!.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...a.w1!.map(Math.abs))).toBeGreaterThan(limit / 2);
    expect(Array.from(a.b2!)).toEqual([0, 0, 0, 0]);
  });

  it('has a loss of ln(classes) when every logit is equal', () => {
    const zeros = Object.fromEntries(paramSpecs(model).map(({ name, shape }) => [name, new Float64Array(shape.reduce((a, b) => a * b, 1))]));
    expect(meanLoss(model, zeros, randomData(10, 1))).toBeCloseTo(Math.log(3), 12);
  });

  it('has backpropagated gradients equal to central finite differences', () => {
    const data = randomData(12, 3);
    const params = initialParams(model, 11);
    params.b1 = Float64Array.from(params.b1!, (_, i) => 0.1 * (i - 2));
    const { loss, grads } = lossAndGradients(model, params, data);
    expect(loss).toBeCloseTo(meanLoss(model, params, data), 12);
    const h = 1e-6;
    for (const { name } of paramSpecs(model)) {
      const values = params[name]!;
      for (let i = 0; i < values.length; i++) {
        const shifted = (delta: number): Float64Params => ({ ...params, [name]: values.map((v, j) => (j === i ? v + delta : v)) });
        const numeric = (meanLoss(model, shifted(h), data) - meanLoss(model, shifted(-h), data)) / (2 * h);
        expect(grads[name]![i], `${name}[${i}]`).toBeCloseTo(numeric, 7);
      }
    }
  });

  it('counts a row as correct when its largest probability is its label', () => {
    // One layer, identity kernel: the logits are the inputs themselves.
    const linear = { layers: [2, 2] };
    const params = { w1: new Float64Array([1, 0, 0, 1]), b1: new Float64Array(2) };
    const data: Dataset = { x: new Float64Array([2, 1, 0, 3, 5, 4, 1, 0]), labels: new Uint8Array([0, 1, 1, 1]), rows: 4, features: 2, classes: 2 };
    expect(accuracy(linear, params, data)).toBe(0.5);
  });
});
