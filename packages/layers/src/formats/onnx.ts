/**
 * ONNX export of a Sequential model's inference graph (opset 17), written by hand as protobuf
 * (onnx-proto.ts), with no ONNX library. Each layer becomes a few ONNX ops, reading and writing
 * channels-last tensors as gradlab does:
 *
 *   Dense                 MatMul, Add, activation          Activation          Relu | Sigmoid | Tanh | Softmax | Softplus
 *   Conv2D                Transpose to NCHW, Conv (kernel [out, in, kh, kw]), Transpose back, activation
 *   Max/AveragePooling2D  Transpose, MaxPool | AveragePool, Transpose      ('same' is SAME_UPPER, as TF pads)
 *   BatchNormalization    folded: x·s + t with s = γ/√(var + ε), t = β − mean·s (in float64, stored float32)
 *   LayerNormalization    LayerNormalization (axis −1)    Flatten             Flatten (axis 1)
 *   Dropout               nothing (inference)             Embedding           Gather
 *   LSTM, Bidirectional   ONNX LSTM (gates reordered i, f, c, o → i, o, f, c; kernels transposed;
 *                         hardSigmoid gates as HardSigmoid α 0.2 β 0.5)
 *
 * Masks: an Embedding with maskZero gives the LSTMs after it `sequence_lens`, the count of non-zero ids
 * in each row. That is Keras's mask only when the padding is at the end of each row (zeros inside a
 * row would be counted out in Keras, not in ONNX); LSTMs read padded rows as Keras does then, except a
 * plain LSTM returning sequences without zeroOutputForMask (Keras repeats the last output at padded
 * steps, ONNX writes zeros), which is refused.
 */
import type { Tensor } from '@gradlab/tensor';
import type { Layer } from '../layer.js';
import type { Sequential } from '../models/sequential.js';
import type { LSTM } from '../layers/recurrent.js';
import type { Bidirectional } from '../layers/wrappers.js';
import { FLOAT, INT32, INT64, model as modelProto, node, tensor, valueInfo } from './onnx-proto.js';
import type { AttributeValue } from './onnx-proto.js';

const ACTIVATIONS: Record<string, string | null> = { linear: null, relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', softmax: 'Softmax', softplus: 'Softplus' };
const TO_NCHW = [0, 3, 1, 2], TO_NHWC = [0, 2, 3, 1];

/** The graph under construction: nodes and initializers, with fresh names. */
class GraphBuilder {
  readonly nodes: Uint8Array[] = [];
  readonly initializers: Uint8Array[] = [];
  private count = 0;

  fresh(hint: string): string { return `${hint}_${this.count++}`; }

  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, outputs = 1, hint = opType): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(hint));
    this.nodes.push(node(opType, inputs, names, this.fresh(`${hint}_node`), attributes));
    return names;
  }

  one(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}): string {
    return this.op(opType, inputs, attributes)[0];
  }

  floats(hint: string, values: Float32Array, dims: readonly number[]): string {
    const name = this.fresh(hint);
    this.initializers.push(tensor(name, dims, FLOAT, new Uint8Array(values.buffer, values.byteOffset, values.byteLength)));
    return name;
  }

  int64s(hint: string, values: readonly number[]): string {
    const name = this.fresh(hint);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push(tensor(name, [values.length], INT64, new Uint8Array(data.buffer)));
    return name;
  }

  int32Scalar(hint: string, value: number): string {
    const name = this.fresh(hint);
    this.initializers.push(tensor(name, [], INT32, new Uint8Array(Int32Array.of(value).buffer)));
    return name;
  }

  activation(x: string, name: string, where: string): string {
    if (!(name in ACTIVATIONS)) throw new Error(`exportOnnx: ${where} has activation '${name}', which the exporter does not map`);
    const op = ACTIVATIONS[name];
    if (op === null) return x;
    return this.one(op, [x], op === 'Softmax' ? { axis: { int: -1 } } : {});
  }
}

/** A weight as float32 values (gradlab may hold float64). */
const f32 = (t: Tensor): Float32Array => Float32Array.from(t.contiguous().dataSync() as ArrayLike<number>);

interface Flow { x: string; seqLens: string | null }

