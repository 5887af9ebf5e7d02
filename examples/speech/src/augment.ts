/**
 * Seeded data augmentation for training: each epoch every training utterance is heard differently, so
 * the model learns the digit and not one rendering of it. Each transformation, and why it is here:
 *
 *  - speed        (0.9–1.1×, Ko et al. 2015) people speak faster and slower, and a faster tape also
 *                 raises pitch and formants: more speakers and tempos than the synthesisers give.
 *  - silence      (0–0.5 s before and after) a user's recording starts and ends where they pressed the
 *                 button, not where the word starts; the VAD (vad.ts) must find the word in it, and the
 *                 model must not expect the cut that the VAD happens to make.
 *  - noise        (white or brown, 5–30 dB SNR, 80% of the utterances) microphones hiss (white) and
 *                 rooms rumble (brown: power falling 6 dB an octave); both also move where the VAD cuts.
 *  - gain         (−20 to +6 dB, then clipped to [−1, 1] and rounded to 16 bits) recordings come at any
 *                 level. The band-mean subtraction removes a pure gain from the features, but not what
 *                 goes with it: a quiet recording is quantised coarsely, a loud one clips.
 *  - VTLP         (α in 0.8–1.25, features.ts) vocal tracts of other lengths move every formant by α.
 *  - SpecAugment  (Park et al. 2019; 2 frequency masks of up to 6 of the 40 bands, 2 time masks of up
 *                 to a tenth of the frames) a band lost to a channel, or a moment lost to a click, must
 *                 not decide the digit: the model learns to use all of the evidence.
 *
 * Every function takes its random numbers from a Random it is given, so the same seed gives the same
 * augmented corpus on every machine.
 */
import { Random } from 'gradlab';
import { changeSpeed } from './resample.js';
import { findSpeech } from './vad.js';

export type NoiseColour = 'white' | 'brown';

/**
 * Mean square of the speech part (found by the VAD, without its margin: the margin is mostly background),
 * or of the whole signal when it finds none. The reference power of an SNR.
 */
export function speechPower(samples: Float32Array, sampleRate: number): number {
  const found = findSpeech(samples, sampleRate, { marginSeconds: 0 });
  const part = found.speech ? samples.subarray(found.region.start, found.region.end) : samples;
  let sum = 0;
  for (const s of part) sum += s * s;
  return part.length ? sum / part.length : 0;
}

/** The signal with `leadSeconds` of zeros before and `trailSeconds` after. */
export function padSilence(samples: Float32Array, leadSeconds: number, trailSeconds: number, sampleRate: number): Float32Array {
  if (!(leadSeconds >= 0 && trailSeconds >= 0)) throw new Error(`padSilence: seconds must be >= 0, got lead ${leadSeconds}, trail ${trailSeconds}`);
  const lead = Math.round(leadSeconds * sampleRate);
  const out = new Float32Array(lead + samples.length + Math.round(trailSeconds * sampleRate));
  out.set(samples, lead);
  return out;
}

/** Unit-power noise of the colour: white, or brown (white through a leaky integrator y ← 0.98·y + w). */
export function makeNoise(length: number, colour: NoiseColour, rng: Random): Float32Array {
  const noise = new Float32Array(length);
  let y = 0;
  let power = 0;
  for (let i = 0; i < length; i++) {
    const w = rng.normal();
    y = colour === 'brown' ? 0.98 * y + w : w;
    noise[i] = y;
    power += y * y;
  }
  const scale = power > 0 ? 1 / Math.sqrt(power / length) : 0;
  for (let i = 0; i < length; i++) noise[i] *= scale;
  return noise;
}

/**
 * Add noise at a signal-to-noise ratio:  SNR_dB = 10·log₁₀(P_speech / P_noise), P the mean square.
 * P_speech is `speechPowerValue` when given (the speech's power before silence was padded on), else
 * measured with speechPower.
 */
