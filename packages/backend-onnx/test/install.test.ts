import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('offline-safe install', () => {
  it("pnpm never runs onnxruntime-node's postinstall (it downloads CUDA parts)", () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      pnpm?: { onlyBuiltDependencies?: string[]; neverBuiltDependencies?: string[] };
    };
    // pnpm 10 runs dependency scripts only for packages listed here.
    expect(pkg.pnpm?.onlyBuiltDependencies ?? []).not.toContain('onnxruntime-node');
    const workspace = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
    expect(workspace).not.toMatch(/onlyBuiltDependencies[\s\S]*onnxruntime-node/);
  });

  it('runs on the CPU binaries shipped inside the package, with no downloaded provider libraries', () => {
    const require = createRequire(import.meta.url);
    const packageDir = dirname(require.resolve('onnxruntime-node/package.json'));
    const binaries = readdirSync(join(packageDir, 'bin', 'napi-v6', process.platform, process.arch));
    expect(binaries).toContain('onnxruntime_binding.node');
    expect(binaries.filter((file) => /providers_(cuda|tensorrt)/.test(file))).toEqual([]);
  });
});
