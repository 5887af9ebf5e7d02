import { changeSpeed, resample } from '../src/resample';

const tone = (hz: number, rate: number, seconds: number, amplitude = 0.5): Float32Array =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, n) => amplitude * Math.sin((2 * Math.PI * hz * n) / rate));

/** Largest |x| over the middle half (away from the filter's edge effects). */
const middlePeak = (x: Float32Array): number => x.subarray(x.length >> 2, (3 * x.length) >> 2).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('resample', () => {
  test('a 1 kHz tone at 22,050 Hz becomes the same tone sampled at 16 kHz', () => {
    const out = resample(tone(1000, 22050, 0.5), 22050, 16000);
    expect(out.length).toBe(Math.floor((0.5 * 22050 * 16000) / 22050));
    const expected = tone(1000, 16000, 0.5);
    let worst = 0;
    for (let j = 1000; j < out.length - 1000; j++) worst = Math.max(worst, Math.abs(out[j] - expected[j]));
    expect(worst).toBeLessThan(2e-3);
  });

  test('upsampling 8 kHz → 16 kHz keeps a 440 Hz tone', () => {
    const out = resample(tone(440, 8000, 0.25), 8000, 16000);
    const expected = tone(440, 16000, 0.25);
    expect(out.length).toBe(expected.length);
    for (let j = 800; j < out.length - 800; j += 97) expect(out[j]).toBeCloseTo(expected[j], 2);
  });

  test('downsampling removes what the new rate cannot hold instead of folding it back (no alias)', () => {
    // 10 kHz is above 16 kHz's Nyquist frequency: kept, it would alias to 6 kHz at full strength.
    expect(middlePeak(resample(tone(10000, 44100, 0.2), 44100, 16000))).toBeLessThan(0.01);
    expect(middlePeak(resample(tone(5000, 44100, 0.2), 44100, 16000))).toBeCloseTo(0.5, 2);
  });

  test('the same rate returns a copy; bad rates are refused by name', () => {
    const x = Float32Array.from([1, 2, 3]);
    const y = resample(x, 16000, 16000);
    expect(Array.from(y)).toEqual([1, 2, 3]);
    expect(y).not.toBe(x);
    expect(() => resample(x, 0, 16000)).toThrow('resample: sample rates must be positive integers, got fromRate 0, toRate 16000');
    expect(() => resample(x, 22050.5, 16000)).toThrow(/fromRate 22050.5/);
  });
});

describe('speed perturbation', () => {
  test('1.1× faster: 1/1.1 of the duration and every frequency × 1.1', () => {
    const out = changeSpeed(tone(500, 16000, 0.5), 1.1);
    expect(out.length).toBe(Math.floor(8000 / 1.1));
    const expected = tone(550, 16000, out.length / 16000);
    for (let j = 500; j < out.length - 500; j += 89) expect(out[j]).toBeCloseTo(expected[j], 2);
  });

  test('factors outside [0.5, 2] are refused', () => {
    expect(() => changeSpeed(new Float32Array(10), 3)).toThrow('changeSpeed: factor must be in [0.5, 2], got 3');
  });
});
