/**
 * `@rectify/conformance`: the golden cases and the machinery to replay them on any
 * backend. The vitest suite lives at `@rectify/conformance/vitest`, so that importing
 * this entry point never loads vitest.
 *
 * @packageDocumentation
 */
export { bundledGoldenPath, loadGoldenFile, radamGoldenCases, schedulerGoldenCases, type BundledGolden } from './golden-files.js';
export * from './portable.js';
export { runReplayCli, type BackendRegistry } from './cli.js';
