import { RAdam } from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { liveOnnxSessions, onnxBackend } from '../src/index.js';

const MB = 1024 * 1024;

describe('onnx backend: 1000 steps', () => {
  it('keeps RSS and the session count flat, and dispose() releases every session', { timeout: 60_000 }, async () => {
    const before = liveOnnxSessions();
    const backend = onnxBackend({ chunkSize: 16_384 });
    const n = 50_000; // 4 chunks per tensor: 4 runs of the step graph per step
    const w = backend.fromArray(Array.from({ length: n }, (_, i) => Math.sin(i)), [n]);
    const b = backend.fromArray([0.1, -0.2, 0.3], [3]);
    const optimizer = new RAdam(backend, { lr: 1e-3, gradClipNorm: 100, weightDecay: 1e-4 });
    optimizer.registerTrainableWeights({ w, b });
    const gw = backend.zerosLike(w);
    const gb = backend.zerosLike(b);
    const values = new Float32Array(n);

    const rss: number[] = [];
    const sessions: number[] = [];
    for (let step = 1; step <= 1000; step++) {
      for (let i = 0; i < n; i++) values[i] = 0.05 + Math.cos(i * 0.01 + step) * 0.1;
      backend.write(gw, values);
      backend.write(gb, [0.01 * step, -0.01, 0.02]);
      const report = await optimizer.step({ w: gw, b: gb });
      expect(report.updatedParams).toBe(2);
      if (step % 100 === 0) {
        rss.push(process.memoryUsage().rss);
        sessions.push(liveOnnxSessions());
      }
    }
    // The optimizer really trained: step count and moving parameters.
    expect(optimizer.stepCount).toBe(1000);
    expect((await optimizer.readState('w')).step).toBe(1000);
    expect(Number.isFinite(w.data[123])).toBe(true);
    expect(Math.sin(123) - w.data[123]!).toBeGreaterThan(0.1); // a steady positive gradient pushes w down

    // Step graphs before and after rectification (both with coupled decay) + the sum of
    // squares, each created once and reused for all 1000 steps.
    expect(backend.sessionCount).toBe(3);
    expect(new Set(sessions)).toEqual(new Set([before + 3]));
    const growth = (rss[rss.length - 1]! - rss[0]!) / MB;
    expect(growth, `RSS grew by ${growth.toFixed(1)} MB between step 100 and step 1000`).toBeLessThan(30);

    optimizer.dispose();
    backend.dispose();
    expect(liveOnnxSessions()).toBe(before);
  });
});
