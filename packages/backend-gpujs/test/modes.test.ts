import { RAdam, RectifyError } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import {
  GPUJS_MODES,
  availableGpujsModes,
  createGpujsBackend,
  gpujsBackend,
  gpujsPlatform,
  type GpujsMode,
  type GpujsPlatform,
} from '../src/index.js';

/** The real platform, except that WebGL2 "exists" but can only do 8-bit packed precision. */
const lossyWebGL2: GpujsPlatform = {
  ...gpujsPlatform,
  isSupported: (mode) => mode === 'webgl2' || gpujsPlatform.isSupported(mode),
  hasSinglePrecision: (mode) => mode !== 'webgl2' && gpujsPlatform.hasSinglePrecision(mode),
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

  it.each(['cpu', 'webasm'] as const)('an explicit %s backend reports it and runs every kernel on it', async (mode) => {
    const backend = gpujsBackend({ mode });
    expect(backend).toMatchObject({ mode, name: `gpujs-${mode}`, dtype: 'float32', synchronous: false });
    expect(backend.skippedModes).toEqual([]);
    const opt = new RAdam(backend, { lr: 0.1, gradClipNorm: 1 });
    const w = backend.fromArray([1, -1], [2]);
    opt.registerTrainableWeights({ w });
    const step = opt.step({ w: backend.fromArray([0.5, 0.5], [2]) });
    expect(step).toBeInstanceOf(Promise);
    await step;
    // gpu.js degrades unsupported kernels to cpu silently; this backend records it.
    expect(backend.kernelFallbacks).toEqual([]);
    expect(backend.stats.kernelRuns).toBeGreaterThan(0);
    backend.dispose();
  });

  it('auto picks the first available mode and says why better ones were passed over', async () => {
    const backend = gpujsBackend();
    const expected = availableGpujsModes().filter((m) => m !== 'webgpu')[0];
    expect(backend.mode).toBe(expected);
    const better = GPUJS_MODES.slice(0, GPUJS_MODES.indexOf(backend.mode));
    expect(backend.skippedModes).toHaveLength(better.length);
    better.forEach((mode, i) => expect(backend.skippedModes[i]).toMatch(new RegExp(`^${mode}: `)));
    backend.dispose();
    const probed = await createGpujsBackend();
    expect(GPUJS_MODES).toContain(probed.mode);
    probed.dispose();
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
    // no GL context in this Node process: no single precision either
    if (!gpujsPlatform.isSupported('webgl2')) expect(gpujsPlatform.hasSinglePrecision('webgl2')).toBe(false);
  });

  it('refuses an explicit webgpu without an adapter, up front', async () => {
    const noAdapter: GpujsPlatform = {
      ...gpujsPlatform,
      isSupported: (mode) => mode === 'webgpu' || gpujsPlatform.isSupported(mode),
      isWebGPUAvailable: async () => false,
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
