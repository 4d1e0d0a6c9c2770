/**
 * Rectify's kernels on tfjs' wasm backend: in place only where no other tensor shares a
 * variable's data, every allocation checked against the heap's limit (OUT_OF_MEMORY up
 * front, nothing changed), results against core's float64 cpu backend.
 */
import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam, RectifyError, type RAdamOptions } from '@rectify/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tfjsBackend, type SyncTfjsBackend } from '../src/index.js';
import { setWasmHeapLimit, WASM_HEAP_MAX_BYTES } from '../src/wasm-heap.js';
import { maxExcess, pseudoRandom } from './fixtures.js';
import { useTfjsBackend } from './helpers.js';

beforeAll(async () => {
  await useTfjsBackend('wasm');
  expect(tf.getBackend()).toBe('wasm');
});
afterEach(() => setWasmHeapLimit(undefined));

const OPTIONS: RAdamOptions = { lr: 0.05, betas: [0.8, 0.9], weightDecay: 0.01, gradClipValue: 0.4, nonFinite: 'propagate' };
const SHAPES = [[3, 4], [5], [2, 2, 2]] as const;
const STEPS = 8;

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Starting values and per-step gradients of parameter `i` (deterministic). */
function start(i: number): number[] {
  return pseudoRandom(sizeOf(SHAPES[i]!), 11 + i);
}
function grad(i: number, k: number): number[] {
  return pseudoRandom(sizeOf(SHAPES[i]!), 100 * k + i).map((x) => 0.7 * x);
}

/** The float64 reference trajectory: every parameter after every step. */
function reference(): number[][][] {
  const cpu = cpuBackend({ dtype: 'float64' });
  const params = SHAPES.map((shape, i) => cpu.fromArray(start(i), shape));
  const opt = new RAdam(cpu, OPTIONS);
  opt.registerTrainableWeights(Object.fromEntries(params.map((p, i) => [`w${i}`, p])));
  const out: number[][][] = [];
  for (let k = 0; k < STEPS; k++) {
    opt.step(Object.fromEntries(SHAPES.map((shape, i) => [`w${i}`, cpu.fromArray(grad(i, k), shape)])));
    out.push(params.map((p) => Array.from(p as ArrayLike<number>)));
  }
  return out;
}

/** `backend` with every moment it creates recorded (m, then v, per parameter). */
function recordingMoments(backend: SyncTfjsBackend): { backend: SyncTfjsBackend; moments: tf.Variable[] } {
  const moments: tf.Variable[] = [];
  const zerosLike = (like: tf.Tensor): tf.Variable => {
    const moment = backend.zerosLike(like) as tf.Variable;
    moments.push(moment);
    return moment;
  };
  return { moments, backend: { ...backend, zerosLike } };
}

interface Run {
  readonly opt: RAdam<SyncTfjsBackend>;
  readonly params: tf.Variable[];
  readonly moments: tf.Variable[];
  step(k: number): void;
}

function run(): Run {
  const { backend, moments } = recordingMoments(tfjsBackend({ synchronous: true }));
  const params = SHAPES.map((shape, i) => backend.fromArray(start(i), shape) as tf.Variable);
  const opt = new RAdam(backend, OPTIONS);
  opt.registerTrainableWeights(Object.fromEntries(params.map((p, i) => [`w${i}`, p])));
  return {
    opt,
    params,
    moments,
    step: (k) => {
      const grads = SHAPES.map((shape, i) => tf.tensor(grad(i, k), [...shape]));
      try {
        opt.step(Object.fromEntries(grads.map((g, i) => [`w${i}`, g])));
      } finally {
        tf.dispose(grads);
      }
    },
  };
}

function dispose({ opt, params }: Run): void {
  opt.dispose();
  tf.dispose(params);
}

/** The float32 bit patterns of a tensor: "unchanged" means bit for bit. */
function bits(t: tf.Tensor): number[] {
  return Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
}

