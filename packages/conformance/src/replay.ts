import {
  RAdam,
  createScheduler,
  isSchedulerSpec,
  type LearningRateScheduler,
  type ParamState,
  type RAdamStateDict,
  type TensorBackend,
} from '@rectify/core';
import type { RadamGoldenCase, SchedulerGoldenCase } from './goldens.js';

/** Builds a fresh backend for one case. */
export type BackendFactory = () => TensorBackend<any> | Promise<TensorBackend<any>>;

/** A parameter's state after the last step, in the replay contract's names. */
export interface ReplayedState {
  readonly step: number;
  readonly m: number[];
  readonly v: number[];
}

/** The replay of one RAdam case, as the replay CLI prints it. */
export interface RadamReplay {
  readonly name: string;
  /** `trajectory[i]`: every parameter after step `i + 1`. */
  readonly trajectory: Record<string, number[]>[];
  readonly finalState: Record<string, ReplayedState>;
  /** The learning rate each step used (default group). */
  readonly appliedLr: number[];
}

/** A replay that could not run: the case name and why. */
export interface FailedReplay {
  readonly name: string;
  readonly error: string;
}

/** Where to interrupt a replay for a state-dict round trip. */
export interface Interruption {
  /** Save after this many steps (`0 < afterStep < steps`). */
  readonly afterStep: number;
  /** Backend the run continues on (default: a fresh one from the same factory). */
  readonly resumeOn?: BackendFactory;
}

/** Everything a replay needs that is not in the case itself. */
interface RunningCase {
  readonly backend: TensorBackend<any>;
  readonly optimizer: RAdam<TensorBackend<any>>;
  readonly params: Record<string, unknown>;
  readonly scheduler: LearningRateScheduler | undefined;
}

async function startCase(
  testCase: RadamGoldenCase,
  createBackend: BackendFactory,
  initial: Record<string, ArrayLike<number>>,
): Promise<RunningCase> {
  const backend = await createBackend();
  const lr = testCase.options.lr;
  const scheduler = isSchedulerSpec(lr) ? createScheduler(lr) : undefined;
  const optimizer = new RAdam(backend, { ...testCase.options, lr: scheduler ?? lr, compat: testCase.semantics });
  const params: Record<string, unknown> = {};
  for (const [name, param] of Object.entries(testCase.params)) {
    params[name] = backend.fromArray(initial[name] ?? param.data, param.shape);
  }
  optimizer.registerTrainableWeights(params);
  return { backend, optimizer, params, scheduler };
}

async function runSteps(
  running: RunningCase,
  testCase: RadamGoldenCase,
  from: number,
  to: number,
  replay: { trajectory: Record<string, number[]>[]; appliedLr: number[] },
): Promise<void> {
  const { backend, optimizer, params, scheduler } = running;
  for (let i = from; i < to; i++) {
    const grads: Record<string, unknown> = {};
    for (const [name, data] of Object.entries(testCase.grads[i]!)) {
      grads[name] = backend.fromArray(data, testCase.params[name]!.shape);
    }
    try {
      const report = await optimizer.step(grads);
      replay.appliedLr.push(report.lrs[0]!);
    } finally {
      for (const grad of Object.values(grads)) backend.disposeTensor(grad);
    }
    const snapshot: Record<string, number[]> = {};
    for (const [name, param] of Object.entries(params)) snapshot[name] = Array.from(await backend.read(param));
    replay.trajectory.push(snapshot);
    const every = testCase.schedulerStepEvery;
    if (scheduler !== undefined && every !== undefined && (i + 1) % every === 0) scheduler.step();
  }
}

async function finish(running: RunningCase): Promise<Record<string, ReplayedState>> {
  const finalState: Record<string, ReplayedState> = {};
  for (const name of Object.keys(running.params)) {
    const state: ParamState = await running.optimizer.readState(name);
    finalState[name] = { step: state.step, m: Array.from(state.firstMoment), v: Array.from(state.secondMoment) };
  }
  running.optimizer.dispose();
  for (const param of Object.values(running.params)) running.backend.disposeTensor(param);
  running.backend.dispose?.();
  return finalState;
}

/**
 * Replays one golden RAdam case on a backend: registers its parameters, feeds its
 * gradients step by step (stepping the scheduler as the case says) and records every
 * parameter after each step, then the final per-parameter state.
 *
 * With `interruption`, the run is cut after `afterStep` steps: the state dict goes
 * through JSON, a fresh optimizer (on a fresh backend, or `resumeOn`) is built from the
 * parameters as they stand, loads it, and carries on. The result must equal the
 * uninterrupted run.
 */
export async function replayRadamCase(
  testCase: RadamGoldenCase,
  createBackend: BackendFactory,
  interruption?: Interruption,
): Promise<RadamReplay> {
  const replay = { trajectory: [] as Record<string, number[]>[], appliedLr: [] as number[] };
  const steps = testCase.grads.length;
  let running = await startCase(testCase, createBackend, {});
  if (interruption !== undefined) {
    await runSteps(running, testCase, 0, interruption.afterStep, replay);
    const saved = JSON.parse(JSON.stringify(await running.optimizer.stateDict())) as RAdamStateDict;
    const current = replay.trajectory[interruption.afterStep - 1] ?? {};
    await finish(running);
    running = await startCase(testCase, interruption.resumeOn ?? createBackend, current);
    // The scheduler's progress travels inside the state dict; the replay steps the restored one.
    await running.optimizer.loadStateDict(saved);
    const lr = running.optimizer.options.lr;
    running = { ...running, scheduler: typeof lr === 'object' ? lr : undefined };
    await runSteps(running, testCase, interruption.afterStep, steps, replay);
  } else {
    await runSteps(running, testCase, 0, steps, replay);
  }
  return { name: testCase.name, ...replay, finalState: await finish(running) };
}

/** Replays one golden scheduler case: `lrs[i]` is `getLastLr()` after `i` calls of `step()`. */
export function replaySchedulerCase(testCase: SchedulerGoldenCase): { name: string; lrs: number[][] } {
  const scheduler = createScheduler({ scheduler: testCase.scheduler, args: testCase.args });
  const lrs = [scheduler.getLastLr()];
  for (let i = 0; i < testCase.epochs; i++) {
    scheduler.step(testCase.metrics?.[i]);
    lrs.push(scheduler.getLastLr());
  }
  return { name: testCase.name, lrs };
}
