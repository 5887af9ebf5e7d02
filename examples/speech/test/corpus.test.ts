import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { STYLES, bandStatistics, padBatch, planCorpus, speakerOf, splitSpeakers, subtractBandMeans, voicesOf } from '../src/corpus';
import type { Example } from '../src/corpus';
import { CLASSIC_ACCENTS, CLASSIC_VARIANTS, DIGITS, VARIANTS, fileNameOf, synthesize } from '../src/synth';
import type { Engine } from '../src/synth';
import { parseWav } from '../src/wav';

describe('corpus plan', () => {
  test('speakers split into disjoint test, validation and training sets covering every variant', () => {
    const s = splitSpeakers(VARIANTS, 7, 0.2, 0.1);
    const all = [...s.test, ...s.val, ...s.train];
    expect(new Set(all).size).toBe(VARIANTS.length);
    expect(all.length).toBe(VARIANTS.length);
    // Whole speakers are taken, so a set may overshoot its share by a speaker's other variants.
    expect(s.test.length).toBeGreaterThanOrEqual(Math.round(VARIANTS.length * 0.2));
    expect(s.val.length).toBeGreaterThanOrEqual(Math.round(VARIANTS.length * 0.1));
    expect(splitSpeakers(VARIANTS, 7, 0.2, 0.1)).toEqual(s); // same seed, same split
    expect(splitSpeakers(VARIANTS, 8, 0.2, 0.1).test).not.toEqual(s.test);
    expect(() => splitSpeakers(['a', 'b'], 1, 0.5, 0.5)).toThrow(/2 speakers are too few/);
  });

  test('near-copies of a voice (iven … iven4) stay together; every style keeps a training voice', () => {
    expect(['iven', 'iven2', 'iven4'].map(speakerOf)).toEqual(['iven', 'iven', 'iven']);
    expect(['m3', 'f2', 'Gene2'].map(speakerOf)).toEqual(['m3', 'f2', 'Gene']);
    for (let seed = 0; seed < 30; seed++) {
      const s = splitSpeakers(VARIANTS, seed, 0.2, 0.1);
      const sideOf = new Map<string, string>();
      for (const side of ['train', 'val', 'test'] as const) {
        for (const v of s[side]) {
          const sp = speakerOf(v);
          expect(sideOf.get(sp) ?? side).toBe(side);
          sideOf.set(sp, side);
        }
      }
      for (const style of STYLES) expect(style.some((v) => s.train.includes(v))).toBe(true);
    }
  });

  test('every voice × digit × repeat once; no test voice occurs in training; reproducible from the seed', () => {
    const options = { seed: 3, repeats: 2, accents: ['en-us', 'en-gb'], variants: VARIANTS.slice(0, 20), festivalRepeats: 3, classicVoices: 5, htsRepeats: 4, fliteRepeats: 1 };
    const plan = planCorpus(options);
    const espeakNg = plan.filter((u) => u.engine === 'espeak-ng');
    expect(espeakNg.length).toBe(2 * 20 * 10 * 2);
    const train = voicesOf(plan.filter((u) => u.split === 'train'));
    const test = voicesOf(plan.filter((u) => u.split === 'test'));
    const val = voicesOf(plan.filter((u) => u.split === 'val'));
    expect(test.size).toBeGreaterThan(0);
    for (const v of test) { expect(train.has(v)).toBe(false); expect(val.has(v)).toBe(false); }
    for (const v of val) expect(train.has(v)).toBe(false);
    // Each split has all ten digits equally often.
    for (const split of ['train', 'test', 'synth-test', 'flite'] as const) {
      const counts = new Array(10).fill(0);
      for (const u of plan) if (u.split === split) counts[u.digit]++;
      expect(new Set(counts).size).toBe(1);
    }
    for (const u of plan) {
      expect(u.pitch).toBeGreaterThanOrEqual(30); expect(u.pitch).toBeLessThanOrEqual(70);
      expect(u.speed).toBeGreaterThanOrEqual(130); expect(u.speed).toBeLessThanOrEqual(210);
    }
    expect(planCorpus(options)).toEqual(plan);
  });

  test('each engine has one role: the held-out synthesisers and Flite never train or validate', () => {
    const plan = planCorpus({ seed: 1, accents: ['en-us'], variants: VARIANTS.slice(0, 12), festivalRepeats: 2, classicVoices: 7, htsRepeats: 3, fliteRepeats: 2 });
    const roles = new Map<string, Set<string>>();
    for (const u of plan) {
      const key = u.engine === 'festival' ? `festival:${u.variant}` : u.engine;
      roles.set(key, (roles.get(key) ?? new Set()).add(u.split));
    }
    expect([...roles.get('espeak-ng')!].sort()).toEqual(['test', 'train', 'val']);
    expect([...roles.get('festival:kal_diphone')!]).toEqual(['train']);
    expect([...roles.get('festival:ked_diphone')!]).toEqual(['train']);
    expect([...roles.get('espeak')!]).toEqual(['synth-test']);
    expect([...roles.get('festival:cmu_us_slt_arctic_hts')!]).toEqual(['synth-test']);
    expect([...roles.get('flite')!]).toEqual(['flite']);
    expect(plan.filter((u) => u.engine === 'espeak').length).toBe(7 * 10);
    expect(plan.filter((u) => u.variant === 'cmu_us_slt_arctic_hts').length).toBe(3 * 10);
    expect(plan.filter((u) => u.engine === 'flite').length).toBe(5 * 2 * 10);
    expect(CLASSIC_ACCENTS.length * CLASSIC_VARIANTS.length).toBe(114);
  });
});

