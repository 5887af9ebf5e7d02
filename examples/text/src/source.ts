/** The reviews as a BatchSource for the examples' training loop. */
import { fromTypedArray } from 'gradlab';
import { bucketedOrder } from '@gradlab/example-common';
import type { BatchSource } from '@gradlab/example-common';
import { padSequences } from './tokenizer.js';

/** Encoded reviews as padded id batches; labels as [batch, 1] floats for binary crossentropy. */
export function reviewSource(sequences: readonly Int32Array[], labels: readonly number[]): BatchSource {
  const lengths = sequences.map((s) => s.length);
  return {
    size: sequences.length,
    batch(rows: Int32Array) {
      const { ids, time } = padSequences(sequences, rows);
      return {
        x: fromTypedArray(Float32Array.from(ids), [rows.length, time]),
        y: fromTypedArray(Float32Array.from(rows, (r) => labels[r]), [rows.length, 1]),
      };
    },
    epochOrder: (rng, batchSize) => bucketedOrder(lengths, batchSize, rng),
  };
}
