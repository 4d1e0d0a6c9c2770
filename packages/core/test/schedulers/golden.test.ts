import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createScheduler, type LearningRateScheduler, type SchedulerSpec } from '../../src/schedulers/index.js';

interface GoldenCase {
  readonly name: string;
  readonly scheduler: string;
  readonly args: Record<string, unknown>;
  readonly epochs: number;
  readonly metrics?: number[];
  readonly expected: number[][];
}

const goldens = JSON.parse(
  readFileSync(new URL('../../../conformance/goldens/schedulers.json', import.meta.url), 'utf8'),
) as { cases: GoldenCase[] };

/** rtol 1e-6 (the reference computed in float32); exact zeros must be exact. */
function expectClose(actual: number[], expected: number[], where: string): void {
  expect(actual.length, `${where}: group count`).toBe(expected.length);
  expected.forEach((want, i) => {
    const got = actual[i] ?? NaN;
    const ok = Math.abs(got - want) <= 1e-6 * Math.abs(want);
    expect(ok, `${where} group ${i}: got ${got}, expected ${want}`).toBe(true);
  });
}

function stepCase(s: LearningRateScheduler, c: GoldenCase, i: number): void {
  if (c.metrics !== undefined) s.step(c.metrics[i]);
  else s.step();
}

function specOf(c: GoldenCase): SchedulerSpec {
  return { scheduler: c.scheduler, args: c.args };
}

describe('golden sequences (schedulers.json)', () => {
  it('has the 17 schedulers among its cases', () => {
    expect(goldens.cases.length).toBeGreaterThanOrEqual(17);
    expect(new Set(goldens.cases.map((c) => c.scheduler)).size).toBe(17);
  });

  for (const c of goldens.cases) {
    it(`${c.name} (${c.scheduler}) replays within rtol 1e-6`, () => {
      expect(c.expected.length).toBe(c.epochs + 1);
      const s = createScheduler(specOf(c));
      expect(s.name).toBe(c.scheduler);
      expectClose(s.getLastLr(), c.expected[0] ?? [], `${c.name} [0]`);
      for (let i = 0; i < c.epochs; i += 1) {
        stepCase(s, c, i);
        expect(s.lastEpoch).toBe(i + 1);
        expectClose(s.getLastLr(), c.expected[i + 1] ?? [], `${c.name} [${i + 1}]`);
      }
    });

    it(`${c.name} (${c.scheduler}) continues identically after a state-dict round trip`, () => {
      const original = createScheduler(specOf(c));
      const cut = Math.floor(c.epochs / 2) + 1;
      for (let i = 0; i < cut; i += 1) stepCase(original, c, i);
      const saved = JSON.parse(JSON.stringify(original.stateDict())) as Record<string, unknown>;
      const spec = JSON.parse(JSON.stringify(original.toSpec())) as SchedulerSpec;
      const twin = createScheduler(spec);
      twin.loadStateDict(saved);
      expect(twin.lastEpoch).toBe(original.lastEpoch);
      expect(twin.getLastLr()).toEqual(original.getLastLr());
      expectClose(twin.getLastLr(), c.expected[cut] ?? [], `${c.name} loaded [${cut}]`);
      for (let i = cut; i < c.epochs; i += 1) {
        stepCase(original, c, i);
        stepCase(twin, c, i);
        expect(twin.getLastLr()).toEqual(original.getLastLr());
        expectClose(twin.getLastLr(), c.expected[i + 1] ?? [], `${c.name} loaded [${i + 1}]`);
      }
      expect(twin.stateDict()).toEqual(original.stateDict());
    });
  }
});
