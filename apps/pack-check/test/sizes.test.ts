// The README's bundle-size table (written by `pnpm sizes`): well-formed, one row per entry
// point and platform, figures that can be bundle sizes. Not timed; no size budget asserted.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { measureEntry, parseSizesTable, renderSizes, replaceSizesSection, ROOT_README, SIZES_END, SIZES_START, sizedEntries } from '../src/sizes.js';

describe('the README bundle-size table', () => {
  const readme = readFileSync(ROOT_README, 'utf8');

  it('has one row per entry point and platform, in order', () => {
    const rows = parseSizesTable(readme);
    expect(rows.map((r) => `${r.specifier} ${r.platform}`)).toEqual(sizedEntries().map((e) => `${e.specifier} ${e.platform}`));
  });

  it('holds figures a bundle can have: gzip smaller than minified, each under 2 MB', () => {
    for (const row of parseSizesTable(readme)) {
      expect(row.gzipKb, row.specifier).toBeGreaterThan(0);
      expect(row.gzipKb, row.specifier).toBeLessThan(row.minifiedKb);
      expect(row.minifiedKb, row.specifier).toBeLessThan(2000);
    }
  });

  it('is rewritten in place by the same renderer and parses back to the measured bytes', async () => {
    const entry = sizedEntries().find((e) => e.specifier === '@rectify/core');
    if (entry === undefined) throw new Error('no @rectify/core entry');
    const size = await measureEntry(entry);
    const rewritten = replaceSizesSection(readme, renderSizes([size], 'x'));
    expect(rewritten.startsWith(readme.slice(0, readme.indexOf(SIZES_START)))).toBe(true);
    expect(rewritten.endsWith(readme.slice(readme.indexOf(SIZES_END) + SIZES_END.length))).toBe(true);
    const [row] = parseSizesTable(rewritten);
    expect(row?.minifiedKb).toBeCloseTo(size.minified / 1000, 1);
    expect(row?.gzipKb).toBeCloseTo(size.gzip / 1000, 1);
    // Minified core is code, not an empty module: the figures measure something.
    expect(size.minified).toBeGreaterThan(10_000);
  });

  it('refuses a README without both markers', () => {
    expect(() => replaceSizesSection('no markers', 'x')).toThrow(/once each/);
    expect(() => parseSizesTable(`${SIZES_START}\n| a |\n${SIZES_END}`)).toThrow(/header/);
  });
});
