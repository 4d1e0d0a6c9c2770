import { RectifyError } from '@rectify/core';
import * as gpujs from 'gpu.js';
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
 * What a WebGPU probe found: the adapter gpu.js's shared device runs on.
 *
 * @example
 * ```ts
 * const info = await gpujsPlatform.probeWebGPU();
 * if (info !== undefined) console.log(info.adapter, info.isSoftware, info.maxBufferBytes);
 * ```
 */
export interface WebGPUDeviceInfo {
  /** `vendor architecture (description)`, e.g. `google swiftshader (SwiftShader driver 5.0.0)`. */
  readonly adapter: string;
  /** A fallback / software adapter (SwiftShader, llvmpipe, lavapipe, WARP): slower than `webasm`. */
  readonly isSoftware: boolean;
  /** The largest storage buffer the device binds: `min(maxStorageBufferBindingSize, maxBufferSize)`. */
  readonly maxBufferBytes: number;
}

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
  /**
   * The software renderer a GL mode draws with (Mesa's llvmpipe, SwiftShader), or
   * `undefined` for a hardware GPU or when the platform does not say. `'auto'` passes
   * over a software GL mode: `webasm` runs the same kernels 3–9× faster.
   */
  softwareRenderer(mode: 'headlessgl' | 'webgl2' | 'webgl'): string | undefined;
  /**
   * Requests the adapter and device gpu.js's WebGPU kernels will share (the
   * authoritative, asynchronous check): what it is, or `undefined` when none answers.
   */
  probeWebGPU(): Promise<WebGPUDeviceInfo | undefined>;
}

/** The GL kernel classes whose float support gpu.js reports through `features`. */
const GL_KERNELS = { headlessgl: HeadlessGLKernel, webgl2: WebGL2Kernel, webgl: WebGLKernel } as const;

interface FloatFeatures {
  readonly isFloatRead?: boolean;
  readonly isTextureFloat?: boolean;
}

/** Renderer names of software rasterizers, as GL and WebGPU report them. */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|lavapipe|swrast|software|basic render|warp/i;

/** The slice of a WebGL context that names its renderer. */
interface RendererQuery {
  readonly RENDERER: number;
  getParameter(name: number): unknown;
  getExtension(name: string): { readonly UNMASKED_RENDERER_WEBGL: number } | null;
}

function glSoftwareRenderer(mode: 'headlessgl' | 'webgl2' | 'webgl'): string | undefined {
  try {
    if (mode === 'headlessgl') return headlessSoftwareDriver();
    const context = (GL_KERNELS[mode] as unknown as { testContext: RendererQuery | null }).testContext;
    if (context === null) return undefined;
    // Browsers mask RENDERER; the debug extension (where offered) names the real device.
    const debug = context.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(context.getParameter(debug?.UNMASKED_RENDERER_WEBGL ?? context.RENDERER));
    return SOFTWARE_RENDERER.test(renderer) ? renderer : undefined;
  } catch {
    return undefined;
  }
}

/**
 * headless-gl reports its renderer as plain "ANGLE", whatever draws underneath; the GL
 * driver it loaded says it. Mesa loads its software rasterizer (llvmpipe, softpipe) as
 * `swrast_dri.so` / `kms_swrast_dri.so`, which is what an X server without a GPU (Xvfb)
 * offers. Linux only: elsewhere `undefined` (not known to be software).
 */
function headlessSoftwareDriver(): string | undefined {
  // No static `node:fs` import: this module is bundled for browsers too. (Node < 20.16 has
  // no getBuiltinModule: no answer, rather than a wrong one.)
  if (typeof process === 'undefined' || process.platform !== 'linux' || typeof process.getBuiltinModule !== 'function') {
    return undefined;
  }
  if (!HeadlessGLKernel.isSupported) return undefined;
  const maps = process.getBuiltinModule('node:fs').readFileSync('/proc/self/maps', 'utf8');
  const driver = /\/((?:kms_)?swrast_dri\.so)\b/.exec(maps);
  return driver === null ? undefined : `Mesa software rasterizer (${driver[1]})`;
}

interface AdapterLike {
  readonly info?: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean };
  readonly isFallbackAdapter?: boolean;
}

interface DeviceLike {
  readonly limits: { readonly maxStorageBufferBindingSize: number; readonly maxBufferSize: number };
}

/** gpu.js's shared WebGPU device (exported by gpu.js, not in its typings). */
const WebGPUContext = (gpujs as unknown as {
  WebGPUContext: { acquire(): Promise<{ adapter: AdapterLike; device: DeviceLike }> };
}).WebGPUContext;

async function probeWebGPU(): Promise<WebGPUDeviceInfo | undefined> {
  if (!GPU.isWebGPUSupported) return undefined;
  let context: { adapter: AdapterLike; device: DeviceLike };
  try {
    context = await WebGPUContext.acquire();
  } catch {
    return undefined;
  }
  const { adapter, device } = context;
  const info = adapter.info ?? {};
  const name = `${info.vendor ?? ''} ${info.architecture ?? ''} (${info.description || info.device || 'no description'})`.trim();
  const isFallback = info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
  return {
    adapter: name,
    isSoftware: isFallback || SOFTWARE_RENDERER.test(name),
    maxBufferBytes: Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize),
  };
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
  softwareRenderer: glSoftwareRenderer,
  probeWebGPU,
};

