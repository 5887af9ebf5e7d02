/**
 * The spoken-digit corpus: which utterances to synthesise, how they split into training, validation and
 * test sets, and their features.
 *
 * Split by speaker. Each espeak-ng *variant* (the timbre: m3, f2, croak, …) is one speaker; the test set's
 * variants — in every accent — never occur in training, and neither do the validation set's. So test
 * accuracy measures how well the model recognises digits from voices it has never heard.
 *
 * Every utterance gets, from the seed: a pitch (30–70), a speed (130–210 words per minute) and a noise
 * level (clean, or white noise at 30, 20 or 10 dB signal-to-noise ratio).
 */
import { Random } from 'gradlab';
import { ACCENTS, DIGITS, VARIANTS, voiceOf } from './synth.js';
import type { Utterance } from './synth.js';
import { LogMelExtractor } from './features.js';

export type Split = 'train' | 'val' | 'test';

export interface PlannedUtterance extends Utterance {
  split: Split;
  /** Signal-to-noise ratio of the added white noise in dB; null for none. */
  snrDb: number | null;
  /** Seed of this utterance's noise. */
  noiseSeed: number;
}

export interface CorpusOptions {
  seed: number;
  /** Utterances per voice and digit. */
  repeats?: number;
  /** The accents and variants to use (default: all of them). */
  accents?: readonly string[];
  variants?: readonly string[];
  /** Fractions of the variants (speakers) held out for testing and for validation. */
  testFraction?: number;
  valFraction?: number;
  /** Noise levels drawn from, uniformly. */
  snrLevels?: ReadonlyArray<number | null>;
}

export const DEFAULT_SNR_LEVELS: ReadonlyArray<number | null> = [null, 30, 20, 10];

/** Which variants (speakers) are for testing, validation and training: a seeded shuffle, then cut. */
export function splitSpeakers(variants: readonly string[], seed: number, testFraction: number, valFraction: number): Record<Split, string[]> {
  const order = [...variants];
  new Random(seed).shuffle(order);
  const nTest = Math.max(1, Math.round(variants.length * testFraction));
  const nVal = valFraction > 0 ? Math.max(1, Math.round(variants.length * valFraction)) : 0;
  if (nTest + nVal >= variants.length) {
    throw new Error(`speech corpus: ${variants.length} speakers are too few to hold out ${nTest} for testing and ${nVal} for validation`);
  }
  return { test: order.slice(0, nTest), val: order.slice(nTest, nTest + nVal), train: order.slice(nTest + nVal) };
}

/** The utterances of the corpus, in a fixed order, each with its split and its random settings. */
export function planCorpus(options: CorpusOptions): PlannedUtterance[] {
  const { seed, repeats = 1, testFraction = 0.2, valFraction = 0.1, snrLevels = DEFAULT_SNR_LEVELS } = options;
  const accents = options.accents ?? ACCENTS;
  const variants = options.variants ?? VARIANTS;
  const speakers = splitSpeakers(variants, seed, testFraction, valFraction);
  const splitOf = new Map<string, Split>();
  for (const split of ['train', 'val', 'test'] as const) for (const v of speakers[split]) splitOf.set(v, split);
  const rng = new Random(seed + 1);
  const out: PlannedUtterance[] = [];
  for (const variant of variants) {
    for (const accent of accents) {
      for (let digit = 0; digit < DIGITS.length; digit++) {
        for (let r = 0; r < repeats; r++) {
          out.push({
            digit, accent, variant,
            pitch: 30 + rng.int(41),
            speed: 130 + 5 * rng.int(17),
            split: splitOf.get(variant)!,
            snrDb: snrLevels[rng.int(snrLevels.length)],
            noiseSeed: rng.nextUint32(),
          });
        }
      }
    }
  }
  return out;
}

/** The distinct voices (accent+variant) of a list of utterances. */
export const voicesOf = (us: readonly Utterance[]): Set<string> => new Set(us.map(voiceOf));

/**
 * Add white Gaussian noise at the given signal-to-noise ratio:
 *   SNR_dB = 10·log₁₀(P_signal / P_noise)  ⇒  σ_noise = √(P_signal / 10^(SNR/10)),
 * with P the mean square of the samples. Seeded: the same utterance always gets the same noise.
 */
export function addNoise(samples: Float32Array, snrDb: number | null, seed: number): Float32Array {
  if (snrDb === null || samples.length === 0) return samples;
  let power = 0;
  for (const s of samples) power += s * s;
  power /= samples.length;
  const sigma = Math.sqrt(power / 10 ** (snrDb / 10));
  const rng = new Random(seed);
  return Float32Array.from(samples, (s) => s + sigma * rng.normal());
}

/** One utterance's features: [frames, 40] row-major. */
export interface Example {
  features: Float32Array;
  frames: number;
  label: number;
}

export function extractFeatures(samples: Float32Array, u: PlannedUtterance, extractor: LogMelExtractor): Example {
  const f = extractor.compute(addNoise(samples, u.snrDb, u.noiseSeed));
  return { features: f.data, frames: f.frames, label: u.digit };
}

/**
 * Per-band mean and standard deviation over every frame of the training examples. Subtracting the mean
 * and dividing by the deviation puts each band on the same scale (log energies differ by tens between
 * low and high bands), which the LSTM's gates like; padding is then 0, which is also the mean.
 */
export function bandStatistics(examples: readonly Example[], bands: number): { mean: Float32Array; std: Float32Array } {
  const sum = new Float64Array(bands);
  const sumSq = new Float64Array(bands);
  let frames = 0;
  for (const e of examples) {
    for (let t = 0; t < e.frames; t++) {
      for (let j = 0; j < bands; j++) {
        const v = e.features[t * bands + j];
        sum[j] += v;
        sumSq[j] += v * v;
      }
    }
    frames += e.frames;
  }
  const mean = Float32Array.from(sum, (s) => s / frames);
  const std = Float32Array.from(sumSq, (s, j) => Math.sqrt(Math.max(s / frames - mean[j] * mean[j], 1e-12)));
  return { mean, std };
}

export function normalize(e: Example, stats: { mean: Float32Array; std: Float32Array }): Example {
  const bands = stats.mean.length;
  const features = Float32Array.from(e.features, (v, i) => (v - stats.mean[i % bands]) / stats.std[i % bands]);
  return { ...e, features };
}

/** A padded batch: x [batch, time, bands] with zeros after each sequence's end, mask [batch, time] (1 real, 0 padding). */
export interface PaddedBatch {
  x: Float32Array;
  mask: Float32Array;
  labels: Int32Array;
  batch: number;
  time: number;
  bands: number;
}

/** Pad the chosen examples to the longest of them. */
export function padBatch(examples: readonly Example[], rows: ArrayLike<number>, bands: number): PaddedBatch {
  let time = 1;
  for (let i = 0; i < rows.length; i++) time = Math.max(time, examples[rows[i]].frames);
  const x = new Float32Array(rows.length * time * bands);
  const mask = new Float32Array(rows.length * time);
  const labels = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const e = examples[rows[i]];
    x.set(e.features, i * time * bands);
    mask.fill(1, i * time, i * time + e.frames);
    labels[i] = e.label;
  }
  return { x, mask, labels, batch: rows.length, time, bands };
}
