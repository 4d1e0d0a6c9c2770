import { createWebGpuBackend } from '@rectify/backend-webgpu';
import { loadNodeWebGpu } from '@rectify/conformance/node-webgpu';
import type { BackendEntry } from './backend-entry.js';

/** A `webgpu` backend on Dawn (this registry runs in Node): SwiftShader where there is no GPU. */
async function createOnDawn(): ReturnType<typeof createWebGpuBackend> {
  const dawn = await loadNodeWebGpu();
  if (dawn.unavailable !== undefined) throw new Error(dawn.unavailable);
  return createWebGpuBackend({ gpu: dawn.gpu });
}

/** Rectify's own WebGPU backend: hand-written WGSL, one dispatch per step. */
export const webgpuEntries: readonly BackendEntry[] = [
  {
    name: 'webgpu',
    description: 'hand-written WGSL, one dispatch updates every tensor (WebGPU; Dawn in Node)',
    requiresGpu: true,
    unavailableReason: async () => {
      try {
        (await createOnDawn()).dispose();
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
    create: createOnDawn,
  },
];
