import type { Dataset } from '../data/dataset.js';
import { seededRandom } from '../random.js';

/**
 * A fully connected classifier: `tanh` hidden layers, a softmax output and the mean
 * cross-entropy loss. `layers` lists the widths, inputs first and classes last, so
 * `[4, 16, 3]` is Iris's 4 → 16 → 3 network.
 *
 * Parameters are named `w1, b1, w2, b2, …` (layer `i`'s kernel, `layers[i−1] × layers[i]`
 * row-major, and bias, `layers[i]`), the names every backend registers them under.
 */
export interface MlpArchitecture {
  readonly layers: readonly number[];
}

/** Parameters (or gradients) by name, on the host. */
export type HostParams = Readonly<Record<string, ArrayLike<number>>>;

/** Parameters (or gradients) by name, as float64 arrays. */
export type Float64Params = Record<string, Float64Array>;

/** A parameter's name and shape. */
export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly [number] | readonly [number, number];
}

/** Every parameter of `model`, in registration order. */
export function paramSpecs(model: MlpArchitecture): ParamSpec[] {
  const specs: ParamSpec[] = [];
  for (let i = 1; i < model.layers.length; i++) {
    specs.push({ name: `w${i}`, shape: [model.layers[i - 1]!, model.layers[i]!] });
    specs.push({ name: `b${i}`, shape: [model.layers[i]!] });
  }
  return specs;
}

/** Total number of trainable numbers in `model`. */
export function parameterCount(model: MlpArchitecture): number {
  return paramSpecs(model).reduce((sum, { shape }) => sum + shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * Glorot-uniform kernels and zero biases, from a seeded generator: the one set of initial
 * weights every backend starts from.
 */
export function initialParams(model: MlpArchitecture, seed: number): Float64Params {
  const random = seededRandom(seed);
  const params: Float64Params = {};
  for (const { name, shape } of paramSpecs(model)) {
    if (shape.length === 1) {
      params[name] = new Float64Array(shape[0]);
    } else {
      const limit = Math.sqrt(6 / (shape[0] + shape[1]));
      params[name] = Float64Array.from({ length: shape[0] * shape[1] }, () => (2 * random() - 1) * limit);
    }
  }
  return params;
}

function param(params: HostParams, name: string): ArrayLike<number> {
  const value = params[name];
  if (value === undefined) throw new Error(`The MLP has no parameter "${name}".`);
  return value;
}

/** Activations of every layer (`activations[0]` is the input) and the softmax output. */
interface ForwardPass {
  readonly activations: Float64Array[];
  readonly probabilities: Float64Array;
}

function forward(model: MlpArchitecture, params: HostParams, data: Dataset): ForwardPass {
  const { layers } = model;
  const rows = data.rows;
  const activations: Float64Array[] = [data.x];
  let input = data.x;
  for (let i = 1; i < layers.length; i++) {
    const fanIn = layers[i - 1]!;
    const width = layers[i]!;
    const w = param(params, `w${i}`);
    const b = param(params, `b${i}`);
    const z = new Float64Array(rows * width);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < width; o++) {
        let sum = b[o]!;
        for (let k = 0; k < fanIn; k++) sum += input[r * fanIn + k]! * w[k * width + o]!;
        z[r * width + o] = i < layers.length - 1 ? Math.tanh(sum) : sum;
      }
    }
    activations.push(z);
    input = z;
  }
  // Softmax of the logits, shifted by the row maximum so exp() cannot overflow.
  const classes = layers[layers.length - 1]!;
  const probabilities = new Float64Array(input);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, probabilities[r * classes + c]!);
    let total = 0;
    for (let c = 0; c < classes; c++) total += probabilities[r * classes + c] = Math.exp(probabilities[r * classes + c]! - max);
    for (let c = 0; c < classes; c++) probabilities[r * classes + c]! /= total;
  }
  return { activations, probabilities };
}

function crossEntropy(probabilities: Float64Array, data: Dataset): number {
  let sum = 0;
  for (let r = 0; r < data.rows; r++) {
    // Clamped so a confident mistake costs a large finite loss, not Infinity.
    sum -= Math.log(Math.max(probabilities[r * data.classes + data.labels[r]!]!, 1e-300));
  }
  return sum / data.rows;
}

/** Mean cross-entropy of `params` on `data`. */
export function meanLoss(model: MlpArchitecture, params: HostParams, data: Dataset): number {
  return crossEntropy(forward(model, params, data).probabilities, data);
}

/** Class probabilities, `rows × classes` row-major. */
export function predictProbabilities(model: MlpArchitecture, params: HostParams, data: Dataset): Float64Array {
  return forward(model, params, data).probabilities;
}

/** Share of rows whose most probable class is their label. */
export function accuracy(model: MlpArchitecture, params: HostParams, data: Dataset): number {
  const probabilities = predictProbabilities(model, params, data);
  let correct = 0;
  for (let r = 0; r < data.rows; r++) {
    let best = 0;
    for (let c = 1; c < data.classes; c++) {
      if (probabilities[r * data.classes + c]! > probabilities[r * data.classes + best]!) best = c;
    }
    if (best === data.labels[r]) correct++;
  }
  return correct / data.rows;
}

/** The loss and its gradient with respect to every parameter. */
export interface LossAndGradients {
  readonly loss: number;
  readonly grads: Float64Params;
}

/**
 * Full-batch loss and gradients by hand-written backpropagation, in float64 on the host.
 * Computed once per step and fed to every backend, so the optimizer is the only thing that
 * differs between them.
 */
export function lossAndGradients(model: MlpArchitecture, params: HostParams, data: Dataset): LossAndGradients {
  const { layers } = model;
  const rows = data.rows;
  const { activations, probabilities } = forward(model, params, data);
  const grads: Float64Params = {};
  // d(mean cross-entropy)/d(logits) = (softmax − one-hot) / rows.
  const classes = layers[layers.length - 1]!;
  let delta = new Float64Array(probabilities);
  for (let r = 0; r < rows; r++) {
    delta[r * classes + data.labels[r]!]! -= 1;
    for (let c = 0; c < classes; c++) delta[r * classes + c]! /= rows;
  }
  for (let i = layers.length - 1; i >= 1; i--) {
    const fanIn = layers[i - 1]!;
    const width = layers[i]!;
    const input = activations[i - 1]!;
    const w = param(params, `w${i}`);
    const gw = new Float64Array(fanIn * width);
    const gb = new Float64Array(width);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < width; o++) {
        const d = delta[r * width + o]!;
        gb[o]! += d;
        for (let k = 0; k < fanIn; k++) gw[k * width + o]! += input[r * fanIn + k]! * d;
      }
    }
    grads[`w${i}`] = gw;
    grads[`b${i}`] = gb;
    if (i > 1) {
      // Back through the kernel, then through tanh: d tanh(z)/dz = 1 − tanh(z)².
      const previous = new Float64Array(rows * fanIn);
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < fanIn; k++) {
          let sum = 0;
          for (let o = 0; o < width; o++) sum += delta[r * width + o]! * w[k * width + o]!;
          const a = input[r * fanIn + k]!;
          previous[r * fanIn + k] = sum * (1 - a * a);
        }
      }
      delta = previous;
    }
  }
  return { loss: crossEntropy(probabilities, data), grads };
}
