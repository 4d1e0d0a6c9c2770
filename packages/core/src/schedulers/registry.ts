import { ChainedScheduler, type ChainedSchedulerOptions } from './chained-scheduler.js';
import { ConstantLR } from './constant-lr.js';
import { CosineAnnealingLR } from './cosine-annealing-lr.js';
import { CosineAnnealingWarmRestarts } from './cosine-annealing-warm-restarts.js';
import { CyclicLR } from './cyclic-lr.js';
import { ExponentialDecayLR } from './exponential-decay-lr.js';
import { ExponentialLR } from './exponential-lr.js';
import { LinearLR } from './linear-lr.js';
import { MultiStepLR } from './multi-step-lr.js';
import { OneCycleLR } from './one-cycle-lr.js';
import { PiecewiseConstantSchedule } from './piecewise-constant-schedule.js';
import { PolynomialLR } from './polynomial-lr.js';
import { ReduceLROnPlateau } from './reduce-lr-on-plateau.js';
import type { LearningRateScheduler } from './scheduler.js';
import { SequentialLR, type SequentialLROptions } from './sequential-lr.js';
import { StepLR } from './step-lr.js';
import { WarmupCosineSchedule } from './warmup-cosine-schedule.js';
import { WarmupScheduler } from './warmup-scheduler.js';

/**
 * Builds a scheduler from its camelCase arguments, validating them (unknown names, types,
 * ranges) and throwing `RectifyError('INVALID_OPTION', message, argumentName)`.
 */
export type SchedulerFactory = (args: Readonly<Record<string, unknown>>) => LearningRateScheduler;

// Each factory only touches its class when called, so this module can take part in the
// import cycle composites → createScheduler → registry → composites.
/** Every scheduler `createScheduler` knows, by class name (the reference's 17). */
export const schedulerFactories: ReadonlyMap<string, SchedulerFactory> = new Map<string, SchedulerFactory>([
  ['StepLR', (args) => new StepLR(args)],
  ['MultiStepLR', (args) => new MultiStepLR(args)],
  ['ExponentialLR', (args) => new ExponentialLR(args)],
  ['ExponentialDecayLR', (args) => new ExponentialDecayLR(args)],
  ['CosineAnnealingLR', (args) => new CosineAnnealingLR(args)],
  ['PolynomialLR', (args) => new PolynomialLR(args)],
  ['WarmupScheduler', (args) => new WarmupScheduler(args)],
  ['CyclicLR', (args) => new CyclicLR(args)],
  ['OneCycleLR', (args) => new OneCycleLR(args)],
  ['ReduceLROnPlateau', (args) => new ReduceLROnPlateau(args)],
  ['LinearLR', (args) => new LinearLR(args)],
  ['ConstantLR', (args) => new ConstantLR(args)],
  ['ChainedScheduler', (args) => new ChainedScheduler(args as unknown as ChainedSchedulerOptions)],
  ['SequentialLR', (args) => new SequentialLR(args as unknown as SequentialLROptions)],
  ['CosineAnnealingWarmRestarts', (args) => new CosineAnnealingWarmRestarts(args)],
  ['WarmupCosineSchedule', (args) => new WarmupCosineSchedule(args)],
  ['PiecewiseConstantSchedule', (args) => new PiecewiseConstantSchedule(args)],
]);
