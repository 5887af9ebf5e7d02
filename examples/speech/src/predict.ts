/**
 * Recognise the digit spoken in WAV files with the model the example saved:
 *
 *   node examples/speech/dist/predict.js my-seven.wav other.wav [--model runs/speech/model]
 *
 * Each file goes through the pipeline the model was trained with (pipeline.ts): any sample rate, mono
 * or stereo, 8/16-bit PCM or 32-bit float; resampled to 16 kHz; the speech found by the VAD; log-mel
 * bands normalised with the training set's statistics (saved beside the model as features.json).
 * Prints the digit, its probability and the runner-up.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { fromTypedArray, models } from 'gradlab';
import { normalize } from './corpus.js';
import { BANDS, at16k, extractorsByWarp, speechFeatures } from './pipeline.js';
import { DIGITS } from './synth.js';
import { parseWav } from './wav.js';

const USAGE = 'usage: node examples/speech/dist/predict.js FILE.wav [FILE.wav …] [--model DIR]  (DIR defaults to runs/speech/model)';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { model: { type: 'string', default: 'runs/speech/model' }, help: { type: 'boolean' } } });
  if (values.help) { console.log(USAGE); return; }
  if (positionals.length === 0) throw new Error(`predict: no WAV file given\n${USAGE}`);
  const dir = values.model!;
  const statsFile = path.join(dir, 'features.json');
  if (!fs.existsSync(path.join(dir, 'model.json')) || !fs.existsSync(statsFile)) {
    throw new Error(`predict: no trained model in ${dir} (model.json and features.json); train one with \`pnpm example:speech\` or pass --model DIR`);
  }
  const saved = JSON.parse(fs.readFileSync(statsFile, 'utf8')) as { bands: number; mean: number[]; std: number[] };
  if (saved.bands !== BANDS) throw new Error(`predict: ${statsFile} is for ${saved.bands} bands; this pipeline computes ${BANDS}`);
  const stats = { mean: Float32Array.from(saved.mean), std: Float32Array.from(saved.std) };
  const model = await models.load(dir);
  const extractor = extractorsByWarp()(1);
  let failed = 0;
  for (const file of positionals) {
    try {
      if (!fs.existsSync(file)) throw new Error(`predict: ${file} does not exist`);
      const features = normalize(speechFeatures(at16k(parseWav(fs.readFileSync(file), file)), extractor, -1, file), stats);
      const p = Array.from((await model.predict(fromTypedArray(features.features, [1, features.frames, BANDS]))).dataSync());
      const ranked = p.map((q, d) => [q, d] as const).sort((a, b) => b[0] - a[0]);
      console.log(`${file}: ${DIGITS[ranked[0][1]]} (p = ${ranked[0][0].toFixed(3)}); next: ${DIGITS[ranked[1][1]]} (p = ${ranked[1][0].toFixed(3)})`);
    } catch (error) {
      // One unreadable file should not hide the answers for the others.
      console.error(error instanceof Error ? error.message : error);
      failed++;
    }
  }
  if (failed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
