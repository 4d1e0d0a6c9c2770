import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  exports: { '.': { browser: { types: string; default: string }; types: string; import: string } };
};
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

describe('export conditions tell the truth', () => {
  const entry = pkg.exports['.'];
  it('the browser condition comes first and brings its own types, without the Node-only WebAssembly backend', () => {
    expect(Object.keys(entry)[0]).toBe('browser');
    for (const file of [entry.browser.types, entry.browser.default, entry.types, entry.import]) {
      expect(existsSync(new URL(file, root)), `${file} (build the package first)`).toBe(true);
    }
    expect(read(entry.browser.types)).toMatch(/\bcpuBackend\b/);
    expect(read(entry.browser.types)).not.toMatch(/wasmCpuBackend/);
    expect(read(entry.browser.default)).not.toMatch(/from ['"]node:/);
  });

  it('the Node entry has both backends', () => {
    expect(read(entry.types)).toMatch(/\bwasmCpuBackend\b/);
    expect(read(entry.types)).toMatch(/\bcpuBackend\b/);
  });
});
