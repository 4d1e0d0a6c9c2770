import { describe, expect, it } from 'vitest';
import { resultTable } from '../src/report/table.js';
import type { ExperimentResult } from '../src/training/experiment.js';
import type { TrainRunResult } from '../src/training/train-run.js';
import { irisTask } from '../src/training/tasks.js';

const run = (dtype: string): TrainRunResult => ({
  backend: 'x',
  dtype,
  losses: [1, 0.5],
  lrs: [0.1],
  finalParams: {},
  finalLoss: 0.04123,
  trainAccuracy: 0.99166,
  testAccuracy: 0.96666,
  stepsPerSecond: 12345.6,
});

describe('the result table', () => {
  it('has a row per backend with its numbers, and says why one was skipped or failed', () => {
    const experiment: ExperimentResult = {
      task: irisTask(1),
      reference: run('float64'),
      outcomes: [
        { backend: 'cpu', status: 'trained', result: run('float32'), maxParamDiff: 1.234e-6 },
        { backend: 'cpu64', status: 'trained', result: run('float64'), maxParamDiff: 0 },
        { backend: 'gpujs-webgl', status: 'skipped', reason: 'no WebGL here' },
        { backend: 'onnx', status: 'failed', reason: 'session crashed' },
      ],
    };
    const lines = resultTable(experiment).split('\n');
    const cells = (backend: string): string[] =>
      lines.find((l) => l.startsWith(`│ ${backend} `))!.split('│').map((c) => c.trim()).filter((c) => c !== '');
    expect(cells('backend')).toEqual(['backend', 'dtype', 'final loss', 'train acc', 'test acc', 'steps/s', 'max |Δθ| vs cpu64']);
    expect(cells('cpu')).toEqual(['cpu', 'float32', '0.0412', '0.992', '0.967', '12,346', '1.23e-6']);
    expect(cells('cpu64').at(-1)).toBe('0');
    expect(cells('gpujs-webgl')).toEqual(['gpujs-webgl', 'skipped: no WebGL here']);
    expect(cells('onnx')).toEqual(['onnx', 'failed: session crashed']);
  });
});
