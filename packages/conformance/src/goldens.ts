import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RAdamOptions, SchedulerSpec } from '@rectify/core';

/** One parameter of a golden case: its dimensions and row-major data. */
export interface GoldenParam {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/** One RAdam trajectory of `radam.json` (format in SPEC.md). */
export interface RadamGoldenCase {
  readonly name: string;
  /** The `compat` mode the case was produced with. */
  readonly semantics: 'braintools' | 'torch';
  /** Optimizer options; `lr` may be a scheduler spec. */
  readonly options: Omit<RAdamOptions, 'lr'> & { readonly lr?: number | SchedulerSpec };
  /** Call the scheduler's `step()` after every that many optimizer steps. */
  readonly schedulerStepEvery?: number;
  /** `appliedLr[i]`: the learning rate step `i + 1` used. */
  readonly appliedLr?: readonly number[];
  readonly params: Readonly<Record<string, GoldenParam>>;
  /** `grads[i]`: the gradients of step `i + 1`; a missing name means no gradient. */
  readonly grads: readonly Readonly<Record<string, readonly number[]>>[];
  /** `expected[i]`: every parameter after step `i + 1`. */
  readonly expected: readonly Readonly<Record<string, readonly number[]>>[];
  readonly finalState: Readonly<Record<string, { step: number; m: readonly number[]; v: readonly number[] }>>;
}

/** One learning-rate sequence of `schedulers.json`. */
export interface SchedulerGoldenCase {
  readonly name: string;
  readonly scheduler: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly epochs: number;
  /** With metrics, epoch `i` calls `step(metrics[i])`. */
  readonly metrics?: readonly number[];
  /** `expected[i]`: the learning rates after `i` calls of `step()`. */
  readonly expected: readonly (readonly number[])[];
}

/** A parsed golden file: RAdam cases, scheduler cases, or both kinds mixed. */
export interface GoldenFile {
  readonly cases: readonly (RadamGoldenCase | SchedulerGoldenCase)[];
}

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
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as GoldenFile).cases)) {
    throw new Error(`${path} is not a golden file: expected an object with a "cases" list.`);
  }
  return parsed as GoldenFile;
}

/** The bundled RAdam golden cases. */
export function radamGoldenCases(): readonly RadamGoldenCase[] {
  return loadGoldenFile(bundledGoldenPath('radam.json')).cases.filter(isRadamCase);
}

/** The bundled scheduler golden cases. */
export function schedulerGoldenCases(): readonly SchedulerGoldenCase[] {
  return loadGoldenFile(bundledGoldenPath('schedulers.json')).cases.filter(isSchedulerCase);
}

/** `true` for a learning-rate sequence case. */
export function isSchedulerCase(value: RadamGoldenCase | SchedulerGoldenCase): value is SchedulerGoldenCase {
  return typeof (value as SchedulerGoldenCase).scheduler === 'string';
}

/** `true` for an optimizer trajectory case. */
export function isRadamCase(value: RadamGoldenCase | SchedulerGoldenCase): value is RadamGoldenCase {
  return !isSchedulerCase(value) && typeof (value as RadamGoldenCase).params === 'object';
}
