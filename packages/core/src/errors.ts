/**
 * Every way a caller can misuse Rectify, as a stable machine-readable code.
 *
 * Codes never change meaning between releases; messages may be reworded.
 */
export type RectifyErrorCode =
  /** An optimizer or scheduler option is out of its valid range or of the wrong type. */
  | 'INVALID_OPTION'
  /** A gradient or state entry names a parameter that was never registered. */
  | 'UNKNOWN_PARAMETER'
  /** The same parameter name was registered twice. */
  | 'DUPLICATE_PARAMETER'
  /** A tensor's element count or shape differs from its parameter's. */
  | 'SHAPE_MISMATCH'
  /** A value is not a tensor of the backend in use (or has the wrong element type). */
  | 'INVALID_TENSOR'
  /** `step()` (or another call needing parameters) ran before `registerTrainableWeights()`. */
  | 'NOT_REGISTERED'
  /** A gradient holds NaN or ±Infinity and the `nonFinite` policy is `'error'`. */
  | 'NON_FINITE_GRADIENT'
  /** A state dict is malformed, truncated, for other parameters, or carries non-finite moments. */
  | 'INVALID_STATE_DICT'
  /** A state dict was written by an unsupported format version. */
  | 'UNSUPPORTED_STATE_VERSION'
  /** A scheduler spec names no known scheduler or carries bad arguments. */
  | 'INVALID_SCHEDULER'
  /**
   * On a synchronous backend, a call was made while a state was still being streamed to an
   * asynchronous sink or from an asynchronous source (a checkpoint file): await it first.
   * (On asynchronous backends calls queue instead.)
   */
  | 'STEP_IN_PROGRESS'
  /** The optimizer or backend was used after `dispose()`. */
  | 'DISPOSED'
  /** A backend cannot allocate a tensor within its configured memory limit. */
  | 'OUT_OF_MEMORY'
  /**
   * Finite gradients gave a parameter or moment that is NaN or ±Infinity (not
   * representable in the backend's dtype: a huge gradient or learning rate, `eps: 0`).
   * The step was applied; the optimizer is halted (see `HALTED`).
   */
  | 'NON_FINITE_UPDATE'
  /**
   * The backend failed while a step or load was writing (a device lost, a session
   * disposed): some tensors may hold the new values, others the old. The original error
   * is the `cause`; the optimizer is halted (see `HALTED`).
   */
  | 'BACKEND_ERROR'
  /**
   * The optimizer refuses to go on after a `NON_FINITE_UPDATE` or `BACKEND_ERROR`, whose
   * partial state it will not train on or save: `loadStateDict()` (from a checkpoint)
   * makes it usable again.
   */
  | 'HALTED'
  /**
   * A checkpoint could not be written or read (a missing parent directory, a directory in
   * its place, disk full, a read-only file system, no permission). A failed save leaves
   * the previous checkpoint intact; `cause` holds the system error.
   */
  | 'CHECKPOINT_IO';

/**
 * The one error type Rectify throws for bad input.
 *
 * Whenever a `RectifyError` is thrown, no parameter, moment, step counter or scheduler
 * state has been changed: validation always happens before the first write. The two
 * exceptions are failures that can only be seen once writing has begun,
 * `NON_FINITE_UPDATE` and `BACKEND_ERROR`: then the optimizer halts, and every further
 * call but `loadStateDict()` and `dispose()` throws `HALTED`, so a torn state is never
 * trained on or saved.
 *
 * @example
 * ```ts
 * try { opt.step(grads); }
 * catch (e) { if (e instanceof RectifyError && e.code === 'SHAPE_MISMATCH') console.log(e.parameter); }
 * ```
 */
export class RectifyError extends Error {
  /** Stable code naming the kind of mistake. */
  readonly code: RectifyErrorCode;
  /** The option or parameter name at fault, when there is one. */
  readonly parameter: string | undefined;

  /**
   * @param code - what kind of mistake.
   * @param message - what was wrong, for people.
   * @param parameter - the option or parameter name at fault.
   * @param options - `cause`: the underlying error (a backend's own, for `BACKEND_ERROR`).
   */
  constructor(code: RectifyErrorCode, message: string, parameter?: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'RectifyError';
    this.code = code;
    this.parameter = parameter;
  }
}

/** `true` when `error` is a {@link RectifyError}, optionally of the given code. */
export function isRectifyError(error: unknown, code?: RectifyErrorCode): error is RectifyError {
  return error instanceof RectifyError && (code === undefined || error.code === code);
}
