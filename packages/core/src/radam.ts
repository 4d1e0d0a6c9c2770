import type { BackendResult, DType, HostArray, RAdamBatch, RAdamSlot, TensorBackend, TensorOf } from './backend.js';
import { RectifyError } from './errors.js';
import { copyInput } from './input-copy.js';
import { isPromiseLike, runMaybeAsync, type MaybeAsyncTask } from './maybe-async.js';
import {
  resolveGroupOptions,
  resolveOptimizerOptions,
  serializeGroupOptions,
  type GroupOptions,
  type NonFinitePolicy,
  type RAdamOptions,
  type ResolvedGroupOptions,
} from './options.js';
import { flattenTensorTree, forEachTensor, formatShape, sizeOf, type TensorTree } from './params.js';
import {
  createdTensors,
  createResidentTensors,
  planHostWeights,
  residentTrees,
  type HostWeightTree,
  type ResidentWeights,
} from './resident-weights.js';
import { isLearningRateScheduler, type LearningRateScheduler } from './schedulers/scheduler.js';
import { encodeArray } from './state/encoding.js';
import { checkStatePiece, decodeStateArray, planStateLoad, type LoadPlan } from './state/load-plan.js';
import {
  STATE_CHUNK_ELEMENTS,
  STATE_TENSOR_ROLES,
  type StateSink,
  type StateSource,
  type StateStreamOptions,
  type StateTensorInfo,
  type StateTensorRole,
} from './state/state-stream.js';
import {
  STATE_DICT_FORMAT,
  STATE_DICT_VERSION,
  type AnyRAdamStateDict,
  type GroupStateEntry,
  type RAdamBinaryStateDict,
  type RAdamStateDict,
  type RAdamStateMeta,
} from './state/state-dict.js';
import { planRAdamStep } from './transforms/plan.js';

/** What one `step()` did. */
export interface StepReport {
  /** `true` when the `nonFinite: 'skip'` policy dropped this step (nothing changed). */
  readonly skipped: boolean;
  /** Global gradient norm before clipping, when a group clips by norm; else `undefined`. */
  readonly gradNorm: number | undefined;
  /** The learning rate each parameter group used. */
  readonly lrs: readonly number[];
  /** How many parameter tensors were updated. */
  readonly updatedParams: number;
}

/** One parameter's optimizer state, copied to the host. */
export interface ParamState {
  readonly step: number;
  readonly firstMoment: HostArray;
  readonly secondMoment: HostArray;
}

interface ParamRecord<T> {
  readonly name: string;
  readonly param: T;
  readonly shape: readonly number[];
  readonly firstMoment: T;
  readonly secondMoment: T;
  step: number;
}

interface GroupRecord<T> {
  /** The options passed to `addParamGroup` (empty for the default group). */
  overrides: GroupOptions;
  options: ResolvedGroupOptions;
  readonly params: ParamRecord<T>[];
}

/**
 * Rectified Adam (Liu et al., 2020) over any {@link TensorBackend}.
 *
 * The algorithm is SPEC.md's: optional global-norm and value clipping, coupled or
 * decoupled weight decay, Adam moments, and the variance rectification that gives RAdam
 * its automatic warm-up. Core derives every scalar of a step on the host in float64; the
 * backend applies them in one fused pass per batch of tensors.
 *
 * `step()` is synchronous on a synchronous backend and returns a promise on an
 * asynchronous one. Calls on one optimizer never interleave: a `step()` issued while an
 * asynchronous one runs waits its turn.
 *
 * @example
 * ```ts
 * import { RAdam } from '@rectify/core';
 * import { cpuBackend } from '@rectify/backend-cpu';
 *
 * const w = new Float32Array([0.5, -0.3]);
 * const opt = new RAdam(cpuBackend(), { lr: 1e-2, weightDecay: 1e-4 });
 * opt.registerTrainableWeights({ w });
 * opt.step({ w: new Float32Array([0.1, -0.2]) }); // w is updated in place
 * ```
 */
export class RAdam<B extends TensorBackend<any> = TensorBackend<unknown>> {
  readonly #backend: TensorBackend<TensorOf<B>>;
  #nonFinite: NonFinitePolicy;
  /** Tensors this optimizer made for the caller (registerResidentWeights): released by dispose(). */
  readonly #owned: TensorOf<B>[] = [];
  #defaults: ResolvedGroupOptions;
  readonly #groups: GroupRecord<TensorOf<B>>[] = [];
  readonly #params = new Map<string, ParamRecord<TensorOf<B>>>();
  /** The name of every registered parameter tensor: the same tensor may not be registered twice. */
  readonly #paramNames = new Map<unknown, string>();
  #stepCount = 0;
  #skippedSteps = 0;
  #pending: Promise<unknown> | undefined;
  #disposed = false;
  /** Why the optimizer halted (a step or load failed after writing began), if it did. */
  #halted: RectifyError | undefined;

  /**
   * @param backend - where tensors live and the fused update runs.
   * @param options - hyperparameters (SPEC.md defaults for anything omitted).
   * @throws RectifyError `INVALID_OPTION` naming the first bad option.
   */
  constructor(backend: B, options: RAdamOptions = {}) {
    this.#backend = backend as TensorBackend<TensorOf<B>>;
    const resolved = resolveOptimizerOptions(copyOptions(options, 'options'));
    this.#nonFinite = resolved.nonFinite;
    this.#defaults = resolved.group;
  }

  /** The backend this optimizer runs on. */
  get backend(): B {
    return this.#backend as unknown as B;
  }

  /** Completed optimizer steps (skipped steps not included). */
  get stepCount(): number {
    return this.#stepCount;
  }

  /** Steps dropped by the `nonFinite: 'skip'` policy. */
  get skippedSteps(): number {
    return this.#skippedSteps;
  }

