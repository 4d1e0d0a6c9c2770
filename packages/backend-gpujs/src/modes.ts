import { RectifyError } from '@rectify/core';
import { GPU, HeadlessGLKernel, WebGL2Kernel, WebGLKernel } from 'gpu.js';

/**
 * Every gpu.js 2.24 backend this package can run on, best first. The names are gpu.js's
 * own `mode` strings (`webasm`, not `wasm`).
 *
 * - `webgpu`: WGSL compute shaders over `f32` storage buffers (browser, or Node with the
 *   `webgpu` package installed as `navigator.gpu`). Natively asynchronous.
 * - `headlessgl`: GLSL ES 1.00 through the native `gl` package (Node).
 * - `webgl2`, `webgl`: GLSL fragment shaders (browser).
 * - `webasm`: WebAssembly with f32x4 SIMD, split across worker threads for big tensors.
 * - `cpu`: gpu.js transpiled to plain JavaScript.
 *
 * @example
 * ```ts
 * for (const mode of GPUJS_MODES) console.log(mode, gpujsPlatform.isSupported(mode));
 * ```
 */
export const GPUJS_MODES = ['webgpu', 'headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'] as const;

/**
 * One gpu.js backend: see {@link GPUJS_MODES}.
 *
 * @example
 * ```ts
 * const mode: GpujsMode = 'webasm';
 * ```
 */
export type GpujsMode = (typeof GPUJS_MODES)[number];

/**
 * What the caller may ask for: a mode, or `'auto'` for the best one that computes in float32.
 *
 * @example
 * ```ts
 * const request: GpujsModeRequest = process.env.GPUJS_MODE === 'cpu' ? 'cpu' : 'auto';
 * ```
 */
export type GpujsModeRequest = GpujsMode | 'auto';

/**
 * What the backend needs to know about the platform before it picks a mode. The default,
 * {@link gpujsPlatform}, asks gpu.js; tests (and unusual hosts) can inject their own.
 *
 * @example
 * ```ts
 * // pretend WebGL2 exists but can only read back 8-bit packed values
 * const lossy: GpujsPlatform = {
 *   ...gpujsPlatform,
 *   isSupported: (mode) => mode === 'webgl2' || gpujsPlatform.isSupported(mode),
 *   hasSinglePrecision: (mode) => mode !== 'webgl2',
 * };
 * gpujsBackend({ mode: 'webgl2', platform: lossy }); // throws RectifyError INVALID_OPTION
 * ```
 */
export interface GpujsPlatform {
  /** Whether gpu.js can create kernels of `mode` here (synchronous check). */
  isSupported(mode: GpujsMode): boolean;
  /**
   * Whether `mode` renders and reads back full float32 values (`precision: 'single'`).
   * A GL context without float textures or float readback only offers the lossy 8-bit
   * packed `'unsigned'` precision, which this backend refuses.
   */
  hasSinglePrecision(mode: GpujsMode): boolean;
  /** Whether a WebGPU adapter actually answers (the authoritative, asynchronous check). */
  isWebGPUAvailable(): Promise<boolean>;
}

/** The GL kernel classes whose float support gpu.js reports through `features`. */
const GL_KERNELS = { headlessgl: HeadlessGLKernel, webgl2: WebGL2Kernel, webgl: WebGLKernel } as const;

interface FloatFeatures {
  readonly isFloatRead?: boolean;
  readonly isTextureFloat?: boolean;
}

/**
 * The real platform, as gpu.js 2.24 sees it.
 *
 * @example
 * ```ts
 * gpujsPlatform.isSupported('webasm'); // true wherever WebAssembly is
 * ```
 */
export const gpujsPlatform: GpujsPlatform = {
  isSupported(mode) {
    switch (mode) {
      case 'webgpu':
        return GPU.isWebGPUSupported;
      case 'headlessgl':
        return GPU.isHeadlessGLSupported;
      case 'webgl2':
        return GPU.isWebGL2Supported;
      case 'webgl':
        return GPU.isWebGLSupported;
      case 'webasm':
        return GPU.isWebAssemblySupported;
      case 'cpu':
        return true;
    }
  },
  hasSinglePrecision(mode) {
    if (mode === 'webgpu' || mode === 'webasm' || mode === 'cpu') {
      // WGSL storage buffers are raw f32; wasm and JS have no packed storage at all.
      return true;
    }
    try {
      // gpu.js's own test (GPU.isSinglePrecisionSupported), but for one mode only.
      const features = (GL_KERNELS[mode] as unknown as { features: FloatFeatures }).features;
      return features.isFloatRead === true && features.isTextureFloat === true;
    } catch {
      // `features` needs a context; no context means no single precision either.
      return false;
    }
  },
  isWebGPUAvailable: () => GPU.isWebGPUAvailable(),
};

