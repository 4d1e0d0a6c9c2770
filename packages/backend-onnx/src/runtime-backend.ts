import {
  RectifyError,
  sizeOf,
  type FloatArray,
  type HostArray,
  type RAdamBatch,
  type RAdamScalars,
  type TensorBackend,
} from '@rectify/core';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { OnnxTensor } from './onnx-tensor.js';
import { invalidOption, positiveInteger } from './option-checks.js';
import type { OrtRuntime, OrtSessionOptions } from './ort-runtime.js';
import {
  NON_FINITE_OUTPUT,
  REDUCTION_INPUT,
  SUM_OF_SQUARES_OUTPUT,
  buildNonFiniteProbeModel,
  buildSumOfSquaresModel,
} from './reduction-graph.js';
import { SessionSet } from './sessions.js';
import {
  KERNEL_NON_FINITE_OUTPUT,
  buildRAdamKernelModel,
  kernelScalarValues,
  kernelStages,
  type KernelStages,
} from './step-graph.js';

/**
 * Options of {@link createOnnxBackend}: what differs between ONNX Runtime packages is
 * passed in, the rest (graphs, chunking, packing, the all-or-nothing step) is shared.
 *
 * @example
 * ```ts
 * createOnnxBackend(ort, { sessionOptions: { executionProviders: ['wasm'] }, names: { float32: 'onnx-web', float64: 'onnx-web64' }, outputsInPlace: false });
 * ```
 */
export interface OnnxRuntimeBackendOptions<N extends string = string> {
  /** Element type of parameters and moments: `'float32'` (default) or `'float64'`. */
  readonly dtype?: 'float32' | 'float64';
  /**
   * Elements per `session.run`: a tensor is updated in runs over consecutive chunks of this
   * many elements. Default `262144` (1 MiB of float32). Why chunk at all: ONNX Runtime runs a
   * graph one operator at a time, each a full pass over its inputs, so on a whole 10M-element
   * tensor every intermediate lives in RAM; over a chunk they stay in cache. And
   * onnxruntime-node copies every output back into a fresh JavaScript buffer after a run
   * (even a preallocated one), which is cheap for small buffers and page-faults for large
   * ones. Chunking changes nothing numerically for the update, which is element-wise.
   */
  readonly chunkSize?: number;
  /** Options of every session, execution providers included (used as given). */
  readonly sessionOptions: OrtSessionOptions;
  /** The backend's name for each element type. Default `onnx` and `onnx64`. */
  readonly names?: { readonly float32: N; readonly float64: N };
  /**
   * Whether the runtime writes a run's outputs into preallocated output tensors (fetches).
   * `true` (default, onnxruntime-node): parameters and moments are outputs that alias the
   * inputs. `false` (onnxruntime-web 1.30 returns preallocated CPU outputs unchanged): each
   * run returns fresh outputs and the backend copies them into the tensors.
   */
  readonly outputsInPlace?: boolean;
  /**
   * Whether runs of different sessions may be in flight together. `true` (default,
   * onnxruntime-node): a step issues up to 32 runs before awaiting them. `false`
   * (onnxruntime-web 1.30: wasm runs of two sessions in flight together fail or never settle):
   * each run is awaited before the next is issued.
   */
  readonly concurrentRuns?: boolean;
}

/**
 * An ONNX Runtime backend: see `onnxBackend` (onnxruntime-node) and
 * {@link createOnnxBackend} (any runtime). `N` is its name's type.
 *
 * @example
 * ```ts
 * const backend: OnnxBackend<Float32Array> = onnxBackend();
 * ```
 */
