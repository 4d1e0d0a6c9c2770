/**
 * `@rectify/conformance`: the golden cases and the machinery to replay them on any
 * backend. The vitest suite lives at `@rectify/conformance/vitest`, so that importing
 * this entry point never loads vitest.
 *
 * @packageDocumentation
 */
export {
  bundledGoldenPath,
  isRadamCase,
  isSchedulerCase,
  loadGoldenFile,
  radamGoldenCases,
  schedulerGoldenCases,
  type BundledGolden,
  type GoldenFile,
  type GoldenParam,
  type RadamGoldenCase,
  type SchedulerGoldenCase,
} from './goldens.js';
export {
  replayRadamCase,
  replaySchedulerCase,
  type BackendFactory,
  type FailedReplay,
  type Interruption,
  type RadamReplay,
  type ReplayedState,
} from './replay.js';
export { runReplayCli, type BackendRegistry } from './cli.js';
export { runSoak, type SoakOptions, type SoakResult } from './soak.js';
export { SCHEDULER_TOLERANCE, firstMismatch, toleranceFor, type Mismatch, type Tolerance } from './tolerance.js';
export { REQUIRE_ALL_BACKENDS_VARIABLE, everyBackendRequired } from './environment.js';
