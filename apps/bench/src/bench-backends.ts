import { backendEntries, type BackendEntry } from '@rectify/all-backends';
import { wasmCpuBackend } from '@rectify/backend-cpu';
import type { TensorBackend } from '@rectify/core';
import { availableParallelism } from 'node:os';

const alwaysAvailable = async (): Promise<undefined> => undefined;

/** `cpu-wasm` on `threads` threads (every core when undefined). */
function wasmEntry(name: string, threads: number | undefined): BackendEntry {
  return {
    name,
    description:
      threads === undefined
        ? 'WebAssembly SIMD kernel over shared memory, one thread per core'
        : `WebAssembly SIMD kernel over shared memory, ${threads} thread${threads === 1 ? '' : 's'}`,
    requiresGpu: false,
    unavailableReason: alwaysAvailable,
    create: async () => wasmCpuBackend(threads === undefined ? {} : { threads }),
  };
}

/**
 * The bench's own entries, until `@rectify/all-backends` lists cpu-wasm: the fast CPU
 * backend on every core, and on one thread (the single-thread target of issue 8).
 */
const localEntries: readonly BackendEntry[] = [wasmEntry('cpu-wasm', undefined), wasmEntry('cpu-wasm-1t', 1)];

/** Every backend the bench knows, registry entries first; a registry entry wins over a local one of the same name. */
export function benchBackends(): readonly BackendEntry[] {
  const names = new Set(backendEntries.map((entry) => entry.name));
  return [...backendEntries, ...localEntries.filter((entry) => !names.has(entry.name))];
}

/** The entry called `name`; `cpu-wasm-<n>t` gives cpu-wasm on n threads. */
export function findBenchBackend(name: string): BackendEntry | undefined {
  const known = benchBackends().find((entry) => entry.name === name);
  if (known !== undefined) return known;
  const threads = /^cpu-wasm-(\d+)t$/.exec(name)?.[1];
  return threads === undefined ? undefined : wasmEntry(name, Number(threads));
}

/**
 * A new `name` backend as the models bench runs it: `cpu-wasm` on every core, as the C
 * program and torch run (its own default stops at 8 threads).
 *
 * @throws Error when `name` is unknown or unavailable here (with the reason).
 */
export async function createModelBackend(name: string): Promise<TensorBackend<unknown>> {
  const entry = findBenchBackend(name === 'cpu-wasm' ? `cpu-wasm-${availableParallelism()}t` : name);
  if (entry === undefined) throw new Error(`unknown backend ${name}`);
  const unavailable = await entry.unavailableReason();
  if (unavailable !== undefined) throw new Error(`${name} unavailable here: ${unavailable}`);
  return (await entry.create()) as TensorBackend<unknown>;
}
