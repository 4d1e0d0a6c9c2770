import { RectifyError, type Compat, type RAdamOptions } from '@rectify/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RAdamOptimizer, type NamedTensor } from '../src/index.js';
import { B0, W0, bothWays, gradB, gradW, maxExcess, variables } from './fixtures.js';
import { useTfjsBackend } from './helpers.js';

beforeAll(() => useTfjsBackend('cpu'));

// On tfjs' cpu backend the update runs as Rectify's fused kernel, in core's arithmetic:
// the results must equal core's float32 CPU backend bit for bit.
describe('RAdamOptimizer.applyGradients equals core on the CPU backend', () => {
  it('one step, with clipping and weight decay, against core (exactly) and against the closed form', () => {
    const options: RAdamOptions = { lr: 0.01, weightDecay: 0.05, gradClipNorm: 0.5, betas: [0.9, 0.99] };
    const { trajectory, states } = bothWays(options, 1);
    const [tfjsW, tfjsB] = trajectory[0]!.tfjs;
    const [cpuW, cpuB] = trajectory[0]!.cpu;
    expect(tfjsW).toEqual(cpuW);
    expect(tfjsB).toEqual(cpuB);
    expect(Array.from(states.tfjs.firstMoment)).toEqual(Array.from(states.cpu.firstMoment));
    expect(Array.from(states.tfjs.secondMoment)).toEqual(Array.from(states.cpu.secondMoment));
    // Step 1 is never rectified, and m/bc1 = ĝ: p₁ = p − lr·(g·c + wd·p), c the norm clip factor.
    const g = [...gradW(0), ...gradB(0)];
    const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
    expect(norm).toBeGreaterThan(0.5); // the clip is active
    const c = 0.5 / norm;
    const p = [...W0, ...B0];
    const expected = p.map((x, i) => x - 0.01 * (g[i]! * c + 0.05 * x));
    expect(maxExcess([...tfjsW!, ...tfjsB!], expected, 1e-7, 1e-6)).toBeLessThanOrEqual(0);
  });

  for (const compat of ['braintools', 'torch'] as Compat[]) {
    it(`12 steps across the rectification switch (compat ${compat})`, () => {
      // With β2 = 0.9, ρt passes 5 at step 6: both branches of the update run.
      const options: RAdamOptions = { lr: 0.02, betas: [0.8, 0.9], weightDecay: 0.01, decoupledWeightDecay: true, compat };
      const { trajectory, states } = bothWays(options, 12);
      trajectory.forEach(({ tfjs, cpu }, k) => expect(tfjs, `step ${k + 1}`).toEqual(cpu));
      expect(states.tfjs.step).toBe(12);
      expect(Array.from(states.tfjs.firstMoment)).toEqual(Array.from(states.cpu.firstMoment));
      expect(Array.from(states.tfjs.secondMoment)).toEqual(Array.from(states.cpu.secondMoment));
      // The parameters really moved: the comparison is not between two idle copies.
      expect(Math.abs(trajectory[11]!.tfjs[0]![0]! - W0[0]!)).toBeGreaterThan(1e-3);
    });
  }
});

