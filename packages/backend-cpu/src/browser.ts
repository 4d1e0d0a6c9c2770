/**
 * `@rectify/backend-cpu` for browsers (the `browser` export condition): the typed-array
 * backend without the WebAssembly fast path, which needs Node's `worker_threads`.
 *
 * @packageDocumentation
 */
export { cpuBackend, type CpuBackend, type CpuBackendOptions } from './cpu-backend.js';
