/** The grid's results as JSON for outside tools, a markdown table and charts. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeChart } from '@rectify/example/dist/charts/render.js';
import { CHART_FONT } from '@rectify/example/dist/charts/specs.js';
import { OPTIMIZERS, WARMUP_STEPS, type OptimizerName, type RunResult } from './experiment.js';
import { TRACE_REPLICAS, type GridResult } from './grid.js';

/** One run as `--json` prints it. */
export interface JsonRun {
  readonly optimizer: OptimizerName;
  readonly lr: number;
  readonly seed: number;
  readonly testAccuracy: number;
  readonly finalLoss: number;
}

/** The `--json` document: exactly `{ runs: [{ optimizer, lr, seed, testAccuracy, finalLoss }] }`. */
export function toJson(runs: readonly RunResult[]): { runs: JsonRun[] } {
  return { runs: runs.map(({ optimizer, lr, seed, testAccuracy, finalLoss }) => ({ optimizer, lr, seed, testAccuracy, finalLoss })) };
}

/** Mean, min and max of the test accuracy over seeds, per optimizer and rate. */
export interface AccuracySummary {
  readonly optimizer: OptimizerName;
  readonly lr: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

/** {@link AccuracySummary} of every (optimizer, rate), in grid order. */
export function summarise(runs: readonly RunResult[]): AccuracySummary[] {
  const lrs = [...new Set(runs.map((r) => r.lr))].sort((a, b) => a - b);
  return OPTIMIZERS.flatMap((optimizer) =>
    lrs.flatMap((lr) => {
      const acc = runs.filter((r) => r.optimizer === optimizer && r.lr === lr).map((r) => r.testAccuracy);
      if (acc.length === 0) return [];
      return [{ optimizer, lr, mean: acc.reduce((a, b) => a + b, 0) / acc.length, min: Math.min(...acc), max: Math.max(...acc) }];
    }),
  );
}

/** Test accuracy (mean, and [min, max] over seeds) per optimizer × rate, as markdown. */
export function markdownTable(runs: readonly RunResult[]): string {
  const summary = summarise(runs);
  const lrs = [...new Set(summary.map((s) => s.lr))].sort((a, b) => a - b);
  const seeds = new Set(runs.map((r) => r.seed)).size;
  const cell = (s: AccuracySummary | undefined): string =>
    s === undefined ? '—' : seeds > 1 ? `${s.mean.toFixed(3)} [${s.min.toFixed(3)}, ${s.max.toFixed(3)}]` : s.mean.toFixed(3);
  const lines = [
    `| optimizer | ${lrs.map((lr) => `lr ${lr}`).join(' | ')} |`,
    `| --- | ${lrs.map(() => '---').join(' | ')} |`,
    ...OPTIMIZERS.map((o) => `| ${o} | ${lrs.map((lr) => cell(summary.find((s) => s.optimizer === o && s.lr === lr))).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

const CONFIG = { font: CHART_FONT, background: 'white', padding: 12, title: { fontSize: 16, anchor: 'start' } } as const;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const COLOR = { field: 'optimizer', type: 'nominal', sort: [...OPTIMIZERS] } as const;

function accuracySpec(runs: readonly RunResult[]): TopLevelSpec {
  const seeds = new Set(runs.map((r) => r.seed)).size;
  const x = { field: 'lr', type: 'quantitative', scale: { type: 'log' }, title: 'learning rate' } as const;
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: 'Test accuracy against learning rate', subtitle: `line: mean over ${seeds} seed(s); band: min–max` },
    width: 560,
    height: 320,
    data: { values: summarise(runs) },
    layer: [
      // The band's faint colour would make the legend's symbols faint too: the lines carry it.
      {
        mark: { type: 'area', opacity: 0.18 },
        encoding: { x, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' }, color: { ...COLOR, legend: null } },
      },
      {
        mark: { type: 'line', point: true },
        encoding: { x, y: { field: 'mean', type: 'quantitative', title: 'test accuracy', scale: { domain: [0, 1] } }, color: COLOR },
      },
    ],
  };
}

function lossSpec(runs: readonly RunResult[], lr: number, steps: number): TopLevelSpec {
  const seed = Math.min(...runs.map((r) => r.seed));
  const values = runs
    .filter((r) => r.lr === lr && r.seed === seed)
    .flatMap((r) => r.losses.slice(0, steps).map((loss, i) => ({ optimizer: r.optimizer, step: i + 1, loss: Number.isFinite(loss) ? loss : null })));
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: `Training loss, first ${steps} steps at lr ${lr}`, subtitle: `seed ${seed}; minibatch cross-entropy (log scale)` },
    width: 560,
    height: 320,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.2 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'optimizer step' },
      y: { field: 'loss', type: 'quantitative', scale: { type: 'log' }, title: 'training loss' },
      color: COLOR,
    },
  };
}

function adaptiveRateSpec(result: GridResult): TopLevelSpec {
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: 'Variance of the adaptive rate over the first steps',
      subtitle: [
        `ψ_t = √(1−β2^t)/(√v_t+ε) from tfjs Adam's moments, ${TRACE_REPLICAS} minibatch orders from one start (lr ${result.config.lrs[0]});`,
        'median over parameters of Var[rate] / E[ψ at the last step]²; RAdam: r_t·ψ_t, no adaptive rate before ρt ≥ 5',
      ],
    },
    width: 560,
    height: 320,
    data: { values: result.adaptiveRate },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'optimizer step' },
      y: { field: 'variance', type: 'quantitative', scale: { type: 'log' }, title: 'relative variance of the adaptive rate' },
      color: { field: 'rate', type: 'nominal', title: 'rate', sort: ['adam', 'radam'] },
    },
  };
}

/** Writes the charts (SVG + PNG), the table and the raw JSON to `dir`; returns the file names. */
export async function writeReport(result: GridResult, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const highest = Math.max(...result.config.lrs);
  const files: string[] = [];
  for (const [name, spec] of [
    ['accuracy-vs-lr', accuracySpec(result.runs)],
    ['loss-highest-lr', lossSpec(result.runs, highest, 500)],
    ['adaptive-rate-variance', adaptiveRateSpec(result)],
  ] as const) {
    const written = await writeChart(spec, dir, name);
    files.push(written.svg, written.png);
  }
  const table = join(dir, 'table.md');
  writeFileSync(
    table,
    `Test accuracy (mean [min, max] over seeds), ${result.config.shape.steps} steps, batch ${result.config.shape.batchSize}, ` +
      `MLP 196-${result.config.shape.hidden}-10, adam-warmup: ${WARMUP_STEPS} linear warm-up steps.\n\n${markdownTable(result.runs)}`,
  );
  const json = join(dir, 'runs.json');
  writeFileSync(json, `${JSON.stringify(toJson(result.runs), null, 2)}\n`);
  files.push(table, json);
  return files;
}
