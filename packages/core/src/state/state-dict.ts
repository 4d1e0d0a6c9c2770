import type { DType, HostArray } from '../backend.js';
import type { NonFinitePolicy, SerializedGroupOptions } from '../options.js';
import type { SchedulerState } from '../schedulers/scheduler.js';
import type { EncodedArray } from './encoding.js';

/** Identifies a Rectify RAdam state dict. */
export const STATE_DICT_FORMAT = 'rectify.radam';
/** The format version this release writes and reads. */
export const STATE_DICT_VERSION = 1;

/**
 * One parameter's optimizer state. `A` is how its arrays are held: {@link EncodedArray}
 * (base64 in JSON) in a {@link RAdamStateDict}, typed arrays in a
 * {@link RAdamBinaryStateDict}.
 */
export interface ParamStateEntry<A = EncodedArray> {
  /** The parameter's dimensions when saved. Loading checks the element count. */
  readonly shape: readonly number[];
  /** How many updates this parameter has had. */
  readonly step: number;
  /** First moment `m`. */
  readonly firstMoment: A;
  /** Second moment `v`. */
  readonly secondMoment: A;
  /** The parameter's own values, when saved with `includeParams`; loading then restores them. */
  readonly param?: A;
}

/** One parameter group: its option overrides and its parameters, in registration order. */
export interface GroupStateEntry {
  readonly overrides: SerializedGroupOptions;
  readonly params: readonly string[];
  /** Progress of the group's own scheduler, when its `lr` override is one. */
  readonly schedulerState?: SchedulerState;
}

/**
 * Everything needed to resume training: JSON-serialisable, versioned, and portable
 * between backends (moments are stored as base64 typed data, not number lists).
 * `RAdamStateDict<HostArray>` ({@link RAdamBinaryStateDict}) holds the same content with
 * typed arrays instead.
 */
export interface RAdamStateDict<A = EncodedArray> {
  readonly format: typeof STATE_DICT_FORMAT;
  readonly version: number;
  /** The backend that wrote it (informational: any backend can load it). */
  readonly backend: string;
  /** The element type of the stored moments. */
  readonly dtype: DType;
  /** Optimizer options (the default group's), with a scheduler `lr` as its spec. */
  readonly options: SerializedGroupOptions & { readonly nonFinite: NonFinitePolicy };
  /** Progress of the optimizer-level scheduler, when `options.lr` is one. */
  readonly schedulerState?: SchedulerState;
  readonly stepCount: number;
  readonly skippedSteps: number;
  /** Group 0 is the default group (`registerTrainableWeights`); later ones come from `addParamGroup`. */
  readonly groups: readonly GroupStateEntry[];
  /** Per-parameter state by dotted name. */
  readonly params: Readonly<Record<string, ParamStateEntry<A>>>;
}

/**
 * The binary form of a state dict: the same content as {@link RAdamStateDict}, with every
 * array a `Float32Array` / `Float64Array`. No string size limit applies, and it can be
 * structured-cloned (to a worker, into IndexedDB) with its buffers transferred.
 */
export type RAdamBinaryStateDict = RAdamStateDict<HostArray>;

/** A state dict of either form: what `loadStateDict` accepts. */
export type AnyRAdamStateDict = RAdamStateDict | RAdamBinaryStateDict;

/**
 * Everything of a state dict but its arrays: small JSON that a checkpoint container
 * writes as its header. `params` gives each parameter's shape and step.
 */
export type RAdamStateMeta = Omit<RAdamStateDict, 'params'> & {
  readonly params: Readonly<Record<string, { readonly shape: readonly number[]; readonly step: number }>>;
};
