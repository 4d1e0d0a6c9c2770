/**
 * The cross-backend test: every backend in the registry through the conformance suite and
 * the demo's training scenarios. A backend that cannot run here is reported as skipped,
 * with its reason in the test name and on the console, never silently dropped.
 */
import { everyBackendRequired } from '@rectify/conformance';
import { describeBackendConformance } from '@rectify/conformance/vitest';
import { describe, expect, it } from 'vitest';
import { defaultScheduler } from '../src/training/default-schedule.js';
import { PARAM_DIFF_BOUND, REFERENCE_BACKEND, backendStatuses, referenceEntry } from '../src/training/backends.js';
import { backendRun, referenceRun, type ExperimentOptions, type ReferenceRun } from '../src/training/experiment.js';
import { irisTask, spiralsTask, type Task } from '../src/training/tasks.js';

/** The demo's settings: its default schedule over 300 steps for Iris, 500 for the harder spirals. */
const options = (steps: number): ExperimentOptions => ({ steps, optimizer: { lr: defaultScheduler(steps) }, seed: 42, gradients: 'reference' });
const IRIS = { task: irisTask(42), options: options(300) };
const SPIRALS = { task: spiralsTask(42), options: options(500) };
/** Slow backends (gpu.js on the CPU, ONNX Runtime) get room; fast ones finish in well under a second. */
const TIMEOUT = 120_000;

/** One cpu64 run per task, shared by every backend (computed on first use). */
const references = new Map<string, Promise<ReferenceRun>>();
function reference({ task, options }: { task: Task; options: ExperimentOptions }): Promise<ReferenceRun> {
  if (!references.has(task.id)) references.set(task.id, referenceRun(task, options));
  return references.get(task.id)!;
}

const statuses = await backendStatuses();

describe('the registry', () => {
  it(`lists the reference backend ${REFERENCE_BACKEND} and cpu, both runnable`, () => {
    const runnable = statuses.filter((s) => s.unavailable === undefined).map((s) => s.entry.name);
    expect(runnable).toContain(REFERENCE_BACKEND);
    expect(runnable).toContain('cpu');
  });
  // Off CI a backend whose GPU or native piece is missing is skipped (with its reason);
  // on CI (RECTIFY_REQUIRE_ALL_BACKENDS=1) only browser-only ones may be, and those run in
  // headless Chromium (packages/conformance-browser).
  if (everyBackendRequired() || process.env.CI !== undefined) {
    const required = everyBackendRequired() ? 'every backend but the browser-only ones' : 'every backend that does not need a GPU';
    it(`runs, on CI, ${required}`, () => {
      const missing = statuses.filter(
        (s) => s.unavailable !== undefined && s.entry.browserOnly !== true && (everyBackendRequired() || !s.entry.requiresGpu),
      );
      expect(missing.map((s) => `${s.entry.name}: ${s.unavailable}`)).toEqual([]);
    });
  }
});

for (const { entry, unavailable } of statuses) {
  if (unavailable !== undefined) {
    console.log(`[backends] skipped ${entry.name}: ${unavailable}`);
    describe.skip(`${entry.name} (skipped: ${unavailable})`, () => {
      it('conformance and training', () => undefined);
    });
    continue;
  }

  describe(entry.name, () => {
    // Software GPUs are slow: fewer random runs there (every golden case still runs); the
    // backend's own package runs the full suite too.
    describeBackendConformance(entry.name, entry.create, {
      referenceBackend: referenceEntry().create,
      timeout: TIMEOUT,
      ...(entry.requiresGpu && { propertyRuns: 15 }),
    });

    describe(`${entry.name}: training`, () => {
      it(`learns Iris to test accuracy ≥ 0.9, its parameters within its dtype's bound of ${REFERENCE_BACKEND}'s`, { timeout: TIMEOUT }, async () => {
        const outcome = await backendRun({ entry, unavailable }, await reference(IRIS), IRIS.options);
        if (outcome.status !== 'trained') throw new Error(`${outcome.status}: ${outcome.reason}`);
        const { result, maxParamDiff } = outcome;
        expect(result.testAccuracy).toBeGreaterThanOrEqual(0.9);
        expect(result.finalLoss).toBeLessThan(result.losses[0]! / 5);
        const bound = PARAM_DIFF_BOUND[result.dtype];
        expect(bound, `no bound for dtype ${result.dtype}`).toBeDefined();
        expect(maxParamDiff).toBeLessThanOrEqual(bound!);
        console.log(`[backends] ${entry.name} iris: test accuracy ${result.testAccuracy.toFixed(3)}, max |Δθ| ${maxParamDiff.toExponential(2)}`);
      });

      it('learns the two spirals: the loss falls below a third of its start, test accuracy ≥ 0.85', { timeout: TIMEOUT }, async () => {
        const outcome = await backendRun({ entry, unavailable }, await reference(SPIRALS), SPIRALS.options);
        if (outcome.status !== 'trained') throw new Error(`${outcome.status}: ${outcome.reason}`);
        const { result, maxParamDiff } = outcome;
        // ln 2 ≈ 0.69 is chance; a linear model cannot go much below it on two spirals.
        expect(result.losses[0]).toBeGreaterThan(0.6);
        expect(result.finalLoss).toBeLessThan(result.losses[0]! / 3);
        expect(result.testAccuracy).toBeGreaterThanOrEqual(0.85);
        expect(maxParamDiff).toBeLessThanOrEqual(PARAM_DIFF_BOUND[result.dtype]!);
      });
    });
  });
}
