import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam, type RAdamOptions } from '@rectify/core';
import * as tf from '@tensorflow/tfjs';
import { RAdamOptimizer } from '../src/index.js';

/** A deterministic pseudo-random sequence in [-1, 1) (no global RNG state involved). */
export function pseudoRandom(count: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

/**
 * How far the worst element of `actual` lies outside `atol + rtol·|expected|` (≤ 0 when all
 * are within it; ∞ for a length mismatch or a NaN).
 */
export function maxExcess(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number): number {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const excess = Math.abs(actual[i]! - expected[i]!) - (atol + rtol * Math.abs(expected[i]!));
    worst = Math.max(worst, Number.isNaN(excess) ? Infinity : excess);
  }
  return worst;
}

/** A synthetic regression set: y = x·w + 0.5·sin(3·x₀), 4 features, generated here. */
export function regressionData(rows: number): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  const x = pseudoRandom(rows * 4, 7);
  const y = Array.from({ length: rows }, (_, r) => {
    const [a, b, c, d] = x.slice(r * 4, r * 4 + 4) as [number, number, number, number];
    return a * 1.5 - b * 2 + c * 0.5 + d * 3 + 0.5 * Math.sin(3 * a);
  });
  return { xs: tf.tensor2d(x, [rows, 4]), ys: tf.tensor2d(y, [rows, 1]) };
}

/** A 2-layer MLP with seeded initial weights. */
export function mlp(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        units: 16,
        activation: 'tanh',
        inputShape: [4],
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

/** Every weight of a model, flattened to host numbers. */
export function weightsOf(model: tf.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

/** An IO handler that keeps the saved artifacts in memory. */
export function memorySink(): { handler: tf.io.IOHandler; artifacts: () => tf.io.ModelArtifacts } {
  let saved: tf.io.ModelArtifacts | undefined;
  const handler = tf.io.withSaveHandler(async (artifacts) => {
    // Through JSON, like a real file: nothing survives by reference.
    saved = { ...artifacts, modelTopology: JSON.parse(JSON.stringify(artifacts.modelTopology)) as object };
    if (artifacts.trainingConfig !== undefined) {
      saved.trainingConfig = JSON.parse(JSON.stringify(artifacts.trainingConfig)) as tf.io.TrainingConfig;
    }
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  });
  return {
    handler,
    artifacts: () => {
      if (saved === undefined) throw new Error('nothing saved');
      return saved;
    },
  };
}

/** Initial values of the test parameters `w` ([3, 4]) and `b` ([4]). */
export const W0 = pseudoRandom(12, 1);
export const B0 = pseudoRandom(4, 2);
/** The gradients of step `k + 1`. */
export const gradW = (k: number): number[] => pseudoRandom(12, 100 + k);
export const gradB = (k: number): number[] => pseudoRandom(4, 200 + k).map((x) => x * 3);

/** Fresh `w` and `b` variables at their initial values. */
export function variables(): { w: tf.Variable; b: tf.Variable } {
  return { w: tf.variable(tf.tensor(W0, [3, 4])), b: tf.variable(tf.tensor(B0, [4])) };
}

/**
 * Runs the same `steps` gradients through {@link RAdamOptimizer} (on the active tfjs
 * backend) and through core on the float32 CPU backend; returns both trajectories.
 */
export function bothWays(options: RAdamOptions, steps: number) {
  const { w, b } = variables();
  const adapter = new RAdamOptimizer(options);
  const cw = Float32Array.from(W0);
  const cb = Float32Array.from(B0);
  const core = new RAdam(cpuBackend(), options);
  core.registerTrainableWeights({ w: cw, b: cb });
  const trajectory: { tfjs: number[][]; cpu: number[][] }[] = [];
  for (let k = 0; k < steps; k++) {
    const gw = tf.tensor(gradW(k), [3, 4]);
    const gb = tf.tensor(gradB(k), [4]);
    adapter.applyGradients({ [w.name]: gw, [b.name]: gb });
    core.step({ w: Float32Array.from(gradW(k)), b: Float32Array.from(gradB(k)) });
    trajectory.push({
      tfjs: [Array.from(w.dataSync()), Array.from(b.dataSync())],
      cpu: [Array.from(cw), Array.from(cb)],
    });
    tf.dispose([gw, gb]);
  }
  const states = {
    tfjs: adapter.radam.readState(w.name),
    cpu: core.readState('w'),
  };
  adapter.dispose();
  tf.dispose([w, b]);
  return { trajectory, states };
}