export interface OnnxBackend<A extends FloatArray = FloatArray, N extends string = 'onnx' | 'onnx64'> extends TensorBackend<OnnxTensor<A>> {
  readonly name: N;
  readonly dtype: 'float32' | 'float64';
  readonly synchronous: false;
  /** Elements per `session.run` (see {@link OnnxRuntimeBackendOptions.chunkSize}). */
  readonly chunkSize: number;
  /** ONNX Runtime sessions this backend holds now (two reductions, one per kind of step). */
  readonly sessionCount: number;
  /**
   * Adopts `data` as a tensor of shape `shape` (default `[data.length]`) without copying:
   * the optimizer then updates `data` itself. A wrapped gradient is copied when `step()` is
   * called ({@link OnnxBackend.capture}), so its buffer may be reused at once.
   *
   * @throws RectifyError `INVALID_TENSOR` for an array of the wrong type, `SHAPE_MISMATCH`
   *   when the shape's size differs from `data.length`.
   */
  wrap(data: A, shape?: readonly number[]): OnnxTensor<A>;
  /**
   * A copy of `tensor` that its owner can no longer change, released with `disposeTensor`.
   * Core calls it for every gradient when `step()` is called, so the values it checks for
   * finiteness are the values the update uses, even when the caller overwrites a wrapped
   * buffer before the step resolves.
   *
   * @throws RectifyError `INVALID_TENSOR` for a released tensor or one whose memory is gone.
   */
  capture(tensor: OnnxTensor<A>): OnnxTensor<A>;
  /**
   * Creates the sessions a plain step needs now: both reductions and the step graphs of
   * options without clipping or decay, before and after rectification (otherwise each is
   * created on first use).
   */
  ready(): Promise<void>;
  /**
   * Releases every session; the backend cannot be used afterwards. A task already queued,
   * or one that has not started writing, fails with `DISPOSED` and changes nothing; a step
   * whose runs have begun completes first (every tensor updated), and the sessions are
   * released when it settles: disposal never leaves a step half applied.
   */
  dispose(): void;
}

type Reduction = 'sumOfSquares' | 'nonFiniteProbe';

const DEFAULT_CHUNK_SIZE = 1 << 18;

/**
 * Runs issued before the backend awaits them: onnxruntime-node runs each synchronously on
 * this thread in its own `setImmediate` (onnxruntime-web's WebAssembly one after another),
 * so a group runs back to back, and awaiting the group lets the event loop (I/O, timers)
 * turn between groups.
 */
const RUNS_PER_GROUP = 32;

/** The step graph of options without clipping or decay, before (`false`) or after rectification. */
const plainStages = (rectified: boolean): KernelStages => ({ gradScale: false, clip: false, weightDecay: false, paramScale: false, rectified });

/** One `session.run` of the step graph: its session, feeds and preallocated outputs. */
interface StepRun {
  readonly session: InferenceSession;
  readonly feeds: Record<string, Tensor>;
  /** Preallocated outputs, or `undefined`: the run returns fresh ones, copied into `targets`. */
  readonly fetches: Record<string, Tensor | null> | undefined;
  /** Where `param_out`, `m_out`, `v_out` belong. */
  readonly targets: Readonly<Record<(typeof STEP_STATE_OUTPUTS)[number], Tensor>>;
}

/** The step graph's outputs that overwrite its inputs. */
const STEP_STATE_OUTPUTS = ['param_out', 'm_out', 'v_out'] as const;

/** A small tensor's place in the step's staging buffers. */
interface Packed {
  readonly slot: RAdamBatch<OnnxTensor>['slots'][number];
  readonly offset: number;
}

/**
 * A Rectify backend on any ONNX Runtime JavaScript package (`ort`: `onnxruntime-node`,
 * `onnxruntime-web`, …), which the caller imports and configures. The RAdam update runs as
 * an ONNX graph built from standard opset-17 operators (see `buildRAdamKernelModel`): its
 * inputs are the tensors and core's `RAdamScalars`, so one session serves every option set
 * and every step. Tensors are {@link OnnxTensor}s (typed arrays plus cached `Tensor`
 * views); parameters and moments are updated in place. `sumOfSquares` (global-norm
 * clipping) and `allFinite` (the `nonFinite` policy) run as small graphs too.
 *
 * `applyRAdam` runs every batch of a step as one exclusive task: it checks every tensor
 * (live, same element count) before the first run, and returns whether every parameter
 * and moment written is finite, from a flag the step graph computes in the same run.
 * Asynchronous (`synchronous: false`): `RAdam.step()` returns a promise.
 *
 * @param ort - the runtime module (`import * as ort from 'onnxruntime-web'`).
 * @throws RectifyError `INVALID_OPTION` for a `dtype` other than `'float32'`/`'float64'`
 *   or a `chunkSize` that is not a positive integer.
 * @example
 * ```ts
 * import * as ort from 'onnxruntime-web';
 * const backend = createOnnxBackend(ort, { sessionOptions: { executionProviders: ['wasm'] }, outputsInPlace: false });
 * ```
 */
