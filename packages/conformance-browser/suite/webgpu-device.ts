/**
 * The page's WebGPU for the suite's files: why there is none, or one device shared by
 * every backend a file creates.
 */
import { createWebGpuBackend, type WebGpuBackend } from '@rectify/backend-webgpu';
import { CHROMIUM } from '../test/chromium.js';
import { webGpuMissing } from '../page/backends.js';

/**
 * Why this run has no WebGPU, or `undefined` when `navigator.gpu` has an adapter. Not in a
 * page at all means the config found no Chromium and vitest runs the file in Node.
 */
export const webGpuUnavailable: string | undefined =
  typeof window === 'undefined' ? `not in a browser: ${CHROMIUM} is missing (apt-get install chromium)` : await webGpuMissing();

let shared: Promise<GPUDevice> | undefined;

/**
 * One device for every backend, as in Node (`backend-webgpu/test/helpers/node-webgpu.ts`):
 * the kernels compile once per device, most of a backend's start-up on SwiftShader.
 */
function sharedDevice(): Promise<GPUDevice> {
  shared ??= (async () => {
    const adapter = (await navigator.gpu.requestAdapter())!;
    return adapter.requestDevice({
      requiredLimits: {
        maxBufferSize: adapter.limits.maxBufferSize,
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      },
    });
  })();
  return shared;
}

/** A `webgpu` backend on the shared device. */
export async function pageWebGpuBackend(): Promise<WebGpuBackend> {
  return createWebGpuBackend({ device: await sharedDevice() });
}
