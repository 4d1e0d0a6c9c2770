/**
 * The integrity tests of the tfjs backend (issue 12), run by `integrity-cpu.test.ts`
 * (fused kernel, op graph, asynchronous op graph) and `integrity-wasm.test.ts`: what may
 * be registered, all or nothing at every step, the finiteness flag and halting, and
 * agreement with core's float64-computed `cpu` backend where float32 gradients are huge.
 */
import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam, RectifyError, type RAdamOptions } from '@rectify/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { tfjsBackend, type TfjsBackend, type TfjsBackendOptions } from '../src/index.js';
import { maxExcess } from './fixtures.js';

/** The error `run` throws or rejects with (fails the test when it succeeds). */
async function failure(run: () => unknown): Promise<RectifyError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(RectifyError);
    return error as RectifyError;
  }
  throw new Error('expected a RectifyError, but the call succeeded');
}

/** The float32 bit patterns of a tensor: "unchanged" means bit for bit. */
function bits(t: tf.Tensor): number[] {
  return Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
}

/**
 * Frees a variable the way `tf.disposeVariables()` does (the engine's `disposeVariable`),
 * which, unlike `variable.dispose()`, leaves `isDisposed` false.
 */
function freeLikeDisposeVariables(variable: tf.Variable): void {
  tf.engine().disposeVariable(variable);
  expect(variable.isDisposed).toBe(false);
}

/** `backend` with every moment it creates recorded, in creation order (m, then v, per parameter). */
function recordingMoments(backend: TfjsBackend): { backend: TfjsBackend; moments: tf.Variable[] } {
  const moments: tf.Variable[] = [];
  return {
    moments,
    backend: {
      ...backend,
      zerosLike: (like) => {
        const moment = backend.zerosLike(like) as tf.Variable;
        moments.push(moment);
        return moment;
      },
    },
  };
}

/** Two parameter groups, `{ a, b }` and `{ c }`, after one step (so no moment is zero). */
async function twoGroups(make: () => TfjsBackend) {
  const { backend, moments } = recordingMoments(make());
  const a = backend.fromArray([0.5, -1, 2], [3]) as tf.Variable;
  const b = backend.fromArray([1, 2], [2]) as tf.Variable;
  const c = backend.fromArray([-0.5, 0.25, 4, 1], [2, 2]) as tf.Variable;
  const opt = new RAdam(backend, { lr: 0.01, gradClipNorm: 10 });
  opt.registerTrainableWeights({ a, b });
  opt.addParamGroup({ c }, { lr: 0.05 });
  const grads = (): { a: tf.Tensor; b: tf.Tensor; c: tf.Tensor } => ({
    a: tf.tensor([0.1, -0.2, 0.3]),
    b: tf.tensor([1, -1]),
    c: tf.tensor([0.5, 0.5, -0.25, 2], [2, 2]),
  });
  const first = grads();
  await opt.step(first);
  tf.dispose(Object.values(first));
  return { opt, params: { a, b, c }, moments, grads };
}

/**
 * Everything a failed step must leave as it was: the tensors' bits and the step counts of
 * `names` (readState reads the moments too, so not of a parameter whose moment is gone).
 */
async function snapshot(opt: RAdam<TfjsBackend>, tensors: readonly tf.Tensor[], names: readonly string[]) {
  const steps: number[] = [];
  for (const name of names) steps.push((await opt.readState(name)).step);
  return { steps, bits: tensors.map(bits) };
}

/** `count` float32 values of a gradient stream with huge and small entries. */
const hugeGradient = (scale: number, k: number): number[] => [scale, -scale, 0.5 * scale * (k % 2 === 0 ? 1 : -1), 0.5, -2, 1e-3 * (k + 1)];
const START = [0.5, -0.25, 1, 2, -1, 0.1];

/**
 * Runs `grads` through core on `backend` and on the float32 `cpu` backend (float64
 * arithmetic, stored float32) and checks that every step's parameter and moments agree
 * within float32 tolerance, and are finite.
 */
