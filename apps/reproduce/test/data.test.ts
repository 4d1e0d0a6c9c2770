import { describe, expect, it } from 'vitest';
import { RectifyError } from '@rectify/core';
import { loadDigits, stratifiedSplit } from '../src/data.js';

// Images per digit in the mnist package 1.1.0, counted from its JSON files.
const PER_DIGIT = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

describe('loadDigits', () => {
  const full = loadDigits(1);
  const pooled = loadDigits(2);

  it('has every digit the package ships, with its label', () => {
    expect(full.labels.length).toBe(10_000);
    expect(full.side).toBe(28);
    expect(full.pixels.length).toBe(10_000 * 784);
    const counts = Array.from({ length: 10 }, (_, d) => full.labels.filter((l) => l === d).length);
    expect(counts).toEqual(PER_DIGIT);
  });

  it('average-pools 2×2 blocks: each pooled pixel is the mean of its four sources', () => {
    expect(pooled.side).toBe(14);
    for (const image of [0, 4321, 9999]) {
      for (const [r, c] of [[5, 7], [10, 3], [13, 13]] as const) {
        const src = (rr: number, cc: number): number => full.pixels[image * 784 + rr * 28 + cc]!;
        const expected = (src(2 * r, 2 * c) + src(2 * r + 1, 2 * c) + src(2 * r, 2 * c + 1) + src(2 * r + 1, 2 * c + 1)) / 4;
        expect(pooled.pixels[image * 196 + r * 14 + c]).toBeCloseTo(expected, 6);
      }
    }
  });
});

describe('stratifiedSplit', () => {
  const { labels } = loadDigits(2);
  const split = stratifiedSplit(labels, 0.2, 2020);

  it('holds out round(20%) of every class and keeps the rest for training', () => {
    PER_DIGIT.forEach((count, digit) => {
      expect(split.test.filter((i) => labels[i] === digit).length).toBe(Math.round(count * 0.2));
      expect(split.train.filter((i) => labels[i] === digit).length).toBe(count - Math.round(count * 0.2));
    });
  });

  it('is a partition of the indices', () => {
    const all = [...split.train, ...split.test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: labels.length }, (_, i) => i));
  });

  it('is deterministic in its seed and changes with it', () => {
    expect(stratifiedSplit(labels, 0.2, 2020)).toEqual(split);
    expect(stratifiedSplit(labels, 0.2, 2021).test).not.toEqual(split.test);
  });

  it('refuses a fraction outside (0, 1) with a typed error naming it', () => {
    for (const bad of [0, 1, -0.1, Number.NaN]) {
      expect(() => stratifiedSplit(labels, bad, 0)).toThrow(RectifyError);
      try {
        stratifiedSplit(labels, bad, 0);
      } catch (error) {
        expect((error as RectifyError).code).toBe('INVALID_OPTION');
        expect((error as RectifyError).parameter).toBe('testFraction');
      }
    }
  });
});
