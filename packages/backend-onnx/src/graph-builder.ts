import { ONNX_ATTRIBUTE_TYPE, ONNX_DATA_TYPE, onnxMessage } from './onnx-schema.js';

/**
 * Element types the graphs are built for.
 *
 * @example
 * ```ts
 * const type: OnnxElementType = 'float32';
 * ```
 */
export type OnnxElementType = 'float32' | 'float64';

/**
 * The ONNX operator set every Rectify graph imports (the default `ai.onnx` domain). 17
 * (ONNX 1.12, 2022) is old enough for every maintained runtime and has every operator used.
 *
 * @example
 * ```ts
 * console.log(`needs an ONNX runtime with opset ${OPSET_VERSION}`);
 * ```
 */
export const OPSET_VERSION = 17;

/**
 * The ONNX IR version Rectify writes: 8 is what opset 17 shipped with (ONNX 1.12).
 *
 * @example
 * ```ts
 * const model = onnxMessage('ModelProto').decode(bytes); // model.irVersion == IR_VERSION
 * ```
 */
export const IR_VERSION = 8;

/**
 * ONNX `TensorProto.DataType` code of an element type.
 *
 * @example
 * ```ts
 * onnxDataType('float64'); // 11 (DOUBLE)
 * ```
 */
export function onnxDataType(type: OnnxElementType): number {
  return type === 'float64' ? ONNX_DATA_TYPE.DOUBLE : ONNX_DATA_TYPE.FLOAT;
}

/**
 * A dimension of a declared input or output: a number, a symbolic name (`'n'`), or
 * the whole shape left unknown with `undefined` (any rank).
 *
 * @example
 * ```ts
 * const vector: DeclaredShape = ['n']; const scalar: DeclaredShape = []; const any: DeclaredShape = undefined;
 * ```
 */
export type DeclaredShape = readonly (number | string)[] | undefined;

/**
 * A node attribute: a float (`f`), an int (`i`) or a list of ints (`ints`).
 *
 * @example
 * ```ts
 * g.op('ReduceSum', [x], 'sum', { keepdims: { i: 0 } });
 * ```
 */
export type AttributeValue = { readonly f: number } | { readonly i: number } | { readonly ints: readonly number[] };

interface ValueInfo {
  readonly name: string;
  readonly type: { readonly tensorType: { readonly elemType: number; readonly shape?: unknown } };
  readonly docString: string;
}

function valueInfo(name: string, elemType: number, shape: DeclaredShape, doc: string): ValueInfo {
  const tensorType =
    shape === undefined
      ? { elemType }
      : {
          elemType,
          shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        };
  return { name, type: { tensorType }, docString: doc };
}

function attribute(name: string, value: AttributeValue): Record<string, unknown> {
  if ('f' in value) return { name, type: ONNX_ATTRIBUTE_TYPE.FLOAT, f: value.f };
  if ('i' in value) return { name, type: ONNX_ATTRIBUTE_TYPE.INT, i: value.i };
  return { name, type: ONNX_ATTRIBUTE_TYPE.INTS, ints: [...value.ints] };
}

/**
 * Assembles an ONNX graph node by node and serialises it to `ModelProto` bytes with
 * protobufjs (official schema field numbers, see `onnx-schema.ts`): no hand-written bytes.
 * Values are named by strings, as in ONNX; {@link GraphBuilder.op} generates fresh names
 * for intermediates so a graph reads like the formula it computes.
 *
 * @example
 * ```ts
 * const g = new GraphBuilder('double_it', 'float32');
 * const x = g.input('x', ['n'], 'any vector');
 * g.output(g.op('Mul', [x, g.scalar(2)], 'y'), ['n'], 'x times two');
 * const bytes = g.toModel({ docString: 'y = 2x' }); // feed to ort.InferenceSession.create
 * ```
 */
export class GraphBuilder {
  readonly #name: string;
  readonly #elemType: number;
  readonly #nodes: Record<string, unknown>[] = [];
  readonly #inputs: ValueInfo[] = [];
  readonly #outputs: ValueInfo[] = [];
  readonly #initializers: Record<string, unknown>[] = [];
  readonly #constants = new Map<string, string>();
  readonly #used = new Set<string>();

