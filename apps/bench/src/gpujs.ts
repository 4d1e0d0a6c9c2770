/**
 * Benchmark of `@rectify/backend-gpujs`: RAdam steps per second and parameter elements
 * per second, for every gpu.js mode available on this machine, against the float32 CPU
 * backend, for one parameter tensor of each size.
 *
 * ```text
 * node apps/bench/dist/gpujs.js [--json] [--sizes 1000,10000,100000,1000000]
 *                               [--modes webasm,cpu] [--time 1000] [--clip]
 * ```
 *
 * Two gpu.js workloads per size:
 * - `step`: the gradient is already on the device (created once, reused): the cost of
 *   the optimizer itself, the way a GPU-resident training loop would see it;
 * - `step+upload`: a fresh host gradient every step (`fromArray`, then `disposeTensor`):
 *   adds the host → device transfer a host-computed gradient costs.
 * `webasm` runs twice: `gpujs-webasm` (defaults: worker threads for tensors of at least
 * `WEBASM_THREAD_MIN_SIZE` elements) and `gpujs-webasm/sync` (`threads: false`, inline SIMD).
 * `--clip` turns on `gradClipNorm`, which adds the norm reduction and its one readback.
 *
 * @example
 * ```sh
 * pnpm --filter @rectify/backend-gpujs build && pnpm --filter @rectify/bench build
 * node apps/bench/dist/gpujs.js --json > gpujs-bench.json
 * ```
 */
import {
  availableGpujsModes,
  createGpujsBackend,
  type GpujsBackend,
  type GpujsBackendOptions,
  type GpujsMode,
} from '@rectify/backend-gpujs';
import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam, type RAdamOptions } from '@rectify/core';
import { cpus } from 'node:os';
import { Bench } from 'tinybench';

interface Args {
  readonly json: boolean;
  readonly clip: boolean;
  readonly sizes: number[];
  readonly modes: GpujsMode[] | undefined;
  readonly timeMs: number;
}

/** One measured row. */
interface Row {
  readonly backend: string;
  readonly workload: 'step' | 'step+upload';
  readonly size: number;
  readonly stepsPerSecond: number;
  readonly elementsPerSecond: number;
  /** Mean latency of one step, ms. */
  readonly meanMs: number;
  /** Relative margin of error of the mean, %. */
  readonly rme: number;
  readonly samples: number;
  /** Steps/s relative to the float32 CPU backend at the same size. */
  readonly vsCpuBackend: number;
  /** Device → host readbacks per step, as counted by the backend. */
  readonly readbacksPerStep?: number;
}

function parseArgs(argv: readonly string[]): Args {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const sizes = (value('--sizes') ?? '1000,10000,100000,1000000').split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--sizes takes positive integers, comma-separated');
  const modes = value('--modes')?.split(',') as GpujsMode[] | undefined;
  const timeMs = Number(value('--time') ?? 1000);
  return { json: argv.includes('--json'), clip: argv.includes('--clip'), sizes, modes, timeMs };
}

function values(n: number, phase: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(0.37 * i + phase) * 0.1;
  return out;
}

async function measure(name: string, timeMs: number, fn: () => unknown): Promise<{ meanMs: number; rme: number; samples: number }> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs), warmupIterations: 3, iterations: 5, throws: true });
  bench.add(name, fn);
  await bench.run();
  const result = bench.tasks[0]!.result!;
  return { meanMs: result.latency.mean, rme: result.latency.rme, samples: result.latency.samples.length };
}

async function benchCpu(size: number, options: RAdamOptions, timeMs: number): Promise<Row> {
  const opt = new RAdam(cpuBackend(), options);
  opt.registerTrainableWeights({ w: values(size, 0) });
  const grad = values(size, 1);
  const m = await measure(`cpu ${size}`, timeMs, () => opt.step({ w: grad }));
  return {
    backend: 'cpu',
    workload: 'step',
    size,
    stepsPerSecond: 1000 / m.meanMs,
    elementsPerSecond: (1000 / m.meanMs) * size,
    ...m,
    vsCpuBackend: 1,
  };
}

