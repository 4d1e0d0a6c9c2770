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

/**
 * Checks that `value` (a golden file's parsed JSON) has the shape of one: an object with a
 * `cases` list. `source` names it in the error. Usable anywhere, browsers included.
 */
export function parseGoldenFile(value: unknown, source: string): GoldenFile {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as GoldenFile).cases)) {
    throw new Error(`${source} is not a golden file: expected an object with a "cases" list.`);
  }
  return value as GoldenFile;
}

/** `true` for a learning-rate sequence case. */
export function isSchedulerCase(value: RadamGoldenCase | SchedulerGoldenCase): value is SchedulerGoldenCase {
  return typeof (value as SchedulerGoldenCase).scheduler === 'string';
}

/** `true` for an optimizer trajectory case. */
export function isRadamCase(value: RadamGoldenCase | SchedulerGoldenCase): value is RadamGoldenCase {
  return !isSchedulerCase(value) && typeof (value as RadamGoldenCase).params === 'object';
}
