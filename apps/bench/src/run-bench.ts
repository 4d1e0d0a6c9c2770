import type { BackendEntry } from '@rectify/all-backends';
import type { BenchArgs, Shape } from './args.js';
import { benchBackends, findBenchBackend } from './bench-backends.js';
import { formatMillions, formatPercent, formatShape } from './format.js';
import { machineInfo } from './machine.js';
import { measureThroughput } from './measure.js';
import type { BenchResults, Measurement, Skipped } from './results.js';
import { BYTES_PER_ELEMENT, measureRoofline, regimeOf, rooflineFraction, type Roofline } from './roofline.js';
import { tfjsAdamElementsPerSecond, tfjsBackendOf } from './tfjs-adam-baseline.js';
import { createWorkload } from './workload.js';

/** Backends a default run leaves out: the float64 reference is not a float32 roofline contender. */
const NOT_BY_DEFAULT = new Set(['cpu64']);

function selectBackends(names: readonly string[] | undefined): BackendEntry[] {
  if (names === undefined) return benchBackends().filter((entry) => !NOT_BY_DEFAULT.has(entry.name));
  return names.map((name) => {
    const entry = findBenchBackend(name);
    if (entry === undefined) {
      const known = benchBackends().map((e) => e.name).join(', ');
      throw new Error(`Unknown backend "${name}". Known: ${known}, or cpu-wasm-<n>t.`);
    }
    return entry;
  });
}

async function measureOne(
  entry: BackendEntry,
  shape: Shape,
  args: BenchArgs,
  roofline: Roofline,
  log: (line: string) => void,
): Promise<Measurement> {
  const backend = await entry.create();
  // A float64 backend moves twice the bytes per element: its roofline is half as high.
  const bytesPerElement = backend.dtype === 'float64' ? 2 * BYTES_PER_ELEMENT : BYTES_PER_ELEMENT;
  const sizes = new Array<number>(shape.tensors).fill(shape.size);
  const workload = await createWorkload(backend, sizes, { nonFinite: args.checkFinite ? 'error' : 'propagate' });
  try {
    const label = `${entry.name} ${formatShape(shape.size, shape.tensors)}`;
    const throughput = await measureThroughput(label, workload, args.timeMs);
    const tfjs = tfjsBackendOf(entry.name);
    const adam =
      tfjs !== undefined && shape.tensors === 1 && !args.skipTfjsAdam ? await tfjsAdamElementsPerSecond(tfjs, shape.size) : undefined;
    const fraction = rooflineFraction(roofline, workload.elements, throughput.elementsPerSecond, bytesPerElement);
    const measurement: Measurement = {
      backend: entry.name,
      size: shape.size,
      tensors: shape.tensors,
      stepsPerSecond: throughput.stepsPerSecond,
      elementsPerSecond: throughput.elementsPerSecond,
      rooflineFraction: fraction?.fraction ?? null,
      rooflineRegime: regimeOf(workload.elements),
      vsTfjsAdam: adam === undefined ? undefined : throughput.elementsPerSecond / adam,
      samples: throughput.samples,
    };
    log(
      `${label.padEnd(28)} ${formatMillions(measurement.elementsPerSecond).padStart(7)} M elements/s ` +
        `${(fraction === undefined ? '—' : formatPercent(fraction.fraction)).padStart(5)} of the ${measurement.rooflineRegime} roofline (${throughput.samples} steps)`,
    );
    return measurement;
  } finally {
    workload.dispose();
  }
}

/**
 * Measures the rooflines the shapes need (cache, DRAM: see roofline.ts), then every selected backend on every shape, one
 * at a time (each on a fresh backend instance, disposed after). A backend that is
 * unavailable here, or fails on a shape, is reported in `skipped` rather than failing the run.
 */
export async function runBench(args: BenchArgs, log: (line: string) => void): Promise<BenchResults> {
  const entries = selectBackends(args.backends);
  const machine = machineInfo();
  const roofline = await measureRoofline(args.shapes.map((shape) => regimeOf(shape.size * shape.tensors)), log);
  const measurements: Measurement[] = [];
  const skipped: Skipped[] = [];
  for (const entry of entries) {
    const reason = await entry.unavailableReason();
    if (reason !== undefined) {
      skipped.push({ backend: entry.name, reason });
      log(`${entry.name}: skipped (${reason})`);
      continue;
    }
    for (const shape of args.shapes) {
      try {
        measurements.push(await measureOne(entry, shape, args, roofline, log));
      } catch (error) {
        const reason = `${formatShape(shape.size, shape.tensors)} failed: ${error instanceof Error ? error.message : String(error)}`;
        skipped.push({ backend: entry.name, reason });
        log(`${entry.name}: ${reason}`);
      }
    }
  }
  return {
    machine,
    roofline,
    nonFinite: args.checkFinite ? 'error' : 'propagate',
    measurements,
    skipped,
  };
}
