import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SHAPES, parseBenchArgs } from '../src/args.js';
import { throughputChart } from '../src/chart.js';
import { formatDecade, formatShape } from '../src/format.js';
import { resultsMarkdown } from '../src/markdown.js';
import { README_END, README_START, updateReadme } from '../src/readme.js';
import { toJsonResult, type BenchResults, type Measurement } from '../src/results.js';
import { regimeOf, rooflinePoint } from '../src/roofline.js';

function measurement(backend: string, size: number, tensors: number, elementsPerSecond: number): Measurement {
  return {
    backend,
    size,
    tensors,
    stepsPerSecond: elementsPerSecond / (size * tensors),
    elementsPerSecond,
    // The rooflines below: cache 2e9 elements/s, DRAM 1e9.
    rooflineFraction: elementsPerSecond / (regimeOf(size * tensors) === 'cache' ? 2e9 : 1e9),
    rooflineRegime: regimeOf(size * tensors),
    vsTfjsAdam: backend === 'tfjs-wasm' ? 1.25 : undefined,
    samples: 10,
  };
}

const results: BenchResults = {
  machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 8, node: 'v20.0.0', platform: 'linux-x64', date: '2025-01-02' },
  roofline: { cache: rooflinePoint('cache', 1e6, 2, 0.5e-3), dram: rooflinePoint('dram', 1e8, 2, 0.1), unavailable: undefined },
  nonFinite: 'propagate',
  measurements: [
    measurement('cpu', 1000, 1, 90e6),
    measurement('cpu', 1e7, 1, 100e6),
    measurement('cpu', 1000, 1000, 80e6),
    measurement('tfjs-wasm', 1e7, 1, 300e6),
  ],
  skipped: [{ backend: 'gpu', reason: 'no GPU here' }],
};

describe('bench arguments', () => {
  it('defaults to the matrix of issue 8', () => {
    const args = parseBenchArgs([]);
    expect(args.shapes).toEqual(DEFAULT_SHAPES);
    expect(args.shapes).toContainEqual({ size: 1000, tensors: 1000 });
    expect(args).toMatchObject({ backends: undefined, json: false, updateReadme: false, timeMs: 1000, checkFinite: false });
  });

  it('parses --backend, --size (1e6, 1_000, lists) and --tensors', () => {
    expect(parseBenchArgs(['--backend', 'cpu,cpu-wasm', '--size', '1e6,1_000']).shapes).toEqual([
      { size: 1e6, tensors: 1 },
      { size: 1000, tensors: 1 },
    ]);
    const json = parseBenchArgs(['--backend', 'cpu-wasm', '--size', '1000', '--tensors', '1000', '--json']);
    expect(json).toMatchObject({ backends: ['cpu-wasm'], json: true, shapes: [{ size: 1000, tensors: 1000 }] });
  });

  it('rejects what it cannot honour', () => {
    expect(() => parseBenchArgs(['--json'])).toThrow(/exactly one backend/);
    expect(() => parseBenchArgs(['--json', '--backend', 'a,b', '--size', '10'])).toThrow(/exactly one backend/);
    expect(() => parseBenchArgs(['--size', '0'])).toThrow(/positive integer/);
    expect(() => parseBenchArgs(['--size', '1.5'])).toThrow(/positive integer/);
    expect(() => parseBenchArgs(['--update-readme', '--size', '10'])).toThrow(/default matrix/);
    expect(() => parseBenchArgs(['--sizes', '10'])).toThrow();
  });
});

describe('bench reports', () => {
  it('--json has exactly the five keys of the issue', () => {
    const json = toJsonResult(results.measurements[2]!);
    expect(Object.keys(json)).toEqual(['backend', 'size', 'tensors', 'elementsPerSecond', 'rooflineFraction']);
    expect(json).toEqual({ backend: 'cpu', size: 1000, tensors: 1000, elementsPerSecond: 80e6, rooflineFraction: 0.04 });
  });

  it('tabulates every backend and shape, with machine, date, bandwidth and the skipped', () => {
    const markdown = resultsMarkdown(results);
    expect(markdown).toContain('Test CPU, 2 cores, 8 GiB, Node v20.0.0, linux-x64, 2025-01-02');
    expect(markdown).toContain('DRAM (1.6 GB of arrays, far beyond the caches) **1000 M elements/s** (28.0 GB/s, 1e+8 elements)');
    expect(markdown).toContain('cache (16 MB of arrays, cache resident) **2000 M elements/s** (56.0 GB/s, 1e+6 elements)');
    expect(markdown).toContain('| backend | 1e3 | 1e7 | 1000 × 1000 |');
    expect(markdown).toContain('| `cpu` | 90.0 (5% cache) | 100 (10% DRAM) | 80.0 (4% cache) |');
    expect(markdown).toContain('| `tfjs-wasm` | — | 300 (30% DRAM) | — |');
    expect(markdown).toContain('1.25×');
    expect(markdown).toContain('`gpu` not measured: no GPU here');
  });

  it('charts a line per backend, hollow marks for many tensors, and the roofline', () => {
    const svg = throughputChart(results);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(1);
    expect(svg).toContain('<title>cpu: 1000 × 1000</title>');
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(2);
    expect(svg).toContain('DRAM roofline 1.00 G/s');
    expect(svg).toContain('cache roofline 2.00 G/s');
    expect(svg).toContain('>tfjs-wasm</text>');
    expect(formatDecade(1e7)).toBe('10M');
    expect(formatShape(1000, 1000)).toBe('1000 × 1000');
  });

  it('rewrites only the results section of the README', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-readme-'));
    try {
      const path = join(dir, 'README.md');
      await writeFile(path, `# Title\n\nIntro.\n\n${README_START}\nold\n${README_END}\n\nFooter.\n`);
      await updateReadme(path, 'new table');
      const text = await readFile(path, 'utf8');
      expect(text).toBe(`# Title\n\nIntro.\n\n${README_START}\n\nnew table\n\n${README_END}\n\nFooter.\n`);
      // A README without the markers gets a Results section appended.
      await writeFile(path, '# Title\n');
      await updateReadme(path, 'table');
      expect(await readFile(path, 'utf8')).toBe(`# Title\n\n## Results\n\n${README_START}\n\ntable\n\n${README_END}\n`);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
