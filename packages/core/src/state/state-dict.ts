import type { DType } from '../backend.js';
import type { NonFinitePolicy, SerializedGroupOptions } from '../options.js';
import type { SchedulerState } from '../schedulers/scheduler.js';
import type { EncodedArray } from './encoding.js';

/** Identifies a Rectify RAdam state dict. */
export const STATE_DICT_FORMAT = 'rectify.radam';
/** The format version this release writes and reads. */
export const STATE_DICT_VERSION = 1;

/** One parameter's optimizer state. */
export interface ParamStateEntry {
  /** The parameter's dimensions when saved. Loading checks the element count. */
  readonly shape: readonly number[];
  /** How many updates this parameter has had. */
  readonly step: number;
  /** First moment `m`. */
  readonly firstMoment: EncodedArray;
  /** Second moment `v`. */
  readonly secondMoment: EncodedArray;
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
 */
export interface RAdamStateDict {
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
  readonly params: Readonly<Record<string, ParamStateEntry>>;
}
