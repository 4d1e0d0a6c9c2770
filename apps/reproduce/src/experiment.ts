/**
 * One training run: an MLP built with tfjs layers, trained with `model.fit` on tfjs's
 * `cpu` backend by one of the four optimizers the paper compares.
 */
import * as tf from '@tensorflow/tfjs';
import { RAdamOptimizer } from '@rectify/backend-tfjs';
import { LinearLR } from '@rectify/core';
import { seededRandom, shuffled } from '@rectify/example/dist/random.js';
import { CLASSES, type Digits, type Split } from './data.js';

/** The optimizers compared, as the JSON output names them. */
export const OPTIMIZERS = ['radam', 'adam', 'adam-warmup', 'sgd'] as const;
/** One of {@link OPTIMIZERS}. */
export type OptimizerName = (typeof OPTIMIZERS)[number];

/**
 * β2 of every adaptive optimizer. 0.99 rather than 0.999: the paper's warm-up length
 * 2/(1−β2) is then 200 steps, which fits inside runs short enough for two CPU cores; the
 * claim (variance of the adaptive rate is large while few gradients are averaged) is the
 * same, RAdam's rectification simply ends sooner.
 */
export const BETA1 = 0.9;
/** See {@link BETA1}. */
export const BETA2 = 0.99;
/** Denominator stabiliser, the same for tfjs Adam and RAdam. */
export const EPSILON = 1e-8;
/** Linear warm-up length of `adam-warmup`: the paper's 2/(1−β2) steps. */
export const WARMUP_STEPS = Math.round(2 / (1 - BETA2));
/** Momentum of the SGD reference. */
export const SGD_MOMENTUM = 0.9;

/** Sizes of the model and of a run. */
export interface RunShape {
  /** Units of the single hidden layer (ReLU). */
  readonly hidden: number;
  /** Minibatch size. */
  readonly batchSize: number;
  /** Optimizer steps (minibatches). */
  readonly steps: number;
}

/** What one run produced. */
export interface RunResult {
  readonly optimizer: OptimizerName;
  readonly lr: number;
  readonly seed: number;
  /** Share of the test split classified correctly after the last step. */
  readonly testAccuracy: number;
  /** Mean training loss of the last tenth of the steps (one minibatch is noisy). */
  readonly finalLoss: number;
  /** `losses[i]`: minibatch cross-entropy of step `i + 1`. */
  readonly losses: readonly number[];
  /** Wall time of the run, ms. */
  readonly ms: number;
}

/**
 * tfjs's own Adam with a learning rate that can be changed between steps: tfjs reads
 * `learningRate` at every step but keeps it protected, so warm-up needs this subclass.
 */
class SchedulableAdam extends tf.AdamOptimizer {
  /** Sets the rate the next step uses. */
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}

/** The optimizer and the `model.fit` callbacks it needs. */
function makeOptimizer(name: OptimizerName, lr: number): { optimizer: tf.Optimizer; callbacks: tf.CustomCallbackArgs } {
  switch (name) {
    case 'radam':
      return { optimizer: new RAdamOptimizer({ lr, betas: [BETA1, BETA2], eps: EPSILON }), callbacks: {} };
    case 'adam':
      return { optimizer: tf.train.adam(lr, BETA1, BETA2, EPSILON), callbacks: {} };
    case 'adam-warmup': {
      // Rectify's LinearLR, stepped once per batch, from lr/WARMUP_STEPS up to lr.
      const schedule = new LinearLR({ baseLr: lr, startFactor: 1 / WARMUP_STEPS, endFactor: 1, totalIters: WARMUP_STEPS - 1 });
      const optimizer = new SchedulableAdam(schedule.getLastLr()[0]!, BETA1, BETA2, EPSILON);
      return {
        optimizer,
        callbacks: {
          onBatchEnd: async () => {
            schedule.step();
            optimizer.setLearningRate(schedule.getLastLr()[0]!);
          },
        },
      };
    }
    case 'sgd':
      return { optimizer: tf.train.momentum(lr, SGD_MOMENTUM), callbacks: {} };
  }
}

