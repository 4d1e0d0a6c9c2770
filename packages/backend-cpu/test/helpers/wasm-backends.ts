import { afterEach } from 'vitest';
import { wasmCpuBackend, type WasmCpuBackend, type WasmCpuBackendOptions } from '../../src/index.js';

const open: WasmCpuBackend[] = [];

/** A `cpu-wasm` backend that is disposed (its workers stopped) after the current test. */
export async function backend(options: WasmCpuBackendOptions): Promise<WasmCpuBackend> {
  const created = await wasmCpuBackend(options);
  open.push(created);
  return created;
}

afterEach(() => {
  for (const created of open.splice(0)) created.dispose();
});
