/**
 * `@rectify/backend-onnx-web`: Rectify's RAdam on ONNX Runtime Web (`onnxruntime-web`,
 * wasm execution provider), in browsers, workers and Node.
 *
 * - {@link onnxWebBackend}: a `TensorBackend` that runs `@rectify/backend-onnx`'s graphs
 *   (fused update, global-norm sum of squares, finiteness check) in onnxruntime-web.
 *
 * @packageDocumentation
 */
export { onnxWebBackend, type OnnxWebBackend, type OnnxWebBackendOptions } from './onnx-web-backend.js';
export { OnnxTensor, liveOnnxSessions } from '@rectify/backend-onnx/runtime';
