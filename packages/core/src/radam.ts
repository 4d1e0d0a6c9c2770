import type { BackendResult, HostArray, RAdamSlot, TensorBackend, TensorOf } from './backend.js';
import { RectifyError } from './errors.js';
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
import type { LearningRateScheduler } from './schedulers/scheduler.js';
import { encodeArray } from './state/encoding.js';
import { planStateDictLoad, type LoadPlan } from './state/load-plan.js';
import {
  STATE_DICT_FORMAT,
  STATE_DICT_VERSION,
  type GroupStateEntry,
  type ParamStateEntry,
  type RAdamStateDict,
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
  #defaults: ResolvedGroupOptions;
  readonly #groups: GroupRecord<TensorOf<B>>[] = [];
  readonly #params = new Map<string, ParamRecord<TensorOf<B>>>();
  /** Gradient tensors whose shape already matched a parameter's (see #collectGradients). */
  readonly #checkedGradients = new WeakMap<object, ParamRecord<TensorOf<B>>>();
  #stepCount = 0;
  #skippedSteps = 0;
  #pending: Promise<unknown> | undefined;
  #disposed = false;

  /**
   * @param backend - where tensors live and the fused update runs.
   * @param options - hyperparameters (SPEC.md defaults for anything omitted).
   * @throws RectifyError `INVALID_OPTION` naming the first bad option.
   */
  constructor(backend: B, options: RAdamOptions = {}) {
    this.#backend = backend as TensorBackend<TensorOf<B>>;
    const resolved = resolveOptimizerOptions(options);
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
   *   `DUPLICATE_PARAMETER` for a name already registered. Nothing is registered then.
   */
  registerTrainableWeights(params: TensorTree<TensorOf<B>>): void {
    this.#assertUsable();
    const records = this.#prepareParams(params);
    if (this.#groups.length === 0) this.#groups.push({ overrides: {}, options: this.#defaults, params: [] });
    this.#adopt(this.#groups[0]!, records);
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
    if (typeof overrides === 'object' && overrides !== null && 'nonFinite' in overrides) {
      throw new RectifyError(
        'INVALID_OPTION',
        'Option "nonFinite" applies to the whole step and cannot be set per group; pass it to the optimizer.',
        'nonFinite',
      );
    }
    const options = resolveGroupOptions(overrides, this.#defaults);
    const records = this.#prepareParams(params);
    const group: GroupRecord<TensorOf<B>> = { overrides: { ...overrides }, options, params: [] };
    this.#groups.push(group);
    this.#adopt(group, records);
  }

  /**
   * Applies one RAdam step with `grads` (same names and nesting as the parameters). A
   * parameter without a gradient (absent, `null` or `undefined`) is left untouched, step
   * count included.
   *
   * @returns what the step did; a promise of it on an asynchronous backend.
   * @throws RectifyError before changing anything: `NOT_REGISTERED`, `UNKNOWN_PARAMETER`,
   *   `INVALID_TENSOR`, `SHAPE_MISMATCH`, `NON_FINITE_GRADIENT` (policy `'error'`), or
   *   `INVALID_OPTION` when a scheduler yields an invalid learning rate.
   */
  step(grads: TensorTree<TensorOf<B>>): BackendResult<B, StepReport> {
    return this.#serialize(() => this.#stepTask(grads));
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
   * A JSON-serialisable snapshot of everything the optimizer has learnt: options, groups,
   * per-parameter steps and moments, scheduler progress. Parameters themselves are not
   * included (they are the model's).
   */
  stateDict(): BackendResult<B, RAdamStateDict> {
    return this.#serialize(() => this.#stateDictTask());
  }

  /**
   * Restores a snapshot from {@link RAdam.stateDict}, from this or any other backend.
   * Everything is validated first (format, version, group layout, names, element counts,
   * option ranges, finite moments); on any error nothing changes. Options and schedulers
   * are taken from the dict.
   *
   * @throws RectifyError `INVALID_STATE_DICT`, `UNSUPPORTED_STATE_VERSION` or `SHAPE_MISMATCH`.
   */
  loadStateDict(dict: RAdamStateDict): BackendResult<B, void> {
    return this.#serialize(() => this.#loadTask(dict));
  }

  /** Releases the moments this optimizer created. Further calls throw `DISPOSED`. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const record of this.#params.values()) {
      this.#backend.disposeTensor(record.firstMoment);
      this.#backend.disposeTensor(record.secondMoment);
    }
    this.#params.clear();
    this.#groups.length = 0;
  }

  /** Runs tasks one at a time: only asynchronous ones can overlap, and they queue. */
  #serialize<R>(makeTask: () => MaybeAsyncTask<R>): BackendResult<B, R> {
    const run = (): R | Promise<R> => runMaybeAsync(makeTask());
    const result = this.#pending === undefined ? run() : this.#pending.then(run, run);
    if (isPromiseLike(result)) {
      const pending: Promise<R> = Promise.resolve(result);
      this.#pending = pending;
      const clear = (): void => {
        if (this.#pending === pending) this.#pending = undefined;
      };
      pending.then(clear, clear);
      return pending as BackendResult<B, R>;
    }
    return result as BackendResult<B, R>;
  }

  #assertUsable(): void {
    if (this.#disposed) throw new RectifyError('DISPOSED', 'This optimizer has been disposed.');
  }

  #assertRegistered(): void {
    this.#assertUsable();
    if (this.#groups.length === 0) {
      throw new RectifyError('NOT_REGISTERED', 'No parameters: call registerTrainableWeights() first.', 'params');
    }
  }

  #prepareParams(params: TensorTree<TensorOf<B>>): Map<string, TensorOf<B>> {
    const backend = this.#backend;
    const flat = flattenTensorTree(params, (v): v is TensorOf<B> => backend.isTensor(v), 'parameter', backend.name);
    for (const name of flat.keys()) {
      if (this.#params.has(name)) {
        throw new RectifyError('DUPLICATE_PARAMETER', `The parameter "${name}" is already registered.`, name);
      }
    }
    return flat;
  }

  #adopt(group: GroupRecord<TensorOf<B>>, params: Map<string, TensorOf<B>>): void {
    for (const [name, param] of params) {
      const record: ParamRecord<TensorOf<B>> = {
        name,
        param,
        shape: [...this.#backend.shapeOf(param)],
        firstMoment: this.#backend.zerosLike(param),
        secondMoment: this.#backend.zerosLike(param),
        step: 0,
      };
      this.#params.set(name, record);
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

  /** Validates `grads` against the registered parameters: every check before any write. */
  #collectGradients(grads: TensorTree<TensorOf<B>>): Map<ParamRecord<TensorOf<B>>, TensorOf<B>> {
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
      // A tensor's shape never changes, and training loops reuse gradient buffers: a
      // tensor already checked against this parameter needs no second look.
      if (this.#checkedGradients.get(grad as object) !== record) {
        const shape = backend.shapeOf(grad);
        if (shape.length !== record.shape.length || shape.some((d, i) => d !== record.shape[i])) {
          throw new RectifyError(
            'SHAPE_MISMATCH',
            `The gradient of "${name}" has shape ${formatShape(shape)} (${sizeOf(shape)} elements); the parameter has shape ${formatShape(record.shape)}.`,
            name,
          );
        }
        this.#checkedGradients.set(grad as object, record);
      }
      given.set(record, grad);
    });
    return given;
  }

  *#stepTask(grads: TensorTree<TensorOf<B>>): MaybeAsyncTask<StepReport> {
    this.#assertRegistered();
    const backend = this.#backend;
    const given = this.#collectGradients(grads);
    const lrs = this.#groups.map((_, i) => this.#learningRateOf(i));
    const allGrads = [...given.values()];

    const clipsByNorm = this.#groups.some(
      (group) => group.options.gradClipNorm !== null && group.params.some((p) => given.has(p)),
    );
    const sumOfSquares = clipsByNorm ? ((yield backend.sumOfSquares(allGrads)) as number) : undefined;
    if (this.#nonFinite !== 'propagate' && allGrads.length > 0) {
      // A finite sum of squares already proves every gradient finite: no second pass.
      const finite =
        (sumOfSquares !== undefined && Number.isFinite(sumOfSquares)) || ((yield backend.allFinite(allGrads)) as boolean);
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

    let updatedParams = 0;
    for (const [g, group] of this.#groups.entries()) {
      // Tensors that share a step count share every scalar: one backend call per batch
      // (almost always a single batch, so a short list beats a map).
      const batches: { step: number; records: ParamRecord<TensorOf<B>>[]; slots: RAdamSlot<TensorOf<B>>[] }[] = [];
      for (const record of group.params) {
        const grad = given.get(record);
        if (grad === undefined) continue;
        let batch = batches.find((b) => b.step === record.step);
        if (batch === undefined) batches.push((batch = { step: record.step, records: [], slots: [] }));
        batch.records.push(record);
        batch.slots.push({ param: record.param, grad, firstMoment: record.firstMoment, secondMoment: record.secondMoment });
      }
      for (const { step, records, slots } of batches) {
        const scalars = planRAdamStep({ options: group.options, lr: lrs[g]!, step: step + 1, globalNorm });
        yield backend.applyRAdam(slots, scalars);
        for (const record of records) record.step = step + 1;
        updatedParams += records.length;
      }
    }
    this.#stepCount++;
    return { skipped: false, gradNorm: globalNorm, lrs, updatedParams };
  }

  *#readStateTask(name: string): MaybeAsyncTask<ParamState> {
    this.#assertUsable();
    const record = this.#params.get(name);
    if (record === undefined) {
      throw new RectifyError('UNKNOWN_PARAMETER', `"${name}" is not a registered parameter.`, name);
    }
    const firstMoment = (yield this.#backend.read(record.firstMoment)) as HostArray;
    const secondMoment = (yield this.#backend.read(record.secondMoment)) as HostArray;
    return { step: record.step, firstMoment, secondMoment };
  }

  *#stateDictTask(): MaybeAsyncTask<RAdamStateDict> {
    this.#assertUsable();
    const params: Record<string, ParamStateEntry> = {};
    for (const record of this.#params.values()) {
      const state = (yield* this.#readStateTask(record.name)) as ParamState;
      params[record.name] = {
        shape: [...record.shape],
        step: state.step,
        firstMoment: encodeArray(state.firstMoment),
        secondMoment: encodeArray(state.secondMoment),
      };
    }
    const groups: GroupStateEntry[] = this.#groups.map((group) => {
      const entry: GroupStateEntry = {
        overrides: serializeGroupOptions(group.overrides),
        params: group.params.map((p) => p.name),
      };
      const own = group.overrides.lr === undefined ? undefined : group.options.lr;
      return typeof own === 'object' ? { ...entry, schedulerState: own.stateDict() } : entry;
    });
    const dict: RAdamStateDict = {
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
    return typeof lr === 'object' ? { ...dict, schedulerState: lr.stateDict() } : dict;
  }

  *#loadTask(dict: RAdamStateDict): MaybeAsyncTask<void> {
    this.#assertUsable();
    const plan: LoadPlan = planStateDictLoad(dict, {
      groups: this.#groups.map((group) => group.params.map((p) => p.name)),
      sizes: new Map([...this.#params].map(([name, record]) => [name, sizeOf(record.shape)])),
    });
    for (const [name, state] of plan.params) {
      const record = this.#params.get(name)!;
      yield this.#backend.write(record.firstMoment, state.firstMoment);
      yield this.#backend.write(record.secondMoment, state.secondMoment);
      record.step = state.step;
    }
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
  }
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
