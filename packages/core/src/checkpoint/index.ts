/**
 * Checkpoint containers without any I/O, shared by `@rectify/core/node` and
 * `@rectify/core/browser`: the safetensors format and a Rectify state as a safetensors file.
 *
 * @packageDocumentation
 */
export {
  isSafetensorsPath,
  type Checkpoint,
  type CheckpointInfo,
  type JsonCheckpointInfo,
  type SafetensorsCheckpointInfo,
  type SaveCheckpointOptions,
} from './checkpoint-file.js';
export {
  SAFETENSORS_MAX_HEADER_BYTES,
  SAFETENSORS_METADATA_KEY,
  encodeSafetensorsHeader,
  looksLikeSafetensors,
  parseSafetensorsHeader,
  readSafetensorsHeaderLength,
  safetensorsDtypeBytes,
  type SafetensorsHeader,
  type SafetensorsTensor,
  type SafetensorsTensorSpec,
} from './safetensors.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_METADATA_KEYS,
  CHECKPOINT_VERSION,
  ROLE_SUFFIXES,
  parseStateTensorKey,
  readCheckpointHeader,
  safetensorsStateSink,
  safetensorsStateSource,
  stateTensorKey,
  type ByteOutput,
  type CheckpointTensorInfo,
  type SafetensorsCheckpointHeader,
  type SafetensorsStateSink,
} from './state-file.js';