function weights(layer: Layer): Map<string, Tensor> { return new Map(layer.stateDict()); }

function pair(v: unknown): number[] { return Array.isArray(v) ? v as number[] : [v as number, v as number]; }

function padAttribute(padding: unknown): Record<string, AttributeValue> {
  return { auto_pad: { string: padding === 'same' ? 'SAME_UPPER' : 'VALID' } };
}

/** W [in, 4u] (gates i, f, c, o in blocks of u columns) as ONNX's [4u, in] in gates i, o, f, c. */
function onnxGates(w: Float32Array, rows: number, u: number): Float32Array {
  const out = new Float32Array(rows * 4 * u);
  [0, 3, 1, 2].forEach((block, k) => {
    for (let j = 0; j < u; j++) for (let r = 0; r < rows; r++) out[(k * u + j) * rows + r] = w[r * 4 * u + block * u + j];
  });
  return out;
}

/** One direction's W, R and B (W's bias then R's, which gradlab has not: zeros). */
function lstmDirection(lstm: LSTM): { W: Float32Array; R: Float32Array; B: Float32Array; features: number } {
  const w = weights(lstm), u = lstm.units;
  const kernel = w.get('kernel')!, features = kernel.shape[0];
  const B = new Float32Array(8 * u);
  B.set(onnxGates(f32(w.get('bias')!), 1, u));
  return { W: onnxGates(f32(kernel), features, u), R: onnxGates(f32(w.get('recurrentKernel')!), u, u), B, features };
}

function concatFloats(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => { out.set(p, at); return at + p.length; }, 0);
  return out;
}

/** An LSTM or a Bidirectional LSTM as one ONNX LSTM node and the reshapes around it. */
function recurrent(g: GraphBuilder, cells: LSTM[], direction: 'forward' | 'reverse' | 'bidirectional', flow: Flow, options: {
  returnSequences: boolean; merge: string; reverseOutput: boolean; where: string;
}): Flow {
  const u = cells[0].units, dirs = cells.length;
  const parts = cells.map(lstmDirection);
  const W = g.floats('W', concatFloats(parts.map((p) => p.W)), [dirs, 4 * u, parts[0].features]);
  const R = g.floats('R', concatFloats(parts.map((p) => p.R)), [dirs, 4 * u, u]);
  const B = g.floats('B', concatFloats(parts.map((p) => p.B)), [dirs, 8 * u]);
  const hard = cells[0].recurrentActivation === 'hardSigmoid';
  const attributes: Record<string, AttributeValue> = { hidden_size: { int: u }, direction: { string: direction } };
  if (hard) {
    attributes.activations = { strings: cells.flatMap(() => ['HardSigmoid', 'Tanh', 'Tanh']) };
    attributes.activation_alpha = { floats: cells.map(() => 0.2) };
    attributes.activation_beta = { floats: cells.map(() => 0.5) };
  }
  const timeMajor = g.one('Transpose', [flow.x], { perm: { ints: [1, 0, 2] } });
  const [Y, Yh] = g.op('LSTM', [timeMajor, W, R, B, flow.seqLens ?? ''], attributes, 2, 'lstm');
  const mergeDirections = (x: string, axis: number): string => {
    if (dirs === 1 || options.merge === 'concat') return x;
    if (options.merge === 'sum') return g.one('ReduceSum', [x, g.int64s('axes', [axis])], { keepdims: { int: 1 } });
    return g.one(options.merge === 'ave' ? 'ReduceMean' : 'ReduceProd', [x], { axes: { ints: [axis] }, keepdims: { int: 1 } });
  };
  if (!options.returnSequences) {
    // Y_h [dirs, B, u] → [B, dirs, u] → [B, dirs·u] (concat) or merged → [B, u]
    const batchMajor = g.one('Transpose', [Yh], { perm: { ints: [1, 0, 2] } });
    return { x: g.one('Reshape', [mergeDirections(batchMajor, 1), g.int64s('shape', [0, -1])]), seqLens: null };
  }
  // Y [T, dirs, B, u] → [B, T, dirs, u] → [B, T, dirs·u]
  let y = g.one('Reshape', [mergeDirections(g.one('Transpose', [Y], { perm: { ints: [2, 0, 1, 3] } }), 2), g.int64s('shape', [0, 0, -1])]);
  if (options.reverseOutput) {
    // goBackwards: Keras returns the outputs in the order it read them, the last step first
    y = g.one('Slice', [y, g.int64s('starts', [-1]), g.int64s('ends', [Number.MIN_SAFE_INTEGER]), g.int64s('axes', [1]), g.int64s('steps', [-1])]);
  }
  return { x: y, seqLens: flow.seqLens };
}

