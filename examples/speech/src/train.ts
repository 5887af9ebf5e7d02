/**
 * The article's speech model — LSTM(128) → BatchNorm → LSTM(64) → BatchNorm → Dense(10) — recognising
 * spoken digits from 40-dimensional log-mel features, tested on voices it never heard in training.
 *
 *   pnpm example:speech             # default settings (README.md beside src/ says why they are what they are)
 *   pnpm example:speech --quick     # CI: a small corpus, fails below 50% accuracy on the unseen voices
 *
 * Synthesises the corpus with espeak-ng and sox on first use (cached under ~/.cache/gradlab/speech, or
 * $GRADLAB_CACHE/speech), computes the features, trains with masks over the padding, writes
 * runs/speech/speech.json and speech.svg (--out docs/results for the docs' figures), saves the model,
 * loads it back and recognises one utterance.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Dataset, callbacks, fromTypedArray, models, useBackend, setSeed } from 'gradlab';
import type { data } from 'gradlab';
import {
  EpochRecorder, ProgressBar, describeMachine, learningCurves, meanEpochCpuSeconds, meanEpochSeconds, parseCli, saveRun, usage,
} from '@gradlab/example-common';
import type { CliSpec, RunResults } from '@gradlab/example-common';
import { bandStatistics, extractFeatures, extractorsByWarp, normalize, planCorpus, voicesOf } from './corpus.js';
import type { Example, PlannedUtterance, Split } from './corpus.js';
import { ACCENTS, DIGITS, VARIANTS, defaultCacheDir, synthesize } from './synth.js';
import { parseWav } from './wav.js';
import { buildModel } from './model.js';

const TARGET = 0.95;
const QUICK_TARGET = 0.5;

type Extra = { repeats: number; accents: number; variants: number; model: string; cache: string };

const spec: CliSpec<Extra> = {
  name: 'speech',
  description: "The article's LSTM + BatchNorm on spoken digits synthesised with espeak-ng, tested on unseen voices.",
  defaults: {
    epochs: 5, batchSize: 32, subset: 0, seed: 1, backend: 'cpu', quick: false, out: 'runs/speech', recalibrate: 0,
    repeats: 1, accents: ACCENTS.length, variants: VARIANTS.length, model: 'runs/speech/model', cache: '',
  },
  quick: { recalibrate: 20, epochs: 2, batchSize: 8, accents: 3, variants: 16, out: 'runs/speech', model: 'runs/speech/model-quick' },
  extra: {
    repeats: { type: 'string', description: 'utterances per voice and digit' },
    accents: { type: 'string', description: `how many of the ${ACCENTS.length} English accents to use` },
    variants: { type: 'string', description: `how many of the ${VARIANTS.length} voice variants (speakers) to use` },
    model: { type: 'string', description: 'folder to save the trained model in' },
    cache: { type: 'string', description: 'folder for the synthesised WAV files (default ~/.cache/gradlab/speech)' },
  },
};

const BANDS = 40;

/**
 * The utterances as a dataset of batches: [batch, frames, bands] padded to the longest utterance of the
 * batch, with the mask that keeps the padding out of the LSTM and BatchNorm (Dataset.batch makes it).
 * Shuffled with the seed when one is given (training).
 */
function sequenceDataset(examples: readonly Example[], batchSize: number, shuffleSeed?: number): Dataset<data.Batch> {
  let order = Dataset.range(examples.length);
  if (shuffleSeed !== undefined) order = order.shuffle(examples.length, { seed: shuffleSeed });
  return order
    .map((i) => ({ x: fromTypedArray(examples[i].features, [examples[i].frames, BANDS]), y: examples[i].label }))
    .batch(batchSize)
    .prefetch(2);
}

