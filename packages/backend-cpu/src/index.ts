/**
 * `@rectify/backend-cpu`: RAdam over plain typed arrays.
 *
 * @packageDocumentation
 */
export { cpuBackend, type CpuBackend, type CpuBackendOptions } from './cpu-backend.js';
export { wasmCpuBackend } from './wasm/node.js';
export type { MemoryKind, WasmCpuBackend, WasmCpuBackendOptions, WasmMemoryStats, WasmThreading } from './wasm/wasm-backend.js';
