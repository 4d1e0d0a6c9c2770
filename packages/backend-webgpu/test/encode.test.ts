/// <reference types="@webgpu/types" />
/**
 * The synchronous `encode…` methods (for `@rectify/backend-tfjs` on tfjs-webgpu): each
 * gives, in the caller's buffer, exactly what its asynchronous twin returns; the caller's
 * `before` commands run first; a command buffer the device rejects runs nothing (the
 * caller's sentinel stays, the tensors keep their values) and the backend then refuses
 * further calls.
 */
import { RectifyError, type RAdamBatch } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import type { EncodeTarget, WebGpuBackend, WebGpuTensor } from '../src/index.js';
import { nodeWebGpu, testBackend } from './helpers/node-webgpu.js';
import { scalars, values } from './helpers/twin.js';

const gpu = nodeWebGpu.unavailable === undefined ? describe : describe.skip;
if (nodeWebGpu.unavailable !== undefined) console.warn(`[webgpu] encode tests skipped: ${nodeWebGpu.unavailable}`);

const SENTINEL = 0xffffffff;

/** A result buffer the caller owns, its first word the sentinel, and how to read it back. */
function resultBuffer(backend: WebGpuBackend, before?: (encoder: GPUCommandEncoder) => void) {
  const device = backend.device;
  let buffer: GPUBuffer | undefined;
  let size = 0;
  const target: EncodeTarget = {
    before,
    result: (bytes) => {
      size = bytes;
      buffer = device.createBuffer({ size: Math.max(16, bytes), usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
      device.queue.writeBuffer(buffer, 0, new Uint32Array([SENTINEL]));
      return { buffer, byteOffset: 0 };
    },
  };
  const read = async (): Promise<DataView> => {
    const staging = device.createBuffer({ size: buffer!.size, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer!, 0, staging, 0, buffer!.size);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const bytes = staging.getMappedRange().slice(0, size);
    staging.destroy();
    buffer!.destroy();
    return new DataView(bytes);
  };
  return { target, read };
}

/** The float32 values at `place` (a `locate()` result), read with a copy of its own. */
async function readPlace(device: GPUDevice, place: { buffer: GPUBuffer; byteOffset: number; byteLength: number }): Promise<number[]> {
  const staging = device.createBuffer({ size: place.byteLength, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(place.buffer, place.byteOffset, staging, 0, place.byteLength);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const values = Array.from(new Float32Array(staging.getMappedRange().slice(0)));
  staging.destroy();
  return values;
}

/** One batch of slots of `sizes`, the same values on every call (seeded). */
function batch(backend: WebGpuBackend, sizes: readonly number[], gradScale = 1): RAdamBatch<WebGpuTensor>[] {
  const slots = sizes.map((size, s) => ({
    param: backend.fromArray(values(size, 4 * s), [size]),
    grad: backend.fromArray(values(size, 4 * s + 1, gradScale), [size]),
    firstMoment: backend.fromArray(values(size, 4 * s + 2, 0.1), [size]),
    secondMoment: backend.fromArray(values(size, 4 * s + 3, 0.01, true), [size]),
  }));
  return [{ scalars: scalars(), slots }];
}

/** Every parameter and moment of `batches`, read back. */
async function state(backend: WebGpuBackend, batches: readonly RAdamBatch<WebGpuTensor>[]): Promise<number[][]> {
  const tensors = batches.flatMap(({ slots }) => slots.flatMap(({ param, firstMoment, secondMoment }) => [param, firstMoment, secondMoment]));
  return Promise.all(tensors.map(async (t) => Array.from(await backend.read(t))));
}

gpu('webgpu: synchronous encoding', () => {
  it('encodeRAdam writes what applyRAdam computes, bit for bit, and its flag word (0, or the flag bits on overflow)', async () => {
    for (const gradScale of [1, 1e30]) {
      const backend = await testBackend();
      const sizes = [5, 4100, 1];
      const awaited = batch(backend, sizes, gradScale);
      const finite = await backend.applyRAdam(awaited);
      const encoded = batch(backend, sizes, gradScale);
      const { target, read } = resultBuffer(backend);
      backend.encodeRAdam(encoded, target);
      const flag = (await read()).getUint32(0, true);
      expect(finite).toBe(gradScale === 1);
      expect(flag === 0).toBe(finite);
      expect(flag).not.toBe(SENTINEL);
      expect(await state(backend, encoded)).toEqual(await state(backend, awaited));
      backend.dispose();
    }
  });

  it("runs the caller's commands first, in the same command buffer", async () => {
    const backend = await testBackend();
    const [fresh] = batch(backend, [4100]);
    const [stale] = batch(backend, [4100]);
    // The encoded update's gradient starts as zeros; `before` copies the real one in.
    const slot = { ...stale!.slots[0]!, grad: backend.zerosLike(stale!.slots[0]!.grad) };
    const source = backend.locate(fresh!.slots[0]!.grad)!;
    const { target, read } = resultBuffer(backend, (encoder) => {
      const to = backend.locate(slot.grad)!;
      // Through a temporary buffer: a copy within one buffer (one page) is not allowed.
      const temporary = backend.device.createBuffer({ size: source.byteLength, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
      encoder.copyBufferToBuffer(source.buffer, source.byteOffset, temporary, 0, source.byteLength);
      encoder.copyBufferToBuffer(temporary, 0, to.buffer, to.byteOffset, to.byteLength);
    });
    backend.encodeRAdam([{ scalars: stale!.scalars, slots: [slot] }], target);
    expect((await read()).getUint32(0, true)).toBe(0);
    await backend.applyRAdam([fresh!]);
    expect(await state(backend, [{ scalars: stale!.scalars, slots: [slot] }])).toEqual(await state(backend, [fresh!]));
    backend.dispose();
  });

  it('encodeSumOfSquares and encodeAllFinite decode to what sumOfSquares and allFinite return', async () => {
    const backend = await testBackend();
    const withNaN = values(300, 3);
    withNaN[7] = NaN;
    const sets = [
      [values(10_000, 1, 1e20), values(3, 2, 1e-3)],
      [values(5, 4), withNaN],
      [new Float32Array(0)],
    ].map((arrays) => arrays.map((a) => backend.fromArray(a, [a.length])));
    for (const tensors of sets) {
      const sum = resultBuffer(backend);
      const decodeSum = backend.encodeSumOfSquares(tensors, sum.target);
      const finite = resultBuffer(backend);
      const decodeFinite = backend.encodeAllFinite(tensors, finite.target);
      expect(decodeSum(await sum.read())).toBe(await backend.sumOfSquares(tensors));
      expect(decodeFinite(await finite.read())).toBe(await backend.allFinite(tensors));
    }
    backend.dispose();
  });

  it('a command buffer the device rejects runs nothing: the sentinel stays, the tensors keep their values, later calls are BACKEND_ERROR', async () => {
    const backend = await testBackend();
    const batches = batch(backend, [4100]);
    const before = await state(backend, batches);
    const { param, firstMoment, secondMoment } = batches[0]!.slots[0]!;
    const places = [param, firstMoment, secondMoment].map((t) => backend.locate(t)!);
    const bogus = backend.device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_DST });
    // A copy out of a buffer without COPY_SRC: a validation error that invalidates the command buffer.
    const { target, read } = resultBuffer(backend, (encoder) => encoder.copyBufferToBuffer(bogus, 0, backend.locate(batches[0]!.slots[0]!.grad)!.buffer, 0, 16));
    backend.encodeRAdam(batches, target);
    expect((await read()).getUint32(0, true)).toBe(SENTINEL);
    await backend.device.queue.onSubmittedWorkDone();
    await new Promise((resolve) => setTimeout(resolve, 0));
    const error = await backend.read(batches[0]!.slots[0]!.param).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RectifyError);
    expect((error as RectifyError).code).toBe('BACKEND_ERROR');
    // The backend refuses reads now: the parameter and moments are read from its pages directly.
    expect(await Promise.all(places.map((place) => readPlace(backend.device, place)))).toEqual(before);
    expect(() => backend.encodeAllFinite([batches[0]!.slots[0]!.grad], resultBuffer(backend).target)).toThrow(RectifyError);
    backend.dispose();
  });

  it('bad input is a typed error before anything is encoded (no result buffer asked for)', async () => {
    const backend = await testBackend();
    const other = await testBackend();
    const [foreign] = batch(other, [8]);
    let asked = false;
    const target: EncodeTarget = {
      result: () => {
        asked = true;
        throw new Error('not reached');
      },
    };
    expect(() => backend.encodeRAdam([foreign!], target)).toThrow(expect.objectContaining({ code: 'INVALID_TENSOR' }));
    expect(() => backend.encodeSumOfSquares([foreign!.slots[0]!.grad], target)).toThrow(expect.objectContaining({ code: 'INVALID_TENSOR' }));
    expect(asked).toBe(false);
    backend.dispose();
    other.dispose();
  });
});
