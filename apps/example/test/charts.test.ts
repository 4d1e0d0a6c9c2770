import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { svgToPng, toSvg, writeChart } from '../src/charts/render.js';
import { decisionMapSpec, learningRateSpec, lossCurvesSpec, warmupSpec } from '../src/charts/specs.js';
import { decisionCells } from '../src/charts/decision-map.js';

const curves = [
  { backend: 'cpu64', losses: [1, 0.5, 0.25] },
  { backend: 'cpu', losses: [1, 0.5000001, 0.25] },
];

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(png: Buffer): [number, number] {
  expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

describe('charts', () => {
  it('draws every backend\'s loss, and the gap to the reference without the reference itself', () => {
    const spec = lossCurvesSpec('Iris', curves, 'cpu64') as { vconcat: { data: { values: Record<string, unknown>[] } }[] };
    expect(spec.vconcat[0]!.data.values).toHaveLength(6);
    // Only cpu's step 1 differs from the reference; zeros are left out of the log scale.
    expect(spec.vconcat[1]!.data.values).toEqual([{ backend: 'cpu', step: 1, gap: expect.closeTo(1e-7, 12) }]);
  });

  it('renders SVG with the titles, axis titles and legend entries as text', async () => {
    const svg = await toSvg(lossCurvesSpec('Iris', curves, 'cpu64'));
    expect(svg.startsWith('<svg')).toBe(true);
    for (const text of ['Iris: training loss on every backend', 'optimizer step', 'cross-entropy loss (log)', 'cpu64', 'cpu']) {
      expect(svg).toContain(`>${text}</text>`);
    }
    expect(svg).toContain('font-family="DejaVu Sans"');
  });

  it('rasterises to a PNG twice the SVG\'s size', async () => {
    const svg = await toSvg(learningRateSpec('StepLR', { baseLr: 1 }, [1, 1, 0.5]));
    const width = Number(/width="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
    const height = Number(/height="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
    const [w, h] = pngSize(svgToPng(svg));
    expect(w).toBe(Math.round(2 * width));
    expect(h).toBe(Math.round(2 * height));
  });

  it('writes the warm-up chart and a decision map as SVG and PNG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rectify-charts-'));
    const traces = ['RAdam', 'Adam'].map((optimizer) => ({ task: 'Iris', optimizer, losses: [1, 0.9], updateNorms: [0.1] }));
    const warmup = await writeChart(warmupSpec(traces, 0.1, 6), dir, 'warmup');
    expect(warmup).toEqual({ svg: join(dir, 'warmup.svg'), png: join(dir, 'warmup.png') });
    expect(readFileSync(warmup.svg, 'utf8')).toContain('RAdam against Adam');
    expect(pngSize(readFileSync(warmup.png))[0]).toBeGreaterThan(800);

    const model = { layers: [2, 2] };
    // Logit of class 1 minus class 0 is x: P(class 1) = sigmoid(x).
    const params = { w1: new Float64Array([0, 1, 0, 0]), b1: new Float64Array(2) };
    const data = { x: new Float64Array([-1, -1, 1, 1]), labels: new Uint8Array([0, 1]), rows: 2, features: 2, classes: 2 };
    const cells = decisionCells(model, params, data, 4);
    expect(cells).toHaveLength(16);
    for (const cell of cells) expect(cell.p).toBeCloseTo(1 / (1 + Math.exp(-(cell.x + cell.x2) / 2)), 12);
    const map = await writeChart(decisionMapSpec('Map', cells, [{ x: 0, y: 0, label: 'arm A' }]), dir, 'map');
    expect(readFileSync(map.svg, 'utf8')).toContain('>arm A</text>');
  });
});
