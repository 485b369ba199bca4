// The subset of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto, proto2 syntax) that tree
// ensembles need, as a protobufjs JSON descriptor: no .proto file is read or downloaded at runtime.
// Field numbers are onnx.proto's; repeated scalars are written packed (every protobuf parser,
// ORT's included, accepts packed and unpacked encodings of repeated scalars).

import protobuf from 'protobufjs';

const packed = { packed: true };

const descriptor = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            ir_version: { type: 'int64', id: 1 },
            producer_name: { type: 'string', id: 2 },
            producer_version: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            model_version: { type: 'int64', id: 5 },
            doc_string: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opset_import: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadata_props: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            doc_string: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            op_type: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            domain: { type: 'string', id: 7 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            floats: { rule: 'repeated', type: 'float', id: 7, options: packed },
            ints: { rule: 'repeated', type: 'int64', id: 8, options: packed },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            type: { type: 'int32', id: 20 },
          },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
        TypeProto: { fields: { tensor_type: { type: 'TypeProtoTensor', id: 1 } } },
        TypeProtoTensor: { fields: { elem_type: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
        TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } } },
        Dimension: { fields: { dim_value: { type: 'int64', id: 1 }, dim_param: { type: 'string', id: 2 } } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
export const ModelProto = root.lookupType('onnx.ModelProto');

/** AttributeProto.AttributeType values. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;
/** TensorProto.DataType values. */
export const ElemType = { FLOAT: 1, STRING: 8, INT64: 7 } as const;

export type Attr =
  | { name: string; type: typeof AttrType.FLOAT; f: number }
  | { name: string; type: typeof AttrType.INT; i: number }
  | { name: string; type: typeof AttrType.STRING; s: Uint8Array }
  | { name: string; type: typeof AttrType.FLOATS; floats: number[] }
  | { name: string; type: typeof AttrType.INTS; ints: number[] }
  | { name: string; type: typeof AttrType.STRINGS; strings: Uint8Array[] };

const utf8 = (s: string) => new TextEncoder().encode(s);
export const attrFloat = (name: string, f: number): Attr => ({ name, type: AttrType.FLOAT, f });
export const attrInt = (name: string, i: number): Attr => ({ name, type: AttrType.INT, i });
export const attrString = (name: string, s: string): Attr => ({ name, type: AttrType.STRING, s: utf8(s) });
export const attrFloats = (name: string, floats: number[]): Attr => ({ name, type: AttrType.FLOATS, floats });
export const attrInts = (name: string, ints: number[]): Attr => ({ name, type: AttrType.INTS, ints });
export const attrStrings = (name: string, strings: string[]): Attr => ({ name, type: AttrType.STRINGS, strings: strings.map(utf8) });

/** A tensor value info with a symbolic batch dimension `N` and fixed other dims. */
export function tensorInfo(name: string, elemType: number, dims: (number | string)[]) {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const err = ModelProto.verify(model);
  if (err) throw new Error(`internal error: invalid ONNX model: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}
