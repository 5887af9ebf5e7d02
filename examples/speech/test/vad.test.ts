import { Random } from 'gradlab';
import { findSpeech, trimToSpeech } from '../src/vad';

const RATE = 16000;

/** A stand-in for a word: a 200 Hz buzz with a smooth 0.3 s envelope, `at` seconds into `total` seconds. */
function word(at: number, total: number, amplitude = 0.5): Float32Array {
  const x = new Float32Array(Math.round(total * RATE));
  const start = Math.round(at * RATE);
  const len = Math.round(0.3 * RATE);
  for (let n = 0; n < len && start + n < x.length; n++) {
    x[start + n] = amplitude * Math.sin(Math.PI * n / len) * Math.sin((2 * Math.PI * 200 * n) / RATE);
  }
  return x;
}

const withNoise = (x: Float32Array, sigma: number, seed = 1): Float32Array => {
  const rng = new Random(seed);
  return Float32Array.from(x, (s) => s + sigma * rng.normal());
};

describe('energy-based voice activity detection', () => {
  test('finds a word inside silence, with about 100 ms to spare each side', () => {
    const found = findSpeech(withNoise(word(0.5, 1.5), 1e-4), RATE);
    if (!found.speech) throw new Error(found.reason);
    const { start, end } = found.region;
    // The envelope is 40 dB below its peak for the first and last 1% of the word (3 ms): the speech
    // the detector sees starts within 30 ms of 0.5 s; the margin adds 100 ms.
    expect(start / RATE).toBeGreaterThan(0.5 - 0.1 - 0.04);
    expect(start / RATE).toBeLessThan(0.5 - 0.1 + 0.04);
    expect(end / RATE).toBeGreaterThan(0.8 + 0.1 - 0.04);
    expect(end / RATE).toBeLessThan(0.8 + 0.1 + 0.04);
  });

  test('in white noise at about 20 dB SNR the noise before and after is not taken for speech', () => {
    // Word power ≈ 0.5²/2·(3/8) ≈ 0.047; noise σ 0.02 → power 4e−4: about 20 dB below.
    const found = findSpeech(withNoise(word(0.6, 1.6), 0.02), RATE);
    if (!found.speech) throw new Error(found.reason);
    expect(found.region.start / RATE).toBeGreaterThan(0.4);
    expect(found.region.end / RATE).toBeLessThan(1.05);
    expect(found.region.peakDb - found.region.floorDb).toBeGreaterThan(15);
  });

  test('a file already cut to the word keeps all of it', () => {
    const x = word(0, 0.3);
    const found = findSpeech(x, RATE);
    if (!found.speech) throw new Error(found.reason);
    expect(found.region.start).toBe(0);
    expect(found.region.end).toBe(x.length);
  });

  test('a quiet consonant before the vowel (30 dB down) is kept', () => {
    const x = word(0.6, 1.5);
    const rng = new Random(3);
    for (let n = Math.round(0.45 * RATE); n < 0.6 * RATE; n++) x[n] += 0.5 * 10 ** (-30 / 20) * rng.normal();
    const found = findSpeech(x, RATE);
    if (!found.speech) throw new Error(found.reason);
    expect(found.region.start / RATE).toBeLessThan(0.45);
  });

  test('silence, steady noise and a too-short file: no speech, with the reason; trimToSpeech names the file', () => {
    const silent = findSpeech(new Float32Array(RATE), RATE);
    expect(silent.speech).toBe(false);
    if (!silent.speech) expect(silent.reason).toMatch(/dBFS, below -60 dBFS: it is silent/);
    const noise = findSpeech(withNoise(new Float32Array(RATE), 0.1), RATE);
    expect(noise.speech).toBe(false);
    if (!noise.speech) expect(noise.reason).toMatch(/dB above its background .* steady noise/);
    const short = findSpeech(new Float32Array(200).fill(0.5), RATE);
    expect(short.speech).toBe(false);
    expect(() => trimToSpeech(new Float32Array(RATE), RATE, 'quiet.wav')).toThrow(/^no speech found in quiet\.wav: its loudest 25 ms is at -120\.0 dBFS/);
    const x = withNoise(word(0.5, 1.5), 1e-4);
    expect(trimToSpeech(x, RATE, 'word.wav').length).toBeLessThan(0.55 * RATE);
  });
});
