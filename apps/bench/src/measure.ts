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

/**
 * Times `workload.step()` with tinybench: a warm-up phase, then steps for `timeMs`
 * (at least 5), and takes the median step time, which a descheduled step or a GC pause
 * does not move the way it moves a mean.
 */
export async function measureThroughput(name: string, workload: Workload, timeMs: number): Promise<Throughput> {
  const bench = new Bench({ time: timeMs, iterations: 5, warmupTime: Math.min(250, timeMs / 4), warmupIterations: 3, throws: true });
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
