/**
 * Rectify's access to the heap of tfjs' `wasm` backend: checked allocation (tfjs' own
 * `move` takes whatever `_malloc` returns, and once the heap can grow no further that is
 * 0, so the tensor lands on address 0 and the next write corrupts the heap or traps as
 * "memory access out of bounds"), views of a tensor's elements, and whether a tensor's
 * memory may be written in place.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { RectifyError } from '@rectify/core';

/** What a tensor's data is to tfjs-wasm (`BackendWasm.dataIdMap` entries). */
interface WasmTensorData {
  /** The id its C++ side knows the tensor by. */
  readonly id: number;
  readonly memoryOffset: number;
  readonly shape: readonly number[];
  readonly refCount: number;
}

/** What Rectify uses of tfjs-wasm's `BackendWasm` (public members of its class). */
export interface WasmBackendMembers {
  readonly wasm: {
    readonly HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(offset: number): void;
    /** The C++ exports that `tfjs.disposeData` and `tfjs.registerTensor` wrap (with `cwrap`). */
    _dispose_data?(id: number): void;
    _register_tensor?(id: number, size: number, memoryOffset: number): void;
    readonly tfjs: {
      registerTensor(id: number, size: number, memoryOffset: number): void;
      disposeData(id: number): void;
    };
  };
  /** Its `get` moves the data from another tfjs backend first, where it lives there. */
  readonly dataIdMap: { get(dataId: tf.DataId): WasmTensorData | undefined };
  /** Registers a tensor whose memory Rectify allocated at `memoryOffset` (refCount 1). */
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset: number): tf.TensorInfo;
}

/**
 * The largest heap tfjs-wasm 4.x can grow to: its emscripten build's `getHeapMax()`
 * (`MAXIMUM_MEMORY` of 4 GiB less one 64 KiB page, wasm32's address space), in bytes.
 */
export const WASM_HEAP_MAX_BYTES = 4294901760;

/** The highest heap address an allocation may reach (lowered by tests only). */
let heapLimit = WASM_HEAP_MAX_BYTES;

/**
 * Replaces the heap limit that checked allocations enforce (default
 * {@link WASM_HEAP_MAX_BYTES}, the real one), or restores the default with `undefined`.
 * For tests: an allocation reaching past a lower limit fails exactly as one the heap
 * cannot grow for, without growing a real heap to 4 GiB.
 *
 * @example
 * ```ts
 * setWasmHeapLimit(0);         // every checked allocation now fails with OUT_OF_MEMORY
 * setWasmHeapLimit(undefined); // back to tfjs-wasm's own maximum
 * ```
 */
export function setWasmHeapLimit(bytes: number | undefined): void {
  heapLimit = bytes ?? WASM_HEAP_MAX_BYTES;
}

/**
 * Whether `backend` is tfjs-wasm's `BackendWasm` (duck-typed: another copy of tfjs-wasm
 * has another class).
 *
 * @example
 * ```ts
 * isWasmBackend(tf.backend()); // true once tf.setBackend('wasm') resolved
 * ```
 */
export function isWasmBackend(backend: unknown): backend is WasmBackendMembers {
  const b = backend as Partial<WasmBackendMembers> | null;
  return (
    typeof b?.wasm?._malloc === 'function' &&
    typeof b.wasm._free === 'function' &&
    typeof b.wasm.tfjs?.registerTensor === 'function' &&
    typeof b.wasm.tfjs.disposeData === 'function' &&
    typeof b.dataIdMap?.get === 'function' &&
    typeof b.makeOutput === 'function'
  );
}

/** The heap data of a tensor (moved onto the wasm backend first, if it lives elsewhere). */
function dataOf(backend: WasmBackendMembers, dataId: tf.DataId): WasmTensorData {
  const data = backend.dataIdMap.get(dataId);
  if (data === undefined) throw new Error('Rectify kernel: a tensor has no data on the tfjs wasm backend.');
  return data;
}

/**
 * Whether the memory of `dataId` may be written in place: no tensor but the one being
 * updated holds it. A `tf.clone` (or `reshape`, or the tensor a variable was made from,
 * while alive) shares its `dataId` and adds to `refCount`; it must keep the old values.
 *
 * @example
 * ```ts
 * writableInPlace(wasm, variable.dataId); // false while tf.clone(variable) is alive
 * ```
 */
export function writableInPlace(backend: WasmBackendMembers, dataId: tf.DataId): boolean {
  return dataOf(backend, dataId).refCount === 1;
}

/**
 * Tells tfjs-wasm's C++ side that the data of `dataId` changed in place. It caches work
 * derived from a tensor's values by tensor id, on the premise that they never change
 * under one (XNNPACK operators with packed weights: a matMul or conv2D whose weights were
 * updated in place would go on using the old ones), and drops that cache when the id is
 * disposed; so the id is disposed there and registered again, same memory, same size.
 *
 * @example
 * ```ts
 * rewritten(wasm, variable.dataId); // after writing its heap memory
 * ```
 */
