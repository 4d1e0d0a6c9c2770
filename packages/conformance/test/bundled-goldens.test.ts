import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as inBrowser from '../src/bundled-goldens-browser.js';
import * as inNode from '../src/golden-files.js';

const manifest = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as {
  imports: Record<string, Record<string, string>>;
};

describe('#bundled-goldens (the suite’s goldens)', () => {
  it('a browser gets the build without Node imports; Node keeps the one that reads the files', () => {
    expect(manifest.imports['#bundled-goldens']).toEqual({
      types: './dist/bundled-goldens.d.ts',
      browser: './dist/bundled-goldens-browser.js',
      default: './dist/bundled-goldens.js',
    });
    const source = readFileSync(fileURLToPath(new URL('../src/bundled-goldens-browser.ts', import.meta.url)), 'utf8');
    expect(source).not.toMatch(/from '(node:|fs|path|\.\/golden-files)/);
  });

  it('the browser build holds the same cases as the files Node reads', () => {
    expect(inBrowser.radamGoldenCases()).toEqual(inNode.radamGoldenCases());
    expect(inBrowser.schedulerGoldenCases()).toEqual(inNode.schedulerGoldenCases());
    expect(inBrowser.radamGoldenCases().length).toBeGreaterThan(0);
    expect(inBrowser.schedulerGoldenCases().length).toBeGreaterThan(0);
  });
});
