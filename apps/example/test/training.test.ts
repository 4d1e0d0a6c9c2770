import { cpuBackend } from '@rectify/backend-cpu';
import { describe, expect, it } from 'vitest';
import { initialParams, lossAndGradients, parameterCount, type Float64Params } from '../src/model/mlp.js';
import { compareWithAdam } from '../src/training/adam-comparison.js';
import { backendStatuses } from '../src/training/backends.js';
import { measuringUpdates, recordingGradients, replayedGradients } from '../src/training/gradient-stream.js';
import { backendRun, referenceRun } from '../src/training/experiment.js';
import { irisTask } from '../src/training/tasks.js';
import { maxParamDifference, trainRun } from '../src/training/train-run.js';

const task = irisTask(42);

describe('a training run', () => {
  it('applies RAdam to the gradients of its own parameters and records loss and rates', async () => {
    const initial = initialParams(task.model, 1);
    const recording: Float64Params[] = [];
    const result = await trainRun(cpuBackend({ dtype: 'float64' }), task, {
      steps: 3,
      optimizer: { lr: { scheduler: 'StepLR', args: { baseLr: 0.1, stepSize: 1, gamma: 0.5 } } },
      initial,
      gradients: recordingGradients(task.model, task.train, recording),
    });
    expect(result.backend).toBe('cpu64');
    expect(result.lrs).toEqual([0.1, 0.05, 0.025]);
    expect(result.losses).toHaveLength(4);
    expect(result.losses[0]).toBeCloseTo(lossAndGradients(task.model, initial, task.train).loss, 12);
    // Steps 1–3 are not rectified (ρt < 5): p ← p − lr · m / (1 − β1^t), by hand.
    const m = new Float64Array(initial.b2!.length);
    const expected = Float64Array.from(initial.b2!);
    recording.forEach((grads, i) => {
      const t = i + 1;
      grads.b2!.forEach((g, j) => {
        m[j] = 0.9 * m[j]! + 0.1 * g;
        expected[j]! -= result.lrs[i]! * (m[j]! / (1 - 0.9 ** t));
      });
    });
    expect(Array.from(result.finalParams.b2!)).toEqual(Array.from(expected).map((x) => expect.closeTo(x, 14)));
  });

  it('fed a replayed stream on cpu64, repeats the recorded run exactly', async () => {
    const options = { steps: 40, optimizer: { lr: 0.05 }, seed: 3, gradients: 'reference' as const };
    const reference = await referenceRun(task, options);
    expect(reference.recording).toHaveLength(40);
    const [cpu64, cpu] = await backendStatuses(['cpu64', 'cpu']).then((s) => [s.find((x) => x.entry.name === 'cpu64')!, s.find((x) => x.entry.name === 'cpu')!]);
    const same = await backendRun(cpu64!, reference, options);
    expect(same.status).toBe('trained');
    if (same.status !== 'trained') return;
    expect(same.maxParamDiff).toBe(0);
    expect(same.result.losses).toEqual(reference.result.losses);
    const float32 = await backendRun(cpu!, reference, options);
    if (float32.status !== 'trained') throw new Error(float32.reason);
    expect(float32.maxParamDiff).toBeGreaterThan(0);
    expect(float32.maxParamDiff).toBeLessThan(1e-5);
  });

  it('reports a backend that cannot run as skipped, and one that throws as failed', async () => {
    const options = { steps: 2, optimizer: { lr: 0.05 }, seed: 3, gradients: 'own' as const };
    const reference = await referenceRun(task, options);
    const [status] = await backendStatuses(['cpu']);
    expect(await backendRun({ ...status!, unavailable: 'no such device' }, reference, options)).toEqual({
      backend: 'cpu',
      status: 'skipped',
      reason: 'no such device',
    });
    const broken = { ...status!.entry, create: async () => Promise.reject(new Error('driver crashed')) };
    expect(await backendRun({ entry: broken, unavailable: undefined }, reference, options)).toEqual({
      backend: 'cpu',
      status: 'failed',
      reason: 'driver crashed',
    });
  });

  it('rejects unknown backend names, listing the known ones', async () => {
    await expect(backendStatuses(['cpu', 'tpu'])).rejects.toThrow(/Unknown backend "tpu"; known: cpu, cpu64/);
  });
});

describe('gradient streams', () => {
  const params = initialParams(task.model, 5);

  it('replays recorded gradients whatever the parameters, with their own loss', () => {
    const recorded = lossAndGradients(task.model, params, task.train).grads;
    const other = initialParams(task.model, 6);
    const step = replayedGradients(task.model, task.train, [recorded]).next(0, other);
    expect(step.grads).toBe(recorded);
    expect(step.loss).toBeCloseTo(lossAndGradients(task.model, other, task.train).loss, 12);
    expect(() => replayedGradients(task.model, task.train, [recorded]).next(1, other)).toThrow(/no step 2/);
  });

  it('measures the distance between consecutive parameter sets', () => {
    const norms: number[] = [];
    const seen: number[] = [];
    const stream = measuringUpdates({ next: (step) => (seen.push(step), { loss: step, grads: {} }) }, norms);
    stream.next(0, { a: [0, 0], b: [1] });
    expect(stream.next(1, { a: [3, 0], b: [5] }).loss).toBe(1);
    stream.next(2, { a: [3, 0], b: [5] });
    expect(norms).toEqual([5, 0]);
    expect(seen).toEqual([0, 1, 2]);
  });

  it('measures the largest parameter difference', () => {
    expect(maxParamDifference({ a: [1, 2], b: [3] }, { a: [1, 2.5], b: [2.75] })).toBe(0.5);
    expect(maxParamDifference({ a: [1, 2] }, { a: [1] })).toBe(Infinity);
  });
});

describe('RAdam against tfjs Adam', () => {
  it('shows the warm-up: Adam moves every weight by about lr on step 1, RAdam by lr · gradient', async () => {
    const lr = 0.1;
    const [radam, adam] = await compareWithAdam(task, { steps: 8, lr, seed: 42 });
    const g = lossAndGradients(task.model, initialParams(task.model, 42), task.train).grads;
    const gradNorm = Math.sqrt(Object.values(g).reduce((sum, v) => sum + v.reduce((s, x) => s + x * x, 0), 0));
    // RAdam's first step is unrectified: Δθ = −lr · m̂ = −lr · g.
    expect(radam!.updateNorms[0]).toBeCloseTo(lr * gradNorm, 6);
    // Adam's first step: Δθ = −lr · g / (|g| + ε), ±lr per weight with a non-zero gradient.
    const nonZero = Object.values(g).reduce((n, v) => n + v.filter((x) => Math.abs(x) > 1e-6).length, 0);
    expect(nonZero).toBeGreaterThan(parameterCount(task.model) / 2);
    expect(adam!.updateNorms[0]).toBeCloseTo(lr * Math.sqrt(nonZero), 2);
    expect(adam!.updateNorms[0]! / radam!.updateNorms[0]!).toBeGreaterThan(5);
    expect(radam!.losses).toHaveLength(9);
    expect(adam!.losses).toHaveLength(9);
    // Same initial weights (tfjs holds them in float32).
    expect(adam!.losses[0]).toBeCloseTo(radam!.losses[0]!, 6);
  });
});
