/**
 * `RAdamOptimizer` (a synchronous `tf.Optimizer`) on tfjs-webgpu in Chromium, where
 * tfjs-webgpu's `dataSync()` reads GPU buffers: once the shared path is ready, each step
 * is ONE dispatch of `@rectify/backend-webgpu`'s update kernel for all 1000 variables
 * (plus one reduction dispatch for the default non-finite check), where the stock ops of
 * the first step (before the path is ready) take thousands; the values agree with core's
 * RAdam on the float64 CPU backend within SPEC.md's float32 tolerance; a non-finite
 * gradient, or a command buffer the device rejects, throws the typed error and changes
 * nothing. Dispatches are counted on every
 * command encoder of tfjs' device (the helper of the Node test).
 */
import { cpuBackend } from '@rectify/backend-cpu';
import { RAdamOptimizer } from '@rectify/backend-tfjs';
import { useWebGpuBackend } from '@rectify/backend-tfjs/webgpu';
import { firstMismatch, toleranceFor } from '@rectify/conformance/portable';
import { describeUnavailable } from '@rectify/conformance/vitest';
import { RAdam, RectifyError, type RAdamOptions } from '@rectify/core';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANVAS_READ_BYTES, canvasReadSize, canvasReader } from '../../backend-tfjs/src/webgpu-canvas-read.js';
import { COUNT, countDeviceWorkSync, gradient, initial, sizeOf } from '../../backend-tfjs/test/device-work.js';
import { webGpuUnavailable } from './webgpu-device.js';

const TOLERANCE = toleranceFor('float32');
const TIMEOUT = 300_000;

/** tfjs-webgpu's device (where the shared kernel runs too). */
const device = (): GPUDevice => (tf.backend() as unknown as { device: GPUDevice }).device;

/** Buffers of tfjs-webgpu's pool in use. */
const usedBuffers = (): number => (tf.backend() as unknown as { bufferManager: { getNumUsedBuffers(): number } }).bufferManager.getNumUsedBuffers();

/** `count` trainable variables holding the fixed pattern's initial values. */
const makeVariables = (count = COUNT): tf.Variable[] => Array.from({ length: count }, (_, i) => tf.variable(tf.tensor(initial(i)), true));

/** Step `k`'s gradients of `variables`, by variable name (`poison`: variable index whose gradient gets a NaN). */
const gradientsAt = (variables: readonly tf.Variable[], k: number, poison?: number): Record<string, tf.Tensor> =>
  Object.fromEntries(
    variables.map((variable, i) => {
      const values = gradient(i, k);
      if (i === poison) values[0] = NaN;
      return [variable.name, tf.tensor(values)];
    }),
  );

/** Core's RAdam on the float64 CPU backend: the values of `count` variables after `steps` steps of the same pattern. */
function reference(options: RAdamOptions, steps: readonly number[], count = COUNT): number[][] {
  const backend = cpuBackend({ dtype: 'float64' });
  const optimizer = new RAdam(backend, options);
  const params = Object.fromEntries(Array.from({ length: count }, (_, i) => [`w${i}`, backend.fromArray(initial(i), [sizeOf(i)])]));
  optimizer.registerTrainableWeights(params);
  for (const k of steps) {
    const grads = Object.fromEntries(Array.from({ length: count }, (_, i) => [`w${i}`, backend.fromArray(gradient(i, k), [sizeOf(i)])]));
    optimizer.step(grads);
    Object.values(grads).forEach((g) => backend.disposeTensor(g));
  }
  const values = Array.from({ length: count }, (_, i) => Array.from(backend.read(params[`w${i}`]!) as ArrayLike<number>));
  optimizer.dispose();
  return values;
}

