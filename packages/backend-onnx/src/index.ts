/**
 * `@rectify/backend-onnx`: Rectify's RAdam on ONNX Runtime, and RAdam's update step as a
 * portable ONNX graph.
 *
 * - {@link onnxBackend}: a `TensorBackend` that runs the fused update, the global-norm sum
 *   of squares and the finiteness check as ONNX graphs in `onnxruntime-node`.
 * - {@link exportRAdamStep} / {@link buildRAdamStepModel}: the complete step for given
 *   options as an `.onnx` file any ONNX Runtime can run.
 * - {@link buildRAdamKernelModel}: the option-free update graph driven by core's
 *   `RAdamScalars` (what the backend runs).
 * - {@link createOnnxBackend}: the same backend over any ONNX Runtime module you pass in.
 *
 * The graph builders alone are `@rectify/backend-onnx/graph`, the runtime-agnostic backend
 * `@rectify/backend-onnx/runtime`: neither imports `onnxruntime-node` or `node:fs`.
 *
 * @packageDocumentation
 */
export { onnxBackend, type OnnxBackendOptions } from './onnx-backend.js';
export { exportRAdamStep } from './export.js';
export * from './runtime.js';
export * from './graph.js';
