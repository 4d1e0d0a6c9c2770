/// <reference types="@webgpu/types" />
import { RectifyError } from '@rectify/core';

/**
 * Where the WebGPU backend gets its device: all optional, the first given wins
 * (`device`, then `adapter`, then `gpu`, then `navigator.gpu`).
 *
 * @example
 * ```ts
 * // Node: Dawn from the `webgpu` package
 * import { create, globals } from 'webgpu';
 * Object.assign(globalThis, globals);
 * const backend = await createWebGpuBackend({ gpu: create([]) });
 * ```
 */
export interface WebGpuSource {
  /** The `navigator.gpu` to ask (default: `globalThis.navigator.gpu`). */
  readonly gpu?: GPU;
  /** An adapter to create the device from (the backend then owns and destroys the device). */
  readonly adapter?: GPUAdapter;
  /**
   * A device to use as it is (shared with another library, e.g. tfjs-webgpu's). The
   * backend never destroys it; its limits are the device's own.
   */
  readonly device?: GPUDevice;
  /** Passed to `requestAdapter` when the backend asks for one. */
  readonly powerPreference?: GPUPowerPreference;
}

/** The device the backend runs on, and whether the backend created it. */
export interface AcquiredDevice {
  readonly device: GPUDevice;
  readonly owned: boolean;
  /** `vendor architecture (description)` where the adapter says, else `''`. */
  readonly adapterName: string;
}

const HOW_TO_GET_WEBGPU =
  'In Chromium, WebGPU needs a secure context (https or localhost); where it is off (Linux, software GPUs, headless) start the browser with ' +
  '--enable-unsafe-webgpu (add --enable-features=Vulkan --use-angle=swiftshader without a GPU). ' +
  'In Node, install the `webgpu` package (Dawn, 0.6.x: `npm i webgpu`) and pass its GPU: ' +
  "createWebGpuBackend({ gpu: (await import('webgpu')).create([]) }).";

/** The limits the kernels use, raised to the adapter's maxima when the backend creates the device. */
const WANTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
] as const;

function describeAdapter(adapter: GPUAdapter): string {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  return info === undefined ? '' : `${info.vendor} ${info.architecture} (${info.description})`.trim();
}

/**
 * Resolves a {@link WebGpuSource} to a device.
 *
 * @throws RectifyError `INVALID_OPTION` naming `gpu` (no WebGPU: what to install or which
 *   flag to pass), `adapter` (none answered) or `device` (the device request failed).
 * @example
 * ```ts
 * const { device, owned } = await acquireDevice({ gpu: navigator.gpu });
 * ```
 */
export async function acquireDevice(source: WebGpuSource): Promise<AcquiredDevice> {
  if (source.device !== undefined) {
    if (typeof source.device?.createBuffer !== 'function') {
      throw new RectifyError('INVALID_OPTION', 'Option "device" must be a GPUDevice.', 'device');
    }
    return { device: source.device, owned: false, adapterName: '' };
  }
  let adapter = source.adapter ?? null;
  if (adapter === null) {
    const gpu = source.gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (gpu === undefined || gpu === null) {
      throw new RectifyError('INVALID_OPTION', `WebGPU is not available here: navigator.gpu is missing. ${HOW_TO_GET_WEBGPU}`, 'gpu');
    }
    if (typeof gpu.requestAdapter !== 'function') {
      throw new RectifyError('INVALID_OPTION', 'Option "gpu" must be a GPU (navigator.gpu).', 'gpu');
    }
    try {
      adapter = await gpu.requestAdapter(source.powerPreference === undefined ? undefined : { powerPreference: source.powerPreference });
    } catch (error) {
      throw new RectifyError('INVALID_OPTION', `requestAdapter() failed: ${String(error)}. ${HOW_TO_GET_WEBGPU}`, 'adapter', { cause: error });
    }
    if (adapter === null) {
      throw new RectifyError(
        'INVALID_OPTION',
        'navigator.gpu exists but no WebGPU adapter answered (the GPU is blocklisted or there is no driver). ' +
          'In Chromium try --enable-unsafe-webgpu --ignore-gpu-blocklist (software: --use-angle=swiftshader --enable-features=Vulkan); ' +
          'in Node without a GPU, install a Vulkan driver and loader (Debian: apt-get install libvulkan1 chromium for SwiftShader, or mesa-vulkan-drivers).',
        'adapter',
      );
    }
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const value = adapter.limits[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits });
  } catch (error) {
    throw new RectifyError('INVALID_OPTION', `The WebGPU adapter refused a device: ${String(error)}`, 'device', { cause: error });
  }
  return { device, owned: true, adapterName: describeAdapter(adapter) };
}
