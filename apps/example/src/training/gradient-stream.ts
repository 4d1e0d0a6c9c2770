import type { Dataset } from '../data/dataset.js';
import { lossAndGradients, meanLoss, type Float64Params, type HostParams, type MlpArchitecture } from '../model/mlp.js';

/** What one step of a run gets: the loss of its current parameters and the gradients to apply. */
export interface StepInput {
  readonly loss: number;
  readonly grads: Float64Params;
}

/**
 * Where a training run's gradients come from, step by step. Given the run's current
 * parameters (read back from its backend), it returns their loss and the gradients the
 * optimizer applies next.
 */
export interface GradientStream {
  next(step: number, params: HostParams): StepInput;
}

/** Gradients of the run's own parameters: ordinary training. */
export function ownGradients(model: MlpArchitecture, data: Dataset): GradientStream {
  return { next: (_step, params) => lossAndGradients(model, params, data) };
}

/** {@link ownGradients}, keeping a copy of every step's gradients in `recording`. */
export function recordingGradients(model: MlpArchitecture, data: Dataset, recording: Float64Params[]): GradientStream {
  const own = ownGradients(model, data);
  return {
    next(step, params) {
      const input = own.next(step, params);
      recording[step] = input.grads;
      return input;
    },
  };
}

/**
 * The gradients of a recorded run (the cpu64 reference), step for step, whatever the
 * run's own parameters are: every backend then sees exactly the same gradient stream, so
 * any difference in the parameters it ends with is the optimizer's arithmetic alone. The
 * loss is still that of the run's own parameters.
 */
export function replayedGradients(model: MlpArchitecture, data: Dataset, recording: readonly Float64Params[]): GradientStream {
  return {
    next(step, params) {
      const grads = recording[step];
      if (grads === undefined) throw new Error(`The recorded gradient stream has no step ${step + 1}.`);
      return { loss: meanLoss(model, params, data), grads };
    },
  };
}

/**
 * Wraps a stream to measure how far the optimizer moved the parameters: between two
 * consecutive steps, `updateNorms[step − 1]` receives `‖θ_step − θ_(step−1)‖₂`, the size
 * of step `step`'s update. (The stream sees the parameters before every step, so the last
 * step's update is not measured.)
 */
export function measuringUpdates(inner: GradientStream, updateNorms: number[]): GradientStream {
  let previous: Float64Params | undefined;
  return {
    next(step, params) {
      const current: Float64Params = {};
      for (const [name, values] of Object.entries(params)) current[name] = Float64Array.from(values);
      if (previous !== undefined) {
        let squares = 0;
        for (const [name, values] of Object.entries(current)) {
          const before = previous[name]!;
          for (let i = 0; i < values.length; i++) squares += (values[i]! - before[i]!) ** 2;
        }
        updateNorms[step - 1] = Math.sqrt(squares);
      }
      previous = current;
      return inner.next(step, params);
    },
  };
}
