import { describe, expect, it } from 'vitest';
import { RectifyError } from '../src/errors.js';
import { MAX_INPUT_DEPTH, copyInput } from '../src/input-copy.js';

const context = { code: 'INVALID_OPTION', root: 'options' } as const;

describe('copyInput', () => {
  it('copies plain data deeply: later edits of the original change nothing', () => {
    const original = { lr: { scheduler: 'StepLR', args: { baseLr: 0.1, milestones: [1, 2] } }, betas: [0.9, 0.99] };
    const copy = copyInput(original, context);
    original.lr.args.baseLr = 5;
    original.lr.args.milestones.push(3);
    original.betas[0] = 0;
    expect(JSON.parse(JSON.stringify(copy))).toEqual({
      lr: { scheduler: 'StepLR', args: { baseLr: 0.1, milestones: [1, 2] } },
      betas: [0.9, 0.99],
    });
    expect(Array.isArray(copy.betas)).toBe(true);
  });

  it('reads every getter exactly once', () => {
    let reads = 0;
    const copy = copyInput(
      {
        get eps() {
          reads++;
          return reads;
        },
      },
      context,
    );
    expect([copy.eps, copy.eps, reads]).toEqual([1, 1, 1]);
  });

  it('keeps "__proto__" as a data key and ignores inherited properties', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copy = copyInput(parsed, context) as Record<string, unknown>;
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const inherited = Object.create({ inherited: 1 }) as Record<string, unknown>;
    inherited.own = 2;
    expect(Object.keys(copyInput(inherited, context))).toEqual(['own']);
  });

  it('copies typed arrays and keeps what `keep` selects by reference', () => {
    const data = new Float32Array([1, 2]);
    const live = { step() {} };
    const copy = copyInput({ data, live }, { ...context, keep: (v) => v === live });
    data[0] = 9;
    expect(Array.from(copy.data)).toEqual([1, 2]);
    expect(copy.data).toBeInstanceOf(Float32Array);
    expect(copy.live).toBe(live);
  });

  it('turns cycles and deep nesting into a typed error with the given code', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => copyInput(cyclic, context)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', parameter: 'options' }));
    let deep: unknown = 0;
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(() => copyInput(deep, { code: 'INVALID_STATE_DICT', root: 'dict' })).toThrow(RectifyError);
    let justDeepEnough: unknown = 0;
    for (let i = 0; i < MAX_INPUT_DEPTH; i++) justDeepEnough = [justDeepEnough];
    expect(() => copyInput(justDeepEnough, context)).not.toThrow();
  });

  it('reports a throwing getter as a typed error naming the path', () => {
    const hostile = {
      get lr(): number {
        throw new Error('boom');
      },
    };
    expect(() => copyInput({ inner: hostile }, context)).toThrow(/options\.inner\.lr.*boom/);
  });
});

describe('copyInput under prototype pollution', () => {
  it('ignores a `keep` inherited from Object.prototype', () => {
    Object.defineProperty(Object.prototype, 'keep', { value: 3, enumerable: true, configurable: true, writable: true });
    let copy: unknown;
    try {
      copy = copyInput({ a: [1, 2] }, { code: 'INVALID_OPTION', root: 'options' });
    } finally {
      delete (Object.prototype as Record<string, unknown>).keep;
    }
    expect(JSON.parse(JSON.stringify(copy))).toEqual({ a: [1, 2] });
  });
});
