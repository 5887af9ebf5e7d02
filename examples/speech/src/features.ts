/**
 * 40-dimensional log-mel filterbank features, the acoustic input of the article's speech model.
 *
 * For a signal x sampled at 16 kHz:
 *
 *  1. pre-emphasis   y[n] = x[n] − 0.97·x[n−1]       (lifts the high frequencies that speech is weak in)
 *  2. framing        25 ms windows (400 samples) every 10 ms (160 samples):
 *                    frames = 1 + ⌊(N − 400) / 160⌋  (none when N < 400)
 *  3. window         Hamming: w[n] = 0.54 − 0.46·cos(2πn / (L − 1))  (tapers the frame's edges, so
 *                    cutting the signal does not smear energy over all frequencies)
 *  4. spectrum       P[k] = |FFT₅₁₂(frame)[k]|²,  k = 0 … 256   (bin k is k·16000/512 = 31.25·k Hz)
 *  5. mel filters    40 triangles, evenly spaced on the mel scale m(f) = 2595·log₁₀(1 + f/700) from
 *                    20 Hz to 8 kHz: E[j] = Σ_k H_j[k]·P[k]   (the ear resolves low pitches finely and
 *                    high ones coarsely; the mel scale spaces the bands the same way)
 *  6. log            F[j] = ln(max(E[j], 1e−10))    (loudness is perceived logarithmically; the floor
 *                    keeps silence finite)
 *
 * These are Kaldi's and python_speech_features' defaults (HTK's mel formula, no liftering, no DCT: the
 * filterbanks themselves, not MFCCs).
 */
import { nextPowerOfTwo, powerSpectrum } from './fft.js';

export interface FeatureOptions {
  sampleRate?: number;
  /** Window length in seconds (0.025) and hop in seconds (0.010). */
  windowSeconds?: number;
  hopSeconds?: number;
  melBands?: number;
  lowHz?: number;
  /** Default: half the sample rate (the Nyquist frequency). */
  highHz?: number;
  preEmphasis?: number;
  window?: 'hamming' | 'hann';
  /**
   * Vocal tract length perturbation (Jaitly & Hinton, 2013): move every filter's frequencies by the
   * factor α (below a knee; above it the warp runs linearly to the Nyquist frequency, so no band falls
   * off the spectrum). A speaker whose formants sit α times higher then gives the features a reference
   * speaker gives with α = 1; drawing α per training utterance imitates more speakers. Default 1.
   */
  warp?: number;
}

/**
 * The piecewise-linear warp of VTLP: f ↦ α·f up to the knee f₀ = 0.8·nyquist·min(1, 1/α), then the
 * straight line from (f₀, α·f₀) to (nyquist, nyquist). Monotonic, and fixes 0 and the Nyquist frequency.
 */
export function vtlpWarp(hz: number, alpha: number, nyquist: number): number {
  const knee = 0.8 * nyquist * Math.min(1, 1 / alpha);
  if (hz <= knee) return alpha * hz;
  return alpha * knee + ((nyquist - alpha * knee) * (hz - knee)) / (nyquist - knee);
}

export const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
export const melToHz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

/** Hamming (0.54 − 0.46 cos) or Hann (0.5 − 0.5 cos) window of length L. */
export function makeWindow(length: number, kind: 'hamming' | 'hann' = 'hamming'): Float64Array {
  const a = kind === 'hamming' ? 0.54 : 0.5;
  return Float64Array.from({ length }, (_, n) => a - (1 - a) * Math.cos((2 * Math.PI * n) / (length - 1)));
}

/** Number of whole frames of `windowLength` samples, `hop` apart, in `n` samples. */
export const frameCount = (n: number, windowLength: number, hop: number): number =>
  n < windowLength ? 0 : 1 + Math.floor((n - windowLength) / hop);

/**
 * The mel filterbank as a [bands][fftSize/2 + 1] matrix of triangle weights. Band j rises linearly from
 * the centre frequency of band j−1 to its own centre (weight 1) and falls to the centre of band j+1.
 */
