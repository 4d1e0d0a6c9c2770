import { KERNEL_WASM_BASE64 } from './kernel-wasm.generated.js';
import { webAssembly, type WasmModule } from './wasm-api.js';

let compiled: Promise<WasmModule> | undefined;

/** The kernel's bytes, from the base64 the build embedded (no file to find at run time). */
function kernelBytes(): Uint8Array {
  const binary = atob(KERNEL_WASM_BASE64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The compiled kernel module (`assembly/radam.ts`, built by asc and embedded in the package
 * by `scripts/embed-kernel.mjs`), compiled once per process and shared by every backend
 * instance and worker.
 */
export function loadKernelModule(): Promise<WasmModule> {
  if (compiled === undefined) {
    compiled = webAssembly.compile(kernelBytes());
    // A failed compile is not cached: a later call can try again.
    compiled.catch(() => {
      compiled = undefined;
    });
  }
  return compiled;
}
