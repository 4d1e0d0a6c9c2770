import type { Allocation } from './arena.js';

/**
 * Elements of one or more tensors on the device: an arena allocation with a reference
 * count. `capture` shares a storage instead of copying it; whoever writes to a shared
 * storage first moves to a fresh one (copy on write), so a capture never sees a later
 * change.
 */
export interface Storage extends Allocation {
  refs: number;
}

/** The mutable inside of a {@link WebGpuTensor}; only the backend touches it. */
export interface TensorState {
  /** The backend that created the tensor (tensors never cross backends). */
  readonly owner: object;
  /** Where the elements are; `null` for a tensor of zero elements. */
  storage: Storage | null;
  /** Set by `disposeTensor`: the tensor is no longer one for any later call. */
  released: boolean;
}

let stateOf: (tensor: WebGpuTensor) => TensorState;

/**
 * The tensor type of the WebGPU backend: a handle to float32 elements in one of the
 * backend's device buffers. Parameters and moments stay on the device across steps;
 * `read` and `write` copy through staging buffers.
 *
 * Create tensors with the backend (`fromArray`, `zerosLike`), read them with `read`,
 * release them with `disposeTensor`.
 *
 * @example
 * ```ts
 * const backend = await createWebGpuBackend();
 * const w = backend.fromArray([0.5, -0.5, 0.25, 1], [2, 2]);
 * w.shape; // [2, 2]
 * w.size;  // 4
 * ```
 */
export class WebGpuTensor {
  /** Dimensions, row-major, as given to `fromArray`. */
  readonly shape: readonly number[];
  /** Element count (product of `shape`). */
  readonly size: number;
  readonly #state: TensorState;

  static {
    stateOf = (tensor) => tensor.#state;
  }

  /** @internal Use the backend's `fromArray` / `zerosLike` / `capture`. */
  constructor(owner: object, shape: readonly number[], storage: Storage | null) {
    this.shape = Object.freeze([...shape]);
    this.size = this.shape.reduce((a, b) => a * b, 1);
    this.#state = { owner, storage, released: false };
  }

  /** `true` once the tensor has been released with `disposeTensor` (or its backend disposed). */
  get released(): boolean {
    return this.#state.released;
  }
}

/**
 * @internal The mutable state of `tensor` (backend use only).
 *
 * @example
 * ```ts
 * tensorState(tensor).storage?.refs; // 2 while a capture shares it
 * ```
 */
export function tensorState(tensor: WebGpuTensor): TensorState {
  return stateOf(tensor);
}
