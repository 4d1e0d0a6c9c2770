import { createScheduler, RectifyError, StepLR } from '@rectify/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { RAdamOptimizer, schedulerCallback, type NamedTensor } from '../src/index.js';
import { maxExcess, memorySink, mlp, regressionData, weightsOf } from './fixtures.js';
import { useTfjsBackend } from './helpers.js';

beforeAll(() => useTfjsBackend('cpu'));

const CYCLIC = {
  scheduler: 'CyclicLR',
  // 'exp_range' holds an underscore, which tfjs-layers would camel-case if it could.
  args: { baseLr: 0.002, maxLr: 0.03, stepSizeUp: 2, mode: 'exp_range', gamma: 0.9 },
};

describe('tfjs-layers integration', () => {
  it('model.compile + model.fit trains a 2-layer MLP: the loss falls well below its start', async () => {
    const { xs, ys } = regressionData(200);
    const model = mlp();
    model.compile({ optimizer: new RAdamOptimizer({ lr: 0.02 }), loss: 'meanSquaredError' });
    const history = await model.fit(xs, ys, { epochs: 25, batchSize: 25, shuffle: false, verbose: 0 });
    const losses = history.history['loss'] as number[];
    expect(losses[0]).toBeGreaterThan(1);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 20);
    // The whole model was trained: every trainable variable registered, 8 batches × 25 epochs.
    const optimizer = model.optimizer as RAdamOptimizer;
    expect(optimizer.iterations).toBe(200);
    expect(optimizer.radam.paramGroups[0]).toEqual(model.trainableWeights.map((w) => w.name));
    model.dispose();
    optimizer.dispose();
    tf.dispose([xs, ys]);
    // 200 steps through tfjs-layers: generous for a loaded machine.
  }, 60_000);

  it('model.save / tf.loadLayersModel round-trip the optimizer: the reloaded model trains on identically', async () => {
    const { xs, ys } = regressionData(64);
    const model = mlp();
    const optimizer = new RAdamOptimizer({ lr: CYCLIC, weightDecay: 1e-4, gradClipNorm: 5, compat: 'torch' });
    model.compile({ optimizer, loss: 'meanSquaredError' });
    const fit = (m: tf.LayersModel, o: RAdamOptimizer, epochs: number) =>
      m.fit(xs, ys, { epochs, batchSize: 16, shuffle: false, verbose: 0, callbacks: [schedulerCallback(o)] });
    await fit(model, optimizer, 3);

    const sink = memorySink();
    await model.save(sink.handler, { includeOptimizer: true });
    const artifacts = sink.artifacts();
    expect((artifacts.trainingConfig?.optimizer_config as { class_name?: string }).class_name).toBe('RectifyRAdam');
    expect(artifacts.weightSpecs!.filter((s) => s.group === 'optimizer')).toHaveLength(1 + 4 * 3);

    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const reloaded = loaded.optimizer as RAdamOptimizer;
    expect(reloaded).toBeInstanceOf(RAdamOptimizer);
    expect(reloaded).not.toBe(optimizer);
    expect(reloaded.getConfig()).toEqual(optimizer.getConfig());
    expect(reloaded.iterations).toBe(12);
    expect(reloaded.scheduler!.lastEpoch).toBe(3);
    expect(reloaded.currentLr).toBe(optimizer.currentLr);
    expect(weightsOf(loaded)).toEqual(weightsOf(model));

    // Two more epochs each: same data, same order, same state, so the same weights.
    await fit(model, optimizer, 2);
    await fit(loaded, reloaded, 2);
    const original = weightsOf(model);
    weightsOf(loaded).forEach((w, i) => expect(maxExcess(w, original[i]!, 0, 0)).toBeLessThanOrEqual(0));
    // …and those weights moved since the save (the continuation was not a no-op).
    expect(reloaded.iterations).toBe(20);
    expect(reloaded.radam.readState(loaded.trainableWeights[0]!.name).step).toBe(20);

    for (const m of [model, loaded]) m.dispose();
    for (const o of [optimizer, reloaded]) o.dispose();
    tf.dispose([xs, ys]);
  });

  it('an overflowing step stops model.fit with NON_FINITE_UPDATE; halted, nothing is saved; loadStateDict recovers', async () => {
    const { xs, ys } = regressionData(32);
    const fit = (m: tf.LayersModel, y: tf.Tensor) => m.fit(xs, y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
    const model = mlp();
    const optimizer = new RAdamOptimizer({ lr: 0.01 });
    model.compile({ optimizer, loss: 'meanSquaredError' });
    await fit(model, ys);
    const checkpoint = optimizer.radam.stateDict();
    const weights = model.getWeights().map((w) => tf.clone(w));

    // Targets of 1e30 give finite gradients of ~1e30, whose (1 − β2)·g² (~1e57) no float32 holds.
    const huge = tf.mul(ys, 1e30);
    await expect(fit(model, huge)).rejects.toMatchObject({ code: 'NON_FINITE_UPDATE' });
    expect(optimizer.radam.haltedBy?.code).toBe('NON_FINITE_UPDATE');
    expect(optimizer.iterations).toBe(1);
    // Halted: no further training, and neither the weights nor a model file take the torn state.
    await expect(fit(model, ys)).rejects.toMatchObject({ code: 'HALTED' });
    await expect(optimizer.getWeights()).rejects.toMatchObject({ code: 'HALTED' });
    await expect(optimizer.setWeights([])).rejects.toMatchObject({ code: 'HALTED' });
    await expect(model.save(memorySink().handler, { includeOptimizer: true })).rejects.toMatchObject({ code: 'HALTED' });

    // Recovery: the model's weights and the optimizer's checkpoint, then training goes on
    // exactly as a run that never took the bad step.
    model.setWeights(weights);
    optimizer.radam.loadStateDict(checkpoint);
    expect(optimizer.radam.haltedBy).toBeUndefined();
    await fit(model, ys);
    const reference = mlp();
    const referenceOptimizer = new RAdamOptimizer({ lr: 0.01 });
    reference.compile({ optimizer: referenceOptimizer, loss: 'meanSquaredError' });
    await fit(reference, ys);
    await fit(reference, ys);
    expect(weightsOf(model)).toEqual(weightsOf(reference));
    expect(optimizer.iterations).toBe(referenceOptimizer.iterations);
    // getWeights / setWeights work again.
    const saved = await optimizer.getWeights();
    const values = (named: readonly NamedTensor[]): number[][] => named.map((w) => Array.from(w.tensor.dataSync()));
    expect(values(saved)).toEqual(values(await referenceOptimizer.getWeights()));
    const copies = saved.map(({ name, tensor }) => ({ name, tensor: tf.clone(tensor) }));
    await optimizer.setWeights(copies);
    expect(optimizer.radam.readState(model.trainableWeights[0]!.name).step).toBe(2);

    for (const m of [model, reference]) m.dispose();
    for (const o of [optimizer, referenceOptimizer]) o.dispose();
    tf.dispose([xs, ys, huge, ...weights, ...copies.map((c) => c.tensor)]);
  });

  it('a fresh model without the optimizer weights does not inherit them', async () => {
    const { xs, ys } = regressionData(32);
    const model = mlp();
    model.compile({ optimizer: new RAdamOptimizer({ lr: 0.01 }), loss: 'meanSquaredError' });
    await model.fit(xs, ys, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
    const sink = memorySink();
    await model.save(sink.handler); // includeOptimizer defaults to false
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(sink.artifacts()));
    expect(loaded.optimizer).toBeUndefined();
    model.dispose();
    loaded.dispose();
    tf.dispose([xs, ys]);
  });
});

