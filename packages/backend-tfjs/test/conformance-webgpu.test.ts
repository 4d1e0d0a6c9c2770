/**
 * tfjs' WebGPU backend in Node, on Dawn (`loadNodeWebGpu()`: SwiftShader where the machine
 * has no GPU): the whole conformance suite, as a browser user with WebGPU runs it. Skipped
 * with the reason where Dawn has no adapter here; a failure on CI.
 */
import { cpuBackend } from '@rectify/backend-cpu';
import { loadNodeWebGpu } from '@rectify/conformance/node-webgpu';
import { describeBackendConformance, describeUnavailable } from '@rectify/conformance/vitest';
import { RAdam, type TensorBackend } from '@rectify/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tfjsBackend } from '../src/index.js';
import { useWebGpuBackend } from '../src/webgpu.js';

const webgpu = await loadNodeWebGpu();

if (webgpu.unavailable !== undefined) {
  describeUnavailable('tfjs-webgpu', webgpu.unavailable);
} else {
  const { gpu, adapterName, isSoftware } = webgpu;
  beforeAll(async () => {
    await useWebGpuBackend({ gpu });
    console.log(`[tfjs-webgpu] ${adapterName}`);
  }, 60_000);

  describe('on the tfjs webgpu backend (Dawn)', () => {
    it('is active, named tfjs-webgpu and reads asynchronously', () => {
      expect(tf.getBackend()).toBe('webgpu');
      const backend = tfjsBackend();
      expect(backend.name).toBe('tfjs-webgpu');
      expect(backend.synchronous).toBe(false);
      backend.dispose();
    });

    it('refuses a second, different WebGPU entry point (tfjs would keep using the first)', async () => {
      await expect(useWebGpuBackend({ gpu: { requestAdapter: async () => null } })).rejects.toThrow(/already another WebGPU/);
      // The same one again is fine and leaves webgpu active.
      await useWebGpuBackend({ gpu });
      expect(tf.getBackend()).toBe('webgpu');
    });

    // tfjs-webgpu's own sum throws on a tensor of no elements ("no overload matched for
    // createBuffer"); the backend makes the empty sum itself.
    it('steps a model with an empty parameter, as the float64 CPU backend does', async () => {
      const options = { lr: 0.1, gradClipNorm: 0.5, weightDecay: 0.01 } as const;
      const run = async (backend: TensorBackend<any>): Promise<number[]> => {
        const optimizer = new RAdam(backend, options);
        const params = { empty: backend.fromArray([], [0]), w: backend.fromArray([0.5, -1, 2], [3]) };
        optimizer.registerTrainableWeights(params);
        for (const k of [1, 2, 3]) {
          const grads = { empty: backend.fromArray([], [0]), w: backend.fromArray([0.3 * k, -0.2, 0.1], [3]) };
          await optimizer.step(grads);
          Object.values(grads).forEach((g) => backend.disposeTensor(g));
        }
        expect(Array.from(await backend.read(params.empty))).toEqual([]);
        const w = Array.from(await backend.read(params.w));
        optimizer.dispose();
        return w;
      };
      const ours = await run(tfjsBackend());
      const reference = await run(cpuBackend({ dtype: 'float64' }));
      ours.forEach((x, i) => expect(Math.abs(x - reference[i]!), `w[${i}]`).toBeLessThanOrEqual(2e-5 + 1e-4 * Math.abs(reference[i]!)));
    });
  });

  // Every golden case, as everywhere; fewer random property runs on a software GPU (each
  // one is a few dozen shader dispatches and readbacks).
  describeBackendConformance('tfjs-webgpu', () => tfjsBackend(), {
    referenceBackend: () => cpuBackend({ dtype: 'float64' }),
    propertyRuns: isSoftware ? 15 : 100,
    timeout: 120_000,
  });
}
