/// <reference types="@webgpu/types" />
import { loadNodeWebGpu } from '@rectify/conformance/node-webgpu';
import { createWebGpuBackend, type WebGpuBackend, type WebGpuBackendOptions } from '../../src/index.js';

/** Dawn in this process, or why it is not here. */
export const nodeWebGpu = await loadNodeWebGpu();

let shared: Promise<GPUDevice> | undefined;

/**
 * One device for every backend of a test file: the kernels compile once per device (on
 * SwiftShader that is most of a backend's start-up), and hundreds of conformance tests
 * do not each open a Vulkan device.
 */
export function sharedDevice(): Promise<GPUDevice> {
  if (nodeWebGpu.unavailable !== undefined) throw new Error(nodeWebGpu.unavailable);
  const { adapter } = nodeWebGpu;
  shared ??= adapter.requestDevice({
    requiredLimits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    },
  });
  return shared;
}

/** A backend on the shared device. */
export async function testBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  return createWebGpuBackend({ device: await sharedDevice(), ...options });
}
