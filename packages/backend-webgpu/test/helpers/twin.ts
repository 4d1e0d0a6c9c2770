import { cpuBackend } from '@rectify/backend-cpu';
import type { RAdamBatch, RAdamScalars } from '@rectify/core';
import { expect } from 'vitest';
import type { WebGpuBackend, WebGpuTensor } from '../../src/index.js';

/** Scalars of a typical rectified step (core's planRAdamStep shape), with overrides. */
export function scalars(overrides: Partial<RAdamScalars> = {}): RAdamScalars {
  return {
    gradScale: 1,
    clipValue: Infinity,
    weightDecay: 0,
    paramScale: 1,
    beta1: 0.9,
    beta2: 0.999,
    rectified: true,
    stepSize: 1e-3,
    denomScale: 1.2,
    eps: 1e-8,
    ...overrides,
  };
}

/** Deterministic float32-representable values (both backends start from the same numbers). */
export function values(size: number, seed: number, scale = 1, positive = false): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const x = Math.sin(12.9898 * (i + 1) + 78.233 * seed) * 43758.5453;
    const u = x - Math.floor(x); // [0, 1)
    out[i] = (positive ? u : 2 * u - 1) * scale;
  }
  return out;
}

/**
 * Runs the same `applyRAdam` on the WebGPU backend and on the float64 CPU reference (one
 * slot per size, each with its own p, g, m, v) and asserts every parameter and moment
 * agrees within SPEC.md's float32 tolerance. Returns both finiteness flags.
 */
export async function expectUpdateMatchesReference(
  backend: WebGpuBackend,
  specs: readonly { readonly sizes: readonly number[]; readonly scalars: RAdamScalars }[],
  gradScale = 1,
): Promise<{ finite: boolean; expectedFinite: boolean }> {
  const reference = cpuBackend({ dtype: 'float64' });
  const ours: RAdamBatch<WebGpuTensor>[] = [];
  const theirs: RAdamBatch<Float64Array>[] = [];
  let seed = 0;
  for (const spec of specs) {
    const slots = spec.sizes.map((size) => {
      const data = [values(size, seed++), values(size, seed++, gradScale), values(size, seed++, 0.1), values(size, seed++, 0.01, true)];
      return {
        ours: data.map((d) => backend.fromArray(d, [size])),
        theirs: data.map((d) => reference.fromArray(d, [size])),
      };
    });
    const slot = <T>([param, grad, firstMoment, secondMoment]: T[]) => ({ param: param!, grad: grad!, firstMoment: firstMoment!, secondMoment: secondMoment! });
    ours.push({ scalars: spec.scalars, slots: slots.map((s) => slot(s.ours)) });
    theirs.push({ scalars: spec.scalars, slots: slots.map((s) => slot(s.theirs)) });
  }
  const finite = await backend.applyRAdam(ours);
  const expectedFinite = reference.applyRAdam(theirs);
  for (let b = 0; b < ours.length; b++) {
    for (let s = 0; s < ours[b]!.slots.length; s++) {
      for (const role of ['param', 'firstMoment', 'secondMoment', 'grad'] as const) {
        const actual = await backend.read(ours[b]!.slots[s]![role]);
        const expected = theirs[b]!.slots[s]![role];
        expect(actual.length).toBe(expected.length);
        for (let i = 0; i < expected.length; i++) {
          const e = expected[i]!;
          if (!(Math.abs(actual[i]! - e) <= 2e-5 + 1e-4 * Math.abs(e))) {
            expect.fail(`batch ${b} slot ${s} (${expected.length} elements) ${role}[${i}]: got ${actual[i]}, expected ${e}`);
          }
        }
      }
    }
  }
  for (const batch of ours) for (const slot of batch.slots) for (const t of Object.values(slot)) backend.disposeTensor(t);
  return { finite, expectedFinite };
}
