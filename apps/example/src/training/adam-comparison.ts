import * as tf from '@tensorflow/tfjs';
import { cpuBackend } from '@rectify/backend-cpu';
import { initialParams, paramSpecs, type Float64Params } from '../model/mlp.js';
import { measuringUpdates, ownGradients, type GradientStream } from './gradient-stream.js';
import type { Task } from './tasks.js';
import { trainRun } from './train-run.js';

/** One optimizer's first steps: loss and update size per step. */
export interface OptimizerTrace {
  readonly optimizer: string;
  /** `losses[i]`: training loss after `i` steps. */
  readonly losses: readonly number[];
  /** `updateNorms[i]`: `‖Δθ‖₂` of step `i + 1`. */
  readonly updateNorms: readonly number[];
}

/** Options of {@link compareWithAdam}. */
export interface AdamComparisonOptions {
  readonly steps: number;
  /** One constant learning rate for both optimizers (no scheduler: the warm-up must be RAdam's own). */
  readonly lr: number;
  readonly seed: number;
}

/** Adam's and RAdam's shared hyperparameters (SPEC.md's defaults; tfjs's epsilon default differs). */
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

/**
 * Trains `task`'s network from the same initial weights with TensorFlow.js's Adam
 * (`tf.train.adam`, tfjs cpu backend, float32), feeding it the gradients of its own
 * parameters from `gradients` at every step.
 */
async function trainWithTfjsAdam(task: Task, options: AdamComparisonOptions, gradients: GradientStream): Promise<number[]> {
  await tf.setBackend('cpu');
  const initial = initialParams(task.model, options.seed);
  const specs = paramSpecs(task.model);
  // Variable names are global to the tfjs engine: make them unique per run.
  const prefix = `adam-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const variables = specs.map(({ name, shape }) =>
    tf.variable(tf.tensor(Float32Array.from(initial[name]!), [...shape], 'float32'), true, `${prefix}/${name}`),
  );
  const adam = tf.train.adam(options.lr, BETA1, BETA2, EPSILON);
  const losses: number[] = [];
  const read = (): Float64Params =>
    Object.fromEntries(specs.map(({ name }, i) => [name, Float64Array.from(variables[i]!.dataSync())]));
  try {
    for (let step = 0; step < options.steps; step++) {
      const { loss, grads } = gradients.next(step, read());
      losses.push(loss);
      const named = specs.map(({ name, shape }, i) => ({
        name: variables[i]!.name,
        tensor: tf.tensor(Float32Array.from(grads[name]!), [...shape], 'float32'),
      }));
      adam.applyGradients(named);
      tf.dispose(named.map((g) => g.tensor));
    }
    losses.push(gradients.next(options.steps, read()).loss);
    return losses;
  } finally {
    adam.dispose();
    tf.dispose(variables);
  }
}

/**
 * RAdam (cpu64) against Adam (tfjs) on `task`, from the same initial weights, with the
 * same constant learning rate and betas, each on its own gradients. Adam's first updates
 * are full-sized (`≈ lr` per weight: the bias-corrected `m/√v` is about ±1 from step 1),
 * while RAdam's variance rectification scales its updates by `r_t`, which grows from 0
 * over the first hundreds of steps: the automatic warm-up shows in the update sizes.
 */
export async function compareWithAdam(task: Task, options: AdamComparisonOptions): Promise<OptimizerTrace[]> {
  const radamNorms: number[] = [];
  const radam = await trainRun(cpuBackend({ dtype: 'float64' }), task, {
    steps: options.steps,
    optimizer: { lr: options.lr, betas: [BETA1, BETA2], eps: EPSILON },
    initial: initialParams(task.model, options.seed),
    gradients: measuringUpdates(ownGradients(task.model, task.train), radamNorms),
  });
  const adamNorms: number[] = [];
  const adamLosses = await trainWithTfjsAdam(task, options, measuringUpdates(ownGradients(task.model, task.train), adamNorms));
  return [
    { optimizer: 'RAdam (Rectify, cpu64)', losses: radam.losses, updateNorms: radamNorms },
    { optimizer: 'Adam (tfjs tf.train.adam)', losses: adamLosses, updateNorms: adamNorms },
  ];
}
