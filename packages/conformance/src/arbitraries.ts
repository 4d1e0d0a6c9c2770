import fc from 'fast-check';
import type { GoldenParam, RadamGoldenCase } from './goldens.js';

/**
 * A value every backend represents exactly: a multiple of 1/1024 in [−8, 8]. Float32
 * and float64 backends then start from identical inputs, so any difference between them
 * is the optimizer's own arithmetic. Zero is included on purpose (sparse gradients).
 */
const exactValue = fc.integer({ min: -8192, max: 8192 }).map((n) => n / 1024);

/** Options inside their valid ranges, both compat modes, every switch. */
export const validOptions: fc.Arbitrary<{ semantics: 'braintools' | 'torch'; options: RadamGoldenCase['options'] }> = fc
  .record({
    semantics: fc.constantFrom('braintools' as const, 'torch' as const),
    lr: fc.double({ min: 0, max: 0.1, noNaN: true }),
    beta1: fc.double({ min: 0, max: 0.99, noNaN: true }),
    beta2: fc.constantFrom(0.9, 0.99, 0.999, 0.9999),
    // eps > 0: with eps = 0 and an all-zero gradient history, m/(sqrt(v)+eps) is 0/0.
    eps: fc.constantFrom(1e-8, 1e-6, 1e-3, 0.1),
    weightDecay: fc.option(fc.double({ min: 0, max: 0.5, noNaN: true }), { nil: undefined }),
    decoupledWeightDecay: fc.boolean(),
    gradClipNorm: fc.option(fc.double({ min: 0.01, max: 20, noNaN: true }), { nil: undefined }),
    gradClipValue: fc.option(fc.double({ min: 0.01, max: 5, noNaN: true }), { nil: undefined }),
    threshold: fc.constantFrom(4, 5, 6, 10),
    maximize: fc.boolean(),
  })
  .map(({ semantics, beta1, beta2, threshold, ...rest }) => ({
    semantics,
    options: {
      ...rest,
      betas: [beta1, beta2] as [number, number],
      ...(semantics === 'braintools' ? { threshold } : {}),
    },
  }));

/** 1 to 3 parameters of 0 to 12 elements each (size 0 and 1 included). */
const paramSet: fc.Arbitrary<Record<string, GoldenParam>> = fc
  .array(fc.array(exactValue, { minLength: 0, maxLength: 12 }), { minLength: 1, maxLength: 3 })
  .map((datas) => Object.fromEntries(datas.map((data, i) => [`p${i}`, { shape: [data.length], data }])));

/**
 * A whole run: options, parameters, and 1 to 12 steps of gradients in which each
 * parameter's gradient is missing with probability about 1/4.
 */
export const radamRun: fc.Arbitrary<RadamGoldenCase> = fc
  .tuple(validOptions, paramSet, fc.integer({ min: 1, max: 12 }))
  .chain(([{ semantics, options }, params, steps]) => {
    const gradStep = fc.record(
      Object.fromEntries(
        Object.entries(params).map(([name, p]) => [
          name,
          fc.option(fc.array(exactValue, { minLength: p.data.length, maxLength: p.data.length }), {
            nil: undefined,
            freq: 4,
          }),
        ]),
      ),
    );
    return fc.array(gradStep, { minLength: steps, maxLength: steps }).map((grads) => ({
      name: 'generated',
      semantics,
      options,
      params,
      grads: grads.map((step) =>
        Object.fromEntries(Object.entries(step).filter((entry): entry is [string, number[]] => entry[1] !== undefined)),
      ),
      expected: [],
      finalState: {},
    }));
  });
