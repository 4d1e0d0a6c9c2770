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
 *
 * @packageDocumentation
 */
export { onnxBackend, type OnnxBackend, type OnnxBackendOptions } from './onnx-backend.js';
export { OnnxTensor } from './onnx-tensor.js';
export { liveOnnxSessions } from './sessions.js';
export { exportRAdamStep } from './export.js';
export {
  PORTABLE_SCALAR_INPUTS,
  buildRAdamStepModel,
  type PortableModelOptions,
  type PortableStepOptions,
} from './portable-step-graph.js';
export {
  KERNEL_NON_FINITE_OUTPUT,
  KERNEL_SCALAR_INPUTS,
  STEP_OUTPUTS,
  STEP_TENSOR_INPUTS,
  buildRAdamKernelModel,
  kernelScalarValues,
  kernelStages,
  type KernelStages,
} from './step-graph.js';
export {
  NON_FINITE_OUTPUT,
  REDUCTION_INPUT,
  SUM_OF_SQUARES_OUTPUT,
  buildNonFiniteProbeModel,
  buildSumOfSquaresModel,
} from './reduction-graph.js';
export {
  GraphBuilder,
  IR_VERSION,
  OPSET_VERSION,
  type AttributeValue,
  type DeclaredShape,
  type OnnxElementType,
} from './graph-builder.js';
export { ONNX_SCHEMA_JSON, onnxMessage, type OnnxMessageName } from './onnx-schema.js';
