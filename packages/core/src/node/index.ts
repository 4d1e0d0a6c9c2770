/**
 * `@rectify/core/node`: helpers that need Node.js (the file system). The main entry point
 * stays free of Node built-ins so it runs in browsers too.
 *
 * @packageDocumentation
 */
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  loadCheckpoint,
  readCheckpoint,
  saveCheckpoint,
  writeFileAtomic,
  type Checkpoint,
} from './checkpoint.js';