export function createOnnxBackend<N extends string = 'onnx' | 'onnx64'>(
  ort: OrtRuntime,
  options: OnnxRuntimeBackendOptions<N>,
): OnnxBackend<FloatArray, N> {
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw invalidOption('dtype', `must be "float32" or "float64", got ${String(dtype)}.`);
  }
  const chunkSize = positiveInteger('chunkSize', options.chunkSize, DEFAULT_CHUNK_SIZE);
  const names = options.names ?? ({ float32: 'onnx', float64: 'onnx64' } as { float32: N; float64: N });
  const runsPerGroup = (options.concurrentRuns ?? true) ? RUNS_PER_GROUP : 1;
  return new OnnxRuntimeBackend<N>(ort, dtype, names[dtype], chunkSize, options.sessionOptions, options.outputsInPlace ?? true, runsPerGroup);
}

const REDUCTIONS: Record<Reduction, (dtype: 'float32' | 'float64') => Uint8Array> = {
  sumOfSquares: buildSumOfSquaresModel,
  nonFiniteProbe: buildNonFiniteProbeModel,
};

class OnnxRuntimeBackend<N extends string> implements OnnxBackend<FloatArray, N> {
  readonly name: N;
  readonly synchronous = false;
  readonly dtype: 'float32' | 'float64';
  readonly chunkSize: number;
  readonly #ort: OrtRuntime;
  /** Outputs are written into preallocated fetches (else copied from fresh ones). */
  readonly #outputsInPlace: boolean;
  /** Runs issued before awaiting them (see {@link RUNS_PER_GROUP}; 1 without concurrent runs). */
  readonly #runsPerGroup: number;
  readonly #ArrayType: Float32ArrayConstructor | Float64ArrayConstructor;
  /** Tensors below this many elements are packed into one staging buffer per step. */
  readonly #packBelow: number;
  readonly #sessions: SessionSet<string>;
  /** Staging for packed small tensors (param, grad, m, v), grown on demand, reused by every step. */
  #staging: FloatArray[] = [];
  /** Tasks never interleave: two optimizers may share this backend. */
  #queue: Promise<unknown> = Promise.resolve();
  /** A task is running: disposal waits for it to settle before releasing the sessions. */
  #busy = false;
  #disposed = false;

