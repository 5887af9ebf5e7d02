/**
 * The example's --quick mode, as CI runs it: a minute or so of real training on a small subset. It must
 * exit 0 (the script exits 1 when accuracy is not well above chance), write its results and learning
 * curves, and save a model that loads back and predicts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runQuick } from '../../common/src/quick';
import type { QuickRun } from '../../common/src/quick';
import { resample } from '../src/resample';
import { DIGITS } from '../src/synth';
import { encodeWav, parseWav } from '../src/wav';

jest.setTimeout(900_000);

const ROOT = path.resolve(__dirname, '../../..');
const CHANCE = 0.1;

// Needs espeak-ng, classic espeak and Festival with its voices (`apt-get install espeak-ng espeak festival
// festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts`; .ci/run does it); skipped without them.
const have = (cmd: string): boolean => { try { execFileSync(cmd, ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } };

(have('espeak-ng') && have('espeak') && have('festival') ? describe : describe.skip)('speech --quick: spoken digits (unseen voices)', () => {
  let run: QuickRun;
  beforeAll(() => { run = runQuick(ROOT, 'speech'); });
  afterAll(() => { if (run) fs.rmSync(run.dir, { recursive: true, force: true }); });

  test('exits 0 with a test accuracy well above chance', () => {
    expect(run.status).toBe(0);
    expect(run.results.test.accuracy).toBeGreaterThanOrEqual(run.results.target.accuracy);
    expect(run.results.target.accuracy).toBeGreaterThan(CHANCE + 0.09);
    expect(run.results.target.reached).toBe(true);
  });

  test('records every epoch and writes the learning curves', () => {
    expect(run.results.epochs.length).toBe(run.results.settings.epochs);
    for (const e of run.results.epochs) {
      expect(Number.isFinite(e.loss)).toBe(true);
      expect(e.seconds).toBeGreaterThan(0);
    }
    expect(fs.readFileSync(path.join(run.dir, 'speech-quick.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
  });

  test('saves the model, loads it back and predicts one input', () => {
    expect(fs.existsSync(path.join(run.dir, 'model', 'model.json'))).toBe(true);
    expect(run.output).toMatch(/loaded back/);
  });

  test('predict.js names a digit and its probability for any wav, and says why for one without speech', () => {
    // A stereo 44.1 kHz float file and a silent 8-bit one, made here with the example's own writer.
    const wav = path.join(run.dir, 'seven.wav');
    execFileSync('espeak-ng', ['-v', 'en-us+f2', '-w', wav, 'seven']);
    const audio = parseWav(fs.readFileSync(wav), wav);
    const stereo = path.join(run.dir, 'seven-44k-stereo-float.wav');
    fs.writeFileSync(stereo, encodeWav({ sampleRate: 44100, samples: resample(audio.samples, audio.sampleRate, 44100) }, { bits: 32, channels: 2 }));
    const silent = path.join(run.dir, 'silent.wav');
    fs.writeFileSync(silent, encodeWav({ sampleRate: 8000, samples: new Float32Array(8000) }, { bits: 8 }));
    const predict = (file: string) => spawnSync(process.execPath, ['examples/speech/dist/predict.js', file, '--model', path.join(run.dir, 'model')], { cwd: ROOT, encoding: 'utf8' });
    for (const file of [wav, stereo]) {
      const out = predict(file);
      expect(out.status).toBe(0);
      expect(out.stdout.startsWith(`${file}: `)).toBe(true);
      expect(out.stdout.slice(file.length + 2)).toMatch(new RegExp(`^(${DIGITS.join('|')}) \\(p = [01]\\.\\d{3}\\); next: `));
    }
    const none = predict(silent);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no speech found in .*silent\.wav: .*silent/);
  });
});
