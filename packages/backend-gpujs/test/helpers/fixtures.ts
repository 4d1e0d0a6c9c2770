import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam, type RAdamOptions } from '@rectify/core';
import { expect } from 'vitest';
import type { GpujsBackend, GpuTensor } from '../../src/index.js';

/** A deterministic pseudo-gradient: element `i` of step `step` for a tensor of `size`. */
export function gradValues(size: number, step: number, salt = 0): number[] {
  return Array.from({ length: size }, (_, i) => Math.sin(0.7 * i + 1.3 * step + salt) * (1 + (i % 3)));
}

/** Initial parameter values. */
export function paramValues(size: number, salt = 0): number[] {
  return Array.from({ length: size }, (_, i) => Math.cos(0.3 * i + salt) * 0.5);
}

/**
 * The same model trained on a gpu.js backend and on the float64 CPU reference, step by
 * step, so a test can check transfer counts *and* that the numbers are right.
 */
export class TwinRun {
  readonly optimizer: RAdam<GpujsBackend>;
  readonly params: Record<string, GpuTensor> = {};
  readonly #reference: RAdam;
  readonly #referenceParams: Record<string, Float64Array> = {};
  readonly #sizes: Record<string, number>;
  #steps = 0;

  constructor(readonly backend: GpujsBackend, shapes: Record<string, number[]>, options: RAdamOptions = {}) {
    this.optimizer = new RAdam(backend, options);
    this.#reference = new RAdam(cpuBackend({ dtype: 'float64' }), options);
    this.#sizes = {};
    let salt = 0;
    for (const [name, shape] of Object.entries(shapes)) {
      const size = shape.reduce((a, b) => a * b, 1);
      this.#sizes[name] = size;
      this.params[name] = backend.fromArray(paramValues(size, salt), shape);
      this.#referenceParams[name] = Float64Array.from(paramValues(size, salt));
      salt++;
    }
    this.optimizer.registerTrainableWeights(this.params);
    this.#reference.registerTrainableWeights(this.#referenceParams);
  }

  /** One step on both; gradients are created with `fromArray` and disposed afterwards. */
  async step(): Promise<void> {
    this.#steps++;
    const grads: Record<string, GpuTensor> = {};
    const referenceGrads: Record<string, Float64Array> = {};
    let salt = 0;
    for (const [name, size] of Object.entries(this.#sizes)) {
      const values = gradValues(size, this.#steps, salt++);
      grads[name] = this.backend.fromArray(values, this.params[name]!.shape);
      referenceGrads[name] = Float64Array.from(values);
    }
    try {
      await this.optimizer.step(grads);
    } finally {
      for (const grad of Object.values(grads)) this.backend.disposeTensor(grad);
    }
    await this.#reference.step(referenceGrads);
  }

  /** Asserts every parameter matches the reference within SPEC.md's float32 tolerance. */
  async expectMatchesReference(atol = 2e-5, rtol = 1e-4): Promise<void> {
    for (const [name, tensor] of Object.entries(this.params)) {
      const actual = await this.backend.read(tensor);
      const expected = this.#referenceParams[name]!;
      expect(actual.length).toBe(expected.length);
      for (let i = 0; i < expected.length; i++) {
        const tolerance = atol + rtol * Math.abs(expected[i]!);
        if (!(Math.abs(actual[i]! - expected[i]!) <= tolerance)) {
          expect.fail(`${name}[${i}] after ${this.#steps} steps: got ${actual[i]}, expected ${expected[i]}`);
        }
      }
    }
  }
}
