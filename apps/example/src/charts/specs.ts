/**
 * The demo's charts as Vega-Lite specs: plain data in, a spec out. No Node and no DOM,
 * so the web page draws its live loss curve with the same spec the demo renders to files.
 */
import type { TopLevelSpec } from 'vega-lite';

/** Fonts every chart uses; `render.ts` hands the PNG renderer the same family. */
export const CHART_FONT = 'DejaVu Sans';

const CONFIG = {
  font: CHART_FONT,
  background: 'white',
  padding: 12,
  title: { fontSize: 18, subtitleFontSize: 13, subtitleColor: '#444', anchor: 'start', offset: 12 },
  axis: { labelFontSize: 12, titleFontSize: 13, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 12, titleFontSize: 13, symbolStrokeWidth: 3, labelLimit: 260 },
  header: { labelFontSize: 14, titleFontSize: 14, labelFontWeight: 'bold' },
  view: { stroke: '#bbb' },
  line: { strokeWidth: 2 },
} as const;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** One line of a loss chart. */
export interface LossCurve {
  readonly backend: string;
  /** `losses[i]`: loss after `i` steps. */
  readonly losses: readonly number[];
}

/**
 * Loss against step for every backend on one chart (log scale), and under it each
 * backend's distance from the reference backend's curve, which the eye cannot see on the
 * first panel because the lines lie on top of each other.
 */
export function lossCurvesSpec(title: string, curves: readonly LossCurve[], reference: string): TopLevelSpec {
  const referenceLosses = curves.find((c) => c.backend === reference)?.losses;
  const points = curves.flatMap(({ backend, losses }) => losses.map((loss, step) => ({ backend, step, loss })));
  // Exact zeros (the reference against itself) have no place on a log scale: left out.
  const gaps =
    referenceLosses === undefined
      ? []
      : curves.flatMap(({ backend, losses }) =>
          losses
            .map((loss, step) => ({ backend, step, gap: Math.abs(loss - referenceLosses[step]!) }))
            .filter((p) => p.gap > 0 && Number.isFinite(p.gap)),
        );
  const color = { field: 'backend', type: 'nominal', title: 'backend', sort: curves.map((c) => c.backend) } as const;
  const x = { field: 'step', type: 'quantitative', title: 'optimizer step' } as const;
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: `${title}: training loss on every backend`,
      subtitle: `${curves.length} backend${curves.length === 1 ? '' : 's'}, same initial weights, same gradient stream (coinciding lines hide each other)`,
    },
    vconcat: [
      {
        width: 640,
        height: 300,
        data: { values: points },
        mark: { type: 'line', clip: true },
        encoding: {
          x,
          y: { field: 'loss', type: 'quantitative', title: 'cross-entropy loss (log)', scale: { type: 'log', nice: false } },
          color,
        },
      },
      {
        width: 640,
        height: 200,
        title: { text: `Distance from the ${reference} curve`, fontSize: 14 },
        data: { values: gaps },
        mark: { type: 'line', clip: true, strokeWidth: 1.5 },
        encoding: {
          x,
          y: { field: 'gap', type: 'quantitative', title: `|loss − ${reference}'s| (log)`, scale: { type: 'log' }, axis: { format: '~e' } },
          color,
        },
      },
    ],
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec;
}

/** Name of the data set {@link liveLossSpec} reads: insert `{ step, loss }` rows into it. */
export const LIVE_LOSS_DATA = 'loss';

/**
 * An empty loss chart (log scale) to stream `{ step, loss, backend }` rows into while a
 * run trains: the web page's live plot.
 */
export function liveLossSpec(title: string): TopLevelSpec {
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: title },
    width: 560,
    height: 280,
    data: { name: LIVE_LOSS_DATA },
    mark: { type: 'line' },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'optimizer step' },
      y: { field: 'loss', type: 'quantitative', title: 'cross-entropy loss (log)', scale: { type: 'log' } },
      color: { field: 'backend', type: 'nominal', title: 'backend' },
      // Runs on different backends often coincide: dashes keep each one visible.
      strokeDash: { field: 'backend', type: 'nominal', title: 'backend' },
    },
  } as TopLevelSpec;
}

/** One optimizer's first steps on one task (see `adam-comparison.ts`). */
export interface WarmupTrace {
  readonly task: string;
  readonly optimizer: string;
  readonly losses: readonly number[];
  readonly updateNorms: readonly number[];
}