describe('the step kernel on tfjs-wasm', () => {
  it('updates unshared variables in place and matches the float64 reference', () => {
    const expected = reference();
    const r = run();
    const ids = [...r.params, ...r.moments].map((t) => t.dataId);
    const tensors = tf.memory().numTensors;
    for (let k = 0; k < STEPS; k++) {
      r.step(k);
      r.params.forEach((p, i) =>
        expect(maxExcess(p.dataSync(), expected[k]![i]!, 1e-6, 1e-5), `step ${k + 1}, w${i}`).toBeLessThanOrEqual(0),
      );
    }
    // In place: every variable still holds the data it was created with, and no tensor leaked.
    expect([...r.params, ...r.moments].map((t) => t.dataId)).toEqual(ids);
    expect(tf.memory().numTensors).toBe(tensors);
    dispose(r);
  });

  it('leaves a tensor sharing a variable’s data (parameter or moment) at its old values, and steps exactly as in place', () => {
    const inPlace = run();
    const shared = run();
    for (let k = 0; k < 3; k++) {
      inPlace.step(k);
      shared.step(k);
    }
    // Mixed in one step: w0 and the first moment of w1 share their data with a reshaped
    // view (on wasm, reshape shares a tensor's data; tf.clone copies it), everything else not.
    const sharing = [shared.params[0]!, shared.moments[2]!];
    const views = sharing.map((t) => t.reshape([-1]));
    const copy = tf.clone(shared.params[2]!);
    const before = [...views, copy].map(bits);
    const ids = sharing.map((t) => t.dataId);
    const alone = [shared.params[1]!, shared.params[2]!, shared.moments[0]!, shared.moments[3]!];
    const aloneIds = alone.map((t) => t.dataId);
    inPlace.step(3);
    shared.step(3);
    expect([...views, copy].map(bits)).toEqual(before);
    // The shared ones got new data (assigned), the others were written where they are.
    sharing.forEach((t, i) => expect(t.dataId).not.toBe(ids[i]));
    expect(alone.map((t) => t.dataId)).toEqual(aloneIds);
    expect(shared.params.map(bits)).toEqual(inPlace.params.map(bits));
    expect(shared.moments.map(bits)).toEqual(inPlace.moments.map(bits));
    // Once the views are gone, the variables are theirs alone again: in place.
    tf.dispose([...views, copy]);
    const now = sharing.map((t) => t.dataId);
    inPlace.step(4);
    shared.step(4);
    expect(sharing.map((t) => t.dataId)).toEqual(now);
    expect(shared.params.map(bits)).toEqual(inPlace.params.map(bits));
    dispose(inPlace);
    dispose(shared);
  });

  it('a variable made from a tensor still alive gets new data at its first step; the tensor keeps its values', () => {
    const backend = tfjsBackend({ synchronous: true });
    const t = tf.tensor([0.5, -1, 2]);
    const w = tf.variable(t);
    const opt = new RAdam(backend, { lr: 0.1 });
    opt.registerTrainableWeights({ w });
    const g = tf.tensor([1, -1, 1]);
    opt.step({ w: g });
    expect(Array.from(t.dataSync())).toEqual([0.5, -1, 2]);
    // Step 1 of RAdam is p − lr·g (unrectified, m̂ = g).
    expect(maxExcess(w.dataSync(), [0.4, -0.9, 1.9], 1e-7, 1e-6)).toBeLessThanOrEqual(0);
    expect(w.dataId).not.toBe(t.dataId);
    tf.dispose([t, w, g]);
    opt.dispose();
  });

  it('a gradient still on the cpu backend is moved onto the heap before any view of it is taken', async () => {
    // 4 MiB of gradient moved in during the step (tfjs moves data lazily): enough to make
    // the heap grow, which would detach views taken before it.
    const n = 1 << 20;
    const backend = tfjsBackend({ synchronous: true });
    const w = backend.fromArray(new Float32Array(n).fill(1), [n]) as tf.Variable;
    const opt = new RAdam(backend, { lr: 0.1, nonFinite: 'propagate' });
    opt.registerTrainableWeights({ w });
    await tf.setBackend('cpu');
    const g = tf.tensor(Float32Array.from({ length: n }, (_, i) => (i % 7) - 3));
    await tf.setBackend('wasm');
    opt.step({ w: g });
    // Step 1 of RAdam is p − lr·g (unrectified, m̂ = g).
    const expected = Float32Array.from({ length: n }, (_, i) => 1 - 0.1 * ((i % 7) - 3));
    expect(maxExcess(w.dataSync(), expected, 1e-7, 1e-6)).toBeLessThanOrEqual(0);
    tf.dispose([w, g]);
    opt.dispose();
  });

  it('a matMul after an in-place step sees the new weights (tfjs-wasm caches packed weights by tensor id)', () => {
    const backend = tfjsBackend({ synchronous: true });
    const w = backend.fromArray(pseudoRandom(12, 3), [3, 4]) as tf.Variable;
    const x = tf.tensor2d(pseudoRandom(6, 4), [2, 3]);
    const opt = new RAdam(backend, { lr: 0.1 });
    opt.registerTrainableWeights({ w });
    tf.matMul(x, w).dispose(); // XNNPACK packs w and caches the operator
    const id = w.dataId;
    const g = tf.onesLike(w);
    opt.step({ w: g });
    expect(w.dataId).toBe(id);
    const [xs, ws] = [x.dataSync(), w.dataSync()];
    const expected = Array.from({ length: 8 }, (_, e) => {
      const [row, col] = [Math.floor(e / 4), e % 4];
      return [0, 1, 2].reduce((s, j) => s + xs[3 * row + j]! * ws[4 * j + col]!, 0);
    });
    const y = tf.matMul(x, w);
    expect(maxExcess(y.dataSync(), expected, 1e-6, 1e-6)).toBeLessThanOrEqual(0);
    tf.dispose([y, x, g, w]);
    opt.dispose();
  });
});

