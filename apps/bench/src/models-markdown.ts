import { formatMillions, formatPercent } from './format.js';
import { describeMachine } from './machine.js';
import { fractionText, rooflineText, table } from './markdown.js';
import type { ModelResult, ModelRow, ModelsResults } from './models-results.js';
import { ONE_STEP_MS } from './model-rows.js';
import { rooflineFraction, type Roofline } from './roofline.js';

/** The derived figures of one row, given its model's other rows and the rooflines. */
export interface RowFigures {
  readonly elementsPerSecond: number;
  /** Fraction of the roofline of the model's regime; `undefined` when it was not measured. */
  readonly roofline: number | undefined;
  /** Native 128-bit step time over this row's (cpu-wasm rows only): 1 = as fast as the C step. */
  readonly ofNative128: number | undefined;
  /** torch foreach's step time over this row's: above 1 = faster than torch. */
  readonly vsTorchForeach: number | undefined;
}

/** The figures of `row` (which must have a time) in `model`. */
export function rowFigures(model: ModelResult, row: ModelRow & { msPerStep: number }, roofline: Roofline): RowFigures {
  const msOf = (id: string): number | undefined => model.rows.find((r) => r.id === id)?.msPerStep;
  const native128 = msOf('native-simd128');
  const torch = msOf('torch-foreach');
  const elementsPerSecond = model.parameters / (row.msPerStep / 1000);
  return {
    elementsPerSecond,
    roofline: rooflineFraction(roofline, model.parameters, elementsPerSecond)?.fraction,
    ofNative128: row.id.startsWith('cpu-wasm') && native128 !== undefined ? native128 / row.msPerStep : undefined,
    vsTorchForeach: torch !== undefined && row.id !== 'torch-foreach' ? torch / row.msPerStep : undefined,
  };
}

function msText(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toPrecision(3) : ms.toFixed(3);
}

function ratioText(x: number | undefined): string {
  return x === undefined ? '' : `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}×`;
}

function modelTable(model: ModelResult, roofline: Roofline): string {
  const rows = model.rows.map((row) => {
    if (row.msPerStep === undefined) return [row.label, `fails: ${(row.error ?? 'unknown error').replaceAll('|', '\\|')}`, '', '', '', '', '', ''];
    const f = rowFigures(model, { ...row, msPerStep: row.msPerStep }, roofline);
    return [
      row.label + (row.note === undefined ? '' : ` (${row.note})`),
      msText(row.msPerStep),
      formatMillions(f.elementsPerSecond),
      fractionText(f.roofline, model.regime),
      f.ofNative128 === undefined ? '' : formatPercent(f.ofNative128),
      ratioText(f.vsTorchForeach),
      row.peakBytesPerParameter === undefined ? '' : row.peakBytesPerParameter.toFixed(1),
      String(row.samples ?? ''),
    ];
  });
  return [
    `**${model.name}** (${model.tensors} tensors, ${model.parameters.toLocaleString('en-US')} parameters; ` +
      `${model.regime === 'dram' ? 'beyond the cache: DRAM roofline' : 'cache resident: cache roofline'})`,
    '',
    table(
      ['', 'ms/step', 'M elements/s', 'of roofline', 'of native 128-bit step', 'vs torch foreach', 'peak B/parameter', 'steps'],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows,
    ),
  ].join('\n');
}

/** `+12.3%` for a ratio of 1.123 (`−` when the second configuration was faster). */
function overheadText(ratio: number): string {
  const percent = (ratio - 1) * 100;
  return `${percent < 0 ? '−' : '+'}${Math.abs(percent).toFixed(1)}%`;
}

/** The line under a model's table that says what the default finiteness check costs, paired in one process. */
export function checkCostText(cost: ModelResult['checkCost']): string | undefined {
  if (cost === undefined) return undefined;
  const what = "Cost of the default `nonFinite: 'error'` on `cpu-wasm`, paired in one process";
  if ('failure' in cost) return `${what}: not measured (${cost.failure}).`;
  return (
    `${what} (the two configurations step the same tensors in alternation; median of the pairs' step-time ratios): ` +
    `**${overheadText(cost.check.ratio)}** over \`'propagate'\` (${cost.check.pairs} pairs); with \`gradClipNorm: 1\`, ` +
    `**${overheadText(cost.checkWithClip.ratio)}** over \`'propagate'\` with the same clipping (${cost.checkWithClip.pairs} pairs).`
  );
}

/** The models section as markdown: how it was measured, the rooflines, and one table per model. */
export function modelsMarkdown(results: ModelsResults): string {
  const native =
    'unavailable' in results.native
      ? `Native reference: not run (${results.native.unavailable}).`
      : `Native reference: apps/bench/native/radam-step.c (${results.native.compiler}), the RAdam step of cpu-wasm's kernel in ` +
        `the same operation order, built once with vectors limited to 128 bits (widest register in its code: ${results.native.simd128Bits ?? 'not checked'} bits) ` +
        `and once at native width (${results.native.nativeBits ?? 'not checked'} bits), on ${results.threads} threads.`;
  const torch =
    'unavailable' in results.torch
      ? `PyTorch: not run (${results.torch.unavailable}).`
      : `PyTorch: ${results.torch.version} (\`${results.torch.python}\`), \`torch.optim.RAdam(lr=1e-3)\`, \`torch.set_num_threads(${results.threads})\`.`;
  return [
    `Machine: ${describeMachine(results.machine)}.`,
    '',
    rooflineText(results.roofline),
    '',
    native,
    torch,
    '',
    `One full optimizer step over every parameter of the model, median of the timed steps after warm-up; ` +
      `RAdam \`lr 1e-3\`, default betas and eps, no weight decay, \`nonFinite: 'propagate'\` unless the row says otherwise; ` +
      `every Rectify and torch row in a fresh process. "of roofline": elements/s against the roofline of the model's regime; ` +
      `"of native 128-bit step": the C step's time over the row's (cpu-wasm rows); "vs torch foreach": torch's time over the row's ` +
      `(above 1×: faster than torch); "peak B/parameter": peak RSS above the process before the parameters were made, per ` +
      `parameter (float32 training state p, g, m, v is 16 B). A backend whose first step takes over ${ONE_STEP_MS / 1000} s gets that one step only.`,
    '',
    ...results.models.flatMap((model) => {
      const cost = checkCostText(model.checkCost);
      return [modelTable(model, results.roofline), '', ...(cost === undefined ? [] : [cost, ''])];
    }),
  ].join('\n').trimEnd();
}
