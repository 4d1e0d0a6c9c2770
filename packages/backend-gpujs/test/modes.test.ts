import { RAdam, RectifyError } from '@rectify/core';
import { GPU } from 'gpu.js';
import { describe, expect, it } from 'vitest';
import {
  GPUJS_MODES,
  availableGpujsModes,
  createGpujsBackend,
  gpujsBackend,
  gpujsPlatform,
  selectGpujsMode,
  type GpujsMode,
  type GpujsPlatform,
} from '../src/index.js';
import { NODE_MODES, isSoftware } from './helpers/platform.js';

/**
 * WebGL2 "exists" but can only do 8-bit packed precision, and no better mode exists (a
 * usable headless-gl or WebGPU would be picked before auto ever looks at WebGL2).
 */
const lossyWebGL2: GpujsPlatform = {
  ...gpujsPlatform,
  isSupported: (mode) => mode === 'webgl2' || mode === 'webasm' || mode === 'cpu',
  hasSinglePrecision: (mode) => mode !== 'webgl2',
  softwareRenderer: () => undefined,
  probeWebGPU: async () => undefined,
};

function caught(run: () => unknown): RectifyError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RectifyError);
    return error as RectifyError;
  }
  throw new Error('expected a RectifyError');
}

describe('gpu.js modes', () => {
  it("uses gpu.js's own mode names, best first", () => {
    expect(GPUJS_MODES).toEqual(['webgpu', 'headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu']);
    // the names gpu.js itself accepts: every one but cpu is a key of its internal kernels
    expect(availableGpujsModes()).toContain('webasm');
    expect(availableGpujsModes()).toContain('cpu');
  });

  it.each(NODE_MODES)('an explicit %s backend reports it and runs every kernel on it', async (mode) => {
    const backend = await createGpujsBackend({ mode });
    expect(backend).toMatchObject({ mode, name: `gpujs-${mode}`, dtype: 'float32', synchronous: false });
    expect(backend.skippedModes).toEqual([]);
    const opt = new RAdam(backend, { lr: 0.1, gradClipNorm: 1 });
    const w = backend.fromArray([1, -1], [2]);
    opt.registerTrainableWeights({ w });
    const step = opt.step({ w: backend.fromArray([0.5, 0.5], [2]) });
    expect(step).toBeInstanceOf(Promise);
    await step;
    expect(Array.from(await backend.read(w))).not.toEqual([1, -1]);
    // gpu.js degrades unsupported kernels to cpu silently; this backend records it (and
    // must not mistake the GL kernel classes, whose `mode` is gpu.js's generic 'gpu').
    expect(backend.kernelFallbacks).toEqual([]);
    expect(backend.stats.kernelRuns).toBeGreaterThan(0);
    backend.dispose();
  });

  it('records a kernel gpu.js moved to another mode', async () => {
    const backend = gpujsBackend({ mode: 'webasm' });
    const opt = new RAdam(backend, { lr: 0.1 });
    opt.registerTrainableWeights({ w: backend.fromArray([1, -1], [2]) });
    // What gpu.js does when a kernel cannot build on its mode: it swaps in a CPU kernel.
    const gpu = backend.gpu as unknown as { createKernel: (...args: unknown[]) => { kernel: object } };
    const createKernel = gpu.createKernel.bind(gpu);
    gpu.createKernel = (source, settings) => {
      const shortcut = createKernel(source, settings);
      const cpu = new GPU({ mode: 'cpu' }).createKernel(source as never, settings as never) as unknown as { kernel: object };
      Object.defineProperty(shortcut, 'kernel', { value: Object.assign(cpu.kernel, { fallbackReason: 'test' }) });
      return shortcut;
    };
    await opt.step({ w: backend.fromArray([0.5, 0.5], [2]) });
    expect(backend.kernelFallbacks).toContain('firstMoment:2 → cpu (test)');
    backend.dispose();
  });

  it('auto picks the first available hardware mode, else webasm, and says why better ones were passed over', async () => {
    const backend = gpujsBackend();
    const expected = availableGpujsModes().filter((m) => m !== 'webgpu' && !isSoftware(m))[0];
    expect(backend.mode).toBe(expected);
    const better = GPUJS_MODES.slice(0, GPUJS_MODES.indexOf(backend.mode));
    expect(backend.skippedModes).toHaveLength(better.length);
    better.forEach((mode, i) => expect(backend.skippedModes[i]).toMatch(new RegExp(`^${mode}: `)));
    backend.dispose();
    const probed = await createGpujsBackend();
    expect(probed.mode).toBe(NODE_MODES.filter((m) => !isSoftware(m))[0]);
    for (const mode of NODE_MODES.filter(isSoftware)) {
      expect(probed.skippedModes.find((s) => s.startsWith(`${mode}:`))).toMatch(/software .*webasm runs the same kernels faster/);
    }
    probed.dispose();
  });

  it('auto prefers a hardware GPU, then webasm, over a software renderer; an explicit software mode still runs', async () => {
    const software = { adapter: 'google swiftshader (SwiftShader driver 5.0.0)', isSoftware: true, maxBufferBytes: 2 ** 30 };
    const llvmpipe: GpujsPlatform = {
      ...gpujsPlatform,
      isSupported: (mode) => mode !== 'webgl2' && mode !== 'webgl',
      hasSinglePrecision: () => true,
      softwareRenderer: () => 'Mesa software rasterizer (swrast_dri.so)',
    };
    const picked = selectGpujsMode('auto', llvmpipe, software);
    expect(picked.mode).toBe('webasm');
    expect(picked.skipped[0]).toBe('webgpu: software adapter google swiftshader (SwiftShader driver 5.0.0); webasm runs the same kernels faster');
    expect(picked.skipped[1]).toMatch(/^headlessgl: software renderer Mesa software rasterizer \(swrast_dri\.so\)/);
    // a real GPU wins, whichever API it comes through
    expect(selectGpujsMode('auto', llvmpipe, { ...software, isSoftware: false }).mode).toBe('webgpu');
    expect(selectGpujsMode('auto', { ...llvmpipe, softwareRenderer: () => undefined }, software).mode).toBe('headlessgl');
    // without webasm, the software renderer is still passed over (cpu computes the same)
    const noWasm = { ...llvmpipe, isSupported: (mode: GpujsMode) => mode === 'headlessgl' || mode === 'cpu' };
    expect(selectGpujsMode('auto', noWasm, null).mode).toBe('cpu');
    // asked for by name, a software mode runs (how CI tests the GPU code paths)
    expect(selectGpujsMode('headlessgl', llvmpipe, software)).toMatchObject({ mode: 'headlessgl', skipped: [] });
    expect(selectGpujsMode('webgpu', llvmpipe, software)).toMatchObject({ mode: 'webgpu', webgpu: software });
  });

  it('refuses a platform that only offers lossy 8-bit packed precision', () => {
    const error = caught(() => gpujsBackend({ mode: 'webgl2', platform: lossyWebGL2 }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.parameter).toBe('mode');
    expect(error.message).toMatch(/webgl2.*lossy 8-bit packed/);
  });

  it('auto passes over a lossy mode instead of computing garbage on it', () => {
    const backend = gpujsBackend({ platform: lossyWebGL2 });
    expect(backend.mode).not.toBe('webgl2');
    expect(backend.skippedModes.find((s) => s.startsWith('webgl2:'))).toMatch(/lossy 8-bit packed/);
    backend.dispose();
  });

  it('the real platform reports float32 for the modes that have no packed storage', () => {
    for (const mode of ['webgpu', 'webasm', 'cpu'] as GpujsMode[]) expect(gpujsPlatform.hasSinglePrecision(mode)).toBe(true);
    // no browser GL context in this Node process: no single precision either
    expect(gpujsPlatform.isSupported('webgl2')).toBe(false);
    expect(gpujsPlatform.hasSinglePrecision('webgl2')).toBe(false);
    // headless-gl, where it runs, has float textures and float readback
    if (NODE_MODES.includes('headlessgl')) expect(gpujsPlatform.hasSinglePrecision('headlessgl')).toBe(true);
  });

  it('refuses an explicit webgpu without an adapter, up front', async () => {
    const noAdapter: GpujsPlatform = {
      ...gpujsPlatform,
      isSupported: (mode) => mode === 'webgpu' || gpujsPlatform.isSupported(mode),
      probeWebGPU: async () => undefined,
    };
    await expect(createGpujsBackend({ mode: 'webgpu', platform: noAdapter })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      parameter: 'mode',
      message: expect.stringMatching(/no adapter/),
    });
    const auto = await createGpujsBackend({ platform: noAdapter });
    expect(auto.mode).not.toBe('webgpu');
    expect(auto.skippedModes[0]).toMatch(/^webgpu: .*no adapter/);
    auto.dispose();
  });

  it('refuses unavailable and unknown modes and bad options with typed errors', () => {
    if (!gpujsPlatform.isSupported('headlessgl')) {
      expect(caught(() => gpujsBackend({ mode: 'headlessgl' })).message).toMatch(/headlessgl: not supported/);
    }
    expect(caught(() => gpujsBackend({ mode: 'wasm' as never })).parameter).toBe('mode');
    expect(caught(() => gpujsBackend({ mode: 'webasm', poolSize: 0 })).parameter).toBe('poolSize');
    expect(caught(() => gpujsBackend({ mode: 'webasm', threads: 'yes' as never })).parameter).toBe('threads');
    expect(caught(() => gpujsBackend({ mode: 'webasm', threadMinSize: -1 })).parameter).toBe('threadMinSize');
  });
});