/**
 * What {@link selectGpujsMode} knows about WebGPU: the probed device, `null` when a probe
 * found no adapter, `undefined` when nothing was probed (the synchronous factory).
 *
 * @example
 * ```ts
 * const webgpu: WebGPUProbe = await gpujsPlatform.probeWebGPU().then((info) => info ?? null);
 * ```
 */
export type WebGPUProbe = WebGPUDeviceInfo | null | undefined;

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
  /** The probed WebGPU device when `mode` is `webgpu` and a probe ran. */
  readonly webgpu?: WebGPUDeviceInfo | undefined;
}

function isMode(value: unknown): value is GpujsMode {
  return typeof value === 'string' && (GPUJS_MODES as readonly string[]).includes(value);
}

/** The reason `mode` cannot run float32 kernels here, or `undefined` when it can. */
function unusable(mode: GpujsMode, platform: GpujsPlatform, webgpu: WebGPUProbe): string | undefined {
  if (!platform.isSupported(mode)) {
    return mode === 'webgpu'
      ? "webgpu: no navigator.gpu (in Node: assign the `webgpu` package's create([]) to navigator.gpu, see the README)"
      : `${mode}: not supported on this platform`;
  }
  if (mode === 'webgpu' && webgpu === null) return 'webgpu: navigator.gpu exists but no adapter answered';
  if (!platform.hasSinglePrecision(mode)) {
    return `${mode}: offers only lossy 8-bit packed ('unsigned') precision, no float32 textures or float readback`;
  }
  return undefined;
}

/**
 * `'auto'`'s reason to pass over a usable mode that runs on a software renderer, or
 * `undefined` for a hardware GPU (or one not known to be software), webasm and cpu.
 */
function software(mode: GpujsMode, platform: GpujsPlatform, webgpu: WebGPUProbe): string | undefined {
  let renderer: string | undefined;
  if (mode === 'webgpu') renderer = webgpu?.isSoftware === true ? `adapter ${webgpu.adapter}` : undefined;
  else if (mode !== 'webasm' && mode !== 'cpu') {
    const name = platform.softwareRenderer(mode);
    renderer = name === undefined ? undefined : `renderer ${name}`;
  }
  return renderer === undefined ? undefined : `${mode}: software ${renderer}; webasm runs the same kernels faster`;
}

/**
 * Picks the gpu.js mode for a request. `'auto'` takes the first usable mode of
 * {@link GPUJS_MODES} that runs on a real GPU, else `webasm` (else `cpu`): it passes over
 * software renderers (a fallback WebGPU adapter, llvmpipe, SwiftShader), on which `webasm`
 * runs the same kernels several times faster. `webgpu` is only considered when `webgpu`
 * holds a probed device (see `createGpujsBackend`), because gpu.js's synchronous check
 * cannot prove an adapter exists. An explicit mode must be usable; a software renderer is
 * accepted there (that is how CI tests the GPU code paths).
 *
 * @throws RectifyError `INVALID_OPTION` (parameter `mode`) for an unknown mode, a mode
 *   this platform lacks, or one that only offers lossy 8-bit packed precision.
 * @example
 * ```ts
 * selectGpujsMode('auto', gpujsPlatform, null).mode; // 'webasm' on a GPU-less Node
 * ```
 */
export function selectGpujsMode(request: GpujsModeRequest, platform: GpujsPlatform, webgpu: WebGPUProbe): ModeSelection {
  if (request === 'auto') {
    const skipped: string[] = [];
    for (const mode of GPUJS_MODES) {
      if (mode === 'webgpu' && webgpu === undefined) {
        skipped.push('webgpu: not probed (the synchronous factory cannot prove an adapter exists; use createGpujsBackend)');
        continue;
      }
      const reason = unusable(mode, platform, webgpu) ?? software(mode, platform, webgpu);
      if (reason === undefined) return { mode, skipped, webgpu: mode === 'webgpu' ? webgpu ?? undefined : undefined };
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
  const reason = unusable(request, platform, webgpu);
  if (reason !== undefined) {
    throw new RectifyError('INVALID_OPTION', `Cannot run RAdam on gpu.js mode "${request}": ${reason}.`, 'mode');
  }
  return { mode: request, skipped: [], webgpu: request === 'webgpu' ? webgpu ?? undefined : undefined };
}

/**
 * The modes usable here, best first (synchronous: `webgpu` is listed when `navigator.gpu`
 * exists, whether or not an adapter answers; software renderers are listed too).
 *
 * @example
 * ```ts
 * availableGpujsModes(); // ['webasm', 'cpu'] in Node without headless-gl or webgpu
 * ```
 */
export function availableGpujsModes(platform: GpujsPlatform = gpujsPlatform): GpujsMode[] {
  return GPUJS_MODES.filter((mode) => unusable(mode, platform, undefined) === undefined);
}
