import {
  RAdam,
  RectifyError,
  decodeArray,
  encodeArray,
  type RAdamBatch,
  type RAdamOptions,
  type RAdamStateDict,
  type TensorBackend,
} from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { B, W, expectRejectedUnchanged, trainedFixture, type Fixture } from './fixture.js';
import type { BackendFactory } from './replay.js';

/** The error `attempt` fails with (thrown or rejected), or `undefined` when it succeeds. */
async function failureOf(attempt: () => unknown): Promise<unknown> {
  try {
    await attempt();
  } catch (error) {
    return error;
  }
  return undefined;
}

async function expectCode(attempt: () => unknown, code: RectifyError['code']): Promise<RectifyError> {
  const error = await failureOf(attempt);
  expect(error, `expected ${code}`).toBeInstanceOf(RectifyError);
  expect((error as RectifyError).code, (error as Error).message).toBe(code);
  return error as RectifyError;
}

async function hostValues(backend: TensorBackend<any>, tensor: unknown): Promise<number[]> {
  return Array.from(await backend.read(tensor));
}

/** `|actual − expected| <= rtol·|expected|` element by element, for values far from 1. */
function expectRelativelyClose(actual: readonly number[], expected: readonly number[], rtol: number, where: string): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((e, i) => {
    const a = actual[i]!;
    expect(Number.isFinite(a), `${where}[${i}] = ${a} is not finite`).toBe(true);
    expect(Math.abs(a - e), `${where}[${i}]: got ${a}, expected ${e}`).toBeLessThanOrEqual(rtol * Math.abs(e) + 1e-30);
  });
}

/**
 * `backend` with `applyRAdam` (or another member) replaced: the way to make any backend
 * fail at a chosen point. Methods are bound to the real backend so private state works.
 */
