/** The speech example's datasets: padded, masked batches; bucketed order; augmentation made anew each epoch, seeded. */
import { Random } from 'gradlab';
import type { data } from 'gradlab';
import { augmentedTraining, bucketedOrder, fixedBatches } from '../src/batches';
import type { Example } from '../src/corpus';
import { BANDS } from '../src/pipeline';

const RATE = 16000;
/** A 180 Hz buzz of the given length between 0.2 s of silence on each side (the VAD finds the buzz). */
const utterance = (seconds: number): Float32Array => {
  const out = new Float32Array(Math.round((seconds + 0.4) * RATE));
  for (let n = 0; n < seconds * RATE; n++) out[0.2 * RATE + n] = 0.3 * Math.sin((2 * Math.PI * 180 * n) / RATE);
  return out;
};
const example = (frames: number, label: number): Example => ({ features: Float32Array.from({ length: frames * BANDS }, (_, i) => label + i / 1e4), frames, label });
const stats = { mean: new Float32Array(BANDS), std: new Float32Array(BANDS).fill(1) };
const arrays = (batches: data.Batch[]): number[][] => batches.map((b) => [...b.x.dataSync(), ...b.mask!.dataSync(), ...b.y!.dataSync()]);

test('fixedBatches: batches in the order given, each padded to its longest example, with the mask', async () => {
  const examples = [example(3, 0), example(1, 1), example(2, 2)];
  const batches = await fixedBatches(examples, 2, Int32Array.of(2, 0, 1)).toArray();
  expect(batches.map((b) => b.x.shape)).toEqual([[2, 3, BANDS], [1, 1, BANDS]]);
  expect(Array.from(batches[0].y!.dataSync())).toEqual([2, 0]);
  expect(Array.from(batches[0].mask!.dataSync())).toEqual([1, 1, 0, 1, 1, 1]);
  // Row 0 is example 2 (2 frames) then a frame of zeros.
  const x0 = batches[0].x.dataSync();
  expect(Array.from(x0.subarray(0, 2 * BANDS))).toEqual(Array.from(examples[2].features));
  expect(x0.subarray(2 * BANDS, 3 * BANDS).every((v) => v === 0)).toBe(true);
  expect(fixedBatches(examples, 2).size).toBe(2);
});

test('bucketedOrder: every example once, and batches of similar lengths', () => {
  const rng = new Random(3);
  const lengths = Array.from({ length: 400 }, () => 10 + Math.floor(rng.uniform(0, 90)));
  const order = bucketedOrder(lengths, 8, new Random(1));
  expect(Array.from(order).sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
  // Within a batch the lengths span far less than the whole range (90): each pool of 400 is sorted.
  for (let b = 0; b < 400; b += 8) {
    const ls = Array.from(order.subarray(b, b + 8), (i) => lengths[i]);
    expect(Math.max(...ls) - Math.min(...ls)).toBeLessThan(10);
  }
  expect(bucketedOrder(lengths, 8, new Random(1))).toEqual(order);
  expect(bucketedOrder(lengths, 8, new Random(2))).not.toEqual(order);
});

describe('augmentedTraining', () => {
  const waves = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55].map(utterance);
  const labels = [0, 1, 2, 3, 4, 5];
  const make = (seed: number) => augmentedTraining(waves, labels, stats, { seed, batchSize: 2 });

  test('each read renders the epoch anew; a second run with the same seed hears the same epochs', async () => {
    const a = make(1);
    const epochs = [await a.data.toArray(), await a.data.toArray()];
    expect(epochs[0].length).toBe(3);
    expect(epochs[0].flatMap((b) => Array.from(b.y!.dataSync())).sort()).toEqual(labels);
    expect(arrays(epochs[1])).not.toEqual(arrays(epochs[0]));
    expect(a.augmentSeconds.length).toBe(2);
    const b = make(1);
    expect([arrays(await b.data.toArray()), arrays(await b.data.toArray())]).toEqual(epochs.map(arrays));
    expect(arrays(await make(2).data.toArray())).not.toEqual(arrays(epochs[0]));
  });

  test('latest: whole batches of the epoch just rendered, without augmenting again', async () => {
    const t = make(1);
    await expect(t.latest.toArray()).rejects.toThrow(/no epoch has been rendered yet/);
    const epoch = await t.data.toArray();
    const latest = await t.latest.toArray();
    expect(t.augmentSeconds.length).toBe(1);
    expect(latest.length).toBe(3);
    // The same utterances (as rendered for training), in another order: compare each label's frame count.
    const framesByLabel = (bs: data.Batch[]): number[] => {
      const out = new Array<number>(6);
      for (const b of bs) {
        const y = b.y!.dataSync();
        const mask = b.mask!.dataSync();
        const time = b.x.shape[1];
        y.forEach((label, i) => { out[label] = Array.from(mask.subarray(i * time, (i + 1) * time)).reduce((s, v) => s + v, 0); });
      }
      return out;
    };
    expect(framesByLabel(latest)).toEqual(framesByLabel(epoch));
  });
});
