export * from './scheduler.js';
export * from './create-scheduler.js';
export * from './registry.js';
