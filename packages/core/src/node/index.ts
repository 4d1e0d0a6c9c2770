/**
 * `@rectify/core/node`: helpers that need Node.js (the file system). The main entry point
 * stays free of Node built-ins so it runs in browsers too.
 *
 * @packageDocumentation
 */
export { writeFileAtomic } from './atomic-file.js';
export {
  isSafetensorsPath,
  loadCheckpoint,
  readCheckpoint,
  saveCheckpoint,
  type Checkpoint,
  type CheckpointInfo,
  type JsonCheckpointInfo,
  type SafetensorsCheckpointInfo,
  type SaveCheckpointOptions,
} from './checkpoint.js';
export * from '../checkpoint/index.js';
