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
  const where = parameter === undefined ? '' : ` naming "${parameter}"`;
  if (caught === undefined) {
    // What a broken backend looks like from here: say what it did, not "undefined".
    expect.fail(
      `expected a RectifyError ${code}${where}, but the call completed (a backend check that should have caught it, ` +
        `e.g. allFinite or isTensor, let it through); state ${JSON.stringify(await snapshot(fixture)) === JSON.stringify(before) ? 'unchanged' : 'CHANGED'}`,
    );
  }
  if (!(caught instanceof RectifyError)) {
    expect.fail(`expected a RectifyError ${code}${where}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  }
  expect(caught.code, `error code (message: ${caught.message})`).toBe(code);
  if (parameter !== undefined) expect(caught.parameter, `the parameter the ${code} error names`).toBe(parameter);
  expect(caught.message.length).toBeGreaterThan(10);
  const after = await snapshot(fixture);
  if (JSON.stringify(after) !== JSON.stringify(before)) {
    expect.fail(`the ${code} error was thrown, but the optimizer changed: ${describeChanges(before, after)}`);
  }
}


/** The fields of two snapshots that differ, named, with the first differing element of each. */
function describeChanges(before: unknown, after: unknown): string {
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  const changes: string[] = [];
  for (const key of Object.keys(a)) {
    const x = JSON.stringify(a[key]);
    const y = JSON.stringify(b[key]);
    if (x === y) continue;
    if (Array.isArray(a[key]) && Array.isArray(b[key])) {
      const xs = a[key] as unknown[];
      const ys = b[key] as unknown[];
      const i = xs.findIndex((v, k) => JSON.stringify(v) !== JSON.stringify(ys[k]));
      changes.push(`${key}[${i}] ${JSON.stringify(xs[i])} → ${JSON.stringify(ys[i])}`);
    } else {
      changes.push(`${key} ${x.slice(0, 80)} → ${(y ?? 'undefined').slice(0, 80)}`);
    }
  }
  return changes.join('; ');
}

/** A value of the gradient `w`'s size (6 elements) that `backend` does not take for a tensor. */
export function foreignValueFor(backend: TensorBackend<unknown>): unknown {
  const values = [1, 2, 3, 4, 5, 6];
  const otherFloat = backend.dtype === 'float64' ? Float32Array.from(values) : Float64Array.from(values);
  const candidates: unknown[] = [values, otherFloat, { length: 6, 0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 5: 6 }, 'not a tensor'];
  const foreign = candidates.find((candidate) => !backend.isTensor(candidate));
  if (foreign === undefined) throw new Error(`${backend.name}.isTensor accepts every candidate non-tensor: pass options.foreignValue`);
  return foreign;
}
