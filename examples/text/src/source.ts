/**
 * The reviews as datasets of batches for model.fit and model.evaluate. Each batch is padded with id 0
 * (which the Embedding masks, so no mask is made here) to the longest review in it; training batches
 * hold reviews of similar lengths (bucketBySequenceLength), so that a batch of 40-word reviews is not
 * padded to 200 words: most of an LSTM's time goes on time steps.
 */
import { Dataset } from 'gradlab';
import type { data } from 'gradlab';

/** Review i: its ids (as floats, what the Embedding takes) and its label, 0 or 1. */
function reviewExamples(sequences: readonly Int32Array[], labels: readonly number[], order: Dataset<number>): Dataset<data.Example> {
  return order.map((i) => ({ x: Float32Array.from(sequences[i]), y: labels[i] }));
}

/** Bucket boundaries every tenth of maxLength: ten buckets of similar lengths. */
export function lengthBoundaries(maxLength: number): number[] {
  const step = Math.max(1, Math.round(maxLength / 10));
  const out: number[] = [];
  for (let b = step; b < maxLength; b += step) out.push(b);
  return out;
}

/** Training batches: shuffled with the seed (a new order each epoch), bucketed by length. */
export function trainingReviews(sequences: readonly Int32Array[], labels: readonly number[], batchSize: number, maxLength: number, seed: number): Dataset<data.Batch> {
  const order = Dataset.range(sequences.length).shuffle(sequences.length, { seed });
  const boundaries = lengthBoundaries(maxLength);
  return reviewExamples(sequences, labels, order)
    .bucketBySequenceLength((e) => (e.x as Float32Array).length, boundaries, boundaries.map(() => batchSize).concat(batchSize), { mask: false })
    .prefetch(2);
}

/** Evaluation batches, in order. */
export function reviewBatches(sequences: readonly Int32Array[], labels: readonly number[], batchSize: number): Dataset<data.Batch> {
  return reviewExamples(sequences, labels, Dataset.range(sequences.length)).batch(batchSize, { mask: false }).prefetch(2);
}
