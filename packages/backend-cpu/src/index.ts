/**
 * `@rectify/backend-cpu`: RAdam over plain typed arrays.
 *
 * @packageDocumentation
 */
export { cpuBackend, type CpuBackend, type CpuBackendOptions } from './cpu-backend.js';
export { wasmCpuBackend, type WasmCpuBackend, type WasmCpuBackendOptions, type WasmMemoryStats } from './wasm/wasm-backend.js';
