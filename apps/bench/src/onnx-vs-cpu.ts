/**
 * RAdam step throughput on one large float32 parameter: the ONNX Runtime backend (intra-op
 * threads = every core) against the CPU backend, in the same process, plus a breakdown of
 * where the ONNX backend's time goes.
 *
 * ```sh
 * pnpm --filter @rectify/bench build && node apps/bench/dist/onnx-vs-cpu.js [--json] [--size N] [--iterations K]
 * ```
 *
 * Every task is warmed up, then timed `iterations` times; figures are medians.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { cpuBackend } from '@rectify/backend-cpu';
import { onnxBackend, type OnnxBackend, type OnnxTensor } from '@rectify/backend-onnx';
import {
  RAdam,
  allFinite,
  planRAdamStep,
  resolveGroupOptions,
  sumOfSquares,
  type RAdamScalars,
  type RAdamSlot,
} from '@rectify/core';
import { Bench } from 'tinybench';

interface Args {
  readonly json: boolean;
  readonly size: number;
  readonly iterations: number;
}

function parseArgs(argv: readonly string[]): Args {
  const value = (flag: string, fallback: number): number => {
    const i = argv.indexOf(flag);
    const parsed = i >= 0 ? Number(argv[i + 1]) : fallback;
    if (!Number.isSafeInteger(parsed) || parsed <= 0) throw new Error(`${flag} needs a positive integer.`);
    return parsed;
  };
  return { json: argv.includes('--json'), size: value('--size', 10_000_000), iterations: value('--iterations', 15) };
}

interface Row {
  readonly task: string;
  readonly medianMs: number;
  readonly elementsPerSecond: number;
}

/** A gradient with every element finite and of modest size. */
function gradient(n: number, seed: number): Float32Array {
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) g[i] = Math.sin(i * 0.001 + seed) * 0.01;
  return g;
}

/** Scalars of a rectified step (step 100), as core plans them. */
function rectifiedScalars(): RAdamScalars {
  return planRAdamStep({ options: resolveGroupOptions({ lr: 1e-3 }), lr: 1e-3, step: 100, globalNorm: undefined });
}

/**
 * Runs `applyRAdam` alone on a backend with ONNX Runtime's profiler on (the backend passes
 * `sessionOptions` through; the profile is written when `dispose()` releases the session)
 * and splits one step's wall time into: operator kernels (sum of node times), the rest of
 * ORT's Run (scheduling, allocation of intermediates), and what happens outside ORT (the
 * binding's copy of every output into a fresh JavaScript buffer, feed conversion, the
 * event-loop hop of each asynchronous run).
 */
