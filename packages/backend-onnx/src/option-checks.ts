import { RectifyError } from '@rectify/core';

/**
 * The `INVALID_OPTION` error for `option`, as every ONNX backend factory reports it.
 *
 * @example
 * ```ts
 * throw invalidOption('wasmPaths', `must be a URL prefix, got ${String(paths)}.`);
 * ```
 */
export function invalidOption(option: string, message: string): RectifyError {
  return new RectifyError('INVALID_OPTION', `Option "${option}" ${message}`, option);
}

/** `value`, or `fallback` when unset; `INVALID_OPTION` unless a positive integer. */
export function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw invalidOption(option, `must be a positive integer, got ${value}.`);
  return value;
}

/**
 * Checks a thread-count option of an ONNX Runtime package: unset, or a non-negative
 * integer where `0` means the runtime's own default.
 *
 * @param runtime - the package's name in the message (`"ONNX Runtime Web"`).
 * @throws RectifyError `INVALID_OPTION` naming `option`.
 * @example
 * ```ts
 * const threads = threadCount('numThreads', options.numThreads, 'ONNX Runtime Web');
 * ```
 */
export function threadCount(option: string, value: number | undefined, runtime: string): number | undefined {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
    throw invalidOption(option, `must be a non-negative integer (0: ${runtime}'s default), got ${value}.`);
  }
  return value;
}
