import { onnxBackend } from '@rectify/backend-onnx';
import { onnxWebBackend } from '@rectify/backend-onnx-web';
import type { TensorBackend } from '@rectify/core';
import type { BackendEntry } from './backend-entry.js';

/** An ONNX Runtime package's backend factory, as far as these entries call it. */
type OnnxFactory = (options?: { dtype?: 'float32' | 'float64' }) => TensorBackend<any> & { ready(): Promise<void>; dispose(): void };

/**
 * The float32 and float64 entries of one ONNX Runtime package: `label` names it in the
 * descriptions, `runtime` (the npm package) in the reason it cannot start.
 */
function onnxFamily(names: readonly [string, string], label: string, runtime: string, create: OnnxFactory): BackendEntry[] {
  const unavailableReason = async (): Promise<string | undefined> => {
    try {
      const backend = create();
      await backend.ready();
      backend.dispose();
      return undefined;
    } catch (error) {
      return `${runtime} cannot start here: ${error instanceof Error ? error.message : String(error)}`;
    }
  };
  return [
    {
      name: names[0],
      description: `${label}, the RAdam step as an ONNX graph (float32)`,
      requiresGpu: false,
      unavailableReason,
      create: async () => create(),
    },
    {
      name: names[1],
      description: `${label}, float64 graph`,
      requiresGpu: false,
      unavailableReason,
      create: async () => create({ dtype: 'float64' }),
    },
  ];
}

/** ONNX Runtime (onnxruntime-node, CPU execution provider), float32 and float64. */
export const onnxEntries: readonly BackendEntry[] = onnxFamily(['onnx', 'onnx64'], 'ONNX Runtime', 'onnxruntime-node', onnxBackend);

/** ONNX Runtime Web (onnxruntime-web, wasm execution provider; it loads its .wasm from its package), float32 and float64. */
export const onnxWebEntries: readonly BackendEntry[] = onnxFamily(['onnx-web', 'onnx-web64'], 'ONNX Runtime Web (wasm)', 'onnxruntime-web', onnxWebBackend);
