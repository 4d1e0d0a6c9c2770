/**
 * `@rectify/core`: the RAdam algorithm once, over any {@link TensorBackend}.
 *
 * @packageDocumentation
 */
export type {
  BackendResult,
  DType,
  HostArray,
  RAdamBatch,
  RAdamScalars,
  RAdamSlot,
  SyncTensorBackend,
  TensorBackend,
  TensorOf,
} from './backend.js';
export { RectifyError, isRectifyError, type RectifyErrorCode } from './errors.js';
export {
  allFinite,
  fusedRAdamUpdate,
  sumOfSquares,
  type FloatArray,
  type FusedUpdateOutputs,
} from './kernels/typed-array-kernels.js';
export { isPromiseLike, runMaybeAsync, type MaybeAsyncTask, type MaybePromise } from './maybe-async.js';
export {
  DEFAULT_GROUP_OPTIONS,
  DEFAULT_NON_FINITE,
  resolveGroupOptions,
  type Compat,
  type GroupOptions,
  type LearningRate,
  type NonFinitePolicy,
  type RAdamOptions,
  type ResolvedGroupOptions,
  type SerializedGroupOptions,
} from './options.js';
export { checkedSizeOf, flattenTensorTree, sizeOf, type TensorTree } from './params.js';
export type { HostValues, HostWeight, HostWeightTree, ResidentLeaf, ResidentTree, ResidentWeights } from './resident-weights.js';
export { RAdam, type ParamState, type StateDictOptions, type StepReport } from './radam.js';
export * from './schedulers/index.js';
export { decodeArray, encodeArray, type EncodedArray } from './state/encoding.js';
export { toBinaryStateDict, toJsonStateDict } from './state/convert.js';
export {
  STATE_DICT_FORMAT,
  STATE_DICT_VERSION,
  type AnyRAdamStateDict,
  type GroupStateEntry,
  type ParamStateEntry,
  type RAdamBinaryStateDict,
  type RAdamStateDict,
  type RAdamStateMeta,
} from './state/state-dict.js';
export { STATE_CHUNK_ELEMENTS, type StateSink, type StateSource, type StateStreamOptions, type StateTensorInfo, type StateTensorRole } from './state/state-stream.js';
export { MAX_INPUT_DEPTH } from './input-copy.js';
// Checkpoint containers (safetensors) carry no I/O: usable anywhere, e.g. to upload a state.
export * from './checkpoint/index.js';
export { globalNormClipFactor } from './transforms/clip-by-global-norm.js';
export { RADAM_STAGES, planRAdamStep } from './transforms/plan.js';
export { rectification, type Rectification } from './transforms/rectification.js';
export { IDENTITY_SCALARS, type ScalarStage, type StageContext } from './transforms/stage.js';