function convert(g: GraphBuilder, layer: Layer, flow: Flow, where: string): Flow {
  const config = layer.getConfig();
  const w = weights(layer);
  const { x } = flow;
  switch (layer.className) {
    case 'Dense': {
      const kernel = w.get('kernel')!;
      let y = g.one('MatMul', [x, g.floats('kernel', f32(kernel), kernel.shape)]);
      if (w.has('bias')) y = g.one('Add', [y, g.floats('bias', f32(w.get('bias')!), w.get('bias')!.shape)]);
      return { ...flow, x: g.activation(y, String(config.activation), where) };
    }
    case 'Activation': return { ...flow, x: g.activation(x, String(config.activation), where) };
    case 'Conv2D': {
      const kernel = w.get('kernel')!;
      const [kh, kw, cin, cout] = kernel.shape;
      const k = kernel.transpose([3, 2, 0, 1]);
      const inputs = [g.one('Transpose', [x], { perm: { ints: TO_NCHW } }), g.floats('kernel', f32(k), [cout, cin, kh, kw])];
      if (w.has('bias')) inputs.push(g.floats('bias', f32(w.get('bias')!), [cout]));
      const y = g.one('Conv', inputs, { kernel_shape: { ints: [kh, kw] }, strides: { ints: pair(config.strides) }, ...padAttribute(config.padding) });
      return { ...flow, x: g.activation(g.one('Transpose', [y], { perm: { ints: TO_NHWC } }), String(config.activation), where) };
    }
    case 'MaxPooling2D': case 'AveragePooling2D': {
      const op = layer.className === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
      const y = g.one(op, [g.one('Transpose', [x], { perm: { ints: TO_NCHW } })],
        { kernel_shape: { ints: pair(config.poolSize) }, strides: { ints: pair(config.strides) }, ...padAttribute(config.padding) });
      return { ...flow, x: g.one('Transpose', [y], { perm: { ints: TO_NHWC } }) };
    }
    case 'BatchNormalization': {
      const mean = w.get('movingMean')!.dataSync(), variance = w.get('movingVariance')!.dataSync();
      const gamma = w.get('gamma')?.dataSync(), beta = w.get('beta')?.dataSync();
      const epsilon = Number(config.epsilon);
      const scale = Float32Array.from(mean, (_, i) => (gamma?.[i] ?? 1) / Math.sqrt(variance[i] + epsilon));
      const shift = Float32Array.from(mean, (m, i) => (beta?.[i] ?? 0) - m * (gamma?.[i] ?? 1) / Math.sqrt(variance[i] + epsilon));
      const y = g.one('Mul', [x, g.floats('bn_scale', scale, [scale.length])]);
      return { ...flow, x: g.one('Add', [y, g.floats('bn_shift', shift, [shift.length])]) };
    }
    case 'LayerNormalization': {
      const gamma = w.get('gamma'), beta = w.get('beta');
      const n = (gamma ?? beta)?.shape[0];
      if (n === undefined) throw new Error(`exportOnnx: ${where} has neither gamma nor beta (center and scale false); not exported`);
      const scale = gamma ? f32(gamma) : new Float32Array(n).fill(1), bias = beta ? f32(beta) : new Float32Array(n);
      return { ...flow, x: g.one('LayerNormalization', [x, g.floats('ln_scale', scale, [n]), g.floats('ln_bias', bias, [n])], { axis: { int: -1 }, epsilon: { float: Number(config.epsilon) } }) };
    }
    case 'Flatten': return { x: g.one('Flatten', [x], { axis: { int: 1 } }), seqLens: null };
    case 'Dropout': return flow;
    case 'Embedding': {
      const table = w.get('embeddings')!;
      const y = g.one('Gather', [g.floats('embeddings', f32(table), table.shape), x], { axis: { int: 0 } });
      if (!config.maskZero) return { x: y, seqLens: null };
      const real = g.one('Cast', [g.one('Not', [g.one('Equal', [x, g.int32Scalar('zero', 0)])])], { to: { int: INT32 } });
      return { x: y, seqLens: g.one('ReduceSum', [real, g.int64s('axes', [1])], { keepdims: { int: 0 } }) };
    }
    case 'LSTM': {
      const lstm = layer as LSTM;
      if (lstm.returnSequences && flow.seqLens && !lstm.zeroOutputForMask) {
        throw new Error(`exportOnnx: ${where} returns sequences under a mask: Keras repeats the last output at padded steps, ONNX's LSTM writes zeros there; export it with zeroOutputForMask: true, or without a mask`);
      }
      if (lstm.goBackwards && lstm.returnSequences && flow.seqLens) throw new Error(`exportOnnx: ${where} goes backwards and returns sequences under a mask; not exported`);
      return recurrent(g, [lstm], lstm.goBackwards ? 'reverse' : 'forward', flow,
        { returnSequences: lstm.returnSequences, merge: 'concat', reverseOutput: lstm.goBackwards, where });
    }
    case 'Bidirectional': {
      const bi = layer as Bidirectional;
      if (bi.forwardLayer.goBackwards) throw new Error(`exportOnnx: ${where} wraps an LSTM that goes backwards; not exported`);
      return recurrent(g, [bi.forwardLayer, bi.backwardLayer], 'bidirectional', flow,
        { returnSequences: bi.returnSequences, merge: bi.mergeMode, reverseOutput: false, where });
    }
    default:
      throw new Error(`exportOnnx: ${where}: the exporter has no mapping for ${layer.className} (it maps Dense, Activation, Conv2D, MaxPooling2D, ` +
        'AveragePooling2D, BatchNormalization, LayerNormalization, Flatten, Dropout, Embedding, LSTM and Bidirectional)');
  }
}

