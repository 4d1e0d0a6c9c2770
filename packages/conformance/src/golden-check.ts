import type { RadamGoldenCase, SchedulerGoldenCase } from './goldens.js';
import type { RadamReplay } from './replay.js';
import { SCHEDULER_TOLERANCE, firstMismatch, type Tolerance } from './tolerance.js';

/** The applied learning rates are plain float64 arithmetic on every backend. */
const APPLIED_LR_TOLERANCE: Tolerance = { atol: 0, rtol: 1e-12 };

/** `undefined` when `actual` matches `expected`, else a message naming where and by how much. */
function closeOrWhy(
  actual: ArrayLike<number> | undefined,
  expected: readonly number[],
  tolerance: Tolerance,
  where: string,
): string | undefined {
  if (actual === undefined) return `${where}: missing`;
  const mismatch = firstMismatch(actual, expected, tolerance);
  return mismatch === undefined
    ? undefined
    : `${where}[${mismatch.index}]: got ${mismatch.actual}, expected ${mismatch.expected} (atol ${tolerance.atol}, rtol ${tolerance.rtol})`;
}

/**
 * Everything in which `replay` departs from its golden case (every step's parameters, the
 * applied rates, the final step counts and moments): one message per disagreeing array,
 * naming the case, step, parameter and first element outside `tolerance`. Empty when the
 * replay conforms. Pure, so a browser page reports the same verdicts as the vitest suite.
 */
export function radamGoldenMismatches(replay: RadamReplay, testCase: RadamGoldenCase, tolerance: Tolerance): string[] {
  const problems: (string | undefined)[] = [];
  if (replay.trajectory.length !== testCase.expected.length) {
    problems.push(`${testCase.name}: ${replay.trajectory.length} steps replayed, ${testCase.expected.length} expected`);
  }
  testCase.expected.forEach((expected, i) => {
    for (const [name, values] of Object.entries(expected)) {
      problems.push(closeOrWhy(replay.trajectory[i]?.[name], values, tolerance, `${testCase.name} step ${i + 1} ${name}`));
    }
  });
  if (testCase.appliedLr !== undefined) {
    problems.push(closeOrWhy(replay.appliedLr, testCase.appliedLr, APPLIED_LR_TOLERANCE, `${testCase.name} appliedLr`));
  }
  for (const [name, state] of Object.entries(testCase.finalState)) {
    const actual = replay.finalState[name];
    if (actual?.step !== state.step) problems.push(`${testCase.name} ${name} step count: got ${actual?.step}, expected ${state.step}`);
    problems.push(closeOrWhy(actual?.m, state.m, tolerance, `${testCase.name} final m of ${name}`));
    problems.push(closeOrWhy(actual?.v, state.v, tolerance, `${testCase.name} final v of ${name}`));
  }
  return problems.filter((problem): problem is string => problem !== undefined);
}

/** Like {@link radamGoldenMismatches}, for a scheduler case's replayed learning rates. */
export function schedulerGoldenMismatches(lrs: readonly (readonly number[])[], testCase: SchedulerGoldenCase): string[] {
  const problems: (string | undefined)[] = [];
  if (lrs.length !== testCase.expected.length) {
    problems.push(`${testCase.name}: ${lrs.length} epochs replayed, ${testCase.expected.length} expected`);
  }
  testCase.expected.forEach((expected, epoch) => {
    problems.push(closeOrWhy(lrs[epoch], expected, SCHEDULER_TOLERANCE, `${testCase.name} epoch ${epoch}`));
  });
  return problems.filter((problem): problem is string => problem !== undefined);
}
