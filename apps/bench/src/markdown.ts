import { formatGBps, formatMillions, formatPercent, formatShape } from './format.js';
import { describeMachine } from './machine.js';
import type { BenchResults, Measurement } from './results.js';
import type { Roofline, RooflinePoint } from './roofline.js';

/** A markdown table: `align` per column, `r` right-aligned. */
export function table(header: readonly string[], align: readonly ('l' | 'r')[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(align.map((a) => (a === 'r' ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

/** Shapes in the order measured (single tensors by size, then multi-tensor ones). */
function shapesOf(measurements: readonly Measurement[]): { size: number; tensors: number }[] {
  const seen = new Map<string, { size: number; tensors: number }>();
  for (const m of measurements) seen.set(`${m.tensors}x${m.size}`, { size: m.size, tensors: m.tensors });
  return [...seen.values()].sort((a, b) => (a.tensors === 1) !== (b.tensors === 1) ? (a.tensors === 1 ? -1 : 1) : a.size * a.tensors - b.size * b.tensors);
}

function pointText(point: RooflinePoint | undefined, label: string): string {
  if (point === undefined) return `${label}: not measured`;
  return `${label} **${formatMillions(point.elementsPerSecond)} M elements/s** (${formatGBps(point.bytesPerSecond)}, ${point.elements.toExponential(0)} elements)`;
}

/** The rooflines in one paragraph: what was measured, how, and each figure in elements/s and GB/s. */
export function rooflineText(roofline: Roofline): string {
  const threads = roofline.dram?.threads ?? roofline.cache?.threads;
  const head =
    "Roofline: a native C loop with RAdam's own access pattern (reads p, g, m, v; writes p, m, v in place; 28 B per element)" +
    (threads === undefined ? '' : ` on ${threads} threads`);
  const missing = roofline.unavailable === undefined ? '' : ` (${roofline.unavailable})`;
  return `${head}: ${pointText(roofline.dram, 'DRAM (1.6 GB of arrays, far beyond the caches)')}; ${pointText(roofline.cache, 'cache (16 MB of arrays, cache resident)')}${missing}.`;
}

/** A fraction of a roofline with its regime: `81% DRAM`; `—` when not measured. */
export function fractionText(fraction: number | null | undefined, regime: string): string {
  return fraction === null || fraction === undefined ? '—' : `${formatPercent(fraction)} ${regime === 'dram' ? 'DRAM' : 'cache'}`;
}

/**
 * The single-tensor matrix as markdown: the machine and date, the rooflines, a summary
 * table (backends × shapes, millions of elements per second and % of the roofline of the
 * shape's regime), and every figure in detail.
 */
export function resultsMarkdown(results: BenchResults): string {
  const { machine, measurements } = results;
  const backends = [...new Set(measurements.map((m) => m.backend))];
  const shapes = shapesOf(measurements);
  const find = (backend: string, shape: { size: number; tensors: number }): Measurement | undefined =>
    measurements.find((m) => m.backend === backend && m.size === shape.size && m.tensors === shape.tensors);

  const summary = table(
    ['backend', ...shapes.map((s) => formatShape(s.size, s.tensors))],
    ['l', ...shapes.map(() => 'r' as const)],
    backends.map((backend) => [
      `\`${backend}\``,
      ...shapes.map((shape) => {
        const m = find(backend, shape);
        return m === undefined ? '—' : `${formatMillions(m.elementsPerSecond)} (${fractionText(m.rooflineFraction, m.rooflineRegime)})`;
      }),
    ]),
  );
  const detail = table(
    ['backend', 'tensors × elements', 'steps/s', 'M elements/s', 'roofline', 'vs tfjs Adam', 'samples'],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    measurements.map((m) => [
      `\`${m.backend}\``,
      `${m.tensors} × ${m.size.toLocaleString('en-US')}`,
      m.stepsPerSecond >= 100 ? m.stepsPerSecond.toFixed(0) : m.stepsPerSecond.toPrecision(3),
      formatMillions(m.elementsPerSecond),
      fractionText(m.rooflineFraction, m.rooflineRegime),
      m.vsTfjsAdam === undefined ? '—' : `${m.vsTfjsAdam.toFixed(2)}×`,
      String(m.samples),
    ]),
  );
  const skipped = results.skipped.map((s) => `- \`${s.backend}\` not measured: ${s.reason}`);
  return [
    `Machine: ${describeMachine(machine)}.`,
    '',
    rooflineText(results.roofline),
    '',
    `RAdam default options, \`lr 1e-3\`, \`nonFinite: '${results.nonFinite}'\`; median step time over at least 5 timed ` +
      'steps after warm-up (tinybench). Millions of elements updated per second, and % of the roofline of the ' +
      "shape's regime (cache: 28 B × elements fit the cache; DRAM: they do not):",
    '',
    summary,
    '',
    ...(skipped.length > 0 ? [...skipped, ''] : []),
    '<details><summary>All figures</summary>',
    '',
    detail,
    '',
    '"vs tfjs Adam": RAdam elements/s over tfjs `tf.train.adam` elements/s on the same tfjs backend (tfjs backends only).',
    '',
    '</details>',
  ].join('\n');
}
