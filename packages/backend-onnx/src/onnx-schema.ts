import protobuf from 'protobufjs/light.js';

/**
 * The subset of the official ONNX schema (`onnx/onnx.proto`, package `onnx`, proto2) that
 * Rectify writes and reads, as a protobufjs reflection descriptor. Field names and numbers
 * are the official ones, so every ONNX tool (ONNX Runtime, `onnx.load` in Python, Netron)
 * reads what protobufjs encodes with it. Messages and fields Rectify never emits
 * (training info, sparse tensors, functions, sequence/map types) are left out: a protobuf
 * decoder skips unknown fields, so files written by other tools still decode.
 *
 * Repeated numeric fields carry `packed: true` exactly where `onnx.proto` declares it.
 *
 * @example
 * ```ts
 * const root = protobuf.Root.fromJSON(ONNX_SCHEMA_JSON); // e.g. to decode with another protobufjs copy
 * ```
 */
export const ONNX_SCHEMA_JSON = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            refAttrName: { type: 'string', id: 21 },
            docString: { type: 'string', id: 13 },
            type: { type: 'AttributeType', id: 20 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'GraphProto', id: 6 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            tensors: { rule: 'repeated', type: 'TensorProto', id: 10 },
            graphs: { rule: 'repeated', type: 'GraphProto', id: 11 },
          },
          nested: {
            AttributeType: {
              values: {
                UNDEFINED: 0,
                FLOAT: 1,
                INT: 2,
                STRING: 3,
                TENSOR: 4,
                GRAPH: 5,
                FLOATS: 6,
                INTS: 7,
                STRINGS: 8,
                TENSORS: 9,
                GRAPHS: 10,
                SPARSE_TENSOR: 11,
                SPARSE_TENSORS: 12,
              },
            },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            docString: { type: 'string', id: 3 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            domain: { type: 'string', id: 7 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 },
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        StringStringEntryProto: {
          fields: {
            key: { type: 'string', id: 1 },
            value: { type: 'string', id: 2 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1, options: { packed: false } },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4, options: { packed: true } },
            int32Data: { rule: 'repeated', type: 'int32', id: 5, options: { packed: true } },
            stringData: { rule: 'repeated', type: 'bytes', id: 6 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7, options: { packed: true } },
            name: { type: 'string', id: 8 },
            docString: { type: 'string', id: 12 },
            rawData: { type: 'bytes', id: 9 },
            doubleData: { rule: 'repeated', type: 'double', id: 10, options: { packed: true } },
            uint64Data: { rule: 'repeated', type: 'uint64', id: 11, options: { packed: true } },
          },
          nested: {
            DataType: {
              values: {
                UNDEFINED: 0,
                FLOAT: 1,
                UINT8: 2,
                INT8: 3,
                UINT16: 4,
                INT16: 5,
                INT32: 6,
                INT64: 7,
                STRING: 8,
                BOOL: 9,
                FLOAT16: 10,
                DOUBLE: 11,
                UINT32: 12,
                UINT64: 13,
                COMPLEX64: 14,
                COMPLEX128: 15,
                BFLOAT16: 16,
              },
            },
          },
        },
        TensorShapeProto: {
          fields: {
            dim: { rule: 'repeated', type: 'Dimension', id: 1 },
          },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: {
                dimValue: { type: 'int64', id: 1 },
                dimParam: { type: 'string', id: 2 },
                denotation: { type: 'string', id: 3 },
              },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: {
            tensorType: { type: 'Tensor', id: 1 },
            denotation: { type: 'string', id: 6 },
          },
          nested: {
            Tensor: {
              fields: {
                elemType: { type: 'int32', id: 1 },
                shape: { type: 'TensorShapeProto', id: 2 },
              },
            },
          },
        },
        OperatorSetIdProto: {
          fields: {
            domain: { type: 'string', id: 1 },
            version: { type: 'int64', id: 2 },
          },
        },
      },
    },
  },
} as const;

/**
 * ONNX `TensorProto.DataType` codes of the element types Rectify uses.
 *
 * @example
 * ```ts
 * const isDouble = valueInfo.type.tensorType.elemType === ONNX_DATA_TYPE.DOUBLE;
 * ```
 */
export const ONNX_DATA_TYPE = Object.freeze({ FLOAT: 1, BOOL: 9, DOUBLE: 11, INT64: 7 } as const);

/**
 * ONNX `AttributeProto.AttributeType` codes of the attribute kinds Rectify uses.
 *
 * @example
 * ```ts
 * const keepdims = { name: 'keepdims', type: ONNX_ATTRIBUTE_TYPE.INT, i: 0 };
 * ```
 */
export const ONNX_ATTRIBUTE_TYPE = Object.freeze({ FLOAT: 1, INT: 2, INTS: 7 } as const);

let root: protobuf.Root | undefined;

/**
 * The protobufjs `Type` of one ONNX message (`'ModelProto'`, `'GraphProto'`, …), built
 * from {@link ONNX_SCHEMA_JSON} on first use. Field names are camelCase (protobufjs'
 * convention); the wire format is the official one.
 *
 * @example
 * ```ts
 * const Model = onnxMessage('ModelProto');
 * const bytes = Model.encode(Model.fromObject({ irVersion: 8, graph: { name: 'g' } })).finish();
 * const model = Model.toObject(Model.decode(bytes), { longs: Number });
 * ```
 */
export function onnxMessage(name: OnnxMessageName): protobuf.Type {
  root ??= protobuf.Root.fromJSON(ONNX_SCHEMA_JSON as unknown as protobuf.INamespace);
  return root.lookupType(`onnx.${name}`);
}

/**
 * Names of the ONNX messages {@link onnxMessage} knows.
 *
 * @example
 * ```ts
 * const name: OnnxMessageName = 'GraphProto';
 * ```
 */
export type OnnxMessageName =
  | 'ModelProto'
  | 'GraphProto'
  | 'NodeProto'
  | 'ValueInfoProto'
  | 'TypeProto'
  | 'TensorProto'
  | 'TensorShapeProto'
  | 'AttributeProto'
  | 'OperatorSetIdProto'
  | 'StringStringEntryProto';
