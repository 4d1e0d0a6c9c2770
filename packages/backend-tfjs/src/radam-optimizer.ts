import * as tf from '@tensorflow/tfjs';
import {
  RAdam,
  RectifyError,
  createScheduler,
  encodeArray,
  isSchedulerSpec,
  type HostArray,
  type LearningRateScheduler,
  type RAdamOptions,
  type RAdamStateDict,
  type StepReport,
} from '@rectify/core';
import { configFromOptions, optionsFromConfig } from './optimizer-config.js';
import {
  ITERATIONS_WEIGHT,
  MOMENT_SUFFIXES,
  type NamedTensor,
  readOptimizerWeights,
  sameShape,
  type SavedParamState,
} from './optimizer-weights.js';
import { tfjsBackend, type SyncTfjsBackend } from './tfjs-backend.js';

/**
 * Options of {@link RAdamOptimizer}: exactly core's `RAdamOptions` (SPEC.md defaults for
 * anything omitted). `lr` may be a number, a core scheduler, or a scheduler spec.
 *
 * @example
 * ```ts
 * const options: RAdamOptimizerOptions = { lr: { scheduler: 'CosineAnnealingLR', args: { baseLr: 1e-2, tMax: 50 } }, gradClipNorm: 1 };
 * ```
 */
export type RAdamOptimizerOptions = RAdamOptions;

/**
 * RAdam as a drop-in `tf.Optimizer`: use it wherever tfjs takes an optimizer
 * (`model.compile`, `optimizer.minimize`, `applyGradients`). The numerics are core's
 * (SPEC.md), run by {@link tfjsBackend} on the active tfjs backend; every option of
 * core's `RAdam` is accepted, schedulers included.
 *
 * - **Variables** are registered lazily, by `tf.Variable` name, the first time they get a
 *   gradient. Each parameter keeps its own step count (a variable without a gradient in a
 *   step is left alone, as in PyTorch).
 * - **Schedulers** are never advanced by the optimizer: step the scheduler yourself, or pass
 *   {@link schedulerCallback} to `model.fit` to step it once per epoch.
 * - **Synchronous**: `applyGradients` updates the variables before it returns, as tfjs
 *   requires (tfjs-layers disposes the gradients right after). Host reads use
 *   `dataSync()`; there is one only with `gradClipNorm` or `nonFinite` other than
 *   `'propagate'`, and it is one small vector per step.
 * - **tfjs-webgpu**: in a browser, steps run `@rectify/backend-webgpu`'s WGSL kernel on
 *   tfjs' device (one dispatch updates every variable; one more per reduction: the
 *   non-finite check, the norm), with each result read back synchronously (a few bytes,
 *   through a WebGPU canvas, as tfjs-webgpu's `dataSync()` reads),
 *   once its arena is set up. That starts in the background at the first step (or with
 *   {@link RAdamOptimizer.ready}); steps before it is ready run the stock tfjs ops (the
 *   same numerics within SPEC.md's tolerance). In Node (Dawn) tfjs-webgpu's `dataSync()`
 *   cannot read a GPU buffer (it needs an `OffscreenCanvas`), so no path can read its
 *   results synchronously: `applyGradients` throws `INVALID_OPTION` (naming
 *   `synchronous`) there before anything changes, and `ready()` resolves `false`; use
 *   `tfjsBackend({ synchronous: false })` with core's `RAdam`. See `webgpu-sync-path.ts`
 *   for which device errors are caught before any variable changes.
 * - **Serialisable**: registered with `tf.serialization.registerClass` under the class
 *   name `'RectifyRAdam'`, so `model.save(…, { includeOptimizer: true })` and
 *   `tf.loadLayersModel` round-trip the options, the scheduler's progress and the state.
 * - **Weights** (`getWeights`/`setWeights`): `iter`, then per variable `<name>/m`,
 *   `<name>/v` (the live moment variables, as tfjs' Adam returns them) and `<name>/step`.
 *   State set for variables not yet registered waits for them: it binds by name, or else,
 *   for a model reloaded under new variable names, by order of first gradient (as tfjs'
 *   own optimizers bind their weights by position).
 *
 * `iterations` counts the steps taken (a step dropped by `nonFinite: 'skip'` does not count).
 *
 * **Halting.** When a step leaves a non-finite parameter or moment (`NON_FINITE_UPDATE`:
 * a huge gradient or learning rate) or the backend fails while writing (`BACKEND_ERROR`),
 * `applyGradients` throws that `RectifyError`, so `model.fit` rejects with it, and the
 * optimizer halts: `applyGradients`, `getWeights` and `setWeights` throw `HALTED` (so a
 * torn state is neither trained on nor saved with the model) until
 * `optimizer.radam.loadStateDict(checkpoint)` restores a state taken earlier with
 * `optimizer.radam.stateDict()`. The model's own weights are the caller's to restore.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { RAdamOptimizer } from '@rectify/backend-tfjs';
 *
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [3] })] });
 * model.compile({ optimizer: new RAdamOptimizer({ lr: 1e-2, weightDecay: 1e-4 }), loss: 'meanSquaredError' });
 * await model.fit(xs, ys, { epochs: 20 });
 * ```
 */
