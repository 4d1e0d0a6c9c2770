import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundledGoldenPath, loadGoldenFile, radamGoldenCases, schedulerGoldenCases } from '../src/golden-files.js';
import { firstMismatch, toleranceFor } from '../src/tolerance.js';

const shared = (name: string): string => fileURLToPath(new URL(`../../../../shared/conformance/${name}`, import.meta.url));

describe('bundled golden files', () => {
  for (const name of ['radam.json', 'schedulers.json'] as const) {
    it.runIf(existsSync(shared(name)))(`${name} is byte-identical to ../shared (expected values are never edited)`, () => {
      // Buffer.equals, not toEqual: a deep comparison of 270 KB byte by byte takes seconds.
      const bundled = readFileSync(bundledGoldenPath(name));
      const original = readFileSync(shared(name));
      expect(bundled.length).toBe(original.length);
      expect(bundled.equals(original), `${name} differs from ../shared/conformance/${name}`).toBe(true);
    });
  }

  it('parse into RAdam and scheduler cases', () => {
    expect(radamGoldenCases().length).toBeGreaterThanOrEqual(10);
    expect(schedulerGoldenCases().length).toBeGreaterThanOrEqual(17);
    expect(() => loadGoldenFile(bundledGoldenPath('radam.json').replace('radam', 'missing'))).toThrow();
  });
});

describe('firstMismatch', () => {
  it('applies SPEC.md tolerances', () => {
    expect(firstMismatch([1 + 5e-10], [1], toleranceFor('float64'))).toBeUndefined();
    expect(firstMismatch([1 + 2e-9], [1], toleranceFor('float64'))).toEqual({ index: 0, actual: 1 + 2e-9, expected: 1 });
    // float32: atol 2e-5 + rtol 1e-4 · |expected|.
    expect(firstMismatch([10.001], [10], toleranceFor('float32'))).toBeUndefined();
    expect(firstMismatch([10.00105], [10], toleranceFor('float32'))?.index).toBe(0);
  });
  it('treats a length difference and NaN as mismatches', () => {
    expect(firstMismatch([1, 2], [1], toleranceFor('float32'))?.index).toBe(1);
    expect(firstMismatch([NaN], [1], toleranceFor('float32'))?.index).toBe(0);
    expect(firstMismatch([NaN], [NaN], toleranceFor('float32'))).toBeUndefined();
  });
});
