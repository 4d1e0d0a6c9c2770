import { onnxBackend } from '@rectify/backend-onnx';
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

  it('completes a step that runs two step graphs (one tensor rectified, one not)', { timeout: 20_000 }, async () => {
    // onnxruntime-web 1.30 never settles runs of two sessions in flight together: the
    // backend must issue them one at a time. With betas (0.9, 0.999)... beta2 0.9 here:
    // rho_t > 5 from step 6, so `a`'s 7th step is rectified while `b`'s first is not.
    const backend = onnxWebBackend({ dtype: 'float64' });
    const a = Float64Array.of(1, 2);
    const b = Float64Array.of(5);
    const opt = new RAdam(backend, { lr: 0.1, betas: [0.9, 0.9] });
    opt.registerTrainableWeights({ a: backend.wrap(a), b: backend.wrap(b) });
    for (let t = 0; t < 6; t++) await opt.step({ a: backend.wrap(Float64Array.of(1, 1)) });
    const aBefore = [...a];
    await opt.step({ a: backend.wrap(Float64Array.of(1, 1)), b: backend.wrap(Float64Array.of(2)) });
    const m = 0.1 * 2;
    expect(b[0]).toBeCloseTo(5 - (0.1 * m) / 0.1, 12); // unrectified first step of b
    expect(a[0]).toBeLessThan(aBefore[0]!); // a moved on its rectified step
    backend.dispose();
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
