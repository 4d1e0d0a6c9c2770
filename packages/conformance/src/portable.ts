/**
 * `@rectify/conformance/portable`: what replays and judges the golden cases without Node
 * or vitest, for a backend that lives in a browser page or a worker. Load the goldens with
 * the bundler (`@rectify/conformance/goldens/radam.json`), pass them to
 * {@link parseGoldenFile}, replay each case with {@link replayRadamCase} and report
 * {@link radamGoldenMismatches}: the same verdicts as the vitest suite. {@link runSoak}
 * measures a long run there too.
 *
 * @packageDocumentation
 */
export {
  isRadamCase,
  isSchedulerCase,
  parseGoldenFile,
  type GoldenFile,
  type GoldenParam,
  type RadamGoldenCase,
  type SchedulerGoldenCase,
} from './goldens.js';
export { radamGoldenMismatches, schedulerGoldenMismatches } from './golden-check.js';
export {
  replayRadamCase,
  replaySchedulerCase,
  type BackendFactory,
  type FailedReplay,
  type Interruption,
  type RadamReplay,
  type ReplayedState,
} from './replay.js';
export { SCHEDULER_TOLERANCE, firstMismatch, toleranceFor, type Mismatch, type Tolerance } from './tolerance.js';
export { REQUIRE_ALL_BACKENDS_VARIABLE, everyBackendRequired } from './environment.js';
export { runSoak, type SoakOptions, type SoakResult } from './soak.js';
