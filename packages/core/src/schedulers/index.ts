/**
 * The reference library's 17 learning-rate schedulers, their JSON specs and registry.
 *
 * @module
 */
export * from './scheduler.js';
export { EpochSchedule, SchedulerBase } from './base.js';
export { createScheduler } from './create-scheduler.js';
export { schedulerFactories, type SchedulerFactory } from './registry.js';
export { MAX_SCHEDULER_NESTING, type ChildScheduler } from './composite.js';
export { StepLR, type StepLROptions } from './step-lr.js';
export { MultiStepLR, type MultiStepLROptions } from './multi-step-lr.js';
export { ExponentialLR, type ExponentialLROptions } from './exponential-lr.js';
export { ExponentialDecayLR, type ExponentialDecayLROptions } from './exponential-decay-lr.js';
export { CosineAnnealingLR, type CosineAnnealingLROptions } from './cosine-annealing-lr.js';
export { PolynomialLR, type PolynomialLROptions } from './polynomial-lr.js';
export { WarmupScheduler, type WarmupSchedulerOptions } from './warmup-scheduler.js';
export { CyclicLR, type CyclicLROptions, type CyclicLRMode, type CyclicLRScaleMode } from './cyclic-lr.js';
export { OneCycleLR, type OneCycleLROptions, type OneCycleAnnealStrategy } from './one-cycle-lr.js';
export {
  ReduceLROnPlateau,
  type ReduceLROnPlateauOptions,
  type PlateauMode,
  type PlateauThresholdMode,
} from './reduce-lr-on-plateau.js';
export { LinearLR, type LinearLROptions } from './linear-lr.js';
export { ConstantLR, type ConstantLROptions } from './constant-lr.js';
export { ChainedScheduler, type ChainedSchedulerOptions } from './chained-scheduler.js';
export { SequentialLR, type SequentialLROptions } from './sequential-lr.js';
export {
  CosineAnnealingWarmRestarts,
  type CosineAnnealingWarmRestartsOptions,
} from './cosine-annealing-warm-restarts.js';
export { WarmupCosineSchedule, type WarmupCosineScheduleOptions } from './warmup-cosine-schedule.js';
export {
  PiecewiseConstantSchedule,
  type PiecewiseConstantScheduleOptions,
} from './piecewise-constant-schedule.js';
