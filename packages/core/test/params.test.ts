import { describe, expect, it } from 'vitest';
import { RectifyError } from '../src/errors.js';
import { flattenTensorTree } from '../src/params.js';

const isTensor = (v: unknown): v is Float32Array => v instanceof Float32Array;

describe('flattenTensorTree', () => {
  it('joins nested names with dots and drops missing leaves', () => {
    const a = new Float32Array(1);
    const b = new Float32Array(2);
    const flat = flattenTensorTree({ dense: { kernel: a, bias: null }, out: b, none: undefined }, isTensor, 'gradient', 'cpu');
    expect([...flat.entries()]).toEqual([
      ['dense.kernel', a],
      ['out', b],
    ]);
  });

  it('rejects a leaf that is not a tensor, naming it', () => {
    try {
      flattenTensorTree({ dense: { kernel: [1, 2] } } as never, isTensor, 'parameter', 'cpu');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RectifyError);
      expect((error as RectifyError).code).toBe('INVALID_TENSOR');
      expect((error as RectifyError).parameter).toBe('dense.kernel');
      expect((error as RectifyError).message).toContain('[1, 2]');
    }
  });

  it('rejects two paths with the same dotted name', () => {
    const t = new Float32Array(1);
    expect(() => flattenTensorTree({ 'a.b': t, a: { b: t } }, isTensor, 'parameter', 'cpu')).toThrow(/twice/);
  });
});
