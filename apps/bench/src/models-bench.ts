/**
 * `pnpm bench --models`: one full optimizer step over real models' parameter shapes
 * (models/*.json) per row: the Rectify configurations of model-rows.ts, each in a child
 * process (model-child.ts) for a clean peak-memory figure; torch.optim.RAdam (foreach and
 * for-loop) where a Python with torch exists; and the native C step at 128-bit and native
 * vector width where `cc` exists; against the roofline of the model's regime.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NODE_BENCH_FLAGS, failureText, lastJsonLine, runProcess } from './child-process.js';
import { CHECK_COST_ROW, type CheckCost } from './check-cost.js';
import type { ChildRowReport } from './model-child.js';
import { RECTIFY_ROWS } from './model-rows.js';
import { loadModel, parameterCount, tensorSizes, type ModelShapes } from './models.js';
import { machineInfo } from './machine.js';
import type { ModelResult, ModelRow, ModelsResults } from './models-results.js';
import { nativeStep, nativeTools } from './native.js';
import { measureRoofline, regimeOf, type Roofline } from './roofline.js';
import { findTorch, runTorch } from './torch.js';

const CHILD = fileURLToPath(new URL('./model-child.js', import.meta.url));
/** A row's process is killed past this (a slow backend is cut to few steps well before). */
const ROW_TIMEOUT_MS = 15 * 60_000;

