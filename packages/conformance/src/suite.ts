import {
  RAdam,
  decodeArray,
  encodeArray,
  type EncodedArray,
  type RAdamOptions,
  type RAdamStateDict,
  type RectifyError,
} from '@rectify/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { radamRun } from './arbitraries.js';
import { radamGoldenMismatches, schedulerGoldenMismatches } from './golden-check.js';
import { radamGoldenCases, schedulerGoldenCases } from '#bundled-goldens';
import { replayRadamCase, replaySchedulerCase, type BackendFactory, type RadamReplay } from './replay.js';
import { expectRejectedUnchanged, foreignValueFor, snapshot, trainedFixture, B, W, type Fixture } from './fixture.js';
import { describeIntegrity } from './integrity.js';
import { describeResidentWeights } from './resident-weights.js';
import { describeStateForms } from './state-forms.js';
import { REQUIRE_ALL_BACKENDS_VARIABLE, everyBackendRequired } from './environment.js';
import { firstMismatch, toleranceFor, type Tolerance } from './tolerance.js';

/** Options of {@link describeBackendConformance}. */
export interface ConformanceOptions {
  /**
   * A second backend (typically `cpuBackend({ dtype: 'float64' })`) to move state to and
   * from mid-run: proves a state dict saved on one backend resumes on the other.
   */
  readonly referenceBackend?: BackendFactory;
  /** Overrides SPEC.md's tolerance for the backend's dtype. */
  readonly tolerance?: Tolerance;
  /** Per-test time limit in milliseconds (slow backends). Default 30 000. */
  readonly timeout?: number;
  /**
   * How many random runs each fast-check property tries. Default 200; cheap backends
   * should raise it (the CPU backends use thousands).
   */
  readonly propertyRuns?: number;
  /**
   * A value that is not a tensor of the backend but could pass for one, for the
   * "gradient that is not a tensor" check. Default: the first of a plain `number[]`, a
   * typed array of the other float type, an array-like object and a string that the
   * backend's `isTensor` rejects (so a backend over plain arrays gets a fair test too).
   */
  readonly foreignValue?: () => unknown;
}

function looser(a: Tolerance, b: Tolerance): Tolerance {
  return { atol: Math.max(a.atol, b.atol), rtol: Math.max(a.rtol, b.rtol) };
}

/** Fails with a message naming the case, step, parameter and element that disagree. */
function expectClose(
  actual: ArrayLike<number> | undefined,
  expected: readonly number[],
  tolerance: Tolerance,
  where: string,
): void {
  expect(actual, `${where}: missing`).toBeDefined();
  const mismatch = firstMismatch(actual!, expected, tolerance);
  if (mismatch !== undefined) {
    expect.fail(
      `${where}[${mismatch.index}]: got ${mismatch.actual}, expected ${mismatch.expected} ` +
        `(atol ${tolerance.atol}, rtol ${tolerance.rtol})`,
    );
  }
}

/** Fails with every way the replay departs from its golden case. */
function expectMatchesGolden(problems: readonly string[]): void {
  if (problems.length > 0) expect.fail(problems.join('\n'));
}

/** Two replays of the same run agree step by step and in their final state. */
function expectReplaysClose(actual: RadamReplay, expected: RadamReplay, tolerance: Tolerance, label: string): void {
  expect(actual.trajectory).toHaveLength(expected.trajectory.length);
  expected.trajectory.forEach((step, i) => {
    for (const [name, values] of Object.entries(step)) {
      expectClose(actual.trajectory[i]![name], values, tolerance, `${label} step ${i + 1} ${name}`);
    }
  });
  for (const [name, state] of Object.entries(expected.finalState)) {
    expect(actual.finalState[name]?.step, `${label} ${name} step count`).toBe(state.step);
    expectClose(actual.finalState[name]?.m, state.m, tolerance, `${label} final m of ${name}`);
    expectClose(actual.finalState[name]?.v, state.v, tolerance, `${label} final v of ${name}`);
  }
}

/**
 * Registers the Rectify conformance suite for a backend in the calling vitest file:
 * every golden RAdam trajectory and scheduler sequence, state-dict round trips (same
 * backend: exact; reference backend: within tolerance), and the bad-input errors with
 * the guarantee that nothing changes when one is thrown.
 *
 * @param name - shown in test names, e.g. `'cpu'`.
 * @param createBackend - returns a fresh backend (called once per test).
 * @example
 * ```ts
 * // my-backend.test.ts
 * import { describeBackendConformance } from '@rectify/conformance/vitest';
 * describeBackendConformance('my-backend', () => createMyBackend());
 * ```
 */