/** Expects every variable within SPEC.md's float32 tolerance of `expected`. */
function expectClose(actual: readonly (readonly number[])[], expected: readonly (readonly number[])[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((values, i) => expect(firstMismatch(values, expected[i]!, TOLERANCE), `w${i}`).toBeUndefined());
}

/**
 * The values of `tensors`, read with `data()`: `dataSync()` is the optimizer's (a WebGPU
 * canvas per read, which SwiftShader runs out of over thousands of reads).
 */
const readAll = async (tensors: readonly tf.Tensor[]): Promise<number[][]> => Promise.all(tensors.map(async (t) => Array.from(await t.data())));

/**
 * Every parameter of `variables` and every weight of `optimizer` (moments, step counts),
 * flattened into one tensor: one read.
 */
async function stateOf(optimizer: RAdamOptimizer, variables: readonly tf.Variable[]): Promise<{ names: string[]; values: number[] }> {
  const weights = await optimizer.getWeights();
  const flat = tf.tidy(() => tf.concat([...variables, ...weights.map(({ tensor }) => tensor)].map((t) => t.cast('float32').reshape([-1]))));
  const values = Array.from(await flat.data());
  flat.dispose();
  return { names: weights.map(({ name }) => name), values };
}

/**
 * A fresh optimizer over fresh variables, stepped with `applyGradients` at steps 1…`steps`:
 * the dispatches of each step, whether the shared path was ready after step 1, the final values.
 */
async function train(options: RAdamOptions, steps: number) {
  const variables = makeVariables();
  const optimizer = new RAdamOptimizer(options);
  const dispatches: number[] = [];
  let readyAfterFirst: boolean | undefined;
  let tensorsAfterSecond = 0;
  let buffersAfterSecond = 0;
  // tfjs' own readSync (three new canvases per read) is the op graph's; the kernel's
  // results come back through the path's own canvases.
  const tfjs = tf.backend() as unknown as { readSync(dataId: object): unknown };
  const readSync = tfjs.readSync;
  let readSyncs = 0;
  tfjs.readSync = function (this: unknown, dataId: object) {
    readSyncs++;
    return readSync.call(this, dataId);
  };
  for (let k = 1; k <= steps; k++) {
    const grads = gradientsAt(variables, k);
    if (k === 2) {
      // The spy sees them: the first step (the op graph) read its flag sums so.
      expect(readSyncs).toBeGreaterThan(0);
      readSyncs = 0;
    }
    dispatches.push(countDeviceWorkSync(device(), () => optimizer.applyGradients(grads)).dispatches);
    tf.dispose(Object.values(grads));
    // The first step started the set-up in the background (and ran the stock ops).
    if (k === 1) readyAfterFirst = await optimizer.ready();
    if (k === 2) [tensorsAfterSecond, buffersAfterSecond] = [tf.memory().numTensors, usedBuffers()];
  }
  tfjs.readSync = readSync;
  expect(readSyncs).toBe(0);
  // Steps on the kernel leave no tensor or buffer of tfjs' pool behind (the result
  // buffers, the replaced values).
  expect(tf.memory().numTensors).toBe(tensorsAfterSecond);
  expect(usedBuffers()).toBe(buffersAfterSecond);
  const values = await readAll(variables);
  optimizer.dispose();
  tf.dispose(variables);
  return { dispatches, readyAfterFirst, values };
}

if (webGpuUnavailable === undefined) {
  describe('RAdamOptimizer on tfjs-webgpu (Chromium): every variable in one dispatch', () => {
    beforeAll(async () => {
      await useWebGpuBackend();
    }, 60_000);

    // The page's next file opens its own device: hand tfjs' device back first, with
    // nothing of this file in flight (its loss would otherwise land in that file).
    afterAll(async () => {
      const own = device();
      await own.queue.onSubmittedWorkDone();
      tf.removeBackend('webgpu');
      own.destroy();
      await new Promise((resolve) => setTimeout(resolve, 500));
    });

    it('the canvas reader gives back every byte of a buffer, one word to 64 KiB (alpha bytes of 0 and 255 included)', () => {
      const read = canvasReader(device())!;
      expect(read).toBeTypeOf('function');
      for (const bytes of [4, 8, 1020, 1028, 16_404, CANVAS_READ_BYTES]) {
        const pattern = Uint8Array.from({ length: bytes }, (_, i) => (i % 7 === 3 ? 0 : i % 11 === 5 ? 255 : (i * 37 + 11) & 255));
        const buffer = device().createBuffer({ size: canvasReadSize(bytes), usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
        device().queue.writeBuffer(buffer, 0, pattern);
        expect(Array.from(read(buffer, bytes)), `${bytes} bytes`).toEqual(Array.from(pattern));
        buffer.destroy();
      }
    });

    it("with nonFinite: 'propagate': the stock ops before the path is ready (> 2 dispatches per variable), then exactly 1 dispatch per step; values within tolerance of cpu64", async () => {
      const options = { lr: 1e-2, weightDecay: 0.01, nonFinite: 'propagate' } as const;
      const { dispatches, readyAfterFirst, values } = await train(options, 5);
      console.log(`[tfjs-webgpu RAdamOptimizer] dispatches per step, ${COUNT} variables, 'propagate': ${dispatches.join(', ')}`);
      expect(readyAfterFirst).toBe(true);
      expect(dispatches[0]).toBeGreaterThan(2 * COUNT);
      expect(dispatches.slice(1)).toEqual([1, 1, 1, 1]);
      expectClose(values, reference(options, [1, 2, 3, 4, 5]));
    }, TIMEOUT);

    it("with the default nonFinite: 'error': exactly one reduction more per step (2 dispatches); with gradClipNorm the norm's two instead (3)", async () => {
      const checked = await train({ lr: 1e-2 }, 4);
      expect(checked.dispatches[0]).toBeGreaterThan(2 * COUNT);
      expect(checked.dispatches.slice(1)).toEqual([2, 2, 2]);
      expectClose(checked.values, reference({ lr: 1e-2 }, [1, 2, 3, 4]));
      // A finite norm proves every gradient finite: core skips the check, the norm is a
      // reduction and its combine pass.
      const clipped = { lr: 1e-2, gradClipNorm: 1, weightDecay: 0.01 } as const;
      const norm = await train(clipped, 4);
      console.log(`[tfjs-webgpu RAdamOptimizer] dispatches per step, 'error': ${checked.dispatches.join(', ')}; gradClipNorm: ${norm.dispatches.join(', ')}`);
      expect(norm.dispatches.slice(1)).toEqual([3, 3, 3]);
      expectClose(norm.values, reference(clipped, [1, 2, 3, 4]));
    }, TIMEOUT);

    it('a NaN gradient under the default policy throws NON_FINITE_GRADIENT naming it and leaves every variable and moment as it was', async () => {
      // Fewer variables: getWeights() reads every moment back with dataSync() (core's readState).
      const count = 50;
      const variables = makeVariables(count);
      const optimizer = new RAdamOptimizer({ lr: 1e-2 });
      expect(await optimizer.ready()).toBe(true);
      for (const k of [1, 2]) {
        const grads = gradientsAt(variables, k);
        optimizer.applyGradients(grads);
        tf.dispose(Object.values(grads));
      }
      const snapshot = () => stateOf(optimizer, variables);
      const before = await snapshot();
      const poisoned = 3;
      const bad = gradientsAt(variables, 3, poisoned);
      let thrown: unknown;
      const work = countDeviceWorkSync(device(), () => {
        try {
          optimizer.applyGradients(bad);
        } catch (error) {
          thrown = error;
        }
      });
      tf.dispose(Object.values(bad));
      expect(thrown).toBeInstanceOf(RectifyError);
      expect((thrown as RectifyError).code).toBe('NON_FINITE_GRADIENT');
      expect((thrown as RectifyError).parameter).toBe(variables[poisoned]!.name);
      // On the shared kernel: the check over every gradient, then core's search for the
      // culprit (w0 … w3), one reduction each, and no update.
      expect(work.dispatches).toBe(1 + poisoned + 1);
      expect(await snapshot()).toEqual(before);
      expect(optimizer.iterations).toBe(2);
      // Not halted: the next good step goes on from the same state, as core's does.
      const grads = gradientsAt(variables, 3);
      optimizer.applyGradients(grads);
      tf.dispose(Object.values(grads));
      expectClose(await readAll(variables), reference({ lr: 1e-2 }, [1, 2, 3], count));
      optimizer.dispose();
      tf.dispose(variables);
    }, TIMEOUT);

    it('a command buffer the device rejects (a destroyed gradient buffer) is a typed BACKEND_ERROR before any variable changes', async () => {
      const variables = makeVariables(20);
      const optimizer = new RAdamOptimizer({ lr: 1e-2, nonFinite: 'propagate' });
      expect(await optimizer.ready()).toBe(true);
      const first = gradientsAt(variables, 1);
      optimizer.applyGradients(first);
      tf.dispose(Object.values(first));
      const before = await stateOf(optimizer, variables);
      const bad = gradientsAt(variables, 2);
      const tfjs = tf.backend() as unknown as { uploadToGPU(dataId: object): void; tensorMap: { get(dataId: object): { resource: unknown } } };
      const broken = bad[variables[5]!.name]!;
      tfjs.uploadToGPU(broken.dataId);
      const data = tfjs.tensorMap.get(broken.dataId);
      const original = data.resource;
      // The update's command buffer copies this gradient in: a destroyed buffer there
      // makes the device reject (and run nothing of) the whole command buffer.
      const dead = device().createBuffer({ size: broken.size * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      dead.destroy();
      data.resource = dead;
      try {
        expect(() => optimizer.applyGradients(bad)).toThrow(expect.objectContaining({ code: 'BACKEND_ERROR', message: expect.stringMatching(/did not run/) }));
      } finally {
        data.resource = original;
      }
      tf.dispose(Object.values(bad));
      expect(optimizer.iterations).toBe(1);
      expect(await stateOf(optimizer, variables)).toEqual(before);
      optimizer.dispose();
      tf.dispose(variables);
    }, TIMEOUT);

    it('optimizer.minimize on a tfjs model: 2 dispatches per applyGradients once ready, weights within tolerance of cpu64 given the same gradients', async () => {
      const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'tanh' }), tf.layers.dense({ units: 2 })] });
      const xs = tf.tensor2d(Array.from({ length: 32 }, (_, i) => Math.sin(i)), [8, 4]);
      const ys = tf.tensor2d(Array.from({ length: 16 }, (_, i) => Math.cos(i)), [8, 2]);
      const loss = (): tf.Scalar => tf.losses.meanSquaredError(ys, model.predict(xs) as tf.Tensor) as tf.Scalar;
      const options = { lr: 5e-2, weightDecay: 0.01 } as const;
      const optimizer = new RAdamOptimizer(options);
      expect(await optimizer.ready()).toBe(true);
      // Core's RAdam on cpu64 from the same initial weights, stepped with the gradients tfjs computes.
      const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const cpu = cpuBackend({ dtype: 'float64' });
      const expected = new RAdam(cpu, options);
      const initialWeights = await readAll(weights);
      const params = Object.fromEntries(weights.map((w, i) => [w.name, cpu.fromArray(initialWeights[i]!, w.shape)]));
      expected.registerTrainableWeights(params);
      const applied: number[] = [];
      const apply = optimizer.applyGradients.bind(optimizer);
      optimizer.applyGradients = (grads) => {
        const named = Array.isArray(grads) ? Object.fromEntries(grads.map(({ name, tensor }) => [name, tensor])) : grads;
        expected.step(Object.fromEntries(Object.entries(named).map(([name, g]) => [name, cpu.fromArray(g!.dataSync(), g!.shape)])));
        applied.push(countDeviceWorkSync(device(), () => apply(grads)).dispatches);
      };
      for (let k = 0; k < 4; k++) optimizer.minimize(loss, true)?.dispose();
      expect(applied).toEqual([2, 2, 2, 2]);
      const actual = await readAll(weights);
      weights.forEach((w, i) => expect(firstMismatch(actual[i]!, cpu.read(params[w.name]!) as ArrayLike<number>, TOLERANCE), w.name).toBeUndefined());
      optimizer.dispose();
      expected.dispose();
      tf.dispose([xs, ys]);
      model.layers.forEach((layer) => layer.dispose());
    }, TIMEOUT);
  });
} else {
  describeUnavailable('RAdamOptimizer on tfjs-webgpu (Chromium)', webGpuUnavailable);
}
