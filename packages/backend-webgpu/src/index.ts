/**
 * `@rectify/backend-webgpu`: Rectify's RAdam as hand-written WGSL compute shaders. Every
 * tensor lives in a few large device buffers, and one step's fused update is one dispatch
 * over every tensor. The same code runs in browsers (`navigator.gpu`) and in Node (Dawn,
 * the `webgpu` package).
 *
 * @example
 * ```ts
 * import { RAdam } from '@rectify/core';
 * import { createWebGpuBackend } from '@rectify/backend-webgpu';
 *
 * const backend = await createWebGpuBackend(); // navigator.gpu, or { gpu } / { adapter } / { device }
 * const opt = new RAdam(backend, { lr: 1e-3 });
 * opt.registerTrainableWeights({ w: backend.fromArray(new Float32Array(1024), [32, 32]) });
 * ```
 *
 * @packageDocumentation
 */
export {
  WebGpuUpdateFailure,
  createWebGpuBackend,
  type EncodeTarget,
  type WebGpuBackend,
  type WebGpuBackendOptions,
  type WebGpuBackendStats,
  type ResourceKind,
} from './backend.js';
export type { WebGpuSource } from './device.js';
export { WebGpuTensor } from './tensor.js';
