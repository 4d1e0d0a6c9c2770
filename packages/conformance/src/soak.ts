import { RAdam, type TensorBackend } from '@rectify/core';
import type { BackendFactory } from './replay.js';

/** Options of {@link runSoak}. */
export interface SoakOptions {
  /** Optimizer steps to run. Default 10 000. */
  readonly steps?: number;
  /** Elements per parameter tensor. Default 10 000. */
  readonly size?: number;
  /** Parameter tensors. Default 4. */
  readonly tensors?: number;
  /** Steps before the memory baseline is taken (JIT, pools and caches settle). Default 100. */
  readonly warmupSteps?: number;
}

/** What a long run measured. */
export interface SoakResult {
  readonly backend: string;
  readonly steps: number;
  readonly elements: number;
  readonly stepsPerSecond: number;
  /** Resident set size after the last step minus after warm-up, in bytes; `NaN` in a browser page (no such figure). */
  readonly rssGrowthBytes: number;
  /**
   * JS heap used after the last step minus after warm-up, in bytes (after GC when exposed);
   * in a browser page Chromium's `performance.memory`, elsewhere `NaN`.
   */
  readonly heapGrowthBytes: number;
  /**
   * `backend.resourceCounts()` before the optimizer existed (after a throw-away optimizer
   * warmed the backend up), after step 1, at the end, and after `dispose()`.
   */
  readonly resources: {
    readonly beforeOptimizer: Readonly<Record<string, number>> | undefined;
    readonly afterFirstStep: Readonly<Record<string, number>> | undefined;
    readonly atEnd: Readonly<Record<string, number>> | undefined;
    readonly afterDispose: Readonly<Record<string, number>> | undefined;
  };
}

/** What the host process holds now: Node's figures, or what a browser page can tell. */
function memory(): { rss: number; heap: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = (globalThis as { process?: { memoryUsage?: () => NodeJS.MemoryUsage } }).process?.memoryUsage?.();
  if (usage !== undefined) return { rss: usage.rss, heap: usage.heapUsed };
  // A page has no resident set size; Chromium's non-standard `performance.memory` has the heap.
  const heap = (performance as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize;
  return { rss: NaN, heap: heap ?? NaN };
}

/** Steps of the throw-away optimizer: past the un-rectified first steps, into the rectified ones. */
const KINDS_OF_STEP_WARMUP = 8;

/**
 * Runs one optimizer for many steps on a backend (global-norm clipping and weight decay
 * on, so reductions run every step) and measures what grows: RSS, the JS heap, and the
 * backend's own resource counts. A leak-free backend ends with the counts it had after
 * step 1, and returns to its initial counts after `dispose()`.
 */
export async function runSoak(createBackend: BackendFactory, options: SoakOptions = {}): Promise<SoakResult> {
  const { steps = 10_000, size = 10_000, tensors = 4, warmupSteps = Math.min(100, steps) } = options;
  const backend: TensorBackend<any> = await createBackend();
  const counts = () => backend.resourceCounts?.();
  const params: Record<string, unknown> = {};
  const grads: Record<string, unknown> = {};
  for (let t = 0; t < tensors; t++) {
    params[`p${t}`] = backend.fromArray(Array.from({ length: size }, (_, i) => Math.sin(i + t)), [size]);
    grads[`p${t}`] = backend.fromArray(Array.from({ length: size }, (_, i) => Math.cos(i * 0.5 + t) * 0.1), [size]);
  }
  const optimizerOptions = { lr: 1e-4, gradClipNorm: 1, weightDecay: 1e-4 };
  // A throw-away optimizer first, so lazy uploads of the user's tensors and compiled
  // kernels are in place: the baseline then holds only what the real one must give back.
  // It steps past RAdam's switch to the rectified update (step 6 with the default betas),
  // so that a backend compiling one kernel per kind of step (onnx) has compiled both.
  const warmUp = new RAdam(backend, optimizerOptions);
  warmUp.registerTrainableWeights(params);
  for (let s = 0; s < Math.min(warmupSteps, KINDS_OF_STEP_WARMUP); s++) await warmUp.step(grads);
  warmUp.dispose();
  const beforeOptimizer = counts();
  const optimizer = new RAdam(backend, optimizerOptions);
  optimizer.registerTrainableWeights(params);
  await optimizer.step(grads);
  const afterFirstStep = counts();
  for (let s = 1; s < warmupSteps; s++) await optimizer.step(grads);
  const baseline = memory();
  const started = performance.now();
  for (let s = warmupSteps; s < steps; s++) await optimizer.step(grads);
  const seconds = (performance.now() - started) / 1000;
  const end = memory();
  const atEnd = counts();
  optimizer.dispose();
  const afterDispose = counts();
  for (const tensor of [...Object.values(params), ...Object.values(grads)]) backend.disposeTensor(tensor);
  backend.dispose?.();
  return {
    backend: backend.name,
    steps,
    elements: size * tensors,
    stepsPerSecond: (steps - warmupSteps) / Math.max(seconds, 1e-9),
    rssGrowthBytes: end.rss - baseline.rss,
    heapGrowthBytes: end.heap - baseline.heap,
    resources: { beforeOptimizer, afterFirstStep, atEnd, afterDispose },
  };
}
