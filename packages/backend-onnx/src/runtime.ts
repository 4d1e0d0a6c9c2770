/**
 * `@rectify/backend-onnx/runtime`: the ONNX backend over an ONNX Runtime module the caller
 * passes in ({@link createOnnxBackend}). Imports no ONNX Runtime and no `node:` module:
 * `@rectify/backend-onnx-web` runs it over `onnxruntime-web`, `onnxBackend()` (the package
 * root) over `onnxruntime-node`.
 *
 * @example
 * ```ts
 * import * as ort from 'onnxruntime-web';
 * import { createOnnxBackend } from '@rectify/backend-onnx/runtime';
 * const backend = createOnnxBackend(ort, { sessionOptions: { executionProviders: ['wasm'] }, outputsInPlace: false });
 * ```
 *
 * @packageDocumentation
 */
export { createOnnxBackend, type OnnxBackend, type OnnxRuntimeBackendOptions } from './runtime-backend.js';
export type { OrtRuntime, OrtSessionOptions } from './ort-runtime.js';
export { OnnxTensor } from './onnx-tensor.js';
export { invalidOption, threadCount } from './option-checks.js';
export { liveOnnxSessions } from './sessions.js';
