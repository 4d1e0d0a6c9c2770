import { backendFactories } from '@rectify/all-backends';
import { bundledGoldenPath, radamGoldenCases, runReplayCli, schedulerGoldenCases } from '@rectify/conformance';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

async function replay(args: string[]): Promise<{ code: number; output: any; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runReplayCli(args, backendFactories(), (t) => (stdout += t), (t) => (stderr += t));
  return { code, output: stdout === '' ? undefined : JSON.parse(stdout), stderr };
}

describe('conformance replay CLI', () => {
  it('prints the trajectory contract for radam.json on cpu64, matching the goldens to 1e-9', async () => {
    const { code, output } = await replay(['replay', '--backend', 'cpu64', bundledGoldenPath('radam.json')]);
    expect(code).toBe(0);
    const cases = radamGoldenCases();
    expect(output.cases.map((c: { name: string }) => c.name)).toEqual(cases.map((c) => c.name));
    for (const [i, golden] of cases.entries()) {
      const replayed = output.cases[i];
      expect(Object.keys(replayed).sort()).toEqual(['finalState', 'name', 'trajectory']);
      expect(replayed.trajectory).toHaveLength(golden.expected.length);
      const last = golden.expected.length - 1;
      for (const [name, values] of Object.entries(golden.expected[last]!)) {
        (values as number[]).forEach((v, j) => expect(Math.abs(replayed.trajectory[last][name][j] - v)).toBeLessThan(1e-9));
      }
      for (const [name, state] of Object.entries(golden.finalState)) {
        expect(replayed.finalState[name].step).toBe(state.step);
        expect(replayed.finalState[name].m).toHaveLength(state.m.length);
      }
    }
  });

  it('prints the lrs contract for schedulers.json, given by bare name', async () => {
    const { code, output } = await replay(['replay', '--backend', 'cpu', 'schedulers.json']);
    expect(code).toBe(0);
    const cases = schedulerGoldenCases();
    expect(output.cases).toHaveLength(cases.length);
    expect(output.cases[0]).toEqual({ name: cases[0]!.name, lrs: expect.any(Array) });
    expect(output.cases[0].lrs).toHaveLength(cases[0]!.expected.length);
  });

  it('reports a case it cannot run as an error entry and still exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rectify-replay-'));
    const file = join(dir, 'cases.json');
    const good = radamGoldenCases()[0]!;
    writeFileSync(file, JSON.stringify({ cases: [{ ...good, name: 'broken', options: { lr: -1 } }, good] }));
    const { code, output } = await replay(['replay', '--backend', 'cpu', file]);
    expect(code).toBe(0);
    expect(output.cases[0]).toEqual({ name: 'broken', error: expect.stringContaining('"lr"') });
    expect(output.cases[1].name).toBe(good.name);
    expect(output.cases[1].trajectory).toHaveLength(good.expected.length);
  });

  it('exits 2 with usage for an unknown backend', async () => {
    const { code, stderr, output } = await replay(['replay', '--backend', 'nope', 'radam.json']);
    expect(code).toBe(2);
    expect(output).toBeUndefined();
    expect(stderr).toContain('unknown backend "nope"');
  });
});
