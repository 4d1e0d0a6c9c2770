import { RectifyError } from '@rectify/core';

/** Options of `wasmCpuBackend`. */
export interface WasmCpuBackendOptions {
  /**
   * Threads a large job runs on, the calling thread included (so `threads - 1` workers are
   * started). Default: the machine's available parallelism (Node's `availableParallelism`,
   * a browser's `navigator.hardwareConcurrency`), at most 8 (the kernel is bound by memory
   * bandwidth, which a few cores saturate). `1` starts no worker. On a page that is not
   * cross-origin isolated the backend runs on one thread whatever this asks for.
   */
  readonly threads?: number;
  /**
   * Size of the memory at creation, in MiB. Default 16. Also its only size where it cannot
   * grow (`memoryStats().memory` is `'fixed'`: a page that is not cross-origin isolated, in
   * an engine without resizable WebAssembly memories).
   */
  readonly initialMemoryMiB?: number;
  /**
   * Size the memory may grow to, in MiB (1 to 4096, the wasm32 limit). Default 4096.
   * A shared memory reserves this much address space up front (not physical memory).
   */
  readonly maximumMemoryMiB?: number;
  /**
   * Elements per chunk, the unit of work a thread takes (a positive multiple of 4).
   * Default 32768. Results do not depend on it for RAdam; `sumOfSquares` sums one partial
   * per chunk, so its last bits do (never on the thread count).
   */
  readonly chunkElements?: number;
  /** Jobs with fewer elements than this run on the main thread alone. Default 65536. */
  readonly parallelThreshold?: number;
}

/** {@link WasmCpuBackendOptions} with every default filled in. */
export interface ResolvedWasmOptions {
  readonly threads: number;
  readonly initialMemoryMiB: number;
  readonly maximumMemoryMiB: number;
  readonly chunkElements: number;
  readonly parallelThreshold: number;
}

function integerIn(name: keyof WasmCpuBackendOptions, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RectifyError('INVALID_OPTION', `Option "${name}" must be an integer from ${min} to ${max}, got ${String(value)}.`, name);
  }
  return value;
}

/** Validates `options` (throwing `RectifyError('INVALID_OPTION')`) and fills in defaults. */
export function resolveWasmOptions(options: WasmCpuBackendOptions, availableParallelism: number): ResolvedWasmOptions {
  const threads = integerIn('threads', options.threads ?? Math.min(8, Math.max(1, availableParallelism)), 1, 256);
  const maximumMemoryMiB = integerIn('maximumMemoryMiB', options.maximumMemoryMiB ?? 4096, 1, 4096);
  const initialMemoryMiB = integerIn('initialMemoryMiB', options.initialMemoryMiB ?? Math.min(16, maximumMemoryMiB), 1, maximumMemoryMiB);
  const chunkElements = integerIn('chunkElements', options.chunkElements ?? 32768, 4, 1 << 28);
  if (chunkElements % 4 !== 0) {
    throw new RectifyError('INVALID_OPTION', `Option "chunkElements" must be a multiple of 4, got ${chunkElements}.`, 'chunkElements');
  }
  const parallelThreshold = integerIn('parallelThreshold', options.parallelThreshold ?? 65536, 0, 2 ** 32);
  return { threads, initialMemoryMiB, maximumMemoryMiB, chunkElements, parallelThreshold };
}
