import { RectifyError, type RectifyErrorCode } from './errors.js';

/**
 * How deep plain data handed to Rectify may nest (options, scheduler specs, state
 * dicts). Real inputs nest a handful of levels; the limit turns a cyclic or adversarial
 * value into a typed error instead of a stack overflow.
 */
export const MAX_INPUT_DEPTH = 64;

/** Where a copy failed and which error code the caller's API reports it with. */
export interface CopyContext {
  /** Error code for a value that cannot be copied (`INVALID_OPTION`, `INVALID_STATE_DICT`, …). */
  readonly code: RectifyErrorCode;
  /** The argument's name, used as the path prefix in messages (`options`, `dict`). */
  readonly root: string;
  /** Values kept by reference instead of copied (a live scheduler object, say). */
  readonly keep?: (value: unknown) => boolean;
}

/**
 * A deep copy of caller-supplied plain data, so nothing the caller passed in is kept by
 * reference: later edits by the caller cannot change what Rectify uses or saves. Each
 * own enumerable property is read exactly once (a getter runs once; what is validated
 * is what is used). Objects come out with a null prototype, so any key, `__proto__`
 * included, is plain data; arrays stay arrays and typed arrays are copied.
 *
 * @throws RectifyError with `context.code` for a value nested deeper than
 *   {@link MAX_INPUT_DEPTH} (a cycle included) or for a getter that throws.
 */
export function copyInput<V>(value: V, context: CopyContext): V {
  // Own members only: a `keep` that other code put on Object.prototype is not ours.
  const own: CopyContext = {
    code: context.code,
    root: context.root,
    keep: Object.hasOwn(context, 'keep') ? context.keep : undefined,
  };
  return copyValue(value, own.root, 0, own) as V;
}

function copyValue(value: unknown, path: string, depth: number, context: CopyContext): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (context.keep?.(value)) return value;
  if (depth >= MAX_INPUT_DEPTH) {
    throw new RectifyError(
      context.code,
      `"${path}" is nested more than ${MAX_INPUT_DEPTH} levels deep (a cycle?).`,
      context.root,
    );
  }
  if (ArrayBuffer.isView(value)) return copyView(value);
  if (Array.isArray(value)) {
    const length = value.length;
    const out: unknown[] = new Array<unknown>(length);
    for (let i = 0; i < length; i++) out[i] = copyValue(readOnce(value, i, path, context), `${path}[${i}]`, depth + 1, context);
    return out;
  }
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    out[key] = copyValue(readOnce(value, key, path, context), `${path}.${key}`, depth + 1, context);
  }
  return out;
}

function readOnce(holder: object, key: string | number, path: string, context: CopyContext): unknown {
  try {
    return (holder as Record<string | number, unknown>)[key];
  } catch (error) {
    throw new RectifyError(
      context.code,
      `Reading "${path}.${String(key)}" threw: ${error instanceof Error ? error.message : String(error)}.`,
      context.root,
      { cause: error },
    );
  }
}

function copyView(view: ArrayBufferView): ArrayBufferView {
  if (view instanceof DataView) return new DataView(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
  return (view as unknown as { slice(): ArrayBufferView }).slice();
}