describe('the wasm heap limit', () => {
  it('a step that cannot allocate fails up front with OUT_OF_MEMORY naming the limit, nothing changed', () => {
    const expected = reference();
    const r = run();
    r.step(0);
    // A view sharing w0's data makes its new value need an allocation of its own.
    const clone = r.params[0]!.reshape([-1]);
    const before = [...r.params, ...r.moments].map(bits);
    const tensors = tf.memory().numTensors;
    setWasmHeapLimit(0);
    let error: unknown;
    try {
      r.step(1);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RectifyError);
    expect((error as RectifyError).code).toBe('OUT_OF_MEMORY');
    expect((error as RectifyError).message).toMatch(/limit is 0 bytes/);
    expect([...r.params, ...r.moments].map(bits)).toEqual(before);
    expect(r.opt.stepCount).toBe(1);
    expect(tf.memory().numTensors).toBe(tensors);
    // With the heap back, the same step runs as if nothing had happened.
    setWasmHeapLimit(undefined);
    for (let k = 1; k < STEPS; k++) r.step(k);
    r.params.forEach((p, i) => expect(maxExcess(p.dataSync(), expected[STEPS - 1]![i]!, 1e-6, 1e-5)).toBeLessThanOrEqual(0));
    clone.dispose();
    dispose(r);
  });

  it('moments that do not fit fail registration with OUT_OF_MEMORY, nothing registered', () => {
    const backend = tfjsBackend({ synchronous: true });
    const w = backend.fromArray([1, 2, 3], [3]) as tf.Variable;
    const opt = new RAdam(backend, OPTIONS);
    const tensors = tf.memory().numTensors;
    setWasmHeapLimit(0);
    expect(() => opt.registerTrainableWeights({ w })).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY' }));
    expect(opt.paramGroups).toEqual([]);
    expect(tf.memory().numTensors).toBe(tensors);
    opt.dispose();
    w.dispose();
  });

  it('a tensor beyond tfjs-wasm’s 4 GiB maximum is refused before malloc, naming it', () => {
    // 2^30 + 1 float32 elements: 4 bytes more than wasm32 can address. Unchecked, malloc's
    // 32-bit size would wrap around to a 4-byte allocation.
    const backend = tfjsBackend({ synchronous: true });
    const tensors = tf.memory().numTensors;
    const huge = { shape: [2 ** 30 + 1] } as unknown as tf.Tensor;
    expect(() => backend.zerosLike(huge)).toThrow(new RegExp(`limit is ${WASM_HEAP_MAX_BYTES} bytes \\(tfjs-wasm's heap maximum`));
    expect(tf.memory().numTensors).toBe(tensors);
  });
});
