import type { MaybePromise } from './maybe-async.js';

/** Element type a backend stores parameters and moments in. */
export type DType = 'float32' | 'float64';

/** Host-side copy of a tensor's elements, row-major. */
export type HostArray = Float32Array | Float64Array;

/**
 * The four tensors of one parameter that a fused RAdam update reads and writes.
 * All four have the same element count; `param`, `firstMoment` and `secondMoment` are
 * updated in place, `grad` is only read (never modified: callers may reuse it).
 */
export interface RAdamSlot<T> {
  /** Parameter tensor, updated in place. */
  readonly param: T;
  /** Gradient of this step, read only. */
  readonly grad: T;
  /** First moment `m` (running mean of gradients), updated in place. */
  readonly firstMoment: T;
  /** Second moment `v` (running mean of squared gradients), updated in place. */
  readonly secondMoment: T;
}

/**
 * Every scalar of one RAdam step, computed once per step on the host in float64 by core
 * (see `planRAdamStep`). A backend applies them element by element, in this order, in a
 * single pass over `p, g, m, v`:
 *
 * ```text
 * g  = grad · gradScale                                 // maximize sign × global-norm clip factor
 * g  = min(max(g, −clipValue), clipValue)               // skip when clipValue is Infinity
 * g  = g + weightDecay · p                              // coupled L2 (weightDecay may be 0)
 * p  = p · paramScale                                   // decoupled decay (paramScale may be 1)
 * m  = beta1 · m + (1 − beta1) · g
 * v  = beta2 · v + (1 − beta2) · g²
 * p  = rectified ? p − stepSize · m / (sqrt(v) · denomScale + eps)
 *                : p − stepSize · m
 * ```
 *
 * The coupled decay term uses `p` as it was before the step. A float32 backend may compute
 * in float32; the conformance suite's tolerance allows for it.
 */
export interface RAdamScalars {
  /** Multiplies the raw gradient: `−1` for `maximize`, times the global-norm clip factor. */
  readonly gradScale: number;
  /** Element-wise clip bound; `Infinity` means no value clipping. */
  readonly clipValue: number;
  /** Coupled (L2) weight-decay coefficient added as `weightDecay · p`; `0` when off. */
  readonly weightDecay: number;
  /** Multiplies the parameter before the update (decoupled decay, `1 − lr · wd`); `1` when off. */
  readonly paramScale: number;
  /** First-moment decay. */
  readonly beta1: number;
  /** Second-moment decay. */
  readonly beta2: number;
  /** Whether the variance is tractable this step (adaptive, rectified update). */
  readonly rectified: boolean;
  /** Learning rate with bias correction and rectification folded in. */
  readonly stepSize: number;
  /** Multiplies `sqrt(v)` in the denominator (`1/sqrt(1−β2^t)` or `1`, by compat mode). */
  readonly denomScale: number;
  /** Added to the denominator for numerical stability. */
  readonly eps: number;
}

/**
 * Tensors that share every scalar of a step (one parameter group, one step count) and
 * those scalars: the unit of work of {@link TensorBackend.applyRAdam}.
 */
export interface RAdamBatch<T> {
  /** The tensors to update, each slot with its own gradient and moments. */
  readonly slots: readonly RAdamSlot<T>[];
  /** The scalars every slot of this batch is updated with. */
  readonly scalars: RAdamScalars;
}

/**
 * Storage and a few fused kernels: everything core needs from a tensor library.
 *
 * Core owns the algorithm. It validates input, derives every scalar of a step on the
 * host, and calls the backend only to (1) create and copy tensors, (2) reduce gradients
 * to one number, and (3) run the fused update of {@link RAdamScalars} over a batch of
 * tensors at once. A backend never re-derives RAdam's math.
 *
 * **Synchronous and asynchronous backends.** Every method may return its result directly
 * or as a promise. A backend whose methods never return promises sets
 * `synchronous: true`; then `RAdam.step()` returns its result directly, with no promise
 * and no microtask on the hot path. An asynchronous backend (GPU readback, ONNX Runtime)
 * sets `synchronous: false`, and `step()` returns a promise.
 *
 * **Ownership.** Tensors passed in by the user (parameters, gradients) stay the user's.
 * Tensors the backend creates through {@link TensorBackend.zerosLike} belong to the
 * optimizer, which releases them with {@link TensorBackend.disposeTensor}.
 *
 * **Writing a backend.** Implement the members below, then call
 * `describeBackendConformance(name, () => yourBackend)` from `@rectify/conformance/vitest` in
 * your tests: it replays the golden trajectories against your implementation.
 *
 * @typeParam T - the backend's tensor type (a typed array, a `tf.Variable`, …).
 */
export interface TensorBackend<T = unknown> {
  /** Short stable name, used in state dicts and error messages (`'cpu'`, `'tfjs-wasm'`). */
  readonly name: string;
  /** Element type of the tensors this backend creates (moments use it too). */
  readonly dtype: DType;
  /** `true` when no method ever returns a promise. */
  readonly synchronous: boolean;

