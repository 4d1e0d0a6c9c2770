// `/graph` and `/runtime` must load where onnxruntime-node and node: modules do not
// (browsers, bundlers): walk each entry's relative imports and list every bare specifier.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../src');

/** Every bare specifier `entry` imports, directly or through its relative imports. */
function bareImports(entry: string): string[] {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(SRC, file), 'utf8');
    for (const [, specifier] of text.matchAll(/^(?:import|export)\b[^;]*?from '([^']+)'/gms)) {
      if (specifier!.startsWith('./')) visit(specifier!.slice(2).replace(/\.js$/, '.ts'));
      else bare.add(specifier!);
    }
  };
  visit(entry);
  return [...bare].sort();
}

describe('entry points without onnxruntime-node', () => {
  it('@rectify/backend-onnx/graph imports only core and protobufjs', () => {
    expect(bareImports('graph.ts')).toEqual(['@rectify/core', 'protobufjs/light.js']);
  });

  it('@rectify/backend-onnx/runtime imports only core, protobufjs and onnxruntime-common types', () => {
    expect(bareImports('runtime.ts')).toEqual(['@rectify/core', 'onnxruntime-common', 'protobufjs/light.js']);
  });

  it('the package root still runs on onnxruntime-node', () => {
    expect(bareImports('index.ts')).toEqual(['@rectify/core', 'node:fs/promises', 'onnxruntime-common', 'onnxruntime-node', 'protobufjs/light.js']);
  });

  it('exports both with types and default conditions', () => {
    const manifest = JSON.parse(readFileSync(join(SRC, '../package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(manifest.exports['./graph']).toEqual({ types: './dist/graph.d.ts', default: './dist/graph.js' });
    expect(manifest.exports['./runtime']).toEqual({ types: './dist/runtime.d.ts', default: './dist/runtime.js' });
  });
});
