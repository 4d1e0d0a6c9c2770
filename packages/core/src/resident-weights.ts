import type { TensorBackend, TensorOf } from './backend.js';
import { RectifyError } from './errors.js';
import { checkedSizeOf, forEachTensor, type TensorTree } from './params.js';
import { isPlainRecord } from './values.js';

/** Numeric typed arrays: what a host weight's values may come in. */
export type HostValues =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/**
 * A weight's initial values on the host: a typed array (a one-dimensional tensor of its
 * length) or its values with a shape (`{ data, shape }`, row-major).
 */
export type HostWeight = HostValues | { readonly data: HostValues; readonly shape: readonly number[] };

/** Named host weights, nested like a {@link TensorTree}: `{ dense: { kernel, bias } }`. */
export interface HostWeightTree {
  readonly [name: string]: HostWeight | HostWeightTree | null | undefined;
}

/**
 * A tree of backend tensors `T` with the keys and nesting of the host weights `W`
 * (`null`/`undefined` leaves, which register nothing, are left out).
 */
export type ResidentTree<W extends HostWeightTree, T> = {
  readonly [K in keyof W as W[K] extends null | undefined ? never : K]: ResidentLeaf<W[K], T>;
};

/** What one value of a host tree becomes: a tensor for a weight, a tree for a record (distributes over unions). */
export type ResidentLeaf<V, T> = V extends HostWeight ? T : V extends HostWeightTree ? ResidentTree<V, T> : never;

/**
 * What {@link RAdam.registerResidentWeights} hands back: backend tensors, named and nested
 * as the host weights were.
 */
export interface ResidentWeights<W extends HostWeightTree, T> {
  /**
   * The registered parameters, holding copies of the host values. The model reads its
   * weights from these: every step updates them in place.
   */
  readonly params: ResidentTree<W, T>;
  /**
   * One zero-filled gradient tensor per parameter, same shape. Write each step's
   * gradients into these, then pass the tree to `step()`.
   */
  readonly grads: ResidentTree<W, T>;
}

function isHostValues(value: unknown): value is HostValues {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) && !(value instanceof BigInt64Array) && !(value instanceof BigUint64Array);
}

/** `{ data, shape }` with exactly those two keys: anything else is a nested record. */
function isShapedWeight(value: unknown): value is { readonly data: HostValues; readonly shape: readonly number[] } {
  if (!isPlainRecord(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 2 && isHostValues(value['data']) && Array.isArray(value['shape']);
}

function isHostWeight(value: unknown): value is HostWeight {
  return isHostValues(value) || isShapedWeight(value);
}

/** Every value finite, and still finite once stored in `dtype`. */
function expectRepresentable(name: string, data: HostValues, dtype: 'float32' | 'float64'): void {
  const round = dtype === 'float32' ? Math.fround : (x: number): number => x;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(round(data[i]!))) {
      throw new RectifyError(
        'INVALID_TENSOR',
        `"${name}"[${i}] is ${data[i]!}, which is not a finite ${dtype} value; weights must start finite.`,
        name,
      );
    }
  }
}

/** A checked weight: its dotted name, its keys from the root, values and shape. */
interface PlannedWeight {
  readonly name: string;
  readonly keys: readonly string[];
  readonly data: HostValues;
  readonly shape: readonly number[];
}

/**
 * Flattens host weights to dotted names and checks every shape against its values,
 * before anything is allocated.
 *
 * @param dtype - the backend's: a float32 backend cannot hold values past ±3.4e38.
 * @throws RectifyError `INVALID_TENSOR` for a leaf that is no host weight, a shape that
 *   is not a list of non-negative integers, or a value that is (or, stored in `dtype`, would become) NaN or ±Infinity, naming the
 *   weight; `SHAPE_MISMATCH` for a shape whose size differs from the values' length;
 *   `DUPLICATE_PARAMETER` for two paths with the same dotted name (`{ "a.b": x, a: { b: y } }`).
 */
export function planHostWeights(weights: HostWeightTree, dtype: 'float32' | 'float64'): PlannedWeight[] {
  const planned: PlannedWeight[] = [];
  const seen = new Set<string>();
  // Host weights are copied, never kept: `backendName` only words the error for a bad leaf.
  forEachTensor(weights as TensorTree<HostWeight>, isHostWeight, 'parameter', 'host (a typed array or { data, shape })', (name, weight, path) => {
    if (seen.has(name)) throw new RectifyError('DUPLICATE_PARAMETER', `The weight name "${name}" appears twice.`, name);
    seen.add(name);
    const keys = [...path];
    if (isHostValues(weight)) {
      expectRepresentable(name, weight, dtype);
      planned.push({ name, keys, data: weight, shape: [weight.length] });
      return;
    }
    expectRepresentable(name, weight.data, dtype);
    const shape = [...weight.shape];
    checkedSizeOf(shape, weight.data.length, `The weight "${name}"`, name);
    planned.push({ name, keys, data: weight.data, shape });
  });
  return planned;
}

/** Puts `value` at `keys` in `tree`, making the records on the way. */
function setAt(tree: Record<string, unknown>, keys: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    let next = node[key] as Record<string, unknown> | undefined;
    if (next === undefined) {
      next = Object.create(null) as Record<string, unknown>;
      node[key] = next;
    }
    node = next;
  }
  node[keys[keys.length - 1]!] = value;
}

/** Backend tensors made for planned weights: one parameter and one gradient per weight, in plan order. */
export interface CreatedWeights<T> {
  readonly params: readonly T[];
  readonly grads: readonly T[];
}

/** Every tensor of `created`, parameters first. */
export function createdTensors<T>(created: CreatedWeights<T>): T[] {
  return [...created.params, ...created.grads];
}

/**
 * Copies every planned weight into a new backend tensor and makes a zero gradient beside
 * it. When the backend runs out of memory half-way, every tensor made so far is released
 * and the error is rethrown: nothing is left allocated.
 */
export function createResidentTensors<B extends TensorBackend<any>>(backend: B, planned: readonly PlannedWeight[]): CreatedWeights<TensorOf<B>> {
  const created = { params: [] as TensorOf<B>[], grads: [] as TensorOf<B>[] };
  try {
    for (const { data, shape } of planned) {
      const param = backend.fromArray(data, shape) as TensorOf<B>;
      created.params.push(param);
      created.grads.push(backend.zerosLike(param) as TensorOf<B>);
    }
  } catch (error) {
    for (const tensor of createdTensors(created)) backend.disposeTensor(tensor);
    throw error;
  }
  return created;
}

/** The two trees handed to the caller, nested as the host weights were. */
export function residentTrees<W extends HostWeightTree, T>(planned: readonly PlannedWeight[], created: CreatedWeights<T>): ResidentWeights<W, T> {
  const params = Object.create(null) as Record<string, unknown>;
  const grads = Object.create(null) as Record<string, unknown>;
  planned.forEach(({ keys }, i) => {
    setAt(params, keys, created.params[i]);
    setAt(grads, keys, created.grads[i]);
  });
  return { params: params as ResidentTree<W, T>, grads: grads as ResidentTree<W, T> };
}