describe('RAdamOptimizer as a tf.Optimizer', () => {
  it('is a tf.Optimizer registered for serialization, and instanceof tells it from Adam', () => {
    const opt = new RAdamOptimizer();
    expect(opt).toBeInstanceOf(tf.Optimizer);
    expect(opt).toBeInstanceOf(RAdamOptimizer);
    expect(tf.train.adam(0.1)).not.toBeInstanceOf(RAdamOptimizer);
    expect(opt.getClassName()).toBe('RectifyRAdam');
    const entry = tf.serialization.SerializationMap.getMap().classNameMap['RectifyRAdam'];
    expect(entry?.[0]).toBe(RAdamOptimizer);
    expect(() => new RAdamOptimizer({ lr: -1 })).toThrow(RectifyError);
  });

  it('minimize() drives a quadratic to its minimum', () => {
    const x = tf.variable(tf.tensor([5, -3, 0.5]));
    const target = tf.tensor([1, 2, -1]);
    const opt = new RAdamOptimizer({ lr: 0.1 });
    const f = (): tf.Scalar => tf.sum(tf.square(tf.sub(x, target)));
    const first = opt.minimize(f, true)!;
    expect(first.dataSync()[0]).toBeCloseTo(16 + 25 + 2.25, 4);
    first.dispose();
    for (let i = 0; i < 400; i++) opt.minimize(f);
    const final = Array.from(x.dataSync());
    [1, 2, -1].forEach((t, i) => expect(Math.abs(final[i]! - t)).toBeLessThan(1e-2));
    expect(opt.iterations).toBe(401);
    opt.dispose();
    tf.dispose([x, target]);
  });

  it('accepts a list of gradients; a null gradient leaves its variable alone', () => {
    const { w, b } = variables();
    const opt = new RAdamOptimizer({ lr: 0.1 });
    const gw = tf.tensor(gradW(0), [3, 4]);
    opt.applyGradients([
      { name: w.name, tensor: gw },
      { name: b.name, tensor: null as unknown as tf.Tensor },
    ]);
    expect(Array.from(b.dataSync())).toEqual(Array.from(Float32Array.from(B0)));
    expect(Array.from(w.dataSync())).not.toEqual(Array.from(Float32Array.from(W0)));
    expect(opt.radam.readState(w.name).step).toBe(1);
    expect(opt.radam.paramGroups).toEqual([[w.name]]);
    expect(() => opt.applyGradients({ 'no such variable': gw })).toThrowError(
      expect.objectContaining({ code: 'UNKNOWN_PARAMETER' }) as Error,
    );
    opt.dispose();
    tf.dispose([w, b, gw]);
  });

  it("counts iterations only for steps taken (nonFinite: 'skip')", () => {
    const { w } = variables();
    const opt = new RAdamOptimizer({ nonFinite: 'skip' });
    const good = tf.tensor(gradW(0), [3, 4]);
    const bad = tf.tensor([...gradW(0).slice(1), NaN], [3, 4]);
    opt.applyGradients({ [w.name]: good });
    opt.applyGradients({ [w.name]: bad });
    expect(opt.iterations).toBe(1);
    expect(opt.radam.skippedSteps).toBe(1);
    opt.dispose();
    tf.dispose([w, good, bad]);
  });

  it('leaks nothing: numTensors after step 1000 equals step 1; dispose frees every tensor it made', async () => {
    const { w, b } = variables();
    const gw = tf.tensor(gradW(0), [3, 4]);
    const gb = tf.tensor(gradB(0), [4]);
    const before = tf.memory().numTensors;
    const opt = new RAdamOptimizer({ lr: 1e-3, gradClipNorm: 1, gradClipValue: 0.5, weightDecay: 1e-3 });
    opt.applyGradients({ [w.name]: gw, [b.name]: gb });
    const afterFirst = tf.memory().numTensors;
    expect(afterFirst).toBe(before + 4);
    for (let i = 2; i <= 1000; i++) opt.applyGradients({ [w.name]: gw, [b.name]: gb });
    expect(tf.memory().numTensors).toBe(afterFirst);
    expect(opt.iterations).toBe(1000);
    // getWeights() hands out live moments and reuses its own scalars: no growth per call.
    await opt.getWeights();
    const afterGetWeights = tf.memory().numTensors;
    await opt.getWeights();
    expect(tf.memory().numTensors).toBe(afterGetWeights);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, b, gw, gb]);
  });
});

