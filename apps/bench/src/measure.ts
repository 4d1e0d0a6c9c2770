import { Bench } from 'tinybench';
import type { Workload } from './workload.js';

/** Throughput of one workload. */
export interface Throughput {
  /** Median seconds per step. */
  readonly secondsPerStep: number;
  /** Optimizer steps per second (from the median). */
  readonly stepsPerSecond: number;
  /** Elements updated per second (from the median). */
  readonly elementsPerSecond: number;
  /** Timed steps the median was taken over. */
  readonly samples: number;
}

/** Fewer steps for a slow workload (the defaults: 3 warm-up steps and at least 5 timed). */
export interface StepCounts {
  readonly warmupSteps: number;
  readonly minSteps: number;
}

/**
 * Times `workload.step()` with tinybench: a warm-up phase, then steps for `timeMs`
 * (at least `counts.minSteps`), and takes the median step time, which a descheduled step
 * or a GC pause does not move the way it moves a mean.
 */
export async function measureThroughput(
  name: string,
  workload: Workload,
  timeMs: number,
  counts: StepCounts = { warmupSteps: 3, minSteps: 5 },
): Promise<Throughput> {
  const bench = new Bench({
    time: timeMs,
    iterations: counts.minSteps,
    warmup: counts.warmupSteps > 0,
    warmupTime: counts.warmupSteps > 0 ? Math.min(250, timeMs / 4) : 0,
    warmupIterations: counts.warmupSteps,
    throws: true,
  });
  bench.add(name, () => workload.step());
  await bench.run();
  const result = bench.tasks[0]?.result;
  const medianMs = result?.latency.p50;
  if (result === undefined || medianMs === undefined || !(medianMs > 0)) {
    throw new Error(`${name}: tinybench returned no timing${result?.error ? ` (${result.error.message})` : ''}.`);
  }
  const secondsPerStep = medianMs / 1000;
  return {
    secondsPerStep,
    stepsPerSecond: 1 / secondsPerStep,
    elementsPerSecond: workload.elements / secondsPerStep,
    samples: result.latency.samples.length,
  };
}