describe.runIf(NODE_MODES.includes('webgpu'))('gpujs-webgpu: tensor size limit', () => {
  it("fromArray refuses a tensor above the device's maxStorageBufferBindingSize / 4, naming the limit", async () => {
    const device = (await gpujsPlatform.probeWebGPU())!;
    // The real device, with a small limit: the check must come from the probe, not a constant.
    const small: GpujsPlatform = { ...gpujsPlatform, probeWebGPU: async () => ({ ...device, maxBufferBytes: 4096 }) };
    const backend = await createGpujsBackend({ mode: 'webgpu', platform: small });
    const error = caught(() => backend.fromArray(new Float32Array(1025), [1025]));
    expect(error.code).toBe('INVALID_TENSOR');
    expect(error.message).toMatch(/1025 elements exceeds the 1024 float32 elements .*maxStorageBufferBindingSize of this device: 4096 bytes/);
    expect(backend.stats.liveTensors).toBe(0);
    // at the limit, a step runs
    const opt = new RAdam(backend, { lr: 0.1 });
    const w = backend.fromArray(new Float32Array(1024).fill(1), [1024]);
    opt.registerTrainableWeights({ w });
    await opt.step({ w: backend.fromArray(new Float32Array(1024).fill(0.5), [1024]) });
    expect((await backend.read(w))[1023]).toBeCloseTo(1, 0);
    backend.dispose();
    // the real device's limit (no allocation: the length is checked first)
    const real = await createGpujsBackend({ mode: 'webgpu' });
    const limit = Math.floor(device.maxBufferBytes / 4);
    const tooBig = { length: limit + 1 } as ArrayLike<number>;
    expect(caught(() => real.fromArray(tooBig, [limit + 1])).message).toContain(`exceeds the ${limit} float32 elements`);
    real.dispose();
    // without a probe (the synchronous factory), WebGPU's guaranteed 128 MiB
    const unprobed = gpujsBackend({ mode: 'webgpu' });
    const guaranteed = 2 ** 27 / 4;
    expect(caught(() => unprobed.fromArray({ length: guaranteed + 1 } as ArrayLike<number>, [guaranteed + 1])).message).toMatch(
      /guaranteed minimum: 134217728 bytes/,
    );
    unprobed.dispose();
  });
});
