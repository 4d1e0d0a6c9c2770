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

/** How much slower one configuration steps than another, timed step against step in one process. */
export interface PairedRatio {
  /** Median over the pairs of `second`'s step time over `first`'s (1.15: `second` costs 15% more). */
  readonly ratio: number;
  /** Pairs timed. */
  readonly pairs: number;
}

/**
 * Times `first` and `second` in alternation (ABBA order, so that a machine growing faster
 * or slower during the run favours neither) for about `timeMs` and at least `minPairs`
 * pairs, and returns the median of the per-pair ratios. Both run over the same data in the
 * same process, a pair within milliseconds: memory placement and neighbours' load, which
 * move one process's figures against another's by more than the difference measured, are
 * shared by both halves of a pair.
 *
 * @param now - the clock, milliseconds (injectable for tests).
 */
export async function measurePairedRatio(
  first: Workload,
  second: Workload,
  timeMs: number,
  minPairs = 7,
  now: () => number = () => performance.now(),
): Promise<PairedRatio> {
  const timed = async (workload: Workload): Promise<number> => {
    const started = now();
    await workload.step();
    return now() - started;
  };
  const ratios: number[] = [];
  const deadline = now() + timeMs;
  while (ratios.length < minPairs || now() < deadline) {
    let a: number;
    let b: number;
    if (ratios.length % 2 === 0) {
      a = await timed(first);
      b = await timed(second);
    } else {
      b = await timed(second);
      a = await timed(first);
    }
    if (!(a > 0)) throw new Error('measurePairedRatio: a step took no measurable time.');
    ratios.push(b / a);
  }
  return { ratio: median(ratios), pairs: ratios.length };
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
