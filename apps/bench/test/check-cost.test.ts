import { RAdam } from '@rectify/core';
import { cpuBackend } from '@rectify/backend-cpu';
import { describe, expect, it } from 'vitest';
import { measureCheckCost } from '../src/check-cost.js';
import { fillPseudoRandom } from '../src/checkpoint-model.js';
import { measurePairedRatio } from '../src/measure.js';
import { createPairedWorkloads, type Workload } from '../src/workload.js';

/** A workload whose step advances a fake clock by `ms[i]` on its i-th call (the last value repeats). */
function fakeWorkload(clock: { now: number }, ms: readonly number[]): Workload & { calls: number } {
  const workload = {
    calls: 0,
    elements: 1,
    step: () => {
      clock.now += ms[Math.min(workload.calls, ms.length - 1)]!;
      workload.calls++;
    },
    dispose: () => undefined,
  };
  return workload;
}

describe('measurePairedRatio', () => {
  it('takes the median of the per-pair ratios, alternating the order, for at least minPairs pairs', async () => {
    const clock = { now: 0 };
    // first: 10 ms a step; second: 12, 11, 50 (an outlier the median ignores), 12, 13, 11, 12 ms.
    const first = fakeWorkload(clock, [10]);
    const second = fakeWorkload(clock, [12, 11, 50, 12, 13, 11, 12]);
    const result = await measurePairedRatio(first, second, 0, 7, () => clock.now);
    expect(result.pairs).toBe(7);
    // Ratios 1.2, 1.1, 5, 1.2, 1.3, 1.1, 1.2 → sorted 1.1, 1.1, 1.2, 1.2, 1.2, 1.3, 5: median 1.2.
    expect(result.ratio).toBeCloseTo(1.2, 12);
    expect(first.calls).toBe(7);
    expect(second.calls).toBe(7);
  });

  it('keeps pairing until the time is spent, and averages the middle two of an even count', async () => {
    const clock = { now: 0 };
    const result = await measurePairedRatio(fakeWorkload(clock, [4]), fakeWorkload(clock, [5, 6, 7, 8]), 42, 1, () => clock.now);
    // Pairs of 9, 10, 11, 12 ms reach the 42 ms deadline after four: ratios 1.25, 1.5, 1.75, 2.
    expect(result.pairs).toBe(4);
    expect(result.ratio).toBeCloseTo(1.625, 12);
  });
});

describe('createPairedWorkloads', () => {
  it('steps the same parameters with two optimizers, each with its own moments', async () => {
    const sizes = [5, 3];
    const backend = cpuBackend();
    // Records the tensors the workloads make (parameter, gradient, per tensor, in order).
    const made: Float32Array[] = [];
    const recording = new Proxy(backend, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (key === 'fromArray') {
          return (values: Float32Array, shape: readonly number[]) => {
            const tensor = target.fromArray(values, shape);
            made.push(tensor);
            return tensor;
          };
        }
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const [a, b] = await createPairedWorkloads(recording, sizes, { nonFinite: 'propagate', warmupSteps: 6 }, { nonFinite: 'error', warmupSteps: 6 });
    await a.step();
    await b.step();
    expect(a.elements).toBe(8);
    expect(made).toHaveLength(4);
    // Independently: the same seeds, two RAdam instances on one set of parameters, taking
    // the same steps in the same order (a's six warm-up steps, b's six, then a, b).
    const params = Object.fromEntries(sizes.map((size, t) => [`w${t}`, fillPseudoRandom(new Float32Array(size), 2 * t + 1)]));
    const grads = Object.fromEntries(sizes.map((size, t) => [`w${t}`, fillPseudoRandom(new Float32Array(size), 2 * t + 2)]));
    const reference = cpuBackend();
    const one = new RAdam(reference, { lr: 1e-3, nonFinite: 'propagate' });
    const two = new RAdam(reference, { lr: 1e-3, nonFinite: 'error' });
    one.registerTrainableWeights(params);
    two.registerTrainableWeights(params);
    for (const optimizer of [...Array(6).fill(one), ...Array(6).fill(two), one, two]) optimizer.step(grads);
    expect(Array.from(made[0]!)).toEqual(Array.from(params.w0!));
    expect(Array.from(made[2]!)).toEqual(Array.from(params.w1!));
    // Past step 5 the update depends on the step count (rectification): one optimizer
    // taking all 14 steps would have moved the parameters elsewhere.
    const single = fillPseudoRandom(new Float32Array(5), 1);
    const alone = new RAdam(cpuBackend(), { lr: 1e-3 });
    alone.registerTrainableWeights({ w0: single });
    for (let i = 0; i < 14; i++) alone.step({ w0: grads.w0! });
    expect(Array.from(made[0]!)).not.toEqual(Array.from(single));
    b.dispose();
    a.dispose();
  });
});

describe('measureCheckCost', () => {
  it('pairs both configurations on cpu-wasm and reports positive ratios', async () => {
    const cost = await measureCheckCost([1000, 24, 7], 1);
    for (const ratio of [cost.check, cost.checkWithClip]) {
      expect(ratio.pairs).toBeGreaterThanOrEqual(7);
      expect(ratio.ratio).toBeGreaterThan(0);
      expect(Number.isFinite(ratio.ratio)).toBe(true);
    }
  });
});