/**
 * The model's inference graph as an ONNX file's bytes: one input 'input' ([batch, …inputShape], float32,
 * or int32 ids when the first layer is an Embedding) and one output 'output'.
 */
export function exportOnnx(model: Sequential): Uint8Array {
  if (!model.built) throw new Error(`exportOnnx: model '${model.name}' is not built yet; give its first layer an inputShape`);
  if (model.layers.length === 0) throw new Error(`exportOnnx: model '${model.name}' has no layers`);
  // [batch, …] as the model was built (by its first layer's inputShape, or by model.build)
  const inputShape = model.builtInputShape!.slice(1);
  const g = new GraphBuilder();
  let flow: Flow = { x: 'input', seqLens: null };
  model.layers.forEach((layer, i) => { flow = convert(g, layer, flow, `layer #${i} '${layer.name}' (${layer.className})`); });
  g.nodes.push(node('Identity', [flow.x], ['output'], 'output_node'));
  const ids = model.layers[0].className === 'Embedding';
  const dims = ['batch', ...inputShape.map((d, i) => d ?? (i === 0 && inputShape.length > 1 ? 'time' : `d${i + 1}`))];
  return modelProto({
    name: model.name, nodes: g.nodes, initializers: g.initializers,
    inputs: [valueInfo('input', ids ? INT32 : FLOAT, dims)], outputs: [valueInfo('output', FLOAT, null)],
  }, '0.1.0');
}

// A variable, so that bundlers for the browser leave Node's file system out.
const NODE_FS = 'node:fs/promises';

/** Writes the model's ONNX file to `path` (Node) and returns its bytes. */
export async function saveOnnx(model: Sequential, path: string): Promise<Uint8Array> {
  if (typeof path !== 'string' || path === '') throw new Error(`exportOnnx: expected a file path, got ${JSON.stringify(path)}`);
  const bytes = exportOnnx(model);
  const fs = (await import(NODE_FS)) as typeof import('node:fs/promises');
  await fs.writeFile(path, bytes);
  return bytes;
}