export function addNoise(samples: Float32Array, snrDb: number, rng: Random, colour: NoiseColour = 'white', speechPowerValue?: number): Float32Array {
  if (!Number.isFinite(snrDb)) throw new Error(`addNoise: snrDb must be a finite number of dB, got ${snrDb}`);
  const power = speechPowerValue ?? speechPower(samples, 16000);
  const sigma = Math.sqrt(power / 10 ** (snrDb / 10));
  const noisy = makeNoise(samples.length, colour, rng);
  // Plain loops here and below: Float32Array.from with a mapping function is several times slower in V8,
  // and these run on every training utterance every epoch.
  for (let i = 0; i < noisy.length; i++) noisy[i] = samples[i] + sigma * noisy[i];
  return noisy;
}

/** Scale by `gainDb`, clip to [−1, 1] and round to 16-bit steps, as a recorder at that level would. */
export function applyGain(samples: Float32Array, gainDb: number): Float32Array {
  if (!Number.isFinite(gainDb)) throw new Error(`applyGain: gainDb must be a finite number, got ${gainDb}`);
  const g = 10 ** (gainDb / 20);
  const out = new Float32Array(samples.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(Math.max(-1, Math.min(1, g * samples[i])) * 32767) / 32767;
  return out;
}

export interface SpecAugmentOptions {
  frequencyMasks?: number;
  maxBands?: number;
  timeMasks?: number;
  /** Each time mask covers at most this fraction of the frames. */
  maxTimeFraction?: number;
}

/**
 * In place: zero `frequencyMasks` runs of 0…maxBands bands over all frames, and `timeMasks` runs of
 * 0…maxTimeFraction·frames frames over all bands. Zero is the mean of normalised features, so a mask
 * reads as "no information", not as silence.
 */
export function specAugment(data: Float32Array, frames: number, bands: number, rng: Random, options: SpecAugmentOptions = {}): void {
  const { frequencyMasks = 2, maxBands = 6, timeMasks = 2, maxTimeFraction = 0.1 } = options;
  for (let m = 0; m < frequencyMasks; m++) {
    const width = rng.int(maxBands + 1);
    const from = rng.int(bands - width + 1);
    for (let t = 0; t < frames; t++) data.fill(0, t * bands + from, t * bands + from + width);
  }
  const maxFrames = Math.floor(maxTimeFraction * frames);
  for (let m = 0; m < timeMasks; m++) {
    const width = rng.int(maxFrames + 1);
    const from = rng.int(frames - width + 1);
    data.fill(0, from * bands, (from + width) * bands);
  }
}

export interface WaveAugmentation {
  speed: [number, number];
  maxSilenceSeconds: number;
  noiseProbability: number;
  snrDb: [number, number];
  gainDb: [number, number];
  warp: [number, number];
}

export const TRAINING_AUGMENTATION: WaveAugmentation = {
  speed: [0.9, 1.1], maxSilenceSeconds: 0.5, noiseProbability: 0.8, snrDb: [5, 30], gainDb: [-20, 6], warp: [0.8, 1.25],
};

/**
 * One random rendering of a 16 kHz utterance for training — speed, silence, noise, gain in that order
 * (a recorder's level applies to the speech and the room alike) — and the VTLP factor for its features.
 */
export function augmentWave(samples: Float32Array, rng: Random, a: WaveAugmentation = TRAINING_AUGMENTATION): { samples: Float32Array; warp: number } {
  const rate = 16000;
  let x = changeSpeed(samples, rng.uniform(a.speed[0], a.speed[1]));
  const power = speechPower(x, rate);
  x = padSilence(x, rng.uniform(0, a.maxSilenceSeconds), rng.uniform(0, a.maxSilenceSeconds), rate);
  if (rng.next() < a.noiseProbability) x = addNoise(x, rng.uniform(a.snrDb[0], a.snrDb[1]), rng, rng.next() < 0.5 ? 'white' : 'brown', power);
  x = applyGain(x, rng.uniform(a.gainDb[0], a.gainDb[1]));
  return { samples: x, warp: Math.round(100 * rng.uniform(a.warp[0], a.warp[1])) / 100 };
}
