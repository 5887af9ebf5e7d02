import { fft, isPowerOfTwo, nextPowerOfTwo, powerSpectrum } from '../src/fft';
import { LogMelExtractor, frameCount, hzToMel, makeWindow, melFilterbank, melToHz, vtlpWarp } from '../src/features';

/** The O(N²) definition, X[k] = Σ x[n]·e^{−2πikn/N}: the reference for the FFT. */
function naiveDft(re: number[], im: number[]): [number[], number[]] {
  const n = re.length;
  const outRe: number[] = [];
  const outIm: number[] = [];
  for (let k = 0; k < n; k++) {
    let sr = 0; let si = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * k * t) / n;
      sr += re[t] * Math.cos(a) - im[t] * Math.sin(a);
      si += re[t] * Math.sin(a) + im[t] * Math.cos(a);
    }
    outRe.push(sr); outIm.push(si);
  }
  return [outRe, outIm];
}

/** A deterministic pseudo-random sequence in [−1, 1). */
const noise = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.5 + Math.cos(i * seed) * 0.5);

describe('FFT', () => {
  test.each([1, 2, 4, 8, 64, 256])('matches the naive DFT for N = %i', (n) => {
    const re = noise(n, 3); const im = noise(n, 7);
    const [wantRe, wantIm] = naiveDft(re, im);
    const gotRe = Float64Array.from(re); const gotIm = Float64Array.from(im);
    fft(gotRe, gotIm);
    for (let k = 0; k < n; k++) {
      expect(gotRe[k]).toBeCloseTo(wantRe[k], 8);
      expect(gotIm[k]).toBeCloseTo(wantIm[k], 8);
    }
  });

  test("Parseval: Σ|x|² = (1/N)·Σ|X|²", () => {
    const n = 256;
    const x = noise(n, 5);
    const spectrumRe = Float64Array.from(x); const spectrumIm = new Float64Array(n);
    fft(spectrumRe, spectrumIm);
    const timeEnergy = x.reduce((s, v) => s + v * v, 0);
    let freqEnergy = 0;
    for (let k = 0; k < n; k++) freqEnergy += spectrumRe[k] ** 2 + spectrumIm[k] ** 2;
    expect(freqEnergy / n).toBeCloseTo(timeEnergy, 8);
  });

  test('a cosine on bin k0 puts all its power in bins k0 and N − k0 (half spectrum: k0 only)', () => {
    const n = 64; const k0 = 5;
    const x = Array.from({ length: n }, (_, t) => Math.cos((2 * Math.PI * k0 * t) / n));
    const p = powerSpectrum(x, n);
    expect(p.length).toBe(n / 2 + 1);
    // X[k0] = N/2 for a unit cosine, so |X[k0]|² = N²/4.
    expect(p[k0]).toBeCloseTo((n * n) / 4, 6);
    p.forEach((v, k) => { if (k !== k0) expect(v).toBeLessThan(1e-9); });
  });

  test('sizes: powers of two only, with helpful errors', () => {
    expect([1, 2, 512].every(isPowerOfTwo)).toBe(true);
    expect([0, 3, 400].some(isPowerOfTwo)).toBe(false);
    expect(nextPowerOfTwo(400)).toBe(512);
    expect(() => fft(new Float64Array(6), new Float64Array(6))).toThrow('fft: length 6 is not a power of two');
    expect(() => powerSpectrum(new Float64Array(600), 512)).toThrow(/600 samples does not fit an FFT of size 512/);
  });
});

describe('mel scale and filterbank', () => {
  test('hzToMel and melToHz invert each other; 1000 Hz is about 1000 mel', () => {
    for (const hz of [0, 20, 440, 1000, 4000, 8000]) expect(melToHz(hzToMel(hz))).toBeCloseTo(hz, 6);
    // 2595·log10(1 + 1000/700) = 2595·log10(17/7) ≈ 999.99
    expect(hzToMel(1000)).toBeCloseTo(999.99, 1);
  });

  test('40 triangles with peaks at most 1; neighbouring triangles sum to 1 between the first and last centre', () => {
    const bank = melFilterbank(40, 512, 16000, 20, 8000);
    expect(bank.length).toBe(40);
    expect(bank[0].length).toBe(257);
    const lowMel = hzToMel(20); const highMel = hzToMel(8000);
    const centreHz = (j: number): number => melToHz(lowMel + ((highMel - lowMel) * (j + 1)) / 41);
    for (const row of bank) expect(Math.max(...row)).toBeLessThanOrEqual(1);
    for (let k = 0; k < 257; k++) {
      const f = (k * 16000) / 512;
      if (f <= centreHz(0) || f >= centreHz(39)) continue;
      const total = bank.reduce((s, row) => s + row[k], 0);
      expect(total).toBeCloseTo(1, 10);
    }
    // Low bands are narrow, high bands wide (the mel scale).
    const width = (row: Float64Array): number => row.filter((v) => v > 0).length;
    expect(width(bank[39])).toBeGreaterThan(4 * width(bank[5]));
  });
});

