/**
 * The spoken-digit corpus: which utterances to synthesise, and what each is for.
 *
 *  - train, val, test   espeak-ng, split by speaker. Each espeak-ng *variant* (the timbre: m3, f2, croak, …)
 *                       is one speaker; the test set's variants — in every accent — never occur in training,
 *                       and neither do the validation set's. Festival's two diphone voices (kal, ked) also
 *                       train: a second synthesiser, concatenating recorded diphones where espeak-ng
 *                       computes formants.
 *  - synth-test         synthesisers never heard in training or validation: classic eSpeak 1.48 (every
 *                       English voice and variant) and Festival's HTS voice cmu_us_slt_arctic_hts (a
 *                       statistical parametric synthesiser, female).
 *  - flite              CMU Flite, kept for a last independent check of the finished model only.
 *
 * Every utterance gets, from the seed: a pitch (30–70), a speed (130–210 words per minute) and, for the
 * utterances the model is judged on, a noise level (clean, or white noise at 30, 20 or 10 dB signal-to-
 * noise ratio). Training utterances get fresh noise and more every epoch instead (augment.ts).
 */
import { Random } from 'gradlab';
import {
  ACCENTS, CLASSIC_ACCENTS, CLASSIC_VARIANTS, DIGITS, FESTIVAL_DIPHONE_VOICES, FESTIVAL_HTS_VOICES, FLITE_VOICES, VARIANTS, voiceOf,
} from './synth.js';
import type { Engine, Utterance } from './synth.js';

export type SpeakerSplit = 'train' | 'val' | 'test';
export type Split = SpeakerSplit | 'synth-test' | 'flite';

export interface PlannedUtterance extends Utterance {
  split: Split;
  /** Signal-to-noise ratio of the white noise added when the model is judged on it, in dB; null for none. */
  snrDb: number | null;
  /** Seed of this utterance's noise. */
  noiseSeed: number;
}

export interface CorpusOptions {
  seed: number;
  /** espeak-ng utterances per voice and digit. */
  repeats?: number;
  /** The espeak-ng accents and variants to use (default: all of them). */
  accents?: readonly string[];
  variants?: readonly string[];
  /** Fractions of the espeak-ng variants (speakers) held out for testing and for validation. */
  testFraction?: number;
  valFraction?: number;
  /** Noise levels drawn from, uniformly. */
  snrLevels?: ReadonlyArray<number | null>;
  /** Training utterances per Festival diphone voice and digit (default 30). */
  festivalRepeats?: number;
  /** How many classic eSpeak voices (accent × variant, in order) the synth-test set has (default all 114). */
  classicVoices?: number;
  /** Utterances per digit of the held-out HTS voice (default 20). */
  htsRepeats?: number;
  /** Utterances per Flite voice and digit (default 6; 0 leaves Flite out). */
  fliteRepeats?: number;
}

export const DEFAULT_SNR_LEVELS: ReadonlyArray<number | null> = [null, 30, 20, 10];

/**
 * The speaker a variant belongs to. espeak-ng ships near-copies of some voices under numbered names
 * (Gene and Gene2, iven … iven4, klatt … klatt4, steph … steph3, edward and edward2): one speaker each,
 * kept on one side of the split, or the "unseen" test voice would have a sibling in training. m1 … m8
 * and f1 … f5 are distinct voices.
 */
export const speakerOf = (variant: string): string => (/^[mf]\d$/.test(variant) ? variant : variant.replace(/\d+$/, ''));

/**
 * Voices that share a way of speaking no other voice has. Whispering (no voicing at all) is one: a
 * model that never heard a whisper cannot be expected to understand one, so at least one voice of each
 * style stays in training; the others may still be test voices, unseen as speakers.
 */
export const STYLES: ReadonlyArray<readonly string[]> = [['whisper', 'whisperf']];

/**
 * Which variants are for testing, validation and training: speakers (speakerOf) in a seeded shuffle,
 * taken for testing and validation until each has its share, skipping a speaker whose removal would
 * leave a style (STYLES) without a training voice; the rest train.
 */
