import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const browserDist = fileURLToPath(new URL('../dist/browser.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'rectify-bundle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('bundled by esbuild, as an application ships it', () => {
  it('for Node: one file, copied away from the package, runs cpu-wasm (the kernel is embedded)', async () => {
    const entry = join(scratch, 'app.mjs');
    writeFileSync(
      entry,
      `import { RAdam } from '@rectify/core';\nimport { wasmCpuBackend } from ${JSON.stringify(dist)};\n` +
        'const backend = await wasmCpuBackend({ threads: 2 });\n' +
        'const w = backend.fromArray([1, 2, 3, 4], [4]);\n' +
        'const opt = new RAdam(backend, { lr: 0.1 });\nopt.registerTrainableWeights({ w });\n' +
        'opt.step({ w: new Float32Array([1, -1, 0.5, 0]) });\n' +
        'console.log(JSON.stringify(Array.from(backend.read(w))));\nbackend.dispose();\n',
    );
    const outfile = join(scratch, 'bundle.mjs');
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'silent', nodePaths: [fileURLToPath(new URL('../node_modules', import.meta.url))] });
    const printed = execFileSync(process.execPath, [outfile], { cwd: scratch, encoding: 'utf8' });
    // The first step is not rectified: the bias-corrected first moment is g, so p − lr·g.
    const expected = [1, 2, 3, 4].map((p, i) => p - 0.1 * [1, -1, 0.5, 0][i]!);
    (JSON.parse(printed) as number[]).forEach((x, i) => expect(x).toBeCloseTo(expected[i]!, 6));
  });

  it('for the browser: an app on wasmCpuBackend bundles with no plugin, loader or Node built-in, and the bundle runs', async () => {
    const entry = join(scratch, 'web-app.mjs');
    // Node stands in for a page that is not cross-origin isolated (Chromium runs the same
    // kind of bundle, isolated and not, in @rectify/conformance-browser).
    writeFileSync(
      entry,
      `import { RAdam } from '@rectify/core';\nimport { cpuBackend, wasmCpuBackend } from ${JSON.stringify(browserDist)};\n` +
        'globalThis.crossOriginIsolated = false;\n' +
        'const backend = await wasmCpuBackend();\n' +
        'const w = backend.fromArray([1, 2, 3, 4], [4]);\n' +
        'const opt = new RAdam(backend, { lr: 0.1 });\nopt.registerTrainableWeights({ w });\n' +
        'opt.step({ w: new Float32Array([1, -1, 0.5, 0]) });\n' +
        'console.log(JSON.stringify({ w: Array.from(backend.read(w)), threading: backend.threading, cpu: typeof cpuBackend }));\n' +
        'backend.dispose();\n',
    );
    const outfile = join(scratch, 'web-bundle.mjs');
    const result = await build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', outfile, logLevel: 'silent', metafile: true, nodePaths: [fileURLToPath(new URL('../node_modules', import.meta.url))] });
    const code = readFileSync(outfile, 'utf8');
    expect(code).not.toMatch(/node:|worker_threads|require\(/);
    expect(Object.keys(result.metafile.inputs).some((input) => input.endsWith('web-host.js'))).toBe(true);
    expect(Object.keys(result.metafile.inputs).some((input) => input.endsWith('node-host.js'))).toBe(false);
    const printed = JSON.parse(execFileSync(process.execPath, [outfile], { cwd: scratch, encoding: 'utf8' })) as { w: number[]; threading: string; cpu: string };
    expect(printed.threading).toBe('single: not cross-origin isolated');
    expect(printed.cpu).toBe('function');
    const expected = [1, 2, 3, 4].map((p, i) => p - 0.1 * [1, -1, 0.5, 0][i]!);
    printed.w.forEach((x, i) => expect(x).toBeCloseTo(expected[i]!, 6));
  });
});
