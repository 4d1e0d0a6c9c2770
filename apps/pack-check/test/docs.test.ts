import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

// `pnpm docs` = TypeDoc over every published package (typedoc.json at the root), with
// warnings as errors: an export whose signature names an unexported type, a link to
// something left out, or a stale @param fails it. Internal and protected plumbing is
// excluded, so it must not be what a public signature needs.
describe('pnpm docs', () => {
  it('builds the API docs of every published package with no warning', { timeout: 300_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'rectify-docs-'));
    try {
      const typedoc = join(repoRoot, 'node_modules', 'typedoc', 'bin', 'typedoc');
      const run = spawnSync(process.execPath, [typedoc, '--out', out], { cwd: repoRoot, encoding: 'utf8' });
      const output = `${run.stdout}\n${run.stderr}`;
      expect(output, 'typedoc output').not.toMatch(/\[warning\]|\[error\]/);
      expect(run.status, output.slice(-2000)).toBe(0);
      for (const name of ['core', 'backend-cpu', 'backend-tfjs', 'backend-webgpu', 'backend-gpujs', 'backend-onnx', 'conformance']) {
        expect(existsSync(join(out, 'modules', `_rectify_${name}.html`)), `@rectify/${name} documented`).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