export function splitSpeakers(variants: readonly string[], seed: number, testFraction: number, valFraction: number): Record<SpeakerSplit, string[]> {
  const speakers = [...new Set(variants.map(speakerOf))];
  new Random(seed).shuffle(speakers);
  const members = (sp: string): string[] => variants.filter((v) => speakerOf(v) === sp);
  const nTest = Math.max(1, Math.round(variants.length * testFraction));
  const nVal = valFraction > 0 ? Math.max(1, Math.round(variants.length * valFraction)) : 0;
  if (nTest + nVal >= variants.length) {
    throw new Error(`speech corpus: ${variants.length} speakers are too few to hold out ${nTest} for testing and ${nVal} for validation`);
  }
  const out: Record<SpeakerSplit, string[]> = { test: [], val: [], train: [] };
  const heldOut = new Set<string>();
  const leavesStyleUntrained = (candidates: string[]): boolean => STYLES.some((style) => {
    const present = style.filter((v) => variants.includes(v));
    return present.length > 0 && present.every((v) => heldOut.has(v) || candidates.includes(v));
  });
  for (const sp of speakers) {
    const vs = members(sp);
    const split: SpeakerSplit = out.test.length < nTest ? 'test' : out.val.length < nVal ? 'val' : 'train';
    if (split !== 'train' && leavesStyleUntrained(vs)) { out.train.push(...vs); continue; }
    out[split].push(...vs);
    if (split !== 'train') vs.forEach((v) => heldOut.add(v));
  }
  return out;
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
  const add = (engine: Engine, accent: string, variant: string, split: Split, times: number): void => {
    for (let digit = 0; digit < DIGITS.length; digit++) {
      for (let r = 0; r < times; r++) {
        out.push({
          engine, digit, accent, variant,
          pitch: 30 + rng.int(41),
          speed: 130 + 5 * rng.int(17),
          split,
          snrDb: snrLevels[rng.int(snrLevels.length)],
          noiseSeed: rng.nextUint32(),
        });
      }
    }
  };
  for (const variant of variants) for (const accent of accents) add('espeak-ng', accent, variant, splitOf.get(variant)!, repeats);
  for (const voice of FESTIVAL_DIPHONE_VOICES) add('festival', 'us', voice, 'train', options.festivalRepeats ?? 30);
  const classic = CLASSIC_ACCENTS.flatMap((accent) => CLASSIC_VARIANTS.map((variant) => [accent, variant] as const));
  for (const [accent, variant] of classic.slice(0, options.classicVoices ?? classic.length)) add('espeak', accent, variant, 'synth-test', 1);
  for (const voice of FESTIVAL_HTS_VOICES) add('festival', 'us', voice, 'synth-test', options.htsRepeats ?? 20);
  for (const voice of FLITE_VOICES) add('flite', 'us', voice, 'flite', options.fliteRepeats ?? 6);
  return out;
}

/** The distinct voices (engine, accent, variant) of a list of utterances. */
export const voicesOf = (us: readonly Utterance[]): Set<string> => new Set(us.map((u) => `${u.engine}:${voiceOf(u)}`));

/** One utterance's features: [frames, 40] row-major. */
export interface Example {
  features: Float32Array;
  frames: number;
  label: number;
}

/** In place: x[t, j] −= mean over t of x[t, j]. */
export function subtractBandMeans(data: Float32Array, frames: number, bands: number): void {
  if (frames === 0) return;
  for (let j = 0; j < bands; j++) {
    let sum = 0;
    for (let t = 0; t < frames; t++) sum += data[t * bands + j];
    const mean = sum / frames;
    for (let t = 0; t < frames; t++) data[t * bands + j] -= mean;
  }
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
  const features = new Float32Array(e.features.length);
  for (let i = 0; i < features.length; i++) features[i] = (e.features[i] - stats.mean[i % bands]) / stats.std[i % bands];
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
