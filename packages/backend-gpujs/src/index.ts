/**
 * `@rectify/backend-gpujs`: Rectify's RAdam as gpu.js kernels (WebGPU, WebGL, headless
 * GL, WebAssembly or plain JavaScript).
 *
 * @example
 * ```ts
 * import { RAdam } from '@rectify/core';
 * import { createGpujsBackend } from '@rectify/backend-gpujs';
 *
 * const backend = await createGpujsBackend(); // picks the best float32 mode
 * const opt = new RAdam(backend, { lr: 1e-3 });
 * opt.registerTrainableWeights({ w: backend.fromArray(new Float32Array(1024), [32, 32]) });
 * ```
 *
 * @packageDocumentation
 */
export {
  WEBASM_THREAD_MIN_SIZE,
  createGpujsBackend,
  gpujsBackend,
  type GpujsBackend,
  type GpujsBackendOptions,
} from './backend.js';
export { REDUCTION_WIDTH } from './kernel-cache.js';
export {
  GPUJS_MODES,
  availableGpujsModes,
  gpujsPlatform,
  selectGpujsMode,
  type GpujsMode,
  type GpujsModeRequest,
  type GpujsPlatform,
  type ModeSelection,
  type WebGPUDeviceInfo,
  type WebGPUProbe,
} from './modes.js';
export type { GpujsBackendStats } from './stats.js';
export { GpuTensor, type TensorLocation } from './tensor.js';