/**
 * A 1-hidden-layer MLP whose initial weights depend only on `seed` (tfjs's seeded Glorot
 * initialiser, zero biases), so every optimizer starts a seed from the same point.
 */
export function buildModel(inputs: number, hidden: number, seed: number): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: hidden, activation: 'relu', inputShape: [inputs], kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

/** Rows of `digits` at `indices` as model inputs and one-hot targets. */
function tensors(digits: Digits, indices: readonly number[]): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const width = digits.side * digits.side;
  const x = new Float32Array(indices.length * width);
  const y = new Float32Array(indices.length * CLASSES);
  indices.forEach((index, row) => {
    x.set(digits.pixels.subarray(index * width, (index + 1) * width), row * width);
    y[row * CLASSES + digits.labels[index]!] = 1;
  });
  return { x: tf.tensor2d(x, [indices.length, width]), y: tf.tensor2d(y, [indices.length, CLASSES]) };
}

/**
 * The training rows of a run in order: seeded reshuffles of the training split, one per
 * epoch, cut at `steps × batchSize`. Depends on the seed only, so every optimizer of a
 * seed sees the same minibatches.
 */
export function batchOrder(train: readonly number[], shape: RunShape, seed: number): number[] {
  const random = seededRandom(seed * 7919 + 17);
  const order: number[] = [];
  while (order.length < shape.steps * shape.batchSize) order.push(...shuffled(train, random));
  return order.slice(0, shape.steps * shape.batchSize);
}

/** Per-step hooks of a run, and its minibatch order. */
export interface RunHooks {
  /** Seed of the minibatch order; default: the run's seed. */
  readonly batchSeed?: number;
  /** After each step: steps done and that step's loss. */
  readonly onStep?: (done: number, loss: number) => void;
  /** After each step, with the optimizer (to read its moments). */
  readonly onOptimizerStep?: (step: number, optimizer: tf.Optimizer) => Promise<void>;
}

/** Trains one model and scores it on the test split. */
export async function runOne(
  digits: Digits,
  split: Split,
  shape: RunShape,
  optimizerName: OptimizerName,
  lr: number,
  seed: number,
  hooks: RunHooks = {},
): Promise<RunResult> {
  const started = performance.now();
  const losses: number[] = [];
  const train = tensors(digits, batchOrder(split.train, shape, hooks.batchSeed ?? seed));
  const test = tensors(digits, split.test);
  const model = buildModel(digits.side * digits.side, shape.hidden, seed);
  const { optimizer, callbacks } = makeOptimizer(optimizerName, lr);
  try {
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    await model.fit(train.x, train.y, {
      batchSize: shape.batchSize,
      epochs: 1,
      shuffle: false,
      verbose: 0,
      callbacks: {
        onBatchEnd: async (batch, logs) => {
          await callbacks.onBatchEnd?.(batch, logs);
          const loss = logs?.loss ?? Number.NaN;
          losses.push(loss);
          hooks.onStep?.(losses.length, loss);
          await hooks.onOptimizerStep?.(losses.length, optimizer);
        },
      },
    });
    const testAccuracy = tf.tidy(() => {
      const predicted = (model.predict(test.x) as tf.Tensor2D).argMax(1);
      return predicted.equal(test.y.argMax(1)).mean().dataSync()[0]!;
    });
    const tail = losses.slice(-Math.max(1, Math.round(losses.length / 10)));
    const finalLoss = tail.reduce((a, b) => a + b, 0) / tail.length;
    return { optimizer: optimizerName, lr, seed, testAccuracy, finalLoss, losses, ms: performance.now() - started };
  } finally {
    model.dispose();
    optimizer.dispose();
    tf.dispose([train.x, train.y, test.x, test.y]);
  }
}
