import * as tf from '@tensorflow/tfjs';
import {
  RectifyError,
  type HostArray,
  type MaybePromise,
  type SyncTensorBackend,
  type TensorBackend,
} from '@rectify/core';
import { hostReader, map } from './host-read.js';
import { kernelPath } from './kernel-path.js';
import { fusedKernelsAvailable } from './kernels.js';
import { opGraphPath } from './op-graph-path.js';
import { reducerFor } from './reductions.js';
import type { StepPath } from './step-path.js';
import { isLiveTensor, isLiveVariable, liveVariable } from './variables.js';
import { checkedTensor } from './wasm-heap.js';
import { sharedWebGpuPath } from './webgpu-kernel-path.js';
import { sharedWebGpuSyncPath, webGpuReadsSynchronously } from './webgpu-sync-path.js';

/**
 * Options of {@link tfjsBackend}.
 *
 * @example
 * ```ts
 * const options: TfjsBackendOptions = { synchronous: false }; // data() reads, step() returns a promise
 * ```
 */
export interface TfjsBackendOptions {
  /**
   * `true`: host reads use `dataSync()`, so every method returns its result directly and
   * `RAdam.step()` is synchronous. `false`: host reads use `await data()`, and `step()`
   * returns a promise. Default: `true` when the active tfjs backend reads synchronously
   * without stalling (`cpu`, `wasm`, `tensorflow`), `false` on GPU backends (`webgl`,
   * `webgpu`), where a synchronous read blocks the thread until the GPU catches up.
   */
  readonly synchronous?: boolean;
  /**
   * Run each step's update and reductions as Rectify's own kernels where there are some:
   * - on tfjs' `cpu` and `wasm` backends, kernels registered with `tf.registerKernel`:
   *   one call updates every variable of the step, one pass over the data, in float64
   *   arithmetic, bit for bit what core's float32 CPU backend computes, where the stock
   *   ops take a dozen passes per variable. On `wasm` the kernel writes a variable's
   *   heap memory in place when no other tensor shares it (a `tf.clone` of a variable
   *   keeps its old values), so a step needs no memory beyond `p, g, m, v`;
   * - on tfjs' `webgpu` backend, `@rectify/backend-webgpu`'s WGSL kernel on tfjs' own
   *   device: one compute dispatch updates every variable of the step, tensors moving by
   *   GPU copies only (no readback of tensor data), where the stock ops take about a
   *   dozen dispatches per variable. Its arena is set up asynchronously, on first use (or
   *   by {@link TfjsBackend.ready}); calls before it is ready run the stock ops. With
   *   synchronous reads the kernel's few result bytes come back through a WebGPU
   *   canvas, as tfjs-webgpu's `dataSync()` reads: that works in browsers (an
   *   `OffscreenCanvas`) and not in Node, where tfjs-webgpu cannot read synchronously at
   *   all (a synchronous backend's steps there throw `INVALID_OPTION` naming
   *   `synchronous`, before anything changes).
   *
   * `false` uses the graph of stock tfjs ops that every other tfjs backend runs, as does
   * a webgpu whose device cannot compile the WGSL kernel (on `wasm` that graph holds
   * about a dozen temporaries per variable until the step ends: 40–70 bytes per
   * parameter, where the kernel needs 16). Default `true`.
   */
  readonly fusedKernel?: boolean;
}

/**
 * A {@link TensorBackend} over tfjs tensors; parameters are `tf.Variable`s.
 *
 * @example
 * ```ts
 * const backend: TfjsBackend = tfjsBackend();
 * backend.name; // 'tfjs-cpu'
 * ```
 */
export interface TfjsBackend extends TensorBackend<tf.Tensor> {
  /**
   * `tfjs-` and the tfjs backend active at creation: `tfjs-cpu`, `tfjs-wasm`, … (steps
   * always run on the backend active when they run).
   */
  readonly name: string;
  readonly dtype: 'float32';
  /**
   * Sets up, if it has not started yet, the path that steps on the tfjs backend active
   * now take (see {@link TfjsBackendOptions.fusedKernel}), and resolves once it is ready:
   * `true` when that is the shared WGSL kernel of `@rectify/backend-webgpu` (tfjs
   * `webgpu`), `false` for every other path, which needs no set-up. Never rejects.
   */
  ready(): Promise<boolean>;
  /** Frees the tensors the backend caches between a step's checks and its update. */
  dispose(): void;
}

