/**
 * Evaluate a saved text model on the test reviews of the run that trained it, optionally after
 * re-estimating its BatchNorm statistics over N training batches first (callbacks.recalibrateBatchNorm:
 * the weights do not change, only the moving mean and variance).
 *
 *   node examples/text/dist/evaluate.js [--model runs/text/model] [--results docs/results/text.json]
 *                                       [--recalibrate 100]
 *
 * The split (seed, subset, test and validation counts) and the word limit come from the run's results
 * file; the vocabulary from the model folder. Prints one JSON object.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { callbacks, models } from 'gradlab';
import { readResults } from '@gradlab/example-common';
import { loadReviews, reviewsFile, splitReviews } from './imdb.js';
import { Vocabulary, tokenize } from './tokenizer.js';
import { reviewBatches, trainingReviews } from './source.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, results: { type: 'string' }, recalibrate: { type: 'string' }, 'batch-size': { type: 'string' } },
  });
  const modelDir = values.model ?? 'runs/text/model';
  const run = readResults(values.results ?? 'docs/results/text.json');
  const recalibrate = Number(values.recalibrate ?? 0);
  const batchSize = Number(values['batch-size'] ?? run.settings.batchSize ?? 32);
  if (!Number.isInteger(recalibrate) || recalibrate < 0) throw new Error(`--recalibrate: expected a non-negative integer, got ${values.recalibrate}`);

  const seed = Number(run.settings.seed), subset = Number(run.settings.subset);
  const testCount = Number(run.data.test), valCount = Number(run.data.validation);
  const saved = JSON.parse(fs.readFileSync(path.join(modelDir, 'vocabulary.json'), 'utf8')) as { maxLength: number; words: string[] };
  const vocab = Vocabulary.fromJSON(saved);
  const held = splitReviews(loadReviews(reviewsFile(import.meta.url)), seed, testCount + valCount, subset);
  const encode = (rs: typeof held.train): Int32Array[] => rs.map((r) => vocab.encode(tokenize(r.text), saved.maxLength));
  const test = held.test.slice(0, testCount);

  const model = await models.load(modelDir);
  if (recalibrate > 0) {
    const train = trainingReviews(encode(held.train), held.train.map((r) => r.label), batchSize, saved.maxLength, seed);
    await callbacks.recalibrateBatchNorm(model, train, recalibrate);
  }
  const [loss, accuracy] = await model.evaluate(reviewBatches(encode(test), test.map((r) => r.label), 64));
  const result = { loss, accuracy };
  console.log(JSON.stringify({ model: modelDir, recalibratedOverBatches: recalibrate, test: { ...result, examples: test.length } }, null, 2));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