function withOverrides<T>(backend: TensorBackend<T>, overrides: Partial<TensorBackend<T>>): TensorBackend<T> {
  return new Proxy(backend, {
    get(target, key) {
      if (Object.hasOwn(overrides, key)) return (overrides as Record<PropertyKey, unknown>)[key];
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A gradient so large that `(1 − β2)·g²` cannot be stored in the dtype (no clipping). */
function overflowingGradient(backend: TensorBackend<any>): number {
  return backend.dtype === 'float32' ? 1e30 : 1e170;
}

/** `{ w, b }` on a fresh optimizer that has taken no step, for hand-computed step-1 values. */
async function freshOptimizer(createBackend: BackendFactory, options: RAdamOptions): Promise<Fixture> {
  const backend = await createBackend();
  const optimizer = new RAdam(backend, options);
  const params = { w: backend.fromArray(W, [2, 3]), b: backend.fromArray(B, [3]) };
  optimizer.registerTrainableWeights(params);
  const grad = (name: 'w' | 'b', values?: number[]): unknown =>
    backend.fromArray(values ?? (name === 'w' ? W : B).map(() => 0), name === 'w' ? [2, 3] : [3]);
  return { backend, optimizer, params, grad };
}

/**
 * The integrity half of the conformance suite: no silent NaN, all-or-nothing calls, no
 * aliasing of caller objects, any name, bounded input. Called by
 * `describeBackendConformance`; every backend is held to it.
 *
 * @param createBackend - returns a fresh backend (called once per test).
 * @param timeout - per-test time limit in milliseconds.
 */
export function describeIntegrity(createBackend: BackendFactory, timeout: number): void {
  describe('integrity: non-finite results are never silent', () => {
    const huge = 1e20; // (1e20)² overflows float32, (1 − β2)·(1e20)² = 1e37 does not
    const hugeGrad = [huge, -huge, huge / 2, -huge / 4, huge / 8, -huge];
    const lr = 0.01;
    for (const clip of [null, 10] as const) {
      it(`a ${huge} gradient ${clip === null ? 'without' : 'with'} norm clipping gives the float64 result`, { timeout }, async () => {
        const f = await freshOptimizer(createBackend, { lr, gradClipNorm: clip });
        await f.optimizer.step({ w: f.grad('w', hugeGrad) });
        // Step 1 is unrectified: m = (1 − β1)·g, v = (1 − β2)·g², p = p − lr/(1 − β1)·m = p − lr·g.
        const norm = Math.sqrt(hugeGrad.reduce((s, g) => s + g * g, 0));
        const scale = clip === null ? 1 : Math.min(1, clip / norm);
        const g = hugeGrad.map((x) => x * scale);
        const state = await f.optimizer.readState('w');
        const rtol = f.backend.dtype === 'float32' ? 1e-5 : 1e-12;
        expectRelativelyClose(Array.from(state.firstMoment), g.map((x) => 0.1 * x), rtol, 'm');
        expectRelativelyClose(Array.from(state.secondMoment), g.map((x) => 0.001 * x * x), rtol, 'v');
        expectRelativelyClose(await hostValues(f.backend, f.params.w), W.map((p, i) => p - lr * g[i]!), rtol, 'p');
      });
    }

    it('an unrepresentable result halts the optimizer until loadStateDict()', { timeout }, async () => {
      const f = await trainedFixture(createBackend, { gradClipNorm: null });
      const saved = (await f.optimizer.stateDict()) as RAdamStateDict;
      const wSaved = await hostValues(f.backend, f.params.w);
      const big = overflowingGradient(f.backend);
      const error = await expectCode(() => f.optimizer.step({ w: f.grad('w', W.map(() => big)), b: f.grad('b') }), 'NON_FINITE_UPDATE');
      expect(error.parameter).toBe('w');
      expect(f.optimizer.haltedBy?.code).toBe('NON_FINITE_UPDATE');
      await expectCode(() => f.optimizer.step({ w: f.grad('w'), b: f.grad('b') }), 'HALTED');
      await expectCode(() => f.optimizer.stateDict(), 'HALTED');
      await expectCode(() => f.optimizer.registerTrainableWeights({ extra: f.backend.fromArray([1], [1]) }), 'HALTED');
      expect((await f.optimizer.readState('b')).step).toBe(4); // still inspectable

      await f.backend.write(f.params.w, wSaved); // the user restores their parameters,
      await f.optimizer.loadStateDict(saved); // the optimizer its state
      expect(f.optimizer.haltedBy).toBeUndefined();
      expect(f.optimizer.stepCount).toBe(3);
      const report = await f.optimizer.step({ w: f.grad('w'), b: f.grad('b') });
      expect(report.updatedParams).toBe(2);
      for (const x of await hostValues(f.backend, f.params.w)) expect(Number.isFinite(x)).toBe(true);
    });

    it("the same overflow under nonFinite 'skip' halts too (it cannot be undone)", { timeout }, async () => {
      const f = await trainedFixture(createBackend, { gradClipNorm: null, nonFinite: 'skip' });
      const big = overflowingGradient(f.backend);
      await expectCode(() => f.optimizer.step({ w: f.grad('w', W.map(() => big)) }), 'NON_FINITE_UPDATE');
      expect(f.optimizer.haltedBy?.code).toBe('NON_FINITE_UPDATE');
    });

    it("under nonFinite 'propagate' it is applied, and the state dict loads back", { timeout }, async () => {
      const f = await trainedFixture(createBackend, { gradClipNorm: null, nonFinite: 'propagate' });
      await f.optimizer.step({ w: f.grad('w', W.map(() => overflowingGradient(f.backend))), b: f.grad('b', [NaN, 0, 0]) });
      expect(f.optimizer.haltedBy).toBeUndefined();
      const dict = JSON.parse(JSON.stringify(await f.optimizer.stateDict())) as RAdamStateDict;
      const twin = await trainedFixture(createBackend, { gradClipNorm: null, nonFinite: 'propagate' });
      await twin.optimizer.loadStateDict(dict);
      const [ours, theirs] = [await f.optimizer.readState('b'), await twin.optimizer.readState('b')];
      expect(Array.from(theirs.firstMoment)).toEqual(Array.from(ours.firstMoment));
      expect(Number.isNaN(theirs.firstMoment[0])).toBe(true);
    });

    it('eps 0 with a zero gradient halts at the first rectified step, never silently', { timeout }, async () => {
      const f = await freshOptimizer(createBackend, { eps: 0 });
      const error = await failureOf(async () => {
        for (let i = 0; i < 20; i++) {
          await f.optimizer.step({ w: f.grad('w'), b: f.grad('b') });
          for (const x of await hostValues(f.backend, f.params.w)) expect(x).not.toBeNaN();
        }
      });
      expect(error).toMatchObject({ code: 'NON_FINITE_UPDATE' });
      expect(f.optimizer.stepCount).toBeGreaterThanOrEqual(5); // ρt reaches the threshold first
    });

    it('a learning rate whose step overflows the dtype halts, never silently', { timeout }, async () => {
      const probe = await createBackend();
      const float32 = probe.dtype === 'float32';
      probe.dispose?.();
      const f = await freshOptimizer(createBackend, { lr: float32 ? 1e39 : 1e300 });
      const g = float32 ? 1 : 1e10;
      await expectCode(() => f.optimizer.step({ w: f.grad('w', W.map(() => g)) }), 'NON_FINITE_UPDATE');
    });

    it('a learning rate whose step size overflows float64 is rejected before anything changes', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      f.optimizer.addParamGroup({ extra: f.backend.fromArray([1, 2], [2]) }, { lr: 1.7e308 });
      const extra = f.backend.fromArray([0.5, 0.5], [2]);
      await expectRejectedUnchanged(f, () => f.optimizer.step({ w: f.grad('w'), b: f.grad('b'), extra }), 'INVALID_OPTION', 'lr');
    });

    it('decoupled decay with lr·wd > 1 diverges into a typed error, never a silent Infinity', { timeout: timeout * 4 }, async () => {
      const f = await freshOptimizer(createBackend, { lr: 10, weightDecay: 10, decoupledWeightDecay: true });
      const error = await failureOf(async () => {
        for (let i = 0; i < 400; i++) {
          await f.optimizer.step({ w: f.grad('w', W) });
          for (const x of await hostValues(f.backend, f.params.w)) expect(Number.isFinite(x)).toBe(true);
        }
      });
      expect(error).toMatchObject({ code: 'NON_FINITE_UPDATE' });
    });

    it('moments beyond the dtype are rejected on load, not turned into Infinity', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const dict = (await f.optimizer.stateDict()) as RAdamStateDict;
      const v = decodeArray(dict.params.b!.secondMoment)!;
      const wide = Float64Array.from(v, (x, i) => (i === 1 ? 1e300 : x));
      const corrupted = { ...dict, params: { ...dict.params, b: { ...dict.params.b!, secondMoment: encodeArray(wide) } } };
      if (f.backend.dtype === 'float32') {
        await expectRejectedUnchanged(f, () => f.optimizer.loadStateDict(corrupted), 'INVALID_STATE_DICT', 'b.secondMoment');
      } else {
        await f.optimizer.loadStateDict(corrupted);
        expect((await f.optimizer.readState('b')).secondMoment[1]).toBe(1e300);
      }
    });
  });

  describe('integrity: calls are all-or-nothing', () => {
    it('a bad gradient in the last group changes no group', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      f.optimizer.addParamGroup({ extra: f.backend.fromArray([1, 2], [2]) }, { lr: 0.5 });
      const wrong = f.backend.fromArray([1, 2, 3], [3]);
      await expectRejectedUnchanged(f, () => f.optimizer.step({ w: f.grad('w'), b: f.grad('b'), extra: wrong }), 'SHAPE_MISMATCH', 'extra');
    });

    it('a typed error from the backend before writing is passed on and changes nothing', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const failing = { ...f, optimizer: reattach(f, { applyRAdam: () => { throw new RectifyError('OUT_OF_MEMORY', 'staging memory exhausted'); } }) };
      await failing.optimizer.loadStateDict(await f.optimizer.stateDict());
      await expectRejectedUnchanged(failing, () => failing.optimizer.step({ w: f.grad('w'), b: f.grad('b') }), 'OUT_OF_MEMORY');
      expect(failing.optimizer.haltedBy).toBeUndefined();
    });

    it('a backend failure after writing began halts with BACKEND_ERROR until loadStateDict()', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const saved = (await f.optimizer.stateDict()) as RAdamStateDict;
      let fail = true;
      const cause = new Error('device lost');
      const real = f.backend.applyRAdam.bind(f.backend);
      const optimizer = reattach(f, {
        applyRAdam: async (batches: readonly RAdamBatch<unknown>[]) => {
          const finite = await real(batches);
          if (fail) throw cause;
          return finite;
        },
      });
      await optimizer.loadStateDict(saved);
      const error = await expectCode(() => optimizer.step({ w: f.grad('w'), b: f.grad('b') }), 'BACKEND_ERROR');
      expect(error.cause).toBe(cause);
      expect(optimizer.haltedBy?.code).toBe('BACKEND_ERROR');
      await expectCode(() => optimizer.step({ w: f.grad('w'), b: f.grad('b') }), 'HALTED');
      fail = false;
      await optimizer.loadStateDict(saved);
      expect((await optimizer.step({ w: f.grad('w'), b: f.grad('b') })).updatedParams).toBe(2);
    });

    it('a backend whose applyRAdam reports no finiteness flag is a BACKEND_ERROR', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const real = f.backend.applyRAdam.bind(f.backend);
      const optimizer = reattach(f, {
        applyRAdam: async (batches: readonly RAdamBatch<unknown>[]) => {
          await real(batches);
          return undefined as unknown as boolean;
        },
      });
      await optimizer.loadStateDict(await f.optimizer.stateDict());
      await expectCode(() => optimizer.step({ w: f.grad('w'), b: f.grad('b') }), 'BACKEND_ERROR');
    });

    it('a load whose writes fail half-way halts with BACKEND_ERROR', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const saved = (await f.optimizer.stateDict()) as RAdamStateDict;
      let writes = 0;
      const real = f.backend.write.bind(f.backend);
      const optimizer = reattach(f, {
        write: async (tensor: unknown, data: ArrayLike<number>) => {
          if (++writes === 2) throw new Error('write failed');
          await real(tensor, data);
        },
      });
      await expectCode(() => optimizer.loadStateDict(saved), 'BACKEND_ERROR');
      expect(optimizer.haltedBy?.code).toBe('BACKEND_ERROR');
      await optimizer.loadStateDict(saved); // writes work again: the load recovers it
      expect(optimizer.haltedBy).toBeUndefined();
    });

    for (const call of ['registerTrainableWeights', 'addParamGroup'] as const) {
      it(`${call} that runs out of memory half-way registers nothing and frees what it allocated`, { timeout }, async () => {
        const f = await trainedFixture(createBackend);
        let allocations = 0;
        let armed = false; // counts only the call under test
        const allocated = new Set<unknown>();
        const freed = new Set<unknown>();
        const optimizer = reattach(f, {
          zerosLike: (like: unknown) => {
            if (armed && ++allocations === 4) throw new RectifyError('OUT_OF_MEMORY', 'no room for another moment');
            const tensor = f.backend.zerosLike(like);
            if (armed) allocated.add(tensor);
            return tensor;
          },
          disposeTensor: (tensor: unknown) => {
            freed.add(tensor);
            f.backend.disposeTensor(tensor);
          },
        });
        const extra = { x: f.backend.fromArray([1, 2], [2]), y: f.backend.fromArray([3], [1]), z: f.backend.fromArray([4], [1]) };
        const before = { groups: optimizer.paramGroups, counts: f.backend.resourceCounts?.() };
        armed = true;
        const error =
          call === 'registerTrainableWeights'
            ? await failureOf(() => optimizer.registerTrainableWeights(extra))
            : await failureOf(() => optimizer.addParamGroup(extra, { lr: 0.1 }));
        expect(error).toMatchObject({ code: 'OUT_OF_MEMORY' });
        expect(optimizer.paramGroups).toEqual(before.groups);
        expect(allocated.size).toBe(3);
        expect([...allocated].filter((t) => !freed.has(t))).toEqual([]);
        expect(f.backend.resourceCounts?.()).toEqual(before.counts);
        // Registering afterwards works: nothing half-registered is in the way.
        armed = false;
        optimizer.registerTrainableWeights(extra);
        expect(optimizer.paramGroups[0]).toEqual(['w', 'b', 'x', 'y', 'z']);
      });
    }

    it('the same tensor under two names, or in two groups, is DUPLICATE_PARAMETER', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const t = f.backend.fromArray([1, 2], [2]);
      await expectRejectedUnchanged(f, () => f.optimizer.registerTrainableWeights({ x: t, y: t }), 'DUPLICATE_PARAMETER', 'y');
      await expectRejectedUnchanged(f, () => f.optimizer.addParamGroup({ again: f.params.w }), 'DUPLICATE_PARAMETER', 'again');
    });

    it('a parameter passed as its own gradient is rejected', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      await expectRejectedUnchanged(f, () => f.optimizer.step({ w: f.params.w, b: f.grad('b') }), 'INVALID_TENSOR', 'w');
    });

    it('every call returns a promise on an asynchronous backend, errors included', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      if (f.backend.synchronous) return;
      const calls = [
        () => f.optimizer.step({ nope: f.grad('b') }),
        () => f.optimizer.readState('w'),
        () => f.optimizer.readState('nope'),
        () => f.optimizer.stateDict(),
        () => f.optimizer.loadStateDict('junk' as never),
      ];
      for (const call of calls) {
        const result = call();
        expect(result).toBeInstanceOf(Promise);
        await (result as Promise<unknown>).catch(() => undefined);
      }
    });

    it('dispose() while a step is in flight: that step rejects with DISPOSED', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      if (f.backend.synchronous) return;
      const pending = f.optimizer.step({ w: f.grad('w'), b: f.grad('b') }) as Promise<unknown>;
      f.optimizer.dispose();
      await expectCode(() => pending, 'DISPOSED');
    });
  });

  describe('integrity: nothing the caller passed in is kept by reference', () => {
    it('a scheduler spec edited after addParamGroup changes neither the rate nor the state dict', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const spec = { scheduler: 'StepLR', args: { baseLr: 0.1, stepSize: 2, gamma: 0.5 } };
      f.optimizer.addParamGroup({ extra: f.backend.fromArray([1, 2], [2]) }, { lr: spec, eps: 1e-6 });
      spec.args.baseLr = 7;
      expect(f.optimizer.groupLrs[1]).toBe(0.1);
      const dict = (await f.optimizer.stateDict()) as RAdamStateDict;
      expect(dict.groups[1]!.overrides.lr).toEqual({ scheduler: 'StepLR', args: { baseLr: 0.1, stepSize: 2, gamma: 0.5 } });
    });

    it('a loaded dict edited afterwards changes nothing; stateDict() is a fresh object every time', { timeout }, async () => {
      const f = await trainedFixture(createBackend, { lr: { scheduler: 'StepLR', args: { baseLr: 0.01, stepSize: 2 } } });
      const dict = JSON.parse(JSON.stringify(await f.optimizer.stateDict())) as Record<string, any>;
      await f.optimizer.loadStateDict(dict as RAdamStateDict);
      const expected = JSON.stringify(await f.optimizer.stateDict());
      dict.options.eps = 0.5;
      dict.options.lr.args.baseLr = 9;
      dict.groups[0].overrides.eps = 0.5;
      dict.params.w.step = 99;
      const first = (await f.optimizer.stateDict()) as Record<string, any>;
      expect(JSON.stringify(first)).toBe(expected);
      first.options.eps = 0.25;
      first.params.w.step = 77;
      first.schedulerState.lastEpoch = 5;
      expect(JSON.stringify(await f.optimizer.stateDict())).toBe(expected);
      expect(f.optimizer.options.eps).toBe(1e-8);
    });

    it('options behind getters are read once: what is validated is what is used', { timeout }, async () => {
      const backend = await createBackend();
      let reads = 0;
      const options = {
        get lr() {
          reads++;
          return reads === 1 ? 0.01 : -1;
        },
      };
      const optimizer = new RAdam(backend, options);
      expect(reads).toBe(1);
      expect(optimizer.currentLr).toBe(0.01);
      optimizer.registerTrainableWeights({ w: backend.fromArray(W, [2, 3]) });
      await optimizer.step({ w: backend.fromArray(W, [2, 3]) });
      expect(((await optimizer.stateDict()) as RAdamStateDict).options.lr).toBe(0.01);
    });
  });

  describe('integrity: names and structure', () => {
    it('"__proto__" is a parameter name like any other, through a JSON round trip', { timeout }, async () => {
      const backend = await createBackend();
      const named = <V>(value: V): Record<string, V> => JSON.parse('{"__proto__": 0}', (key, v: unknown) => (key === '__proto__' ? value : v)) as Record<string, V>;
      const param = backend.fromArray(W, [2, 3]);
      const optimizer = new RAdam(backend, { lr: 0.01 });
      optimizer.registerTrainableWeights(named(param) as never);
      expect(optimizer.paramGroups).toEqual([['__proto__']]);
      await optimizer.step(named(backend.fromArray(W, [2, 3])) as never);
      const dict = JSON.parse(JSON.stringify(await optimizer.stateDict())) as RAdamStateDict;
      expect(Object.keys(dict.params)).toEqual(['__proto__']);
      const twin = new RAdam(backend, { lr: 0.01 });
      twin.registerTrainableWeights(named(backend.fromArray(W, [2, 3])) as never);
      await twin.loadStateDict(dict);
      expect((await twin.readState('__proto__')).step).toBe(1);
      expect(Array.from((await twin.readState('__proto__')).firstMoment)).toEqual(
        Array.from((await optimizer.readState('__proto__')).firstMoment),
      );
    });

    it('an enumerable property on Object.prototype is not a parameter', { timeout }, async () => {
      const backend = await createBackend();
      // A string, as prototype-pollution attacks set (core's own tree walk is also tested
      // with a tensor there; gpu.js's deep copies recurse forever on an object value).
      Object.defineProperty(Object.prototype, 'polluted', { value: 'yes', enumerable: true, configurable: true, writable: true });
      let seen: { groups: string[][]; saved: string[]; loaded: unknown };
      try {
        const optimizer = new RAdam(backend, { lr: 0.01 });
        optimizer.registerTrainableWeights({ w: backend.fromArray(W, [2, 3]) });
        await optimizer.step({ w: backend.fromArray(W, [2, 3]) });
        const dict = (await optimizer.stateDict()) as RAdamStateDict;
        seen = { groups: optimizer.paramGroups, saved: Object.keys(dict.params), loaded: await failureOf(() => optimizer.loadStateDict(dict)) };
      } finally {
        delete (Object.prototype as Record<string, unknown>).polluted;
      }
      expect(seen).toEqual({ groups: [['w']], saved: ['w'], loaded: undefined });
    });

    it('cyclic and very deep parameter trees are INVALID_TENSOR, not a stack overflow', { timeout }, async () => {
      const backend = await createBackend();
      const optimizer = new RAdam(backend);
      const cyclic: Record<string, unknown> = { w: backend.fromArray([1], [1]) };
      cyclic.self = cyclic;
      await expectCode(() => optimizer.registerTrainableWeights(cyclic as never), 'INVALID_TENSOR');
      let deep: Record<string, unknown> = { leaf: backend.fromArray([1], [1]) };
      for (let i = 0; i < 100_000; i++) deep = { d: deep };
      await expectCode(() => optimizer.registerTrainableWeights(deep as never), 'INVALID_TENSOR');
      expect(optimizer.paramGroups).toEqual([]);
    });

    it('deeply nested or cyclic options and state dicts are typed errors', { timeout }, async () => {
      const f = await trainedFixture(createBackend);
      const cyclic: Record<string, unknown> = { scheduler: 'StepLR', args: { baseLr: 0.1, stepSize: 1 } };
      (cyclic.args as Record<string, unknown>).self = cyclic;
      await expectRejectedUnchanged(f, () => f.optimizer.addParamGroup({ x: f.backend.fromArray([1], [1]) }, { lr: cyclic as never }), 'INVALID_OPTION');
      const dict = (await f.optimizer.stateDict()) as unknown as Record<string, unknown>;
      let deep: unknown = 1;
      for (let i = 0; i < 100_000; i++) deep = [deep];
      await expectRejectedUnchanged(f, () => f.optimizer.loadStateDict({ ...dict, junk: deep } as never), 'INVALID_STATE_DICT');
    });
  });
}

/**
 * A second optimizer over `fixture`'s parameters on the fixture's backend with some
 * members overridden, so a test can make one call of the backend fail.
 */
function reattach(fixture: Fixture, overrides: Partial<TensorBackend<unknown>>): RAdam<TensorBackend<any>> {
  const backend = withOverrides(fixture.backend as TensorBackend<unknown>, overrides);
  const optimizer = new RAdam(backend, { lr: 0.01, weightDecay: 0.01, gradClipNorm: 10 });
  optimizer.registerTrainableWeights(fixture.params as never);
  return optimizer;
}
