/**
 * The model of `pnpm bench --checkpoint`: parameter shapes split like a GPT-style
 * transformer (one large token embedding, a few large matrices per layer, many small
 * biases and norms), an optimizer over them on any bench backend, and a digest of its
 * whole state.
 */
import { RAdam, type TensorBackend } from '@rectify/core';
import { createHash } from 'node:crypto';
import { findBenchBackend } from './bench-backends.js';

/** One parameter: its name and element count. */
export interface ParamShape {
  readonly name: string;
  readonly size: number;
}

/**
 * About `targetParams` parameters as a transformer: width 1024 (256 below 50M
 * parameters), 4× MLP, learned positions over 1024 tokens, and as many layers as fit in
 * 86% of the budget; the vocabulary takes the rest.
 */
export function transformerShapes(targetParams: number): ParamShape[] {
  const d = targetParams >= 50e6 ? 1024 : 256;
  const layer: [string, number][] = [
    ['ln_1.weight', d],
    ['ln_1.bias', d],
    ['attn.c_attn.weight', d * 3 * d],
    ['attn.c_attn.bias', 3 * d],
    ['attn.c_proj.weight', d * d],
    ['attn.c_proj.bias', d],
    ['ln_2.weight', d],
    ['ln_2.bias', d],
    ['mlp.c_fc.weight', d * 4 * d],
    ['mlp.c_fc.bias', 4 * d],
    ['mlp.c_proj.weight', 4 * d * d],
    ['mlp.c_proj.bias', d],
  ];
  const perLayer = layer.reduce((sum, [, size]) => sum + size, 0);
  const layers = Math.max(1, Math.round((0.86 * targetParams) / perLayer));
  const fixed = 1024 * d + 2 * d; // positions and the final norm
  const vocab = Math.max(16, Math.round((targetParams - layers * perLayer - fixed) / d));
  const shapes: ParamShape[] = [
    { name: 'wte.weight', size: vocab * d },
    { name: 'wpe.weight', size: 1024 * d },
  ];
  for (let l = 0; l < layers; l++) for (const [name, size] of layer) shapes.push({ name: `h.${l}.${name}`, size });
  shapes.push({ name: 'ln_f.weight', size: d }, { name: 'ln_f.bias', size: d });
  return shapes;
}

/** A fast deterministic fill (xorshift32 to [-1, 1)): the same values in every process. */
export function fillPseudoRandom(array: Float32Array, seed: number): Float32Array {
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < array.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    array[i] = ((x >>> 0) / 2 ** 31) - 1;
  }
  return array;
}

/** The optimizer of a bench process, on one backend, and its parameters. */
export interface BenchModel {
  readonly opt: RAdam<TensorBackend<unknown>>;
  readonly backend: TensorBackend<unknown>;
  readonly params: Record<string, unknown>;
  readonly shapes: readonly ParamShape[];
}

/** The backends the checkpoint bench resumes on (issue: bit-exact on each of them). */
export const CHECKPOINT_BACKENDS = ['cpu', 'cpu-wasm', 'tfjs-cpu', 'onnx'] as const;

/**
 * An optimizer over `shapes` on the bench backend `backendName`, parameters pseudo-random
 * (`seed`) or all `fill`, then one step: every page of every parameter and moment is then
 * written (large zeroed allocations are mapped lazily by the OS), so that RSS counts the
 * optimizer's own memory before anything is measured.
 */
export async function buildModel(
  shapes: readonly ParamShape[],
  init: { readonly seed: number } | { readonly fill: number },
  backendName: string = 'cpu',
): Promise<BenchModel> {
  const entry = findBenchBackend(backendName);
  if (entry === undefined) throw new Error(`unknown backend ${backendName}`);
  const backend = (await entry.create()) as TensorBackend<unknown>;
  const opt = new RAdam(backend, { lr: 1e-3, weightDecay: 0.01 });
  const params: Record<string, unknown> = {};
  const largest = Math.max(...shapes.map((s) => s.size));
  const host = new Float32Array(largest);
  shapes.forEach(({ name, size }, i) => {
    const view = host.subarray(0, size);
    params[name] = backend.fromArray('seed' in init ? fillPseudoRandom(view, init.seed + i) : view.fill(init.fill), [size]);
  });
  opt.registerTrainableWeights(params);
  const model = { opt, backend, params, shapes };
  await stepModel(model, 0);
  return model;
}

/**
 * One step with pseudo-random gradients (`seed`): views into one scratch array as long as
 * the largest tensor where the backend takes plain `Float32Array`s (cpu, cpu-wasm) or wraps
 * them (onnx); backend copies otherwise (tfjs), released after the step.
 */
export async function stepModel(model: BenchModel, seed: number): Promise<void> {
  const { backend } = model;
  const largest = Math.max(...model.shapes.map((s) => s.size));
  const scratch = fillPseudoRandom(new Float32Array(largest), seed);
  const wrap = (backend as { wrap?: (data: Float32Array) => unknown }).wrap?.bind(backend);
  const plain = backend.isTensor(scratch);
  const grads: Record<string, unknown> = {};
  const copies: unknown[] = [];
  for (const { name, size } of model.shapes) {
    const view = scratch.subarray(0, size);
    if (plain) grads[name] = view;
    else if (wrap !== undefined) grads[name] = wrap(view);
    else copies.push((grads[name] = backend.fromArray(view, [size])));
  }
  try {
    await model.opt.step(grads);
  } finally {
    for (const copy of copies) backend.disposeTensor(copy);
  }
}

/** SHA-256 over every parameter, moment and step count, in registration order: equal digests, bit-equal states. */
export async function stateDigest(model: BenchModel): Promise<string> {
  const hash = createHash('sha256');
  const add = (array: Float32Array | Float64Array): void => {
    hash.update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  };
  for (const { name } of model.shapes) {
    const state = await model.opt.readState(name);
    add(state.firstMoment);
    add(state.secondMoment);
    add(await model.backend.read(model.params[name]));
    hash.update(`${name}:${state.step};`);
  }
  hash.update(`stepCount:${model.opt.stepCount}`);
  return hash.digest('hex');
}
