import type { LearningRateScheduler } from './scheduler.js';

/** Builds a scheduler from its camelCase arguments, validating them. */
export type SchedulerFactory = (args: Readonly<Record<string, unknown>>) => LearningRateScheduler;

/** Every scheduler `createScheduler` knows, by class name. */
export const schedulerFactories: ReadonlyMap<string, SchedulerFactory> = new Map<string, SchedulerFactory>([]);
