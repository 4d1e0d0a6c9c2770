import type { MachineInfo } from './machine.js';
import type { ModelsResults } from './models-results.js';
import type { Regime, Roofline } from './roofline.js';

/** One measured (backend, shape). */
export interface Measurement {
  readonly backend: string;
  /** Elements per tensor. */
  readonly size: number;
  readonly tensors: number;
  readonly stepsPerSecond: number;
  readonly elementsPerSecond: number;
  /** Fraction of the roofline of {@link rooflineRegime} (28 bytes per element; 56 for float64); `null` when not measured. */
  readonly rooflineFraction: number | null;
  /** `cache` when the step's 28 B per element fit the caches (roofline.ts's CACHE_BYTES), else `dram`. */
  readonly rooflineRegime: Regime;
  /** RAdam throughput over tfjs `tf.train.adam` on the same tfjs backend; `undefined` for other backends. */
  readonly vsTfjsAdam: number | undefined;
  /** Timed steps behind the median. */
  readonly samples: number;
}

/** A backend that could not be measured, and why. */
export interface Skipped {
  readonly backend: string;
  readonly reason: string;
}

/** Everything one bench run found: written to results/results.json. */
export interface BenchResults {
  readonly machine: MachineInfo;
  /** The RAdam-pattern rooflines the run measured. */
  readonly roofline: Roofline;
  /** `nonFinite` policy the steps ran with. */
  readonly nonFinite: 'propagate' | 'error';
  readonly measurements: readonly Measurement[];
  readonly skipped: readonly Skipped[];
  /** The model workloads (`--models`, and with `--update-readme`). */
  readonly models?: ModelsResults;
}

/** The JSON object `--json` prints: exactly these keys, for outside tools. */
export interface JsonResult {
  readonly backend: string;
  readonly size: number;
  readonly tensors: number;
  readonly elementsPerSecond: number;
  /** `null` when the roofline could not be measured (no C compiler). */
  readonly rooflineFraction: number | null;
}

/** The `--json` object of a measurement. */
export function toJsonResult(m: Measurement): JsonResult {
  return {
    backend: m.backend,
    size: m.size,
    tensors: m.tensors,
    elementsPerSecond: m.elementsPerSecond,
    rooflineFraction: m.rooflineFraction,
  };
}
