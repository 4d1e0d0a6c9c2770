import { describe, expect, it } from 'vitest';
import {
  IR_VERSION,
  OPSET_VERSION,
  buildNonFiniteProbeModel,
  buildRAdamKernelModel,
  buildRAdamStepModel,
  buildSumOfSquaresModel,
  onnxMessage,
} from '../src/index.js';

interface Node {
  opType: string;
  input: string[];
  output: string[];
  domain?: string;
}
interface ValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape?: unknown } };
}
interface Model {
  irVersion: number;
  opsetImport: { domain?: string; version: number }[];
  producerName: string;
  graph: { node: Node[]; input: ValueInfo[]; output: ValueInfo[]; initializer: { name: string }[] };
  metadataProps: { key: string; value: string }[];
}

const FLOAT = 1;
const DOUBLE = 11;
const INT64 = 7;

/** Decodes with protobufjs, through the same schema but independent of the builder. */
function decode(bytes: Uint8Array): Model {
  const Model = onnxMessage('ModelProto');
  return Model.toObject(Model.decode(bytes), { longs: Number, defaults: false, arrays: true }) as Model;
}

function io(values: ValueInfo[]): [string, number][] {
  return values.map((v) => [v.name, v.type.tensorType.elemType]);
}

/** Every node that (transitively) feeds `value`. */
function ancestors(nodes: Node[], value: string): Set<Node> {
  const producer = new Map(nodes.flatMap((n) => n.output.map((o) => [o, n] as const)));
  const seen = new Set<Node>();
  const stack = [value];
  while (stack.length > 0) {
    const node = producer.get(stack.pop()!);
    if (node === undefined || seen.has(node)) continue;
    seen.add(node);
    stack.push(...node.input);
  }
  return seen;
}

const STANDARD_OPS = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Sqrt', 'Neg', 'Clip', 'Where', 'Cast', 'Pow',
  'Less', 'Greater', 'GreaterOrEqual', 'ReduceSum', 'ReduceSumSquare',
]);

