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
 * Where `RAdam.writeStateTo` streams the state, one tensor at a time: a checkpoint file,
 * a network upload, a collector. Only one tensor's host copy exists at a time.
 */
export interface StateSink {
  /** Called first, once: the metadata and every tensor that follows, in order (a container writes its header from these). */
  begin(meta: RAdamStateMeta, tensors: readonly StateTensorInfo[]): MaybePromise<void>;
  /** Called once per announced tensor, in order. `data` is the sink's to keep. */
  tensor(info: StateTensorInfo, data: HostArray): MaybePromise<void>;
}

/**
 * Where `RAdam.loadStateFrom` reads a state from, one tensor at a time. Core validates
 * everything before it writes anything, in two passes: it reads every tensor once to check
 * it, then once more to write it, so only one tensor's host copy exists at a time. A
 * source must return the same data both times (a file read through one open handle does).
 */
export interface StateSource {
  /** The metadata, as {@link StateSink.begin} received it (validated by core). */
  readonly meta: unknown;
  /** Every tensor the source holds (validated by core against the optimizer). */
  readonly tensors: readonly StateTensorInfo[];
  /** The elements of one of {@link StateSource.tensors}. */
  read(info: StateTensorInfo): MaybePromise<HostArray>;
}