describe('per-utterance band means', () => {
  test('each band ends with mean 0 over the frames; differences between frames are kept', () => {
    const frames = 3; const bands = 2;
    const x = Float32Array.from([1, 10, 2, 20, 6, 30]); // band 0: 1, 2, 6 (mean 3); band 1: 10, 20, 30 (mean 20)
    subtractBandMeans(x, frames, bands);
    expect(Array.from(x)).toEqual([-2, -10, -1, 0, 3, 10]);
  });
});

describe('padding, masks and band statistics', () => {
  const bands = 3;
  const ex = (frames: number, label: number, base: number): Example =>
    ({ frames, label, features: Float32Array.from({ length: frames * bands }, (_, i) => base + i) });
  const examples = [ex(2, 1, 10), ex(4, 7, 100), ex(1, 3, -5)];

  test('pads to the longest chosen example with zeros and marks real frames with 1', () => {
    const b = padBatch(examples, [2, 0], bands);
    expect([b.batch, b.time, b.bands]).toEqual([2, 2, 3]);
    expect(Array.from(b.mask)).toEqual([1, 0, 1, 1]);
    expect(Array.from(b.x)).toEqual([-5, -4, -3, 0, 0, 0, 10, 11, 12, 13, 14, 15]);
    expect(Array.from(b.labels)).toEqual([3, 1]);
  });

  test('mean and deviation per band over real frames only', () => {
    const { mean, std } = bandStatistics(examples, bands);
    for (let j = 0; j < bands; j++) {
      const values = examples.flatMap((e) => Array.from({ length: e.frames }, (_, t) => e.features[t * bands + j]));
      const m = values.reduce((a, b) => a + b) / values.length;
      const sd = Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length);
      expect(mean[j]).toBeCloseTo(m, 3);
      expect(std[j]).toBeCloseTo(sd, 3);
    }
  });
});

const have = (cmd: string, flag = '--version'): boolean => { try { execFileSync(cmd, [flag], { stdio: 'ignore' }); return true; } catch { return false; } };
// flite has no --version; `flite -lv` lists its voices and exits 0.
const engines: Array<[Engine, string, string]> = [['espeak-ng', 'espeak-ng', '--version'], ['espeak', 'espeak', '--version'], ['festival', 'festival', '--version'], ['flite', 'flite', '-lv']];
(engines.every(([, cmd, flag]) => have(cmd, flag)) ? describe : describe.skip)('synthesis by espeak-ng, espeak, Festival and Flite', () => {
  test('each engine writes a readable WAV at its own rate, with silence left in; files are cached by their parameters', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlab-speech-'));
    try {
      const us = [
        { engine: 'espeak-ng' as const, digit: 7, accent: 'en-us', variant: 'm3', pitch: 50, speed: 175 },
        { engine: 'espeak-ng' as const, digit: 7, accent: 'en-us', variant: 'm3', pitch: 50, speed: 175 }, // a duplicate: made once
        { engine: 'espeak' as const, digit: 1, accent: 'en-sc', variant: 'f2', pitch: 40, speed: 150 },
        { engine: 'festival' as const, digit: 0, accent: 'us', variant: 'kal_diphone', pitch: 60, speed: 200 },
        { engine: 'festival' as const, digit: 3, accent: 'us', variant: 'cmu_us_slt_arctic_hts', pitch: 45, speed: 160 },
        { engine: 'flite' as const, digit: 9, accent: 'us', variant: 'slt', pitch: 50, speed: 175 },
      ];
      const first = await synthesize(us, { cacheDir: dir, concurrency: 2 });
      expect(first.made).toBe(5);
      expect(first.files.map((f) => path.basename(f))).toEqual(us.map(fileNameOf));
      expect(path.basename(first.files[0])).toBe('espeak-ng_en-us+m3_p50_s175_seven.wav');
      const rates = first.files.map((f) => parseWav(fs.readFileSync(f), f).sampleRate);
      expect(rates).toEqual([22050, 22050, 22050, 16000, 32000, 16000]);
      for (const f of first.files) {
        const audio = parseWav(fs.readFileSync(f), f);
        const seconds = audio.samples.length / audio.sampleRate;
        expect(seconds).toBeGreaterThan(0.2);
        expect(seconds).toBeLessThan(2);
      }
      const second = await synthesize(us, { cacheDir: dir });
      expect(second.made).toBe(0);
      expect(DIGITS[us[0].digit]).toBe('seven');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000); // five synthesiser processes: about a second each when the machine is quiet, many under load
});
