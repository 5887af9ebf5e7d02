/** Dataset: every source and transform, for order, seeding, padding and masks, and laziness. */
import { Random, fromTypedArray, tensor } from '@gradlab/tensor';
import { Dataset } from '../src/data/dataset.js';
import type { Batch, Example } from '../src/data/batching.js';

/** A dataset over 0…n−1 from a generator that counts how many elements it has yielded. */
function counted(n: number): { ds: Dataset<number>; yielded: () => number } {
  let count = 0;
  const ds = Dataset.fromGenerator(function* () { for (let i = 0; i < n; i++) { count++; yield i; } });
  return { ds, yielded: () => count };
}

const values = (b: Batch, field: 'x' | 'y' | 'mask' = 'x'): number[] => Array.from(b[field]!.dataSync());

test('sources: tensor slices, arrays, range, sync and async generators and iterators', async () => {
  const x = tensor([[1, 2], [3, 4], [5, 6]]);
  const y = fromTypedArray(Int32Array.of(0, 1, 2), [3]);
  const rows = await Dataset.fromTensorSlices(x, y).toArray();
  expect(rows.map((e) => [Array.from((e.x as ReturnType<typeof tensor>).dataSync()), (e.y as ReturnType<typeof tensor>).shape])).toEqual([
    [[1, 2], []], [[3, 4], []], [[5, 6], []],
  ]);
  expect(Dataset.fromTensorSlices(x, y).size).toBe(3);
  expect(await Dataset.fromArray(['a', 'b']).toArray()).toEqual(['a', 'b']);
  expect(await Dataset.range(4).toArray()).toEqual([0, 1, 2, 3]);
  expect(await Dataset.fromGenerator(async function* () { yield 1; yield 2; }).toArray()).toEqual([1, 2]);
  expect(await Dataset.fromGenerator(() => [7, 8][Symbol.iterator]()).toArray()).toEqual([7, 8]);
  // The generator function is called again for each iteration: a dataset can be read twice.
  const twice = Dataset.fromGenerator(function* () { yield 5; });
  expect([await twice.toArray(), await twice.toArray()]).toEqual([[5], [5]]);
  expect(() => Dataset.fromTensorSlices(x, fromTypedArray(Int32Array.of(0, 1), [2]))).toThrow(/y has 2 rows along its first axis and x has 3/);
  expect(() => Dataset.fromGenerator(5 as never)).toThrow(/fromGenerator: expected a function/);
});

test('fromGenerator: the function gets the iteration number, so a seeded generator makes each iteration anew and reproducibly', async () => {
  const calls: number[] = [];
  // Three "augmented" values per iteration, drawn from a generator seeded by the iteration.
  const make = (): Dataset<number> => Dataset.fromGenerator(function* (iteration) {
    calls.push(iteration);
    const rng = new Random(100 + iteration);
    for (let i = 0; i < 3; i++) yield rng.uniform(0, 1);
  });
  const ds = make();
  const first = [await ds.toArray(), await ds.toArray(), await ds.toArray()];
  expect(calls).toEqual([0, 1, 2]);
  // Each iteration's values are those of a generator seeded with 100 + its number, computed here apart.
  const expected = [0, 1, 2].map((k) => { const r = new Random(100 + k); return [r.uniform(0, 1), r.uniform(0, 1), r.uniform(0, 1)]; });
  expect(first).toEqual(expected);
  expect(first[0]).not.toEqual(first[1]);
  // A second dataset from the same function starts again at iteration 0: the same run, the same values.
  const again = make();
  expect([await again.toArray(), await again.toArray(), await again.toArray()]).toEqual(first);
  // Derived datasets read the source once per their own iteration.
  const mapped = make().map((v) => 2 * v);
  await mapped.toArray();
  expect(await mapped.toArray()).toEqual(expected[1].map((v) => 2 * v));
});

test('map, filter, take, skip, repeat: order and sizes', async () => {
  const ds = Dataset.range(6);
  expect(await ds.map((v, i) => v * 10 + i).toArray()).toEqual([0, 11, 22, 33, 44, 55]);
  expect(await ds.map(async (v) => v + 1).toArray()).toEqual([1, 2, 3, 4, 5, 6]);
  expect(await ds.filter((v) => v % 2 === 0).toArray()).toEqual([0, 2, 4]);
  expect(await ds.take(2).toArray()).toEqual([0, 1]);
  expect(await ds.skip(4).toArray()).toEqual([4, 5]);
  expect(await Dataset.range(2).repeat(3).toArray()).toEqual([0, 1, 0, 1, 0, 1]);
  expect(await Dataset.range(3).repeat().take(7).toArray()).toEqual([0, 1, 2, 0, 1, 2, 0]);
  expect([ds.map((v) => v).size, ds.take(2).size, ds.skip(4).size, ds.skip(9).size, ds.repeat(2).size, ds.repeat().size, ds.filter(() => true).size])
    .toEqual([6, 2, 2, 0, 12, Infinity, null]);
  expect(() => ds.take(-1)).toThrow(/take: n must be a non-negative integer/);
  expect(() => ds.skip(1.5)).toThrow(/skip: n must be a non-negative integer, got 1.5/);
  await expect(ds.repeat().toArray()).rejects.toThrow(/infinite/);
});