  /**
   * @param name - the graph's name (`GraphProto.name`).
   * @param type - element type of every floating-point value in the graph.
   */
  constructor(name: string, readonly type: OnnxElementType) {
    this.#name = name;
    this.#elemType = onnxDataType(type);
  }

  /** Declares a graph input of the graph's element type; returns its name. */
  input(name: string, shape: DeclaredShape, doc: string): string {
    this.#inputs.push(valueInfo(name, this.#elemType, shape, doc));
    this.#used.add(name);
    return name;
  }

  /** Declares an input of another element type (e.g. an int64 step count). */
  typedInput(name: string, elemType: number, shape: DeclaredShape, doc: string): string {
    this.#inputs.push(valueInfo(name, elemType, shape, doc));
    this.#used.add(name);
    return name;
  }

  /** Declares `value` (a node's output) as a graph output of the graph's element type. */
  output(value: string, shape: DeclaredShape, doc: string): void {
    this.#outputs.push(valueInfo(value, this.#elemType, shape, doc));
  }

  /** Declares `value` as a graph output of element type `elemType` (an ONNX code). */
  outputOf(value: string, elemType: number, shape: DeclaredShape, doc: string): void {
    this.#outputs.push(valueInfo(value, elemType, shape, doc));
  }

  /**
   * A scalar constant of the graph's element type, stored once as an initializer (not a
   * graph input, so runtimes fold it). Equal values share one initializer.
   */
  scalar(value: number): string {
    return this.scalarOf(this.type, value);
  }

  /** A scalar constant of element type `type` (see {@link GraphBuilder.scalar}). */
  scalarOf(type: OnnxElementType, value: number): string {
    const key = `${type}:${Object.is(value, -0) ? '-0' : String(value)}`;
    const existing = this.#constants.get(key);
    if (existing !== undefined) return existing;
    const name = this.#fresh(`const_${this.#constants.size}`);
    const data = type === 'float64' ? { doubleData: [value] } : { floatData: [value] };
    this.#initializers.push({ name, dataType: onnxDataType(type), dims: [], ...data });
    this.#constants.set(key, name);
    return name;
  }

  /**
   * Appends one node with a single output and returns that output's name.
   *
   * @param opType - an `ai.onnx` operator (`'Mul'`, `'Sqrt'`, …).
   * @param inputs - value names; `''` marks an omitted optional input.
   * @param output - a readable name for the result (made unique if taken).
   * @param attributes - node attributes by name.
   */
  op(opType: string, inputs: readonly string[], output?: string, attributes: Record<string, AttributeValue> = {}): string {
    const name = this.#fresh(output ?? opType.toLowerCase());
    this.#nodes.push({
      name: `${opType}_${this.#nodes.length}`,
      opType,
      input: [...inputs],
      output: [name],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return name;
  }

  /** `base` if no value has that name yet, else `base_1`, `base_2`, … */
  #fresh(base: string): string {
    let name = base;
    for (let i = 1; this.#used.has(name); i++) name = `${base}_${i}`;
    this.#used.add(name);
    return name;
  }

  /** The graph as a plain `GraphProto` object (protobufjs field names). */
  toGraph(docString = ''): Record<string, unknown> {
    return {
      name: this.#name,
      docString,
      node: this.#nodes,
      initializer: this.#initializers,
      input: this.#inputs,
      output: this.#outputs,
    };
  }

  /**
   * Serialises a `ModelProto` holding this graph: IR version {@link IR_VERSION}, opset
   * {@link OPSET_VERSION} of the default domain, and `metadata` as `metadata_props`.
   */
  toModel(options: { docString?: string; metadata?: Record<string, string> } = {}): Uint8Array {
    const Model = onnxMessage('ModelProto');
    const model = Model.fromObject({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET_VERSION }],
      producerName: '@rectify/backend-onnx',
      producerVersion: '0.1.0',
      domain: 'dev.rectify',
      modelVersion: 1,
      docString: options.docString ?? '',
      graph: this.toGraph(options.docString),
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    });
    const error = Model.verify(model);
    if (error !== null) throw new Error(`Internal error: invalid ModelProto (${error}).`);
    return Model.encode(model).finish();
  }
}
