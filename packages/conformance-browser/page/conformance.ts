/**
 * What the page runs: every golden RAdam case on one backend, judged with the vitest
 * suite's own verdicts (`@rectify/conformance/portable`), a state-dict round trip and two
 * bad inputs, each reported on its own. No DOM, no Node: plain data in, plain data out.
 */
import type { PageBackendEntry } from './backends.js';
import { cpuBackend } from '@rectify/backend-cpu';
import {
  radamGoldenMismatches,
  replayRadamCase,
  replaySchedulerCase,
  schedulerGoldenMismatches,
  toleranceFor,
  type BackendFactory,
  type RadamGoldenCase,
  type RadamReplay,
  type SchedulerGoldenCase,
  type Tolerance,
} from '@rectify/conformance/portable';
import { RAdam, RectifyError, type TensorBackend } from '@rectify/core';

/** One verdict: a golden case, or one of the page's own checks. */
export interface CheckResult {
  readonly name: string;
  readonly passed: boolean;
  /** Every way it departed from what was expected (empty when it passed). */
  readonly problems: readonly string[];
  /** Wall time in the page. */
  readonly ms: number;
  /** What the check measured or found, for the log (a step time, the memory's kind). */
  readonly detail?: string;
}

/** What the page reports for one backend. */
export interface BackendReport {
  /** The page registry's name (`gpujs-webgl2`, …). */
  readonly entry: string;
  /** Why the backend cannot run in this browser: then nothing else was run. */
  readonly unavailable?: string;
  /** The backend's own name (`tfjs-webgpu`, `gpujs-webgl2`) and dtype. */
  readonly backend?: string;
  readonly dtype?: string;
  /**
   * The `threading` of every backend the page made (`cpu-wasm`: `workers`, or `single: …`
   * and why), each once; empty for backends that report none.
   */
  readonly threading: readonly string[];
  /** The golden RAdam cases, in file order. */
  readonly goldens: readonly CheckResult[];
  /** The state round trip and the bad-input checks. */
  readonly checks: readonly CheckResult[];
  /**
   * What the backends reported as run elsewhere than asked (gpu.js' `kernelFallbacks`,
   * e.g. a WebGL kernel gpu.js moved to its CPU mode), across every backend the page made.
   */
  readonly kernelFallbacks: readonly string[];
}

/**
 * Lets the page's event loop run between cases: gpu.js' GL kernels are synchronous, and
 * a page that never yields cannot answer the test's polling (nor paint) until it ends.
 */
