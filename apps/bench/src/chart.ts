import { formatDecade, formatRate } from './format.js';
import { describeMachine } from './machine.js';
import type { BenchResults } from './results.js';

const WIDTH = 760;
const HEIGHT = 460;
const MARGIN = { left: 70, right: 190, top: 40, bottom: 56 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** Powers of ten from 10^floor(log lo) to 10^ceil(log hi). */
function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

/**
 * A log-log SVG line chart of throughput (elements per second) against tensor size, one
 * line per backend for the single-tensor runs, a hollow marker for each multi-tensor run
 * (placed at its total element count), and the cache and DRAM rooflines as dashed lines. Hand-written
 * SVG: no dependency, and the file diffs well.
 */
export function throughputChart(results: BenchResults): string {
  const single = results.measurements.filter((m) => m.tensors === 1);
  const multi = results.measurements.filter((m) => m.tensors > 1);
  const all = results.measurements;
  const backends = [...new Set(all.map((m) => m.backend))];
  const xs = all.map((m) => m.size * m.tensors);
  const roofs = [results.roofline.cache, results.roofline.dram].filter((point) => point !== undefined);
  const ys = [...all.map((m) => m.elementsPerSecond), ...roofs.map((point) => point.elementsPerSecond)];
  const xTicks = decades(Math.min(...xs, 1e3), Math.max(...xs, 1e7));
  const yTicks = decades(Math.min(...ys), Math.max(...ys));
  const [x0, x1] = [xTicks[0]!, xTicks[xTicks.length - 1]!];
  const [y0, y1] = [yTicks[0]!, yTicks[yTicks.length - 1]!];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (v: number): number => MARGIN.left + ((Math.log10(v) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0))) * plotW;
  const y = (v: number): number => MARGIN.top + plotH - ((Math.log10(v) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0))) * plotH;
  const f = (v: number): string => v.toFixed(1);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="20" font-size="14" font-weight="bold">RAdam step throughput (float32), elements/s</text>`,
    `<text x="${MARGIN.left}" y="34" font-size="10" fill="#555">${escapeXml(describeMachine(results.machine))}</text>`,
  ];
  for (const t of xTicks) {
    parts.push(`<line x1="${f(x(t))}" y1="${MARGIN.top}" x2="${f(x(t))}" y2="${MARGIN.top + plotH}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${f(x(t))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${formatDecade(t)}</text>`);
  }
  for (const t of yTicks) {
    parts.push(`<line x1="${MARGIN.left}" y1="${f(y(t))}" x2="${MARGIN.left + plotW}" y2="${f(y(t))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${f(y(t) + 4)}" text-anchor="end">${formatDecade(t)}/s</text>`);
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 18}" text-anchor="middle">elements per step (one tensor; hollow marks: many tensors)</text>`,
  );
  for (const point of roofs) {
    const roof = y(point.elementsPerSecond);
    const label = point.regime === 'dram' ? 'DRAM roofline' : 'cache roofline';
    parts.push(
      `<line x1="${MARGIN.left}" y1="${f(roof)}" x2="${MARGIN.left + plotW}" y2="${f(roof)}" stroke="#000" stroke-dasharray="${point.regime === 'dram' ? '6 4' : '2 3'}"/>`,
      `<text x="${MARGIN.left + 4}" y="${f(roof - 5)}" font-size="11">${label} ${formatRate(point.elementsPerSecond)}/s (RAdam access pattern, native)</text>`,
    );
  }
  backends.forEach((backend, i) => {
    const color = COLORS[i % COLORS.length]!;
    const points = single.filter((m) => m.backend === backend).sort((a, b) => a.size - b.size);
    if (points.length > 1) {
      const path = points.map((m) => `${f(x(m.size))},${f(y(m.elementsPerSecond))}`).join(' ');
      parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    for (const m of points) parts.push(`<circle cx="${f(x(m.size))}" cy="${f(y(m.elementsPerSecond))}" r="3.5" fill="${color}"/>`);
    for (const m of multi.filter((m) => m.backend === backend)) {
      const cx = x(m.size * m.tensors);
      parts.push(
        `<circle cx="${f(cx)}" cy="${f(y(m.elementsPerSecond))}" r="5" fill="white" stroke="${color}" stroke-width="2">` +
          `<title>${escapeXml(`${backend}: ${m.tensors} × ${m.size}`)}</title></circle>`,
      );
    }
    const ly = MARGIN.top + 10 + i * 20;
    const lx = MARGIN.left + plotW + 16;
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${lx + 28}" y="${ly + 4}">${escapeXml(backend)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
