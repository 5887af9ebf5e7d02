/**
 * The utterances as datasets of batches for model.fit, evaluate and predict: each batch is
 * [batch, frames, bands], padded to its longest utterance, with the mask (1 real frame, 0 padding) that
 * keeps the padding out of the LSTMs and BatchNorm's statistics.
 *
 * The training set is heard anew every epoch: augmentedTraining's dataset comes from a generator that
 * fit calls once per epoch with the epoch's number (Dataset.fromGenerator), and that renders every
 * training utterance afresh — augmentWave, the features, normalisation, SpecAugment — from a generator
 * seeded by the seed and the epoch. Then it orders the epoch in batches of similar lengths.
 *
 * Why a whole epoch is rendered before its first batch: the batches hold utterances of similar length,
 * and an utterance's length (in frames) is known only once it is rendered (speed and silence change
 * it, the VAD trims it). 5,080 utterances of about 100 frames × 40 bands take about 80 MB.
 */
import { Dataset, Random, fromTypedArray } from 'gradlab';
import type { data } from 'gradlab';
import { augmentWave, specAugment } from './augment.js';
import { normalize, padBatch } from './corpus.js';
import type { Example } from './corpus.js';
import { BANDS, extractorsByWarp, speechFeatures } from './pipeline.js';

/** These rows of the examples, as one padded, masked batch. */
export function batchOf(examples: readonly Example[], rows: ArrayLike<number>): data.Batch {
  const b = padBatch(examples, rows, BANDS);
  return { x: fromTypedArray(b.x, [b.batch, b.time, b.bands]), mask: fromTypedArray(b.mask, [b.batch, b.time]), y: fromTypedArray(b.labels, [b.batch]) };
}

/** The examples in batches of batchSize, in the given order (default: as they are). Lazy: one batch at a time. */
export function fixedBatches(examples: readonly Example[], batchSize: number, order?: Int32Array): Dataset<data.Batch> {
  const rows = order ?? Int32Array.from(examples.keys());
  return Dataset.range(Math.ceil(rows.length / batchSize)).map((b) => batchOf(examples, rows.subarray(b * batchSize, (b + 1) * batchSize)));
}

/**
 * A shuffled order in which each batch holds utterances of similar length ("bucketing"): shuffle, cut
 * into pools of 50 batches, sort each pool by length, cut it into batches, then shuffle the batches.
 * Every utterance is still heard once an epoch and the batches still differ from epoch to epoch, but a
 * batch pads to a length close to its utterances' own. (Dataset.bucketBySequenceLength does the same
 * job over a stream with fixed length boundaries; here the whole epoch is at hand, so pools of 50
 * batches sorted by length pad less and need no boundaries.)
 */
export function bucketedOrder(lengths: ArrayLike<number>, batchSize: number, rng: Random): Int32Array {
  const order = Int32Array.from({ length: lengths.length }, (_, i) => i);
  rng.shuffle(order);
  const pool = 50 * batchSize;
  const batches: Int32Array[] = [];
  for (let start = 0; start < order.length; start += pool) {
    const chunk = order.slice(start, Math.min(order.length, start + pool)).sort((a, b) => lengths[a] - lengths[b]);
    for (let b = 0; b < chunk.length; b += batchSize) batches.push(chunk.slice(b, Math.min(chunk.length, b + batchSize)));
  }
  const picks = Int32Array.from({ length: batches.length }, (_, i) => i);
  rng.shuffle(picks);
  const out = new Int32Array(order.length);
  let at = 0;
  for (const p of picks) { out.set(batches[p], at); at += batches[p].length; }
  return out;
}

export interface AugmentedTraining {
  /** The training batches, rendered anew each time the dataset is read (fit: each epoch). */
  data: Dataset<data.Batch>;
  /**
   * Batches of the epoch just rendered, without augmenting again, in an order shuffled by the seed and
   * the epoch: what BatchNormRecalibration re-estimates BatchNorm's statistics on after the epoch.
   */
  latest: Dataset<data.Batch>;
  /** Seconds spent rendering each epoch so far. */
  readonly augmentSeconds: number[];
}

export interface AugmentOptions {
  seed: number;
  batchSize: number;
  /** Called when an epoch's utterances have been rendered, before its first batch. */
  onRendered?: (epoch: number, seconds: number) => void;
}

export function augmentedTraining(
  waves: readonly Float32Array[], labels: readonly number[], stats: { mean: Float32Array; std: Float32Array }, options: AugmentOptions,
): AugmentedTraining {
  const { seed, batchSize } = options;
  const extractors = extractorsByWarp();
  const augmentSeconds: number[] = [];
  // The batch order draws from one generator advancing over the epochs (as shuffle({ seed }) does), so
  // epoch k's order is the same in every run; the augmentation of epoch k draws from its own.
  const orderRng = new Random(seed);
  let examples: Example[] = [];
  let rendered = 0; // epochs rendered (1-based number of the latest)

  const render = (epoch: number): Example[] => {
    const started = performance.now();
    const aug = new Random(seed * 1000 + epoch + 1);
    const out = waves.map((wave, i) => {
      const { samples, warp } = augmentWave(wave, aug);
      const e = normalize(speechFeatures(samples, extractors(warp), labels[i]), stats);
      specAugment(e.features, e.frames, BANDS, aug);
      return e;
    });
    const seconds = (performance.now() - started) / 1000;
    augmentSeconds.push(seconds);
    options.onRendered?.(epoch, seconds);
    return out;
  };

  const data = Dataset.fromGenerator(function* (epoch: number) {
    examples = render(epoch);
    rendered = epoch + 1;
    const order = bucketedOrder(examples.map((e) => e.frames), batchSize, orderRng);
    for (let start = 0; start < order.length; start += batchSize) yield batchOf(examples, order.subarray(start, start + batchSize));
  });

  const latest = Dataset.fromGenerator(function* () {
    if (rendered === 0) throw new Error('augmentedTraining: no epoch has been rendered yet; read `data` first (fit does)');
    const order = Int32Array.from(examples.keys());
    new Random(seed + rendered).shuffle(order);
    // Whole batches only: BatchNorm's statistics over a short last batch would count it as much as a full one.
    for (let start = 0; start + batchSize <= order.length; start += batchSize) yield batchOf(examples, order.subarray(start, start + batchSize));
  });

  return { data, latest, augmentSeconds };
}