  /**
   * Why the optimizer halted, when a step or load failed after it had begun writing
   * (`NON_FINITE_UPDATE` or `BACKEND_ERROR`); `undefined` while it is usable. A halted
   * optimizer throws `HALTED` from every call but `readState()`, `loadStateDict()` and
   * `dispose()`: load a checkpoint to go on.
   */
  get haltedBy(): RectifyError | undefined {
    return this.#halted;
  }

  /** The learning rate the default group's next step will use. */
  get currentLr(): number {
    return this.#defaultGroupLr();
  }

  /** The learning rate each group's next step will use. */
  get groupLrs(): number[] {
    return this.#groups.length === 0 ? [this.#defaultGroupLr()] : this.#groups.map((_, i) => this.#learningRateOf(i));
  }

  /**
   * The scheduler driving the default learning rate (built from the spec when `lr` was
   * one), or `undefined` for a constant rate. Step it yourself: the optimizer only reads it.
   */
  get scheduler(): LearningRateScheduler | undefined {
    return typeof this.#defaults.lr === 'number' ? undefined : this.#defaults.lr;
  }

  /** The optimizer-wide options, validated, with defaults filled in. */
  get options(): ResolvedGroupOptions & { readonly nonFinite: NonFinitePolicy } {
    return { ...this.#defaults, nonFinite: this.#nonFinite };
  }

  /** Names of every registered parameter, per group. */
  get paramGroups(): string[][] {
    return this.#groups.map((group) => group.params.map((p) => p.name));
  }

  /**
   * Adds parameters to the default group (created by the first call). Names nest with
   * dots: `{ dense: { kernel } }` registers `"dense.kernel"`. Moments start at zero.
   *
   * @throws RectifyError `INVALID_TENSOR` for a value that is not a backend tensor,
   *   `DUPLICATE_PARAMETER` for a name or a tensor already registered, `OUT_OF_MEMORY`
   *   when the backend cannot hold the moments. Nothing is registered then.
   */
  registerTrainableWeights(params: TensorTree<TensorOf<B>>): void {
    this.#assertUsable();
    this.#addToDefaultGroup(this.#createRecords(this.#prepareParams(params)));
  }

  /**
   * Moves host weights into the backend's own memory once and registers them in the
   * default group: the fast path for a model whose weights start as typed arrays. Each
   * weight is copied into a new backend tensor (on `cpu-wasm`: a `Float32Array` view into
   * its shared memory, which the model then reads and the kernel updates in place, with no
   * staging copies), and a zero gradient tensor of the same shape is made beside it. Write
   * each step's gradients into `grads` (in place) and pass it to {@link RAdam.step}.
   *
   * The optimizer owns these tensors: {@link RAdam.dispose} releases them with the moments.
   * The host arrays are only read (nothing keeps them); later writes to them change nothing.
   *
   * @param weights - typed arrays (one-dimensional) or `{ data, shape }`, nested as for
   *   {@link RAdam.registerTrainableWeights}; the trees handed back have the same keys.
   * @returns the registered parameters and their gradient buffers, by the same names.
   * @throws RectifyError `INVALID_TENSOR` for a leaf that is not a typed array or
   *   `{ data, shape }`, a bad shape, or a value that is not finite (in the backend's
   *   dtype); `SHAPE_MISMATCH` for a shape that does not hold the values; `DUPLICATE_PARAMETER` for a name already registered;
   *   `OUT_OF_MEMORY` when the backend cannot hold them. Nothing is allocated or registered then.
   * @example
   * ```ts
   * const backend = await wasmCpuBackend();
   * const opt = new RAdam(backend, { lr: 1e-3 });
   * const { params, grads } = opt.registerResidentWeights({ w: initialWeights });
   * // each step: the model reads params.w and writes its gradient into grads.w, then
   * opt.step(grads);
   * ```
   */
  registerResidentWeights<W extends HostWeightTree>(weights: W): ResidentWeights<W, TensorOf<B>> {
    this.#assertUsable();
    const planned = planHostWeights(weights, this.#backend.dtype);
    for (const { name } of planned) this.#expectUnregistered(name);
    const created = createResidentTensors(this.#backend, planned);
    let records: ParamRecord<TensorOf<B>>[];
    try {
      records = this.#createRecords(new Map(planned.map(({ name }, i) => [name, created.params[i]!])));
    } catch (error) {
      for (const tensor of createdTensors(created)) this.#backend.disposeTensor(tensor);
      throw error;
    }
    this.#addToDefaultGroup(records);
    this.#owned.push(...createdTensors(created));
    return residentTrees<W, TensorOf<B>>(planned, created);
  }

  /**
   * Adds a parameter group whose options override the optimizer's. Every option can be
   * overridden, `lr` included (a number, a scheduler or a spec; with a multi-rate
   * scheduler shared by all groups, group `i` uses rate `i`).
   *
   * @throws RectifyError `NOT_REGISTERED` before `registerTrainableWeights`,
   *   `INVALID_OPTION` for a bad override, or as `registerTrainableWeights`.
   */
  addParamGroup(params: TensorTree<TensorOf<B>>, overrides: GroupOptions = {}): void {
    this.#assertUsable();
    if (this.#groups.length === 0) {
      throw new RectifyError(
        'NOT_REGISTERED',
        'Call registerTrainableWeights() before addParamGroup(): the first group holds the default options.',
        'params',
      );
    }
    const own = copyOptions(overrides, 'overrides');
    if (typeof own === 'object' && own !== null && 'nonFinite' in own) {
      throw new RectifyError(
        'INVALID_OPTION',
        'Option "nonFinite" applies to the whole step and cannot be set per group; pass it to the optimizer.',
        'nonFinite',
      );
    }
    const options = resolveGroupOptions(own, this.#defaults);
    const records = this.#createRecords(this.#prepareParams(params));
    const group: GroupRecord<TensorOf<B>> = { overrides: own, options, params: [] };
    this.#groups.push(group);
    this.#adopt(group, records);
  }

  /**
   * Applies one RAdam step with `grads` (same names and nesting as the parameters). A
   * parameter without a gradient (absent, `null` or `undefined`) is left untouched, step
   * count included.
   *
   * On an asynchronous backend the gradients' values are taken when `step()` is called
   * (backends whose tensors wrap caller memory copy them then), so the caller may reuse
   * its buffers at once.
   *
   * @returns what the step did; a promise of it on an asynchronous backend.
   * @throws RectifyError before changing anything: `NOT_REGISTERED`, `UNKNOWN_PARAMETER`,
   *   `INVALID_TENSOR` (not a live tensor of the backend), `SHAPE_MISMATCH`,
   *   `DUPLICATE_PARAMETER`, `NON_FINITE_GRADIENT` (policy `'error'`), `INVALID_OPTION`
   *   when a scheduler yields an invalid learning rate or the step's scalars overflow,
   *   `OUT_OF_MEMORY`, `DISPOSED` (also when `dispose()` is called while the step is in
   *   flight), `HALTED`. After writing began: `NON_FINITE_UPDATE` (finite gradients gave a
   *   non-finite parameter or moment, under policy `'error'` or `'skip'`) or
   *   `BACKEND_ERROR`; the optimizer then halts.
   */
  step(grads: TensorTree<TensorOf<B>>): BackendResult<B, StepReport> {
    if (this.#backend.synchronous || this.#backend.capture === undefined) {
      return this.#serialize(() => this.#stepTask(grads));
    }
    return this.#serializePrepared(
      () => this.#captureGradients(grads),
      ({ grads: captured, copies }) => this.#releasingAfter(this.#stepTask(captured), copies),
    );
  }

  /** Alias of {@link RAdam.step}, as in the reference library. */
  update(grads: TensorTree<TensorOf<B>>): BackendResult<B, StepReport> {
    return this.step(grads);
  }

  /**
   * A host copy of one parameter's state.
   *
   * @throws RectifyError `UNKNOWN_PARAMETER`.
   */
  readState(name: string): BackendResult<B, ParamState> {
    return this.#serialize(() => this.#readStateTask(name));
  }

  /**
   * A snapshot of everything the optimizer has learnt: options, groups, per-parameter
   * steps and moments, scheduler progress; with `includeParams`, the parameters' values
   * too (then one snapshot is enough to resume training). A fresh object every time.
   *
   * JSON by default (moments as base64: small states, the conformance suite); with
   * `binary: true`, the same content with typed arrays (no string size limit, can be
   * structured-cloned and transferred). For states of any size, stream instead with
   * {@link RAdam.writeStateTo} (what the checkpoint files do).
   *
   * @throws RectifyError `HALTED` (a torn state is never saved), `DISPOSED`.
   */
  stateDict(options?: { readonly binary?: false; readonly includeParams?: boolean }): BackendResult<B, RAdamStateDict>;
  stateDict(options: { readonly binary: true; readonly includeParams?: boolean }): BackendResult<B, RAdamBinaryStateDict>;
  stateDict(options: StateDictOptions): BackendResult<B, AnyRAdamStateDict>;
  stateDict(options: StateDictOptions = {}): BackendResult<B, AnyRAdamStateDict> {
    return this.#serialize(() => this.#stateDictTask(options.binary === true, options.includeParams === true));
  }

  /**
   * Streams the state to `sink`: the metadata and the list of tensors first, then each
   * moment (and each parameter, with `includeParams`) in pieces of at most
   * `chunkElements` elements, through one reused buffer where the backend reads ranges
   * ({@link TensorBackend.readInto}; else one whole tensor at a time). The memory it needs
   * is one piece, whatever the model's size. Steps called meanwhile wait for it to finish.
   *
   * @throws RectifyError `INVALID_OPTION` (`chunkElements`), `HALTED`, `DISPOSED`;
   *   whatever the sink throws (nothing changes).
   */
  writeStateTo(sink: StateSink, options: { readonly includeParams?: boolean } & StateStreamOptions = {}): BackendResult<B, void> {
    return this.#serializePrepared(
      () => chunkElementsOption(options.chunkElements),
      (chunkElements) => this.#writeStateTask(sink, options.includeParams === true, chunkElements),
    );
  }

  /**
   * Restores a snapshot from {@link RAdam.stateDict} (either form), from this or any
   * other backend. Everything is validated first (format, version, group layout, names,
   * element counts, option ranges, scheduler state, finite moments that the backend's
   * dtype can hold); on any error nothing changes. Options and schedulers are taken from
   * the dict; parameters too when it holds them (`includeParams`). The dict is copied on
   * the way in (typed arrays of a binary dict are read, not kept: leave them alone until
   * the load resolves).
   *
   * A halted optimizer (see {@link RAdam.haltedBy}) is usable again after a load.
   *
   * @throws RectifyError `INVALID_STATE_DICT` (also for moments a float32 backend cannot
   *   hold), `UNSUPPORTED_STATE_VERSION` or `SHAPE_MISMATCH`, before anything changes;
   *   `BACKEND_ERROR` when the backend fails while writing (the optimizer then halts).
   */
  loadStateDict(dict: AnyRAdamStateDict): BackendResult<B, void> {
    return this.#serializePrepared(() => stateDictSource(dict), (source) => this.#loadTask(source));
  }

  /**
   * Restores a state streamed from `source` (a checkpoint file, say), with the guarantees
   * of {@link RAdam.loadStateDict}: every tensor is read and checked once before the
   * first write, then read again and written, in pieces of at most `chunkElements`
   * elements where the backend writes ranges ({@link TensorBackend.writeRange}; else one
   * whole tensor at a time), so the memory it needs is one piece.
   *
   * @throws RectifyError as {@link RAdam.loadStateDict}, `INVALID_OPTION`
   *   (`chunkElements`); whatever the source throws
   *   (before the first write nothing changes; after it, the optimizer halts with
   *   `BACKEND_ERROR`).
   */
  loadStateFrom(source: StateSource, options: StateStreamOptions = {}): BackendResult<B, void> {
    return this.#serializePrepared(
      () => ({
        chunkElements: chunkElementsOption(options.chunkElements),
        source: {
          meta: copyInput(source.meta, { code: 'INVALID_STATE_DICT', root: 'dict' }),
          tensors: copyInput(source.tensors, { code: 'INVALID_STATE_DICT', root: 'tensors' }),
          read: (info: StateTensorInfo, begin: number, end: number) => source.read(info, begin, end),
        },
      }),
      ({ source: copy, chunkElements }) => this.#loadTask(copy, chunkElements),
    );
  }

  /**
   * Releases the moments this optimizer created, and the parameters and gradient buffers
   * of {@link RAdam.registerResidentWeights}. Further calls throw `DISPOSED`, and so does
   * a step still in flight.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const record of this.#params.values()) {
      this.#backend.disposeTensor(record.firstMoment);
      this.#backend.disposeTensor(record.secondMoment);
    }
    for (const tensor of this.#owned) this.#backend.disposeTensor(tensor);
    this.#owned.length = 0;
    this.#params.clear();
    this.#paramNames.clear();
    this.#groups.length = 0;
  }

  /**
   * Runs tasks one at a time: only asynchronous ones can overlap, and they queue. On an
   * asynchronous backend every call returns a promise, errors included, whether or not
   * the backend was ever awaited.
   */
  #serialize<R>(makeTask: () => MaybeAsyncTask<R>): BackendResult<B, R> {
    const run = (): R | Promise<R> => runMaybeAsync(makeTask());
    if (!this.#backend.synchronous && this.#pending === undefined) {
      let started: R | Promise<R>;
      try {
        started = run();
      } catch (error) {
        started = Promise.reject(error);
      }
      return this.#track(Promise.resolve(started));
    }
    if (this.#pending !== undefined && this.#backend.synchronous) {
      // Only a stream to or from an asynchronous sink or source can be pending on a
      // synchronous backend; queuing behind it would turn this call's result into a promise.
      throw new RectifyError(
        'STEP_IN_PROGRESS',
        'A state is still being streamed (writeStateTo/loadStateFrom with an asynchronous sink or source): await it first.',
      );
    }
    const result = this.#pending === undefined ? run() : this.#pending.then(run, run);
    return (isPromiseLike(result) ? this.#track(Promise.resolve(result)) : result) as BackendResult<B, R>;
  }

  /**
   * Runs `prepare` now, at call time (copying the caller's input before a queued task
   * runs), then `task` with its result as {@link RAdam.#serialize} does. A failure of
   * `prepare` is thrown on a synchronous backend and rejected on an asynchronous one.
   */
  #serializePrepared<P, R>(prepare: () => P, task: (prepared: P) => MaybeAsyncTask<R>): BackendResult<B, R> {
    let prepared: P;
    try {
      prepared = prepare();
    } catch (error) {
      if (this.#backend.synchronous) throw error;
      return Promise.reject(error) as BackendResult<B, R>;
    }
    return this.#serialize(() => task(prepared));
  }

  /** Makes `pending` the task later calls wait for, until it settles. */
  #track<R>(pending: Promise<R>): BackendResult<B, R> {
    this.#pending = pending;
    const clear = (): void => {
      if (this.#pending === pending) this.#pending = undefined;
    };
    pending.then(clear, clear);
    return pending as BackendResult<B, R>;
  }

  /** Runs `task`, then releases the captured gradient copies however it ended. */
  *#releasingAfter<R>(task: MaybeAsyncTask<R>, copies: readonly TensorOf<B>[]): MaybeAsyncTask<R> {
    try {
      return yield* task;
    } finally {
      for (const copy of copies) this.#backend.disposeTensor(copy);
    }
  }

