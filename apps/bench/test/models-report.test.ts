import { describe, expect, it } from 'vitest';
import { MODEL_IDS } from '../src/models.js';
import { parseBenchArgs } from '../src/args.js';
import { checkCostText, modelsMarkdown, rowFigures } from '../src/models-markdown.js';
import type { ModelResult, ModelsResults } from '../src/models-results.js';
import { nativeRounds } from '../src/models-bench.js';
import { rooflinePoint } from '../src/roofline.js';
import { parseTorchReport, pythonCandidates } from '../src/torch.js';

const gpt2: ModelResult = {
  id: 'gpt2-small',
  name: 'GPT-2 small',
  tensors: 148,
  parameters: 124_439_808,
  regime: 'dram',
  rows: [
    { kind: 'rectify', id: 'cpu-wasm', label: '`cpu-wasm`, backend tensors', msPerStep: 100, samples: 7, peakBytesPerParameter: 16.4, peakMethod: 'VmHWM' },
    { kind: 'rectify', id: 'tfjs-wasm', label: '`tfjs-wasm`', error: 'RuntimeError: memory access out of bounds' },
    { kind: 'rectify', id: 'tfjs-cpu', label: '`tfjs-cpu`', msPerStep: 25_000, samples: 1, note: 'one step only' },
    { kind: 'torch', id: 'torch-foreach', label: 'torch foreach', msPerStep: 400, samples: 5, peakBytesPerParameter: 20 },
    { kind: 'native', id: 'native-simd128', label: 'native C step, 128-bit vectors', msPerStep: 90, samples: 5 },
  ],
  checkCost: { check: { ratio: 1.2382, pairs: 20 }, checkWithClip: { ratio: 0.998, pairs: 19 } },
};

const results: ModelsResults = {
  machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 8, node: 'v20.0.0', platform: 'linux-x64', date: '2025-01-02' },
  threads: 2,
  roofline: { cache: rooflinePoint('cache', 1e6, 2, 0.5e-3), dram: rooflinePoint('dram', 1e8, 2, 0.1), unavailable: undefined },
  native: { compiler: 'cc 12', simd128Bits: 128, nativeBits: 256 },
  torch: { unavailable: 'no Python with torch (python3: exited with 1)' },
  models: [gpt2],
};

describe('models table', () => {
  it('derives elements/s, the roofline fraction, the share of the native step and the ratio to torch', () => {
    const f = rowFigures(gpt2, { ...gpt2.rows[0]!, msPerStep: 100 }, results.roofline);
    expect(f.elementsPerSecond).toBeCloseTo(1_244_398_080, 3);
    expect(f.roofline).toBeCloseTo(1.24439808, 9); // DRAM roofline 1e9 elements/s
    expect(f.ofNative128).toBeCloseTo(0.9, 12);
    expect(f.vsTorchForeach).toBeCloseTo(4, 12);
    // Not a cpu-wasm row: no share of the native step; torch foreach has no ratio to itself.
    expect(rowFigures(gpt2, { ...gpt2.rows[3]!, msPerStep: 400 }, results.roofline)).toMatchObject({ ofNative128: undefined, vsTorchForeach: undefined });
    // No measured roofline: no fraction.
    expect(rowFigures(gpt2, { ...gpt2.rows[0]!, msPerStep: 100 }, { ...results.roofline, dram: undefined }).roofline).toBeUndefined();
  });

  it('renders each model with its regime, failing rows with their error, and the skipped torch', () => {
    const markdown = modelsMarkdown(results);
    expect(markdown).toContain('**GPT-2 small** (148 tensors, 124,439,808 parameters; beyond the cache: DRAM roofline)');
    expect(markdown).toContain('|  | ms/step | M elements/s | of roofline | of native 128-bit step | vs torch foreach | peak B/parameter | steps |');
    expect(markdown).toContain('| `cpu-wasm`, backend tensors | 100 | 1244 | 124% DRAM | 90% | 4.00× | 16.4 | 7 |');
    expect(markdown).toContain('| `tfjs-wasm` | fails: RuntimeError: memory access out of bounds |  |  |  |  |  |  |');
    expect(markdown).toContain('| `tfjs-cpu` (one step only) | 25000 | 4.98 | 0% DRAM |  | 0.02× |  | 1 |');
    expect(markdown).toContain('PyTorch: not run (no Python with torch (python3: exited with 1)).');
    expect(markdown).toContain('widest register in its code: 128 bits');
    expect(markdown).toContain("**+23.8%** over `'propagate'` (20 pairs); with `gradClipNorm: 1`, **−0.2%** over `'propagate'` with the same clipping (19 pairs).");
  });

  it('says why the check cost is missing, and nothing when no cpu-wasm row ran', () => {
    expect(checkCostText({ failure: 'cpu-wasm unavailable here: no workers' })).toBe(
      "Cost of the default `nonFinite: 'error'` on `cpu-wasm`, paired in one process: not measured (cpu-wasm unavailable here: no workers).",
    );
    expect(checkCostText(undefined)).toBeUndefined();
  });
});

describe('models arguments, rounds, torch', () => {
  it('parses --models and --model, refuses mixing', () => {
    expect(parseBenchArgs(['--models'])).toMatchObject({ models: true, modelIds: [...MODEL_IDS] });
    expect(parseBenchArgs(['--models', '--model', 'mlp,resnet50', '--backend', 'cpu-wasm'])).toMatchObject({ modelIds: ['mlp', 'resnet50'], backends: ['cpu-wasm'] });
    expect(() => parseBenchArgs(['--models', '--model', 'gpt5'])).toThrow(/unknown model "gpt5"/);
    expect(() => parseBenchArgs(['--model', 'mlp'])).toThrow(/goes with --models/);
    expect(parseBenchArgs(['--update-readme', '--model', 'mlp'])).toMatchObject({ updateReadme: true, models: false, modelIds: ['mlp'] });
    expect(() => parseBenchArgs(['--models', '--size', '10'])).toThrow(/on its own/);
  });

  it('runs the native step about 2e8 elements in all, 5 to 200 rounds', () => {
    expect(nativeRounds(124_439_808)).toBe(5);
    expect(nativeRounds(25_557_032)).toBe(8);
    expect(nativeRounds(10_000)).toBe(200);
  });

  it('looks for torch in $RECTIFY_PYTHON, python3, /usr/bin/python3, each once', () => {
    expect(pythonCandidates({ RECTIFY_PYTHON: '/opt/py/bin/python' })).toEqual(['/opt/py/bin/python', 'python3', '/usr/bin/python3']);
    expect(pythonCandidates({ RECTIFY_PYTHON: 'python3' })).toEqual(['python3', '/usr/bin/python3']);
    expect(pythonCandidates({})).toEqual(['python3', '/usr/bin/python3']);
  });

  it('parses the torch script line and refuses a broken one', () => {
    const line = '{"torch": "1.13.0", "threads": 2, "foreach": true, "msPerStep": 448.5, "samples": 5, "peakExtraBytes": 2000, "peakMethod": "VmHWM"}';
    expect(parseTorchReport(`warning\n${line}`)).toMatchObject({ torch: '1.13.0', foreach: true, msPerStep: 448.5, peakExtraBytes: 2000 });
    expect(() => parseTorchReport(line.replace('448.5', '-1'))).toThrow(/msPerStep/);
    expect(() => parseTorchReport('Traceback (most recent call last):')).toThrow(/no JSON/);
  });
});