/**
 * A {@link TfjsBackend} whose methods never return promises (`dataSync()` reads), so
 * `RAdam.step()` returns its report directly.
 *
 * @example
 * ```ts
 * const opt = new RAdam(tfjsBackend({ synchronous: true }));
 * const report = opt.step(grads); // a StepReport, not a promise
 * ```
 */
export interface SyncTfjsBackend extends SyncTensorBackend<tf.Tensor> {
  readonly name: string;
  readonly dtype: 'float32';
  readonly synchronous: true;
  /** As {@link TfjsBackend.ready}. */
  ready(): Promise<boolean>;
  dispose(): void;
}

/**
 * A {@link TfjsBackend} that reads with `data()`: `RAdam.step()` returns a promise.
 *
 * @example
 * ```ts
 * const opt = new RAdam(tfjsBackend({ synchronous: false }));
 * const report = await opt.step(grads);
 * ```
 */
export interface AsyncTfjsBackend extends TfjsBackend {
  readonly synchronous: false;
}

/** tfjs backends whose `dataSync()` is a plain memory copy, not a GPU pipeline stall. */
const SYNC_READ_BACKENDS: ReadonlySet<string> = new Set(['cpu', 'wasm', 'tensorflow']);

/**
 * Whether tfjs backend `name` reads tensors synchronously without stalling: the default
 * of {@link TfjsBackendOptions.synchronous}.
 *
 * @example
 * ```ts
 * readsSynchronously(tf.getBackend()); // true on 'cpu' and 'wasm', false on 'webgl'
 * ```
 */
export function readsSynchronously(name: string): boolean {
  return SYNC_READ_BACKENDS.has(name);
}

/**
 * A backend for core's `RAdam` over TensorFlow.js, on whichever tfjs backend is active
 * (`cpu`, `wasm`, `webgl`, `webgpu`, `tensorflow`).
 *
 * - **Tensors**: live `tf.Tensor`s of dtype `float32` (not disposed, nor freed by
 *   `tf.disposeVariables()`). Parameters must be `tf.Variable`s (updated with `assign`;
 *   `isParameter` refuses a plain tensor at registration); gradients may be any float32
 *   tensor and are never modified. Moments are non-trainable `tf.Variable`s the backend
 *   creates and the optimizer disposes. `fromArray` makes trainable variables.
 * - **A step** is one `tf.tidy` over every batch of the step: every tensor is checked,
 *   every allocation made, and only then is anything written, so a step that fails
 *   changes nothing. No tensor leaks. On `wasm`, every tensor the backend allocates (the
 *   step's, moments, `fromArray`, `write`) is checked against the heap's limit: past it,
 *   a typed `OUT_OF_MEMORY` naming the limit, before anything changed. Host readbacks: one small vector per step for the
 *   finiteness flag of the values written, plus one before the update when core needs
 *   the global gradient norm (`gradClipNorm`) or the non-finite check (`nonFinite`
 *   other than `'propagate'`).
 * - **Compute**: on tfjs' `cpu` and `wasm` backends, Rectify's own registered kernels
 *   (one pass per tensor, bit for bit core's float32 CPU backend; in place on wasm); on
 *   `webgpu`, `@rectify/backend-webgpu`'s WGSL kernel on tfjs' device once its arena is
 *   ready (one dispatch per step, GPU copies in and out, bit for bit that backend's
 *   results; synchronous reads only in browsers); elsewhere a short graph of stock tfjs
 *   ops (see {@link TfjsBackendOptions.fusedKernel}), scaling before squaring so that
 *   results agree with core's float64-computed ones wherever float32 holds them.
 * - **Sync or async**: see {@link TfjsBackendOptions.synchronous}. The overloads give a
 *   {@link SyncTfjsBackend} (synchronous `step()`) or an {@link AsyncTfjsBackend}
 *   (`step()` returns a promise) when `synchronous` is a literal.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { RAdam } from '@rectify/core';
 * import { tfjsBackend } from '@rectify/backend-tfjs';
 *
 * await tf.setBackend('cpu');
 * const w = tf.variable(tf.randomNormal([4, 3]));
 * const opt = new RAdam(tfjsBackend({ synchronous: true }), { lr: 1e-2 });
 * opt.registerTrainableWeights({ w });
 * const { grads } = tf.variableGrads(() => tf.sum(tf.square(w)), [w]);
 * opt.step({ w: grads[w.name]! }); // w updated in place, synchronously
 * tf.dispose(grads);
 * ```
 */
