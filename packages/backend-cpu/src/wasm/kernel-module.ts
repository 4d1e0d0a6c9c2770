import { KERNEL_WASM_BASE64, KERNEL_WASM_SINGLE_BASE64 } from './kernel-wasm.generated.js';
import { webAssembly, type WasmModule } from './wasm-api.js';

/** The compile of each variant, by whether it imports a shared memory. */
const compiled = new Map<boolean, Promise<WasmModule>>();

/** The bytes of a kernel, from the base64 the build embedded (no file to find at run time). */
function kernelBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The compiled kernel module (`assembly/radam.ts`, built by asc and embedded in the package
 * by `scripts/embed-kernel.mjs`), compiled once per process (or page) and shared by every
 * backend instance and worker. `shared` picks the variant whose memory import is shared
 * (threads) or plain (no `SharedArrayBuffer`): an engine links a module only to a memory
 * of the kind it declares.
 */
export function loadKernelModule(shared: boolean): Promise<WasmModule> {
  let module = compiled.get(shared);
  if (module === undefined) {
    module = webAssembly.compile(kernelBytes(shared ? KERNEL_WASM_BASE64 : KERNEL_WASM_SINGLE_BASE64));
    compiled.set(shared, module);
    // A failed compile is not cached: a later call can try again.
    module.catch(() => compiled.delete(shared));
  }
  return module;
}
