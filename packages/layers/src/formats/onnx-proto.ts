/**
 * ONNX's messages (onnx/onnx.proto, IR version 8), the fields gradlab's exporter writes, by number:
 *
 *   ModelProto        1 ir_version, 2 producer_name, 3 producer_version, 7 graph, 8 opset_import
 *   OperatorSetId     1 domain, 2 version
 *   GraphProto        1 node, 2 name, 5 initializer, 11 input, 12 output
 *   NodeProto         1 input, 2 output, 3 name, 4 op_type, 5 attribute
 *   AttributeProto    1 name, 2 f, 3 i, 4 s, 7 floats, 8 ints, 9 strings, 20 type
 *   TensorProto       1 dims, 2 data_type, 8 name, 9 raw_data (little-endian values)
 *   ValueInfoProto    1 name, 2 type → TypeProto 1 tensor_type → 1 elem_type, 2 shape → 1 dim → 1 dim_value | 2 dim_param
 */
import { bytes, float, int, message, string } from './protobuf.js';

export const IR_VERSION = 8;
export const OPSET = 17; // LayerNormalization is an ONNX op from opset 17

/** TensorProto.DataType. */
export const FLOAT = 1, INT32 = 6, INT64 = 7;

const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7, strings: 8 } as const;

export type AttributeValue =
  | { float: number } | { int: number } | { string: string }
  | { floats: readonly number[] } | { ints: readonly number[] } | { strings: readonly string[] };

function attribute(name: string, value: AttributeValue): Uint8Array {
  const fields = [string(1, name)];
  if ('float' in value) fields.push(float(2, value.float), int(20, ATTRIBUTE_TYPE.float));
  else if ('int' in value) fields.push(int(3, value.int), int(20, ATTRIBUTE_TYPE.int));
  else if ('string' in value) fields.push(string(4, value.string), int(20, ATTRIBUTE_TYPE.string));
  else if ('floats' in value) fields.push(...value.floats.map((f) => float(7, f)), int(20, ATTRIBUTE_TYPE.floats));
  else if ('ints' in value) fields.push(...value.ints.map((i) => int(8, i)), int(20, ATTRIBUTE_TYPE.ints));
  else fields.push(...value.strings.map((s) => string(9, s)), int(20, ATTRIBUTE_TYPE.strings));
  return message(...fields);
}

export function node(opType: string, inputs: readonly string[], outputs: readonly string[], name: string, attributes: Record<string, AttributeValue> = {}): Uint8Array {
  return message(
    ...inputs.map((i) => string(1, i)), ...outputs.map((o) => string(2, o)), string(3, name), string(4, opType),
    ...Object.entries(attributes).map(([n, v]) => bytes(5, attribute(n, v))),
  );
}

export function tensor(name: string, dims: readonly number[], dataType: number, raw: Uint8Array): Uint8Array {
  return message(...dims.map((d) => int(1, d)), int(2, dataType), string(8, name), bytes(9, raw));
}

/** A graph input or output: its element type and shape, each dimension a size or a name (for sizes known only at run time). */
export function valueInfo(name: string, elemType: number, shape: ReadonlyArray<number | string> | null): Uint8Array {
  const dims = shape === null ? [] : [bytes(2, message(...shape.map((d) => bytes(1, typeof d === 'number' ? int(1, d) : string(2, d)))))];
  return message(string(1, name), bytes(2, message(bytes(1, message(int(1, elemType), ...dims)))));
}

export interface GraphParts { name: string; nodes: Uint8Array[]; initializers: Uint8Array[]; inputs: Uint8Array[]; outputs: Uint8Array[] }

export function model(graph: GraphParts, producerVersion: string): Uint8Array {
  const graphProto = message(
    ...graph.nodes.map((n) => bytes(1, n)), string(2, graph.name), ...graph.initializers.map((t) => bytes(5, t)),
    ...graph.inputs.map((v) => bytes(11, v)), ...graph.outputs.map((v) => bytes(12, v)),
  );
  return message(int(1, IR_VERSION), string(2, 'gradlab'), string(3, producerVersion), bytes(7, graphProto),
    bytes(8, message(string(1, ''), int(2, OPSET))));
}
