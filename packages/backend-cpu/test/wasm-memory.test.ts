import { RAdam } from '@rectify/core';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { BLOCK_ALIGN, BlockAllocator } from '../src/wasm/block-allocator.js';
import { backend } from './helpers/wasm-backends.js';

const MiB = 1024 * 1024;

/**
 * A full garbage collection. Vitest does not start Node with --expose-gc, so the flag is
 * set at run time and `gc` taken from a fresh context, where V8 then installs it.
 */
function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}


describe('BlockAllocator', () => {
  it('hands out aligned, disjoint blocks and reuses freed ones first-fit, coalescing neighbours', () => {
    const grows: number[] = [];
    let end = 4096;
    const allocator = new BlockAllocator(100, end, (bytes) => {
      grows.push(bytes);
      end += Math.ceil(bytes / 4096) * 4096;
      return end;
    });
    const a = allocator.allocate(10);
    const b = allocator.allocate(100);
    const c = allocator.allocate(0);
    expect(a.offset).toBe(128);
    expect([a.bytes, b.bytes, c.bytes]).toEqual([64, 128, 64]);
    expect(b.offset).toBe(a.offset + 64);
    expect(c.offset).toBe(b.offset + 128);
    expect(allocator.usedBytes).toBe(256);
    allocator.free(a);
    allocator.free(a);
    expect(allocator.usedBytes).toBe(192);
    // A 64-byte request fits the hole `a` left; a larger one does not.
    expect(allocator.allocate(64).offset).toBe(128);
    const big = allocator.allocate(200);
    expect(big.offset).toBe(c.offset + 64);
    allocator.free(b);
    allocator.free(c);
    expect(allocator.freeRuns).toBe(2);
    expect(grows).toEqual([]);
    // 10 000 bytes do not fit in 4096: the allocator asks for the shortfall beyond its tail run.
    const huge = allocator.allocate(10_000);
    expect(grows).toHaveLength(1);
    expect(huge.offset % BLOCK_ALIGN).toBe(0);
    expect(huge.offset).toBe(big.offset + big.bytes);
    // Everything but the 64-byte block at 128 is free again, in one run.
    for (const block of [huge, big]) allocator.free(block);
    expect(allocator.freeRuns).toBe(1);
    expect(allocator.usedBytes).toBe(64);
  });
});

