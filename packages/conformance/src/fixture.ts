import { RAdam, RectifyError, type RAdamOptions, type TensorBackend } from '@rectify/core';
import { expect } from 'vitest';
import type { BackendFactory } from './replay.js';

/** A small trained optimizer whose every piece of state a bad call must leave alone. */
export interface Fixture {
  readonly backend: TensorBackend<any>;
  readonly optimizer: RAdam<TensorBackend<any>>;
  readonly params: { w: unknown; b: unknown };
  grad(name: 'w' | 'b', values?: number[]): unknown;
}

/** The fixture's `w` parameter, shape `[2, 3]`. */
export const W = [0.5, -0.25, 0.125, 1, -1, 0.75];
/** The fixture's `b` parameter, shape `[3]`. */
export const B = [0.1, -0.2, 0.3];

/** An optimizer over `{ w, b }` on a fresh backend, after three steps with `options`. */
export async function trainedFixture(createBackend: BackendFactory, options: RAdamOptions = {}): Promise<Fixture> {
  const backend = await createBackend();
  const optimizer = new RAdam(backend, { lr: 0.01, weightDecay: 0.01, gradClipNorm: 10, ...options });
  const params = { w: backend.fromArray(W, [2, 3]), b: backend.fromArray(B, [3]) };
  optimizer.registerTrainableWeights(params);
  const grad = (name: 'w' | 'b', values?: number[]): unknown =>
    name === 'w'
      ? backend.fromArray(values ?? W.map((x, i) => x * 0.3 - i * 0.05), [2, 3])
      : backend.fromArray(values ?? B.map((x) => -x), [3]);
  for (let i = 0; i < 3; i++) await optimizer.step({ w: grad('w'), b: grad('b') });
  return { backend, optimizer, params, grad };
}

/** Everything observable about the fixture, copied to the host. */
export async function snapshot(fixture: Fixture): Promise<unknown> {
  const { backend, optimizer, params } = fixture;
  const state = async (name: string): Promise<unknown> => {
    const s = await optimizer.readState(name);
    return { step: s.step, m: Array.from(s.firstMoment), v: Array.from(s.secondMoment) };
  };
  return {
    w: Array.from(await backend.read(params.w)),
    b: Array.from(await backend.read(params.b)),
    wState: await state('w'),
    bState: await state('b'),
    stepCount: optimizer.stepCount,
    skippedSteps: optimizer.skippedSteps,
    lrs: optimizer.groupLrs,
    groups: optimizer.paramGroups,
    options: JSON.stringify(optimizer.options),
    halted: optimizer.haltedBy?.code,
  };
}

/** Asserts that `attempt` fails with a `RectifyError` of `code` and changes nothing. */
export async function expectRejectedUnchanged(
  fixture: Fixture,
  attempt: () => unknown,
  code: RectifyError['code'],
  parameter?: string,
): Promise<void> {
  const before = await snapshot(fixture);
  let caught: unknown;
  try {
    await attempt();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a ${code} error`).toBeInstanceOf(RectifyError);
  expect((caught as RectifyError).code).toBe(code);
  if (parameter !== undefined) expect((caught as RectifyError).parameter).toBe(parameter);
  expect((caught as RectifyError).message.length).toBeGreaterThan(10);
  expect(await snapshot(fixture)).toEqual(before);
}