function yieldToPage(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function describeError(error: unknown): string {
  if (error instanceof RectifyError) return `RectifyError ${error.code}${error.parameter ? ` (${error.parameter})` : ''}: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Runs `check` (which returns its problems, and maybe a detail), timing it; a throw is one problem. */
async function timed(
  name: string,
  check: () => Promise<readonly string[] | { readonly problems: readonly string[]; readonly detail?: string }>,
): Promise<CheckResult> {
  const start = performance.now();
  let problems: readonly string[];
  let detail: string | undefined;
  try {
    const outcome = await check();
    if ('problems' in outcome) ({ problems, detail } = outcome);
    else problems = outcome;
  } catch (error) {
    problems = [`threw ${describeError(error)}`];
  }
  await yieldToPage();
  return { name, passed: problems.length === 0, problems, ms: Math.round(performance.now() - start), ...(detail !== undefined && { detail }) };
}

/** Exact equality of two replays' trajectories and final states (what `toEqual` checks in Node). */
function replayDifferences(actual: RadamReplay, expected: RadamReplay, label: string): string[] {
  const problems: string[] = [];
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  expected.trajectory.forEach((step, i) => {
    if (!same(actual.trajectory[i], step)) problems.push(`${label}: step ${i + 1} differs from the uninterrupted run`);
  });
  if (actual.trajectory.length !== expected.trajectory.length) {
    problems.push(`${label}: ${actual.trajectory.length} steps, the uninterrupted run has ${expected.trajectory.length}`);
  }
  if (!same(actual.finalState, expected.finalState)) problems.push(`${label}: final state differs from the uninterrupted run`);
  return problems;
}

function looser(a: Tolerance, b: Tolerance): Tolerance {
  return { atol: Math.max(a.atol, b.atol), rtol: Math.max(a.rtol, b.rtol) };
}

/** The float64 reference every other backend's state must move to and from. */
const reference: BackendFactory = () => cpuBackend({ dtype: 'float64' });

/**
 * Interrupted halfway, through a JSON state dict: on the same backend the run must equal
 * the uninterrupted one exactly; moved to the float64 reference and back, it must still
 * match the golden case.
 */
async function roundTrip(testCase: RadamGoldenCase, create: BackendFactory, straight: RadamReplay, tolerance: Tolerance): Promise<string[]> {
  const afterStep = Math.floor(testCase.grads.length / 2);
  const resumed = await replayRadamCase(testCase, create, { afterStep });
  const problems = replayDifferences(resumed, straight, `resumed after step ${afterStep}`);
  const mixed = looser(tolerance, toleranceFor('float64'));
  problems.push(...radamGoldenMismatches(await replayRadamCase(testCase, create, { afterStep, resumeOn: reference }), testCase, mixed));
  problems.push(...radamGoldenMismatches(await replayRadamCase(testCase, reference, { afterStep, resumeOn: create }), testCase, mixed));
  return problems;
}

/** Everything a rejected call must leave as it was, as JSON. */
async function observable(backend: TensorBackend<any>, optimizer: RAdam<TensorBackend<any>>, params: Record<string, unknown>): Promise<string> {
  const values: Record<string, number[]> = {};
  for (const [name, param] of Object.entries(params)) values[name] = Array.from(await backend.read(param));
  return JSON.stringify({ values, state: await optimizer.stateDict(), stepCount: optimizer.stepCount, skipped: optimizer.skippedSteps });
}

/**
 * A bad gradient after three good steps: the step must throw a `RectifyError` with `code`
 * naming `parameter`, and change nothing.
 */
async function rejected(
  create: BackendFactory,
  bad: (backend: TensorBackend<any>) => Record<string, unknown>,
  code: RectifyError['code'],
  parameter: string,
): Promise<string[]> {
  const backend = await create();
  const optimizer = new RAdam(backend, { lr: 0.01, weightDecay: 0.01, gradClipNorm: 10 });
  const params = { w: backend.fromArray([0.5, -0.25, 0.125, 1, -1, 0.75], [2, 3]), b: backend.fromArray([0.1, -0.2, 0.3], [3]) };
  optimizer.registerTrainableWeights(params);
  const step = async (grads: Record<string, unknown>): Promise<void> => {
    try {
      await optimizer.step(grads);
    } finally {
      for (const grad of Object.values(grads)) backend.disposeTensor(grad);
    }
  };
  try {
    for (let k = 1; k <= 3; k++) {
      await step({ w: backend.fromArray([0.1 * k, -0.2, 0.3, 0, 0.05, -0.1], [2, 3]), b: backend.fromArray([-0.1, 0.2, k], [3]) });
    }
    const before = await observable(backend, optimizer, params);
    let caught: unknown;
    try {
      await step(bad(backend));
    } catch (error) {
      caught = error;
    }
    const problems: string[] = [];
    if (!(caught instanceof RectifyError)) {
      problems.push(`expected a RectifyError ${code}, got ${caught === undefined ? 'no error' : describeError(caught)}`);
    } else if (caught.code !== code || caught.parameter !== parameter) {
      problems.push(`expected ${code} naming "${parameter}", got ${describeError(caught)}`);
    }
    if ((await observable(backend, optimizer, params)) !== before) problems.push('the rejected step changed the parameters or the state');
    return problems;
  } finally {
    optimizer.dispose();
    for (const param of Object.values(params)) backend.disposeTensor(param);
    backend.dispose?.();
  }
}

/**
 * Replays every golden case on `entry`'s backend (a fresh one per case, as in Node), then
 * the round trip on `roundTripCase` and the bad-input checks.
 */
export async function runBackend(
  entry: PageBackendEntry,
  goldens: readonly RadamGoldenCase[],
  roundTripCase: RadamGoldenCase,
): Promise<BackendReport> {
  const unavailable = await entry.unavailableReason();
  if (unavailable !== undefined) return { entry: entry.name, unavailable, threading: [], goldens: [], checks: [], kernelFallbacks: [] };
  // Every backend made, to collect what each says it moved to another mode.
  const made: TensorBackend<any>[] = [];
  const create: BackendFactory = async () => {
    const backend = await entry.create();
    made.push(backend);
    return backend;
  };
  const probe = await entry.create();
  const { name: backend, dtype } = probe;
  probe.dispose?.();
  const tolerance = toleranceFor(dtype);
  const straight = new Map<string, RadamReplay>();
  const results: CheckResult[] = [];
  for (const testCase of goldens) {
    results.push(
      await timed(testCase.name, async () => {
        const replay = await replayRadamCase(testCase, create);
        straight.set(testCase.name, replay);
        return radamGoldenMismatches(replay, testCase, tolerance);
      }),
    );
  }
  const checks = [
    await timed(`${roundTripCase.name}: state dict round trip (same backend exact; to and from cpu64)`, async () => {
      const replay = straight.get(roundTripCase.name) ?? (await replayRadamCase(roundTripCase, create));
      return roundTrip(roundTripCase, create, replay, tolerance);
    }),
    await timed('a gradient of the wrong shape: SHAPE_MISMATCH, nothing changed', () =>
      rejected(create, (b) => ({ w: b.fromArray([1, 2, 3, 4, 5], [5]), b: b.fromArray([0, 0, 0], [3]) }), 'SHAPE_MISMATCH', 'w'),
    ),
    await timed('a NaN gradient: NON_FINITE_GRADIENT, nothing changed', () =>
      rejected(create, (b) => ({ w: b.fromArray([0, 0, 0, 0, 0, 0], [2, 3]), b: b.fromArray([0.1, NaN, 0.2], [3]) }), 'NON_FINITE_GRADIENT', 'b'),
    ),
  ];
  for (const check of (await entry.checks?.()) ?? []) checks.push(await timed(check.name, () => check.run()));
  const kernelFallbacks = new Set(made.flatMap((b) => (b as { kernelFallbacks?: readonly string[] }).kernelFallbacks ?? []));
  const threading = new Set(made.flatMap((b) => (b as { threading?: string }).threading ?? []));
  return { entry: entry.name, backend, dtype, threading: [...threading], goldens: results, checks, kernelFallbacks: [...kernelFallbacks] };
}

/** Every golden scheduler case (no backend involved: run once per browser). */
export async function runSchedulers(cases: readonly SchedulerGoldenCase[]): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const testCase of cases) {
    results.push(await timed(testCase.name, async () => schedulerGoldenMismatches(replaySchedulerCase(testCase).lrs, testCase)));
  }
  return results;
}