export function tfjsBackend(options: TfjsBackendOptions & { readonly synchronous: true }): SyncTfjsBackend;
export function tfjsBackend(options: TfjsBackendOptions & { readonly synchronous: false }): AsyncTfjsBackend;
export function tfjsBackend(options?: TfjsBackendOptions): SyncTfjsBackend | AsyncTfjsBackend;
export function tfjsBackend(options: TfjsBackendOptions = {}): SyncTfjsBackend | AsyncTfjsBackend {
  if (typeof options !== 'object' || options === null) {
    throw new RectifyError('INVALID_OPTION', 'tfjsBackend() options must be an object.', 'options');
  }
  if (options.synchronous !== undefined && typeof options.synchronous !== 'boolean') {
    throw new RectifyError(
      'INVALID_OPTION',
      `Option "synchronous" must be true or false, got ${String(options.synchronous)}.`,
      'synchronous',
    );
  }
  if (options.fusedKernel !== undefined && typeof options.fusedKernel !== 'boolean') {
    throw new RectifyError(
      'INVALID_OPTION',
      `Option "fusedKernel" must be true or false, got ${String(options.fusedKernel)}.`,
      'fusedKernel',
    );
  }
  const active = tf.getBackend();
  const synchronous = options.synchronous ?? readsSynchronously(active);
  const reader = hostReader(synchronous);
  const fused = options.fusedKernel !== false;
  const kernel = fused ? kernelPath(reader) : undefined;
  const graphs = new Map<string, StepPath>();
  const graphFor = (name: string): StepPath => {
    let graph = graphs.get(name);
    if (graph === undefined) {
      graph = opGraphPath(reader, reducerFor(name));
      graphs.set(name, graph);
    }
    return graph;
  };
  // The shared WGSL kernel's arena is created asynchronously: an asynchronous backend
  // awaits it in its first call, a synchronous one runs the stock ops until it is ready.
  const shared = !fused
    ? undefined
    : synchronous
      ? backgroundWebGpuPath(() => graphFor('webgpu'))
      : lazyWebGpuPath(() => graphFor('webgpu'));
  // Chosen per call from the tfjs backend active *now*: an optimizer built before
  // tf.setBackend() must not send a cpu kernel to wasm.
  const path = (): StepPath => {
    const now = tf.getBackend();
    if (synchronous && now === 'webgpu' && !webGpuReadsSynchronously()) {
      // Every path reads a flag back; tfjs-webgpu's dataSync() would throw mid-step here.
      throw new RectifyError(
        'INVALID_OPTION',
        'tfjs-webgpu cannot read synchronously here: its dataSync() needs OffscreenCanvas (browsers), which Node lacks. Use tfjsBackend({ synchronous: false }) (await each step), or RAdamOptimizer in a browser.',
        'synchronous',
      );
    }
    if (kernel !== undefined && fusedKernelsAvailable(now)) return kernel;
    if (shared !== undefined && now === 'webgpu') return shared;
    return graphFor(now);
  };

  const backend: TfjsBackend = {
    name: `tfjs-${active}`,
    dtype: 'float32',
    synchronous,
    isTensor: isLiveTensor,
    isParameter: isLiveVariable,
    shapeOf: (tensor) => tensor.shape,
    fromArray: (data, shape) =>
      // A trainable variable, so callers can use it as a parameter; the temporary tensor
      // it is built from is freed by the tidy (the variable keeps the data alive).
      tf.tidy(() => tf.variable(checkedTensor(shape, Float32Array.from(data)), true)),
    zerosLike: (like) => tf.tidy(() => tf.variable(checkedTensor(like.shape), false)),
    // A copy: tfjs may hand out its own buffer.
    read: (tensor): MaybePromise<HostArray> => map(reader.read(tensor), (values) => Float32Array.from(values)),
    write: (tensor, data) => {
      const variable = liveVariable(tensor, 'the tensor written to');
      tf.tidy(() => variable.assign(checkedTensor(variable.shape, Float32Array.from(data))));
    },
    // Ranges are read (a checkpoint streams in pieces), never written: a variable's data may
    // be shared with tensors cloned from it, so it is only ever replaced whole.
    readInto: (tensor, begin, target) => {
      const piece = tf.tidy(() => tensor.reshape([-1]).slice(begin, target.length));
      let values: MaybePromise<ArrayLike<number>>;
      try {
        values = reader.read(piece);
      } catch (error) {
        piece.dispose();
        throw error;
      }
      if (values instanceof Promise) return values.then((v) => target.set(v)).finally(() => piece.dispose());
      target.set(values as ArrayLike<number>);
      piece.dispose();
    },
    disposeTensor: (tensor) => {
      // Not a second dispose() of a variable whose data tf.disposeVariables() already
      // freed: that would unregister whichever variable holds its name now.
      if (isLiveTensor(tensor)) tensor.dispose();
    },
    sumOfSquares: (tensors) => path().sumOfSquares(tensors),
    allFinite: (tensors) => path().allFinite(tensors),
    // Each path checks every tensor, then computes every new value before it assigns
    // the first: all or nothing.
    applyRAdam: (batches) => path().applyRAdam(batches),
    // tfjs counts tensors per process, the user's included: a flat count means no leak.
    resourceCounts: () => ({ tensors: tf.memory().numTensors }),
    ready: async () => (shared !== undefined && tf.getBackend() === 'webgpu' ? shared.ready() : false),
    dispose: () => {
      shared?.dispose();
      for (const graph of graphs.values()) graph.dispose();
    },
  };
  return backend as SyncTfjsBackend | AsyncTfjsBackend;
}