describe('getConfig / fromConfig', () => {
  it('round-trips every option and the scheduler with its progress', () => {
    const optimizer = new RAdamOptimizer({
      lr: CYCLIC,
      betas: [0.85, 0.99],
      eps: 1e-6,
      weightDecay: 0.01,
      decoupledWeightDecay: true,
      gradClipNorm: 2,
      gradClipValue: 0.5,
      threshold: 4,
      maximize: true,
      nonFinite: 'skip',
    });
    optimizer.scheduler!.step();
    optimizer.scheduler!.step();
    optimizer.scheduler!.step();
    const config = optimizer.getConfig();
    expect(config).toMatchObject({ betas: [0.85, 0.99], eps: 1e-6, threshold: 4, nonFinite: 'skip', maximize: true });
    expect(JSON.stringify(config)).not.toContain('_');

    const twin = RAdamOptimizer.fromConfig<RAdamOptimizer>(RAdamOptimizer, JSON.parse(JSON.stringify(config)) as typeof config);
    expect(twin).toBeInstanceOf(RAdamOptimizer);
    expect(twin.getConfig()).toEqual(config);
    expect(twin.scheduler).not.toBe(optimizer.scheduler);
    expect(twin.scheduler!.toSpec()).toEqual(createScheduler(CYCLIC).toSpec());
    expect(twin.scheduler!.toSpec()).toMatchObject(CYCLIC);
    expect(twin.scheduler!.stateDict()).toEqual(optimizer.scheduler!.stateDict());
    // The independent reference: a CyclicLR built directly and stepped 3 times.
    const reference = createScheduler(CYCLIC);
    for (let i = 0; i < 3; i++) reference.step();
    expect(twin.currentLr).toBe(reference.getLastLr()[0]);
    const { lr: _lr, ...twinOptions } = twin.radam.options;
    const { lr: _lr2, ...options } = optimizer.radam.options;
    expect(twinOptions).toEqual(options);
    // tfjs-layers adds customObjects to a config it deserialises: ignored.
    expect(() => RAdamOptimizer.fromConfig<RAdamOptimizer>(RAdamOptimizer, { ...config, customObjects: {} })).not.toThrow();
    expect(() => RAdamOptimizer.fromConfig<RAdamOptimizer>(RAdamOptimizer, { ...config, scheduler: '{not json' })).toThrow(RectifyError);
  });

  it('a constant learning rate round-trips as a number', () => {
    const config = new RAdamOptimizer({ lr: 0.05 }).getConfig();
    expect(config['lr']).toBe(0.05);
    expect(config['scheduler']).toBeNull();
    expect(RAdamOptimizer.fromConfig<RAdamOptimizer>(RAdamOptimizer, config).radam.options.lr).toBe(0.05);
  });
});

