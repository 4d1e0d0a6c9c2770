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

describe('flattenTensorTree: hostile trees', () => {
  it('reads own keys only, so Object.prototype pollution adds no parameter', () => {
    const w = new Float32Array(1);
    Object.defineProperty(Object.prototype, 'polluted', { value: new Float32Array(2), enumerable: true, configurable: true });
    let names: string[];
    try {
      names = [...flattenTensorTree({ w, nested: { w } }, isTensor, 'parameter', 'cpu').keys()];
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    expect(names).toEqual(['w', 'nested.w']);
  });

  it('accepts "__proto__" as a name', () => {
    const w = new Float32Array(1);
    const tree = JSON.parse('{"__proto__": null}', (key, value: unknown) => (key === '__proto__' ? w : value)) as Record<string, Float32Array>;
    expect([...flattenTensorTree(tree, isTensor, 'parameter', 'cpu').entries()]).toEqual([['__proto__', w]]);
  });

  it('rejects cyclic and too deep trees with INVALID_TENSOR', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.again = cyclic;
    expect(() => flattenTensorTree(cyclic as never, isTensor, 'parameter', 'cpu')).toThrow(expect.objectContaining({ code: 'INVALID_TENSOR' }));
  });
});