export class RAdamOptimizer extends tf.Optimizer {
  /**
   * The name tfjs serialises this class under. Not `'RAdam'`, so it cannot collide with
   * a tfjs built-in or another library's RAdam in the global serialization registry.
   */
  static readonly className = 'RectifyRAdam';

  readonly #radam: RAdam<SyncTfjsBackend>;
  readonly #backend: SyncTfjsBackend;
  readonly #scheduler: LearningRateScheduler | undefined;
  /** Registered variables by name, in registration order. */
  readonly #variables = new Map<string, tf.Variable>();
  /** The moment variables core created for each registered variable. */
  readonly #moments = new Map<string, readonly [tf.Variable, tf.Variable]>();
  /** Moments created by the backend during the current registration. */
  readonly #created: tf.Tensor[] = [];
  /** Saved state waiting for its variable's first gradient, in saved order. */
  #pending: SavedParamState[] = [];
  /** Tensors handed out by `getWeights()` that are not live state: reused, never leaked. */
  readonly #held = new Map<string, tf.Variable>();
  #disposed = false;

  /**
   * @param options - core's RAdam options.
   * @throws RectifyError `INVALID_OPTION` naming the first bad option.
   */
  constructor(options: RAdamOptimizerOptions = {}) {
    super();
    // Build the scheduler here when given a spec, so `scheduler` is the live object.
    const lr = isSchedulerSpec(options.lr) ? createScheduler(options.lr) : options.lr;
    this.#scheduler = typeof lr === 'object' ? lr : undefined;
    const backend = tfjsBackend({ synchronous: true });
    this.#backend = backend;
    // Record the moments core creates at registration, so getWeights() can hand out the
    // live variables (as tfjs' Adam does) instead of copies that would leak.
    const recording: SyncTfjsBackend = {
      ...backend,
      zerosLike: (like) => {
        const moment = backend.zerosLike(like);
        this.#created.push(moment);
        return moment;
      },
    };
    this.#radam = new RAdam(recording, { ...options, lr });
  }