/**
 * RAdam against Adam: training loss and update size `‖Δθ‖` per step, one column per task.
 * A rule marks `firstRectifiedStep`, the first step on which RAdam's variance estimate is
 * trusted (`ρt ≥ 5`); before it RAdam takes plain momentum steps, after it rectified ones
 * scaled by `r_t`, which grows towards 1: the automatic warm-up.
 */
export function warmupSpec(traces: readonly WarmupTrace[], lr: number, firstRectifiedStep: number): TopLevelSpec {
  const LOSS = 'training loss';
  const UPDATE = 'update size ‖Δθ‖₂';
  const values = traces.flatMap(({ task, optimizer, losses, updateNorms }) => [
    ...losses.map((value, step) => ({ task, optimizer, step, metric: LOSS, value })),
    ...updateNorms.map((value, i) => ({ task, optimizer, step: i + 1, metric: UPDATE, value })),
  ]);
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: {
      text: 'RAdam against Adam: the automatic warm-up',
      subtitle: [
        `Same network, initial weights and constant learning rate ${lr} (β = 0.9, 0.999), each on its own gradients.`,
        'Adam moves every weight by about lr from step 1. RAdam takes small momentum steps first,',
        `then rectified steps from step ${firstRectifiedStep} (dashed line) that grow as r_t → 1: its warm-up.`,
      ],
    },
    data: { values },
    facet: {
      row: { field: 'metric', type: 'nominal', title: null, sort: [LOSS, UPDATE] },
      column: { field: 'task', type: 'nominal', title: null },
    },
    spec: {
      width: 380,
      height: 220,
      layer: [
        {
          mark: { type: 'line', clip: true },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: 'optimizer step' },
            y: { field: 'value', type: 'quantitative', title: null, scale: { type: 'log', nice: false } },
            color: { field: 'optimizer', type: 'nominal', title: 'optimizer', scale: { range: ['#d62728', '#1f77b4'] } },
          },
        },
        {
          mark: { type: 'rule', strokeDash: [5, 4], color: '#555' },
          encoding: { x: { datum: firstRectifiedStep } },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

/** The learning rate of every step of a run, from its scheduler. */
export function learningRateSpec(scheduler: string, args: unknown, lrs: readonly number[]): TopLevelSpec {
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: `Learning rate: ${scheduler}`, subtitle: `args ${JSON.stringify(args)}; the rate each optimizer step used` },
    width: 640,
    height: 260,
    data: { values: lrs.map((lr, i) => ({ step: i + 1, lr })) },
    mark: { type: 'line', color: '#2ca02c', strokeWidth: 2.5 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'optimizer step' },
      y: { field: 'lr', type: 'quantitative', title: 'learning rate', axis: { format: '~g' } },
    },
  } as TopLevelSpec;
}

/** A grid cell of a decision map: `[x, x2) × [y, y2)` and the model's probability of class 1. */
export interface DecisionCell {
  readonly x: number;
  readonly x2: number;
  readonly y: number;
  readonly y2: number;
  readonly p: number;
}

/** A labelled point of the test set. */
export interface LabelledPoint {
  readonly x: number;
  readonly y: number;
  readonly label: string;
}

/** The classifier's probability over the plane, with the test points on top. */
export function decisionMapSpec(title: string, cells: readonly DecisionCell[], points: readonly LabelledPoint[]): TopLevelSpec {
  const axis = (name: string): object => ({ type: 'quantitative', title: name, scale: { nice: false, zero: false } });
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: title, subtitle: 'background: the trained model’s probability of arm B; dots: held-out test points' },
    width: 460,
    height: 460,
    layer: [
      {
        data: { values: cells },
        // Lightened, so the test points (in the arms' full colours) stand out on it.
        mark: { type: 'rect', opacity: 0.55 },
        encoding: {
          x: { field: 'x', ...axis('x (standardised)') },
          x2: { field: 'x2' },
          y: { field: 'y', ...axis('y (standardised)') },
          y2: { field: 'y2' },
          color: { field: 'p', type: 'quantitative', title: 'P(arm B)', scale: { scheme: 'blueorange', domain: [0, 1] } },
        },
      },
      {
        data: { values: points },
        mark: { type: 'circle', size: 70, stroke: '#111', strokeWidth: 0.8, opacity: 1 },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'y', type: 'quantitative' },
          fill: { field: 'label', type: 'nominal', title: 'test point', scale: { range: ['#2166ac', '#e66101'] } },
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}
