import { describe, expect, it } from 'vitest';
import { CHECKPOINT_DEFAULTS, parseBenchArgs } from '../src/args.js';
import { fillPseudoRandom, transformerShapes } from '../src/checkpoint-model.js';

describe('checkpoint bench', () => {
  it('splits 250M parameters like a GPT-2-style transformer: one large embedding, a few large matrices per layer, many small tensors', () => {
    const shapes = transformerShapes(250e6);
    const total = shapes.reduce((sum, s) => sum + s.size, 0);
    expect(Math.abs(total - 250e6) / 250e6).toBeLessThan(0.001);
    // d = 1024: 17 layers of 12 tensors (12·1024² + 13·1024 each), positions, final norm, the rest vocabulary.
    expect(shapes).toHaveLength(2 + 17 * 12 + 2);
    expect(shapes.filter((s) => s.name.endsWith('mlp.c_fc.weight')).map((s) => s.size)).toEqual(new Array(17).fill(4 * 1024 * 1024));
    expect(shapes[0]).toEqual({ name: 'wte.weight', size: Math.round((250e6 - 17 * (12 * 1024 ** 2 + 13 * 1024) - 1024 * 1024 - 2048) / 1024) * 1024 });
    expect(shapes.filter((s) => s.size <= 4096)).toHaveLength(8 * 17 + 2); // biases and norms
  });

  it('fills the same pseudo-random values in [-1, 1) for a seed, others for another', () => {
    const a = fillPseudoRandom(new Float32Array(1000), 7);
    expect(Array.from(a)).toEqual(Array.from(fillPseudoRandom(new Float32Array(1000), 7)));
    expect(Array.from(a)).not.toEqual(Array.from(fillPseudoRandom(new Float32Array(1000), 8)));
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...a)).toBeLessThan(1);
    expect(Math.abs(a.reduce((s, x) => s + x, 0) / a.length)).toBeLessThan(0.1);
  });

  it('parses --checkpoint and its options, and refuses them without it', () => {
    expect(parseBenchArgs(['--checkpoint'])).toMatchObject({ checkpoint: true, checkpointParams: CHECKPOINT_DEFAULTS.params, kills: 200, checkpointDir: undefined });
    expect(parseBenchArgs(['--checkpoint', '--checkpoint-params', '1e6', '--kills', '0', '--checkpoint-dir', '/data'])).toMatchObject({
      checkpointParams: 1e6,
      kills: 0,
      checkpointDir: '/data',
    });
    expect(() => parseBenchArgs(['--kills', '10'])).toThrow(/go with --checkpoint/);
    expect(() => parseBenchArgs(['--checkpoint', '--kills=-1'])).toThrow(/positive integer/);
    expect(() => parseBenchArgs(['--checkpoint', '--json', '--backend', 'cpu', '--size', '10'])).toThrow(/on its own/);
  });
});