  /**
   * Whether `value` is a live tensor of this backend (type and dtype). A tensor that has
   * been released or disposed, or whose memory is gone (a detached buffer), is not.
   * Core asks before every step for every gradient and parameter, so keep it cheap.
   */
  isTensor(value: unknown): value is T;
  /** Dimensions of `tensor`; a flat typed array reports `[length]`. */
  shapeOf(tensor: T): readonly number[];
  /** A new tensor of `shape` holding `data` (row-major), in the backend's dtype. */
  fromArray(data: ArrayLike<number>, shape: readonly number[]): T;
  /** A new zero-filled tensor with the element count and shape of `like`. */
  zerosLike(like: T): T;
  /** A host copy of `tensor`'s elements. */
  read(tensor: T): MaybePromise<HostArray>;
  /** Overwrites every element of `tensor` with `data` (same element count, validated by core). */
  write(tensor: T, data: ArrayLike<number>): MaybePromise<void>;
  /** Releases a tensor created by this backend. Must tolerate tensors already released. */
  disposeTensor(tensor: T): void;

  /**
   * Copies elements `begin … begin + target.length` of `tensor` (row-major) into `target`,
   * a typed array of the backend's dtype. Optional: with it, saving a state streams every
   * tensor in pieces of a fixed size through one buffer (`RAdam.writeStateTo`); without
   * it, through one whole-tensor {@link TensorBackend.read} at a time. Core asks only
   * for ranges inside the tensor, between steps.
   */
  readInto?(tensor: T, begin: number, target: HostArray): MaybePromise<void>;
  /**
   * Overwrites elements `begin … begin + data.length` of `tensor` with `data` (the
   * backend's dtype; not to be kept: core reuses it). Optional: with it, loading a state
   * writes every tensor in pieces of a fixed size (`RAdam.loadStateFrom`); without it,
   * with one whole-tensor {@link TensorBackend.write} at a time. Omit it where tensors are
   * immutable or shared (tfjs). Core validates the data first; a failure here is handled
   * as for `write` (the optimizer halts).
   */
  writeRange?(tensor: T, begin: number, data: HostArray): MaybePromise<void>;

  /**
   * `Σ g²` over every element of every tensor, as one float64 number. Backends should
   * accumulate in float64 where they can and in a fixed order, so the result is
   * deterministic. A NaN or infinite element makes the result non-finite.
   */
  sumOfSquares(tensors: readonly T[]): MaybePromise<number>;
  /** `true` when no element of any tensor is NaN or ±Infinity. */
  allFinite(tensors: readonly T[]): MaybePromise<boolean>;
  /**
   * Applies one fused RAdam update (see {@link RAdamScalars}) to every slot of every
   * batch: all of one optimizer step, so a backend can dispatch it at once.
   *
   * **All or nothing.** Check everything that can fail (tensors released or disposed,
   * staging or scratch memory, device limits) before writing the first element. A
   * failure found then is thrown as a `RectifyError` (`INVALID_TENSOR`, `OUT_OF_MEMORY`,
   * `DISPOSED`, …) and means nothing was written; core rethrows it and the optimizer is
   * unchanged. Any other error (a device lost, a session failing mid-run) is taken to
   * have left a partial update: core wraps it as `BACKEND_ERROR` and halts the optimizer.
   *
   * **Finiteness.** Returns `true` when every parameter and moment element written is
   * finite, `false` when any is NaN or ±Infinity. Accumulate the flag in the same fused
   * pass (no second pass over memory). Compute so that finite results stay finite
   * wherever float32 can hold them: square `(1 − β2)·g` rather than `g` first, never
   * select with `x·0` where `x` may be infinite.
   */
  applyRAdam(batches: readonly RAdamBatch<T>[]): MaybePromise<boolean>;

  /**
   * Asynchronous backends whose tensors can wrap caller memory: a copy of `tensor`'s
   * current elements that the caller can no longer change, owned by the optimizer and
   * released with {@link TensorBackend.disposeTensor} after the step. Core calls it for
   * every gradient when `step()` is called, so the values checked for finiteness are the
   * values the update uses even if the caller reuses its buffer before the step
   * resolves. Omit it where gradients cannot change (tfjs tensors are immutable).
   */
  capture?(tensor: T): T;

  /**
   * Whether `value` can be registered as a parameter: a live tensor this backend can
   * update in place. Defaults to {@link TensorBackend.isTensor}; a library with
   * immutable tensors (tfjs) accepts only its mutable kind (`tf.Variable`) here.
   */
  isParameter?(value: unknown): value is T;

  /**
   * What the backend holds right now, by kind (e.g. `{ tensors: 12, sessions: 1 }`):
   * lets long-run tests prove that nothing grows step after step. Optional.
   */
  resourceCounts?(): Readonly<Record<string, number>>;

  /** Releases everything the backend holds (kernels, sessions, pools). Optional. */
  dispose?(): void;
}

/** A backend whose methods never return promises: `RAdam.step()` is then synchronous too. */
export interface SyncTensorBackend<T = unknown> extends TensorBackend<T> {
  readonly synchronous: true;
  read(tensor: T): HostArray;
  write(tensor: T, data: ArrayLike<number>): void;
  readInto?(tensor: T, begin: number, target: HostArray): void;
  writeRange?(tensor: T, begin: number, data: HostArray): void;
  sumOfSquares(tensors: readonly T[]): number;
  allFinite(tensors: readonly T[]): boolean;
  applyRAdam(batches: readonly RAdamBatch<T>[]): boolean;
}

/** The tensor type of a backend type. */
export type TensorOf<B> = B extends TensorBackend<infer T> ? T : never;

/** `R` for a synchronous backend, `Promise<R>` otherwise: the return type of a step. */
export type BackendResult<B, R> = B extends { readonly synchronous: true } ? R : Promise<R>;
