/**
 * Turning examples into batches: the host-side copy that Dataset.batch and bucketBySequenceLength do.
 *
 * An example is `{ x, y?, mask?, sampleWeight? }`; each field (a "leaf") is a Tensor, a typed array (a
 * 1-D tensor of its own dtype) or a number. A batch stacks each field along a new first axis. When the
 * examples' x have different first-axis lengths (sequences of different lengths), every sequence field
 * is padded at the end to the longest one with `padValue`, and the batch gets the mask this implies,
 * [batch, time] with 1 for real steps and 0 for padding (what the model passes its layers, so padding
 * stays out of an LSTM and of BatchNorm's statistics).
 *
 * Numbers stack to int32 when every one is an integer (class labels), else to float32.
 */
import { Tensor, fromTypedArray, formatShape } from '@gradlab/tensor';
import type { DType, TypedArray } from '@gradlab/tensor';

export type Leaf = Tensor | TypedArray | number;

/** One example, as a dataset yields it before batching. */
export interface Example {
  x: Leaf;
  y?: Leaf;
  /** [time] of 1 (real step) and 0 (padding). */
  mask?: Leaf;
  /** This example's weight in the loss (Keras's sample_weight). */
  sampleWeight?: Leaf;
}

/** A batch, as fit, evaluate and predict take it. */
export interface Batch {
  x: Tensor;
  y?: Tensor;
  /** [batch, time]: 1 for real steps, 0 for padding; given to the first layer. */
  mask?: Tensor;
  /** [batch]: each example's weight in the loss. */
  sampleWeight?: Tensor;
}

export interface BatchOptions {
  /** What padding is filled with. Default 0. */
  padValue?: number;
  /**
   * Make the mask of the padding: 'auto' (default) when the batch was padded, true always (all ones
   * when nothing was padded), false never (when the model masks by itself, as Embedding's maskZero).
   */
  mask?: boolean | 'auto';
}

/** A leaf's values on the host, its shape and dtype. */
interface HostLeaf { values: TypedArray; shape: readonly number[]; dtype: DType }

const FIELDS = ['x', 'y', 'mask', 'sampleWeight'] as const;

function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Float64Array) return 'float64';
  return 'float32';
}

async function hostLeaf(leaf: Leaf, where: string): Promise<HostLeaf> {
  if (leaf instanceof Tensor) return { values: await leaf.data(), shape: leaf.shape, dtype: leaf.dtype };
  if (ArrayBuffer.isView(leaf)) return { values: leaf, shape: [leaf.length], dtype: dtypeOfArray(leaf) };
  if (typeof leaf === 'number') return { values: Float64Array.of(leaf), shape: [], dtype: 'float32' };
  throw new Error(`Dataset.batch: ${where} is ${Object.prototype.toString.call(leaf)}; expected a Tensor, a typed array or a number`);
}

function allocate(dtype: DType, length: number): TypedArray {
  return dtype === 'int32' ? new Int32Array(length) : dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
}

/** Stack one field of every example, padding the first axis to `time` when the leaves are sequences. */
function stackField(leaves: HostLeaf[], field: string, time: number | null, padValue: number): Tensor {
  const first = leaves[0];
  const rest = first.shape.slice(1);
  const restSize = rest.reduce((a, b) => a * b, 1);
  const padded = time !== null && first.shape.length > 0;
  for (const [i, leaf] of leaves.entries()) {
    const sameRest = leaf.shape.length === first.shape.length && leaf.shape.slice(padded ? 1 : 0).every((d, k) => d === (padded ? rest : first.shape)[k]);
    if (!sameRest) {
      throw new Error(`Dataset.batch: example ${i} has ${field} ${formatShape(leaf.shape)}, example 0 has ${formatShape(first.shape)}; ` +
        (padded ? 'only the first axis (time) may differ' : 'all must have the same shape'));
    }
  }
  const allIntegers = first.shape.length === 0 && leaves.every((l) => Number.isInteger(l.values[0]));
  const dtype = first.shape.length === 0 ? (allIntegers ? 'int32' : 'float32') : first.dtype;
  const exampleSize = padded ? time * restSize : first.values.length;
  const out = allocate(dtype, leaves.length * exampleSize);
  if (padded && padValue !== 0) out.fill(padValue);
  leaves.forEach((l, i) => out.set(l.values, i * exampleSize));
  const shape = padded ? [leaves.length, time, ...rest] : [leaves.length, ...first.shape];
  return fromTypedArray(out, shape);
}

/** Stack examples into one batch (see the top of this file). */
export async function stackExamples(examples: readonly Example[], options: BatchOptions = {}): Promise<Batch> {
  if (examples.length === 0) throw new Error('Dataset.batch: no examples to stack');
  const fields = FIELDS.filter((f) => examples[0][f] !== undefined);
  if (!fields.includes('x')) throw new Error('Dataset.batch: examples must have an x field ({ x, y?, mask?, sampleWeight? })');
  const host: Record<string, HostLeaf[]> = {};
  for (const f of fields) {
    host[f] = [];
    for (const [i, e] of examples.entries()) {
      const leaf = e[f];
      if (leaf === undefined) throw new Error(`Dataset.batch: example ${i} has no ${f}, example 0 has one`);
      host[f].push(await hostLeaf(leaf, `example ${i}'s ${f}`));
    }
  }
  const xs = host.x;
  const lengths = xs.map((l) => (l.shape.length > 0 ? l.shape[0] : 1));
  const time = Math.max(...lengths);
  const ragged = xs[0].shape.length > 0 && lengths.some((n) => n !== time);
  const wantMask = options.mask ?? 'auto';
  const sequenceTime = ragged || wantMask === true || host.mask ? time : null;
  const batch: Batch = { x: stackField(xs, 'x', sequenceTime, options.padValue ?? 0) };
  if (host.y) {
    const yTime = host.y[0].shape.length > 0 && host.y.some((l) => l.shape[0] !== host.y[0].shape[0]) ? Math.max(...host.y.map((l) => l.shape[0])) : null;
    batch.y = stackField(host.y, 'y', yTime, options.padValue ?? 0);
  }
  if (host.sampleWeight) batch.sampleWeight = stackField(host.sampleWeight, 'sampleWeight', null, 0);
  if (host.mask) batch.mask = stackField(host.mask.map((m) => ({ ...m, dtype: 'float32' as DType })), 'mask', time, 0);
  else if (wantMask === true || (wantMask === 'auto' && ragged)) {
    const mask = new Float32Array(examples.length * time);
    lengths.forEach((n, i) => mask.fill(1, i * time, i * time + n));
    batch.mask = fromTypedArray(mask, [examples.length, time]);
  }
  return batch;
}
