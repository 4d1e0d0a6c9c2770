import type { CopyBandwidth } from './copy-bandwidth.js';
import type { MachineInfo } from './machine.js';

/** One measured (backend, shape). */
export interface Measurement {
  readonly backend: string;
  /** Elements per tensor. */
  readonly size: number;
  readonly tensors: number;
  readonly stepsPerSecond: number;
  readonly elementsPerSecond: number;
  /** Fraction of the 28-bytes-per-element roofline at the machine's copy bandwidth. */
  readonly rooflineFraction: number;
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
  readonly copyBandwidth: CopyBandwidth;
  /** `copyBandwidth.bytesPerSecond / 28`. */
  readonly rooflineElementsPerSecond: number;
  /** `nonFinite` policy the steps ran with. */
  readonly nonFinite: 'propagate' | 'error';
  readonly measurements: readonly Measurement[];
  readonly skipped: readonly Skipped[];
}

/** The JSON object `--json` prints: exactly these keys, for outside tools. */
export interface JsonResult {
  readonly backend: string;
  readonly size: number;
  readonly tensors: number;
  readonly elementsPerSecond: number;
  readonly rooflineFraction: number;
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
