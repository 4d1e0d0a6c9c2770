import { RectifyError } from './errors.js';
import { MAX_INPUT_DEPTH } from './input-copy.js';
import { describeValue, isPlainRecord } from './values.js';

/**
 * Named tensors, possibly nested: `{ dense: { kernel, bias }, out: kernel }`. Nested names
 * are joined with dots (`"dense.kernel"`). Gradients use the same structure.
 */
export interface TensorTree<T> {
  readonly [name: string]: T | TensorTree<T> | null | undefined;
}

/**
 * Calls `visit(dottedName, tensor, keys)` for every tensor of a {@link TensorTree}, in
 * order (`keys`: the path from the root, valid during the call only). A leaf is anything
 * `isTensor` accepts; `null`/`undefined` leaves are skipped (no gradient). Only own keys
 * count. This runs on every step, so it allocates nothing for a flat record beyond the
 * key list.
 *
 * @throws RectifyError `INVALID_TENSOR` for a leaf that is neither a tensor nor a record.
 */
export function forEachTensor<T>(
  tree: TensorTree<T> | ReadonlyMap<string, T>,
  isTensor: (value: unknown) => value is T,
  what: 'parameter' | 'gradient',
  backendName: string,
  visit: (name: string, tensor: T, keys: readonly string[]) => void,
): void {
  // The keys from the root to the current value; one array, pushed and popped as the walk
  // goes (a visitor that keeps them copies them).
  const keys: string[] = [];
  const walk = (prefix: string, value: unknown, depth: number): void => {
    if (value === null || value === undefined) return;
    if (isTensor(value)) {
      visit(prefix, value, keys);
    } else if (isPlainRecord(value)) {
      if (depth >= MAX_INPUT_DEPTH) {
        throw new RectifyError(
          'INVALID_TENSOR',
          `The ${what} tree is nested more than ${MAX_INPUT_DEPTH} levels deep at "${prefix}" (a cycle?).`,
          prefix,
        );
      }
      // Own keys only: an enumerable property that other code added to Object.prototype
      // is not a parameter.
      for (const key of Object.keys(value)) {
        keys.push(key);
        walk(`${prefix}.${key}`, value[key], depth + 1);
        keys.pop();
      }
    } else {
      throw new RectifyError(
        'INVALID_TENSOR',
        `The ${what} "${prefix}" is not a tensor of the "${backendName}" backend (got ${describeLeaf(value)}).`,
        prefix,
      );
    }
  };
  const top = (name: string, value: unknown): void => {
    keys.push(name);
    walk(name, value, 1);
    keys.pop();
  };
  if (tree instanceof Map) {
    for (const [name, value] of tree) top(name, value);
  } else if (isPlainRecord(tree)) {
    for (const name of Object.keys(tree)) top(name, tree[name]);
  } else {
    throw new RectifyError(
      'INVALID_TENSOR',
      `Expected a record of named ${what} tensors, got ${describeValue(tree)}.`,
      what === 'parameter' ? 'params' : 'grads',
    );
  }
}

/**
 * Flattens a {@link TensorTree} into a map of dotted names to tensors (see
 * `forEachTensor`).
 *
 * @throws RectifyError `INVALID_TENSOR` for a leaf that is neither a tensor nor a record,
 *   `DUPLICATE_PARAMETER` when two paths flatten to the same name.
 */
export function flattenTensorTree<T>(
  tree: TensorTree<T> | ReadonlyMap<string, T>,
  isTensor: (value: unknown) => value is T,
  what: 'parameter' | 'gradient',
  backendName: string,
): Map<string, T> {
  const flat = new Map<string, T>();
  forEachTensor(tree, isTensor, what, backendName, (name, tensor) => {
    if (flat.has(name)) throw new RectifyError('DUPLICATE_PARAMETER', `The ${what} name "${name}" appears twice.`, name);
    flat.set(name, tensor);
  });
  return flat;
}

/** A leaf for a message: objects by their class (`a Float64Array`), other values as they are. */
function describeLeaf(value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return describeValue(value);
  return `a ${(value as object).constructor?.name ?? 'null-prototype object'}`;
}

/** Element count of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The element count of `shape` for `length` values, checked: what a backend's `fromArray`
 * (or any call that makes a tensor from host values) must verify before allocating.
 *
 * @param what - who is checking, for the message (`"fromArray"`, a weight's name).
 * @param parameter - the parameter the error names, if any.
 * @throws RectifyError `INVALID_TENSOR` for a shape that is not an array of non-negative
 *   safe integers (or whose size is not one), `SHAPE_MISMATCH` when `length` is not
 *   the shape's size.
 */
export function checkedSizeOf(shape: readonly number[], length: unknown, what: string, parameter?: string): number {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new RectifyError('INVALID_TENSOR', `${what}: a shape must be a list of non-negative integers, got ${describeValue(shape)}.`, parameter);
  }
  const size = sizeOf(shape);
  if (!Number.isSafeInteger(size)) {
    throw new RectifyError('INVALID_TENSOR', `${what}: the shape ${formatShape(shape)} holds more elements than an array can.`, parameter);
  }
  if (length !== size) {
    throw new RectifyError(
      'SHAPE_MISMATCH',
      `${what}: got ${describeValue(length)} values for the shape ${formatShape(shape)} (${size} elements).`,
      parameter,
    );
  }
  return size;
}

/** `"[3, 4]"`: a shape for messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