describe('vocal tract length perturbation', () => {
  test('the warp is α·f below the knee, fixes 0 and Nyquist, and is increasing', () => {
    for (const alpha of [0.8, 1, 1.25]) {
      expect(vtlpWarp(0, alpha, 8000)).toBe(0);
      expect(vtlpWarp(8000, alpha, 8000)).toBeCloseTo(8000, 9);
      expect(vtlpWarp(1000, alpha, 8000)).toBeCloseTo(1000 * alpha, 9); // 1 kHz is below every knee (≥ 5.12 kHz)
      for (let f = 0; f < 8000; f += 250) expect(vtlpWarp(f + 250, alpha, 8000)).toBeGreaterThan(vtlpWarp(f, alpha, 8000));
    }
    expect(melFilterbank(40, 512, 16000, 20, 8000, 1)).toEqual(melFilterbank(40, 512, 16000, 20, 8000));
  });

  test('a voice α times higher, analysed with warp α, peaks in the band the reference voice peaks in', () => {
    const sr = 16000;
    const tone = (hz: number): Float32Array => Float32Array.from({ length: 3200 }, (_, n) => 0.5 * Math.sin((2 * Math.PI * hz * n) / sr));
    const peakBand = (f: { data: Float32Array; frames: number }): number => {
      const row = Array.from(f.data.subarray(40 * 5, 40 * 6));
      return row.indexOf(Math.max(...row));
    };
    const reference = peakBand(new LogMelExtractor({ preEmphasis: 0 }).compute(tone(900)));
    const higher = tone(900 * 1.2);
    expect(peakBand(new LogMelExtractor({ preEmphasis: 0 }).compute(higher))).toBeGreaterThan(reference);
    expect(peakBand(new LogMelExtractor({ preEmphasis: 0, warp: 1.2 }).compute(higher))).toBe(reference);
  });
});

describe('log-mel features', () => {
  const sr = 16000;
  const tone = (hz: number, seconds: number, amplitude = 0.5): Float32Array =>
    Float32Array.from({ length: Math.round(sr * seconds) }, (_, n) => amplitude * Math.sin((2 * Math.PI * hz * n) / sr));

  test('frame counts: 1 + ⌊(N − 400)/160⌋, none below one window', () => {
    const ex = new LogMelExtractor();
    expect([ex.windowLength, ex.hop, ex.fftSize, ex.bands]).toEqual([400, 160, 512, 40]);
    for (const [n, want] of [[399, 0], [400, 1], [559, 1], [560, 2], [16000, 98]]) {
      expect(frameCount(n, 400, 160)).toBe(want);
      const f = ex.compute(new Float32Array(n));
      expect([f.frames, f.data.length]).toEqual([want, want * 40]);
    }
  });

  test.each([300, 1000, 2500, 6000])("a pure %i Hz tone peaks in the band whose centre is nearest", (hz) => {
    const ex = new LogMelExtractor({ preEmphasis: 0 });
    const f = ex.compute(tone(hz, 0.2));
    const lowMel = hzToMel(20); const highMel = hzToMel(8000);
    const centres = Array.from({ length: 40 }, (_, j) => lowMel + ((highMel - lowMel) * (j + 1)) / 41);
    const nearest = centres.reduce((best, c, j) => (Math.abs(c - hzToMel(hz)) < Math.abs(centres[best] - hzToMel(hz)) ? j : best), 0);
    for (let t = 0; t < f.frames; t++) {
      const row = Array.from(f.data.subarray(t * 40, (t + 1) * 40));
      const peak = row.indexOf(Math.max(...row));
      // The tone sits between two centres: the peak is the nearest band or its neighbour on the tone's side.
      expect(Math.abs(peak - nearest)).toBeLessThanOrEqual(1);
      // And it towers over bands far away (log energy: ln 10⁴ ≈ 9.2 is 10,000× the energy).
      expect(row[peak] - row[(peak + 20) % 40]).toBeGreaterThan(9.2);
    }
  });

  test('scaling the signal by g shifts every log energy by 2·ln g', () => {
    const ex = new LogMelExtractor();
    const a = ex.compute(tone(700, 0.1, 0.1));
    const b = ex.compute(tone(700, 0.1, 0.4));
    for (let i = 0; i < a.data.length; i++) {
      if (a.data[i] > -15) expect(b.data[i] - a.data[i]).toBeCloseTo(2 * Math.log(4), 3);
    }
  });

  test('Hamming window: 0.08 at the ends, 1 in the middle, symmetric', () => {
    const w = makeWindow(401);
    expect(w[0]).toBeCloseTo(0.08, 12);
    expect(w[400]).toBeCloseTo(0.08, 12);
    expect(w[200]).toBeCloseTo(1, 12);
    for (let n = 0; n < 401; n++) expect(w[n]).toBeCloseTo(w[400 - n], 12);
    expect(makeWindow(401, 'hann')[0]).toBeCloseTo(0, 12);
  });
});