/**
 * The outcome of {@link selectGpujsMode}.
 *
 * @example
 * ```ts
 * const { mode, skipped } = selectGpujsMode('auto', gpujsPlatform, undefined);
 * ```
 */
export interface ModeSelection {
  /** The mode the backend will run on. */
  readonly mode: GpujsMode;
  /** Why each better mode was passed over (empty for an explicit request). */
  readonly skipped: readonly string[];
}

function isMode(value: unknown): value is GpujsMode {
  return typeof value === 'string' && (GPUJS_MODES as readonly string[]).includes(value);
}

/** The reason `mode` cannot run float32 kernels here, or `undefined` when it can. */
function unusable(mode: GpujsMode, platform: GpujsPlatform, webgpuAvailable: boolean | undefined): string | undefined {
  if (!platform.isSupported(mode)) {
    return mode === 'webgpu'
      ? 'webgpu: no navigator.gpu (in Node, install the "webgpu" package and assign navigator.gpu)'
      : `${mode}: not supported on this platform`;
  }
  if (mode === 'webgpu' && webgpuAvailable === false) return 'webgpu: navigator.gpu exists but no adapter answered';
  if (!platform.hasSinglePrecision(mode)) {
    return `${mode}: offers only lossy 8-bit packed ('unsigned') precision, no float32 textures or float readback`;
  }
  return undefined;
}

/**
 * Picks the gpu.js mode for a request. `'auto'` takes the first usable mode of
 * {@link GPUJS_MODES}; `webgpu` is only considered when `webgpuAvailable` is `true`
 * (an adapter answered: see `createGpujsBackend`), because gpu.js's synchronous check
 * cannot prove an adapter exists. An explicit mode must be usable.
 *
 * @throws RectifyError `INVALID_OPTION` (parameter `mode`) for an unknown mode, a mode
 *   this platform lacks, or one that only offers lossy 8-bit packed precision.
 * @example
 * ```ts
 * selectGpujsMode('auto', gpujsPlatform, false).mode; // 'webasm' on a GL-less Node
 * ```
 */
export function selectGpujsMode(
  request: GpujsModeRequest,
  platform: GpujsPlatform,
  webgpuAvailable: boolean | undefined,
): ModeSelection {
  if (request === 'auto') {
    const skipped: string[] = [];
    for (const mode of GPUJS_MODES) {
      if (mode === 'webgpu' && webgpuAvailable !== true) {
        skipped.push(
          webgpuAvailable === false
            ? (unusable(mode, platform, false) ?? 'webgpu: no adapter')
            : 'webgpu: not probed (the synchronous factory cannot prove an adapter exists; use createGpujsBackend)',
        );
        continue;
      }
      const reason = unusable(mode, platform, webgpuAvailable);
      if (reason === undefined) return { mode, skipped };
      skipped.push(reason);
    }
    // cpu is always usable, so this is only reachable with an injected platform.
    throw new RectifyError('INVALID_OPTION', `No gpu.js mode can compute in float32 here: ${skipped.join('; ')}.`, 'mode');
  }
  if (!isMode(request)) {
    throw new RectifyError(
      'INVALID_OPTION',
      `Option "mode" must be "auto" or one of ${GPUJS_MODES.join(', ')}; got ${JSON.stringify(request)}.`,
      'mode',
    );
  }
  const reason = unusable(request, platform, webgpuAvailable);
  if (reason !== undefined) {
    throw new RectifyError('INVALID_OPTION', `Cannot run RAdam on gpu.js mode "${request}": ${reason}.`, 'mode');
  }
  return { mode: request, skipped: [] };
}

/**
 * The modes usable here, best first (synchronous: `webgpu` is listed when `navigator.gpu`
 * exists, whether or not an adapter answers).
 *
 * @example
 * ```ts
 * availableGpujsModes(); // ['webasm', 'cpu'] in Node without headless-gl or webgpu
 * ```
 */
export function availableGpujsModes(platform: GpujsPlatform = gpujsPlatform): GpujsMode[] {
  return GPUJS_MODES.filter((mode) => unusable(mode, platform, undefined) === undefined);
}
