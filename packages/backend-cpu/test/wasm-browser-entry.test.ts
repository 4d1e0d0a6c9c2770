/**
 * The browser entry's `wasmCpuBackend` (`src/browser.ts`), run in Node with the globals a
 * page that is not cross-origin isolated has (`crossOriginIsolated === false`): the
 * single-thread kernel over a plain memory, through the whole conformance suite. The
 * Web Worker path needs a browser: `@rectify/conformance-browser` replays it in Chromium.
 */
import { RAdam } from '@rectify/core';
import { describeBackendConformance } from '@rectify/conformance/vitest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cpuBackend, wasmCpuBackend, type WasmCpuBackend } from '../src/browser.js';
import { wasmCpuBackend as nodeWasmCpuBackend } from '../src/index.js';

const MiB = 1024 * 1024;
/** What a plain memory is in this engine: it grows in place only with resizable buffers. */
const memoryPrototype = (globalThis as unknown as { WebAssembly: { Memory: { prototype: { toResizableBuffer?: unknown } } } }).WebAssembly
  .Memory.prototype;
const plainMemory = typeof memoryPrototype.toResizableBuffer === 'function' ? 'resizable' : 'fixed';

// A page served without COOP/COEP. Node has SharedArrayBuffer either way: this global is
// what a browser sets, and what the browser entry reads first.
vi.stubGlobal('crossOriginIsolated', false);

// Every golden case; fewer random properties than the Node entry's run (same kernel code).
describeBackendConformance('cpu-wasm (browser entry, not cross-origin isolated)', () => wasmCpuBackend({ maximumMemoryMiB: 64 }), {
  referenceBackend: () => cpuBackend({ dtype: 'float64' }),
  propertyRuns: 50,
});

const open: WasmCpuBackend[] = [];
afterEach(() => {
  for (const b of open.splice(0)) b.dispose();
});
async function made(create: Promise<WasmCpuBackend>): Promise<WasmCpuBackend> {
  const b = await create;
  open.push(b);
  return b;
}

describe('cpu-wasm browser entry: threading and memory chosen from the page', () => {
  it('not isolated: one thread over a plain memory, whatever threads asked for, and says why', async () => {
    const b = await made(wasmCpuBackend({ threads: 4 }));
    expect(b.threads).toBe(1);
    expect(b.threading).toBe('single: not cross-origin isolated');
    expect(b.memoryStats().memory).toBe(plainMemory);
    // Its tensors are views into a plain memory: nothing shared leaks to the page.
    expect(b.zeros(4).buffer).toBeInstanceOf(ArrayBuffer);
  });

  it('not isolated: the same results as the shared-memory kernel, bitwise (one step of the fused update)', async () => {
    const single = await made(wasmCpuBackend());
    const shared = await made(nodeWasmCpuBackend({ threads: 1 }));
    expect(shared.threading).toBe('single: 1 thread');
    expect(shared.memoryStats().memory).toBe('shared');
    const finals = [single, shared].map((b) => {
      const w = b.fromArray(Array.from({ length: 1000 }, (_, i) => Math.sin(i)), [1000]);
      const opt = new RAdam(b, { lr: 0.01, weightDecay: 0.1, gradClipNorm: 1 });
      opt.registerTrainableWeights({ w });
      for (let k = 0; k < 8; k++) opt.step({ w: b.fromArray(Array.from({ length: 1000 }, (_, i) => Math.cos(i * k)), [1000]) });
      return Array.from(b.read(w));
    });
    expect(finals[0]).toEqual(finals[1]);
    // And against the float64 reference, within float32 rounding.
    const ref = cpuBackend({ dtype: 'float64' });
    const w = ref.fromArray(Array.from({ length: 1000 }, (_, i) => Math.sin(i)), [1000]);
    const opt = new RAdam(ref, { lr: 0.01, weightDecay: 0.1, gradClipNorm: 1 });
    opt.registerTrainableWeights({ w });
    for (let k = 0; k < 8; k++) opt.step({ w: ref.fromArray(Array.from({ length: 1000 }, (_, i) => Math.cos(i * k)), [1000]) });
    ref.read(w).forEach((x, i) => expect(Math.abs(finals[0]![i]! - x)).toBeLessThan(1e-5 * (1 + Math.abs(x))));
  });

  it.runIf(plainMemory === 'fixed')(
    'a plain memory that cannot grow in place: OUT_OF_MEMORY naming initialMemoryMiB, nothing allocated, earlier tensors intact',
    async () => {
      const b = await made(wasmCpuBackend({ initialMemoryMiB: 2, maximumMemoryMiB: 64 }));
      expect(b.memoryStats()).toMatchObject({ memory: 'fixed', capacityBytes: 2 * MiB, maximumBytes: 2 * MiB });
      const a = b.fromArray([1, 2, 3, 4], [4]);
      const stats = b.memoryStats();
      expect(() => b.zeros(MiB)).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY', parameter: 'initialMemoryMiB' }));
      expect(b.memoryStats()).toEqual(stats);
      expect(Array.from(a)).toEqual([1, 2, 3, 4]);
      // What fits still does.
      expect(b.zeros(MiB / 4).length).toBe(MiB / 4);
    },
  );

  it.runIf(plainMemory === 'resizable')('a resizable plain memory grows in place: tensors made before stay valid', async () => {
    const b = await made(wasmCpuBackend({ initialMemoryMiB: 1, maximumMemoryMiB: 64 }));
    const a = b.fromArray([1, 2, 3, 4], [4]);
    b.zeros(4 * MiB);
    expect(b.memoryStats().capacityBytes).toBeGreaterThan(16 * MiB);
    expect(Array.from(a)).toEqual([1, 2, 3, 4]);
    expect(b.owns(a)).toBe(true);
  });

  it('options are still validated: INVALID_OPTION naming the option', async () => {
    await expect(wasmCpuBackend({ threads: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION', parameter: 'threads' });
    await expect(wasmCpuBackend({ chunkElements: 6 })).rejects.toMatchObject({ code: 'INVALID_OPTION', parameter: 'chunkElements' });
  });

  it('isolated but no Worker global (Node 20 has none): one thread over the shared memory, and says why', async () => {
    vi.stubGlobal('crossOriginIsolated', true);
    try {
      const b = await made(wasmCpuBackend({ threads: 2 }));
      expect(typeof (globalThis as { Worker?: unknown }).Worker === 'function' ? 'workers' : 'single: no Worker').toBe(b.threading);
      expect(b.memoryStats().memory).toBe('shared');
    } finally {
      vi.stubGlobal('crossOriginIsolated', false);
    }
  });
});
