/**
 * `@rectify/backend-cpu` for browsers (the `browser` export condition): the typed-array
 * backend, and the WebAssembly one on Web Workers where the page is cross-origin isolated
 * (on the calling thread alone where it is not). No Node module is referenced.
 *
 * @packageDocumentation
 */
export { cpuBackend, type CpuBackend, type CpuBackendOptions } from './cpu-backend.js';
export { wasmCpuBackend } from './wasm/web.js';
export type { MemoryKind, WasmCpuBackend, WasmCpuBackendOptions, WasmMemoryStats, WasmThreading } from './wasm/wasm-backend.js';
