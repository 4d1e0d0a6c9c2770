/**
 * Every backend this repository ships, by name.
 *
 * @packageDocumentation
 */
import type { BackendEntry } from './backend-entry.js';
import { cpuEntries } from './cpu.js';
import { gpujsEntries } from './gpujs.js';
import { onnxEntries, onnxWebEntries } from './onnx.js';
import { tfjsEntries } from './tfjs.js';
import { webgpuEntries } from './webgpu.js';

export type { BackendEntry } from './backend-entry.js';

/** All backends, in the order tables list them (the reference `cpu64` first among CPU ones). */
export const backendEntries: readonly BackendEntry[] = [...cpuEntries, ...tfjsEntries, ...onnxEntries, ...onnxWebEntries, ...webgpuEntries, ...gpujsEntries];

/** The entry called `name`, or `undefined`. */
export function findBackend(name: string): BackendEntry | undefined {
  return backendEntries.find((entry) => entry.name === name);
}

/** `{ name: create }` for every backend: the shape the replay CLI takes. */
export function backendFactories(): Record<string, BackendEntry['create']> {
  return Object.fromEntries(backendEntries.map((entry) => [entry.name, entry.create]));
}
