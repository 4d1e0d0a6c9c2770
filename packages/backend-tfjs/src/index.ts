/**
 * `@rectify/backend-tfjs`: Rectify's RAdam for TensorFlow.js, as a core `TensorBackend`
 * ({@link tfjsBackend}) and as a drop-in `tf.Optimizer` ({@link RAdamOptimizer}).
 *
 * @packageDocumentation
 */
export {
  readsSynchronously,
  tfjsBackend,
  type AsyncTfjsBackend,
  type SyncTfjsBackend,
  type TfjsBackend,
  type TfjsBackendOptions,
} from './tfjs-backend.js';
export { RAdamOptimizer, type RAdamOptimizerOptions } from './radam-optimizer.js';
export type { NamedTensor } from './optimizer-weights.js';
export { schedulerCallback, type SchedulerCallbackOptions } from './scheduler-callback.js';
