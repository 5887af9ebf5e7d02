/**
 * An energy-based voice-activity detector: where in a recording is the spoken part?
 *
 * The model must not depend on how a file was cut (the corpus builder once trimmed every file with sox,
 * and the model learned that speech starts at frame 0). So the pipeline finds the speech itself:
 *
 *  1. energy    e[t] = 10·log₁₀(mean of x² over frame t) in dB full scale, 25 ms frames every 10 ms
 *               (the framing of the features)
 *  2. levels    peak = max e;  floor = the 10th percentile of e (the background: noise, hum or silence
 *               fills at least the quietest tenth of a recording that has any pause)
 *  3. threshold max(peak − 40 dB, floor + 6 dB): 40 dB below the loudest frame keeps the weak consonants
 *               (the "f" of "five", the "s" of "six") of a clean recording; 6 dB over the background keeps
 *               a noisy one from counting its noise as speech
 *  4. region    from the first to the last run of 3 frames (30 ms) above the threshold (a click is
 *               shorter), widened by a 100 ms margin each side (the onset of a consonant rises slowly)
 *
 * It finds no speech — and says why — when the loudest frame is below −60 dBFS (silence or digital
 * zero) or stands less than 10 dB above the background (steady noise, a hum, or nothing but one sound).
 */

export interface VadOptions {
  frameSeconds?: number;
  hopSeconds?: number;
  /** The threshold is at most this far below the peak (dB). */
  belowPeakDb?: number;
  /** … and at least this far above the floor (dB). */
  aboveFloorDb?: number;
  /** Consecutive frames above the threshold that count as speech. */
  minFrames?: number;
  /** Kept each side of the speech (seconds). */
  marginSeconds?: number;
  /** No speech when the peak is below this (dBFS) … */
  silenceDbfs?: number;
  /** … or less than this above the floor (dB). */
  minRangeDb?: number;
}

export interface SpeechRegion {
  /** The speech: samples [start, end). */
  start: number;
  end: number;
  peakDb: number;
  floorDb: number;
}

export type VadResult = { speech: true; region: SpeechRegion } | { speech: false; reason: string };

/** Mean-square energy in dB of each frame (−120 dB for digital silence). */
export function frameEnergiesDb(samples: Float32Array, frameLength: number, hop: number): Float64Array {
  const frames = samples.length < frameLength ? 0 : 1 + Math.floor((samples.length - frameLength) / hop);
  const out = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    let sum = 0;
    for (let n = t * hop; n < t * hop + frameLength; n++) sum += samples[n] * samples[n];
    out[t] = 10 * Math.log10(sum / frameLength + 1e-12);
  }
  return out;
}

export function findSpeech(samples: Float32Array, sampleRate: number, options: VadOptions = {}): VadResult {
  const frameLength = Math.round((options.frameSeconds ?? 0.025) * sampleRate);
  const hop = Math.round((options.hopSeconds ?? 0.01) * sampleRate);
  const minFrames = options.minFrames ?? 3;
  const energies = frameEnergiesDb(samples, frameLength, hop);
  if (energies.length < minFrames) {
    return { speech: false, reason: `it lasts ${(samples.length / sampleRate).toFixed(3)} s, shorter than ${minFrames} frames of speech` };
  }
  const sorted = Float64Array.from(energies).sort();
  const peakDb = sorted[sorted.length - 1];
  const floorDb = sorted[Math.floor(0.1 * (sorted.length - 1))];
  const silenceDbfs = options.silenceDbfs ?? -60;
  const minRangeDb = options.minRangeDb ?? 10;
  if (peakDb < silenceDbfs) {
    return { speech: false, reason: `its loudest 25 ms is at ${peakDb.toFixed(1)} dBFS, below ${silenceDbfs} dBFS: it is silent` };
  }
  if (peakDb - floorDb < minRangeDb) {
    return { speech: false, reason: `its loudest 25 ms is only ${(peakDb - floorDb).toFixed(1)} dB above its background (speech stands out by ${minRangeDb} dB or more): it sounds like steady noise` };
  }
  const threshold = Math.max(peakDb - (options.belowPeakDb ?? 40), floorDb + (options.aboveFloorDb ?? 6));
  let run = 0;
  let first = -1;
  let last = -1;
  for (let t = 0; t < energies.length; t++) {
    run = energies[t] > threshold ? run + 1 : 0;
    if (run >= minFrames) { if (first < 0) first = t - minFrames + 1; last = t; }
  }
  if (first < 0) {
    return { speech: false, reason: `no ${minFrames} consecutive frames rise above ${threshold.toFixed(1)} dBFS: only clicks stand out` };
  }
  const margin = Math.round((options.marginSeconds ?? 0.1) * sampleRate);
  const start = Math.max(0, first * hop - margin);
  const end = Math.min(samples.length, last * hop + frameLength + margin);
  return { speech: true, region: { start, end, peakDb, floorDb } };
}

/** The spoken part of a recording; throws, naming the source and the reason, when there is none. */
export function trimToSpeech(samples: Float32Array, sampleRate: number, source = 'the recording', options: VadOptions = {}): Float32Array {
  const found = findSpeech(samples, sampleRate, options);
  if (!found.speech) throw new Error(`no speech found in ${source}: ${found.reason}`);
  return samples.subarray(found.region.start, found.region.end);
}