async function benchGpujs(
  backend: GpujsBackend,
  label: string,
  workload: Row['workload'],
  size: number,
  options: RAdamOptions,
  timeMs: number,
  cpuStepsPerSecond: number,
): Promise<Row> {
  const opt = new RAdam(backend, options);
  const w = backend.fromArray(values(size, 0), [size]);
  opt.registerTrainableWeights({ w });
  const hostGrad = values(size, 1);
  const resident = backend.fromArray(hostGrad, [size]);
  const step =
    workload === 'step'
      ? () => opt.step({ w: resident })
      : async () => {
          const g = backend.fromArray(hostGrad, [size]);
          try {
            await opt.step({ w: g });
          } finally {
            backend.disposeTensor(g);
          }
        };
  await step(); // compile the kernels outside the measurement
  const before = backend.stats;
  const m = await measure(`${label} ${workload} ${size}`, timeMs, step);
  const after = backend.stats;
  const steps = opt.stepCount - 1;
  opt.dispose();
  backend.disposeTensor(w);
  backend.disposeTensor(resident);
  return {
    backend: label,
    workload,
    size,
    stepsPerSecond: 1000 / m.meanMs,
    elementsPerSecond: (1000 / m.meanMs) * size,
    ...m,
    vsCpuBackend: 1000 / m.meanMs / cpuStepsPerSecond,
    readbacksPerStep: (after.readbacks - before.readbacks) / steps,
  };
}

function format(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)}k`;
  return n.toFixed(1);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const options: RAdamOptions = { lr: 1e-3, weightDecay: 1e-4, ...(args.clip ? { gradClipNorm: 1 } : {}) };
  const probe = await createGpujsBackend();
  const autoMode = probe.mode;
  probe.dispose();
  const available = availableGpujsModes().filter((mode) => mode !== 'webgpu' || autoMode === 'webgpu');
  const modes = args.modes ?? available;
  const rows: Row[] = [];
  const log = (line: string): void => {
    if (!args.json) console.log(line);
  };
  log(`gpu.js RAdam benchmark: modes ${modes.join(', ')} (auto: ${autoMode}); ${cpus().length} CPUs, Node ${process.version}`);
  log(`${'backend'.padEnd(18)} ${'workload'.padEnd(12)} ${'size'.padStart(8)} ${'steps/s'.padStart(9)} ${'elem/s'.padStart(9)} ${'±%'.padStart(6)} ${'vs cpu'.padStart(7)} readbacks/step`);
  for (const size of args.sizes) {
    const cpu = await benchCpu(size, options, args.timeMs);
    rows.push(cpu);
    log(`${'cpu'.padEnd(18)} ${'step'.padEnd(12)} ${String(size).padStart(8)} ${format(cpu.stepsPerSecond).padStart(9)} ${format(cpu.elementsPerSecond).padStart(9)} ${cpu.rme.toFixed(1).padStart(6)} ${'1.00'.padStart(7)}`);
    // webasm twice: split across worker threads (gpu.js's async-contract default) and inline SIMD.
    const variants = modes.flatMap((mode): GpujsBackendOptions[] =>
      mode === 'webasm' ? [{ mode, threads: true }, { mode, threads: false }] : [{ mode }],
    );
    for (const variant of variants) {
      const backend = await createGpujsBackend(variant);
      const label = variant.threads === false ? `${backend.name}/sync` : backend.name;
      for (const workload of ['step', 'step+upload'] as const) {
        const row = await benchGpujs(backend, label, workload, size, options, args.timeMs, cpu.stepsPerSecond);
        rows.push(row);
        log(
          `${row.backend.padEnd(18)} ${workload.padEnd(12)} ${String(size).padStart(8)} ${format(row.stepsPerSecond).padStart(9)} ` +
            `${format(row.elementsPerSecond).padStart(9)} ${row.rme.toFixed(1).padStart(6)} ${row.vsCpuBackend.toFixed(2).padStart(7)} ${row.readbacksPerStep}`,
        );
      }
      backend.dispose();
    }
  }
  const gpuNote = modes.some((m) => m === 'webgpu' || m === 'webgl2' || m === 'webgl' || m === 'headlessgl')
    ? 'GPU modes measured'
    : 'no GPU mode available: only CPU-side gpu.js modes (webasm, cpu) were measured';
  if (args.json) {
    const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, platform: `${process.platform}-${process.arch}` };
    console.log(JSON.stringify({ benchmark: 'gpujs', options, autoMode, modes, note: gpuNote, machine, rows }, null, 2));
  } else {
    log(gpuNote);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