  /**
   * `true` for an {@link RAdamOptimizer}. (`tf.Optimizer` duck-types `instanceof` for every
   * subclass, which would make any tfjs optimizer pass.)
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && #radam in value;
  }

  /**
   * Rebuilds an optimizer from {@link RAdamOptimizer.getConfig}'s output: how tfjs
   * deserialises it (`tf.loadLayersModel`).
   */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(optionsFromConfig(config));
  }

  /** The core optimizer doing the work (options, `readState`, `stateDict`, param groups). */
  get radam(): RAdam<SyncTfjsBackend> {
    return this.#radam;
  }

  /** The scheduler driving the learning rate, if any: step it to advance the schedule. */
  get scheduler(): LearningRateScheduler | undefined {
    return this.#scheduler;
  }

  /**
   * Sets up the step path of the active tfjs backend if that has not started yet, and
   * resolves once it is ready: `true` when steps now run the shared WGSL kernel (tfjs
   * `webgpu` in a browser), `false` on every other path (they need no set-up). Optional:
   * on tfjs-webgpu the set-up also starts at the first step, and steps run the stock ops
   * until it is done. Never rejects for a missing kernel (it resolves `false`).
   *
   * @throws RectifyError `DISPOSED` once disposed.
   * @example
   * ```ts
   * const optimizer = new RAdamOptimizer({ lr: 1e-3 });
   * await optimizer.ready(); // true on tfjs-webgpu in Chromium: one dispatch per step from now on
   * ```
   */
  async ready(): Promise<boolean> {
    if (this.#disposed) throw new RectifyError('DISPOSED', 'This RAdamOptimizer has been disposed.');
    return this.#backend.ready();
  }

  /** The learning rate the next step will use. */
  get currentLr(): number {
    return this.#scheduler?.getLastLr()[0] ?? this.#radam.currentLr;
  }

  /**
   * Applies one RAdam step: `variableGradients` maps `tf.Variable` names to gradients
   * (a record, or a list of `{ name, tensor }`). Variables seen for the first time are
   * registered; a missing or `null` gradient leaves its variable untouched.
   *
   * @throws RectifyError as core's `step()`, and `UNKNOWN_PARAMETER` for a name that is
   *   no `tf.Variable`: nothing is changed then, except after `NON_FINITE_UPDATE` or
   *   `BACKEND_ERROR`, which halt the optimizer (see the class notes); `HALTED` once halted.
   */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.#assertUsable();
    const entries: [string, tf.Tensor | null | undefined][] = Array.isArray(variableGradients)
      ? variableGradients.map(({ name, tensor }) => [name, tensor])
      : Object.entries(variableGradients);
    // A null-prototype record: variable names are used verbatim, whatever they contain.
    const grads = Object.create(null) as Record<string, tf.Tensor>;
    const unseen: [string, tf.Variable][] = [];
    for (const [name, tensor] of entries) {
      if (tensor === null || tensor === undefined) continue;
      if (!this.#variables.has(name) && !unseen.some(([n]) => n === name)) {
        const variable = tf.engine().registeredVariables[name];
        if (variable === undefined) {
          throw new RectifyError('UNKNOWN_PARAMETER', `Got a gradient for "${name}", which is not a tf.Variable.`, name);
        }
        unseen.push([name, variable]);
      }
      grads[name] = tensor;
    }
    if (unseen.length > 0) this.#register(unseen);
    const report: StepReport = this.#radam.step(grads);
    if (!report.skipped) this.incrementIterations();
  }

  /**
   * The optimizer's state as named tensors: `iter` (int32), then for every variable
   * `<name>/m` and `<name>/v` (the live moment variables: do not dispose them) and
   * `<name>/step` (int32). Repeated calls create no new tensors.
   *
   * @throws RectifyError `HALTED` when the optimizer halted: its state is not one to save.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    this.#assertUsable();
    const weights: NamedTensor[] = [{ name: ITERATIONS_WEIGHT, tensor: this.#hold(ITERATIONS_WEIGHT, [this.iterations], [], 'int32') }];
    for (const [name, variable] of this.#variables) {
      const state = this.#radam.readState(name);
      const moments = this.#moments.get(name) ?? [
        this.#hold(name + MOMENT_SUFFIXES.m, state.firstMoment, variable.shape, 'float32'),
        this.#hold(name + MOMENT_SUFFIXES.v, state.secondMoment, variable.shape, 'float32'),
      ];
      weights.push(...this.#namedState(name, moments[0], moments[1], state.step));
    }
    for (const saved of this.#pending) {
      const m = this.#hold(saved.name + MOMENT_SUFFIXES.m, saved.m, saved.shape, 'float32');
      const v = this.#hold(saved.name + MOMENT_SUFFIXES.v, saved.v, saved.shape, 'float32');
      weights.push(...this.#namedState(saved.name, m, v, saved.step));
    }
    return weights;
  }

  /**
   * Restores state from {@link RAdamOptimizer.getWeights}'s output (or a model file's
   * optimizer weights). Registered variables take theirs at once; the rest waits for the
   * variables' first gradient (see the class notes on binding). Everything is validated
   * first; on error nothing changes. The given tensors are read, not kept.
   *
   * @throws RectifyError `INVALID_STATE_DICT` for malformed weights, `SHAPE_MISMATCH`
   *   when a registered variable's shape differs from its saved moments, `HALTED` when
   *   the optimizer halted (restore it with `optimizer.radam.loadStateDict()`).
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    this.#assertUsable();
    const saved = await readOptimizerWeights(weightValues);
    const now = new Map<string, SavedParamState>();
    const later: SavedParamState[] = [];
    for (const state of saved.params) {
      const variable = this.#variables.get(state.name);
      if (variable === undefined) {
        later.push(state);
        continue;
      }
      if (!sameShape(variable.shape, state.shape)) {
        throw new RectifyError(
          'SHAPE_MISMATCH',
          `Saved moments of "${state.name}" have shape [${state.shape.join(', ')}]; the variable has [${variable.shape.join(', ')}].`,
          state.name,
        );
      }
      now.set(state.name, state);
    }
    if (now.size > 0) this.#restore(now);
    this.#pending = later;
    if (saved.iterations !== undefined) this.iterations_ = saved.iterations;
  }

  /** The options as a tfjs config (see `optionsFromConfig` for the format). */
  getConfig(): tf.serialization.ConfigDict {
    return configFromOptions(this.#radam.options, this.#scheduler, this.currentLr);
  }

  /** Frees every tensor this optimizer created: moments and `getWeights()` tensors. */
  override dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#radam.dispose();
    this.#backend.dispose();
    for (const tensor of this.#held.values()) tensor.dispose();
    this.#held.clear();
    this.#moments.clear();
    this.#variables.clear();
    this.#pending = [];
    super.dispose();
  }

  /** Not disposed, not halted: what every call that steps, reads or restores state needs. */
  #assertUsable(): void {
    if (this.#disposed) throw new RectifyError('DISPOSED', 'This RAdamOptimizer has been disposed.');
    const halted = this.#radam.haltedBy;
    if (halted !== undefined) {
      // Checked here too, not only by core's step(): getWeights() reads state through
      // readState(), which a halted core still answers.
      throw new RectifyError(
        'HALTED',
        `This RAdamOptimizer halted after ${halted.code} (${halted.message}) Restore a checkpoint with optimizer.radam.loadStateDict() to go on.`,
        halted.parameter,
        { cause: halted },
      );
    }
  }

  #namedState(name: string, m: tf.Tensor, v: tf.Tensor, step: number): NamedTensor[] {
    return [
      { name: name + MOMENT_SUFFIXES.m, tensor: m },
      { name: name + MOMENT_SUFFIXES.v, tensor: v },
      { name: name + MOMENT_SUFFIXES.step, tensor: this.#hold(name + MOMENT_SUFFIXES.step, [step], [], 'int32') },
    ];
  }

  /** A variable this optimizer keeps under `key`, overwritten with `values` on each call. */
  #hold(key: string, values: ArrayLike<number>, shape: readonly number[], dtype: 'float32' | 'int32'): tf.Variable {
    const data = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
    const held = this.#held.get(key);
    if (held !== undefined && held.dtype === dtype && sameShape(held.shape, shape)) {
      tf.tidy(() => held.assign(tf.tensor(data, [...shape], dtype)));
      return held;
    }
    held?.dispose();
    const fresh = tf.tidy(() => tf.variable(tf.tensor(data, [...shape], dtype), false));
    this.#held.set(key, fresh);
    return fresh;
  }

  /** Registers `unseen` with core, then hands them any saved state waiting for them. */
  #register(unseen: readonly [string, tf.Variable][]): void {
    const params = Object.create(null) as Record<string, tf.Variable>;
    for (const [name, variable] of unseen) params[name] = variable;
    this.#created.length = 0;
    this.#radam.registerTrainableWeights(params);
    // Core creates each parameter's m then v, in registration order.
    const created = this.#created.splice(0);
    const recorded = created.length === 2 * unseen.length && created.every((t) => t instanceof tf.Variable);
    unseen.forEach(([name, variable], i) => {
      this.#variables.set(name, variable);
      if (recorded) this.#moments.set(name, [created[2 * i] as tf.Variable, created[2 * i + 1] as tf.Variable]);
    });
    if (this.#pending.length > 0) this.#bindPending(unseen);
  }

  /**
   * Hands saved state waiting in `#pending` to newly registered variables: first every
   * entry saved under a variable's own name, then, in order, the entries still waiting to
   * the variables still without state, while the shapes agree. The second pass binds by
   * position (as tfjs' own optimizers bind their weights) because a model loaded next to
   * its original gets new variable names (`dense_Dense1/kernel_1`).
   */
  #bindPending(unseen: readonly [string, tf.Variable][]): void {
    const restore = new Map<string, SavedParamState>();
    const unmatched: [string, tf.Variable][] = [];
    for (const [name, variable] of unseen) {
      const index = this.#pending.findIndex((saved) => saved.name === name && sameShape(saved.shape, variable.shape));
      if (index < 0) unmatched.push([name, variable]);
      else restore.set(name, this.#pending.splice(index, 1)[0]!);
    }
    for (const [name, variable] of unmatched) {
      const next = this.#pending[0];
      if (next === undefined || !sameShape(next.shape, variable.shape)) break;
      restore.set(name, next);
      this.#pending.shift();
    }
    if (restore.size > 0) this.#restore(restore);
  }

  /**
   * Writes saved state into core. Core can only set step counts through a whole state
   * dict, so this round-trips the current one with the given entries replaced.
   */
  #restore(states: ReadonlyMap<string, SavedParamState>): void {
    const dict: RAdamStateDict = this.#radam.stateDict();
    // Null prototype, as core's: a variable may be named anything, "__proto__" included.
    const params = Object.assign(Object.create(null) as Record<string, RAdamStateDict['params'][string]>, dict.params);
    for (const [name, state] of states) {
      params[name] = {
        shape: [...state.shape],
        step: state.step,
        firstMoment: encodeArray(state.m as HostArray),
        secondMoment: encodeArray(state.v as HostArray),
      };
    }
    // Core keeps the user's scheduler object live across the load (same spec), so
    // `scheduler` still drives the rate.
    this.#radam.loadStateDict({ ...dict, params });
  }
}

tf.serialization.registerClass(RAdamOptimizer);
