/**
 * `@rectify/core/browser`: checkpoints in the Origin Private File System, with the API
 * and the file formats of `@rectify/core/node` (safetensors or JSON, told apart by
 * content), atomic ("old or new, never torn") and ordered across tabs and workers.
 *
 * @packageDocumentation
 */
export {
  loadCheckpoint,
  readCheckpoint,
  saveCheckpoint,
  type BrowserCheckpointOptions,
  type CheckpointDirectory,
  type CheckpointFileHandle,
  type CheckpointFileSnapshot,
  type CheckpointWritable,
} from './checkpoint.js';
export * from '../checkpoint/index.js';
