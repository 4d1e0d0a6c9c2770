import { cpuBackend } from '@rectify/backend-cpu';
import type { BackendEntry } from './backend-entry.js';

const alwaysAvailable = async (): Promise<undefined> => undefined;

/** The reference backends: float32 and float64 typed arrays. */
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
];