export function rewritten(backend: WasmBackendMembers, dataId: tf.DataId): void {
  const { id, memoryOffset, shape } = dataOf(backend, dataId);
  const { wasm } = backend;
  const size = tf.util.sizeFromShape([...shape]);
  // The exports themselves where emscripten exposes them: cwrap's argument conversion
  // costs more than the call, three times per variable of a step.
  if (wasm._dispose_data !== undefined && wasm._register_tensor !== undefined) {
    wasm._dispose_data(id);
    wasm._register_tensor(id, size, memoryOffset);
  } else {
    wasm.tfjs.disposeData(id);
    wasm.tfjs.registerTensor(id, size, memoryOffset);
  }
}

/**
 * The float32 (`Float32Array`) or int32 view of a tensor's elements on the heap, without
 * a copy. Only valid until the heap next grows (an allocation): take views after every
 * allocation of a kernel is done.
 *
 * @example
 * ```ts
 * heapView(wasm, variable, Float32Array)[0]; // its first element, read from the heap
 * ```
 */
export function heapView<A extends Float32Array | Int32Array>(
  backend: WasmBackendMembers,
  { dataId, shape }: tf.TensorInfo,
  type: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): A },
): A {
  return new type(backend.wasm.HEAPU8.buffer, dataOf(backend, dataId).memoryOffset, tf.util.sizeFromShape(shape));
}

/**
 * New tensors of `shapes` (each `[shape, dtype]`, 4-byte elements) on the heap, every
 * one allocated before any is registered: all or nothing. Their memory is not cleared.
 *
 * @throws RectifyError `OUT_OF_MEMORY` naming the heap limit when one cannot be had;
 *   nothing stays allocated then.
 * @example
 * ```ts
 * const [out] = allocateTensors(wasm, [[[4, 3], 'float32']]);
 * ```
 */
export function allocateTensors(
  backend: WasmBackendMembers,
  shapes: readonly (readonly [number[], 'float32' | 'int32'])[],
): tf.TensorInfo[] {
  const { wasm } = backend;
  // At least one byte each: malloc(0) may return 0, which here means failure.
  const sizes = shapes.map(([shape]) => Math.max(4 * tf.util.sizeFromShape(shape), 1));
  const total = sizes.reduce((a, b) => a + b, 0);
  const offsets: number[] = [];
  const fail = (): never => {
    for (const allocated of offsets) wasm._free(allocated);
    throw new RectifyError(
      'OUT_OF_MEMORY',
      `The tfjs wasm heap cannot hold ${total} more bytes: its limit is ${heapLimit} bytes` +
        `${heapLimit === WASM_HEAP_MAX_BYTES ? " (tfjs-wasm's heap maximum, wasm32's 4 GiB)" : ''}` +
        ` and it is ${wasm.HEAPU8.length} bytes now; nothing was changed.`,
    );
  };
  // Past the limit, malloc is not asked: its size_t is 32 bits, and a larger size would
  // wrap around to a small allocation that "succeeds".
  if (total > heapLimit) fail();
  for (const bytes of sizes) {
    // `>>> 0`: malloc returns a signed int32, negative above 2 GiB (as tfjs reads it).
    const offset = wasm._malloc(bytes) >>> 0;
    if (offset === 0 || offset + bytes > heapLimit) {
      if (offset !== 0) wasm._free(offset);
      fail();
    }
    offsets.push(offset);
  }
  return shapes.map(([shape, dtype], i) => backend.makeOutput(shape, dtype, offsets[i]!));
}

/**
 * A new float32 tensor of `shape` on the active tfjs backend, holding `values` (zeros
 * without): on wasm through {@link allocateTensors} (a typed `OUT_OF_MEMORY` where tfjs
 * would place it at address 0), elsewhere with `tf.tensor`/`tf.zeros`.
 *
 * @example
 * ```ts
 * const moment = tf.tidy(() => tf.variable(checkedTensor([3, 4]), false));
 * ```
 */
export function checkedTensor(shape: readonly number[], values?: Float32Array): tf.Tensor {
  const backend = tf.getBackend() === 'wasm' ? tf.backend() : undefined;
  if (!isWasmBackend(backend)) {
    return values === undefined ? tf.zeros([...shape], 'float32') : tf.tensor(values, [...shape], 'float32');
  }
  const [info] = allocateTensors(backend, [[[...shape], 'float32']]);
  const view = heapView(backend, info!, Float32Array);
  if (values === undefined) view.fill(0);
  else view.set(values);
  return tf.engine().makeTensorFromTensorInfo(info!);
}
