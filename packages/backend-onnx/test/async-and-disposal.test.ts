import { RAdam, type RectifyErrorCode } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { liveOnnxSessions, onnxBackend, type OnnxBackend } from '../src/index.js';
import { series, turns } from './helpers.js';

const n = 64;

function setup(options: { chunkSize?: number } = {}): {
  backend: OnnxBackend<Float32Array>;
  optimizer: RAdam<OnnxBackend<Float32Array>>;
  data: Float32Array;
  start: Float32Array;
} {
  const backend = onnxBackend({ chunkSize: options.chunkSize ?? 4 }); // 16 runs per tensor
  const data = Float32Array.from(series(n, 1));
  const optimizer = new RAdam(backend, { lr: 0.01 });
  optimizer.registerTrainableWeights({ w: backend.wrap(data) });
  return { backend, optimizer, data, start: data.slice() };
}

const grad = (backend: OnnxBackend<Float32Array>, seed = 2) => backend.fromArray(series(n, seed, 0.5), [n]);

describe('onnx: every optimizer call returns a promise, errors included', () => {
  it('stateDict(), readState() and loadStateDict() return promises, and a state dict round-trips', async () => {
    const { backend, optimizer, data, start } = setup();
    await optimizer.step({ w: grad(backend) });
    const dictPromise = optimizer.stateDict();
    expect(dictPromise).toBeInstanceOf(Promise);
    const statePromise = optimizer.readState('w');
    expect(statePromise).toBeInstanceOf(Promise);
    const [dict, state] = await Promise.all([dictPromise, statePromise]);
    expect(dict.stepCount).toBe(1);
    expect(state.step).toBe(1);

    // Load into a fresh optimizer on the same parameter values, then both take the same
    // second step: the same parameters, bit for bit.
    const other = setup();
    other.data.set(data);
    const loading = other.optimizer.loadStateDict(dict);
    expect(loading).toBeInstanceOf(Promise);
    expect(await loading).toBeUndefined();
    const restored = await other.optimizer.readState('w');
    expect(restored.step).toBe(1);
    expect(Array.from(restored.secondMoment)).toEqual(Array.from(state.secondMoment));
    await optimizer.step({ w: grad(backend, 3) });
    await other.optimizer.step({ w: grad(other.backend, 3) });
    expect(Array.from(other.data)).toEqual(Array.from(data));
    expect(Array.from(data)).not.toEqual(Array.from(start));
    backend.dispose();
    other.backend.dispose();
  });

  const bad: [string, RectifyErrorCode, (b: OnnxBackend<Float32Array>) => Record<string, unknown>][] = [
    ['an unknown name', 'UNKNOWN_PARAMETER', (b) => ({ w: grad(b), nope: grad(b) })],
    ['a wrong shape', 'SHAPE_MISMATCH', (b) => ({ w: b.fromArray([1, 2, 3], [3]) })],
    ['a plain Float32Array', 'INVALID_TENSOR', () => ({ w: new Float32Array(n) })],
    ['a released tensor', 'INVALID_TENSOR', (b) => {
      const g = grad(b);
      b.disposeTensor(g);
      return { w: g };
    }],
    ['a NaN gradient', 'NON_FINITE_GRADIENT', (b) => ({ w: b.fromArray(Array.from({ length: n }, (_, i) => (i === 63 ? NaN : 0.1)), [n]) })],
  ];
  for (const [label, code, make] of bad) {
    it(`step() with ${label} returns a promise that rejects with ${code}; nothing changes`, async () => {
      const { backend, optimizer, data, start } = setup();
      let pending: Promise<unknown> | undefined;
      expect(() => {
        pending = optimizer.step(make(backend) as never);
      }).not.toThrow();
      expect(pending).toBeInstanceOf(Promise);
      await expect(pending).rejects.toMatchObject({ code });
      expect(Array.from(data)).toEqual(Array.from(start));
      expect(optimizer.stepCount).toBe(0);
      expect(optimizer.haltedBy).toBeUndefined();
      await optimizer.step({ w: grad(backend) }); // still usable
      expect(optimizer.stepCount).toBe(1);
      backend.dispose();
    });
  }

  it('readState() of an unknown name and loadStateDict() of garbage reject, never throw', async () => {
    const { backend, optimizer } = setup();
    const read = optimizer.readState('nope');
    expect(read).toBeInstanceOf(Promise);
    await expect(read).rejects.toMatchObject({ code: 'UNKNOWN_PARAMETER' });
    const load = optimizer.loadStateDict({ format: 'nope' } as never);
    expect(load).toBeInstanceOf(Promise);
    await expect(load).rejects.toMatchObject({ code: 'INVALID_STATE_DICT' });
    backend.dispose();
  });
});