export function describeBackendConformance(
  name: string,
  createBackend: BackendFactory,
  options: ConformanceOptions = {},
): void {
  const timeout = options.timeout ?? 30_000;
  const toleranceOf = async (): Promise<Tolerance> => {
    if (options.tolerance !== undefined) return options.tolerance;
    const backend = await createBackend();
    const tolerance = toleranceFor(backend.dtype);
    backend.dispose?.();
    return tolerance;
  };

  describe(`${name}: conformance`, () => {
    describe('golden RAdam trajectories', () => {
      for (const testCase of radamGoldenCases()) {
        it(testCase.name, { timeout }, async () => {
          expectMatchesGolden(radamGoldenMismatches(await replayRadamCase(testCase, createBackend), testCase, await toleranceOf()));
        });
      }
    });

    describe('determinism and ordering', () => {
      const testCase = radamGoldenCases().find((c) => c.options.gradClipNorm !== undefined) ?? radamGoldenCases()[0]!;
      it(`${testCase.name} twice gives bitwise-identical results`, { timeout }, async () => {
        const first = await replayRadamCase(testCase, createBackend);
        const second = await replayRadamCase(testCase, createBackend);
        expect(second.trajectory).toEqual(first.trajectory);
        expect(second.finalState).toEqual(first.finalState);
      });
      it('steps issued without waiting run one after another, as if awaited in turn', { timeout }, async () => {
        const sequential = await trainedFixture(createBackend);
        const concurrent = await trainedFixture(createBackend);
        const grads = (f: Fixture, k: number) => ({ w: f.grad('w', W.map((x) => x * k)), b: f.grad('b', B.map((x) => x - k)) });
        for (let k = 1; k <= 3; k++) await sequential.optimizer.step(grads(sequential, k));
        await Promise.all([1, 2, 3].map((k) => concurrent.optimizer.step(grads(concurrent, k))));
        expect(await snapshot(concurrent)).toEqual(await snapshot(sequential));
      });
    });

    describe('golden scheduler sequences', () => {
      for (const testCase of schedulerGoldenCases()) {
        it(testCase.name, () => {
          expectMatchesGolden(schedulerGoldenMismatches(replaySchedulerCase(testCase).lrs, testCase));
        });
      }
    });

    describe('state dict round trips', () => {
      for (const testCase of radamGoldenCases()) {
        const afterStep = Math.floor(testCase.grads.length / 2);
        it(`${testCase.name}: interrupted at step ${afterStep} equals the uninterrupted run exactly`, { timeout }, async () => {
          const straight = await replayRadamCase(testCase, createBackend);
          const resumed = await replayRadamCase(testCase, createBackend, { afterStep });
          expect(resumed.trajectory).toEqual(straight.trajectory);
          expect(resumed.finalState).toEqual(straight.finalState);
        });
        const reference = options.referenceBackend;
        if (reference !== undefined) {
          it(`${testCase.name}: state moves to and from the reference backend mid-run`, { timeout }, async () => {
            const referenceBackend = await reference();
            const tolerance = looser(await toleranceOf(), toleranceFor(referenceBackend.dtype));
            referenceBackend.dispose?.();
            const there = await replayRadamCase(testCase, createBackend, { afterStep, resumeOn: reference });
            expectMatchesGolden(radamGoldenMismatches(there, testCase, tolerance));
            const back = await replayRadamCase(testCase, reference, { afterStep, resumeOn: createBackend });
            expectMatchesGolden(radamGoldenMismatches(back, testCase, tolerance));
          });
        }
      }

      it('is JSON with compact base64 moments', async () => {
        const fixture = await trainedFixture(createBackend);
        const dict = await fixture.optimizer.stateDict();
        expect(JSON.parse(JSON.stringify(dict))).toEqual(dict);
        expect(typeof dict.params.w!.firstMoment.base64).toBe('string');
        expect(dict.params.w!.step).toBe(3);
        expect(dict.stepCount).toBe(3);
      });
    });

    describe('properties (fast-check: random shapes, options, gradient streams, missing gradients)', () => {
      const runs = options.propertyRuns ?? 200;
      const reference = options.referenceBackend;
      const propertyTimeout = Math.max(timeout, runs * 200);
      if (reference !== undefined) {
        it(`agrees with the reference backend (${runs} runs)`, { timeout: propertyTimeout }, async () => {
          const referenceBackend = await reference();
          const tolerance = looser(await toleranceOf(), toleranceFor(referenceBackend.dtype));
          referenceBackend.dispose?.();
          await fc.assert(
            fc.asyncProperty(radamRun, async (run) => {
              await yieldToEventLoop();
              const ours = await replayRadamCase(run, createBackend);
              const theirs = await replayRadamCase(run, reference);
              expectReplaysClose(ours, theirs, tolerance, 'vs reference');
            }),
            { numRuns: runs },
          );
        });
      }
      it(`resumes exactly from a state dict taken at a random step (${runs} runs)`, { timeout: propertyTimeout }, async () => {
        await fc.assert(
          fc.asyncProperty(
            radamRun.filter((run) => run.grads.length >= 2),
            fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
            async (run, cut) => {
              await yieldToEventLoop();
              const afterStep = 1 + Math.floor(cut * (run.grads.length - 1));
              const straight = await replayRadamCase(run, createBackend);
              const resumed = await replayRadamCase(run, createBackend, { afterStep });
              expect(resumed.trajectory).toEqual(straight.trajectory);
              expect(resumed.finalState).toEqual(straight.finalState);
              if (reference !== undefined) {
                const moved = await replayRadamCase(run, createBackend, { afterStep, resumeOn: reference });
                const referenceBackend = await reference();
                const tolerance = looser(await toleranceOf(), toleranceFor(referenceBackend.dtype));
                referenceBackend.dispose?.();
                expectReplaysClose(moved, straight, tolerance, `moved to the reference after step ${afterStep}`);
              }
            },
          ),
          { numRuns: runs },
        );
      });
    });

    describeIntegrity(createBackend, timeout);
    describeStateForms(createBackend, timeout);
    describeResidentWeights(createBackend, timeout);

    describe('bad input throws a RectifyError and changes nothing', () => {
      it('unknown parameter name', async () => {
        const f = await trainedFixture(createBackend);
        await expectRejectedUnchanged(f, () => f.optimizer.step({ w: f.grad('w'), nope: f.grad('b') }), 'UNKNOWN_PARAMETER', 'nope');
      });
      it('gradient of the wrong length or shape', async () => {
        const f = await trainedFixture(createBackend);
        const wrong = f.backend.fromArray([1, 2, 3, 4, 5], [5]);
        await expectRejectedUnchanged(f, () => f.optimizer.step({ b: f.grad('b'), w: wrong }), 'SHAPE_MISMATCH', 'w');
      });
      it('gradient that is not a tensor of this backend', async () => {
        const f = await trainedFixture(createBackend);
        const foreign = options.foreignValue?.() ?? foreignValueFor(f.backend);
        await expectRejectedUnchanged(f, () => f.optimizer.step({ b: f.grad('b'), w: foreign as never }), 'INVALID_TENSOR', 'w');
      });
      for (const bad of [NaN, Infinity, -Infinity]) {
        it(`${bad} gradient under nonFinite 'error'`, async () => {
          const f = await trainedFixture(createBackend);
          const b = f.grad('b', [0.1, bad, 0.2]);
          await expectRejectedUnchanged(f, () => f.optimizer.step({ w: f.grad('w'), b }), 'NON_FINITE_GRADIENT', 'b');
        });
      }
      it(`NaN gradient without norm clipping under nonFinite 'error'`, async () => {
        const f = await trainedFixture(createBackend, { gradClipNorm: null });
        const w = f.grad('w', [0, 0, NaN, 0, 0, 0]);
        await expectRejectedUnchanged(f, () => f.optimizer.step({ w, b: f.grad('b') }), 'NON_FINITE_GRADIENT', 'w');
      });
      it(`NaN gradient under nonFinite 'skip' skips the whole step`, async () => {
        const f = await trainedFixture(createBackend, { nonFinite: 'skip' });
        const before = (await snapshot(f)) as { skippedSteps: number };
        const report = await f.optimizer.step({ w: f.grad('w'), b: f.grad('b', [NaN, 0, 0]) });
        expect(report.skipped).toBe(true);
        expect(await snapshot(f)).toEqual({ ...before, skippedSteps: before.skippedSteps + 1 });
      });
      it(`NaN gradient under nonFinite 'propagate' reaches the parameter`, async () => {
        const f = await trainedFixture(createBackend, { nonFinite: 'propagate', gradClipNorm: null });
        await f.optimizer.step({ b: f.grad('b', [NaN, 0, 0]) });
        const b = await f.backend.read(f.params.b);
        expect(Number.isNaN(b[0])).toBe(true);
        expect(Number.isFinite(b[1])).toBe(true);
      });
      it('step before registration', async () => {
        const backend = await createBackend();
        const optimizer = new RAdam(backend);
        let caught: unknown;
        try {
          await optimizer.step({});
        } catch (error) {
          caught = error;
        }
        expect(caught).toMatchObject({ code: 'NOT_REGISTERED' });
      });
      it('registering a name twice', async () => {
        const f = await trainedFixture(createBackend);
        await expectRejectedUnchanged(
          f,
          () => f.optimizer.registerTrainableWeights({ x: f.grad('b'), w: f.grad('w') }),
          'DUPLICATE_PARAMETER',
          'w',
        );
      });
      const badOptions: [string, RAdamOptions, RectifyError['code']][] = [
        ['lr', { lr: -1 }, 'INVALID_OPTION'],
        ['lr', { lr: NaN }, 'INVALID_OPTION'],
        ['betas', { betas: [1, 0.999] }, 'INVALID_OPTION'],
        ['betas', { betas: [0.9, -0.1] }, 'INVALID_OPTION'],
        ['eps', { eps: -1e-8 }, 'INVALID_OPTION'],
        ['weightDecay', { weightDecay: Infinity }, 'INVALID_OPTION'],
        ['gradClipNorm', { gradClipNorm: 0 }, 'INVALID_OPTION'],
        ['gradClipValue', { gradClipValue: -1 }, 'INVALID_OPTION'],
        ['threshold', { threshold: 3 }, 'INVALID_OPTION'],
        ['compat', { compat: 'keras' as never }, 'INVALID_OPTION'],
        ['weight_decay', { weight_decay: 0.1 } as never, 'INVALID_OPTION'],
        ['scheduler', { lr: { scheduler: 'StepLr', args: { baseLr: 0.1 } } }, 'INVALID_SCHEDULER'],
        ['stepSize', { lr: { scheduler: 'StepLR', args: { baseLr: 0.1, stepSize: -2 } } }, 'INVALID_OPTION'],
        ['factor', { lr: { scheduler: 'ReduceLROnPlateau', args: { factor: 1.5 } } }, 'INVALID_OPTION'],
      ];
      const label = (options: RAdamOptions): string =>
        JSON.stringify(options, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
      for (const [parameter, bad, code] of badOptions) {
        it(`invalid option ${label(bad)}`, async () => {
          const backend = await createBackend();
          expect(() => new RAdam(backend, bad)).toThrow(expect.objectContaining({ code, parameter }));
          backend.dispose?.();
          const f = await trainedFixture(createBackend);
          await expectRejectedUnchanged(
            f,
            () => f.optimizer.addParamGroup({ extra: f.backend.fromArray([1, 2], [2]) }, bad),
            code,
            parameter,
          );
        });
      }

      const corruptions: [string, RectifyError['code'], (d: RAdamStateDict) => unknown][] = [
        ['truncated (a parameter missing)', 'INVALID_STATE_DICT', (d) => ({ ...d, params: { w: d.params.w } })],
        ['from another version', 'UNSUPPORTED_STATE_VERSION', (d) => ({ ...d, version: 99 })],
        ['for other parameter names', 'INVALID_STATE_DICT', (d) => ({ ...d, params: { ...d.params, other: d.params.b } })],
        [
          'for other shapes',
          'SHAPE_MISMATCH',
          (d) => ({ ...d, params: { ...d.params, b: { ...d.params.b!, shape: [4] } } }),
        ],
        [
          'carrying NaN moments',
          'INVALID_STATE_DICT',
          (d) => ({ ...d, params: { ...d.params, b: { ...d.params.b!, secondMoment: withNaN(d.params.b!.secondMoment) } } }),
        ],
        ['with a bad option', 'INVALID_STATE_DICT', (d) => ({ ...d, options: { ...d.options, eps: -1 } })],
        ['not an object', 'INVALID_STATE_DICT', () => 'state'],
        ['truncated to its header', 'INVALID_STATE_DICT', (d) => ({ format: d.format, version: d.version, backend: d.backend })],
      ];
      for (const [label, code, corrupt] of corruptions) {
        it(`state dict ${label}`, async () => {
          const f = await trainedFixture(createBackend);
          const saved = (await f.optimizer.stateDict()) as RAdamStateDict;
          await f.optimizer.step({ w: f.grad('w'), b: f.grad('b') });
          await expectRejectedUnchanged(f, () => f.optimizer.loadStateDict(corrupt(saved) as RAdamStateDict), code);
        });
      }
    });
  });
}

/**
 * Lets the event loop run (timers, the test runner's messages). A backend whose promises
 * resolve at once keeps a whole property run in microtasks; without a macrotask now and
 * then the runner's worker cannot answer its own RPCs and reports a timeout.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The same encoded array with its first element replaced by NaN. */
function withNaN(encoded: EncodedArray): EncodedArray {
  const array = decodeArray(encoded)!;
  array[0] = NaN;
  return encodeArray(array);
}

/**
 * Stands in for a backend's suites where its environment is missing here. Off CI the suite
 * is skipped and carries the reason (printed too, so it is never dropped silently); when
 * {@link everyBackendRequired} (CI) it is one failing test that says what is missing.
 */
export function describeUnavailable(name: string, reason: string): void {
  if (everyBackendRequired()) {
    describe(`${name}: conformance`, () => {
      it(`must run here (${REQUIRE_ALL_BACKENDS_VARIABLE}=1)`, () => {
        throw new Error(`${name} cannot run: ${reason}`);
      });
    });
    return;
  }
  console.warn(`[${name}] conformance skipped: ${reason}`);
  describe.skip(`${name}: conformance`, () => {
    it(`skipped: ${reason}`, () => undefined);
  });
}

