import { cpuBackend } from '@rectify/backend-cpu';
import { onnxBackend } from '@rectify/backend-onnx';
import { replayRadamCase, type RadamGoldenCase } from '@rectify/conformance';
import { RAdam, RectifyError } from '@rectify/core';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { liveOnnxSessions, onnxWebBackend } from '../src/index.js';

/** RAdam's first step by hand (SPEC: before rectification, step_size = lr / (1 - beta1)). */
function firstStep(p: number, g: number, lr: number): { p: number; m: number; v: number } {
  const [beta1, beta2] = [0.9, 0.999];
  const m = (1 - beta1) * g;
  const v = (1 - beta2) * g * g;
  // Unrectified: p -= lr * m / (1 - beta1^1).
  return { p: p - (lr * m) / (1 - beta1), m, v };
}

describe('onnxWebBackend', () => {
  it('is named onnx-web / onnx-web64 and runs on the wasm execution provider', () => {
    const f32 = onnxWebBackend();
    const f64 = onnxWebBackend({ dtype: 'float64' });
    expect([f32.name, f32.dtype, f64.name, f64.dtype, f32.synchronous]).toEqual(['onnx-web', 'float32', 'onnx-web64', 'float64', false]);
    f32.dispose();
    f64.dispose();
  });

  it('updates wrapped arrays in place (outputs copied back from WebAssembly memory)', async () => {
    const backend = onnxWebBackend({ dtype: 'float64' });
    const before = liveOnnxSessions();
    const weights = Float64Array.of(1, -2, 0.5);
    const grads = Float64Array.of(0.25, -1, 4);
    const opt = new RAdam(backend, { lr: 0.1 });
    opt.registerTrainableWeights({ w: backend.wrap(weights) });
    await opt.step({ w: backend.wrap(grads) });
    for (let i = 0; i < weights.length; i++) {
      expect(weights[i]).toBeCloseTo(firstStep([1, -2, 0.5][i]!, grads[i]!, 0.1).p, 12);
    }
    expect(liveOnnxSessions()).toBeGreaterThan(before);
    backend.dispose();
    expect(liveOnnxSessions()).toBe(before);
  });

  it('updates tensors packed into staging buffers and chunked ones alike', async () => {
    // chunkSize 8: tensors under 2 elements are packed, the 20-element one runs in 3 chunks.
    const backend = onnxWebBackend({ dtype: 'float64', chunkSize: 8 });
    const small = Float64Array.of(3);
    const large = Float64Array.from({ length: 20 }, (_, i) => i / 10);
    const opt = new RAdam(backend, { lr: 0.01 });
    opt.registerTrainableWeights({ small: backend.wrap(small), large: backend.wrap(large) });
    await opt.step({ small: backend.wrap(Float64Array.of(-2)), large: backend.wrap(new Float64Array(20).fill(1)) });
    expect(small[0]).toBeCloseTo(firstStep(3, -2, 0.01).p, 12);
    large.forEach((value, i) => expect(value).toBeCloseTo(firstStep(i / 10, 1, 0.01).p, 12));
    backend.dispose();
  });

  it('completes a step whose tensors need two step graphs (issued one run at a time)', { timeout: 20_000 }, async () => {
    // Found by the conformance properties: at the 10th step p0 is on its 6th update (not
    // rectified) and p1 on its 7th (rectified), two sessions in one applyRAdam. With their
    // runs in flight together, onnxruntime-web 1.30 failed them (a TypeError inside it) or
    // never settled them.
    const testCase = {
      name: 'two-kinds',
      semantics: 'torch',
      options: { lr: 0.01, eps: 0.001, weightDecay: 0.01, decoupledWeightDecay: true, gradClipNorm: 0.01, gradClipValue: 5, maximize: false, betas: [1e-200, 0.9999] },
      params: {
        p0: { shape: [4], data: [0.8876953125, 1.841796875, 1.3232421875, -1.0205078125] },
        p1: { shape: [7], data: [1.4287109375, -3.478515625, 7.15234375, -2.8583984375, -2.5361328125, -7.96875, -2.7041015625] },
      },
      grads: [
        { p0: [6.34, 7.48, -6.61, 0.002], p1: [0.009, 3.12, 0.011, -3.14, -1.85, -0.009, -7.9] },
        { p0: [7.99, 3.48, -1.17, -7.99], p1: [-6.29, 2.13, -6.7, 0.01, -7.13, -2.7, -8] },
        {},
        { p1: [-0.008, -0.88, 0.001, -1.04, -1.02, 7.99, 4.33] },
        { p0: [-7.45, 7.99, -1.4, -0.005] },
        { p1: [5.86, 0.004, -0.001, 3.9, -0.007, 0.001, 5.43] },
        { p1: [-0.009, -4.56, -0.75, -6.47, -0.008, 6.63, -1.07] },
        { p0: [-7.1, -6.07, -0.61, -5.7] },
        {},
        { p0: [-2.99, -3.14, 0.009, 0], p1: [6.06, -4.19, -0.008, -7.67, -7.99, -7.99, 0.007] },
      ],
      expected: [],
      finalState: {},
    } as unknown as RadamGoldenCase;
    const ours = await replayRadamCase(testCase, () => onnxWebBackend({ dtype: 'float64' }));
    const reference = await replayRadamCase(testCase, () => cpuBackend({ dtype: 'float64' }));
    expect(ours.trajectory.length).toBe(10);
    ours.trajectory.forEach((step, t) => {
      for (const [name, values] of Object.entries(step)) {
        values.forEach((value, i) => expect(value).toBeCloseTo(reference.trajectory[t]![name]![i]!, 12));
      }
    });
  });

  it('refuses bad options with a RectifyError naming the option, leaving ort.env unchanged', () => {
    const threads = ort.env.wasm.numThreads;
    const paths = ort.env.wasm.wasmPaths;
    for (const [options, option] of [
      [{ dtype: 'float16' }, 'dtype'],
      [{ chunkSize: 0 }, 'chunkSize'],
      [{ numThreads: -1 }, 'numThreads'],
      [{ numThreads: 1.5 }, 'numThreads'],
      [{ wasmPaths: 42 }, 'wasmPaths'],
      [{ dtype: 'float16', numThreads: 2 }, 'dtype'],
    ] as const) {
      let error: unknown;
      try {
        onnxWebBackend(options as never);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(RectifyError);
      expect((error as RectifyError).code).toBe('INVALID_OPTION');
      expect((error as RectifyError).parameter).toBe(option);
      expect((error as RectifyError).message).toContain(`"${option}"`);
    }
    expect([ort.env.wasm.numThreads, ort.env.wasm.wasmPaths]).toEqual([threads, paths]);
  });

  it('does not take tensors of onnxruntime-node (another runtime) or give it its own', () => {
    const web = onnxWebBackend();
    const node = onnxBackend();
    const webTensor = web.wrap(new Float32Array(4));
    const nodeTensor = node.wrap(new Float32Array(4));
    expect([web.isTensor(webTensor), web.isTensor(nodeTensor), node.isTensor(webTensor)]).toEqual([true, false, false]);
    expect(() => web.read(nodeTensor)).toThrow(RectifyError);
    web.dispose();
    node.dispose();
  });
});
