/**
 * `@rectify/core/node`: helpers that need Node.js (the file system). The main entry point
 * stays free of Node built-ins so it runs in browsers too.
 *
 * @packageDocumentation
 */
export { writeFileAtomic } from './atomic-file.js';
export { loadCheckpoint, readCheckpoint, saveCheckpoint } from './checkpoint.js';
export * from '../checkpoint/index.js';
