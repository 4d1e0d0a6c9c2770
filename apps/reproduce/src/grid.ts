/**
 * The grid of runs (learning rates × optimizers × seeds) and the trace of Adam's adaptive
 * rate over the first steps.
 */
import * as tf from '@tensorflow/tfjs';
import type { ProgressDisplay } from '@rectify/example/dist/report/progress.js';
import { rectification } from '@rectify/core';
import { loadDigits, stratifiedSplit, type Digits, type Split } from './data.js';
import { BETA1, BETA2, EPSILON, OPTIMIZERS, runOne, type RunResult, type RunShape } from './experiment.js';

/** What a grid runs. */
export interface GridConfig {
  readonly lrs: readonly number[];
  readonly seeds: readonly number[];
  readonly shape: RunShape;
  /** Steps over which Adam's adaptive rate is traced (first rate, first seed's weights). */
  readonly traceSteps: number;
}

/** `--quick`: one seed, two rates, 300 steps (CI runs it). */
export const QUICK: GridConfig = { lrs: [3e-3, 3e-2], seeds: [0], shape: { hidden: 64, batchSize: 64, steps: 300 }, traceSteps: 100 };
/** The full grid of the issue: 6 rates × 4 optimizers × 3 seeds, 500 steps each. */
export const FULL: GridConfig = {
  lrs: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
  seeds: [0, 1, 2],
  shape: { hidden: 64, batchSize: 64, steps: 500 },
  traceSteps: 100,
};

/** Fraction of each class held out for testing; the split's seed is fixed. */
export const TEST_FRACTION = 0.2;
/** Seed of the train/test split (the same for every run). */
export const SPLIT_SEED = 2020;

/** One step of the adaptive-rate trace. */
export interface AdaptiveRatePoint {
  readonly step: number;
  /** `adam`: ψ_t = √(1−β2^t)/(√v_t+ε); `radam`: r_t·ψ_t, RAdam's rectified rate. */
  readonly rate: 'adam' | 'radam';
  /**
   * Median over parameters of Var[rate]/E[ψ_{last}]², the variance over replicas (same
   * start, different minibatch orders), relative to the squared mean of the last traced
   * step's ψ. Absent for RAdam's first steps (ρt < 5), which use no adaptive rate (variance 0).
   */
  readonly variance: number;
}

/** Everything a grid produced. */
export interface GridResult {
  readonly runs: readonly RunResult[];
  readonly adaptiveRate: readonly AdaptiveRatePoint[];
  readonly config: GridConfig;
}

/** Replicas of the adaptive-rate trace. */
export const TRACE_REPLICAS = 6;
/** RAdam's rectification threshold on ρt (core's default, `compat: 'braintools'`). */
const RECTIFY_THRESHOLD = 5;

/** Adam's second moments, all parameters flattened in a fixed order. */
async function secondMoments(optimizer: tf.Optimizer): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for (const { name, tensor } of await optimizer.getWeights()) if (name.endsWith('/v')) parts.push((await tensor.data()) as Float32Array);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}

/**
 * The paper's Figure 1 idea, from the moments: the variance of the adaptive rate ψ_t over
 * the randomness of the gradients. {@link TRACE_REPLICAS} runs of tfjs Adam from the same
 * initial weights on different minibatch orders give, per parameter and step, a sample of
 * ψ_t; its variance over the replicas is summarised by the median over parameters (those
 * whose gradient was never zero: always-blank border pixels have v = 0 and ψ = 1/ε).
 */
async function traceAdaptiveRate(
  digits: Digits,
  split: Split,
  config: GridConfig,
  progress: ProgressDisplay,
): Promise<AdaptiveRatePoint[]> {
  const lr = config.lrs[0]!;
  const seed = config.seeds[0]!;
  const shape = { ...config.shape, steps: config.traceSteps };
  const moments: Float32Array[][] = [];
  for (let replica = 0; replica < TRACE_REPLICAS; replica++) {
    const trace: Float32Array[] = [];
    await runOne(digits, split, shape, 'adam', lr, seed, {
      batchSeed: 1000 + replica,
      onStep: progress.track(`adaptive rate, replica ${replica + 1}`, shape.steps),
      onOptimizerStep: async (_step, optimizer) => void trace.push(await secondMoments(optimizer)),
    });
    moments.push(trace);
  }
  const psi = (v: number, step: number): number => Math.sqrt(1 - BETA2 ** step) / (Math.sqrt(v) + EPSILON);
  const last = config.traceSteps;
  const size = moments[0]![0]!.length;
  const live = Array.from({ length: size }, (_, i) => i).filter((i) => moments.every((trace) => trace[0]![i]! > 0));
  const scale = live.map((i) => (moments.reduce((sum, trace) => sum + psi(trace[last - 1]![i]!, last), 0) / TRACE_REPLICAS) ** 2);
  const points: AdaptiveRatePoint[] = [];
  for (let step = 1; step <= last; step++) {
    const relative = live.map((i, k) => {
      const samples = moments.map((trace) => psi(trace[step - 1]![i]!, step));
      const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
      return samples.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (samples.length - 1) / scale[k]!;
    });
    const variance = median(relative);
    points.push({ step, rate: 'adam', variance });
    const { rhoT, r } = rectification(BETA1, BETA2, step);
    // r_t is the same for every replica: it scales the variance by r_t².
    if (rhoT >= RECTIFY_THRESHOLD) points.push({ step, rate: 'radam', variance: variance * r * r });
  }
  return points;
}

/** Runs every (rate, optimizer, seed) of `config` on tfjs's `cpu` backend. */
export async function runGrid(config: GridConfig, progress: ProgressDisplay): Promise<GridResult> {
  await tf.setBackend('cpu');
  const digits = loadDigits(2);
  const split = stratifiedSplit(digits.labels, TEST_FRACTION, SPLIT_SEED);
  progress.log(
    `${digits.labels.length} digits (${digits.side}×${digits.side}), ${split.train.length} train / ${split.test.length} test; ` +
      `${config.lrs.length} rates × ${OPTIMIZERS.length} optimizers × ${config.seeds.length} seeds, ${config.shape.steps} steps each`,
  );
  const adaptiveRate = await traceAdaptiveRate(digits, split, config, progress);
  const runs: RunResult[] = [];
  for (const seed of config.seeds) {
    for (const lr of config.lrs) {
      for (const optimizer of OPTIMIZERS) {
        const onStep = progress.track(`${optimizer} lr=${lr} seed=${seed}`, config.shape.steps);
        runs.push(await runOne(digits, split, config.shape, optimizer, lr, seed, { onStep }));
      }
    }
  }
  progress.stop();
  return { runs, adaptiveRate, config };
}
