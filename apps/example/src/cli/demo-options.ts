import { RectifyError, createScheduler, type SchedulerSpec } from '@rectify/core';
import { Command, InvalidArgumentError, Option } from 'commander';
import { fileURLToPath } from 'node:url';
import { defaultScheduler } from '../training/default-schedule.js';
import type { GradientMode } from '../training/experiment.js';
import { TASKS } from '../training/tasks.js';

/** Everything `pnpm demo` can be told. */
export interface DemoOptions {
  /** Backends to train on; `undefined`: every registered backend. */
  readonly backends: readonly string[] | undefined;
  readonly tasks: readonly string[];
  readonly steps: number;
  readonly scheduler: SchedulerSpec;
  readonly seed: number;
  readonly out: string;
  readonly gradients: GradientMode;
  readonly adamLr: number;
  readonly adamSteps: number;
}

/** `apps/example/out`, wherever the demo is started from. */
export const DEFAULT_OUT_DIR = fileURLToPath(new URL('../../out', import.meta.url));

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('must be an integer.');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0 && Number.isFinite(n))) throw new InvalidArgumentError('must be a positive number.');
  return n;
}

function list(value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new InvalidArgumentError('must name at least one.');
  return items;
}

/** Parses and checks a scheduler spec: JSON that `createScheduler` accepts. */
function schedulerSpec(value: string): SchedulerSpec {
  let spec: SchedulerSpec;
  try {
    spec = JSON.parse(value) as SchedulerSpec;
  } catch (error) {
    throw new InvalidArgumentError(`is not JSON (${(error as Error).message}).`);
  }
  try {
    createScheduler(spec);
  } catch (error) {
    if (error instanceof RectifyError) throw new InvalidArgumentError(error.message);
    throw error;
  }
  return spec;
}

/**
 * The demo's command line (commander). Call `.exitOverride()` on it to get errors as
 * exceptions instead of an exit (tests).
 */
export function demoCommand(knownBackends: readonly string[]): Command {
  return new Command('pnpm demo')
    .description(
      "Trains the same MLP with Rectify's RAdam on every backend, from the same initial weights and gradient " +
        'stream; prints a table per task and writes charts (SVG and PNG) to the output folder.',
    )
    .option(
      '-b, --backends <names>',
      `comma-separated backends to train on (default: every registered one; known: ${knownBackends.join(', ')})`,
      list,
    )
    .addOption(
      new Option('-t, --tasks <names>', `comma-separated tasks (known: ${Object.keys(TASKS).join(', ')})`)
        .argParser(list)
        .default(Object.keys(TASKS), Object.keys(TASKS).join(',')),
    )
    .option('-s, --steps <n>', 'full-batch optimizer steps per run', positiveInteger, 500)
    .option(
      '--scheduler <json>',
      'learning-rate scheduler spec, JSON as for createScheduler, e.g. \'{"scheduler":"StepLR","args":{"baseLr":0.03,"stepSize":100}}\' ' +
        `(default: ${JSON.stringify(defaultScheduler(500))}, tMax following --steps)`,
      schedulerSpec,
    )
    .option('--seed <n>', 'seed of the data split, the spirals and the initial weights', integer, 42)
    .option('-o, --out <dir>', 'output folder for the charts', DEFAULT_OUT_DIR)
    .addOption(
      new Option('--gradients <mode>', 'reference: every backend gets the cpu64 run\'s gradients; own: each its own parameters\' gradients')
        .choices(['reference', 'own'])
        .default('reference'),
    )
    .option('--adam-lr <lr>', 'constant learning rate of the RAdam-against-Adam comparison', positiveNumber, 0.1)
    .option('--adam-steps <n>', 'steps of the RAdam-against-Adam comparison', positiveInteger, 100)
    .helpOption('-h, --help', 'show this help');
}

/**
 * Parses the demo's arguments (`argv` without node and the script).
 *
 * @throws CommanderError for `--help` or a bad argument when `exitOverride` is on (tests);
 *   otherwise commander prints the message and exits.
 */
export function parseDemoOptions(command: Command, argv: readonly string[]): DemoOptions {
  command.parse([...argv], { from: 'user' });
  const o = command.opts<{
    backends?: string[];
    tasks: string[];
    steps: number;
    scheduler?: SchedulerSpec;
    seed: number;
    out: string;
    gradients: GradientMode;
    adamLr: number;
    adamSteps: number;
  }>();
  const unknownTasks = o.tasks.filter((t) => !(t in TASKS));
  if (unknownTasks.length > 0) command.error(`error: unknown task ${unknownTasks.join(', ')}; known: ${Object.keys(TASKS).join(', ')}`);
  return {
    backends: o.backends,
    tasks: o.tasks,
    steps: o.steps,
    scheduler: o.scheduler ?? defaultScheduler(o.steps),
    seed: o.seed,
    out: o.out,
    gradients: o.gradients,
    adamLr: o.adamLr,
    adamSteps: o.adamSteps,
  };
}
