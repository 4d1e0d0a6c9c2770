import {
  RectifyError,
  sizeOf,
  type FloatArray,
  type HostArray,
  type RAdamBatch,
  type RAdamScalars,
  type TensorBackend,
} from '@rectify/core';
import ort from 'onnxruntime-node';
import { OnnxTensor } from './onnx-tensor.js';
import {
  NON_FINITE_OUTPUT,
  REDUCTION_INPUT,
  SUM_OF_SQUARES_OUTPUT,
  buildNonFiniteProbeModel,
  buildSumOfSquaresModel,
} from './reduction-graph.js';
import { SessionSet } from './sessions.js';
import { KERNEL_NON_FINITE_OUTPUT, KERNEL_SCALAR_INPUTS, buildRAdamKernelModel } from './step-graph.js';

/**
 * Options of {@link onnxBackend}.
 *
 * @example
 * ```ts
 * onnxBackend({ dtype: 'float32', intraOpNumThreads: os.availableParallelism() });
 * ```
 */
export interface OnnxBackendOptions {
  /**
   * Element type of parameters and moments: `'float32'` (default, name `onnx`) or
   * `'float64'` (name `onnx64`; ONNX Runtime's CPU kernels for every op used support double).
   */
  readonly dtype?: 'float32' | 'float64';
  /**
   * Threads ONNX Runtime splits each operator over. Default: ONNX Runtime's own default
   * (one per physical core).
   */
  readonly intraOpNumThreads?: number;
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
  /**
   * Let ONNX Runtime's worker threads busy-wait for the next operator (its
   * `session.intra_op.allow_spinning`). Default `false`: the backend alternates between
   * JavaScript and up to three sessions, each with its own thread pool, and threads spinning
   * in an idle pool steal cores from the one with work. Measured on 2 cores, a 10M-element
   * `RAdam.step` took 81 ms with spinning and 53–64 ms without (and 359 ms against 68 ms for
   * the update alone while other processes loaded the machine).
   */
  readonly allowSpinning?: boolean;
  /** Extra ONNX Runtime session options (execution providers stay `['cpu']`). */
  readonly sessionOptions?: ort.InferenceSession.SessionOptions;
}

/**
 * The ONNX Runtime backend: see {@link onnxBackend}.
 *
 * @example
 * ```ts
 * const backend: OnnxBackend<Float32Array> = onnxBackend();
 * ```
 */
export interface OnnxBackend<A extends FloatArray = FloatArray> extends TensorBackend<OnnxTensor<A>> {
  readonly name: 'onnx' | 'onnx64';
  readonly dtype: 'float32' | 'float64';
  readonly synchronous: false;
  /** Elements per `session.run` (see {@link OnnxBackendOptions.chunkSize}). */
  readonly chunkSize: number;
  /** ONNX Runtime sessions this backend holds now (0 to 3). */
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
  /** Creates every session now (otherwise they are created on first use). */
  ready(): Promise<void>;
  /**
   * Releases every session; the backend cannot be used afterwards. A task already queued
   * fails with `DISPOSED` before writing anything; a step whose runs had begun writing
   * fails with a plain error (core reports it as `BACKEND_ERROR` and halts the optimizer,
   * since some chunks hold new values and others old ones).
   */
  dispose(): void;
}

type GraphName = 'step' | 'sumOfSquares' | 'nonFiniteProbe';

const DEFAULT_CHUNK_SIZE = 1 << 18;

function invalidOption(option: string, message: string): RectifyError {
  return new RectifyError('INVALID_OPTION', `Option "${option}" ${message}`, option);
}

function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw invalidOption(option, `must be a positive integer, got ${value}.`);
  return value;
}

/**
 * A Rectify backend on ONNX Runtime (`onnxruntime-node`, CPU execution provider). The
 * RAdam update runs as an ONNX graph built from standard opset-17 operators (see
 * `buildRAdamKernelModel`): its inputs are the tensors and core's `RAdamScalars`, so one
 * session serves every option set and every step. Tensors are {@link OnnxTensor}s (typed
 * arrays plus cached `ort.Tensor` views); parameters and moments are updated in place, as
 * preallocated outputs of the graph that alias its inputs. `sumOfSquares` (global-norm
 * clipping) and `allFinite` (the `nonFinite` policy) run as small graphs too.
 *
 * `applyRAdam` runs every batch of a step as one exclusive task: it checks every tensor
 * (live, same element count) before the first run, and returns whether every parameter
 * and moment written is finite, from a flag the step graph computes in the same run.
 *
 * Asynchronous (`synchronous: false`): `RAdam.step()` returns a promise; gradients are
 * captured (copied) when it is called.
 *
 * @example
 * ```ts
 * import { RAdam } from '@rectify/core';
 * import { onnxBackend } from '@rectify/backend-onnx';
 *
 * const backend = onnxBackend({ intraOpNumThreads: 4 });
 * const w = backend.wrap(new Float32Array(1024));
 * const opt = new RAdam(backend, { lr: 1e-3, gradClipNorm: 1 });
 * opt.registerTrainableWeights({ w });
 * await opt.step({ w: backend.wrap(gradient) }); // w's Float32Array is updated in place
 * backend.dispose();
 * ```
 */