async function main(): Promise<void> {
  const s = parseCli(spec, process.argv.slice(2));
  if (s.help) { console.log(usage(spec)); return; }
  await useBackend(s.backend); // imports @gradlab/gpu for 'gpu'; throws, naming the registered backends, for an unknown one
  setSeed(s.seed);

  // 1. The corpus: which utterances, split by speaker.
  const plan = planCorpus({
    seed: s.seed, repeats: s.repeats, accents: ACCENTS.slice(0, s.accents), variants: VARIANTS.slice(0, s.variants),
  });
  const cacheDir = s.cache || defaultCacheDir();
  const bar = new ProgressBar('synthesise', plan.length);
  const t0 = Date.now();
  const { files, made } = await synthesize(plan, { cacheDir, onProgress: (done) => bar.tick(done - bar.count) });
  bar.done(`${made} new, ${plan.length - made} from the cache in ${cacheDir}`);
  const synthSeconds = (Date.now() - t0) / 1000;

  // 2. Features: noise at the utterance's level, log-mel filterbanks (VTLP-warped for training utterances),
  //    each band's mean over the utterance subtracted, then every band scaled by the training set's deviation.
  const extractors = extractorsByWarp(BANDS);
  const featureBar = new ProgressBar('features', plan.length);
  const raw = plan.map((u, i) => {
    const audio = parseWav(fs.readFileSync(files[i]), files[i]);
    featureBar.tick();
    return extractFeatures(audio.samples, u, extractors);
  });
  featureBar.done();
  const ofSplit = (split: Split): { examples: Example[]; plan: PlannedUtterance[] } => {
    const idx = plan.map((u, i) => (u.split === split ? i : -1)).filter((i) => i >= 0);
    return { examples: idx.map((i) => raw[i]), plan: idx.map((i) => plan[i]) };
  };
  const trainAll = ofSplit('train');
  const stats = bandStatistics(trainAll.examples, BANDS);
  const train = trainAll.examples.slice(0, s.subset > 0 ? s.subset : undefined).map((e) => normalize(e, stats));
  const val = ofSplit('val').examples.map((e) => normalize(e, stats));
  const testSet = ofSplit('test');
  const test = testSet.examples.map((e) => normalize(e, stats));
  const speakers = (split: Split): string[] => [...new Set(plan.filter((u) => u.split === split).map((u) => u.variant))];
  const frames = raw.map((e) => e.frames);
  console.log(`corpus: ${plan.length} utterances of ${DIGITS.length} digits in ${voicesOf(plan).size} voices ` +
    `(${s.accents} accents × ${s.variants} variants); ${train.length} training, ${val.length} validation, ${test.length} test; ` +
    `${Math.min(...frames)}–${Math.max(...frames)} frames (mean ${(frames.reduce((a, b) => a + b, 0) / frames.length).toFixed(0)})`);
  console.log(`test speakers (never in training): ${speakers('test').join(', ')}`);

  // 3. The model and training.
  const model = buildModel(BANDS);
  model.summary();
  const counts = model.countParams();
  const results: RunResults = {
    example: 'speech',
    description: `spoken digits by espeak-ng, ${train.length.toLocaleString('en-US')} training utterances, tested on ${speakers('test').length} unseen speakers`,
    settings: { epochs: s.epochs, batchSize: s.batchSize, subset: s.subset, seed: s.seed, recalibrate: s.recalibrate, repeats: s.repeats, accents: s.accents, variants: s.variants, quick: s.quick },
    data: {
      utterances: plan.length, train: train.length, validation: val.length, test: test.length,
      speakers: { train: speakers('train'), validation: speakers('val'), test: speakers('test') },
      synthesisSeconds: synthSeconds, synthesised: made, features: `${BANDS} log-mel bands, 25 ms windows, 10 ms hop`,
    },
    model: { params: counts.total, trainable: counts.trainable, nonTrainable: counts.nonTrainable },
    epochs: [],
    test: { loss: NaN, accuracy: NaN, examples: test.length },
    target: { accuracy: s.quick ? QUICK_TARGET : TARGET, reached: false },
    secondsPerEpoch: 0,
    totalSeconds: 0,
    machine: describeMachine(s.backend),
    date: new Date().toISOString(),
  };
  const runName = s.quick ? 'speech-quick' : 'speech';
  const resultsFile = path.join(s.out, `${runName}.json`);
  const plotFile = path.join(s.out, `${runName}.svg`);
  const save = (final = false): void => {
    saveRun(s.out, runName, results, learningCurves('Spoken digits, LSTM + BatchNorm (validation: unseen speakers)', results.epochs), final);
  };

  const started = Date.now();
  const trainData = sequenceDataset(train, s.batchSize, s.seed);
  const recorder = new EpochRecorder((_record, all) => {
    results.epochs = [...all];
    results.secondsPerEpoch = meanEpochSeconds(results.epochs);
    results.cpuSecondsPerEpoch = meanEpochCpuSeconds(results.epochs);
    save();
  });
  const fitCallbacks: callbacks.Callback[] = [recorder];
  if (s.recalibrate > 0) fitCallbacks.unshift(new callbacks.BatchNormRecalibration(trainData, s.recalibrate));
  await model.fit(trainData, {
    epochs: s.epochs, callbacks: fitCallbacks, validationData: val.length ? sequenceDataset(val, s.batchSize) : undefined,
  });
  results.totalSeconds = (Date.now() - started) / 1000;
  results.secondsPerEpoch = meanEpochSeconds(results.epochs); // 0 when no epoch ran (--epochs 0)
  results.cpuSecondsPerEpoch = meanEpochCpuSeconds(results.epochs);

  const [testLoss, testAccuracy] = await model.evaluate(sequenceDataset(test, 64));
  const evaluation = { loss: testLoss, accuracy: testAccuracy };
  results.test = { loss: evaluation.loss, accuracy: evaluation.accuracy, examples: test.length };
  results.target.reached = evaluation.accuracy >= results.target.accuracy;
  save(true);
  console.log(`test accuracy on unseen voices ${(100 * evaluation.accuracy).toFixed(2)}% (${test.length} utterances; ` +
    `target ${(100 * results.target.accuracy).toFixed(0)}%): ${results.target.reached ? 'reached' : 'NOT reached'}`);
  console.log(`${results.secondsPerEpoch.toFixed(1)} s per epoch (${results.cpuSecondsPerEpoch.toFixed(1)} s of CPU); results in ${resultsFile}, curves in ${plotFile}`);

  // 4. Save, load back, recognise one test utterance (one sequence: no padding, so no mask needed).
  await model.save(s.model);
  fs.writeFileSync(path.join(s.model, 'features.json'), JSON.stringify({ bands: BANDS, mean: [...stats.mean], std: [...stats.std] }));
  const loaded = await models.load(s.model);
  const u = testSet.plan[0];
  const one = test[0];
  const p = Array.from((await loaded.predict(fromTypedArray(one.features, [1, one.frames, BANDS]))).dataSync());
  const best = p.indexOf(Math.max(...p));
  console.log(`saved to ${s.model}; loaded back, "${DIGITS[u.digit]}" said by ${u.accent}+${u.variant} ` +
    `(${u.snrDb === null ? 'clean' : `${u.snrDb} dB SNR`}): recognised "${DIGITS[best]}" (p = ${p[best].toFixed(3)})`);

  if (!results.target.reached && s.quick) {
    console.error(`speech --quick: accuracy ${(100 * evaluation.accuracy).toFixed(1)}% is below ${100 * QUICK_TARGET}%`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exitCode = 1;
});
