import ort from 'onnxruntime-node';
import { invalidOption, threadCount } from './option-checks.js';
import type { OrtSessionOptions } from './ort-runtime.js';
import { createOnnxBackend, type OnnxBackend } from './runtime-backend.js';

/**
 * Options of {@link onnxBackend}.
 *
 * @example
 * ```ts
 * onnxBackend({ dtype: 'float32', intraOpNumThreads: os.availableParallelism() });
 * ```
 */
export interface OnnxBackendOptions {
  /**
   * Element type of parameters and moments: `'float32'` (default, name `onnx`) or
   * `'float64'` (name `onnx64`; ONNX Runtime's CPU kernels for every op used support double).
   */
  readonly dtype?: 'float32' | 'float64';
  /**
   * Threads ONNX Runtime splits each operator over. Default: ONNX Runtime's own default
   * (one per physical core).
   */
  readonly intraOpNumThreads?: number;
  /**
   * Elements per `session.run`: a tensor is updated in runs over consecutive chunks of this
   * many elements. Default `262144` (1 MiB of float32). Why chunk at all: ONNX Runtime runs a
   * graph one operator at a time, each a full pass over its inputs, so on a whole 10M-element
   * tensor every intermediate lives in RAM; over a chunk they stay in cache. And
   * onnxruntime-node copies every output back into a fresh JavaScript buffer after a run
   * (even a preallocated one), which is cheap for small buffers and page-faults for large
   * ones. Chunking changes nothing numerically for the update, which is element-wise.
   */
  readonly chunkSize?: number;
  /**
   * Let ONNX Runtime's worker threads busy-wait for the next operator (its
   * `session.intra_op.allow_spinning`). Default `false`: the backend alternates between
   * JavaScript and several sessions, each with its own thread pool, and threads spinning
   * in an idle pool steal cores from the one with work. Measured on 2 cores, a 10M-element
   * `RAdam.step` took 81 ms with spinning and 53–64 ms without (and 359 ms against 68 ms for
   * the update alone while other processes loaded the machine).
   */
  readonly allowSpinning?: boolean;
  /** Extra ONNX Runtime session options (execution providers stay `['cpu']`). */
  readonly sessionOptions?: OrtSessionOptions;
}

/**
 * A Rectify backend on ONNX Runtime (`onnxruntime-node`, CPU execution provider): the
 * shared ONNX backend ({@link createOnnxBackend}) over onnxruntime-node. The
 * RAdam update runs as an ONNX graph built from standard opset-17 operators (see
 * `buildRAdamKernelModel`): its inputs are the tensors and core's `RAdamScalars`, so one
 * session serves every option set and every step. Tensors are `OnnxTensor`s (typed
 * arrays plus cached `ort.Tensor` views); parameters and moments are updated in place, as
 * preallocated outputs of the graph that alias its inputs. `sumOfSquares` (global-norm
 * clipping) and `allFinite` (the `nonFinite` policy) run as small graphs too.
 *
 * `applyRAdam` runs every batch of a step as one exclusive task: it checks every tensor
 * (live, same element count) before the first run, and returns whether every parameter
 * and moment written is finite, from a flag the step graph computes in the same run.
 *
 * Asynchronous (`synchronous: false`): `RAdam.step()` returns a promise; gradients are
 * captured (copied) when it is called.
 *
 * @example
 * ```ts
 * import { RAdam } from '@rectify/core';
 * import { onnxBackend } from '@rectify/backend-onnx';
 *
 * const backend = onnxBackend({ intraOpNumThreads: 4 });
 * const w = backend.wrap(new Float32Array(1024));
 * const opt = new RAdam(backend, { lr: 1e-3, gradClipNorm: 1 });
 * opt.registerTrainableWeights({ w });
 * await opt.step({ w: backend.wrap(gradient) }); // w's Float32Array is updated in place
 * backend.dispose();
 * ```
 */
export function onnxBackend(options: { dtype: 'float64' } & OnnxBackendOptions): OnnxBackend<Float64Array>;
export function onnxBackend(options?: { dtype?: 'float32' } & OnnxBackendOptions): OnnxBackend<Float32Array>;
export function onnxBackend(options?: OnnxBackendOptions): OnnxBackend;
export function onnxBackend(options: OnnxBackendOptions = {}): OnnxBackend {
  const threads = threadCount('intraOpNumThreads', options.intraOpNumThreads, 'ONNX Runtime');
  if (options.allowSpinning !== undefined && typeof options.allowSpinning !== 'boolean') {
    throw invalidOption('allowSpinning', `must be true or false, got ${String(options.allowSpinning)}.`);
  }
  const sessionOptions: OrtSessionOptions = {
    ...options.sessionOptions,
    executionProviders: ['cpu'],
    ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
    extra: withSpinning(options.sessionOptions?.extra, options.allowSpinning ?? false),
  };
  // dtype and chunkSize are validated there, before anything is created.
  return createOnnxBackend(ort, { dtype: options.dtype, chunkSize: options.chunkSize, sessionOptions }) as OnnxBackend;
}

/**
 * `extra` with `session.intra_op.allow_spinning` set, keeping every other entry. Records
 * have null prototypes: ONNX Runtime's binding walks every enumerable key, inherited ones
 * included, so a property another library put on `Object.prototype` would reach it.
 */
function withSpinning(extra: Record<string, unknown> | undefined, allow: boolean): Record<string, unknown> {
  const session = (extra?.session ?? {}) as Record<string, unknown>;
  const intraOp = (session.intra_op ?? {}) as Record<string, unknown>;
  return ownRecord({ ...extra, session: ownRecord({ ...session, intra_op: ownRecord({ ...intraOp, allow_spinning: allow ? '1' : '0' }) }) });
}

/** The own entries of `entries` in a record with no prototype. */
function ownRecord(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.assign(Object.create(null) as Record<string, unknown>, entries);
}