export function onnxBackend(options: { dtype: 'float64' } & OnnxBackendOptions): OnnxBackend<Float64Array>;
export function onnxBackend(options?: { dtype?: 'float32' } & OnnxBackendOptions): OnnxBackend<Float32Array>;
export function onnxBackend(options?: OnnxBackendOptions): OnnxBackend;
export function onnxBackend(options: OnnxBackendOptions = {}): OnnxBackend {
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw invalidOption('dtype', `must be "float32" or "float64", got ${String(dtype)}.`);
  }
  const chunkSize = positiveInteger('chunkSize', options.chunkSize, DEFAULT_CHUNK_SIZE);
  const threads = options.intraOpNumThreads;
  if (threads !== undefined && (!Number.isSafeInteger(threads) || threads < 0)) {
    throw invalidOption('intraOpNumThreads', `must be a non-negative integer (0: ONNX Runtime's default), got ${threads}.`);
  }
  if (options.allowSpinning !== undefined && typeof options.allowSpinning !== 'boolean') {
    throw invalidOption('allowSpinning', `must be true or false, got ${String(options.allowSpinning)}.`);
  }
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    ...options.sessionOptions,
    executionProviders: ['cpu'],
    ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
    extra: withSpinning(options.sessionOptions?.extra, options.allowSpinning ?? false),
  };
  return new OnnxRuntimeBackend(dtype, chunkSize, sessionOptions);
}

/**
 * `extra` with `session.intra_op.allow_spinning` set, keeping every other entry. Records
 * have null prototypes: ONNX Runtime's binding walks every enumerable key, inherited ones
 * included, so a property another library put on `Object.prototype` would reach it.
 */
function withSpinning(extra: Record<string, unknown> | undefined, allow: boolean): Record<string, unknown> {
  const session = (extra?.session ?? {}) as Record<string, unknown>;
  const intraOp = (session.intra_op ?? {}) as Record<string, unknown>;
  return ownRecord({ ...extra, session: ownRecord({ ...session, intra_op: ownRecord({ ...intraOp, allow_spinning: allow ? '1' : '0' }) }) });
}

/** The own entries of `entries` in a record with no prototype. */
function ownRecord(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.assign(Object.create(null) as Record<string, unknown>, entries);
}

const MODELS: Record<GraphName, (dtype: 'float32' | 'float64') => Uint8Array> = {
  step: buildRAdamKernelModel,
  sumOfSquares: buildSumOfSquaresModel,
  nonFiniteProbe: buildNonFiniteProbeModel,
};

class OnnxRuntimeBackend implements OnnxBackend {
  readonly name: 'onnx' | 'onnx64';
  readonly synchronous = false;
  readonly dtype: 'float32' | 'float64';
  readonly chunkSize: number;
  readonly #ArrayType: Float32ArrayConstructor | Float64ArrayConstructor;
  readonly #sessions: SessionSet<GraphName>;
  /** One float64 rank-0 tensor per scalar input, rewritten before each run: no allocation per step. */
  readonly #scalars: Record<string, ort.Tensor>;
  readonly #rectified = new Uint8Array(1);
  /** Runs never interleave: feeds are shared, and two optimizers may share this backend. */
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;

