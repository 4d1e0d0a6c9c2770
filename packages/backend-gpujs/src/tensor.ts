/**
 * A device-side value: the typed array a `cpu`/`webasm` kernel returned, or the GL
 * `Texture` / WebGPU buffer handle a GPU kernel returned in pipeline mode.
 *
 * @example
 * ```ts
 * const data = (await kernel(g, p, m)) as DeviceData;
 * ```
 */
export type DeviceData = Float32Array | DeviceHandle;

/**
 * What gpu.js's `Texture` and `WebGPUBufferResult` have in common.
 *
 * @example
 * ```ts
 * const values = await (texture as DeviceHandle).toArray();
 * ```
 */
export interface DeviceHandle {
  /** Reads the values back (synchronously on GL, as a promise on WebGPU). */
  toArray(): unknown;
  /** Releases the texture / buffer (refcounted by gpu.js). */
  delete(): void;
}

/**
 * Where a tensor's elements live right now.
 *
 * @example
 * ```ts
 * if (tensor.location === 'device') console.log('resident');
 * ```
 */
export type TensorLocation = 'host' | 'device' | 'released';

/**
 * The mutable inside of a {@link GpuTensor}; only the backend touches it.
 *
 * Elements are never changed in place: a kernel writes a fresh output, `write` stages a
 * fresh host array. So two tensors may share one host array or device handle (that is
 * how `capture` copies a gradient for free), device handles being reference counted.
 *
 * @example
 * ```ts
 * const state: TensorState = tensorState(tensor);
 * ```
 */
export interface TensorState {
  /** The backend that created the tensor (tensors never cross backends). */
  readonly owner: object;
  /** Host-staged elements, not yet uploaded (after `fromArray`, `zerosLike`, `write`). */
  host: Float32Array | null;
  /** Device elements (after the first kernel that used or produced them). */
  device: DeviceData | null;
  /**
   * Whether every element is finite, when known without a device read: set from the
   * host data on `fromArray`/`write`, kept across the upload, forgotten when a kernel
   * produces new values.
   */
  finite: boolean | undefined;
  /**
   * Set by `disposeTensor` at once, so the tensor stops being a tensor for every later
   * call; its memory goes when the operations queued before the release have run.
   */
  released: boolean;
}

let stateOf: (tensor: GpuTensor) => TensorState;

/**
 * The tensor type of the gpu.js backend: a small handle whose contents the backend
 * replaces every step. gpu.js kernels never write their inputs; each step produces new
 * parameter and moment textures/buffers, and the handle swaps to them (the old ones are
 * deleted), so the optimizer's references stay valid while data stays on the device.
 *
 * Create tensors with the backend (`fromArray`, `zerosLike`), read them with `read`,
 * release them with `disposeTensor`.
 *
 * @example
 * ```ts
 * const backend = gpujsBackend();
 * const w = backend.fromArray([0.5, -0.5, 0.25, 1], [2, 2]);
 * w.shape;    // [2, 2]
 * w.location; // 'host' until a kernel uses it
 * ```
 */
export class GpuTensor {
  /** Dimensions, row-major, as given to `fromArray`. */
  readonly shape: readonly number[];
  /** Element count (product of `shape`). */
  readonly size: number;
  readonly #state: TensorState;

  static {
    stateOf = (tensor) => tensor.#state;
  }

  /**
   * @internal Use the backend's `fromArray` / `zerosLike`. `host` is `null` for a
   * capture whose elements are filled in when the operations queued before it have run.
   */
  constructor(owner: object, shape: readonly number[], host: Float32Array | null, finite: boolean | undefined) {
    this.shape = Object.freeze([...shape]);
    this.size = this.shape.reduce((a, b) => a * b, 1);
    this.#state = { owner, host, device: null, finite, released: false };
  }

  /** Where the elements live: staged on the host, resident on the device, or released. */
  get location(): TensorLocation {
    const state = this.#state;
    if (state.released) return 'released';
    return state.device === null ? 'host' : 'device';
  }
}

/**
 * @internal The mutable state of `tensor` (backend use only).
 *
 * @example
 * ```ts
 * tensorState(tensor).finite; // true, false or undefined (unknown)
 * ```
 */
export function tensorState(tensor: GpuTensor): TensorState {
  return stateOf(tensor);
}

/**
 * `true` when no element is NaN or ±Infinity (x − x is NaN exactly for those).
 *
 * @example
 * ```ts
 * hostAllFinite(Float32Array.from([1, 1e39])); // false: 1e39 is Infinity in float32
 * ```
 */
export function hostAllFinite(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (x - x !== 0) return false;
  }
  return true;
}

const deviceRefs = new WeakMap<DeviceHandle, number>();

/**
 * @internal One more tensor holds `data` (a no-op for typed arrays, which the garbage
 * collector frees). Returns `data`.
 *
 * @example
 * ```ts
 * copyState.device = retainDevice(sourceState.device);
 * ```
 */
export function retainDevice(data: DeviceData | null): DeviceData | null {
  if (data !== null && !(data instanceof Float32Array)) deviceRefs.set(data, (deviceRefs.get(data) ?? 1) + 1);
  return data;
}

/**
 * @internal One tensor less holds `data`: the last one deletes the texture / buffer.
 *
 * @example
 * ```ts
 * releaseDevice(state.device); state.device = null;
 * ```
 */
export function releaseDevice(data: DeviceData | null): void {
  if (data === null || data instanceof Float32Array) return;
  const refs = deviceRefs.get(data) ?? 1;
  if (refs > 1) {
    deviceRefs.set(data, refs - 1);
  } else {
    deviceRefs.delete(data);
    data.delete();
  }
}
