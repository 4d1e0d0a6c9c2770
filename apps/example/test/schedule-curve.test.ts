import { describe, expect, it } from 'vitest';
import { scheduleCurve } from '../src/schedule-curve.js';

describe('scheduleCurve', () => {
  it('lists the rate at construction and after each step', () => {
    const curve = scheduleCurve({ scheduler: 'StepLR', args: { baseLr: 1, stepSize: 2, gamma: 0.5 } }, 5);
    expect(curve).toEqual([[1], [1], [0.5], [0.5], [0.25], [0.25]]);
  });
  it('feeds metrics to ReduceLROnPlateau', () => {
    const curve = scheduleCurve(
      { scheduler: 'ReduceLROnPlateau', args: { baseLr: 1, factor: 0.5, patience: 0 } },
      3,
      [1, 1, 1],
    );
    expect(curve.at(-1)![0]).toBeLessThan(1);
  });
});