/** A {@link StepPath} whose set-up may be awaited: `ready()` says whether it is the shared kernel. */
interface PreparedPath extends StepPath {
  ready(): Promise<boolean>;
}

/**
 * The shared WGSL kernel's path (`make`: `sharedWebGpuPath` or `sharedWebGpuSyncPath`)
 * for the tfjs webgpu backend instance active now, set up when first asked for (again
 * if tfjs' backend was replaced), the last one disposed.
 */
function webGpuPathOf(make: () => Promise<StepPath | undefined>) {
  let current: { readonly owner: object; readonly path: Promise<StepPath | undefined>; settled?: StepPath | null } | undefined;
  const forOwner = () => {
    const owner = tf.backend();
    if (current?.owner !== owner) {
      void current?.path.then((path) => path?.dispose());
      const entry: NonNullable<typeof current> = { owner, path: make() };
      void entry.path.then((path) => {
        entry.settled = path ?? null;
      });
      current = entry;
    }
    return current;
  };
  return {
    forOwner,
    dispose: () => {
      void current?.path.then((path) => path?.dispose());
      current = undefined;
    },
  };
}

/**
 * A {@link StepPath} that sets up `sharedWebGpuPath` on first use and runs every call on
 * it (awaiting it), or on `fallback()` where it cannot be had.
 */
function lazyWebGpuPath(fallback: () => StepPath): PreparedPath {
  const shared = webGpuPathOf(() => sharedWebGpuPath(fallback));
  const path = async (): Promise<StepPath> => (await shared.forOwner().path) ?? fallback();
  return {
    sumOfSquares: async (tensors) => (await path()).sumOfSquares(tensors),
    allFinite: async (tensors) => (await path()).allFinite(tensors),
    applyRAdam: async (batches) => (await path()).applyRAdam(batches),
    ready: async () => (await shared.forOwner().path) !== undefined,
    dispose: shared.dispose,
  };
}

/**
 * A synchronous {@link StepPath} that starts setting up `sharedWebGpuSyncPath` in the
 * background on first use and runs every call on `fallback()` (the stock ops: the same
 * numerics within SPEC.md's tolerance) until it is ready, then on it. A step never
 * switches paths half-way: the set-up completes in a later task, never inside a
 * synchronous step.
 */
function backgroundWebGpuPath(fallback: () => StepPath): PreparedPath {
  const shared = webGpuPathOf(() => sharedWebGpuSyncPath(fallback));
  const path = (): StepPath => shared.forOwner().settled ?? fallback();
  return {
    sumOfSquares: (tensors) => path().sumOfSquares(tensors),
    allFinite: (tensors) => path().allFinite(tensors),
    applyRAdam: (batches) => path().applyRAdam(batches),
    ready: async () => (await shared.forOwner().path) !== undefined,
    dispose: shared.dispose,
  };
}
