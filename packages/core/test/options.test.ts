import { describe, expect, it } from 'vitest';
import { RectifyError } from '../src/errors.js';
import { DEFAULT_GROUP_OPTIONS, resolveGroupOptions, resolveOptimizerOptions } from '../src/options.js';

function errorOf(run: () => unknown): RectifyError {
  try {
    run();
  } catch (error) {
    if (error instanceof RectifyError) return error;
    throw error;
  }
  throw new Error('expected a RectifyError');
}

describe('options', () => {
  it('defaults are SPEC.md', () => {
    expect(resolveOptimizerOptions({})).toEqual({
      nonFinite: 'error',
      group: {
        lr: 1e-3,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0,
        decoupledWeightDecay: false,
        gradClipNorm: null,
        gradClipValue: null,
        threshold: 5,
        compat: 'braintools',
        maximize: false,
      },
    });
  });

  it('overrides merge over a base', () => {
    const base = resolveGroupOptions({ lr: 0.5, eps: 1e-3 });
    const merged = resolveGroupOptions({ eps: 1e-6 }, base);
    expect(merged.lr).toBe(0.5);
    expect(merged.eps).toBe(1e-6);
    expect(merged.betas).toEqual(DEFAULT_GROUP_OPTIONS.betas);
  });

  it.each([
    [{ lr: -0.1 }, 'lr', '>= 0'],
    [{ lr: Infinity }, 'lr', 'finite'],
    [{ betas: [0.9] }, 'betas', 'pair'],
    [{ betas: [0.9, 1] }, 'betas', '[0, 1)'],
    [{ eps: NaN }, 'eps', 'finite'],
    [{ weightDecay: -1 }, 'weightDecay', '>= 0'],
    [{ gradClipNorm: -2 }, 'gradClipNorm', '> 0'],
    [{ gradClipValue: 0 }, 'gradClipValue', '> 0'],
    [{ threshold: 3.9 }, 'threshold', '>= 4'],
    [{ compat: 'torch', threshold: 4 }, 'threshold', 'torch'],
    [{ maximize: 'yes' }, 'maximize', 'true or false'],
    [{ compat: 'jax' }, 'compat', '"braintools", "torch"'],
    [{ learningRate: 0.1 }, 'learningRate', 'not a known'],
  ])('rejects %j naming %s', (options, parameter, fragment) => {
    const error = errorOf(() => resolveGroupOptions(options as never));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.parameter).toBe(parameter);
    expect(error.message).toContain(fragment);
  });

  it('suggests the camelCase name for a snake_case option', () => {
    expect(errorOf(() => resolveGroupOptions({ grad_clip_norm: 1 } as never)).message).toContain('"gradClipNorm"');
  });

  it('rejects an unknown nonFinite policy', () => {
    expect(errorOf(() => resolveOptimizerOptions({ nonFinite: 'ignore' as never })).parameter).toBe('nonFinite');
  });
});