/** What `--models` runs. */
export interface ModelsBenchOptions {
  /** Model ids (default: every one of MODEL_IDS). */
  readonly models: readonly string[];
  /** Rectify backends whose rows run (default: every row); torch and native rows always run where they can. */
  readonly backends?: readonly string[];
  /** Measuring time per row, milliseconds. */
  readonly timeMs: number;
  /** Rooflines already measured in this run (the matrix's), so they are not measured twice. */
  readonly roofline?: Roofline;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Rounds of the native step: about 0.2e9 elements in all, 5 to 200. */
export function nativeRounds(elements: number): number {
  return Math.min(200, Math.max(5, Math.ceil(2e8 / elements)));
}

async function rectifyRow(model: ModelShapes, row: (typeof RECTIFY_ROWS)[number], timeMs: number, parameters: number): Promise<ModelRow> {
  const base = { kind: 'rectify' as const, id: row.id, label: row.label };
  const result = await runProcess(process.execPath, [...NODE_BENCH_FLAGS, CHILD, model.id, row.id, String(timeMs)], { timeoutMs: ROW_TIMEOUT_MS });
  const json = lastJsonLine(result.stdout) as (ChildRowReport & { error?: string }) | undefined;
  if (json?.error !== undefined) return { ...base, error: json.error };
  if (result.code !== 0 || json === undefined) return { ...base, error: failureText(result) };
  return {
    ...base,
    msPerStep: json.msPerStep,
    samples: json.samples,
    peakBytesPerParameter: json.peakExtraBytes / parameters,
    peakMethod: json.peakMethod,
    ...(json.note === undefined ? {} : { note: json.note }),
  };
}

/** {@link CheckCost} of `model` from a child process of its own, or why there is none. */
async function checkCost(model: ModelShapes, timeMs: number): Promise<CheckCost | { failure: string }> {
  const result = await runProcess(process.execPath, [...NODE_BENCH_FLAGS, CHILD, model.id, CHECK_COST_ROW, String(timeMs)], { timeoutMs: ROW_TIMEOUT_MS });
  const json = lastJsonLine(result.stdout) as { checkCost?: CheckCost; error?: string } | undefined;
  if (json?.checkCost !== undefined) return json.checkCost;
  return { failure: json?.error ?? failureText(result) };
}

/** Runs every row of every model; a row that fails carries its error and the run goes on. */
export async function runModelsBench(options: ModelsBenchOptions, log: (line: string) => void): Promise<ModelsResults> {
  const models = options.models.map(loadModel);
  const threads = availableParallelism();
  const roofline = options.roofline ?? (await measureRoofline(models.map((m) => regimeOf(parameterCount(m))), log));
  const tools = await nativeTools();
  if ('unavailable' in tools) log(`native reference: skipped (${tools.unavailable})`);
  const torch = await findTorch();
  if ('unavailable' in torch) log(`torch: skipped (${torch.unavailable})`);
  const rows = RECTIFY_ROWS.filter((row) => options.backends === undefined || options.backends.includes(row.backend));
  const results: ModelResult[] = [];
  for (const model of models) {
    const sizes = tensorSizes(model);
    const parameters = parameterCount(model);
    const out: ModelRow[] = [];
    const add = (row: ModelRow): void => {
      out.push(row);
      const figure = row.msPerStep === undefined ? `fails: ${row.error ?? '?'}` : `${row.msPerStep.toPrecision(3)} ms/step`;
      const memory = row.peakBytesPerParameter === undefined ? '' : `, ${row.peakBytesPerParameter.toFixed(1)} B/parameter`;
      log(`${model.id} ${row.id}: ${figure}${memory}`);
    };
    // The native step runs right before the Rectify rows: on a busy machine, the closer in time, the fairer the ratio.
    if (!('unavailable' in tools)) {
      for (const build of [tools.simd128, tools.native]) {
        const id = `native-${build.kind}`;
        const width = build.vectorBits === null ? (build.kind === 'simd128' ? '128-bit' : 'native width') : `${build.vectorBits}-bit`;
        const label = `native C step, ${width} vectors${build.kind === 'simd128' ? ' (WebAssembly SIMD width)' : ''}`;
        try {
          const r = await nativeStep(build, sizes, threads, nativeRounds(parameters));
          add({ kind: 'native', id, label, msPerStep: r.medianSeconds * 1000, samples: r.rounds });
        } catch (error) {
          add({ kind: 'native', id, label, error: errorText(error) });
        }
      }
    }
    for (const row of rows) add(await rectifyRow(model, row, options.timeMs, parameters));
    if (!('unavailable' in torch)) {
      for (const foreach of [true, false]) {
        const id = foreach ? 'torch-foreach' : 'torch-for-loop';
        const label = `torch ${torch.version} \`RAdam(foreach=${foreach ? 'True' : 'False'})\``;
        try {
          const r = await runTorch(torch.python, sizes, threads, foreach, options.timeMs);
          add({
            kind: 'torch',
            id,
            label,
            msPerStep: r.msPerStep,
            samples: r.samples,
            ...(r.peakExtraBytes === null ? {} : { peakBytesPerParameter: r.peakExtraBytes / parameters, peakMethod: r.peakMethod }),
            ...(r.note === undefined ? {} : { note: r.note }),
          });
        } catch (error) {
          add({ kind: 'torch', id, label, error: errorText(error) });
        }
      }
    }
    // Paired in one process; with the cpu-wasm rows, whose 'error' rows it explains.
    const cost = rows.some((row) => row.backend === 'cpu-wasm') ? await checkCost(model, options.timeMs) : undefined;
    if (cost !== undefined) {
      log(`${model.id} ${CHECK_COST_ROW}: ${'failure' in cost ? `fails: ${cost.failure}` : JSON.stringify(cost)}`);
    }
    // Shown Rectify first, then torch, then the native reference.
    const order = { rectify: 0, torch: 1, native: 2 } as const;
    out.sort((x, y) => order[x.kind] - order[y.kind]);
    results.push({
      id: model.id,
      name: model.name,
      tensors: model.tensors.length,
      parameters,
      regime: regimeOf(parameters),
      rows: out,
      ...(cost === undefined ? {} : { checkCost: cost }),
    });
  }
  return {
    machine: machineInfo(),
    threads,
    roofline,
    native: 'unavailable' in tools ? tools : { compiler: tools.compiler, simd128Bits: tools.simd128.vectorBits, nativeBits: tools.native.vectorBits },
    torch,
    models: results,
  };
}
