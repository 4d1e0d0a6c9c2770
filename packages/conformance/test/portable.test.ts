import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';
import { radamGoldenCases, schedulerGoldenCases } from '../src/golden-files.js';
import { radamGoldenMismatches, replaySchedulerCase, schedulerGoldenMismatches, toleranceFor, type RadamReplay } from '../src/portable.js';

const src = (file: string): string => fileURLToPath(new URL(`../src/${file}`, import.meta.url));

/** Every relative module `file` imports, transitively. */
function moduleGraph(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const [, spec] of readFileSync(src(file), 'utf8').matchAll(/from '\.\/([\w-]+)\.js'/g)) moduleGraph(`${spec}.ts`, seen);
  return seen;
}

/** A replay equal to the golden case's own expectations. */
function perfectReplay(index: number): RadamReplay {
  const testCase = radamGoldenCases()[index]!;
  return {
    name: testCase.name,
    trajectory: testCase.expected.map((step) => Object.fromEntries(Object.entries(step).map(([k, v]) => [k, [...v]]))),
    finalState: Object.fromEntries(Object.entries(testCase.finalState).map(([k, s]) => [k, { step: s.step, m: [...s.m], v: [...s.v] }])),
    appliedLr: [...(testCase.appliedLr ?? [])],
  };
}

describe('the portable entry', () => {
  it('imports neither Node built-ins nor vitest, anywhere in its module graph', () => {
    const graph = [...moduleGraph('portable.ts')];
    expect(graph).toContain('replay.ts');
    for (const file of graph) {
      expect(readFileSync(src(file), 'utf8'), file).not.toMatch(/from '(node:|vitest|fs|path)/);
    }
  });

  it('radamGoldenMismatches: none for the golden values themselves, one per disturbed array', () => {
    const testCase = radamGoldenCases()[0]!;
    const tolerance = toleranceFor('float32');
    expect(radamGoldenMismatches(perfectReplay(0), testCase, tolerance)).toEqual([]);

    const replay = perfectReplay(0);
    const [name] = Object.keys(replay.trajectory[1]!);
    replay.trajectory[1]![name!]![0]! += 1e-3;
    const finalName = Object.keys(replay.finalState)[0]!;
    (replay.finalState[finalName] as { step: number }).step += 1;
    const problems = radamGoldenMismatches(replay, testCase, tolerance);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(new RegExp(`^${testCase.name} step 2 ${name}\\[0\\]: got `));
    expect(problems[1]).toContain(`${finalName} step count`);
  });

  it('radamGoldenMismatches: a short trajectory is reported, not thrown', () => {
    const replay = { ...perfectReplay(0), trajectory: perfectReplay(0).trajectory.slice(0, 1) };
    const problems = radamGoldenMismatches(replay, radamGoldenCases()[0]!, toleranceFor('float32'));
    expect(problems[0]).toMatch(/1 steps replayed/);
    expect(problems.some((p) => p.includes('step 2') && p.endsWith('missing'))).toBe(true);
  });

  it('schedulerGoldenMismatches agrees with a replay and catches a wrong rate', () => {
    const testCase = schedulerGoldenCases()[0]!;
    const { lrs } = replaySchedulerCase(testCase);
    expect(schedulerGoldenMismatches(lrs, testCase)).toEqual([]);
    const wrong = lrs.map((rates) => [...rates]);
    wrong[wrong.length - 1]![0]! *= 1.001;
    expect(schedulerGoldenMismatches(wrong, testCase)).toEqual([expect.stringContaining(`epoch ${wrong.length - 1}`)]);
  });
});

