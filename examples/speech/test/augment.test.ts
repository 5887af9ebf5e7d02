import { Random } from 'gradlab';
import { TRAINING_AUGMENTATION, addNoise, applyGain, augmentWave, makeNoise, padSilence, specAugment, speechPower } from '../src/augment';

const RATE = 16000;
const meanSquare = (x: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < x.length; i++) s += x[i] * x[i]; return s / x.length; };
const lag1 = (x: Float32Array): number => { let s = 0; for (let i = 1; i < x.length; i++) s += x[i] * x[i - 1]; return s / (x.length - 1) / meanSquare(x); };
const buzz = (seconds: number, amplitude = 0.3): Float32Array =>
  Float32Array.from({ length: Math.round(seconds * RATE) }, (_, n) => amplitude * Math.sin((2 * Math.PI * 180 * n) / RATE));

describe('silence padding', () => {
  test('zeros before and after, the signal unchanged between', () => {
    const x = Float32Array.from([0.1, -0.2, 0.3]);
    const y = padSilence(x, 0.001, 0.0005, RATE); // 16 and 8 samples
    expect(y.length).toBe(16 + 3 + 8);
    expect(Array.from(y.subarray(16, 19))).toEqual(Array.from(x));
    expect(y.subarray(0, 16).every((v) => v === 0) && y.subarray(19).every((v) => v === 0)).toBe(true);
    expect(() => padSilence(x, -1, 0, RATE)).toThrow('padSilence: seconds must be >= 0, got lead -1, trail 0');
  });
});

describe('background noise', () => {
  test('unit power; white is uncorrelated from sample to sample, brown strongly correlated (a rumble)', () => {
    const white = makeNoise(50000, 'white', new Random(1));
    const brown = makeNoise(50000, 'brown', new Random(1));
    expect(meanSquare(white)).toBeCloseTo(1, 6);
    expect(meanSquare(brown)).toBeCloseTo(1, 6);
    expect(Math.abs(lag1(white))).toBeLessThan(0.02);
    expect(lag1(brown)).toBeGreaterThan(0.95);
  });

  test('added at the requested SNR relative to the speech, seeded', () => {
    const speech = buzz(0.4);
    const padded = padSilence(speech, 0.3, 0.3, RATE);
    for (const colour of ['white', 'brown'] as const) {
      const noisy = addNoise(padded, 12, new Random(5), colour, meanSquare(speech));
      const noise = noisy.map((v, i) => v - padded[i]);
      expect(10 * Math.log10(meanSquare(speech) / meanSquare(noise))).toBeCloseTo(12, 1);
      expect(addNoise(padded, 12, new Random(5), colour, meanSquare(speech))).toEqual(noisy);
      expect(addNoise(padded, 12, new Random(6), colour, meanSquare(speech))).not.toEqual(noisy);
    }
    expect(() => addNoise(speech, NaN, new Random(1))).toThrow('addNoise: snrDb must be a finite number of dB, got NaN');
  });

  test('speechPower measures the speech, not the silence padded around it', () => {
    const speech = buzz(0.4);
    expect(speechPower(padSilence(speech, 0.5, 0.5, RATE), RATE)).toBeGreaterThan(0.9 * meanSquare(speech));
    expect(meanSquare(padSilence(speech, 0.5, 0.5, RATE))).toBeLessThan(0.3 * meanSquare(speech));
  });
});

describe('gain', () => {
  test('−6 dB halves the amplitude; +20 dB clips at ±1; the result is on the 16-bit grid', () => {
    const x = Float32Array.from([0.5, -0.25, 0.09]);
    const quiet = applyGain(x, -20 * Math.log10(2));
    expect(Array.from(quiet)).toEqual([0.25, -0.125, 0.045].map((v) => Math.fround(Math.round(v * 32767) / 32767)));
    const loud = applyGain(x, 20);
    expect(loud[0]).toBe(1);
    expect(loud[1]).toBe(-1);
    for (const v of loud) expect(Math.abs(v * 32767 - Math.round(v * 32767))).toBeLessThan(1e-3);
    expect(() => applyGain(x, Infinity)).toThrow('applyGain: gainDb must be a finite number, got Infinity');
  });
});

describe('SpecAugment', () => {
  test('frequency masks zero whole bands over all frames, time masks whole frames; at most the set widths', () => {
    const frames = 50; const bands = 40;
    for (let seed = 0; seed < 20; seed++) {
      const x = new Float32Array(frames * bands).fill(1);
      specAugment(x, frames, bands, new Random(seed), { frequencyMasks: 1, maxBands: 6, timeMasks: 0 });
      const zeroBands = Array.from({ length: bands }, (_, j) => j).filter((j) => x[j] === 0);
      expect(zeroBands.length).toBeLessThanOrEqual(6);
      for (const j of zeroBands) for (let t = 0; t < frames; t++) expect(x[t * bands + j]).toBe(0);
      if (zeroBands.length) expect(zeroBands[zeroBands.length - 1] - zeroBands[0]).toBe(zeroBands.length - 1); // one run
      const y = new Float32Array(frames * bands).fill(1);
      specAugment(y, frames, bands, new Random(seed), { frequencyMasks: 0, timeMasks: 1, maxTimeFraction: 0.1 });
      const zeroFrames = Array.from({ length: frames }, (_, t) => t).filter((t) => y[t * bands] === 0);
      expect(zeroFrames.length).toBeLessThanOrEqual(5);
      for (const t of zeroFrames) expect(y.subarray(t * bands, (t + 1) * bands).every((v) => v === 0)).toBe(true);
    }
    const a = new Float32Array(frames * bands).fill(1);
    const b = new Float32Array(frames * bands).fill(1);
    specAugment(a, frames, bands, new Random(9));
    specAugment(b, frames, bands, new Random(9));
    expect(a).toEqual(b);
    expect(a.some((v) => v === 0)).toBe(true);
  });
});

describe('one training rendering (augmentWave)', () => {
  test('seeded; longer by the silence, shorter or longer by the speed; warp within VTLP range', () => {
    const x = buzz(0.5);
    const one = augmentWave(x, new Random(4));
    expect(augmentWave(x, new Random(4))).toEqual(one);
    expect(augmentWave(x, new Random(5)).samples).not.toEqual(one.samples);
    const a = TRAINING_AUGMENTATION;
    expect(one.samples.length).toBeGreaterThanOrEqual(Math.floor(x.length / a.speed[1]));
    expect(one.samples.length).toBeLessThanOrEqual(Math.ceil(x.length / a.speed[0]) + 2 * a.maxSilenceSeconds * RATE + 2);
    for (let seed = 0; seed < 30; seed++) {
      const { warp } = augmentWave(x, new Random(seed));
      expect(warp).toBeGreaterThanOrEqual(a.warp[0]);
      expect(warp).toBeLessThanOrEqual(a.warp[1]);
    }
  });
});