test('laziness: take and prefetch read only what they need from a generator', async () => {
  const { ds, yielded } = counted(1_000_000);
  expect(await ds.map((v) => v * 2).take(3).toArray()).toEqual([0, 2, 4]);
  expect(yielded()).toBe(3);
  const { ds: ds2, yielded: yielded2 } = counted(1_000_000);
  const it = ds2.prefetch(2)[Symbol.asyncIterator]();
  expect((await it.next()).value).toBe(0);
  // One element handed out, two made ahead: nothing more was read.
  expect(yielded2()).toBeLessThanOrEqual(3);
  await it.return?.(undefined);
  const { ds: ds3, yielded: yielded3 } = counted(1_000);
  const shuffled = ds3.shuffle(10, { seed: 1 })[Symbol.asyncIterator]();
  await shuffled.next();
  expect(yielded3()).toBe(11); // the buffer, then one more to replace the element handed out
  await shuffled.return?.(undefined);
});

test('prefetch keeps the order and the elements', async () => {
  expect(await Dataset.range(10).map(async (v) => v).prefetch(3).toArray()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  expect(Dataset.range(10).prefetch(2).size).toBe(10);
});

test('shuffle: a permutation; seeded orders reproduce; each epoch differs unless reshuffleEachIteration is false', async () => {
  const ds = Dataset.range(50).shuffle(50, { seed: 3 });
  const first = await ds.toArray();
  const second = await ds.toArray();
  expect([...first].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  expect(first).not.toEqual(second);
  // A new dataset with the same seed gives the same two epochs.
  const again = Dataset.range(50).shuffle(50, { seed: 3 });
  expect([await again.toArray(), await again.toArray()]).toEqual([first, second]);
  const fixed = Dataset.range(50).shuffle(50, { seed: 3, reshuffleEachIteration: false });
  expect(await fixed.toArray()).toEqual(await fixed.toArray());
  // With a full buffer the first output is uniform over the whole set; the order follows the generator:
  // replay the same draws by hand.
  const rng = new Random(3);
  const buffer = Array.from({ length: 50 }, (_, i) => i);
  const expected: number[] = [];
  while (buffer.length) { const k = rng.int(buffer.length); expected.push(buffer[k]); buffer[k] = buffer[buffer.length - 1]; buffer.pop(); }
  expect(first).toEqual(expected);
  expect(() => ds.shuffle(0)).toThrow(/shuffle: bufferSize must be a positive integer, got 0/);
});

test('shuffle with a small buffer only mixes nearby elements', async () => {
  const out = await Dataset.range(100).shuffle(4, { seed: 1 }).toArray();
  expect([...out].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  // Output k is drawn from a buffer holding at most elements 0…k+3.
  out.forEach((v, k) => expect(v).toBeLessThanOrEqual(k + 3));
});

const example = (x: number[], y: number): Example => ({ x: Float32Array.from(x), y });

test('batch stacks examples; integer labels become int32; a lone last example joins the batch before it', async () => {
  const ds = Dataset.fromArray([example([1, 2], 0), example([3, 4], 1), example([5, 6], 2)]);
  const [b] = await ds.batch(2).toArray(); // 3 examples at batch size 2: one batch of 3
  expect(b.x.shape).toEqual([3, 2]);
  expect(values(b)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(b.y!.dtype).toBe('int32');
  expect(b.mask).toBeUndefined();
  expect(ds.batch(2).size).toBe(1);
  expect((await ds.batch(2, { dropRemainder: true }).toArray()).map((x) => x.x.shape[0])).toEqual([2]);
  expect((await Dataset.range(7).map((i) => example([i], i)).batch(3).toArray()).map((x) => x.x.shape[0])).toEqual([3, 4]);
  expect((await Dataset.range(8).map((i) => example([i], i)).batch(3).toArray()).map((x) => x.x.shape[0])).toEqual([3, 3, 2]);
  expect(Dataset.range(7).map((i) => example([i], i)).batch(3).size).toBe(2);
  const fractional = await Dataset.fromArray([{ x: Float32Array.of(0), y: 0.5 }, { x: Float32Array.of(1), y: 1 }]).batch(2).toArray();
  expect(fractional[0].y!.dtype).toBe('float32');
  await expect(Dataset.fromArray([example([1, 2], 0), example([3], 1)]).map((e) => ({ ...e, x: fromTypedArray(e.x as Float32Array, [1, (e.x as Float32Array).length]) })).batch(2).toArray())
    .rejects.toThrow(/example 1 has x \[1,1\], example 0 has \[1,2\]; all must have the same shape/);
});

test('batch pads sequences of different lengths to the longest and makes the mask', async () => {
  const seq = (frames: number, start: number): Example => ({ x: fromTypedArray(Float32Array.from({ length: frames * 2 }, (_, i) => start + i), [frames, 2]), y: 1 });
  const [b] = await Dataset.fromArray([seq(1, 10), seq(3, 20)]).batch(2).toArray();
  expect(b.x.shape).toEqual([2, 3, 2]);
  expect(values(b)).toEqual([10, 11, 0, 0, 0, 0, 20, 21, 22, 23, 24, 25]);
  expect(b.mask!.shape).toEqual([2, 3]);
  expect(values(b, 'mask')).toEqual([1, 0, 0, 1, 1, 1]);
  const [p] = await Dataset.fromArray([seq(1, 10), seq(2, 20)]).batch(2, { padValue: -1, mask: false }).toArray();
  expect(values(p)).toEqual([10, 11, -1, -1, 20, 21, 22, 23]);
  expect(p.mask).toBeUndefined();
  const [same] = await Dataset.fromArray([seq(2, 0), seq(2, 0)]).batch(2).toArray();
  expect(same.mask).toBeUndefined();
  const [forced] = await Dataset.fromArray([seq(2, 0), seq(2, 0)]).batch(2, { mask: true }).toArray();
  expect(values(forced, 'mask')).toEqual([1, 1, 1, 1]);
  // Token ids as typed arrays keep their dtype.
  const [ids] = await Dataset.fromArray([{ x: Int32Array.of(4, 5, 6), y: 0 }, { x: Int32Array.of(7), y: 1 }]).batch(2).toArray();
  expect([ids.x.dtype, values(ids), values(ids, 'mask')]).toEqual(['int32', [4, 5, 6, 7, 0, 0], [1, 1, 1, 1, 0, 0]]);
});

test('bucketBySequenceLength: batches of similar lengths, each padded to its own longest', async () => {
  const lengths = [2, 9, 3, 8, 1, 7, 2];
  const ds = Dataset.fromArray(lengths.map((n, i) => ({ x: Float32Array.from({ length: n }, () => 1), y: i })));
  const batches = await ds.bucketBySequenceLength((e) => (e.x as Float32Array).length, [5], [2, 2]).toArray();
  // Bucket 0 (< 5): 2, 3 | 1, 2; bucket 1 (≥ 5): 9, 8 | 7 left over at the end.
  expect(batches.map((b) => values(b, 'y'))).toEqual([[0, 2], [1, 3], [4, 6], [5]]);
  expect(batches.map((b) => b.x.shape[1])).toEqual([3, 9, 2, 7]);
  expect(() => ds.bucketBySequenceLength((e) => 1, [5, 3], [1, 1, 1])).toThrow(/boundaries must increase/);
  expect(() => ds.bucketBySequenceLength((e) => 1, [5], [1])).toThrow(/batchSizes must be 2 positive integers/);
});

test('a dataset over a large generator stays lazy through shuffle, batch and prefetch', async () => {
  const { ds, yielded } = counted(60_000);
  const batches = ds.map((i) => example([i], i % 10)).shuffle(100, { seed: 1 }).batch(32).prefetch(2);
  const it = batches[Symbol.asyncIterator]();
  const first = (await it.next()).value as Batch;
  expect(first.x.shape).toEqual([32, 1]);
  // The shuffle buffer (100), the elements for the batches made ahead (3 × 32) and one held by batch.
  expect(yielded()).toBeLessThan(100 + 4 * 32 + 2);
  await it.return?.(undefined);
});

test('bucketBySequenceLength joins the buckets\' remainders so that no batch holds a lone example', async () => {
  const lengths = [2, 9, 3, 8, 1];
  const ds = Dataset.fromArray(lengths.map((n, i) => ({ x: Float32Array.from({ length: n }, () => 1), y: i })));
  // Bucket 0 emits [0, 2]; at the end bucket 0 holds [4] and bucket 1 [1, 3]: joined, [4, 1, 3], one batch of the largest size, 3.
  const batches = await ds.bucketBySequenceLength((e) => (e.x as Float32Array).length, [5], [2, 3]).toArray();
  expect(batches.map((b) => values(b, 'y'))).toEqual([[0, 2], [4, 1, 3]]);
  expect(batches[1].mask!.shape).toEqual([3, 9]);
  expect((await ds.bucketBySequenceLength((e) => (e.x as Float32Array).length, [5], [2, 3], { dropRemainder: true }).toArray()).length).toBe(1);
});
