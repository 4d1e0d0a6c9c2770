import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  exports: { '.': { browser: { types: string; default: string }; types: string; default: string } };
};
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

/** The value names a declaration file exports (`export { a, b } from …`, `export declare function c`), types left out. */
function exportedValues(dts: string): string[] {
  const names: string[] = [];
  for (const [, list] of dts.matchAll(/^export \{([^}]*)\} from/gm)) {
    for (const item of list!.split(',')) {
      const name = item.trim();
      if (name !== '' && !name.startsWith('type ')) names.push(name);
    }
  }
  for (const [, name] of dts.matchAll(/^export declare (?:function|const|class) (\w+)/gm)) names.push(name!);
  return names.sort();
}

describe('export conditions tell the truth', () => {
  const entry = pkg.exports['.'];
  it('the browser condition comes first and brings its own types', () => {
    expect(Object.keys(entry)[0]).toBe('browser');
    for (const file of [entry.browser.types, entry.browser.default, entry.types, entry.default]) {
      expect(existsSync(new URL(file, root)), `${file} (build the package first)`).toBe(true);
    }
  });

  it('both conditions export both backends, and their types say so', () => {
    expect(exportedValues(read(entry.browser.types))).toEqual(['cpuBackend', 'wasmCpuBackend']);
    expect(exportedValues(read(entry.types))).toEqual(['cpuBackend', 'wasmCpuBackend']);
    // The types name the same things the JavaScript exports.
    expect(read(entry.browser.default)).toMatch(/export \{ wasmCpuBackend \} from '\.\/wasm\/web\.js'/);
    expect(read(entry.default)).toMatch(/export \{ wasmCpuBackend \} from '\.\/wasm\/node\.js'/);
  });

  it('the browser entry reaches no Node module, the Node entry its Node host', () => {
    // Every module the browser entry loads, followed through relative imports.
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = read(file);
      expect(source, file).not.toMatch(/from ['"]node:|import\(['"]node:|worker_threads/);
      for (const [, spec] of source.matchAll(/(?:from|import\()\s*['"](\.[^'"]+)['"]/g)) {
        visit(new URL(spec!, new URL(file, root)).pathname.slice(new URL(root).pathname.length));
      }
    };
    visit(entry.browser.default.replace(/^\.\//, ''));
    expect([...seen]).toContain('dist/wasm/web-host.js');
    expect([...seen]).not.toContain('dist/wasm/node-host.js');
    expect(read('dist/wasm/node-host.js')).toMatch(/node:worker_threads/);
  });
});
