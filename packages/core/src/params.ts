import { RectifyError } from './errors.js';
import { describeValue, isPlainRecord } from './values.js';

/**
 * Named tensors, possibly nested: `{ dense: { kernel, bias }, out: kernel }`. Nested names
 * are joined with dots (`"dense.kernel"`). Gradients use the same structure.
 */
export interface TensorTree<T> {
  readonly [name: string]: T | TensorTree<T> | null | undefined;
}

/**
 * Flattens a {@link TensorTree} into `[dottedName, tensor]` pairs. A leaf is anything
 * `isTensor` accepts; `null`/`undefined` leaves are dropped (no gradient).
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
  if (!(tree instanceof Map) && !isPlainRecord(tree)) {
    throw new RectifyError(
      'INVALID_TENSOR',
      `Expected a record of named ${what} tensors, got ${describeValue(tree)}.`,
      what === 'parameter' ? 'params' : 'grads',
    );
  }
  const flat = new Map<string, T>();
  const visit = (prefix: string, value: unknown): void => {
    if (value === null || value === undefined) return;
    if (isTensor(value)) {
      if (flat.has(prefix)) {
        throw new RectifyError('DUPLICATE_PARAMETER', `The ${what} name "${prefix}" appears twice.`, prefix);
      }
      flat.set(prefix, value);
      return;
    }
    if (isPlainRecord(value)) {
      for (const [key, child] of Object.entries(value)) visit(`${prefix}.${key}`, child);
      return;
    }
    throw new RectifyError(
      'INVALID_TENSOR',
      `The ${what} "${prefix}" is not a tensor of the "${backendName}" backend (got ${describeLeaf(value)}).`,
      prefix,
    );
  };
  const entries = tree instanceof Map ? [...tree.entries()] : Object.entries(tree);
  for (const [name, value] of entries) visit(name, value);
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

/** `"[3, 4]"`: a shape for messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
