/**
 * Turning examples into batches: the host-side copy that Dataset.batch and bucketBySequenceLength do.
 *
 * An example is `{ x, y?, mask?, sampleWeight? }`; each field holds leaves: a Tensor, a typed array (a
 * 1-D tensor of its own dtype) or a number, or, for a model with several inputs or outputs, x, y and
 * sampleWeight may be a list of leaves or an object of them keyed by name (structure.ts). A batch stacks
 * each leaf along a new first axis, and keeps the field's list or object around them. When the examples'
 * x have different first-axis lengths (sequences of different lengths), every sequence field is padded at
 * the end to the longest one with `padValue`, and the batch gets the mask this implies, [batch, time]
 * with 1 for real steps and 0 for padding (what the model passes its layers, so padding stays out of an
 * LSTM and of BatchNorm's statistics).
 *
 * With several inputs, the model gives the mask to its first input only, so the mask is made from x[0] of
 * a list; another input of different lengths is padded only with `mask: false` (the model masks its
 * padding itself, as Embedding's maskZero does), and x keyed by name is padded only then too, since which
 * input comes first is the model's to say. Any other padding would reach the model as data, so it is refused.
 *
 * Numbers stack to int32 when every one is an integer (class labels), else to float32.
 */
import { Tensor, fromTypedArray, formatShape } from '@gradlab/tensor';
import type { DType, TypedArray } from '@gradlab/tensor';
import { describeLayout, layoutOf, leafName, leavesOf, rebuild, sameLayout } from './structure.js';
import type { Layout, Nest } from './structure.js';

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