export function melFilterbank(bands: number, fftSize: number, sampleRate: number, lowHz: number, highHz: number, warp = 1): Float64Array[] {
  const bins = fftSize / 2 + 1;
  const lowMel = hzToMel(lowHz);
  const highMel = hzToMel(highHz);
  // bands + 2 edge frequencies: each triangle spans three consecutive ones.
  const edgesHz = Array.from({ length: bands + 2 }, (_, i) =>
    vtlpWarp(melToHz(lowMel + ((highMel - lowMel) * i) / (bands + 1)), warp, sampleRate / 2));
  const binHz = (k: number): number => (k * sampleRate) / fftSize;
  return Array.from({ length: bands }, (_, j) => {
    const [left, centre, right] = [edgesHz[j], edgesHz[j + 1], edgesHz[j + 2]];
    const row = new Float64Array(bins);
    for (let k = 0; k < bins; k++) {
      const f = binHz(k);
      if (f > left && f <= centre) row[k] = (f - left) / (centre - left);
      else if (f > centre && f < right) row[k] = (right - f) / (right - centre);
    }
    return row;
  });
}

export interface Features {
  /** [frames, bands] row-major. */
  data: Float32Array;
  frames: number;
  bands: number;
}

/** A reusable extractor: the window and filterbank are computed once. */
export class LogMelExtractor {
  readonly sampleRate: number;
  readonly windowLength: number;
  readonly hop: number;
  readonly fftSize: number;
  readonly bands: number;
  readonly preEmphasis: number;
  private readonly window: Float64Array;
  private readonly filters: Float64Array[];
  /** The first and last FFT bin with a non-zero weight in each band (skips the zeros of the matrix). */
  private readonly spans: Array<[number, number]>;

  constructor(options: FeatureOptions = {}) {
    this.sampleRate = options.sampleRate ?? 16000;
    this.windowLength = Math.round((options.windowSeconds ?? 0.025) * this.sampleRate);
    this.hop = Math.round((options.hopSeconds ?? 0.01) * this.sampleRate);
    this.fftSize = nextPowerOfTwo(this.windowLength);
    this.bands = options.melBands ?? 40;
    this.preEmphasis = options.preEmphasis ?? 0.97;
    this.window = makeWindow(this.windowLength, options.window ?? 'hamming');
    this.filters = melFilterbank(this.bands, this.fftSize, this.sampleRate, options.lowHz ?? 20, options.highHz ?? this.sampleRate / 2, options.warp ?? 1);
    this.spans = this.filters.map((row) => {
      const nz = [...row.keys()].filter((k) => row[k] > 0);
      return nz.length ? [nz[0], nz[nz.length - 1]] : [0, -1];
    });
  }

  frameCount(samples: number): number { return frameCount(samples, this.windowLength, this.hop); }

  /** Mel band energies of one frame (before the log): E[j] = Σ_k H_j[k]·P[k]. */
  bandEnergies(frame: ArrayLike<number>): Float64Array {
    const power = powerSpectrum(frame, this.fftSize);
    return Float64Array.from(this.filters, (row, j) => {
      let e = 0;
      for (let k = this.spans[j][0]; k <= this.spans[j][1]; k++) e += row[k] * power[k];
      return e;
    });
  }

  /** Log-mel features of a whole signal. */
  compute(signal: Float32Array): Features {
    const frames = this.frameCount(signal.length);
    const data = new Float32Array(frames * this.bands);
    const frame = new Float64Array(this.windowLength);
    for (let t = 0; t < frames; t++) {
      const start = t * this.hop;
      for (let n = 0; n < this.windowLength; n++) {
        const i = start + n;
        // Pre-emphasis on the fly (the first sample of the signal has no predecessor).
        const emphasised = signal[i] - (i > 0 ? this.preEmphasis * signal[i - 1] : 0);
        frame[n] = emphasised * this.window[n];
      }
      const energies = this.bandEnergies(frame);
      for (let j = 0; j < this.bands; j++) data[t * this.bands + j] = Math.log(Math.max(energies[j], 1e-10));
    }
    return { data, frames, bands: this.bands };
  }
}
