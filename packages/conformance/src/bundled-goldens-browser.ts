/**
 * The golden cases this package ships, for a browser: the same JSON files as
 * `golden-files.ts` reads in Node, imported through the package's own `./goldens/*`
 * export so that a bundler (Vite, vitest browser mode) inlines them and nothing reads a
 * file system. Chosen by the `browser` condition of `#bundled-goldens` in package.json.
 */
import radamJson from '@rectify/conformance/goldens/radam.json' with { type: 'json' };
import schedulersJson from '@rectify/conformance/goldens/schedulers.json' with { type: 'json' };
import { isRadamCase, isSchedulerCase, parseGoldenFile, type RadamGoldenCase, type SchedulerGoldenCase } from './goldens.js';

// Parsed (and so validated) once, on first use, as the Node variant parses on every call.
let radam: readonly RadamGoldenCase[] | undefined;
let schedulers: readonly SchedulerGoldenCase[] | undefined;

/** The bundled RAdam golden cases. */
export function radamGoldenCases(): readonly RadamGoldenCase[] {
  radam ??= parseGoldenFile(radamJson as unknown, 'radam.json').cases.filter(isRadamCase);
  return radam;
}

/** The bundled scheduler golden cases. */
export function schedulerGoldenCases(): readonly SchedulerGoldenCase[] {
  schedulers ??= parseGoldenFile(schedulersJson as unknown, 'schedulers.json').cases.filter(isSchedulerCase);
  return schedulers;
}