describe('ONNX models decode with protobufjs and have the documented interface', () => {
  it('kernel graph (float32, every stage): tensors, scalars of the tensor type, three outputs and the finiteness flag', () => {
    const model = decode(buildRAdamKernelModel('float32'));
    expect(model.irVersion).toBe(IR_VERSION);
    expect(model.irVersion).toBe(8);
    expect(model.opsetImport).toEqual([{ domain: '', version: OPSET_VERSION }]);
    expect(OPSET_VERSION).toBe(17);
    expect(model.producerName).toBe('@rectify/backend-onnx');
    expect(io(model.graph.input)).toEqual([
      ['param', FLOAT], ['grad', FLOAT], ['m', FLOAT], ['v', FLOAT],
      ['clip_value', FLOAT], ['grad_scale', FLOAT], ['weight_decay', FLOAT], ['param_scale', FLOAT],
      ['beta1', FLOAT], ['one_minus_beta1', FLOAT], ['beta2', FLOAT], ['one_minus_beta2', FLOAT],
      ['step_size', FLOAT], ['eps', FLOAT],
    ]);
    expect(io(model.graph.output)).toEqual([['param_out', FLOAT], ['m_out', FLOAT], ['v_out', FLOAT], ['non_finite', FLOAT]]);
    expect(model.graph.output[3]!.type.tensorType.shape).toEqual({ dim: [] });
    // Tensors have an open shape: one graph serves every parameter.
    expect(model.graph.input[0]!.type.tensorType.shape).toBeUndefined();
    // Scalars are rank 0.
    expect(model.graph.input[4]!.type.tensorType.shape).toEqual({ dim: [] });
    for (const node of model.graph.node) {
      expect(STANDARD_OPS.has(node.opType), node.opType).toBe(true);
      expect(node.domain ?? '').toBe('');
    }
    const count = (op: string): number => model.graph.node.filter((n) => n.opType === op).length;
    expect(count('Sqrt')).toBe(1);
    expect(count('Clip')).toBe(1);
    expect(count('Div')).toBe(1);
    // Scalars come from the host in the tensor type: no Cast, no Where, no float64 anywhere.
    expect(count('Cast')).toBe(0);
    expect(count('Where')).toBe(0);
    expect(model.metadataProps).toContainEqual({ key: 'rectify.graph', value: 'radam-kernel' });
  });

  it('kernel graph specialised to a plain step: only the scalars it uses, 12 element-wise nodes', () => {
    const plain = { gradScale: false, clip: false, weightDecay: false, paramScale: false };
    const rectified = decode(buildRAdamKernelModel('float32', { ...plain, rectified: true }));
    expect(io(rectified.graph.input).map(([name]) => name)).toEqual([
      'param', 'grad', 'm', 'v', 'beta1', 'one_minus_beta1', 'beta2', 'one_minus_beta2', 'step_size', 'eps',
    ]);
    // m' 3, v' 4, p' 5 (Sqrt, Add, Div, Mul, Sub), the flag 3 (two Muls and the ReduceSum):
    // every node is a pass over the chunk (the old option-free graph had 23 and 15 scalar nodes).
    expect(rectified.graph.node).toHaveLength(15);
    const unrectified = decode(buildRAdamKernelModel('float32', { ...plain, rectified: false }));
    expect(io(unrectified.graph.input).map(([name]) => name)).not.toContain('eps');
    expect(unrectified.graph.node.map((n) => n.opType).sort()).toEqual(
      ['Add', 'Add', 'Mul', 'Mul', 'Mul', 'Mul', 'Mul', 'Mul', 'Mul', 'Mul', 'ReduceSum', 'Sub'],
    );
  });

  it('kernel graph (float64) has float64 scalars and no casts', () => {
    const model = decode(buildRAdamKernelModel('float64'));
    expect(io(model.graph.output)).toEqual([['param_out', DOUBLE], ['m_out', DOUBLE], ['v_out', DOUBLE], ['non_finite', DOUBLE]]);
    expect(io(model.graph.input).every(([, type]) => type === DOUBLE)).toBe(true);
    expect(model.graph.node.some((n) => n.opType === 'Cast')).toBe(false);
  });

  it('numerics: v squares (1−β2)·g last, the portable step selects with a Where, the flag reads param_out and v_out', () => {
    for (const model of [decode(buildRAdamKernelModel('float32')), decode(buildRAdamStepModel({ gradClipNorm: 1 }))]) {
      const nodes = model.graph.node;
      const producer = (value: string): Node => nodes.find((n) => n.output.includes(value))!;
      // v_out = v·β2 + ((1−β2)·g)·g: the last Mul takes g itself and (1−β2)·g, never g·g.
      const vNew = producer(producer('v_out').input.find((i) => producer(i).input[0] !== 'v')!);
      expect(vNew.opType).toBe('Mul');
      const g = vNew.input[1]!;
      expect(producer(g).opType).toBe('Add'); // the decayed gradient
      const weighted = producer(vNew.input[0]!);
      expect(weighted.opType).toBe('Mul');
      expect(weighted.input[0]).toBe(g);
      expect(nodes.some((n) => n.opType === 'Mul' && n.input[0] === g && n.input[1] === g)).toBe(false);
    }
    // The portable graph does not know the step: Where(rectified, m'/denom, m'), a select over tensors.
    const portable = decode(buildRAdamStepModel({ gradClipNorm: 1 })).graph.node;
    const producer = (value: string): Node => portable.find((n) => n.output.includes(value))!;
    const direction = producer(producer(producer('param_out').input[1]!).input[0]!);
    expect(direction.opType).toBe('Where');
    expect(direction.input[2]).toBe('m_out');
    expect(producer(direction.input[1]!).opType).toBe('Div');
    // The kernel graph's flag is computed from param_out and v_out, in the same graph.
    const kernel = decode(buildRAdamKernelModel('float32')).graph.node;
    const flagInputs = new Set([...ancestors(kernel, 'non_finite')].flatMap((n) => n.input));
    for (const output of ['param_out', 'v_out']) expect(flagInputs.has(output), output).toBe(true);
  });

  it('in-place safety: every reader of param, m and v runs before the node writing its output', () => {
    // The backend binds param_out/m_out/v_out to the param/m/v buffers. That is only safe if
    // no node reads an input after the node producing its aliased output has written it,
    // i.e. every reader of X is an ancestor of X_out's producer.
    for (const model of [decode(buildRAdamKernelModel('float32')), decode(buildRAdamStepModel({ gradClipNorm: 1 }))]) {
      const nodes = model.graph.node;
      for (const [input, output] of [['param', 'param_out'], ['m', 'm_out'], ['v', 'v_out']] as const) {
        const upstream = ancestors(nodes, output);
        const readers = nodes.filter((n) => n.input.includes(input));
        expect(readers.length).toBeGreaterThan(0);
        for (const reader of readers) expect(upstream.has(reader), `${reader.opType} reads ${input}`).toBe(true);
      }
    }
  });

  it('portable step graph: lr, step and (with norm clipping) grad_norm inputs', () => {
    const plain = decode(buildRAdamStepModel({}, { dtype: 'float64' }));
    expect(io(plain.graph.input)).toEqual([
      ['param', DOUBLE], ['grad', DOUBLE], ['m', DOUBLE], ['v', DOUBLE], ['lr', DOUBLE], ['step', INT64],
    ]);
    expect(io(plain.graph.output)).toEqual([['param_out', DOUBLE], ['m_out', DOUBLE], ['v_out', DOUBLE]]);
    const clipped = decode(buildRAdamStepModel({ gradClipNorm: 1, compat: 'torch' }));
    expect(io(clipped.graph.input).map(([name]) => name)).toEqual(['param', 'grad', 'm', 'v', 'lr', 'step', 'grad_norm']);
    const options = clipped.metadataProps.find((p) => p.key === 'rectify.options');
    expect(JSON.parse(options!.value)).toMatchObject({ gradClipNorm: 1, compat: 'torch', betas: [0.9, 0.999] });
    for (const node of clipped.graph.node) expect(STANDARD_OPS.has(node.opType), node.opType).toBe(true);
    expect(clipped.graph.node.filter((n) => n.opType === 'Pow')).toHaveLength(2);
  });

  it('reduction graphs', () => {
    const sum = decode(buildSumOfSquaresModel('float32'));
    expect(io(sum.graph.input)).toEqual([['x', FLOAT]]);
    expect(io(sum.graph.output)).toEqual([['sum_squares', DOUBLE]]);
    expect(sum.graph.node.map((n) => n.opType)).toEqual(['Cast', 'ReduceSumSquare']);
    const probe = decode(buildNonFiniteProbeModel('float64'));
    expect(io(probe.graph.output)).toEqual([['non_finite_probe', DOUBLE]]);
    expect(probe.graph.node.map((n) => n.opType)).toEqual(['Mul', 'ReduceSum']);
  });
});
