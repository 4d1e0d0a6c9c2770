/**
 * One row of `pnpm bench --models` in a process of its own (started by models-bench.ts),
 * so that its peak memory is its own:
 *
 *   model-child.js <model id> <row id> <time ms>
 *
 *   model-child.js <model id> check-cost <time ms>
 *
 * Prints one JSON line: a {@link ChildRowReport} (`{ "checkCost": CheckCost }` for
 * `check-cost`: see check-cost.ts), or `{ "error": "…" }` when the backend is unavailable
 * or the step fails.
 */
import { createModelBackend } from './bench-backends.js';
import { CHECK_COST_ROW, measureCheckCost } from './check-cost.js';
import { measureThroughput } from './measure.js';
import { ONE_STEP_MS, findRectifyRow } from './model-rows.js';
import { loadModel, tensorSizes } from './models.js';
import { startPeakMemory, type PeakMemory } from './peak-memory.js';
import { createWorkload } from './workload.js';

/** What a row's process reports. */
export interface ChildRowReport extends PeakMemory {
  /** Median milliseconds per step. */
  readonly msPerStep: number;
  /** Timed steps behind the median. */
  readonly samples: number;
  /** How the step count was cut for a slow backend, if it was. */
  readonly note?: string;
}

/** A first step slower than this gets fewer warm-up and timed steps. */
const SLOW_MS = 1_000;

async function main(): Promise<void> {
  const [modelId, rowId, timeText] = process.argv.slice(2);
  if (modelId === undefined || rowId === undefined) throw new Error('usage: model-child.js <model> <row> [time ms]');
  const sizes = tensorSizes(loadModel(modelId));
  if (rowId === CHECK_COST_ROW) {
    process.stdout.write(`${JSON.stringify({ checkCost: await measureCheckCost(sizes, Number(timeText ?? 1000)) })}\n`);
    return;
  }
  const row = findRectifyRow(rowId);
  const backend = await createModelBackend(row.backend);
  let peak: ReturnType<typeof startPeakMemory> | undefined;
  const workload = await createWorkload(backend, sizes, {
    nonFinite: row.nonFinite,
    tensors: row.tensors,
    ...(row.gradClipNorm === undefined ? {} : { gradClipNorm: row.gradClipNorm }),
    warmupSteps: 0,
    beforeTensors: () => (peak = startPeakMemory()),
  });
  const started = performance.now();
  await workload.step();
  const firstMs = performance.now() - started;
  let timing: { msPerStep: number; samples: number; note?: string };
  if (firstMs > ONE_STEP_MS) {
    timing = { msPerStep: firstMs, samples: 1, note: `one step only: over ${ONE_STEP_MS / 1000} s a step (the first, un-rectified)` };
  } else {
    const slow = firstMs > SLOW_MS;
    // Past step 6, where RAdam's rectified update starts with the default betas.
    for (let step = 1; step < (slow ? 6 : 10); step++) await workload.step();
    const throughput = await measureThroughput(`${modelId} ${rowId}`, workload, Number(timeText ?? 1000), slow ? { warmupSteps: 0, minSteps: 3 } : undefined);
    timing = { msPerStep: throughput.secondsPerStep * 1000, samples: throughput.samples, ...(slow ? { note: 'slow: 3 timed steps' } : {}) };
  }
  const memory = peak!.stop();
  workload.dispose();
  const report: ChildRowReport = { ...timing, ...memory };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

try {
  await main();
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
  process.exitCode = 1;
}