  constructor(ort: OrtRuntime, dtype: 'float32' | 'float64', name: N, chunkSize: number, sessionOptions: OrtSessionOptions, outputsInPlace: boolean, runsPerGroup: number) {
    this.#ort = ort;
    this.#outputsInPlace = outputsInPlace;
    this.#runsPerGroup = runsPerGroup;
    this.dtype = dtype;
    this.name = name;
    this.chunkSize = chunkSize;
    this.#ArrayType = dtype === 'float64' ? Float64Array : Float32Array;
    this.#sessions = new SessionSet(ort, sessionOptions);
    // A tensor of a quarter chunk or less costs a run of its own otherwise: packing copies it
    // twice on the host (memcpy speed) and shares one run with its neighbours.
    this.#packBelow = Math.floor(chunkSize / 4);
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Inference sessions held (tensors are typed arrays, reclaimed by the garbage collector). */
  resourceCounts(): Readonly<Record<string, number>> {
    return { sessions: this.#sessions.size };
  }

  isTensor(value: unknown): value is OnnxTensor {
    return value instanceof OnnxTensor && value.runtime === this.#ort && value.data instanceof this.#ArrayType && value.live;
  }

  shapeOf(tensor: OnnxTensor): readonly number[] {
    return tensor.shape;
  }

  fromArray(data: ArrayLike<number>, shape: readonly number[]): OnnxTensor {
    this.#checkSize(data.length, shape);
    return new OnnxTensor(this.#ArrayType.from(data), shape, this.#ort);
  }

  wrap(data: FloatArray, shape: readonly number[] = [data.length]): OnnxTensor {
    if (!(data instanceof this.#ArrayType)) {
      throw new RectifyError(
        'INVALID_TENSOR',
        `The ${this.name} backend wraps ${this.#ArrayType.name}s, got ${Object.prototype.toString.call(data)}.`,
      );
    }
    this.#checkSize(data.length, shape);
    return new OnnxTensor(data, shape, this.#ort);
  }

  capture(tensor: OnnxTensor): OnnxTensor {
    return new OnnxTensor(this.#live(tensor).data.slice(), tensor.shape, this.#ort);
  }

  zerosLike(like: OnnxTensor): OnnxTensor {
    return new OnnxTensor(new this.#ArrayType(like.size), like.shape, this.#ort);
  }

  read(tensor: OnnxTensor): HostArray {
    return this.#live(tensor).data.slice();
  }

  write(tensor: OnnxTensor, data: ArrayLike<number>): void {
    this.#live(tensor).data.set(data);
  }

  readInto(tensor: OnnxTensor, begin: number, target: HostArray): void {
    target.set(this.#live(tensor).data.subarray(begin, begin + target.length));
  }

  writeRange(tensor: OnnxTensor, begin: number, data: HostArray): void {
    this.#live(tensor).data.set(data, begin);
  }

  disposeTensor(tensor: OnnxTensor): void {
    tensor.release();
  }

  ready(): Promise<void> {
    return this.#exclusive(async () => {
      await Promise.all([
        ...(Object.keys(REDUCTIONS) as Reduction[]).map((graph) => this.#reduction(graph)),
        this.#stepSession(plainStages(false)),
        this.#stepSession(plainStages(true)),
      ]);
    });
  }

  sumOfSquares(tensors: readonly OnnxTensor[]): Promise<number> {
    // Chunk sums are added on the host in a fixed order: the result is deterministic.
    return this.#reduce(tensors, 'sumOfSquares', 0, (sum, result) => sum + (result[SUM_OF_SQUARES_OUTPUT]!.data as Float64Array)[0]!);
  }

  allFinite(tensors: readonly OnnxTensor[]): Promise<boolean> {
    return this.#reduce(
      tensors,
      'nonFiniteProbe',
      true,
      (_, result) => (result[NON_FINITE_OUTPUT]!.data as FloatArray)[0] === 0,
      (finite) => !finite, // the first non-finite chunk decides
    );
  }

  applyRAdam(batches: readonly RAdamBatch<OnnxTensor>[]): Promise<boolean> {
    return this.#exclusive(async () => {
      // All or nothing. Every check that can fail, and every session, comes before the first
      // run; small tensors are updated in staging buffers and copied back only after every run
      // has succeeded; from the first run on, disposal waits for the step (see dispose()).
      for (const { slots } of batches) {
        for (const slot of slots) {
          const size = this.#live(slot.param).size;
          for (const tensor of [slot.grad, slot.firstMoment, slot.secondMoment]) {
            if (this.#live(tensor).size !== size) {
              throw new RectifyError('SHAPE_MISMATCH', `A slot mixes tensors of ${size} and ${tensor.size} elements.`);
            }
          }
        }
      }
      const sessions = await Promise.all(batches.map(({ scalars }) => this.#stepSession(kernelStages(scalars))));
      const packed = batches.map(({ slots }) => slots.filter((slot) => slot.param.size < this.#packBelow));
      const staging = this.#stagingFor(packed.reduce((total, slots) => total + slots.reduce((n, slot) => n + slot.param.size, 0), 0));
      if (this.#disposed) throw this.#disposedError();

      const stagedRuns: StepRun[] = [];
      const inPlaceRuns: StepRun[] = [];
      const placements: Packed[] = [];
      let offset = 0;
      batches.forEach(({ slots, scalars }, b) => {
        const session = sessions[b]!;
        const scalarFeeds = this.#scalarFeeds(session, scalars);
        const begin = offset;
        for (const slot of packed[b]!) {
          [slot.param, slot.grad, slot.firstMoment, slot.secondMoment].forEach((tensor, i) => staging[i]!.set(tensor.data, offset));
          placements.push({ slot, offset });
          offset += slot.param.size;
        }
        for (let start = begin; start < offset; start += this.chunkSize) {
          const end = Math.min(offset, start + this.chunkSize);
          const [p, g, m, v] = staging.map((array) => new this.#ort.Tensor(this.dtype, array.subarray(start, end), [end - start]));
          stagedRuns.push(this.#stepRun(session, scalarFeeds, p!, g!, m!, v!));
        }
        for (const slot of slots) {
          if (slot.param.size < this.#packBelow) continue;
          const c = this.chunkSize;
          const [p, g, m, v] = [slot.param.chunks(c), slot.grad.chunks(c), slot.firstMoment.chunks(c), slot.secondMoment.chunks(c)];
          for (let i = 0; i < p.length; i++) inPlaceRuns.push(this.#stepRun(session, scalarFeeds, p[i]!, g[i]!, m[i]!, v[i]!));
        }
      });

      // Staged runs write nothing the user sees: a failure there leaves every tensor as it
      // was, so it is a RectifyError (core rethrows it and the optimizer stays usable).
      let finite: boolean;
      try {
        finite = await this.#runAll(stagedRuns);
      } catch (error) {
        throw new RectifyError('BACKEND_ERROR', `ONNX Runtime failed during applyRAdam before any tensor was written: ${String(error)}`, undefined, { cause: error });
      }
      try {
        finite = (await this.#runAll(inPlaceRuns)) && finite;
      } catch (error) {
        // ONNX Runtime itself failed (every check above passed): some chunks hold new values.
        throw new Error('ONNX Runtime failed during applyRAdam, after some chunks had been updated in place.', { cause: error });
      }
      for (const { slot, offset: at } of placements) {
        const end = at + slot.param.size;
        slot.param.data.set(staging[0]!.subarray(at, end));
        slot.firstMoment.data.set(staging[2]!.subarray(at, end));
        slot.secondMoment.data.set(staging[3]!.subarray(at, end));
      }
      return finite;
    });
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    // A running task finishes with its sessions (a step then applies completely); queued
    // ones see #disposed and fail with DISPOSED. Sessions are released only between tasks,
    // so a release never overlaps a run.
    if (this.#busy) void this.#queue.then(() => this.#sessions.releaseAll());
    else this.#sessions.releaseAll();
  }

  /** The step graph's scalar inputs for `scalars`, as rank-0 tensors of the element type. */
  #scalarFeeds(session: InferenceSession, scalars: RAdamScalars): Record<string, Tensor> {
    const values: Record<string, number> = kernelScalarValues(scalars);
    const feeds: Record<string, Tensor> = {};
    for (const name of session.inputNames) {
      const value = values[name];
      if (value !== undefined) feeds[name] = new this.#ort.Tensor(this.dtype, this.#ArrayType.of(value), []);
    }
    return feeds;
  }

  /** A run of the step graph that writes `param_out`, `m_out`, `v_out` over `p`, `m`, `v`. */
  #stepRun(session: InferenceSession, scalars: Record<string, Tensor>, p: Tensor, g: Tensor, m: Tensor, v: Tensor): StepRun {
    // Preallocated outputs over the input buffers: ORT writes the new values in place. Safe
    // because each input is read only by nodes upstream of the output that overwrites it
    // (see step-graph.ts), so no node reads an element after it is written. `null`: ORT
    // allocates the scalar flag. A run reads its feeds later (in a setImmediate): one
    // object per run. Without in-place outputs, #runAll copies fresh ones back.
    const targets = { param_out: p, m_out: m, v_out: v };
    return {
      session,
      feeds: { ...scalars, param: p, grad: g, m, v },
      fetches: this.#outputsInPlace ? { ...targets, [KERNEL_NON_FINITE_OUTPUT]: null } : undefined,
      targets,
    };
  }

  /**
   * Issues `runs` in groups of {@link RUNS_PER_GROUP} (or one by one) without awaiting each, and says whether
   * every flag is finite. Every run of a group settles before a failure is thrown, so no run
   * is still writing when the caller hears of it; every run happens even after a non-finite
   * one (the contract applies the whole step).
   */
  async #runAll(runs: readonly StepRun[]): Promise<boolean> {
    let finite = true;
    for (let start = 0; start < runs.length; start += this.#runsPerGroup) {
      const group = runs.slice(start, start + this.#runsPerGroup);
      const settled = await Promise.allSettled(group.map(({ session, feeds, fetches }) => (fetches === undefined ? session.run(feeds) : session.run(feeds, fetches))));
      for (const result of settled) if (result.status === 'rejected') throw result.reason;
      settled.forEach((result, i) => {
        const outputs = (result as PromiseFulfilledResult<InferenceSession.ReturnType>).value;
        finite = (outputs[KERNEL_NON_FINITE_OUTPUT]!.data as FloatArray)[0] === 0 && finite;
        if (this.#outputsInPlace) return;
        // Every run of the group has read its inputs: writing them now changes no result.
        const { targets } = group[i]!;
        for (const name of STEP_STATE_OUTPUTS) (targets[name].data as FloatArray).set(outputs[name]!.data as FloatArray);
      });
    }
    return finite;
  }

  /** The four staging arrays (param, grad, m, v), grown to at least `size` elements. */
  #stagingFor(size: number): FloatArray[] {
    if (this.#staging.length === 0 || this.#staging[0]!.length < size) this.#staging = [0, 1, 2, 3].map(() => new this.#ArrayType(size));
    return this.#staging;
  }

  /**
   * Runs the reduction graph `graph` over every chunk of every tensor, folding the results
   * on the host in a fixed order, until `done` says the answer is known. Reads only:
   * disposal at any point is a plain `DISPOSED`.
   */
  #reduce<R>(
    tensors: readonly OnnxTensor[],
    graph: Reduction,
    initial: R,
    fold: (acc: R, result: InferenceSession.ReturnType) => R,
    done: (acc: R) => boolean = () => false,
  ): Promise<R> {
    return this.#exclusive(async () => {
      const chunks = tensors.map((tensor) => this.#live(tensor).chunks(this.chunkSize));
      const session = await this.#reduction(graph);
      let acc = initial;
      for (const views of chunks) {
        for (const x of views) {
          if (this.#disposed) throw this.#disposedError();
          try {
            acc = fold(acc, await session.run({ [REDUCTION_INPUT]: x }));
          } catch (error) {
            if (this.#disposed) throw this.#disposedError(error);
            throw error;
          }
          if (done(acc)) return acc;
        }
      }
      return acc;
    });
  }

  #reduction(graph: Reduction): Promise<InferenceSession> {
    return this.#sessions.get(graph, () => REDUCTIONS[graph](this.dtype));
  }

  /** The session of the step graph specialised to `stages`, one per kind of step. */
  #stepSession(stages: KernelStages): Promise<InferenceSession> {
    const key = `step:${Number(stages.gradScale)}${Number(stages.clip)}${Number(stages.weightDecay)}${Number(stages.paramScale)}${Number(stages.rectified)}`;
    return this.#sessions.get(key, () => buildRAdamKernelModel(this.dtype, stages));
  }

  #disposedError(cause?: unknown): RectifyError {
    return new RectifyError('DISPOSED', `This ${this.name} backend has been disposed.`, undefined, { cause });
  }

  /** `tensor` when it is a live tensor of this backend; else `INVALID_TENSOR`. */
  #live(tensor: OnnxTensor): OnnxTensor {
    if (this.isTensor(tensor)) return tensor;
    const value: unknown = tensor; // callers may pass anything at run time
    throw new RectifyError(
      'INVALID_TENSOR',
      value instanceof OnnxTensor && value.data instanceof this.#ArrayType
        ? `This ${this.name} tensor has been released (disposeTensor) or its memory is gone (a detached buffer).`
        : `Not a tensor of the ${this.name} backend: ${Object.prototype.toString.call(value)}.`,
    );
  }

  /** Runs `task` after every earlier task of this backend has finished. */
  #exclusive<R>(task: () => Promise<R>): Promise<R> {
    if (this.#disposed) return Promise.reject(this.#disposedError());
    const result = this.#queue.then(async () => {
      if (this.#disposed) throw this.#disposedError();
      this.#busy = true;
      try {
        return await task();
      } finally {
        this.#busy = false;
      }
    });
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #checkSize(length: number, shape: readonly number[]): void {
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0) || sizeOf(shape) !== length) {
      throw new RectifyError(
        'SHAPE_MISMATCH',
        `Shape [${String(shape)}] does not describe ${length} elements.`,
      );
    }
  }
}
