/**
 * tfjs' WebGPU backend in Node, on Dawn (`loadNodeWebGpu()`: SwiftShader where the machine
 * has no GPU): the whole conformance suite, as a browser user with WebGPU runs it, on both
 * paths: the shared WGSL kernel of `@rectify/backend-webgpu` (the default) and the stock-op
 * graph (`fusedKernel: false`, also the fallback). Skipped with the reason where Dawn has no
 * adapter here; a failure on CI.
 */
import { cpuBackend } from '@rectify/backend-cpu';
import { loadNodeWebGpu } from '@rectify/conformance/node-webgpu';
import { describeBackendConformance, describeUnavailable } from '@rectify/conformance/vitest';
import { createWebGpuBackend } from '@rectify/backend-webgpu';
import { RAdam, type RAdamOptions, type TensorBackend } from '@rectify/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RAdamOptimizer, tfjsBackend } from '../src/index.js';
import { useWebGpuBackend } from '../src/webgpu.js';
import { COUNT, countDeviceWork, gradient, initial, sizeOf } from './device-work.js';

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

    it('RAdamOptimizer (synchronous) cannot read back here: ready() is false and a step is INVALID_OPTION naming "synchronous", nothing changed', async () => {
      const optimizer = new RAdamOptimizer({ lr: 0.1, nonFinite: 'propagate' });
      expect(await optimizer.ready()).toBe(false);
      const w = tf.variable(tf.tensor([0.5, -1, 2]));
      const g = tf.tensor([0.3, -0.2, 0.1]);
      expect(() => optimizer.applyGradients({ [w.name]: g })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', parameter: 'synchronous' }));
      expect(Array.from(await w.data())).toEqual([0.5, -1, 2]);
      expect(optimizer.iterations).toBe(0);
      optimizer.dispose();
      tf.dispose([w, g]);
      // The asynchronous backend has the shared kernel once ready.
      const backend = tfjsBackend();
      expect(await backend.ready()).toBe(true);
      backend.dispose();
      expect(await tfjsBackend({ fusedKernel: false }).ready()).toBe(false);
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

  describe('the shared WGSL kernel: one dispatch per step', () => {
    /** Compute dispatches and bytes copied into mappable (readback) buffers on tfjs' device while `work` runs. */
    const counted = <R>(work: () => Promise<R>) => countDeviceWork((tf.backend() as unknown as { device: GPUDevice }).device, work);

    /** A model of {@link COUNT} variables on `backend`, stepped `steps` times; each step's counts and the final values. */
    const train = async (backend: TensorBackend<any>, options: RAdamOptions, steps: number) => {
      const optimizer = new RAdam(backend, options);
      const params: Record<string, unknown> = {};
      for (let i = 0; i < COUNT; i++) params[`w${i}`] = backend.fromArray(initial(i), [sizeOf(i)]);
      optimizer.registerTrainableWeights(params);
      const counts: { dispatches: number; readBytes: number }[] = [];
      for (let k = 1; k <= steps; k++) {
        const grads: Record<string, unknown> = {};
        for (let i = 0; i < COUNT; i++) grads[`w${i}`] = backend.fromArray(gradient(i, k), [sizeOf(i)]);
        const { dispatches, readBytes } = await counted(async () => optimizer.step(grads));
        counts.push({ dispatches, readBytes });
        Object.values(grads).forEach((g) => backend.disposeTensor(g));
      }
      const values: number[][] = [];
      for (let i = 0; i < COUNT; i++) values.push(Array.from(await backend.read(params[`w${i}`])));
      optimizer.dispose();
      Object.values(params).forEach((p) => backend.disposeTensor(p));
      return { counts, values };
    };

    it('updates 1000 variables in 1 dispatch per step, reading back only the flag; the stock ops take thousands', async () => {
      const propagate = { lr: 1e-2, weightDecay: 0.01, nonFinite: 'propagate' } as const;
      const ours = await train(tfjsBackend(), propagate, 3);
      const stock = await train(tfjsBackend({ fusedKernel: false }), propagate, 3);
      console.log(`[tfjs-webgpu] dispatches per step, ${COUNT} variables: shared kernel ${ours.counts.map((c) => c.dispatches).join(', ')}; stock ops ${stock.counts.map((c) => c.dispatches).join(', ')}`);
      // Step 1 sets up the arena's mirrors; every step is one update dispatch and a 4-byte flag.
      for (const { dispatches, readBytes } of ours.counts) {
        expect(dispatches).toBe(1);
        expect(readBytes).toBe(4);
      }
      // About a dozen ops per variable (fewer on the unrectified first step).
      for (const { dispatches } of stock.counts) expect(dispatches).toBeGreaterThan(2 * COUNT);
      // The default policy checks the gradients first: one reduction dispatch more, one
      // small readback more (its flags), still nothing of the tensors' data.
      const checked = await train(tfjsBackend(), { lr: 1e-2 }, 2);
      for (const { dispatches, readBytes } of checked.counts) {
        expect(dispatches).toBe(2);
        expect(readBytes).toBeLessThanOrEqual(32);
      }
    }, 300_000);

    it('gives bit for bit what @rectify/backend-webgpu gives, within float32 tolerance of the float64 CPU backend', async () => {
      const options = { lr: 1e-2, gradClipNorm: 1, weightDecay: 0.01 } as const;
      const ours = (await train(tfjsBackend(), options, 8)).values;
      const device = (tf.backend() as unknown as { device: GPUDevice }).device;
      const webgpuBackend = await createWebGpuBackend({ device });
      const kernel = (await train(webgpuBackend, options, 8)).values;
      webgpuBackend.dispose();
      const reference = (await train(cpuBackend({ dtype: 'float64' }), options, 8)).values;
      ours.forEach((values, i) => {
        expect(values, `w${i}`).toEqual(kernel[i]);
        values.forEach((x, j) => {
          const r = reference[i]![j]!;
          expect(Math.abs(x - r), `w${i}[${j}]`).toBeLessThanOrEqual(2e-5 + 1e-4 * Math.abs(r));
        });
      });
    }, 300_000);

    it('sees variables assigned between steps, and never writes data a clone shares', async () => {
      const run = async (backend: TensorBackend<any>, external: (w: unknown, values: number[]) => Promise<void> | void) => {
        const optimizer = new RAdam(backend, { lr: 0.1, nonFinite: 'propagate' });
        const w = backend.fromArray([0.5, -1, 2, 4], [4]);
        optimizer.registerTrainableWeights({ w });
        const values: number[][] = [];
        for (const k of [1, 2, 3, 4]) {
          // Between steps the caller replaces the parameter: its mirror must not be reused.
          if (k === 3) await external(w, [1, 1, -1, 0.25]);
          const g = backend.fromArray([0.3 * k, -0.2, 0.1, 1], [4]);
          await optimizer.step({ w: g });
          backend.disposeTensor(g);
          values.push(Array.from(await backend.read(w)));
        }
        optimizer.dispose();
        return values;
      };
      let clone: tf.Tensor | undefined;
      const ours = await run(tfjsBackend(), (w, values) => {
        clone = (w as tf.Variable).clone();
        tf.tidy(() => (w as tf.Variable).assign(tf.tensor(values)));
      });
      const reference = await run(cpuBackend({ dtype: 'float64' }), (w, values) => cpuBackend({ dtype: 'float64' }).write(w as never, values));
      ours.forEach((step, k) => step.forEach((x, i) => expect(Math.abs(x - reference[k]![i]!), `step ${k + 1} w[${i}]`).toBeLessThanOrEqual(2e-5 + 1e-4 * Math.abs(reference[k]![i]!))));
      // The clone taken before step 3 still holds the values after step 2.
      expect(Array.from(await clone!.data())).toEqual(ours[1]);
      clone!.dispose();
    }, 120_000);

    it('steps two optimizers on one backend concurrently, each on its own values', async () => {
      const run = async (backend: TensorBackend<any>, concurrent: boolean) => {
        const optimizers = [0, 1].map((o) => {
          const optimizer = new RAdam(backend, { lr: 0.1, gradClipNorm: 1 });
          const w = backend.fromArray([0.5 + o, -1, 2 * o], [3]);
          optimizer.registerTrainableWeights({ w });
          return { optimizer, w };
        });
        for (const k of [1, 2, 3]) {
          const steps = optimizers.map(({ optimizer }, o) => async () => {
            const g = backend.fromArray([0.3 * k, -0.2 * o, 0.1 + o], [3]);
            await optimizer.step({ w: g });
            backend.disposeTensor(g);
          });
          if (concurrent) await Promise.all(steps.map((step) => step()));
          else for (const step of steps) await step();
        }
        const values = await Promise.all(optimizers.map(async ({ w }) => Array.from(await backend.read(w))));
        optimizers.forEach(({ optimizer }) => optimizer.dispose());
        return values.flat();
      };
      const ours = await run(tfjsBackend(), true);
      const reference = await run(cpuBackend({ dtype: 'float64' }), false);
      ours.forEach((x, i) => expect(Math.abs(x - reference[i]!), `w[${i}]`).toBeLessThanOrEqual(2e-5 + 1e-4 * Math.abs(reference[i]!)));
    }, 120_000);

    it('agrees with the stock-op graph (fusedKernel: false)', async () => {
      const options = { lr: 1e-2 } as const;
      const ours = await train(tfjsBackend(), options, 2);
      const stock = await train(tfjsBackend({ fusedKernel: false }), options, 2);
      ours.values.forEach((values, i) =>
        values.forEach((x, j) => expect(Math.abs(x - stock.values[i]![j]!), `w${i}[${j}]`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(x))),
      );
    }, 300_000);
  });

  // Every golden case, as everywhere, on both paths; fewer random property runs on a
  // software GPU (each one is a few dozen shader dispatches and readbacks).
  for (const [name, fusedKernel] of [['tfjs-webgpu', true], ['tfjs-webgpu (stock ops)', false]] as const) {
    describeBackendConformance(name, () => tfjsBackend({ fusedKernel }), {
      referenceBackend: () => cpuBackend({ dtype: 'float64' }),
      propertyRuns: isSoftware ? 15 : 100,
      timeout: 120_000,
    });
  }
}
