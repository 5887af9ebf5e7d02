/**
 * The example's --quick mode, as CI runs it: a minute or so of real training on a small subset. It must
 * exit 0 (the script exits 1 when accuracy is not well above chance), write its results and learning
 * curves, and save a model that loads back and predicts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runQuick } from '../../common/src/quick';
import { DEFAULT_DIR, FILES } from '../src/data';
import type { QuickRun } from '../../common/src/quick';

jest.setTimeout(900_000);

const ROOT = path.resolve(__dirname, '../../..');
const CHANCE = 0.1;

// Needs `apt-get install dataset-fashion-mnist` (.ci/run does it); skipped without the files.
const installed = Object.values(FILES).every((f) => fs.existsSync(path.join(process.env.FASHION_MNIST_DIR ?? DEFAULT_DIR, f)));

(installed ? describe : describe.skip)('image --quick: Fashion-MNIST', () => {
  let run: QuickRun;
  beforeAll(() => { run = runQuick(ROOT, 'image'); });
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
    expect(fs.readFileSync(path.join(run.dir, 'image-quick.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
  });

  test('saves the model, loads it back and predicts one input', () => {
    expect(fs.existsSync(path.join(run.dir, 'model', 'model.json'))).toBe(true);
    expect(run.output).toMatch(/loaded back/);
  });
});
