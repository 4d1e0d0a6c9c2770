/**
 * `pnpm demo`: trains the same MLP with RAdam on every backend (Iris, then two spirals),
 * from the same initial weights and the same gradient stream, shows a progress bar per
 * backend, prints a table per task and writes the charts. `pnpm demo --help` for the flags.
 */
import * as tf from '@tensorflow/tfjs';
import { backendEntries } from '@rectify/all-backends';
import { rectification } from '@rectify/core';
import { CommanderError } from 'commander';
import { decisionCells, labelledPoints } from './charts/decision-map.js';
import { writeChart, type WrittenChart } from './charts/render.js';
import { decisionMapSpec, learningRateSpec, lossCurvesSpec, warmupSpec, type LossCurve, type WarmupTrace } from './charts/specs.js';
import { demoCommand, parseDemoOptions, type DemoOptions } from './cli/demo-options.js';
import { parameterCount } from './model/mlp.js';
import { progressDisplay } from './report/progress.js';
import { resultTable } from './report/table.js';
import { compareWithAdam } from './training/adam-comparison.js';
import { REFERENCE_BACKEND, backendStatuses, type BackendStatus } from './training/backends.js';
import { runExperiment, type ExperimentResult } from './training/experiment.js';
import { TASKS, type Task } from './training/tasks.js';

const GRADIENT_NOTE = {
  reference:
    `every backend applies the gradients of the ${REFERENCE_BACKEND} run, step for step, so max |Δθ| is the optimizer's arithmetic alone`,
  own: 'every backend applies the gradients of its own parameters, so float32 rounding also feeds back through the model',
} as const;

/** The first step whose variance RAdam rectifies (ρt ≥ 5, SPEC.md's default threshold). */
function firstRectifiedStep(): number {
  let t = 1;
  while (rectification(0.9, 0.999, t).rhoT < 5) t++;
  return t;
}

/** Writes every chart of the run; returns the files. */
async function writeCharts(options: DemoOptions, experiments: readonly ExperimentResult[], warmup: readonly WarmupTrace[]): Promise<WrittenChart[]> {
  const written: WrittenChart[] = [];
  for (const { task, reference, outcomes } of experiments) {
    const curves: LossCurve[] = [{ backend: REFERENCE_BACKEND, losses: reference.losses }];
    for (const outcome of outcomes) {
      // The replayed cpu64 run repeats the reference exactly: one line for both.
      if (outcome.status === 'trained' && outcome.backend !== REFERENCE_BACKEND) {
        curves.push({ backend: outcome.backend, losses: outcome.result.losses });
      }
    }
    written.push(await writeChart(lossCurvesSpec(task.title, curves, REFERENCE_BACKEND), options.out, `${task.id}-loss`));
    if (task.train.features === 2 && task.train.classes === 2) {
      const spec = decisionMapSpec(
        `${task.title} after ${options.steps} steps (${REFERENCE_BACKEND})`,
        decisionCells(task.model, reference.finalParams, task.train),
        labelledPoints(task.test, ['arm A', 'arm B']),
      );
      written.push(await writeChart(spec, options.out, `${task.id}-decision-map`));
    }
  }
  written.push(await writeChart(warmupSpec(warmup, options.adamLr, firstRectifiedStep()), options.out, 'radam-vs-adam'));
  const lrs = experiments[0]?.reference.lrs ?? [];
  written.push(await writeChart(learningRateSpec(options.scheduler.scheduler, options.scheduler.args, lrs), options.out, 'learning-rate'));
  return written;
}

function describeTask(task: Task, steps: number): string {
  return `${task.title}: ${parameterCount(task.model)} parameters, ${task.train.rows} training rows, ${task.test.rows} test rows, ${steps} full-batch steps`;
}

async function main(argv: readonly string[]): Promise<number> {
  const command = demoCommand(backendEntries.map((e) => e.name)).exitOverride();
  let options: DemoOptions;
  try {
    options = parseDemoOptions(command, argv);
  } catch (error) {
    // commander has printed the help or the error already.
    if (error instanceof CommanderError) return error.exitCode;
    throw error;
  }
  let statuses: BackendStatus[];
  try {
    statuses = await backendStatuses(options.backends);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 2;
  }
  // tfjs would tell us on first use that tfjs-node is faster; the demo knows.
  tf.enableProdMode();

  const runnable = statuses.filter((s) => s.unavailable === undefined).map((s) => s.entry.name);
  console.log(`RAdam on ${runnable.length} backend${runnable.length === 1 ? '' : 's'}: ${runnable.join(', ') || 'none'}`);
  for (const { entry, unavailable } of statuses) {
    if (unavailable !== undefined) console.log(`  skipped ${entry.name}: ${unavailable}`);
  }
  console.log(`Scheduler: ${JSON.stringify(options.scheduler)}`);
  console.log(`Gradient stream: ${options.gradients}: ${GRADIENT_NOTE[options.gradients]}.`);

  const progress = progressDisplay();
  const experiments: ExperimentResult[] = [];
  const warmup: WarmupTrace[] = [];
  try {
    for (const id of options.tasks) {
      const task = TASKS[id]!(options.seed);
      experiments.push(
        await runExperiment(task, statuses, {
          steps: options.steps,
          optimizer: { lr: options.scheduler },
          seed: options.seed,
          gradients: options.gradients,
          progress: progress.track,
        }),
      );
      progress.log(`${task.id}: RAdam against tfjs Adam, ${options.adamSteps} steps at lr ${options.adamLr}`);
      const traces = await compareWithAdam(task, { steps: options.adamSteps, lr: options.adamLr, seed: options.seed });
      warmup.push(...traces.map((trace) => ({ ...trace, task: task.title })));
    }
  } finally {
    progress.stop();
  }

  for (const experiment of experiments) {
    console.log(`\n${describeTask(experiment.task, options.steps)}`);
    console.log(resultTable(experiment));
  }
  const written = await writeCharts(options, experiments, warmup);
  console.log(`\nCharts in ${options.out}:`);
  for (const { svg, png } of written) console.log(`  ${svg}\n  ${png}`);

  const failed = experiments.flatMap((e) => e.outcomes.filter((o) => o.status === 'failed'));
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
