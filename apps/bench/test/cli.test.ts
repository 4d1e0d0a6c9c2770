import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { nativeTools } from '../src/native.js';

// The built CLI (turbo builds before testing), as outside tools run it.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);

describe('bench CLI', () => {
  it('--json prints exactly one object with the five keys, and nothing else on stdout', { timeout: 60_000 }, async () => {
    const { stdout } = await run(process.execPath, [CLI, '--backend', 'cpu-wasm', '--size', '1000', '--tensors', '20', '--json', '--time', '100']);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(result)).toEqual(['backend', 'size', 'tensors', 'elementsPerSecond', 'rooflineFraction']);
    expect(result).toMatchObject({ backend: 'cpu-wasm', size: 1000, tensors: 20 });
    expect(result['elementsPerSecond']).toBeGreaterThan(1e6);
    // 20 000 elements: held to the cache roofline, which needs the C program (null without cc).
    if ('unavailable' in (await nativeTools())) expect(result['rooflineFraction']).toBeNull();
    else expect(result['rooflineFraction']).toBeGreaterThan(0);
  });

  it('fails with a message for an unknown backend', { timeout: 60_000 }, async () => {
    await expect(run(process.execPath, [CLI, '--backend', 'nope', '--size', '10', '--json'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('Unknown backend "nope"'),
    });
  });
});
