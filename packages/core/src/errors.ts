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
  /** A second `step()` was called while an asynchronous step was still running. */
  | 'STEP_IN_PROGRESS'
  /** The optimizer or backend was used after `dispose()`. */
  | 'DISPOSED'
  /** A backend cannot allocate a tensor within its configured memory limit. */
  | 'OUT_OF_MEMORY';

/**
 * The one error type Rectify throws for bad input.
 *
 * Whenever a `RectifyError` is thrown, no parameter, moment, step counter or scheduler
 * state has been changed: validation always happens before the first write.
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

  constructor(code: RectifyErrorCode, message: string, parameter?: string) {
    super(message);
    this.name = 'RectifyError';
    this.code = code;
    this.parameter = parameter;
  }
}

/** `true` when `error` is a {@link RectifyError}, optionally of the given code. */
export function isRectifyError(error: unknown, code?: RectifyErrorCode): error is RectifyError {
  return error instanceof RectifyError && (code === undefined || error.code === code);
}
