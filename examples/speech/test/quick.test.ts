/**
 * The example's --quick mode, as CI runs it: a minute or so of real training on a small subset. It must
 * exit 0 (the script exits 1 when accuracy is not well above chance), write its results and learning
 * curves, and save a model that loads back and predicts.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runQuick } from '../../common/src/quick';
import type { QuickRun } from '../../common/src/quick';

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
});
