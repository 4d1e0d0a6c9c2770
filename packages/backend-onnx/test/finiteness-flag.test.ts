import { cpuBackend } from '@rectify/backend-cpu';
import {
  RAdam,
  planRAdamStep,
  resolveGroupOptions,
  type FloatArray,
  type RAdamBatch,
  type RAdamScalars,
} from '@rectify/core';
import { describe, expect, it } from 'vitest';
import { onnxBackend, type OnnxTensor } from '../src/index.js';
import { series, worstDifference } from './helpers.js';

const scalarsOf = (step: number, lr = 0.01): RAdamScalars =>
  planRAdamStep({ options: resolveGroupOptions({ lr, weightDecay: 0.01 }), lr, step, globalNorm: undefined });

interface Slot {
  readonly p: number[];
  readonly g: number[];
  readonly m: number[];
  readonly v: number[];
}

const slotOf = (n: number, seed: number): Slot => ({
  p: series(n, seed),
  g: series(n, seed + 1, 0.5),
  m: series(n, seed + 2, 0.1),
  v: series(n, seed + 3, 0.1).map(Math.abs),
});

/**
 * Runs one `applyRAdam` call of the given batches on the onnx backend (chunks of 4, so
 * every slot spans several runs, the last one short) and on the float32 cpu backend;
 * returns both flags, whether every tensor agrees, and the onnx parameters.
 */
async function both(
  batches: readonly { readonly slots: readonly Slot[]; readonly scalars: RAdamScalars }[],
  dtype: 'float32' | 'float64' = 'float32',
): Promise<{ onnx: boolean; cpu: boolean; worst: number; params: FloatArray[] }> {
  const backend = onnxBackend({ dtype, chunkSize: 4 });
  const cpu = cpuBackend({ dtype });
  try {
    const onnxBatches: RAdamBatch<OnnxTensor>[] = batches.map(({ slots, scalars }) => ({
      scalars,
      slots: slots.map((s) => ({
        param: backend.fromArray(s.p, [s.p.length]),
        grad: backend.fromArray(s.g, [s.g.length]),
        firstMoment: backend.fromArray(s.m, [s.m.length]),
        secondMoment: backend.fromArray(s.v, [s.v.length]),
      })),
    }));
    const cpuBatches: RAdamBatch<FloatArray>[] = batches.map(({ slots, scalars }) => ({
      scalars,
      slots: slots.map((s) => ({
        param: cpu.fromArray(s.p, [s.p.length]),
        grad: cpu.fromArray(s.g, [s.g.length]),
        firstMoment: cpu.fromArray(s.m, [s.m.length]),
        secondMoment: cpu.fromArray(s.v, [s.v.length]),
      })),
    }));
    const onnx = await backend.applyRAdam(onnxBatches);
    const cpuFlag = cpu.applyRAdam(cpuBatches);
    let worst = 0;
    const params: FloatArray[] = [];
    for (const [b, batch] of onnxBatches.entries()) {
      for (const [s, slot] of batch.slots.entries()) {
        const ref = cpuBatches[b]!.slots[s]!;
        params.push(slot.param.data);
        for (const [mine, theirs] of [
          [slot.param.data, ref.param],
          [slot.firstMoment.data, ref.firstMoment],
          [slot.secondMoment.data, ref.secondMoment],
        ] as const) {
          // NaN where the reference has NaN (and ±∞ where it has the same ±∞) agrees.
          const same = Array.from(mine, (x, i) => (Object.is(x, theirs[i]) ? 0 : x));
          const expected = Array.from(theirs, (x, i) => (Object.is(x, mine[i]) ? 0 : x));
          worst = Math.max(worst, worstDifference(same, expected));
        }
      }
    }
    return { onnx, cpu: cpuFlag, worst, params };
  } finally {
    backend.dispose();
  }
}

describe('applyRAdam returns the finiteness flag of every parameter and moment written', () => {
  it('true for a finite step over two batches and several chunks, with the values of cpu', async () => {
    const result = await both([
      { slots: [slotOf(10, 1), slotOf(3, 2)], scalars: scalarsOf(1) },
      { slots: [slotOf(7, 3)], scalars: scalarsOf(9) }, // a rectified step
    ]);
    expect(result).toMatchObject({ onnx: true, cpu: true });
    expect(result.worst).toBeLessThan(1e-6);
  });

  it('false for a NaN parameter in the last chunk of the last batch; every other slot is still updated', async () => {
    const last = slotOf(7, 3);
    last.p[6] = NaN;
    const first = slotOf(10, 1);
    const result = await both([
      { slots: [first], scalars: scalarsOf(1) },
      { slots: [last], scalars: scalarsOf(9) },
    ]);
    expect(result).toMatchObject({ onnx: false, cpu: false });
    expect(result.worst).toBeLessThan(1e-6); // the first slot moved exactly as on cpu
    expect(Array.from(result.params[0]!)).not.toEqual(Array.from(Float32Array.from(first.p)));
    expect(result.params[1]![6]).toBeNaN();
  });

  for (const dtype of ['float32', 'float64'] as const) {
    it(`false for a NaN moment in a middle chunk (${dtype})`, async () => {
      const slot = slotOf(12, 5);
      slot.m[5] = NaN;
      expect(await both([{ slots: [slot], scalars: scalarsOf(2) }], dtype)).toMatchObject({ onnx: false, cpu: false });
    });
  }

  it('false when finite inputs give a second moment too large for float32; the parameter still gets the finite unrectified update', async () => {
    // ((1 − β2)·g)·g = 1e-3 · 9e76: finite in float64, +∞ once stored in float32.
    const slot = { p: [0.5, 0.25, 0], g: [3e38, 1, -2], m: [0, 0, 0], v: [0, 0, 0] };
    const result = await both([{ slots: [slot], scalars: scalarsOf(1) }]);
    expect(result).toMatchObject({ onnx: false, cpu: false });
    // Step 1 is unrectified: p − step_size·m ≈ −3e36, whatever v is. A denominator masked
    // with 0 instead of a select would give sqrt(∞)·0 = NaN here.
    expect(result.params[0]![0]! / 1e36).toBeCloseTo(-3, 3);
    expect(result.worst).toBeLessThan(1e-6);
  });

  it('false when only the parameter overflows float32 (a huge step size on an unrectified step)', async () => {
    const scalars = { ...scalarsOf(1), stepSize: 1e30 };
    const slot = { p: [1, 2, 3, 4, 5], g: [1e10, 1, 1, 1, 1], m: [0, 0, 0, 0, 0], v: [0, 0, 0, 0, 0] };
    const result = await both([{ slots: [slot], scalars }]);
    expect(result).toMatchObject({ onnx: false, cpu: false });
    expect(result.params[0]![0]).toBe(-Infinity);
    expect(Number.isFinite(result.params[0]![1])).toBe(true);
  });

  it('core halts with NON_FINITE_UPDATE on a step whose result overflows, as on cpu', async () => {
    const backend = onnxBackend({ chunkSize: 2 });
    const w = backend.fromArray([1, 2, 3], [3]);
    const optimizer = new RAdam(backend, { lr: 0.01 });
    optimizer.registerTrainableWeights({ w });
    await expect(optimizer.step({ w: backend.fromArray([1, 2, 3e38], [3]) })).rejects.toMatchObject({
      code: 'NON_FINITE_UPDATE',
      parameter: 'w',
    });
    expect(optimizer.haltedBy?.code).toBe('NON_FINITE_UPDATE');
    await expect(optimizer.step({ w: backend.fromArray([1, 2, 3], [3]) })).rejects.toMatchObject({ code: 'HALTED' });
    backend.dispose();
  });
});