async function expectAgreesWithCpu(backend: TfjsBackend, options: RAdamOptions, grads: readonly number[][]): Promise<number[]> {
  const w = backend.fromArray(START, [START.length]);
  const opt = new RAdam(backend, options);
  opt.registerTrainableWeights({ w });
  const cw = Float32Array.from(START);
  const reference = new RAdam(cpuBackend(), options);
  reference.registerTrainableWeights({ w: cw });
  let v: number[] = [];
  for (const [k, values] of grads.entries()) {
    const g = tf.tensor(values);
    await opt.step({ w: g });
    g.dispose();
    reference.step({ w: Float32Array.from(values) });
    const state = await opt.readState('w');
    const expected = reference.readState('w');
    v = Array.from(state.secondMoment);
    for (const [what, actual, wanted] of [
      ['p', Array.from(w.dataSync()), Array.from(cw)],
      ['m', Array.from(state.firstMoment), Array.from(expected.firstMoment)],
      ['v', v, Array.from(expected.secondMoment)],
    ] as const) {
      expect(actual.every(Number.isFinite), `step ${k + 1}: ${what} finite`).toBe(true);
      // Values below float32's normal range (~1.2e-38) agree absolutely, the rest relatively.
      expect(maxExcess(actual, wanted, what === 'p' ? 1e-6 : 1e-38, 2e-5), `step ${k + 1}: ${what}`).toBeLessThanOrEqual(0);
    }
  }
  opt.dispose();
  w.dispose();
  return v;
}

/**
 * The integrity tests for `tfjsBackend(options)` on the active tfjs backend (`synchronous`
 * given, so that the tests of asynchronous steps are only declared where they can run).
 */
