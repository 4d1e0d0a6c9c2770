import {
  GPUJS_MODES,
  createGpujsBackend,
  gpujsBackend,
  gpujsPlatform,
  selectGpujsMode,
  type GpujsMode,
} from '@rectify/backend-gpujs';
import { installNavigatorGpu } from '@rectify/conformance/node-webgpu';
import type { BackendEntry } from './backend-entry.js';

const DESCRIPTIONS: Record<GpujsMode, string> = {
  webgpu: 'gpu.js WGSL compute shaders (WebGPU)',
  headlessgl: 'gpu.js GLSL through headless-gl',
  webgl2: 'gpu.js GLSL fragment shaders (WebGL2)',
  webgl: 'gpu.js GLSL fragment shaders (WebGL)',
  webasm: 'gpu.js WebAssembly SIMD, threads for big tensors',
  cpu: 'gpu.js kernels transpiled to JavaScript',
};

/** In Node (not a browser page): the browser GL modes are run by the Chromium suite there. */
const inNode = typeof process !== 'undefined' && process.versions?.node !== undefined;

/** gpu.js's WebGPU mode reads `navigator.gpu`: Dawn's, in Node. */
async function createOnWebGpu(): ReturnType<typeof createGpujsBackend> {
  if (inNode) {
    const dawn = await installNavigatorGpu();
    if (dawn.unavailable !== undefined) throw new Error(dawn.unavailable);
  }
  return createGpujsBackend({ mode: 'webgpu' });
}

async function modeUnavailable(mode: GpujsMode): Promise<string | undefined> {
  if (mode === 'webgpu') {
    try {
      (await createOnWebGpu()).dispose();
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }
  if (inNode && (mode === 'webgl2' || mode === 'webgl')) return 'browser only: runs in the Chromium suite';
  try {
    selectGpujsMode(mode, gpujsPlatform, undefined);
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return mode === 'headlessgl'
      ? `${reason} (needs the optional native "gl" package built and an X server: see .ci/gpu-setup.sh)`
      : reason;
  }
}

/** The gpu.js backend: `gpujs` picks the best float32 mode; one entry per explicit mode. */
export const gpujsEntries: readonly BackendEntry[] = [
  {
    name: 'gpujs',
    description: 'gpu.js, best float32 mode available (a real GPU, else webasm)',
    requiresGpu: false,
    unavailableReason: async () => undefined,
    create: () => createGpujsBackend(),
  },
  ...GPUJS_MODES.map(
    (mode): BackendEntry => ({
      name: `gpujs-${mode}`,
      description: DESCRIPTIONS[mode],
      requiresGpu: mode !== 'webasm' && mode !== 'cpu',
      unavailableReason: () => modeUnavailable(mode),
      ...((mode === 'webgl2' || mode === 'webgl') && { browserOnly: true }),
      create: async () => (mode === 'webgpu' ? createOnWebGpu() : gpujsBackend({ mode })),
    }),
  ),
];
