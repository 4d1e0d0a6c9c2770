/**
 * The golden files on disk (Node): the ones this package ships, or any path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isRadamCase, isSchedulerCase, parseGoldenFile, type GoldenFile, type RadamGoldenCase, type SchedulerGoldenCase } from './goldens.js';

/** The golden files this package ships. */
export type BundledGolden = 'radam.json' | 'schedulers.json';

/** Absolute path of a golden file shipped with this package. */
export function bundledGoldenPath(name: BundledGolden): string {
  return fileURLToPath(new URL(`../goldens/${name}`, import.meta.url));
}

/**
 * Reads a golden file: a path, or the bare name of a bundled one (`'radam.json'`) when no
 * file of that name exists relative to the working directory.
 */
export function loadGoldenFile(pathOrName: string): GoldenFile {
  const path =
    !existsSync(pathOrName) && (pathOrName === 'radam.json' || pathOrName === 'schedulers.json')
      ? bundledGoldenPath(pathOrName)
      : pathOrName;
  return parseGoldenFile(JSON.parse(readFileSync(path, 'utf8')) as unknown, path);
}

/** The bundled RAdam golden cases. */
export function radamGoldenCases(): readonly RadamGoldenCase[] {
  return loadGoldenFile(bundledGoldenPath('radam.json')).cases.filter(isRadamCase);
}

/** The bundled scheduler golden cases. */
export function schedulerGoldenCases(): readonly SchedulerGoldenCase[] {
  return loadGoldenFile(bundledGoldenPath('schedulers.json')).cases.filter(isSchedulerCase);
}
