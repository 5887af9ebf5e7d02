/**
 * What fit's one training loop reads: the batches of each epoch, whether the data came as whole-dataset
 * tensors or as a Dataset.
 *
 *   tensors:  each epoch shuffles the row numbers (unless shuffle is false) and gathers each batch's rows
 *             (batchBounds: a lone last example joins the batch before it);
 *   Dataset:  each epoch reads the dataset afresh (a shuffle() in it reshuffles), or, with stepsPerEpoch,
 *             the next stepsPerEpoch batches of one iterator kept across epochs (Keras: a repeat()ed
 *             dataset with stepsPerEpoch; if it runs out, training stops with a warning).
 */
import { Random, Tensor, fromTypedArray, gather, globalRandom } from '@gradlab/tensor';
import type { Dataset } from '../data/dataset.js';
import { batchBounds } from '../data/bounds.js';
import type { StructuredBatch } from '../data/batching.js';
import type { Nest } from '../data/structure.js';

/** Rows of a whole-dataset tensor, as a batch. */
export function takeRows(t: Tensor, rows: Int32Array): Tensor { return gather(t, fromTypedArray(rows, [rows.length]), 0); }

/** The row numbers start, start+1, …, end−1. */
export function range(start: number, end: number): Int32Array { return Int32Array.from({ length: end - start }, (_, i) => start + i); }

export { batchBounds };

/**
 * A model's x as fit, evaluate and predict take it: one tensor, or for a functional model with several
 * inputs a list (in its inputs' order) or an object keyed by its Input layers' names (fit-inputs.ts).
 */
export type ModelX = Nest<Tensor>;

/** A model's y: one tensor, or for several outputs a list (in the outputs' order) or an object keyed by output name. */
export type ModelY = Nest<Tensor>;

/** x or y put in the model's order (fit-inputs.ts): one tensor, or one per input or output. */
export type Ordered = Tensor | Tensor[];

/** A batch as a dataset gives it to fit, evaluate and predict: x, y and sampleWeight may be lists or objects keyed by name. */
export type GivenBatch = StructuredBatch;

/** A batch as the training loop reads it: x and y in the model's order, and sampleWeight one per output. */
export interface ModelBatch { x: Ordered; y?: Ordered; mask?: Tensor; sampleWeight?: Tensor[] }

/** The number of examples of x (every input of a list has been checked to agree, see Model.checkData). */
export function examplesOf(x: Ordered): number { return (Array.isArray(x) ? x[0] : x).shape[0]; }

/** The same rows of every tensor of x (or y). */
export function takeRowsOf<T extends Ordered>(x: T, rows: Int32Array): T {
  return (Array.isArray(x) ? x.map((t) => takeRows(t, rows)) : takeRows(x as Tensor, rows)) as T;
}

/** Whole-dataset tensors, their rows cut into batches. */
export interface TensorData { x: Ordered; y: Ordered; sampleWeight?: Tensor[]; rows: Int32Array }

/** The batches of the given rows, in order, or shuffled first with shuffleWith. */
export function* tensorBatches(data: TensorData, batchSize: number, shuffleWith: Random | null = null): Generator<ModelBatch> {
  const order = data.rows.slice();
  if (shuffleWith) shuffleWith.shuffle(order);
  for (const [start, end] of batchBounds(order.length, batchSize)) {
    const rows = order.slice(start, end);
    const batch: ModelBatch = { x: takeRowsOf(data.x, rows), y: takeRowsOf(data.y, rows) };
    if (data.sampleWeight) batch.sampleWeight = takeRowsOf(data.sampleWeight, rows);
    yield batch;
  }
}

/** An epoch's batches, and how many there will be when that is known (for the progress bar). */
export interface EpochSource {
  batches(): AsyncIterator<GivenBatch> | Iterator<GivenBatch>;
  steps: number | null;
  /** True once a stepsPerEpoch iterator has run out (fit then stops). */
  ranOut: boolean;
}

export function tensorEpochs(data: TensorData, batchSize: number, shuffle: boolean, seed: number | undefined, stepsPerEpoch?: number): EpochSource {
  const rng = seed !== undefined ? new Random(seed) : globalRandom;
  const all = batchBounds(data.rows.length, batchSize).length;
  const steps = stepsPerEpoch === undefined ? all : Math.min(all, stepsPerEpoch);
  return {
    steps,
    ranOut: false,
    batches: () => {
      const it = tensorBatches(data, batchSize, shuffle ? rng : null);
      let taken = 0;
      return { next: () => (taken++ < steps ? it.next() : { done: true, value: undefined }) };
    },
  };
}

export function datasetEpochs(dataset: Dataset<GivenBatch>, stepsPerEpoch?: number): EpochSource {
  if (stepsPerEpoch === undefined) {
    const known = dataset.size !== null && Number.isFinite(dataset.size) ? dataset.size : null;
    return { steps: known, ranOut: false, batches: () => dataset[Symbol.asyncIterator]() };
  }
  let shared: AsyncIterator<GivenBatch> | null = null;
  const source: EpochSource = {
    steps: stepsPerEpoch,
    ranOut: false,
    batches: () => {
      shared ??= dataset[Symbol.asyncIterator]();
      const it = shared;
      let taken = 0;
      return {
        async next(): Promise<IteratorResult<GivenBatch>> {
          if (taken >= stepsPerEpoch) return { done: true, value: undefined };
          const r = await it.next();
          if (r.done) source.ranOut = true;
          else taken++;
          return r;
        },
      };
    },
  };
  return source;
}

/** The first `limit` batches of a source (all of them when limit is undefined). */
export async function* limited<B>(batches: AsyncIterable<B> | Iterable<B>, limit?: number): AsyncGenerator<B> {
  if (limit === 0) return;
  let n = 0;
  for await (const b of batches) {
    yield b;
    if (limit !== undefined && ++n >= limit) return;
  }
}
