import { webAssembly, type WasmModule } from './wasm-api.js';

let compiled: Promise<WasmModule> | undefined;

/** Message thrown when the compiled kernel is missing from `dist/`. */
const MISSING =
  'The WebAssembly kernel radam.wasm was not found: build @rectify/backend-cpu first ' +
  '(`pnpm --filter @rectify/backend-cpu build` runs asc, then tsc).';

async function compileKernel(): Promise<WasmModule> {
  // Loaded lazily so that importing the package never pulls Node built-ins into a browser bundle.
  const { readFile } = await import('node:fs/promises');
  const { fileURLToPath } = await import('node:url');
  // From dist/wasm/*.js the kernel sits next to this file. From src/wasm/*.ts (tests run
  // the sources through vitest) it is the one the build wrote to dist/wasm/.
  const candidates = [new URL('./radam.wasm', import.meta.url), new URL('../../dist/wasm/radam.wasm', import.meta.url)];
  for (const candidate of candidates) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(fileURLToPath(candidate));
    } catch {
      continue;
    }
    return webAssembly.compile(bytes);
  }
  throw new Error(MISSING);
}

/**
 * The compiled kernel module (`assembly/radam.ts`, built by asc into `dist/wasm/radam.wasm`),
 * compiled once per process and shared by every backend instance and worker.
 */
export function loadKernelModule(): Promise<WasmModule> {
  if (compiled === undefined) {
    compiled = compileKernel();
    // A failed load is not cached: a later call (after a build) can succeed.
    compiled.catch(() => {
      compiled = undefined;
    });
  }
  return compiled;
}
