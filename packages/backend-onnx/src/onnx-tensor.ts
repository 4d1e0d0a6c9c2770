import { RectifyError, type FloatArray } from '@rectify/core';
import ort from 'onnxruntime-node';

/**
 * A tensor of the ONNX backend: a typed array (`Float32Array` or `Float64Array`), its shape,
 * and cached `ort.Tensor` views over the same memory. Nothing is copied to hand the tensor
 * to ONNX Runtime: the views share `data`'s buffer, and the step graph writes its outputs
 * straight back into it, so `data` is updated in place by every optimizer step.
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
  /** `data.length` when wrapped: a detached buffer reads 0, a resized one another length. */
  readonly #length: number;
  #released = false;
  #ortTensor: ort.Tensor | undefined;
  #chunkSize = 0;
  #chunks: readonly ort.Tensor[] = [];

  /** Wraps `data` (not copied) with `shape`; the caller checks that the sizes agree. */
  constructor(data: A, shape: readonly number[]) {
    this.data = data;
    this.shape = Object.freeze([...shape]);
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
   * An `ort.Tensor` of this tensor's shape over the same memory (created once).
   *
   * @throws RectifyError `INVALID_TENSOR` when the tensor is not {@link OnnxTensor.live}.
   */
  get ortTensor(): ort.Tensor {
    this.#assertLive();
    this.#ortTensor ??= new ort.Tensor(this.dtype, this.data, [...this.shape]);
    return this.#ortTensor;
  }

  /**
   * Flat `ort.Tensor` views over consecutive runs of `chunkSize` elements (the last one
   * shorter), sharing this tensor's memory. Cached for the last `chunkSize` asked for, so a
   * step allocates nothing here.
   *
   * @throws RectifyError `INVALID_TENSOR` when the tensor is not {@link OnnxTensor.live}.
   */
  chunks(chunkSize: number): readonly ort.Tensor[] {
    this.#assertLive();
    if (chunkSize !== this.#chunkSize) {
      const views: ort.Tensor[] = [];
      for (let start = 0; start < this.data.length; start += chunkSize) {
        const end = Math.min(this.data.length, start + chunkSize);
        views.push(new ort.Tensor(this.dtype, this.data.subarray(start, end) as A, [end - start]));
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
