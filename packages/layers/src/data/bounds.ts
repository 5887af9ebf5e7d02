/** Where batches start and end: shared by fit on tensors and by the datasets' remainders. */
/**
 * The [start, end) rows of each training batch. A last batch of a single example joins the batch
 * before it (33 examples at batch size 32 train as one batch of 33): BatchNormalization cannot
 * normalise one example in training, and Keras users expect such an epoch to complete.
 */
export function batchBounds(count: number, batchSize: number): Array<[number, number]> {
  const bounds: Array<[number, number]> = [];
  for (let start = 0; start < count; start += batchSize) bounds.push([start, Math.min(count, start + batchSize)]);
  const last = bounds[bounds.length - 1];
  if (bounds.length > 1 && batchSize > 1 && last[1] - last[0] === 1) {
    bounds.pop();
    bounds[bounds.length - 1][1] = count;
  }
  return bounds;
}
