import { onnxWebBackend } from '@rectify/backend-onnx-web';
import type { BackendEntry } from './backend-entry.js';

/** Why onnxruntime-web cannot start here (it loads its .wasm from its package), or `undefined`. */
async function onnxWebUnavailable(): Promise<string | undefined> {
  try {
    const backend = onnxWebBackend();
    await backend.ready();
    backend.dispose();
    return undefined;
  } catch (error) {
    return `onnxruntime-web cannot start here: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** ONNX Runtime Web (onnxruntime-web, wasm execution provider), float32 and float64. */
export const onnxWebEntries: readonly BackendEntry[] = [
  {
    name: 'onnx-web',
    description: 'ONNX Runtime Web (wasm), the RAdam step as an ONNX graph (float32)',
    requiresGpu: false,
    unavailableReason: onnxWebUnavailable,
    create: async () => onnxWebBackend(),
  },
  {
    name: 'onnx-web64',
    description: 'ONNX Runtime Web (wasm), float64 graph',
    requiresGpu: false,
    unavailableReason: onnxWebUnavailable,
    create: async () => onnxWebBackend({ dtype: 'float64' }),
  },
];