export function describeIntegrity(label: string, options: TfjsBackendOptions & { readonly synchronous: boolean }): void {
  const make = (): TfjsBackend => tfjsBackend(options);
  describe(`${label}: what may be registered`, () => {
    it('isTensor: live float32 tensors and variables only; isParameter: live float32 variables only', () => {
      const backend = make();
      const tensor = tf.tensor([1, 2]);
      const variable = tf.variable(tf.tensor([1, 2]));
      expect(backend.isTensor(tensor)).toBe(true);
      expect(backend.isTensor(variable)).toBe(true);
      expect(backend.isParameter!(variable)).toBe(true);
      expect(backend.isParameter!(tensor)).toBe(false);
      expect(backend.isParameter!(tf.variable(tf.tensor([1, 2], [2], 'int32')))).toBe(false);
      const freed = tf.variable(tf.tensor([3]));
      freeLikeDisposeVariables(freed);
      expect(backend.isTensor(freed)).toBe(false);
      expect(backend.isParameter!(freed)).toBe(false);
      tf.dispose([tensor, variable]);
      expect(backend.isTensor(tensor)).toBe(false);
      expect(backend.isTensor(variable)).toBe(false);
      expect(backend.isParameter!(variable)).toBe(false);
    });

    it('a plain tf.Tensor parameter is refused at registration with INVALID_TENSOR, and nothing is registered', async () => {
      const backend = make();
      const w = tf.variable(tf.tensor([1, 2, 3]));
      const plain = tf.tensor([1, 2]);
      const opt = new RAdam(backend, { lr: 0.1 });
      const before = tf.memory().numTensors;
      const error = await failure(() => opt.registerTrainableWeights({ w, plain }));
      expect(error.code).toBe('INVALID_TENSOR');
      expect(error.parameter).toBe('plain');
      expect(opt.paramGroups).toEqual([]);
      expect(tf.memory().numTensors).toBe(before); // no moment was left behind
      // w was not registered either: it registers now. And addParamGroup refuses it too.
      opt.registerTrainableWeights({ w });
      expect((await failure(() => opt.addParamGroup({ plain }))).code).toBe('INVALID_TENSOR');
      expect(opt.paramGroups).toEqual([['w']]);
      const g = tf.tensor([1, 1, 1]);
      await opt.step({ w: g });
      expect(Array.from(w.dataSync())).toEqual([0.9, 1.9, 2.9].map(Math.fround)); // step 1: p − lr·g
      opt.dispose();
      tf.dispose([w, plain, g]);
    });

    it('a disposed or freed variable is refused at registration', async () => {
      const opt = new RAdam(make(), { lr: 0.1 });
      const disposed = tf.variable(tf.tensor([1]));
      disposed.dispose();
      const freed = tf.variable(tf.tensor([1]));
      freeLikeDisposeVariables(freed);
      for (const param of [disposed, freed]) {
        expect((await failure(() => opt.registerTrainableWeights({ param }))).code).toBe('INVALID_TENSOR');
      }
      expect(opt.paramGroups).toEqual([]);
    });
  });

  describe(`${label}: a step that cannot run changes nothing, in any group`, () => {
    /** Ways to make a tensor of group 2 (`c`) invalid before a step over both groups. */
    /** Spoils a tensor of `c` and returns it (it is not compared: its data may be gone). */
    type Spoil = (setup: Awaited<ReturnType<typeof twoGroups>>, grads: Record<string, tf.Tensor>) => tf.Tensor;
    const cases: { name: string; spoil: Spoil }[] = [
      { name: 'parameter c disposed', spoil: ({ params }) => (params.c.dispose(), params.c) },
      { name: 'parameter c freed by tf.disposeVariables()', spoil: ({ params }) => (freeLikeDisposeVariables(params.c), params.c) },
      { name: 'gradient of c disposed', spoil: (_, grads) => (grads['c']!.dispose(), grads['c']!) },
      {
        name: 'gradient of c a variable freed by tf.disposeVariables()',
        spoil: (_, grads) => {
          const g = tf.variable(grads['c']!);
          grads['c']!.dispose();
          grads['c'] = g;
          freeLikeDisposeVariables(g);
          return g;
        },
      },
      // Moments are created m then v, parameter by parameter: c's are the 5th and 6th.
      {
        name: "c's second moment freed by tf.disposeVariables()",
        spoil: ({ moments }) => (freeLikeDisposeVariables(moments[5]!), moments[5]!),
      },
    ];

    for (const { name, spoil } of cases) {
      it(`${name}: INVALID_TENSOR, every variable and moment of both groups bit-identical, not halted`, async () => {
        const setup = await twoGroups(make);
        const { opt, params, moments, grads } = setup;
        const given: Record<string, tf.Tensor> = grads();
        const spoilt = spoil(setup, given);
        const watched = [params.a, params.b, params.c, ...moments].filter((t) => t !== spoilt);
        const names = moments.includes(spoilt as tf.Variable) ? ['a', 'b'] : ['a', 'b', 'c'];
        const before = await snapshot(opt, watched, names);
        const error = await failure(() => opt.step(given));
        expect(error.code).toBe('INVALID_TENSOR');
        expect(await snapshot(opt, watched, names)).toEqual(before);
        expect(opt.haltedBy).toBeUndefined();
        // The first group still trains.
        const next = grads();
        await opt.step({ a: next.a, b: next.b });
        expect(bits(params.a)).not.toEqual(before.bits[0]);
        opt.dispose();
        tf.dispose([...Object.values(params), ...Object.values(given), ...Object.values(next)]);
      });
    }

    // Only asynchronous steps have such a window.
    const itAsync = options.synchronous ? undefined : it;
    itAsync?.('a gradient disposed while an asynchronous step awaits the norm: INVALID_TENSOR, nothing changed', async () => {
      const setup = await twoGroups(make);
      const { opt, params, moments, grads } = setup;
      const given = grads();
      const watched = [params.a, params.b, params.c, ...moments];
      const before = await snapshot(opt, watched, ['a', 'b', 'c']);
      const step = opt.step(given); // checked now; the update runs after the norm's readback
      given.c.dispose();
      const error = await failure(() => step);
      expect(error.code).toBe('INVALID_TENSOR');
      expect(await snapshot(opt, watched, ['a', 'b', 'c'])).toEqual(before);
      expect(opt.haltedBy).toBeUndefined();
      opt.dispose();
      tf.dispose([...Object.values(params), ...Object.values(given)]);
    });
  });

  describe(`${label}: float32 gradients near the top of float32's range`, () => {
    it('the sum of squares of 1e20 gradients is finite, right and the same every time', async () => {
      const backend = make();
      const tensors = [tf.tensor([1e20, -2e20, 3]), tf.tensor([[5e19, 0], [-1e20, 1]])];
      const sum = await backend.sumOfSquares(tensors);
      // 1e40 + 4e40 + 0.25e40 + 1e40 (3² + 1² is far below the sum's precision).
      expect(sum / 6.25e40).toBeCloseTo(1, 6);
      expect(await backend.sumOfSquares(tensors)).toBe(sum);
      tf.dispose(tensors);
    });

    for (const gradClipNorm of [undefined, 1]) {
      const clip = gradClipNorm === undefined ? 'no clipping' : `gradClipNorm ${gradClipNorm}`;
      it(`|g| = 1e20 (${clip}): finite moments and parameters equal to cpu's over 8 steps, both branches`, async () => {
        // β2 = 0.999: steps 1-5 are not rectified, 6-8 are; v reaches ~8e37 without clipping.
        const options: RAdamOptions = { lr: 1e-3, ...(gradClipNorm === undefined ? {} : { gradClipNorm }) };
        const grads = Array.from({ length: 8 }, (_, k) => hugeGradient(1e20, k));
        const v = await expectAgreesWithCpu(make(), options, grads);
        if (gradClipNorm === undefined) expect(Math.max(...v)).toBeGreaterThan(1e37);
      });
    }

    it('scalars outside float32 range: a clip factor below 2^-126 and a step size above 2^128 still agree with cpu', async () => {
      // |g| = 1e38 with gradClipNorm 1e-5: the clip factor is ~6e-44, subnormal as a float32.
      await expectAgreesWithCpu(make(), { lr: 1e-3, gradClipNorm: 1e-5 }, [hugeGradient(1e38, 0), hugeGradient(1e38, 1)]);
      // lr 1e39 (Infinity as a float32) times gradients of ~1e-6: a finite step of ~1e33.
      await expectAgreesWithCpu(make(), { lr: 1e39 }, [START.map((x) => x * 1e-6)]);
    });

    for (const [what, options, scale] of [
      ['v overflows (|g| = 1e30)', { lr: 1e-3 }, 1e30],
      ['p overflows (lr 1e38)', { lr: 1e38 }, 10],
    ] as const) {
      it(`${what}: NON_FINITE_UPDATE halts; the next step throws HALTED; loadStateDict recovers`, async () => {
        const backend = make();
        const w = backend.fromArray(START, [START.length]);
        const opt = new RAdam(backend, options);
        opt.registerTrainableWeights({ w });
        const reference = new RAdam(cpuBackend(), options);
        const cw = Float32Array.from(START);
        reference.registerTrainableWeights({ w: cw });
        // Small enough that two steps at lr 1e38 stay finite.
        const small = (k: number): number[] => hugeGradient(1, k).map((x) => x * 1e-3);
        const stepBoth = async (values: number[]): Promise<void> => {
          const g = tf.tensor(values);
          await opt.step({ w: g });
          g.dispose();
          reference.step({ w: Float32Array.from(values) });
        };
        await stepBoth(small(0));
        const checkpoint = await opt.stateDict();
        const saved = Array.from(w.dataSync());

        const huge = tf.tensor(hugeGradient(scale, 1));
        const error = await failure(() => opt.step({ w: huge }));
        expect(error.code).toBe('NON_FINITE_UPDATE');
        expect(error.parameter).toBe('w');
        expect(opt.haltedBy).toBe(error);
        // The step was applied: something it wrote is not finite.
        const state = await opt.readState('w');
        expect([...w.dataSync(), ...state.firstMoment, ...state.secondMoment].every(Number.isFinite)).toBe(false);
        expect(state.step).toBe(2);
        expect((await failure(() => opt.step({ w: huge }))).code).toBe('HALTED');
        expect((await failure(() => opt.stateDict())).code).toBe('HALTED');

        // Back to the checkpoint (the parameter is the caller's to restore), then on as if
        // the bad step had never been: the cpu reference never took it.
        await backend.write(w, saved);
        await opt.loadStateDict(checkpoint);
        expect(opt.haltedBy).toBeUndefined();
        await stepBoth(small(2));
        expect((await opt.readState('w')).step).toBe(2);
        expect(maxExcess(w.dataSync(), cw, 1e-7, 1e-5)).toBeLessThanOrEqual(0);
        opt.dispose();
        tf.dispose([w, huge]);
      });
    }
  });
}
