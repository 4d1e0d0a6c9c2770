import { cpuBackend, wasmCpuBackend } from '@rectify/backend-cpu';
import type { BackendEntry } from './backend-entry.js';

const alwaysAvailable = async (): Promise<undefined> => undefined;

/** The typed-array backends: the float32 and float64 references, and the WebAssembly SIMD fast path. */
export const cpuEntries: readonly BackendEntry[] = [
  {
    name: 'cpu',
    description: 'Float32Array tensors, fused JavaScript loop',
    requiresGpu: false,
    unavailableReason: alwaysAvailable,
    create: async () => cpuBackend(),
  },
  {
    name: 'cpu64',
    description: 'Float64Array tensors, the reference precision',
    requiresGpu: false,
    unavailableReason: alwaysAvailable,
    create: async () => cpuBackend({ dtype: 'float64' }),
  },
  {
    name: 'cpu-wasm',
    description: 'Float32 WebAssembly SIMD kernel over shared memory, one thread per core',
    requiresGpu: false,
    unavailableReason: alwaysAvailable,
    create: () => wasmCpuBackend(),
  },
];
