import { RAdam, type RAdamOptions, type TensorBackend } from '@rectify/core';
import { accuracy, meanLoss, paramSpecs, type Float64Params, type HostParams } from '../model/mlp.js';
import type { GradientStream } from './gradient-stream.js';
import type { Task } from './tasks.js';

/** Options of {@link trainRun}. */
export interface TrainRunOptions {
  readonly steps: number;
  /** RAdam's options; `lr` may be a scheduler spec (each run builds its own scheduler from it). */
  readonly optimizer: RAdamOptions;
  /** The initial parameters (float64, by name), the same for every run. */
  readonly initial: HostParams;
  readonly gradients: GradientStream;
  /**
   * Called after every step with the number of steps done and the loss before that step.
   * A returned promise is awaited: the web page yields to the browser through it, so the
   * live chart repaints during training.
   */
  readonly onStep?: (done: number, loss: number) => void | Promise<void>;
}

/** What a run did and what it ended with. */
export interface TrainRunResult {
  readonly backend: string;
  readonly dtype: string;
  /** `losses[i]`: training loss after `i` steps (`steps + 1` entries). */
  readonly losses: readonly number[];
  /** `lrs[i]`: learning rate step `i + 1` used. */
  readonly lrs: readonly number[];
  /** Parameters after the last step, read back and widened to float64. */
  readonly finalParams: Float64Params;
  readonly finalLoss: number;
  readonly trainAccuracy: number;
  readonly testAccuracy: number;
  /**
   * Optimizer throughput: steps divided by the time spent uploading gradients and in
   * `step()` (not in reading parameters back or computing gradients, which every backend
   * shares on the host).
   */
  readonly stepsPerSecond: number;
}

async function readParams<T>(backend: TensorBackend<T>, tensors: Record<string, T>): Promise<Float64Params> {
  const host: Float64Params = {};
  for (const [name, tensor] of Object.entries(tensors)) host[name] = Float64Array.from(await backend.read(tensor));
  return host;
}

/**
 * Trains `task`'s network with RAdam on `backend`, full batch, for `options.steps` steps.
 * Each step reads the parameters back to the host, takes the loss and the gradients from
 * `options.gradients`, uploads the gradients with `backend.fromArray` and applies
 * `optimizer.step()` (awaited: synchronous and asynchronous backends alike). The
 * scheduler, if any, advances once per step (full batch: a step is an epoch).
 */
export async function trainRun<T>(backend: TensorBackend<T>, task: Task, options: TrainRunOptions): Promise<TrainRunResult> {
  const specs = paramSpecs(task.model);
  const tensors: Record<string, T> = {};
  for (const { name, shape } of specs) {
    const initial = options.initial[name];
    if (initial === undefined) throw new Error(`No initial value for parameter "${name}".`);
    tensors[name] = backend.fromArray(initial, shape);
  }
  const optimizer = new RAdam(backend, options.optimizer);
  const losses: number[] = [];
  const lrs: number[] = [];
  let optimizerMs = 0;
  try {
    optimizer.registerTrainableWeights(tensors);
    for (let step = 0; step < options.steps; step++) {
      const { loss, grads } = options.gradients.next(step, await readParams(backend, tensors));
      losses.push(loss);
      lrs.push(optimizer.currentLr);
      const started = performance.now();
      const gradTensors: Record<string, T> = {};
      for (const { name, shape } of specs) gradTensors[name] = backend.fromArray(grads[name]!, shape);
      try {
        await optimizer.step(gradTensors);
      } finally {
        for (const tensor of Object.values(gradTensors)) backend.disposeTensor(tensor);
      }
      optimizerMs += performance.now() - started;
      // The loss is the metric ReduceLROnPlateau watches; every other scheduler ignores it.
      optimizer.scheduler?.step(loss);
      await options.onStep?.(step + 1, loss);
    }
    const finalParams = await readParams(backend, tensors);
    const finalLoss = meanLoss(task.model, finalParams, task.train);
    losses.push(finalLoss);
    return {
      backend: backend.name,
      dtype: backend.dtype,
      losses,
      lrs,
      finalParams,
      finalLoss,
      trainAccuracy: accuracy(task.model, finalParams, task.train),
      testAccuracy: accuracy(task.model, finalParams, task.test),
      stepsPerSecond: options.steps / Math.max(optimizerMs / 1000, 1e-9),
    };
  } finally {
    optimizer.dispose();
    for (const tensor of Object.values(tensors)) backend.disposeTensor(tensor);
  }
}

/** Largest `|a − b|` over every element of every parameter of `a`. */
export function maxParamDifference(a: HostParams, b: HostParams): number {
  let max = 0;
  for (const [name, values] of Object.entries(a)) {
    const other = b[name];
    if (other === undefined || other.length !== values.length) return Infinity;
    for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]! - other[i]!));
  }
  return max;
}