describe('getWeights / setWeights', () => {
  /** Trains 7 steps (b gets a gradient on 4 of them) and snapshots the weights. */
  async function trained() {
    const { w, b } = variables();
    const opt = new RAdamOptimizer({ lr: 0.01, betas: [0.8, 0.9] });
    for (let k = 0; k < 7; k++) {
      const grads: tf.NamedTensorMap = { [w.name]: tf.tensor(gradW(k), [3, 4]) };
      if (k % 2 === 0) grads[b.name] = tf.tensor(gradB(k), [4]);
      opt.applyGradients(grads);
      tf.dispose(grads);
    }
    const live = await opt.getWeights();
    // getWeights() returns live moment variables: copy them to keep this snapshot.
    const snapshot: NamedTensor[] = live.map(({ name, tensor }) => ({ name, tensor: tf.clone(tensor) }));
    return { opt, w, b, snapshot, values: { w: Array.from(w.dataSync()), b: Array.from(b.dataSync()) } };
  }

  const nextGrads = (w: tf.Variable, b: tf.Variable): tf.NamedTensorMap => ({
    [w.name]: tf.tensor(gradW(50), [3, 4]),
    [b.name]: tf.tensor(gradB(50), [4]),
  });

  it('names, order and values of the weights', async () => {
    const { opt, w, b, snapshot } = await trained();
    expect(snapshot.map((s) => s.name)).toEqual([
      'iter',
      `${w.name}/m`,
      `${w.name}/v`,
      `${w.name}/step`,
      `${b.name}/m`,
      `${b.name}/v`,
      `${b.name}/step`,
    ]);
    const value = (name: string): number[] => Array.from(snapshot.find((s) => s.name === name)!.tensor.dataSync());
    expect(value('iter')).toEqual([7]);
    expect(value(`${w.name}/step`)).toEqual([7]);
    expect(value(`${b.name}/step`)).toEqual([4]);
    expect(value(`${w.name}/m`)).toEqual(Array.from(opt.radam.readState(w.name).firstMoment));
    expect(value(`${b.name}/v`)).toEqual(Array.from(opt.radam.readState(b.name).secondMoment));
    expect(snapshot[1]!.tensor.shape).toEqual([3, 4]);
    opt.dispose();
  });

  it('restore into a fresh optimizer: by name, or by order for renamed variables, continues exactly', async () => {
    const { opt, w, b, snapshot, values } = await trained();
    opt.applyGradients(nextGrads(w, b));
    const expected = { w: Array.from(w.dataSync()), b: Array.from(b.dataSync()) };

    // Same names (the original variables, reset to their values at the snapshot).
    w.assign(tf.tensor(values.w, [3, 4]));
    b.assign(tf.tensor(values.b, [4]));
    const byName = new RAdamOptimizer({ lr: 0.01, betas: [0.8, 0.9] });
    await byName.setWeights(snapshot);
    expect(byName.iterations).toBe(7);
    // Until the variables get gradients, the saved state is held, and reported back.
    expect((await byName.getWeights()).map((s) => s.name)).toEqual(snapshot.map((s) => s.name));
    byName.applyGradients(nextGrads(w, b));
    expect(Array.from(w.dataSync())).toEqual(expected.w);
    expect(Array.from(b.dataSync())).toEqual(expected.b);
    expect(byName.radam.readState(b.name).step).toBe(5);
    expect(byName.iterations).toBe(8);

    // New names (a reloaded model): bound by order of first gradient.
    const w2 = tf.variable(tf.tensor(values.w, [3, 4]));
    const b2 = tf.variable(tf.tensor(values.b, [4]));
    const byOrder = new RAdamOptimizer({ lr: 0.01, betas: [0.8, 0.9] });
    await byOrder.setWeights(snapshot);
    byOrder.applyGradients(nextGrads(w2, b2));
    expect(Array.from(w2.dataSync())).toEqual(expected.w);
    expect(Array.from(b2.dataSync())).toEqual(expected.b);
    expect(byOrder.radam.readState(w2.name).step).toBe(8);

    // Into the optimizer that wrote them (registered variables restore at once).
    w.assign(tf.tensor(values.w, [3, 4]));
    b.assign(tf.tensor(values.b, [4]));
    await opt.setWeights(snapshot);
    expect(opt.radam.readState(w.name).step).toBe(7);
    opt.applyGradients(nextGrads(w, b));
    expect(Array.from(w.dataSync())).toEqual(expected.w);

    for (const o of [opt, byName, byOrder]) o.dispose();
    tf.dispose([w, b, w2, b2, ...snapshot.map((s) => s.tensor)]);
  });

  it('rejects malformed weights and changes nothing', async () => {
    const { opt, w, snapshot } = await trained();
    const stateBefore = opt.radam.readState(w.name);
    const without = (name: string): NamedTensor[] => snapshot.filter((s) => s.name !== name);
    const replaced = (name: string, tensor: tf.Tensor): NamedTensor[] =>
      snapshot.map((s) => (s.name === name ? { name, tensor } : s));
    const bad: NamedTensor[][] = [
      without(`${w.name}/v`),
      replaced(`${w.name}/m`, tf.fill([3, 4], NaN)),
      replaced(`${w.name}/v`, tf.fill([3, 4], -1)),
      replaced(`${w.name}/step`, tf.scalar(1.5)),
      replaced(`${w.name}/v`, tf.zeros([4, 3])),
      [...snapshot, { name: 'something/else', tensor: tf.scalar(1) }],
    ];
    for (const weights of bad) {
      await expect(opt.setWeights(weights)).rejects.toMatchObject({ code: 'INVALID_STATE_DICT' });
    }
    // Consistent moments, but not the shape of the registered variable.
    const transposed = replaced(`${w.name}/m`, tf.zeros([4, 3])).map((s) =>
      s.name === `${w.name}/v` ? { name: s.name, tensor: tf.zeros([4, 3]) } : s,
    );
    await expect(opt.setWeights(transposed)).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    expect(opt.iterations).toBe(7);
    const stateAfter = opt.radam.readState(w.name);
    expect(stateAfter.step).toBe(stateBefore.step);
    expect(Array.from(stateAfter.firstMoment)).toEqual(Array.from(stateBefore.firstMoment));
    opt.dispose();
  });
});
