import type { RAdamOptions, TensorBackend } from '@rectify/core';
import { initialParams, type Float64Params } from '../model/mlp.js';
import { REFERENCE_BACKEND, referenceEntry, type BackendStatus } from './backends.js';
import { ownGradients, recordingGradients, replayedGradients, type GradientStream } from './gradient-stream.js';
import type { Task } from './tasks.js';
import { maxParamDifference, trainRun, type TrainRunResult } from './train-run.js';

/**
 * Where each backend's gradients come from:
 * - `'reference'` (default): the gradients of the cpu64 reference run, step for step, so
 *   every backend is fed the identical stream and parameter differences measure the
 *   optimizer's arithmetic alone;
 * - `'own'`: the gradients of the backend's own parameters (ordinary training), so float32
 *   rounding also feeds back through the model.
 */
export type GradientMode = 'reference' | 'own';

/** Options of {@link runExperiment}. */
export interface ExperimentOptions {
  readonly steps: number;
  readonly optimizer: RAdamOptions;
  /** Seeds the initial weights. */
  readonly seed: number;
  readonly gradients: GradientMode;
  /** Gives the step callback of the run called `label` (for progress bars). */
  readonly progress?: (label: string, total: number) => ((done: number, loss: number) => void) | undefined;
}

/** What happened to one backend. */
export type BackendOutcome =
  | { readonly backend: string; readonly status: 'trained'; readonly result: TrainRunResult; readonly maxParamDiff: number }
  | { readonly backend: string; readonly status: 'skipped' | 'failed'; readonly reason: string };

/** The cpu64 run every backend is compared with, and the gradients it applied. */
export interface ReferenceRun {
  readonly task: Task;
  readonly result: TrainRunResult;
  /** `recording[i]`: the gradients of step `i + 1`. */
  readonly recording: readonly Float64Params[];
}

/** One task trained on the reference and on every chosen backend. */
export interface ExperimentResult {
  readonly task: Task;
  readonly reference: TrainRunResult;
  readonly outcomes: readonly BackendOutcome[];
}

/** Trains on a fresh backend from `create`, from the task's initial weights, then disposes it. */
async function runOn(
  task: Task,
  label: string,
  create: () => Promise<TensorBackend<any>>,
  gradients: GradientStream,
  options: ExperimentOptions,
): Promise<TrainRunResult> {
  const backend = await create();
  try {
    return await trainRun(backend, task, {
      steps: options.steps,
      optimizer: options.optimizer,
      initial: initialParams(task.model, options.seed),
      gradients,
      onStep: options.progress?.(label, options.steps),
    });
  } finally {
    backend.dispose?.();
  }
}

/** Trains `task` on the cpu64 reference, recording its gradients. */
export async function referenceRun(task: Task, options: ExperimentOptions): Promise<ReferenceRun> {
  const recording: Float64Params[] = [];
  const gradients = recordingGradients(task.model, task.train, recording);
  const result = await runOn(task, `${task.id} ${REFERENCE_BACKEND} (reference)`, referenceEntry().create, gradients, options);
  return { task, result, recording };
}

/**
 * Trains the reference's task on one backend from the same initial weights, fed as
 * {@link GradientMode} says. A backend that cannot run here is reported as skipped with
 * its reason; one that throws is reported as failed with the error.
 */
export async function backendRun(status: BackendStatus, reference: ReferenceRun, options: ExperimentOptions): Promise<BackendOutcome> {
  const { entry, unavailable } = status;
  if (unavailable !== undefined) return { backend: entry.name, status: 'skipped', reason: unavailable };
  const { task } = reference;
  const gradients =
    options.gradients === 'reference'
      ? replayedGradients(task.model, task.train, reference.recording)
      : ownGradients(task.model, task.train);
  try {
    const result = await runOn(task, `${task.id} ${entry.name}`, entry.create, gradients, options);
    return { backend: entry.name, status: 'trained', result, maxParamDiff: maxParamDifference(result.finalParams, reference.result.finalParams) };
  } catch (error) {
    return { backend: entry.name, status: 'failed', reason: error instanceof Error ? error.message : String(error) };
  }
}

/** {@link referenceRun}, then {@link backendRun} on each backend in turn (the others still run when one fails). */
export async function runExperiment(task: Task, backends: readonly BackendStatus[], options: ExperimentOptions): Promise<ExperimentResult> {
  const reference = await referenceRun(task, options);
  const outcomes: BackendOutcome[] = [];
  for (const status of backends) outcomes.push(await backendRun(status, reference, options));
  return { task, reference: reference.result, outcomes };
}
