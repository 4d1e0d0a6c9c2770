/**
 * `@rectify/backend-onnx/graph`: RAdam's step and the backend's reductions as ONNX models
 * (bytes of a `ModelProto`), built in plain JavaScript. Imports no ONNX Runtime and no
 * `node:` module, so it loads in browsers, workers and bundlers as well as in Node.
 *
 * @example
 * ```ts
 * import { buildRAdamStepModel } from '@rectify/backend-onnx/graph';
 * const model: Uint8Array = buildRAdamStepModel({ weightDecay: 1e-2 });
 * ```
 *
 * @packageDocumentation
 */
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
