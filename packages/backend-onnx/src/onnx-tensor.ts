import { RectifyError, type FloatArray } from '@rectify/core';
import type { Tensor } from 'onnxruntime-common';
import type { OrtRuntime } from './ort-runtime.js';

/**
 * A tensor of the ONNX backend: a typed array (`Float32Array` or `Float64Array`), its shape,
 * and cached `Tensor` views (of its backend's ONNX Runtime) over the same memory. Nothing is copied to hand the tensor
 * to ONNX Runtime: the views share `data`'s buffer, and every optimizer step updates `data`
 * in place (onnxruntime-node writes the step graph's outputs straight into it; on
 * onnxruntime-web, whose runs copy through WebAssembly memory, the backend copies them back).
 *
 * A tensor stops being usable (see {@link OnnxTensor.live}) once the backend has released
 * it (`disposeTensor`) or its memory is gone (a detached or shrunk buffer).
 *
 * @example
 * ```ts
 * const backend = onnxBackend();
 * const w = backend.wrap(new Float32Array([0.5, -0.3, 0.1, 0.2]), [2, 2]); // no copy
 * await session.run({ input: w.ortTensor }); // use it in your own ONNX models too
 * ```
 */
export class OnnxTensor<A extends FloatArray = FloatArray> {
  /** The elements, row-major. The optimizer updates them in place. */
  readonly data: A;
  /** Dimensions (row-major); their product is `data.length`. */
  readonly shape: readonly number[];
  /**
   * The ONNX Runtime module whose `Tensor`s the views are. A backend accepts only tensors of
   * its own runtime: an `onnxruntime-node` tensor cannot feed an `onnxruntime-web` session.
   */
  readonly runtime: OrtRuntime;
  /** `data.length` when wrapped: a detached buffer reads 0, a resized one another length. */
  readonly #length: number;
  #released = false;
  #ortTensor: Tensor | undefined;
  #chunkSize = 0;
  #chunks: readonly Tensor[] = [];

  /** Wraps `data` (not copied) with `shape` for `runtime`; the caller checks that the sizes agree. */
  constructor(data: A, shape: readonly number[], runtime: OrtRuntime) {
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.runtime = runtime;
    this.#length = data.length;
  }

  /** `'float32'` for a `Float32Array`, `'float64'` for a `Float64Array`. */
  get dtype(): 'float32' | 'float64' {
    return this.data instanceof Float64Array ? 'float64' : 'float32';
  }

  /** Number of elements. */
  get size(): number {
    return this.#length;
  }

  /**
   * `false` once {@link OnnxTensor.release} was called, or when `data`'s memory is gone
   * (its buffer was detached, e.g. transferred to a worker, or resized): views over it
   * would read nothing or the wrong elements. One field read and one length compare.
   */
  get live(): boolean {
    return !this.#released && this.data.length === this.#length;
  }

  /**
   * A `Tensor` of this tensor's runtime and shape over the same memory (created once).
   *
   * @throws RectifyError `INVALID_TENSOR` when the tensor is not {@link OnnxTensor.live}.
   */
  get ortTensor(): Tensor {
    this.#assertLive();
    this.#ortTensor ??= new this.runtime.Tensor(this.dtype, this.data, [...this.shape]);
    return this.#ortTensor;
  }

  /**
   * Flat `Tensor` views over consecutive runs of `chunkSize` elements (the last one
   * shorter), sharing this tensor's memory. Cached for the last `chunkSize` asked for, so a
   * step allocates nothing here.
   *
   * @throws RectifyError `INVALID_TENSOR` when the tensor is not {@link OnnxTensor.live}.
   */
  chunks(chunkSize: number): readonly Tensor[] {
    this.#assertLive();
    if (chunkSize !== this.#chunkSize) {
      const views: Tensor[] = [];
      for (let start = 0; start < this.data.length; start += chunkSize) {
        const end = Math.min(this.data.length, start + chunkSize);
        views.push(new this.runtime.Tensor(this.dtype, this.data.subarray(start, end) as A, [end - start]));
      }
      this.#chunks = views;
      this.#chunkSize = chunkSize;
    }
    return this.#chunks;
  }

  /**
   * Marks the tensor released and drops its views: the backend no longer accepts it and
   * it is no longer a tensor of it (`isTensor` is `false`). The memory stays with `data`,
   * which the garbage collector owns. Idempotent.
   */
  release(): void {
    this.#released = true;
    this.#ortTensor = undefined;
    this.#chunks = [];
    this.#chunkSize = 0;
  }

  #assertLive(): void {
    if (!this.live) {
      throw new RectifyError(
        'INVALID_TENSOR',
        this.#released
          ? 'This ONNX tensor has been released (disposeTensor) and cannot be used.'
          : `This ONNX tensor's memory is gone: its buffer was detached or resized (${this.data.length} elements, ${this.#length} wrapped).`,
      );
    }
  }
}
