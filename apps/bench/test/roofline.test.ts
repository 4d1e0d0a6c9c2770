import { describe, expect, it } from 'vitest';
import { BYTES_PER_ELEMENT, CACHE_BYTES, regimeOf, rooflineFraction, rooflinePoint, type Roofline } from '../src/roofline.js';

const roofline: Roofline = {
  cache: rooflinePoint('cache', 1e6, 2, 0.5e-3), // 2e9 elements/s
  dram: rooflinePoint('dram', 1e8, 2, 0.1), // 1e9 elements/s
  unavailable: undefined,
};

describe('roofline', () => {
  it('turns a timed pass into elements/s and 28 B per element of traffic', () => {
    expect(BYTES_PER_ELEMENT).toBe(28);
    expect(roofline.dram).toEqual({ regime: 'dram', elements: 1e8, threads: 2, elementsPerSecond: 1e9, bytesPerSecond: 28e9 });
    expect(roofline.cache!.bytesPerSecond).toBeCloseTo(56e9, 0);
  });

  it('holds a step to the cache roofline while 28 B per element fit the cache, to the DRAM one beyond', () => {
    expect(CACHE_BYTES).toBe(100e6);
    expect(regimeOf(1e6)).toBe('cache');
    expect(regimeOf(Math.floor(100e6 / 28))).toBe('cache');
    expect(regimeOf(Math.floor(100e6 / 28) + 1)).toBe('dram');
    expect(regimeOf(1e7)).toBe('dram');
    expect(regimeOf(124_439_808)).toBe('dram');
  });

  it('gives the fraction of the regime’s roofline, halved elements for float64, none when not measured', () => {
    expect(rooflineFraction(roofline, 1e6, 1e9)).toEqual({ fraction: 0.5, regime: 'cache' });
    expect(rooflineFraction(roofline, 1e7, 0.9e9)!.fraction).toBeCloseTo(0.9, 12);
    expect(rooflineFraction(roofline, 1e7, 0.45e9, 56)!.fraction).toBeCloseTo(0.9, 12);
    expect(rooflineFraction({ ...roofline, dram: undefined }, 1e7, 1e9)).toBeUndefined();
  });
});
