/**
 * Per-step time of `RAdamOptimizer.applyGradients` (from `@rectify/backend-tfjs`) against
 * tfjs' own `tf.train.adam(…).applyGradients`, on the same 1M-element float32 variable and
 * the same gradient, for the tfjs `cpu` and `wasm` backends; on `webgpu` (Dawn in Node),
 * tfjs' Adam against core's `RAdam` on `tfjsBackend` with `@rectify/backend-webgpu`'s
 * shared WGSL kernel (one dispatch per step) and with the stock-op graph
 * (`fusedKernel: false`), each step timed until the GPU has finished it.
 *
 * ```sh
 * pnpm --filter @rectify/backend-tfjs build && pnpm --filter @rectify/bench build
 * node apps/bench/dist/tfjs-vs-adam.js [--json] [--size N] [--iterations K] [--backends wasm,cpu,webgpu]
 * ```
 *
 * Every optimizer is warmed up (past RAdam's un-rectified first steps), then timed in
 * rounds: each round runs one step of every task back to back, in an order rotated from
 * round to round, so drift in machine speed (other processes, GC) hits every task alike.
 * Reported per task: the median step time. The ratio to Adam is the median over rounds of
 * `RAdam step / Adam step` within the round (a paired estimate, robust to load that
 * changes between rounds); the ratio of the medians is printed too. cpu and wasm tfjs
 * kernels run synchronously, so the wall time of `applyGradients` is the whole step.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { RAdam } from '@rectify/core';
import { RAdamOptimizer, tfjsBackend } from '@rectify/backend-tfjs';
import { useWasmBackend } from '@rectify/backend-tfjs/wasm';
import { useWebGpuBackend } from '@rectify/backend-tfjs/webgpu';
import { loadNodeWebGpu } from '@rectify/conformance/node-webgpu';
import * as tf from '@tensorflow/tfjs';
import { median } from './measure.js';

type TfjsEngine = 'cpu' | 'wasm' | 'webgpu';
const ENGINES: readonly TfjsEngine[] = ['cpu', 'wasm', 'webgpu'];

interface Args {
  readonly json: boolean;
  readonly size: number;
  /** Timed rounds per backend; default 101 on wasm, 31 on cpu (Adam takes ~0.2 s a step there). */
  readonly iterations: number | undefined;
  readonly backends: readonly TfjsEngine[];
}

function parseArgs(argv: readonly string[]): Args {
  const value = (flag: string): number | undefined => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const parsed = Number(argv[i + 1]);
    if (!Number.isSafeInteger(parsed) || parsed <= 0) throw new Error(`${flag} needs a positive integer.`);
    return parsed;
  };
  const i = argv.indexOf('--backends');
  const backends = (i >= 0 ? (argv[i + 1] ?? '') : 'wasm,cpu').split(',');
  for (const b of backends) if (!(ENGINES as readonly string[]).includes(b)) throw new Error(`--backends: unknown backend "${b}".`);
  return {
    json: argv.includes('--json'),
    size: value('--size') ?? 1_000_000,
    iterations: value('--iterations'),
    backends: backends as TfjsEngine[],
  };
}

/** One timed task: a name and a step to run (resolved once the step is complete). */
interface Task {
  readonly name: string;
  readonly step: () => void | Promise<void>;
  readonly samples: number[];
}

interface BackendResult {
  readonly backend: string;
  readonly size: number;
  readonly iterations: number;
  /** Median milliseconds per step, by task. */
  readonly medianMs: Record<string, number>;
  /** RAdam (default options) over Adam, median of the per-round ratios: must be <= 1. */
  readonly ratio: number;
  /**
   * The same for RAdam with `nonFinite: 'propagate'` (no per-step readback); on `webgpu`,
   * for RAdam on the stock-op graph instead of the shared kernel.
   */
  readonly ratioPropagate: number;
  /** RAdam's median over Adam's median (the unpaired estimate). */
  readonly ratioOfMedians: number;
  /** Tensors alive before the first and after the last timed step (must be equal). */
  readonly numTensors: { readonly before: number; readonly after: number };
}

