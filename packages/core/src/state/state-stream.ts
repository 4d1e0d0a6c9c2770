import type { DType, HostArray } from '../backend.js';
import type { MaybePromise } from '../maybe-async.js';
import type { RAdamStateMeta } from './state-dict.js';

/** Which array of a parameter's state a tensor is. */
export type StateTensorRole = 'firstMoment' | 'secondMoment' | 'param';

/** Every {@link StateTensorRole}, in the order a state lists a parameter's tensors. */
export const STATE_TENSOR_ROLES: readonly StateTensorRole[] = Object.freeze(['firstMoment', 'secondMoment', 'param']);

/** One array of an optimizer's state, announced before its data. */
export interface StateTensorInfo {
  /** The parameter's dotted name. */
  readonly name: string;
  readonly role: StateTensorRole;
  /** Element type of the data. */
  readonly dtype: DType;
  /** The parameter's shape. */
  readonly shape: readonly number[];
}

/**
 * How many elements a streamed state moves at a time (4 MiB of float32) where the backend
 * reads and writes ranges (`TensorBackend.readInto`, `TensorBackend.writeRange`):
 * saving and loading a checkpoint then need this much host memory, whatever the size of
 * the model and of its largest tensor.
 */
export const STATE_CHUNK_ELEMENTS = 1 << 20;

/** Options of `RAdam.writeStateTo` and `RAdam.loadStateFrom`. */
export interface StateStreamOptions {
  /**
   * The most elements one piece holds (default {@link STATE_CHUNK_ELEMENTS}): the host
   * memory the stream needs. A positive integer.
   */
  readonly chunkElements?: number;
}

/**
 * Where `RAdam.writeStateTo` streams the state, in order: a checkpoint file, a network
 * upload, a collector. The optimizer hands over each tensor in pieces of a fixed size
 * through one reused buffer, so the stream needs the memory of one piece, not of a tensor.
 */
export interface StateSink {
  /** Called first, once: the metadata and every tensor that follows, in order (a container writes its header from these). */
  begin(meta: RAdamStateMeta, tensors: readonly StateTensorInfo[]): MaybePromise<void>;
  /**
   * Called for every announced tensor, in order, one or more times: consecutive pieces of
   * its elements that together cover it, `offset` the index of `data[0]` in the tensor.
   * `data` (in the tensor's dtype) is the sink's only until this call returns or its
   * promise settles: the optimizer then reuses the buffer, so copy what you keep.
   */
  tensor(info: StateTensorInfo, data: HostArray, offset: number): MaybePromise<void>;
}

/**
 * Where `RAdam.loadStateFrom` reads a state from, in pieces. Core validates everything
 * before it writes anything, in two passes: it reads every tensor once to check it, then
 * once more to write it, piece by piece where the backend writes ranges, so no whole
 * tensor need be in host memory. A source must return the same data both times (a file
 * read through one open handle does).
 */
export interface StateSource {
  /** The metadata, as {@link StateSink.begin} received it (validated by core). */
  readonly meta: unknown;
  /** Every tensor the source holds (validated by core against the optimizer). */
  readonly tensors: readonly StateTensorInfo[];
  /**
   * Elements `begin … end` (end excluded, row-major) of one of {@link StateSource.tensors},
   * `end - begin` of them. The optimizer reads them before the call's next one and keeps
   * nothing, so a source may reuse one buffer.
   */
  read(info: StateTensorInfo, begin: number, end: number): MaybePromise<HostArray>;
}