/** An example of a model with several inputs or outputs: x, y and sampleWeight may be lists or objects keyed by name. */
export interface StructuredExample {
  x: Nest<Leaf>;
  y?: Nest<Leaf>;
  /** [time] of 1 (real step) and 0 (padding), for the model's first input. */
  mask?: Leaf;
  /** This example's weight in the loss: one for every output, or one per output (a list, or keyed by output name). */
  sampleWeight?: Nest<Leaf>;
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

/** A batch of StructuredExamples: each leaf stacked, in the same lists and objects. */
export interface StructuredBatch {
  x: Nest<Tensor>;
  y?: Nest<Tensor>;
  mask?: Tensor;
  sampleWeight?: Nest<Tensor>;
}

/** What batching examples of type E gives: a Batch of one-tensor fields, or a StructuredBatch. */
export type BatchOf<E> = E extends Example ? Batch : StructuredBatch;

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

type Field = typeof FIELDS[number];

/** The length of each leaf's first axis (1 for a number), and whether they differ. */
function lengthsOf(leaves: HostLeaf[]): { lengths: number[]; longest: number; ragged: boolean } {
  const lengths = leaves.map((l) => (l.shape.length > 0 ? l.shape[0] : 1));
  const longest = Math.max(...lengths);
  return { lengths, longest, ragged: leaves[0].shape.length > 0 && lengths.some((n) => n !== longest) };
}

/** Each example's field taken apart into its leaves, read on the host: [leaf][example]. */
async function hostLeaves(examples: readonly StructuredExample[], field: Field, layout: Layout): Promise<HostLeaf[][]> {
  const columns: HostLeaf[][] = leavesOf(examples[0][field]!, layout).map(() => []);
  for (const [i, e] of examples.entries()) {
    const value = e[field];
    if (value === undefined) throw new Error(`Dataset.batch: example ${i} has no ${field}, example 0 has one`);
    const own = layoutOf(value);
    if (!sameLayout(own, layout)) throw new Error(`Dataset.batch: example ${i}'s ${field} is ${describeLayout(own)}, example 0's is ${describeLayout(layout)}`);
    const leaves = leavesOf(value, layout);
    for (const [k, leaf] of leaves.entries()) columns[k].push(await hostLeaf(leaf, `example ${i}'s ${leafName(field, layout, k)}`));
  }
  return columns;
}

/**
 * Where the mask belongs: the leaf of x it describes (x itself, or x[0] of a list), or null for x keyed
 * by name. Refuses padding that no mask would describe, unless the model masks itself (mask: false).
 */
function maskSource(x: HostLeaf[][], layout: Layout, mask: boolean | 'auto'): number | null {
  const source = layout.kind === 'named' ? null : 0;
  if (mask === false) return source;
  x.forEach((leaves, k) => {
    if (k === source || !lengthsOf(leaves).ragged) return;
    throw new Error(`Dataset.batch: ${leafName('x', layout, k)} holds sequences of different lengths, but the model gives a mask to its first input only` +
      (source === null ? ' (and x keyed by name does not say which input is first)' : ' (x[0])') + ', so its padding would be read as data; ' +
      'pass { mask: false } when the model masks its padding itself (Embedding maskZero)' + (source === null ? ', or give x as a list with the masked input first' : ''));
  });
  if (source === null && mask === true) throw new Error('Dataset.batch: mask: true needs x as one tensor or a list (the mask goes to the first input); x is keyed by name');
  return source;
}

/** Stack examples into one batch (see the top of this file). */
export async function stackExamples(examples: readonly Example[], options?: BatchOptions): Promise<Batch>;
export async function stackExamples(examples: readonly StructuredExample[], options?: BatchOptions): Promise<StructuredBatch>;
export async function stackExamples(examples: readonly StructuredExample[], options: BatchOptions = {}): Promise<StructuredBatch> {
  if (examples.length === 0) throw new Error('Dataset.batch: no examples to stack');
  const fields = FIELDS.filter((f) => examples[0][f] !== undefined);
  if (!fields.includes('x')) throw new Error('Dataset.batch: examples must have an x field ({ x, y?, mask?, sampleWeight? })');
  const layouts: Partial<Record<Field, Layout>> = {};
  const host: Partial<Record<Field, HostLeaf[][]>> = {};
  for (const f of fields) {
    const layout = layoutOf(examples[0][f]);
    if (layout.kind !== 'one' && (f === 'mask' || leavesOf(examples[0][f]!, layout).length === 0)) {
      throw new Error(`Dataset.batch: ${f} is ${describeLayout(layout)}; ${f === 'mask' ? 'a mask is one [time] array per example' : 'it needs at least one value'}`);
    }
    layouts[f] = layout;
    host[f] = await hostLeaves(examples, f, layout);
  }
  const padValue = options.padValue ?? 0;
  const wantMask = options.mask ?? 'auto';
  const x = host.x!;
  const source = maskSource(x, layouts.x!, wantMask);
  const sequence = source === null ? null : lengthsOf(x[source]);
  /** A field's leaves stacked, each sequence leaf padded to its longest when `pad` says so. */
  const stacked = (f: Field, pad: (leaves: HostLeaf[], k: number) => boolean): Nest<Tensor> => rebuild(layouts[f]!, host[f]!.map((leaves, k) =>
    stackField(leaves, leafName(f, layouts[f]!, k), pad(leaves, k) ? lengthsOf(leaves).longest : null, padValue)));
  // The masked leaf is laid out on the time axis whenever a mask is given or asked for, even if nothing was padded.
  const batch: StructuredBatch = { x: stacked('x', (leaves, k) => lengthsOf(leaves).ragged || (k === source && (wantMask === true || !!host.mask))) };
  if (host.y) batch.y = stacked('y', (leaves) => lengthsOf(leaves).ragged);
  if (host.sampleWeight) batch.sampleWeight = stacked('sampleWeight', () => false);
  if (host.mask) {
    const masks = host.mask[0].map((m) => ({ ...m, dtype: 'float32' as DType }));
    batch.mask = stackField(masks, 'mask', sequence?.longest ?? lengthsOf(masks).longest, 0);
  } else if (sequence && (wantMask === true || (wantMask === 'auto' && sequence.ragged))) {
    const { lengths, longest: time } = sequence;
    const mask = new Float32Array(examples.length * time);
    lengths.forEach((n, i) => mask.fill(1, i * time, i * time + n));
    batch.mask = fromTypedArray(mask, [examples.length, time]);
  }
  return batch;
}