  constructor(dtype: 'float32' | 'float64', chunkSize: number, sessionOptions: ort.InferenceSession.SessionOptions) {
    this.dtype = dtype;
    this.name = dtype === 'float64' ? 'onnx64' : 'onnx';
    this.chunkSize = chunkSize;
    this.#ArrayType = dtype === 'float64' ? Float64Array : Float32Array;
    this.#sessions = new SessionSet(sessionOptions);
    this.#scalars = { [KERNEL_SCALAR_INPUTS.rectified]: new ort.Tensor('bool', this.#rectified, []) };
    for (const [key, input] of Object.entries(KERNEL_SCALAR_INPUTS)) {
      if (key !== 'rectified') this.#scalars[input] = new ort.Tensor('float64', new Float64Array(1), []);
    }
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Inference sessions held (tensors are typed arrays, reclaimed by the garbage collector). */
  resourceCounts(): Readonly<Record<string, number>> {
    return { sessions: this.#sessions.size };
  }

  isTensor(value: unknown): value is OnnxTensor {
    return value instanceof OnnxTensor && value.data instanceof this.#ArrayType && value.live;
  }

  shapeOf(tensor: OnnxTensor): readonly number[] {
    return tensor.shape;
  }

  fromArray(data: ArrayLike<number>, shape: readonly number[]): OnnxTensor {
    this.#checkSize(data.length, shape);
    return new OnnxTensor(this.#ArrayType.from(data), shape);
  }

  wrap(data: FloatArray, shape: readonly number[] = [data.length]): OnnxTensor {
    if (!(data instanceof this.#ArrayType)) {
      throw new RectifyError(
        'INVALID_TENSOR',
        `The ${this.name} backend wraps ${this.#ArrayType.name}s, got ${Object.prototype.toString.call(data)}.`,
      );
    }
    this.#checkSize(data.length, shape);
    return new OnnxTensor(data, shape);
  }

  capture(tensor: OnnxTensor): OnnxTensor {
    return new OnnxTensor(this.#live(tensor).data.slice(), tensor.shape);
  }

  zerosLike(like: OnnxTensor): OnnxTensor {
    return new OnnxTensor(new this.#ArrayType(like.size), like.shape);
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
      await Promise.all((Object.keys(MODELS) as GraphName[]).map((graph) => this.#session(graph)));
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
      // All or nothing: every check that can fail comes before the first run writes.
      const work = batches.map(({ slots, scalars }) => ({
        scalars,
        chunks: slots.map((slot) => {
          const size = this.#live(slot.param).size;
          for (const tensor of [slot.grad, slot.firstMoment, slot.secondMoment]) {
            if (this.#live(tensor).size !== size) {
              throw new RectifyError('SHAPE_MISMATCH', `A slot mixes tensors of ${size} and ${tensor.size} elements.`);
            }
          }
          const c = this.chunkSize;
          return [slot.param.chunks(c), slot.grad.chunks(c), slot.firstMoment.chunks(c), slot.secondMoment.chunks(c)] as const;
        }),
      }));
      const session = await this.#session('step');
      let runs = 0;
      /** Disposal stops the step at the next chunk; once a run has written, the state is torn. */
      const stopIfDisposed = (cause?: unknown): void => {
        if (!this.#disposed) return;
        if (runs === 0) throw this.#disposedError(cause);
        throw new Error(`The ${this.name} backend was disposed during applyRAdam, after ${runs} chunk runs had written.`, { cause });
      };
      let finite = true;
      const feeds: Record<string, ort.Tensor> = { ...this.#scalars };
      // `null`: ORT allocates the scalar flag; named fetches return only what they name.
      const fetches: Record<string, ort.Tensor | null> = { [KERNEL_NON_FINITE_OUTPUT]: null };
      for (const { scalars, chunks } of work) {
        this.#setScalars(scalars);
        for (const [param, grad, m, v] of chunks) {
          for (let i = 0; i < param.length; i++) {
            feeds.param = param[i]!;
            feeds.grad = grad[i]!;
            feeds.m = m[i]!;
            feeds.v = v[i]!;
            // Preallocated outputs over the input buffers: ORT writes the new values in place.
            // Safe because each input is read only by nodes upstream of the output that
            // overwrites it (see step-graph.ts), so no node reads an element after it is written.
            fetches.param_out = param[i]!;
            fetches.m_out = m[i]!;
            fetches.v_out = v[i]!;
            stopIfDisposed();
            let result: ort.InferenceSession.ReturnType;
            try {
              result = await session.run(feeds, fetches);
            } catch (error) {
              // A session released before this run started has run nothing: still all or nothing.
              stopIfDisposed(error);
              throw error;
            }
            runs++;
            // Every chunk runs even after a non-finite one: the contract applies the whole step.
            finite = (result[KERNEL_NON_FINITE_OUTPUT]!.data as FloatArray)[0] === 0 && finite;
          }
        }
      }
      return finite;
    });
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    // Safe while a task is in flight: onnxruntime-node runs a session synchronously on this
    // thread (after a setImmediate), so a release never overlaps a run; the next run of a
    // released session fails with ORT's own "Session already disposed".
    this.#sessions.releaseAll();
  }

  #setScalars(scalars: RAdamScalars): void {
    for (const [key, input] of Object.entries(KERNEL_SCALAR_INPUTS)) {
      if (key !== 'rectified') (this.#scalars[input]!.data as Float64Array)[0] = scalars[key as keyof RAdamScalars] as number;
    }
    this.#rectified[0] = scalars.rectified ? 1 : 0;
  }

  /**
   * Runs the reduction graph `graph` over every chunk of every tensor, folding the results
   * on the host in a fixed order, until `done` says the answer is known. Reads only:
   * disposal at any point is a plain `DISPOSED`.
   */
  #reduce<R>(
    tensors: readonly OnnxTensor[],
    graph: 'sumOfSquares' | 'nonFiniteProbe',
    initial: R,
    fold: (acc: R, result: ort.InferenceSession.ReturnType) => R,
    done: (acc: R) => boolean = () => false,
  ): Promise<R> {
    return this.#exclusive(async () => {
      const chunks = tensors.map((tensor) => this.#live(tensor).chunks(this.chunkSize));
      const session = await this.#session(graph);
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

  #session(graph: GraphName): Promise<ort.InferenceSession> {
    return this.#sessions.get(graph, () => MODELS[graph](this.dtype));
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
    const result = this.#queue.then(() => (this.#disposed ? Promise.reject(this.#disposedError()) : task()));
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