describe('onnx: a backend disposed during a step', () => {
  it('before the update starts: DISPOSED, nothing changed, the optimizer is not halted', async () => {
    const { backend, optimizer, data, start } = setup();
    // Dispose exactly between core's finiteness check and its applyRAdam call.
    const allFinite = backend.allFinite.bind(backend);
    backend.allFinite = async (tensors) => {
      const finite = await allFinite(tensors);
      backend.dispose();
      return finite;
    };
    await expect(optimizer.step({ w: grad(backend) })).rejects.toMatchObject({ code: 'DISPOSED' });
    expect(Array.from(data)).toEqual(Array.from(start));
    expect(optimizer.haltedBy).toBeUndefined();
    expect(optimizer.stepCount).toBe(0);
  });

  it('applyRAdam disposed before its first run (queued, or waiting for its session): DISPOSED, nothing written', async () => {
    for (const delay of [0, 1, 2, 3]) {
      const backend = onnxBackend({ chunkSize: 4 });
      const p = backend.fromArray(series(n, 1), [n]);
      const before = p.data.slice();
      const batch = {
        slots: [{ param: p, grad: grad(backend), firstMoment: backend.zerosLike(p), secondMoment: backend.zerosLike(p) }],
        scalars: { gradScale: 1, clipValue: Infinity, weightDecay: 0, paramScale: 1, beta1: 0.9, beta2: 0.999, rectified: false, stepSize: 0.1, denomScale: 1, eps: 1e-8 },
      };
      const pending = backend.applyRAdam([batch]);
      for (let i = 0; i < delay; i++) await Promise.resolve(); // the session is still being created
      backend.dispose();
      await expect(pending, `after ${delay} microtasks`).rejects.toMatchObject({ code: 'DISPOSED' });
      expect(Array.from(p.data)).toEqual(Array.from(before));
    }
  });

  it('while its chunks are running: the step completes, as on an undisposed twin, then the sessions go', async () => {
    const { backend, optimizer, data, start } = setup({ chunkSize: 1 }); // 64 runs, two groups
    const twin = setup({ chunkSize: 1 });
    await backend.ready();
    const before = liveOnnxSessions();
    const pending = optimizer.step({ w: grad(backend) });
    // Wait until the first chunk run has written, then dispose with the rest still to run.
    while (data[0] === start[0]) await turns(1);
    const tornAtDisposal = data[n - 1] === start[n - 1];
    backend.dispose();
    expect(backend.sessionCount).toBe(4); // held until the step settles
    const report = await pending;
    expect(report.updatedParams).toBe(1);
    expect(tornAtDisposal).toBe(true); // disposal really came mid-step
    await twin.optimizer.step({ w: grad(twin.backend) });
    expect(Array.from(data)).toEqual(Array.from(twin.data)); // every chunk, as if never disposed
    expect(backend.sessionCount).toBe(0);
    expect(liveOnnxSessions()).toBe(before - 4 + twin.backend.sessionCount);
    expect(optimizer.haltedBy).toBeUndefined();
    await expect(optimizer.step({ w: grad(backend) })).rejects.toMatchObject({ code: 'DISPOSED' });
    twin.backend.dispose();
  });

  it('during the finiteness check (reads only): DISPOSED, nothing changed, not halted', async () => {
    for (const delay of [1, 3, 10]) {
      const { backend, optimizer, data, start } = setup({ chunkSize: 1 }); // 64 probe runs
      await backend.ready();
      const pending = optimizer.step({ w: grad(backend) });
      await turns(delay);
      backend.dispose();
      await expect(pending, `after ${delay} turns`).rejects.toMatchObject({ code: 'DISPOSED' });
      expect(Array.from(data)).toEqual(Array.from(start));
      expect(optimizer.haltedBy).toBeUndefined();
    }
  });
});
