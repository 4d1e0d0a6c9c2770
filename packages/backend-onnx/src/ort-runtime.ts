import type { InferenceSession, Tensor } from 'onnxruntime-common';

/**
 * The part of an ONNX Runtime JavaScript package the backend uses: the `onnxruntime-common`
 * API (`InferenceSession`, `Tensor`) that `onnxruntime-node` and `onnxruntime-web` both
 * export. The backend logic takes it as an argument rather than importing a runtime, so the
 * same code runs natively in Node and on WebAssembly in browsers.
 *
 * @example
 * ```ts
 * import * as ort from 'onnxruntime-web';
 * const runtime: OrtRuntime = ort;
 * ```
 */
export interface OrtRuntime {
  /** `ort.InferenceSession` (its static `create` is what the backend calls). */
  readonly InferenceSession: typeof InferenceSession;
  /** `ort.Tensor`, the constructor of every feed and view. */
  readonly Tensor: typeof Tensor;
}

/** Session options of an {@link OrtRuntime} (the `onnxruntime-common` type). */
export type OrtSessionOptions = InferenceSession.SessionOptions;
