import { onnxBackend } from '@rectify/backend-onnx';
import type { BackendEntry } from './backend-entry.js';

async function onnxRuntimeUnavailable(): Promise<string | undefined> {
  try {
    const backend = onnxBackend();
    await backend.ready();
    backend.dispose();
    return undefined;
  } catch (error) {
    return `onnxruntime-node cannot start here: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** ONNX Runtime (onnxruntime-node, CPU execution provider), float32 and float64. */
export const onnxEntries: readonly BackendEntry[] = [
  {
    name: 'onnx',
    description: 'ONNX Runtime, the RAdam step as an ONNX graph (float32)',
    requiresGpu: false,
    unavailableReason: onnxRuntimeUnavailable,
    create: async () => onnxBackend(),
  },
  {
    name: 'onnx64',
    description: 'ONNX Runtime, float64 graph',
    requiresGpu: false,
    unavailableReason: onnxRuntimeUnavailable,
    create: async () => onnxBackend({ dtype: 'float64' }),
  },
];
