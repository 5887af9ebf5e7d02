/**
 * From a WAV file to the model's input, the same way for the corpus and for a user's recording:
 *
 *   parseWav (any rate, mono or stereo, 8/16-bit PCM or float) → resample to 16 kHz → find the speech
 *   (vad.ts) → 40 log-mel bands (features.ts, VTLP-warped in training) → subtract each band's mean over
 *   the utterance → scale each band by the training set's mean and deviation.
 */
import { subtractBandMeans } from './corpus.js';
import type { Example } from './corpus.js';
import { LogMelExtractor } from './features.js';
import { resample } from './resample.js';
import { findSpeech } from './vad.js';
import type { Audio } from './wav.js';

export const SAMPLE_RATE = 16000;
export const BANDS = 40;

/** The samples at the pipeline's rate. */
export const at16k = (audio: Audio): Float32Array => resample(audio.samples, audio.sampleRate, SAMPLE_RATE);

/** A cache of extractors by VTLP warp factor (the filterbank is computed once per factor). */
export function extractorsByWarp(bands = BANDS): (warp: number) => LogMelExtractor {
  const cache = new Map<number, LogMelExtractor>();
  return (warp) => {
    let e = cache.get(warp);
    if (!e) { e = new LogMelExtractor({ melBands: bands, warp, sampleRate: SAMPLE_RATE }); cache.set(warp, e); }
    return e;
  };
}

/**
 * Features of the speech in a 16 kHz signal: the log-mel bands of the part the VAD finds, each band's
 * mean over that part subtracted (a voice's or a channel's fixed gain and spectral tilt add a constant to
 * a band's log energy). With `source` given, a signal without speech is an error naming it; without,
 * the whole signal is used (a training utterance drowned by its augmentation noise still trains).
 */
export function speechFeatures(samples: Float32Array, extractor: LogMelExtractor, label: number, source?: string): Example {
  const found = findSpeech(samples, SAMPLE_RATE);
  if (!found.speech && source !== undefined) throw new Error(`no speech found in ${source}: ${found.reason}`);
  const speech = found.speech ? samples.subarray(found.region.start, found.region.end) : samples;
  const f = extractor.compute(speech);
  subtractBandMeans(f.data, f.frames, f.bands);
  return { features: f.data, frames: f.frames, label };
}
