import type { TensorBackend } from '@rectify/core';

/** One backend the repository ships, under the name the replay CLI and the bench use. */
export interface BackendEntry {
  /** Replay name: `cpu`, `cpu64`, `tfjs-wasm`, … */
  readonly name: string;
  /** One line for tables and `--help`. */
  readonly description: string;
  /**
   * `true` when the backend needs a GPU (or a GPU driver stack) to run. Backends that do
   * not must run on every Linux CI machine: the cross-backend test fails, rather than
   * skips, when one of them is unavailable there.
   */
  readonly requiresGpu: boolean;
  /**
   * `true` for a backend that exists only in a browser page (WebGL): this Node registry
   * always reports it unavailable, and `packages/conformance-browser` runs its conformance
   * in headless Chromium instead. Every other backend must run on CI.
   */
  readonly browserOnly?: boolean;
  /**
   * Why the backend cannot run on this machine (a missing GPU, a native module that did
   * not build), or `undefined` when it can. Never throws.
   */
  unavailableReason(): Promise<string | undefined>;
  /** A fresh backend instance. */
  create(): Promise<TensorBackend<any>>;
}