describe('schedulerCallback', () => {
  it('steps the scheduler once per epoch, and the optimizer reads the new rate', async () => {
    const { xs, ys } = regressionData(32);
    const scheduler = new StepLR({ baseLr: 0.04, stepSize: 1, gamma: 0.5 });
    const optimizer = new RAdamOptimizer({ lr: scheduler });
    expect(optimizer.scheduler).toBe(scheduler);
    const model = mlp();
    model.compile({ optimizer, loss: 'meanSquaredError' });
    // Without the callback nothing advances the scheduler.
    await model.fit(xs, ys, { epochs: 2, batchSize: 32, verbose: 0 });
    expect(scheduler.lastEpoch).toBe(0);
    await model.fit(xs, ys, { epochs: 3, batchSize: 32, verbose: 0, callbacks: [schedulerCallback(scheduler)] });
    expect(scheduler.lastEpoch).toBe(3);
    expect(optimizer.currentLr).toBeCloseTo(0.005, 12);
    expect(optimizer.radam.currentLr).toBeCloseTo(0.005, 12);
    model.dispose();
    optimizer.dispose();
    tf.dispose([xs, ys]);
  });

  it('passes the monitored epoch log (val_loss, else loss) to step(), and refuses what it cannot step', async () => {
    const { xs, ys } = regressionData(48);
    const optimizer = new RAdamOptimizer({
      lr: { scheduler: 'ReduceLROnPlateau', args: { baseLr: 0.01, patience: 0, factor: 0.5 } },
    });
    const steps = vi.spyOn(optimizer.scheduler!, 'step');
    const model = mlp();
    model.compile({ optimizer, loss: 'meanSquaredError' });
    const callbacks = [schedulerCallback(optimizer)];
    const plain = await model.fit(xs, ys, { epochs: 2, batchSize: 48, verbose: 0, callbacks });
    expect(steps.mock.calls.map(([metric]) => metric)).toEqual(plain.history['loss']);
    steps.mockClear();
    const validated = await model.fit(xs, ys, { epochs: 2, batchSize: 48, verbose: 0, validationSplit: 0.25, callbacks });
    expect(steps.mock.calls.map(([metric]) => metric)).toEqual(validated.history['val_loss']);
    expect(optimizer.scheduler!.lastEpoch).toBe(4);
    await expect(
      model.fit(xs, ys, { epochs: 1, verbose: 0, callbacks: [schedulerCallback(optimizer, { monitor: 'val_acc' })] }),
    ).rejects.toThrow(/val_acc/);
    expect(() => schedulerCallback(new RAdamOptimizer({ lr: 0.1 }))).toThrow(RectifyError);
    model.dispose();
    optimizer.dispose();
    tf.dispose([xs, ys]);
  });
});