async function activate(backend: TfjsEngine): Promise<void> {
  // In Node the wasm backend loads its .wasm binaries from disk: useWasmBackend finds them.
  if (backend === 'wasm') return useWasmBackend();
  if (backend === 'webgpu') {
    const webgpu = await loadNodeWebGpu();
    if (webgpu.unavailable !== undefined) throw new Error(webgpu.unavailable);
    return useWebGpuBackend({ gpu: webgpu.gpu });
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} is unavailable.`);
  await tf.ready();
}

/** What a webgpu step is timed to: tfjs' queued commands submitted and finished by the GPU. */
interface TfjsWebGpuQueue {
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  readonly device: { readonly queue: { onSubmittedWorkDone(): Promise<void> } };
}

/** Resolves once the GPU has finished everything tfjs queued so far. */
async function gpuFinished(): Promise<void> {
  const backend = tf.backend() as unknown as TfjsWebGpuQueue;
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
  await backend.device.queue.onSubmittedWorkDone();
}

/**
 * The tasks timed on `backend`: tfjs' Adam first, then RAdam with default options, then
 * the variant of {@link BackendResult.ratioPropagate}; and what disposes them.
 */
function tasksFor(backend: TfjsEngine, variable: tf.Variable, gradient: tf.Tensor): { tasks: Task[]; dispose: () => void } {
  // The list form: both optimizers take it (Adam's typings reject a plain tensor map).
  const grads = [{ name: variable.name, tensor: gradient }];
  const adam = tf.train.adam(1e-3);
  if (backend === 'webgpu') {
    // tf.Optimizer steps are synchronous, and a synchronous read stalls on a GPU: core's
    // asynchronous RAdam over tfjs' variables is what runs the shared kernel there.
    const shared = new RAdam(tfjsBackend({ synchronous: false }), { lr: 1e-3 });
    const stockOps = new RAdam(tfjsBackend({ synchronous: false, fusedKernel: false }), { lr: 1e-3 });
    // Both update the same variable, alternately: each keeps its own moments.
    shared.registerTrainableWeights({ w: variable });
    stockOps.registerTrainableWeights({ w: variable });
    return {
      tasks: [
        { name: 'tf.train.adam', step: async () => (adam.applyGradients(grads), gpuFinished()), samples: [] },
        { name: 'RAdam, shared WGSL kernel', step: async () => (await shared.step({ w: gradient }), gpuFinished()), samples: [] },
        { name: 'RAdam, stock ops (fusedKernel: false)', step: async () => (await stockOps.step({ w: gradient }), gpuFinished()), samples: [] },
      ],
      dispose: () => {
        adam.dispose();
        shared.dispose();
        stockOps.dispose();
      },
    };
  }
  const radam = new RAdamOptimizer({ lr: 1e-3 });
  const radamPropagate = new RAdamOptimizer({ lr: 1e-3, nonFinite: 'propagate' });
  return {
    tasks: [
      { name: 'tf.train.adam', step: () => adam.applyGradients(grads), samples: [] },
      { name: 'RAdamOptimizer', step: () => radam.applyGradients(grads), samples: [] },
      { name: "RAdamOptimizer (nonFinite: 'propagate')", step: () => radamPropagate.applyGradients(grads), samples: [] },
    ],
    dispose: () => {
      adam.dispose();
      radam.dispose();
      radamPropagate.dispose();
    },
  };
}

async function measure(backend: TfjsEngine, args: Args): Promise<BackendResult> {
  await activate(backend);
  const iterations = args.iterations ?? (backend === 'cpu' ? 31 : 101);
  const n = args.size;
  const init = new Float32Array(n);
  const grad = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    init[i] = Math.cos(i * 0.01) * 0.1;
    grad[i] = Math.sin(i * 0.001) * 0.01;
  }
  const variable = tf.variable(tf.tensor1d(init), true, `bench_w_${backend}`);
  const gradient = tf.tensor1d(grad);
  const { tasks, dispose } = tasksFor(backend, variable, gradient);
  // Warm-up: kernels, allocator, JIT, and RAdam past its un-rectified first steps.
  for (let i = 0; i < 10; i++) for (const task of tasks) await task.step();
  const before = tf.memory().numTensors;
  for (let round = 0; round < iterations; round++) {
    for (let k = 0; k < tasks.length; k++) {
      const task = tasks[(round + k) % tasks.length]!;
      const start = performance.now();
      await task.step();
      task.samples.push(performance.now() - start);
    }
  }
  const after = tf.memory().numTensors;
  if (!Number.isFinite((await variable.data())[0]!)) throw new Error('the benchmark diverged');

  dispose();
  tf.dispose([variable, gradient]);

  const [adamTask, radamTask, propagateTask] = tasks as [Task, Task, Task];
  const pairedRatio = (task: Task): number => median(task.samples.map((ms, i) => ms / adamTask.samples[i]!));
  return {
    backend,
    size: n,
    iterations,
    medianMs: Object.fromEntries(tasks.map((t) => [t.name, median(t.samples)])),
    ratio: pairedRatio(radamTask),
    ratioPropagate: pairedRatio(propagateTask),
    ratioOfMedians: median(radamTask.samples) / median(adamTask.samples),
    numTensors: { before, after },
  };
}

function printTable(results: readonly BackendResult[]): void {
  const rows: string[][] = [['backend', 'task', 'median ms/step', 'median/Adam median']];
  for (const r of results) {
    const adamMs = r.medianMs['tf.train.adam']!;
    for (const [task, ms] of Object.entries(r.medianMs)) {
      rows.push([`tfjs-${r.backend}`, task, ms.toFixed(3), (ms / adamMs).toFixed(3)]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log();
  for (const r of results) {
    const verdict = r.ratio <= 1 ? 'OK (<= 1.0)' : 'SLOWER than Adam';
    const variant = r.backend === 'webgpu' ? 'on stock ops' : "with nonFinite 'propagate'";
    console.log(
      `tfjs-${r.backend}: RAdam / Adam = ${r.ratio.toFixed(3)} ${verdict} (paired; ratio of medians ` +
        `${r.ratioOfMedians.toFixed(3)}); ${variant} ${r.ratioPropagate.toFixed(3)} ` +
        `(${r.size.toLocaleString('en-US')} elements, ${r.iterations} timed rounds, ` +
        `tensors ${r.numTensors.before} -> ${r.numTensors.after})`,
    );
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Keep --json output (stdout) to the JSON alone, whatever a library logs on the way.
  const log = console.log;
  if (args.json) console.log = () => undefined;
  const results: BackendResult[] = [];
  try {
    for (const backend of args.backends) results.push(await measure(backend, args));
  } finally {
    console.log = log;
  }
  if (args.json) {
    console.log(
      JSON.stringify(
        {
          benchmark: 'tfjs-vs-adam',
          node: process.version,
          cpu: os.cpus()[0]?.model ?? 'unknown',
          cores: os.cpus().length,
          tfjs: tf.version.tfjs,
          results,
        },
        null,
        2,
      ),
    );
  } else {
    printTable(results);
  }
  if (results.some((r) => r.numTensors.before !== r.numTensors.after)) process.exitCode = 1;
}

await main();