  #assertAlive(): void {
    if (this.#disposed) throw new RectifyError('DISPOSED', 'This optimizer has been disposed.');
  }

  /** Alive and not halted: every call that changes or saves state starts here. */
  #assertUsable(): void {
    this.#assertAlive();
    if (this.#halted !== undefined) {
      throw new RectifyError(
        'HALTED',
        `This optimizer halted after ${this.#halted.code} (${this.#halted.message}) Load a checkpoint with loadStateDict() to go on.`,
        this.#halted.parameter,
        { cause: this.#halted },
      );
    }
  }

  /** Records why the optimizer halts and returns the error to throw. */
  #halt(error: RectifyError): RectifyError {
    this.#halted = error;
    return error;
  }

  /** A backend error thrown after writing began: the state may be torn. */
  #backendFailure(error: unknown, during: string): RectifyError {
    if (this.#disposed && error instanceof RectifyError && error.code === 'DISPOSED') return error;
    const reason = error instanceof Error ? error.message : String(error);
    return this.#halt(
      new RectifyError(
        'BACKEND_ERROR',
        `The ${this.#backend.name} backend failed during ${during}, after writing began: ${reason}. Some tensors may hold new values and others old ones.`,
        undefined,
        { cause: error },
      ),
    );
  }

  #assertRegistered(): void {
    this.#assertUsable();
    if (this.#groups.length === 0) {
      throw new RectifyError('NOT_REGISTERED', 'No parameters: call registerTrainableWeights() first.', 'params');
    }
  }

  #prepareParams(params: TensorTree<TensorOf<B>>): Map<string, TensorOf<B>> {
    const backend = this.#backend;
    const flat = flattenTensorTree(params, (v): v is TensorOf<B> => this.#isParameter(v), 'parameter', backend.name);
    const tensors = new Map<unknown, string>();
    for (const [name, tensor] of flat) {
      this.#expectUnregistered(name);
      const other = tensors.get(tensor) ?? this.#paramNames.get(tensor);
      if (other !== undefined) {
        throw new RectifyError(
          'DUPLICATE_PARAMETER',
          `The parameter "${name}" is the same tensor as "${other}"; a tensor is registered once, under one name.`,
          name,
        );
      }
      tensors.set(tensor, name);
    }
    return flat;
  }

  /** What may be registered (and stay registered): `isParameter`, or `isTensor` where a backend has none. */
  #isParameter(value: unknown): boolean {
    const backend = this.#backend;
    return backend.isParameter === undefined ? backend.isTensor(value) : backend.isParameter(value);
  }

  /**
   * Allocates the moments of every new parameter before anything is registered: when the
   * backend runs out of memory half-way, what was allocated is released and nothing changes.
   */
  #createRecords(params: Map<string, TensorOf<B>>): ParamRecord<TensorOf<B>>[] {
    const backend = this.#backend;
    const records: ParamRecord<TensorOf<B>>[] = [];
    try {
      for (const [name, param] of params) {
        const shape = [...backend.shapeOf(param)];
        const firstMoment = backend.zerosLike(param);
        let secondMoment: TensorOf<B>;
        try {
          secondMoment = backend.zerosLike(param);
        } catch (error) {
          backend.disposeTensor(firstMoment);
          throw error;
        }
        records.push({ name, param, shape, firstMoment, secondMoment, step: 0 });
      }
    } catch (error) {
      for (const record of records) {
        backend.disposeTensor(record.firstMoment);
        backend.disposeTensor(record.secondMoment);
      }
      throw error;
    }
    return records;
  }

  /** @throws RectifyError `DUPLICATE_PARAMETER` when `name` is registered already. */
  #expectUnregistered(name: string): void {
    if (this.#params.has(name)) {
      throw new RectifyError('DUPLICATE_PARAMETER', `The parameter "${name}" is already registered.`, name);
    }
  }

  /** Registers `records` in the default group, which the first registration creates. */
  #addToDefaultGroup(records: readonly ParamRecord<TensorOf<B>>[]): void {
    if (this.#groups.length === 0) this.#groups.push({ overrides: {}, options: this.#defaults, params: [] });
    this.#adopt(this.#groups[0]!, records);
  }

  #adopt(group: GroupRecord<TensorOf<B>>, records: readonly ParamRecord<TensorOf<B>>[]): void {
    for (const record of records) {
      this.#params.set(record.name, record);
      this.#paramNames.set(record.param, record.name);
      group.params.push(record);
    }
  }

  #defaultGroupLr(): number {
    return this.#rateFrom(this.#defaults.lr, 0);
  }

  #learningRateOf(groupIndex: number): number {
    return this.#rateFrom(this.#groups[groupIndex]!.options.lr, groupIndex);
  }

  #rateFrom(lr: number | LearningRateScheduler, groupIndex: number): number {
    if (typeof lr === 'number') return lr;
    const rates = lr.getLastLr();
    const rate = rates.length === 1 ? rates[0] : rates[groupIndex];
    if (rate === undefined) {
      throw new RectifyError(
        'INVALID_OPTION',
        `The ${lr.name} scheduler has ${rates.length} learning rates but parameter group ${groupIndex} needs one; give one rate, or one per group.`,
        'lr',
      );
    }
    if (!Number.isFinite(rate) || rate < 0) {
      throw new RectifyError('INVALID_OPTION', `The ${lr.name} scheduler yielded learning rate ${rate}; it must be finite and >= 0.`, 'lr');
    }
    return rate;
  }

  /**
   * Validates `grads` against the registered parameters: every check before any write.
   * Shapes are checked on every step, parameters' too: a typed array's buffer can be
   * detached or resized between steps, and a tensor can be released or disposed.
   */
  #collectGradients(grads: TensorTree<TensorOf<B>> | ReadonlyMap<string, TensorOf<B>>): Map<ParamRecord<TensorOf<B>>, TensorOf<B>> {
    const backend = this.#backend;
    const given = new Map<ParamRecord<TensorOf<B>>, TensorOf<B>>();
    const isTensor = (v: unknown): v is TensorOf<B> => backend.isTensor(v);
    forEachTensor(grads, isTensor, 'gradient', backend.name, (name, grad) => {
      const record = this.#params.get(name);
      if (record === undefined) {
        throw new RectifyError(
          'UNKNOWN_PARAMETER',
          `Got a gradient for "${name}", which is not a registered parameter (registered: ${[...this.#params.keys()].join(', ')}).`,
          name,
        );
      }
      if (given.has(record)) {
        throw new RectifyError('DUPLICATE_PARAMETER', `The gradient name "${name}" appears twice.`, name);
      }
      if (this.#paramNames.has(grad)) {
        throw new RectifyError(
          'INVALID_TENSOR',
          `The gradient of "${name}" is a registered parameter tensor itself; pass a separate gradient tensor.`,
          name,
        );
      }
      expectShape(backend.shapeOf(grad), record, `The gradient of "${name}"`);
      if (!this.#isParameter(record.param)) {
        throw new RectifyError(
          'INVALID_TENSOR',
          `The parameter "${name}" is no longer a live tensor of the "${backend.name}" backend (released, disposed or detached).`,
          name,
        );
      }
      expectShape(backend.shapeOf(record.param), record, `The parameter "${name}"`);
      given.set(record, grad);
    });
    return given;
  }

  /**
   * Copies every gradient now, when `step()` is called on an asynchronous backend with
   * {@link TensorBackend.capture}: the step, whenever it runs, checks and uses these.
   */
  #captureGradients(grads: TensorTree<TensorOf<B>>): { grads: Map<string, TensorOf<B>>; copies: TensorOf<B>[] } {
    const backend = this.#backend;
    const flat = flattenTensorTree(grads, (v): v is TensorOf<B> => backend.isTensor(v), 'gradient', backend.name);
    const captured = new Map<string, TensorOf<B>>();
    const copies: TensorOf<B>[] = [];
    try {
      for (const [name, grad] of flat) {
        if (this.#paramNames.has(grad)) {
          captured.set(name, grad); // not copied: the step rejects a parameter as its own gradient
        } else {
          const copy = backend.capture!(grad);
          copies.push(copy);
          captured.set(name, copy);
        }
      }
    } catch (error) {
      for (const copy of copies) backend.disposeTensor(copy);
      throw error;
    }
    return { grads: captured, copies };
  }

  *#stepTask(grads: TensorTree<TensorOf<B>> | ReadonlyMap<string, TensorOf<B>>): MaybeAsyncTask<StepReport> {
    this.#assertRegistered();
    const backend = this.#backend;
    const given = this.#collectGradients(grads);
    const lrs = this.#groups.map((_, i) => this.#learningRateOf(i));
    const allGrads = [...given.values()];

    const clipsByNorm = this.#groups.some(
      (group) => group.options.gradClipNorm !== null && group.params.some((p) => given.has(p)),
    );
    const sumOfSquares = clipsByNorm ? ((yield backend.sumOfSquares(allGrads)) as number) : undefined;
    this.#assertAlive();
    if (this.#nonFinite !== 'propagate' && allGrads.length > 0) {
      // A finite sum of squares already proves every gradient finite: no second pass.
      const finite =
        (sumOfSquares !== undefined && Number.isFinite(sumOfSquares)) || ((yield backend.allFinite(allGrads)) as boolean);
      this.#assertAlive();
      if (!finite) {
        if (this.#nonFinite === 'skip') {
          this.#skippedSteps++;
          return { skipped: true, gradNorm: undefined, lrs, updatedParams: 0 };
        }
        let culprit = '';
        for (const [record, grad] of given) {
          if (!((yield backend.allFinite([grad])) as boolean)) {
            culprit = record.name;
            break;
          }
        }
        throw new RectifyError(
          'NON_FINITE_GRADIENT',
          `The gradient of "${culprit}" contains NaN or Infinity; nothing was changed (set nonFinite: 'skip' to skip such steps).`,
          culprit,
        );
      }
    }
    const globalNorm = sumOfSquares === undefined ? undefined : Math.sqrt(sumOfSquares);
    const { batches, records } = this.#planBatches(given, lrs, globalNorm);

    let finite: unknown;
    try {
      finite = yield backend.applyRAdam(batches);
    } catch (error) {
      // The contract: a RectifyError means the backend wrote nothing.
      if (error instanceof RectifyError && !this.#disposed) throw error;
      throw this.#backendFailure(error, 'step()');
    }
    this.#assertAlive();
    if (typeof finite !== 'boolean') {
      throw this.#backendFailure(
        new TypeError(`applyRAdam() returned ${typeof finite}; it must return whether every value written is finite`),
        'step()',
      );
    }
    for (const record of records) record.step++;
    this.#stepCount++;
    if (!finite && this.#nonFinite !== 'propagate') {
      throw this.#halt(yield* this.#nonFiniteUpdateError(records));
    }
    return { skipped: false, gradNorm: globalNorm, lrs, updatedParams: records.length };
  }

  /**
   * Every batch of the step: tensors of one group that share a step count share every
   * scalar (almost always a single batch per group, so a short list beats a map).
   *
   * @throws RectifyError `INVALID_OPTION` when a scalar overflows (a learning rate so
   *   large that the step size is not finite), before anything is written.
   */
  #planBatches(
    given: ReadonlyMap<ParamRecord<TensorOf<B>>, TensorOf<B>>,
    lrs: readonly number[],
    globalNorm: number | undefined,
  ): { batches: RAdamBatch<TensorOf<B>>[]; records: ParamRecord<TensorOf<B>>[] } {
    const batches: RAdamBatch<TensorOf<B>>[] = [];
    const records: ParamRecord<TensorOf<B>>[] = [];
    for (const [g, group] of this.#groups.entries()) {
      const groupBatches: { step: number; slots: RAdamSlot<TensorOf<B>>[] }[] = [];
      for (const record of group.params) {
        const grad = given.get(record);
        if (grad === undefined) continue;
        let batch = groupBatches.find((b) => b.step === record.step);
        if (batch === undefined) groupBatches.push((batch = { step: record.step, slots: [] }));
        batch.slots.push({ param: record.param, grad, firstMoment: record.firstMoment, secondMoment: record.secondMoment });
        records.push(record);
      }
      for (const { step, slots } of groupBatches) {
        const scalars = planRAdamStep({ options: group.options, lr: lrs[g]!, step: step + 1, globalNorm });
        for (const [key, value] of Object.entries(scalars)) {
          const unbounded = key === 'clipValue' && value === Infinity; // no value clipping
          if (typeof value === 'number' && !Number.isFinite(value) && !unbounded) {
            throw new RectifyError(
              'INVALID_OPTION',
              `Parameter group ${g}'s step ${step + 1} has ${key} = ${value} (learning rate ${lrs[g]}): the update would not be finite; nothing was changed.`,
              'lr',
            );
          }
        }
        batches.push({ slots, scalars });
      }
    }
    return { batches, records };
  }

  /** Names the first parameter whose new value or moments are not finite (a diagnostic pass, on failure only). */
  *#nonFiniteUpdateError(records: readonly ParamRecord<TensorOf<B>>[]): Generator<unknown, RectifyError, unknown> {
    let culprit: string | undefined;
    for (const record of records) {
      if (!((yield this.#backend.allFinite([record.param, record.firstMoment, record.secondMoment])) as boolean)) {
        culprit = record.name;
        break;
      }
    }
    return new RectifyError(
      'NON_FINITE_UPDATE',
      `Step ${this.#stepCount} gave NaN or Infinity in ${culprit === undefined ? 'a parameter or its moments' : `"${culprit}" or its moments`} from finite gradients (the result does not fit the backend's ${this.#backend.dtype}: a huge gradient or learning rate, or eps 0 with a zero gradient). The step was applied; the optimizer halts until loadStateDict().`,
      culprit,
    );
  }

  *#readStateTask(name: string): MaybeAsyncTask<ParamState> {
    this.#assertAlive(); // a halted optimizer's state can still be inspected
    const record = this.#params.get(name);
    if (record === undefined) {
      throw new RectifyError('UNKNOWN_PARAMETER', `"${name}" is not a registered parameter.`, name);
    }
    const firstMoment = (yield this.#backend.read(record.firstMoment)) as HostArray;
    const secondMoment = (yield this.#backend.read(record.secondMoment)) as HostArray;
    return { step: record.step, firstMoment, secondMoment };
  }

  /** Everything of the state but its tensors (see {@link RAdamStateMeta}). */
  #stateMeta(): RAdamStateMeta {
    // Null prototype: any name is a key, "__proto__" included.
    const params = Object.create(null) as Record<string, { shape: number[]; step: number }>;
    for (const record of this.#params.values()) params[record.name] = { shape: [...record.shape], step: record.step };
    const groups: GroupStateEntry[] = this.#groups.map((group) => {
      const entry: GroupStateEntry = {
        overrides: serializeGroupOptions(group.overrides),
        params: group.params.map((p) => p.name),
      };
      const own = group.overrides.lr === undefined ? undefined : group.options.lr;
      return typeof own === 'object' ? { ...entry, schedulerState: own.stateDict() } : entry;
    });
    const meta: RAdamStateMeta = {
      format: STATE_DICT_FORMAT,
      version: STATE_DICT_VERSION,
      backend: this.#backend.name,
      dtype: this.#backend.dtype,
      options: { ...serializeGroupOptions(this.#defaults), nonFinite: this.#nonFinite },
      stepCount: this.#stepCount,
      skippedSteps: this.#skippedSteps,
      groups,
      params,
    };
    const lr = this.#defaults.lr;
    return typeof lr === 'object' ? { ...meta, schedulerState: lr.stateDict() } : meta;
  }

  /**
   * Streams the state. With `chunkElements`, in pieces through one reused buffer where the
   * backend can fill one (`readInto`); without (a state dict collects whole tensors), or
   * without `readInto`, whole fresh host copies from `read`.
   */
  *#writeStateTask(sink: StateSink, includeParams: boolean, chunkElements?: number): MaybeAsyncTask<void> {
    this.#assertUsable(); // never save a torn state
    const backend = this.#backend;
    const roles = includeParams ? STATE_TENSOR_ROLES : STATE_TENSOR_ROLES.filter((role) => role !== 'param');
    const tensors: StateTensorInfo[] = [];
    for (const record of this.#params.values()) {
      for (const role of roles) tensors.push({ name: record.name, role, dtype: backend.dtype, shape: [...record.shape] });
    }
    yield sink.begin(this.#stateMeta(), tensors);
    const largest = Math.max(0, ...[...this.#params.values()].map((record) => sizeOf(record.shape)));
    const buffer =
      chunkElements !== undefined && backend.readInto !== undefined
        ? new (backend.dtype === 'float64' ? Float64Array : Float32Array)(Math.min(chunkElements, largest))
        : undefined;
    for (const info of tensors) {
      const record = this.#params.get(info.name)!;
      const tensor = tensorOfRole(record, info.role);
      if (buffer === undefined) {
        const data = (yield backend.read(tensor)) as HostArray;
        this.#assertUsable();
        yield sink.tensor(info, inDtype(data, backend.dtype), 0);
        continue;
      }
      const size = sizeOf(record.shape);
      let begin = 0;
      do {
        // An empty tensor is one empty piece: every announced tensor reaches the sink.
        const length = Math.min(buffer.length, size - begin);
        const piece = length === buffer.length ? buffer : buffer.subarray(0, length);
        yield backend.readInto!(tensor, begin, piece);
        this.#assertUsable();
        yield sink.tensor(info, piece, begin);
        begin += length;
      } while (begin < size);
    }
  }

  *#stateDictTask(binary: boolean, includeParams: boolean): MaybeAsyncTask<AnyRAdamStateDict> {
    let meta: RAdamStateMeta | undefined;
    const params = Object.create(null) as Record<string, Record<string, unknown>>;
    yield* this.#writeStateTask(
      {
        begin: (m) => {
          meta = m;
          for (const name of Object.keys(m.params)) params[name] = { ...m.params[name] };
        },
        // Unchunked: every `data` is a whole tensor, a fresh copy from `read`, so it is kept.
        tensor: (info, data) => {
          params[info.name]![info.role] = binary ? data : encodeArray(data);
        },
      },
      includeParams,
    );
    return { ...meta!, params } as unknown as AnyRAdamStateDict;
  }

  /**
   * Validates everything (metadata, then every tensor's data), and only then writes:
   * tensors are read twice from `source`, in pieces of at most `chunkElements` elements,
   * so no host copy of a whole tensor is needed where the backend writes ranges.
   */
  *#loadTask(source: StateSource, chunkElements = STATE_CHUNK_ELEMENTS): MaybeAsyncTask<void> {
    this.#assertAlive(); // loading is how a halted optimizer recovers
    // Both callers copied the source's metadata and tensor list when they were called.
    const plan: LoadPlan = planStateLoad(source.meta, source.tensors, {
      groups: this.#groups.map((group) => group.params.map((p) => p.name)),
      sizes: new Map([...this.#params].map(([name, record]) => [name, sizeOf(record.shape)])),
      dtype: this.#backend.dtype,
    });
    for (const info of plan.tensors) {
      const size = plan.rules.sizes.get(info.name)!;
      for (let begin = 0; begin < size; begin += chunkElements) {
        const end = Math.min(size, begin + chunkElements);
        checkStatePiece(info, yield source.read(info, begin, end), begin, end, plan.rules);
        this.#assertAlive();
      }
    }
    const backend = this.#backend;
    // Whole tensors where the backend cannot write a range: one tensor in memory at a time.
    const pieceElements = backend.writeRange !== undefined ? chunkElements : Infinity;
    let wrote = false;
    try {
      for (const info of plan.tensors) {
        const tensor = tensorOfRole(this.#params.get(info.name)!, info.role);
        const size = plan.rules.sizes.get(info.name)!;
        for (let begin = 0; begin < size; begin += pieceElements) {
          const end = Math.min(size, begin + pieceElements);
          // Checked again: a source that changed between the passes must not slip through.
          const data = checkStatePiece(info, yield source.read(info, begin, end), begin, end, plan.rules);
          wrote = true;
          yield end - begin === size ? backend.write(tensor, data) : backend.writeRange!(tensor, begin, data);
          this.#assertAlive();
        }
      }
    } catch (error) {
      if (!wrote) throw error;
      throw this.#backendFailure(error, 'loadStateDict()');
    }
    for (const [name, step] of plan.steps) this.#params.get(name)!.step = step;
    this.#nonFinite = plan.nonFinite;
    const defaultLr = keepLiveScheduler(this.#defaults.lr, plan.defaults.lr);
    this.#defaults = { ...plan.defaults, lr: defaultLr };
    for (const [g, planned] of plan.groups.entries()) {
      const group = this.#groups[g]!;
      const lr =
        planned.overrides.lr === undefined ? defaultLr : keepLiveScheduler(group.options.lr, planned.options.lr);
      group.overrides = planned.overrides.lr === undefined ? planned.overrides : { ...planned.overrides, lr };
      group.options = { ...planned.options, lr };
    }
    this.#stepCount = plan.stepCount;
    this.#skippedSteps = plan.skippedSteps;
    this.#halted = undefined;
  }
}

/** The tensor of `record` that holds `role`. */
function tensorOfRole<T>(record: ParamRecord<T>, role: StateTensorRole): T {
  return role === 'param' ? record.param : role === 'firstMoment' ? record.firstMoment : record.secondMoment;
}

/** Options of {@link RAdam.stateDict}. */
export interface StateDictOptions {
  /** Typed arrays instead of base64 (see {@link RAdamBinaryStateDict}). Default `false`. */
  readonly binary?: boolean;
  /** Include every parameter's values (`params[name].param`). Default `false`. */
  readonly includeParams?: boolean;
}

/** `data` as the backend's element type (a backend may hand back either). */
function inDtype(data: HostArray, dtype: DType): HostArray {
  if (dtype === 'float64') return data instanceof Float64Array ? data : Float64Array.from(data);
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/**
 * A state dict of either form as a {@link StateSource}, copied now: later edits of the
 * caller's dict change nothing (typed arrays are read, not copied).
 */
function stateDictSource(dict: unknown): StateSource {
  const copy = copyInput(dict, { code: 'INVALID_STATE_DICT', root: 'dict', keep: (v) => v instanceof Float32Array || v instanceof Float64Array });
  const params = typeof copy === 'object' && copy !== null ? (copy as { params?: unknown }).params : undefined;
  const entries = typeof params === 'object' && params !== null ? (params as Record<string, unknown>) : {};
  const tensors: StateTensorInfo[] = [];
  for (const name of Object.keys(entries)) {
    const entry = entries[name] as Record<string, unknown> | null;
    if (typeof entry !== 'object' || entry === null) continue; // the plan names what is wrong
    for (const role of STATE_TENSOR_ROLES) {
      const array = entry[role];
      if (role === 'param' && array === undefined) continue;
      const dtype = array instanceof Float64Array || (array as { dtype?: unknown } | null)?.dtype === 'float64' ? 'float64' : 'float32';
      tensors.push({ name, role, dtype, shape: entry.shape as number[] });
    }
  }
  // Pieces of a tensor are asked for in order: decode each base64 array once, not per piece.
  let decoded: { info: StateTensorInfo; data: HostArray } | undefined;
  return {
    meta: copy,
    tensors,
    read: (info, begin, end) => {
      if (decoded?.info !== info) {
        const where = `${info.name}.${info.role}`;
        decoded = { info, data: decodeStateArray((entries[info.name] as Record<string, unknown>)[info.role], where, sizeOf(info.shape)) };
      }
      return decoded.data.subarray(begin, end);
    },
  };
}

/** The `chunkElements` of a state stream, checked: a positive integer. */
function chunkElementsOption(value: unknown): number {
  if (value === undefined) return STATE_CHUNK_ELEMENTS;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new RectifyError('INVALID_OPTION', `Option "chunkElements" must be a positive integer, got ${String(value)}.`, 'chunkElements');
  }
  return value;
}

/**
 * A copy of caller options: plain data is copied (getters read once), a live scheduler
 * object is kept, since the caller steps it.
 */
function copyOptions<O>(options: O, root: string): O {
  return copyInput(options, { code: 'INVALID_OPTION', root, keep: isLearningRateScheduler });
}

/** Throws `SHAPE_MISMATCH` unless `shape` is the registered parameter's. */
function expectShape(shape: readonly number[], record: { readonly shape: readonly number[]; readonly name: string }, what: string): void {
  const expected = record.shape;
  if (shape.length === expected.length && shape.every((d, i) => d === expected[i])) return;
  throw new RectifyError(
    'SHAPE_MISMATCH',
    `${what} has shape ${formatShape(shape)} (${sizeOf(shape)} elements); the parameter was registered with shape ${formatShape(expected)}.`,
    record.name,
  );
}

/**
 * After a load, the user's own scheduler object stays the one in use when it is the same
 * schedule as the restored one (same spec): it takes the restored progress, so references
 * the caller holds keep stepping the optimizer's rate. Otherwise the restored one replaces it.
 * The restored scheduler was validated and loaded already, so this cannot fail half-way.
 */
function keepLiveScheduler(
  live: number | LearningRateScheduler,
  restored: number | LearningRateScheduler,
): number | LearningRateScheduler {
  if (typeof live === 'number' || typeof restored === 'number' || live === restored) return restored;
  let sameSchedule: boolean;
  try {
    sameSchedule = JSON.stringify(live.toSpec()) === JSON.stringify(restored.toSpec());
  } catch {
    sameSchedule = false; // a schedule with a custom function has no spec to compare
  }
  if (!sameSchedule) return restored;
  live.loadStateDict(restored.stateDict());
  return live;
}
