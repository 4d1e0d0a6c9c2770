import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const DEMO = fileURLToPath(new URL('../dist/demo.js', import.meta.url));

/** Runs the built demo (turbo builds it before testing) without a terminal. */
async function demo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(DEMO)) throw new Error(`${DEMO} is missing: build the example app first (pnpm build).`);
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [DEMO, ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('pnpm demo', () => {
  it('trains on the chosen backends, prints a table per task and writes every chart', { timeout: 120_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'rectify-demo-'));
    const { code, stdout, stderr } = await demo(['--backends', 'cpu,cpu64', '--steps', '150', '--adam-steps', '10', '--out', out]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('RAdam on 2 backends: cpu, cpu64');
    expect(stdout).toContain('Gradient stream: reference');
    // Without a terminal, progress is plain lines on stderr.
    expect(stderr).toContain('iris cpu: 150/150 steps, loss');
    expect(stderr).toContain('spirals cpu64 (reference): 150/150 steps');
    const row = (backend: string): string[] => {
      const line = stdout.split('\n').find((l) => l.startsWith(`│ ${backend} `))!;
      return line.split('│').map((cell) => cell.trim()).filter((cell) => cell !== '');
    };
    const [, dtype, loss, , testAccuracy, , diff] = row('cpu');
    expect(dtype).toBe('float32');
    expect(Number(loss)).toBeLessThan(0.3);
    expect(Number(testAccuracy)).toBeGreaterThanOrEqual(0.9);
    expect(Number(diff)).toBeGreaterThan(0);
    expect(Number(diff)).toBeLessThan(1e-4);
    expect(row('cpu64').at(-1)).toBe('0');
    expect(readdirSync(out).sort()).toEqual(
      ['iris-loss', 'learning-rate', 'radam-vs-adam', 'spirals-decision-map', 'spirals-loss'].flatMap((n) => [`${n}.png`, `${n}.svg`]),
    );
    expect(stdout).toContain(`Charts in ${out}:`);
  });

  it('exits 2 naming an unknown backend', async () => {
    const { code, stderr } = await demo(['--backends', 'cpu,abacus']);
    expect(code).toBe(2);
    expect(stderr).toContain('Unknown backend "abacus"');
  });
});
