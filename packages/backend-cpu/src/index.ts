/**
 * `@rectify/backend-cpu`: RAdam over plain typed arrays.
 *
 * @packageDocumentation
 */
export { cpuBackend, type CpuBackend, type CpuBackendOptions } from './cpu-backend.js';