describe('cpu-wasm memory', () => {
  it('grows past its initial size without invalidating tensors created before', async () => {
    const b = await backend({ threads: 2, initialMemoryMiB: 1, maximumMemoryMiB: 64, chunkElements: 1024, parallelThreshold: 0 });
    const first = b.fromArray(Float32Array.from({ length: 200_000 }, (_, i) => i), [200_000]);
    const before = b.memoryStats().capacityBytes;
    const tensors = [first];
    for (let i = 0; i < 6; i++) tensors.push(b.fromArray(new Float32Array(300_000).fill(i + 1), [300_000]));
    expect(b.memoryStats().capacityBytes).toBeGreaterThan(before);
    // The first view still reads and writes the same memory, and is still recognized as the backend's own.
    expect(first[199_999]).toBe(199_999);
    expect(b.owns(first)).toBe(true);
    expect(tensors.every((t) => b.owns(t))).toBe(true);
    first[0] = 42;
    expect(b.read(first)[0]).toBe(42);
    // A step over tensors on both sides of the grows, run by both threads.
    const optimizer = new RAdam(b, { lr: 0.5 });
    optimizer.registerTrainableWeights({ first, last: tensors[6]! });
    optimizer.step({ first: b.zeros(200_000).fill(1), last: b.zeros(300_000).fill(-1) });
    expect(first[1]).toBeCloseTo(0.5, 6);
    // 6 − 0.5 · (−1): the first step is not rectified, p − lr · m / (1 − β1).
    expect(tensors[6]![299_999]).toBeCloseTo(6.5, 6);
    expect(b.sumOfSquares([tensors[1]!, tensors[2]!])).toBe(300_000 * 1 + 300_000 * 4);
  });

  it('works on addresses past 2 GiB: tables, staging of user arrays, partial sums (no signed-shift overflow)', { timeout: 60_000 }, async () => {
    // A 250M-parameter optimizer's state is 3 GB: its tables and staging areas lie past 2^31.
    const values = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i));
    const grads = Float32Array.from({ length: 5000 }, (_, i) => Math.cos(3 * i));
    const run = async (filler: number): Promise<{ param: number[]; state: number[]; addresses: number }> => {
      const b = await backend({ threads: 2, parallelThreshold: 0, chunkElements: 1024 });
      const fill = filler > 0 ? b.zeros(filler) : undefined;
      const param = b.fromArray(values, [values.length]);
      const optimizer = new RAdam(b, { lr: 0.01, gradClipNorm: 1 });
      optimizer.registerTrainableWeights({ param });
      // The gradient is the user's own array: staged into the memory at every step.
      for (let i = 0; i < 6; i++) optimizer.step({ param: grads });
      const state = optimizer.readState('param');
      const result = { param: Array.from(param), state: [...state.firstMoment, ...state.secondMoment], addresses: param.byteOffset };
      if (fill !== undefined) b.disposeTensor(fill);
      return result;
    };
    const low = await run(0);
    const high = await run(560 * MiB); // 2.19 GB of filler before everything else
    expect(high.addresses).toBeGreaterThan(2 ** 31);
    expect(high.param).toEqual(low.param);
    expect(high.state).toEqual(low.state);
  });

  it('throws OUT_OF_MEMORY past maximumMemoryMiB, and frees disposed tensors for reuse', async () => {
    const b = await backend({ threads: 1, initialMemoryMiB: 1, maximumMemoryMiB: 2 });
    const used = b.memoryStats().usedBytes;
    const a = b.zeros(200_000);
    expect(b.memoryStats().liveTensors).toBe(1);
    expect(() => b.zeros(400_000)).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY', parameter: 'maximumMemoryMiB' }));
    expect(b.memoryStats().liveTensors).toBe(1);
    b.disposeTensor(a);
    b.disposeTensor(a);
    expect(b.memoryStats()).toMatchObject({ usedBytes: used, liveTensors: 0 });
    // The freed bytes serve the next tensor, zero-filled.
    a.fill(7);
    const c = b.zeros(300_000);
    expect(c.byteOffset).toBe(a.byteOffset);
    expect(c.every((x) => x === 0)).toBe(true);
    expect(b.memoryStats().capacityBytes).toBeLessThanOrEqual(2 * MiB);
  });

  it('frees the memory of tensors the program dropped, once they are garbage-collected', async () => {
    const gc = gcFunction();
    const b = await backend({ threads: 1, maximumMemoryMiB: 64 });
    const used = b.memoryStats().usedBytes;
    (() => {
      for (let i = 0; i < 10; i++) b.zeros(10_000);
    })();
    expect(b.memoryStats().liveTensors).toBe(10);
    for (let attempt = 0; attempt < 50 && b.memoryStats().liveTensors > 0; attempt++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(b.memoryStats()).toMatchObject({ usedBytes: used, liveTensors: 0 });
  });

  it('allocates nothing per step: rounds of 1000 steps leave the JS heap and the wasm memory as they were', { timeout: 60_000 }, async () => {
    const gc = gcFunction();
    const b = await backend({ threads: 2, parallelThreshold: 0, chunkElements: 4096 });
    const params: Record<string, Float32Array> = {};
    const grads: Record<string, Float32Array> = {};
    for (let i = 0; i < 20; i++) {
      params[`p${i}`] = b.zeros(5000).fill(0.5);
      grads[`p${i}`] = b.zeros(5000).fill(i % 2 === 0 ? 0.25 : -0.25);
    }
    const optimizer = new RAdam(b, { lr: 1e-3, gradClipNorm: 1 });
    optimizer.registerTrainableWeights(params);
    const heapAfter = (steps: number): number => {
      for (let i = 0; i < steps; i++) optimizer.step(grads);
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    // A first round warms up the JIT and core's caches; the heap is compared after the next two.
    heapAfter(1000);
    const memoryBefore = b.memoryStats();
    const heaps = [heapAfter(0), heapAfter(1000), heapAfter(1000)];
    expect(b.memoryStats()).toEqual(memoryBefore);
    // Core's step makes short-lived objects that the GC reclaims; 48 bytes kept per step
    // would add up to more than this in either round of 1000 steps.
    expect(heaps[1]! - heaps[0]!).toBeLessThan(48 * 1024);
    expect(heaps[2]! - heaps[1]!).toBeLessThan(48 * 1024);
    expect(params['p0']![0]).toBeLessThan(0.5);
  });
});
