import {
  GPUJS_MODES,
  availableGpujsModes,
  createGpujsBackend,
  gpujsBackend,
  type GpujsMode,
} from '@rectify/backend-gpujs';
import type { BackendEntry } from './backend-entry.js';

const DESCRIPTIONS: Record<GpujsMode, string> = {
  webgpu: 'gpu.js WGSL compute shaders (WebGPU)',
  headlessgl: 'gpu.js GLSL through headless-gl',
  webgl2: 'gpu.js GLSL fragment shaders (WebGL2)',
  webgl: 'gpu.js GLSL fragment shaders (WebGL)',
  webasm: 'gpu.js WebAssembly SIMD, threads for big tensors',
  cpu: 'gpu.js kernels transpiled to JavaScript',
};

async function modeUnavailable(mode: GpujsMode): Promise<string | undefined> {
  if (mode === 'webgpu') {
    try {
      (await createGpujsBackend({ mode })).dispose();
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }
  return availableGpujsModes().includes(mode) ? undefined : `gpu.js mode "${mode}" is not available on this machine`;
}

/** The gpu.js backend: `gpujs` picks the best float32 mode; one entry per explicit mode. */
export const gpujsEntries: readonly BackendEntry[] = [
  {
    name: 'gpujs',
    description: 'gpu.js, best float32 mode available',
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
      create: async () => (mode === 'webgpu' ? createGpujsBackend({ mode }) : gpujsBackend({ mode })),
    }),
  ),
];