async function profileStep(n: number, threads: number, chunkSize: number, steps: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(os.tmpdir(), 'rectify-ort-profile-'));
  try {
    const backend = onnxBackend({
      intraOpNumThreads: threads,
      chunkSize,
      sessionOptions: { enableProfiling: true, profileFilePrefix: join(dir, 'profile') },
    });
    const slot = {
      param: backend.wrap(gradient(n, 1)),
      grad: backend.wrap(gradient(n, 2)),
      firstMoment: backend.wrap(new Float32Array(n)),
      secondMoment: backend.wrap(new Float32Array(n)),
    };
    const batches = [{ slots: [slot], scalars: rectifiedScalars() }];
    await backend.applyRAdam(batches);
    const start = performance.now();
    for (let s = 0; s < steps; s++) await backend.applyRAdam(batches);
    const wallMs = (performance.now() - start) / steps;
    backend.dispose();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (file === undefined) throw new Error('ONNX Runtime wrote no profile.');
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cat: string; name: string; ts: number; dur: number }[];
    // Keep the timed steps only: the warm-up step's runs come first.
    const runsPerStep = Math.ceil(n / chunkSize);
    const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
    const timed = runs.slice(runs.length - steps * runsPerStep);
    const from = timed[0]?.ts ?? Infinity;
    const runUs = timed.reduce((sum, e) => sum + e.dur, 0);
    const kernelUs = events
      .filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= from)
      .reduce((sum, e) => sum + e.dur, 0);
    return {
      chunkSize,
      runsPerStep,
      wallMsPerStep: wallMs,
      ortRunMsPerStep: runUs / 1000 / steps,
      kernelMsPerStep: kernelUs / 1000 / steps,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The onnxruntime-node version the ONNX backend resolves (the bench does not depend on it directly). */
function onnxRuntimeVersion(): string {
  const require = createRequire(import.meta.resolve('@rectify/backend-onnx'));
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const n = args.size;
  const cores = os.availableParallelism();
  const log = (line: string): void => {
    if (!args.json) console.log(line);
  };
  log(`RAdam step on one float32 parameter of ${n.toLocaleString('en-US')} elements; ${cores} cores; ${os.cpus()[0]?.model ?? 'unknown CPU'}`);

  const grad = gradient(n, 0);
  const cpu = cpuBackend();
  const cpuParam = gradient(n, 3);
  const cpuOpt = new RAdam(cpu, { lr: 1e-3 });
  cpuOpt.registerTrainableWeights({ w: cpuParam });

  const backends = {
    all: onnxBackend({ intraOpNumThreads: cores }),
    one: onnxBackend({ intraOpNumThreads: 1 }),
    whole: onnxBackend({ intraOpNumThreads: cores, chunkSize: n }),
    spinning: onnxBackend({ intraOpNumThreads: cores, allowSpinning: true }),
  };
  const onnxGrad = backends.all.wrap(grad);
  const onnxParam = backends.all.wrap(gradient(n, 3));
  const onnxOpt = new RAdam(backends.all, { lr: 1e-3 });
  onnxOpt.registerTrainableWeights({ w: onnxParam });
  const onnxOneGrad = backends.one.wrap(grad);
  const onnxOneOpt = new RAdam(backends.one, { lr: 1e-3 });
  onnxOneOpt.registerTrainableWeights({ w: backends.one.wrap(gradient(n, 3)) });
  const onnxSpinGrad = backends.spinning.wrap(grad);
  const onnxSpinOpt = new RAdam(backends.spinning, { lr: 1e-3 });
  onnxSpinOpt.registerTrainableWeights({ w: backends.spinning.wrap(gradient(n, 3)) });
  // Update-only tasks: both ONNX configurations update the same three arrays (in place).
  const state = { param: gradient(n, 4), m: new Float32Array(n), v: new Float32Array(n) };
  const slot = (backend: OnnxBackend<Float32Array>): RAdamSlot<OnnxTensor<Float32Array>> => ({
    param: backend.wrap(state.param),
    grad: backend.wrap(grad),
    firstMoment: backend.wrap(state.m),
    secondMoment: backend.wrap(state.v),
  });
  const slotAll = slot(backends.all);
  const slotWhole = slot(backends.whole);
  const scalars = rectifiedScalars();
  const cpuOnlyParam = gradient(n, 4);
  const cpuM = new Float32Array(n);
  const cpuV = new Float32Array(n);
  await Promise.all(Object.values(backends).map((b) => b.ready()));

  const bench = new Bench({ iterations: args.iterations, time: 0, warmupIterations: 3, warmupTime: 0 });
  bench
    .add('cpu: RAdam.step (fused JS loop + allFinite pass)', () => {
      cpuOpt.step({ w: grad });
    })
    .add(`onnx: RAdam.step (${cores} threads)`, async () => {
      await onnxOpt.step({ w: onnxGrad });
    })
    .add('onnx: RAdam.step (1 thread)', async () => {
      await onnxOneOpt.step({ w: onnxOneGrad });
    })
    .add('cpu: fused update only', () => {
      cpu.applyRAdam([{ slots: [{ param: cpuOnlyParam, grad, firstMoment: cpuM, secondMoment: cpuV }], scalars }]);
    })
    .add(`onnx: applyRAdam only (${cores} threads, chunks of ${backends.all.chunkSize})`, async () => {
      await backends.all.applyRAdam([{ slots: [slotAll], scalars }]);
    })
    .add(`onnx: applyRAdam only (${cores} threads, whole tensor in one run)`, async () => {
      await backends.whole.applyRAdam([{ slots: [slotWhole], scalars }]);
    })
    .add(`onnx: RAdam.step (${cores} threads, ORT thread spinning on)`, async () => {
      await onnxSpinOpt.step({ w: onnxSpinGrad });
    })
    .add('cpu: allFinite (host loop)', () => {
      allFinite([grad]);
    })
    .add(`onnx: allFinite (probe graph)`, async () => {
      await backends.all.allFinite([onnxGrad]);
    })
    .add('cpu: sumOfSquares (host loop)', () => {
      sumOfSquares([grad]);
    })
    .add(`onnx: sumOfSquares (graph)`, async () => {
      await backends.all.sumOfSquares([onnxGrad]);
    });
  await bench.run();

  const rows: Row[] = bench.tasks.map((task) => {
    const medianMs = task.result?.latency.p50 ?? NaN;
    return { task: task.name, medianMs, elementsPerSecond: n / (medianMs / 1000) };
  });
  const profile = [
    await profileStep(n, cores, backends.all.chunkSize, 5),
    await profileStep(n, cores, n, 3),
  ];
  for (const backend of Object.values(backends)) backend.dispose();

  const report = {
    size: n,
    cores,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    onnxruntime: onnxRuntimeVersion(),
    iterations: args.iterations,
    rows,
    profile,
  };
  if (args.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const width = Math.max(...rows.map((r) => r.task.length));
  for (const r of rows) {
    log(`${r.task.padEnd(width)}  ${r.medianMs.toFixed(2).padStart(8)} ms  ${(r.elementsPerSecond / 1e6).toFixed(1).padStart(8)} M elements/s`);
  }
  log('\nWhere one ONNX step goes (step graph alone, ORT profiler):');
  for (const p of profile) {
    log(
      `  chunk ${String(p.chunkSize).padStart(9)} (${p.runsPerStep} runs): wall ${p.wallMsPerStep!.toFixed(1)} ms = ` +
        `kernels ${p.kernelMsPerStep!.toFixed(1)} ms + rest of ORT Run ${(p.ortRunMsPerStep! - p.kernelMsPerStep!).toFixed(1)} ms + ` +
        `outside ORT (binding output copies, JS) ${(p.wallMsPerStep! - p.ortRunMsPerStep!).toFixed(1)} ms`,
    );
  }
}

await main();
